"""The request page's actions: one route and one form each, whoever acts.

The page shows an action exactly when ``bookings/policy.py`` says the user can take it
(``templates/requests/_actions.html``); each route below calls the one operation that
takes it, which asks the policy again under the request's lock. The answers to an offer
(accept, decline) and the session log are the mediator's, on the agenda's pages
(``agenda/views.py``); offering and reassigning need the coordinator's offer page
(``coordination/views.py``).
"""

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..bookings import operations, policy
from ..bookings.queries import load_request
from ..bounds import valid_id
from ..errors import InvalidInput, InvalidTransition, SlotTaken
from ..extensions import db
from ..models import Role
from ..scoping import roles_required
from ..view_helpers import refused, show_error
from .forms import CancelForm, DisputeForm, FeedbackForm, NoShowForm, RejectForm
from .views import bp, render_detail

#: The answers to a time the coordinator proposed.
ANSWERS = {"accept": True, "decline": False}


def _user():
    return current_user._get_current_object()


def _page(request_id: int, anchor: str | None = None) -> str:
    return url_for("requests.detail", request_id=request_id, _anchor=anchor)


def _logged_session(req, log_id: int | None):
    """The session log ``log_id`` of the request (the form names it), or a 404."""
    log = next((a.session_log for a in req.assignments if a.session_log is not None
                and valid_id(log_id) and a.session_log.id == log_id), None)
    if log is None:
        abort(404)
    return log


@bp.route("/<int:request_id>/approve", methods=["POST"])
@roles_required(Role.lead)
def approve(request_id: int):
    """The lead lets a teacher's request go to the coordinator."""
    user = _user()
    req = load_request(request_id, user)
    try:
        operations.approve_request(user, req)
    except (InvalidTransition, SlotTaken) as error:
        return refused(error, _page(request_id))
    db.session.commit()
    flash(_("Request approved: it now goes to the coordinator."), "success")
    return redirect(_page(request_id))


@bp.route("/<int:request_id>/reject", methods=["POST"])
@roles_required(Role.lead)
def reject(request_id: int):
    """The lead turns a request down, saying why."""
    user = _user()
    req = load_request(request_id, user)
    form = RejectForm()
    if form.validate_on_submit():
        try:
            operations.reject_request(user, req, form.reason.data)
        except InvalidInput as error:
            db.session.rollback()
            req = load_request(request_id, user)
            show_error(form, error)
        except (InvalidTransition, SlotTaken) as error:
            return refused(error, _page(request_id))
        else:
            db.session.commit()
            flash(_("Request rejected; the teacher has been told why."), "success")
            return redirect(_page(request_id))
    return render_detail(req, user, 400, reject_form=form)


@bp.route("/<int:request_id>/cancel", methods=["POST"])
@roles_required(Role.teacher, Role.lead, Role.coordinator, Role.admin)
def cancel(request_id: int):
    """The school or its coordinator cancels a request before it is logged, with a reason."""
    user = _user()
    req = load_request(request_id, user)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            operations.cancel_request(user, req, form.reason.data, form.note.data)
        except InvalidInput as error:
            db.session.rollback()
            req = load_request(request_id, user)
            show_error(form, error, fallback="reason")
        except (InvalidTransition, SlotTaken) as error:
            return refused(error, _page(request_id))
        else:
            db.session.commit()
            if req.cancelled_late:
                flash(_("Request cancelled. It was less than 24 hours before the meeting,"
                        " so the cancellation is recorded as late."), "warning")
            else:
                flash(_("Request cancelled."), "success")
            return redirect(_page(request_id))
    return render_detail(req, user, 400, cancel_form=form)


@bp.route("/<int:request_id>/unfilled", methods=["POST"])
@roles_required(Role.coordinator, Role.admin)
def unfilled(request_id: int):
    """The coordinator records that no mediator could be found."""
    user = _user()
    req = load_request(request_id, user)
    try:
        operations.mark_unfilled(user, req)
    except (InvalidTransition, SlotTaken) as error:
        return refused(error, _page(request_id))
    db.session.commit()
    flash(_("The request is marked as unfilled; the school has been told."), "success")
    return redirect(_page(request_id))


