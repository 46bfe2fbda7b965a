"""The mediator's agenda, answers to offers and session logs."""

from flask import Blueprint

bp = Blueprint("agenda", __name__, url_prefix="/agenda")
