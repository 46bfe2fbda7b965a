"""Schools' requests: the list, the form per request type, the request page."""

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from ..bookings import queries

bp = Blueprint("requests", __name__, url_prefix="/requests")


@bp.route("/<int:request_id>")
@login_required
def detail(request_id: int):
    user = current_user._get_current_object()
    req = queries.load_request(request_id, user)
    return render_template("requests/detail.html", req=req, events=queries.history(req))