@bp.route("/<int:request_id>/proposal", methods=["POST"])
@roles_required(Role.teacher, Role.lead)
def answer_proposal(request_id: int):
    """The school accepts or declines the time ``proposal_id`` that the coordinator
    proposed (when no mediator could take the times it asked for)."""
    user = _user()
    req = load_request(request_id, user, lock=True)
    proposal_id = request.form.get("proposal_id", type=int)
    proposal = next((p for p in req.proposals if valid_id(proposal_id)
                     and p.id == proposal_id), None)
    if proposal is None:
        abort(404)
    accept = ANSWERS.get(request.form.get("answer", ""))
    if accept is None:
        flash(_("Choose whether to accept or decline the time proposed."), "danger")
        return redirect(_page(request_id))
    try:
        operations.answer_proposal(user, proposal, accept)
    except (InvalidTransition, SlotTaken) as error:
        return refused(error, _page(request_id))
    db.session.commit()
    if accept:
        flash(_("You have accepted the time proposed: the coordinator now offers it to the"
                " mediator, who confirms it."), "success")
    else:
        flash(_("You have declined the time proposed; the coordinator has been told."),
              "success")
    return redirect(_page(request_id))


@bp.route("/<int:request_id>/attest", methods=["POST"])
@roles_required(Role.teacher, Role.lead)
def attest(request_id: int):
    """The requesting teacher or a school lead confirms that the logged session took
    place: one button (from the page, or the email's link to it)."""
    user = _user()
    req = load_request(request_id, user, lock=True)
    log = _logged_session(req, request.form.get("log_id", type=int))
    try:
        operations.attest_session(user, log)
    except (InvalidTransition, SlotTaken) as error:
        return refused(error, _page(request_id, "attestation"))
    db.session.commit()
    flash(_("Thank you: you have confirmed that the session took place."), "success")
    return redirect(_page(request_id, "attestation"))


@bp.route("/<int:request_id>/dispute", methods=["POST"])
@roles_required(Role.teacher, Role.lead)
def dispute(request_id: int):
    """The requesting teacher or a school lead disputes the logged session, saying why."""
    user = _user()
    req = load_request(request_id, user, lock=True)
    log = _logged_session(req, request.form.get("log_id", type=int))
    form = DisputeForm()
    if form.validate_on_submit():
        try:
            operations.dispute_session(user, log, form.reason.data)
        except InvalidInput as error:
            db.session.rollback()
            req = load_request(request_id, user)
            show_error(form, error)
        except (InvalidTransition, SlotTaken) as error:
            return refused(error, _page(request_id, "attestation"))
        else:
            db.session.commit()
            flash(_("You have disputed the session: the coordinator of the Ambito sees it "
                    "and will look into it."), "success")
            return redirect(_page(request_id, "attestation"))
    return render_detail(req, user, 400, dispute_form=form)


@bp.route("/<int:request_id>/no-show", methods=["POST"])
@roles_required(Role.teacher, Role.lead)
def report_no_show(request_id: int):
    """The requesting teacher or a school lead reports that the mediator did not come."""
    user = _user()
    req = load_request(request_id, user, lock=True)
    form = NoShowForm()
    if form.validate_on_submit():
        try:
            operations.report_mediator_no_show(user, req, form.note.data)
        except InvalidInput as error:
            db.session.rollback()
            req = load_request(request_id, user)
            show_error(form, error)
        except (InvalidTransition, SlotTaken) as error:
            return refused(error, _page(request_id, "no-show"))
        else:
            db.session.commit()
            flash(_("You have reported that the mediator did not come: the coordinator of "
                    "the Ambito has been told."), "success")
            return redirect(_page(request_id, "no-show"))
    return render_detail(req, user, 400, no_show_form=form)


@bp.route("/<int:request_id>/feedback", methods=["POST"])
@roles_required(Role.teacher, Role.lead, Role.mediator)
def feedback(request_id: int):
    """After a held session, the requesting teacher rates its usefulness and the mediator
    who held it the organisation (issue #19): a rating from 1 to 5, an optional comment."""
    user = _user()
    req = load_request(request_id, user, lock=True)
    log = _logged_session(req, request.form.get("log_id", type=int))
    if not policy.may_give_feedback(user, log):
        abort(404)
    form = FeedbackForm()
    if form.validate_on_submit():
        try:
            operations.give_feedback(user, log, form.rating.data, form.comment.data)
        except InvalidInput as error:
            db.session.rollback()
            req = load_request(request_id, user)
            show_error(form, error)
        except (InvalidTransition, SlotTaken) as error:
            return refused(error, _page(request_id, "feedback"))
        else:
            db.session.commit()
            flash(_("Thank you for your answer."), "success")
            return redirect(_page(request_id, "feedback"))
    return render_detail(req, user, 400, feedback_form=form)
