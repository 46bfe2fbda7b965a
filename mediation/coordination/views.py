"""The coordinator's queue, offers and session-log approvals."""

from flask import Blueprint

bp = Blueprint("coordination", __name__, url_prefix="/coordination")
