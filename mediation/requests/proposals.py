"""The school's answer to a time the coordinator proposed (``TimeProposal``).

When no mediator can take the times a school asked for, the coordinator may propose a
time at which a mediator is free (the offer page's free times); the school accepts or
declines it from the request page, where ``templates/requests/_proposals.html`` shows it.
"""

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..bookings import operations
from ..bookings.queries import load_request
from ..bounds import valid_id
from ..errors import InvalidTransition
from ..extensions import db
from ..models import Role
from ..scoping import roles_required

bp = Blueprint("proposals", __name__, url_prefix="/requests")

ANSWERS = {"accept": True, "decline": False}


@bp.route("/<int:request_id>/proposal", methods=["POST"])
@roles_required(Role.teacher, Role.lead)
def answer(request_id: int):
    """Accept or decline the time ``proposal_id`` that the coordinator proposed."""
    user = current_user._get_current_object()
    req = load_request(request_id, user, lock=True)
    proposal_id = request.form.get("proposal_id", type=int)
    proposal = next((p for p in req.proposals if valid_id(proposal_id)
                     and p.id == proposal_id), None)
    if proposal is None:
        abort(404)
    back = redirect(url_for("requests.detail", request_id=request_id))
    accept = ANSWERS.get(request.form.get("answer", ""))
    if accept is None:
        flash(_("Choose whether to accept or decline the time proposed."), "danger")
        return back
    try:
        operations.answer_proposal(user, proposal, accept)
    except InvalidTransition as error:
        db.session.rollback()
        flash(error.message, "danger")
        return back
    db.session.commit()
    if accept:
        flash(_("You have accepted the time proposed: the coordinator now offers it to the"
                " mediator, who confirms it."), "success")
    else:
        flash(_("You have declined the time proposed; the coordinator has been told."),
              "success")
    return back
