"""The admin's record of processing (GDPR art. 30), generated from the model."""

from flask import Blueprint, render_template

from ..models import Role
from ..scoping import roles_required
from .queries import record_of_processing

bp = Blueprint("privacy", __name__, url_prefix="/admin/privacy")


@bp.get("/")
@roles_required(Role.admin)
def record():
    """What is stored about people, why, on what basis, who sees it and for how long."""
    return render_template("privacy/record.html", record=record_of_processing())
