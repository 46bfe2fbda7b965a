"""The mediator's agenda, answers to offers and session logs."""

from datetime import date, datetime, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from ..auth.views import safe_next
from ..bookings import matching, operations, policy
from ..bookings.operations import LogInput
from ..bounds import valid_id
from ..clock import in_rome, to_utc, week_start
from ..documents import InvalidUpload, document_path, store_upload
from ..errors import InvalidInput, InvalidTransition, SlotTaken
from ..extensions import db
from ..models import (
    Assignment,
    DocumentKind,
    Outcome,
    RequestKind,
    Role,
    utcnow,
)
from ..scoping import get_or_404, roles_required
from ..view_helpers import refused, show_error
from . import queries
from .forms import AnswerForm, DeclineForm, MeetingLogForm, TranslationLogForm

bp = Blueprint("agenda", __name__, url_prefix="/agenda")


def _user():
    return current_user._get_current_object()


def _back(form) -> str:
    """Where to go after an answer: the page it was given on, or the agenda."""
    target = form.next.data if form is not None else None
    return safe_next(target) if target else url_for("agenda.index")


def _load(assignment_id: int, user) -> Assignment:
    """One of the user's assignments, or a 404 (a page with a handful of lazy loads)."""
    return get_or_404(Assignment, assignment_id, user)


def _forget_file(document) -> None:
    """The document's row is about to roll back: remove its file too."""
    if document is not None:
        document_path(document).unlink(missing_ok=True)


def _parse_week(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return week_start(date.fromisoformat(value))
    except ValueError:
        abort(404)


def since(moment: datetime, now: datetime) -> str:
    """How long ago ``moment`` was, in Rome's calendar days: "Today", "3 days ago"."""
    days = (in_rome(now).date() - in_rome(moment).date()).days
    if days <= 0:
        return _("Today")
    if days == 1:
        return _("Yesterday")
    if days < 14:
        return ngettext("%(num)d day ago", "%(num)d days ago", days)
    if days < 60:
        return ngettext("%(num)d week ago", "%(num)d weeks ago", days // 7)
    return ngettext("%(num)d month ago", "%(num)d months ago", days // 30)


@bp.route("")
@roles_required(Role.mediator)
def index():
    """My agenda: what needs me (sessions to log, the oldest first, and offers to answer),
    then today's appointments, the rest of the week's and the later ones; or one week."""
    now = utcnow()
    week = _parse_week(request.args.get("week"))
    context = queries.agenda(_user(), now, week)
    today = in_rome(now).date()
    this_week = week_start(today)
    shown = week or this_week
    return render_template(
        "agenda/index.html", now=now, today=today, answer_form=AnswerForm(),
        this_week=this_week,
        previous_week=shown - timedelta(days=7), next_week=shown + timedelta(days=7),
        since=lambda a: since(queries.when(a), now),
        to_rate=[] if week else queries.to_rate(_user(), now),
        overdue=lambda a: in_rome(queries.when(a)).date() < today,
        **context,
    )


@bp.route("/assignments/<int:assignment_id>/accept", methods=["POST"])
@roles_required(Role.mediator)
def accept(assignment_id: int):
    user = _user()
    assignment = get_or_404(Assignment, assignment_id, user)
    form = AnswerForm()
    if not form.validate_on_submit():
        flash(_("The form has expired. Please try again."), "danger")
        return redirect(_back(form))
    try:
        operations.accept(user, assignment)
    except (InvalidTransition, SlotTaken) as error:
        return refused(error, _back(form))
    db.session.commit()
    flash(_("You accepted the appointment. The school has been told that you are coming."),
          "success")
    return redirect(_back(form))


def _render_invitation(invitation, status=200, error=None):
    refusal = policy.invitation_refusal(invitation)
    return render_template(
        "agenda/invitation.html", invitation=invitation, broadcast=invitation.broadcast,
        req=invitation.broadcast.request, form=AnswerForm(),
        can_accept=policy.can_accept_invitation(_user(), invitation),
        can_decline=policy.can_decline_invitation(_user(), invitation),
        refusal=policy.INVITATION_REFUSALS[refusal] if refusal else None,
        error=error,
    ), status


def _invitation_or_404(invitation_id: int, user):
    if not valid_id(invitation_id):
        abort(404)
    found = queries.invitation(user, invitation_id)
    if found is None:
        abort(404)
    return found


@bp.route("/invitations/<int:invitation_id>")
@roles_required(Role.mediator)
def invitation(invitation_id: int):
    """An offer sent to several mediators: accept it, or read that it is taken."""
    return _render_invitation(_invitation_or_404(invitation_id, _user()))


@bp.route("/invitations/<int:invitation_id>/accept", methods=["POST"])
@roles_required(Role.mediator)
def accept_invitation(invitation_id: int):
    """The first invited mediator to accept gets the appointment; the others read that
    it is already taken (or, if they no longer fit, why)."""
    user = _user()
    found = _invitation_or_404(invitation_id, user)
    form = AnswerForm()
    if not form.validate_on_submit():
        flash(_("The form has expired. Please try again."), "danger")
        return redirect(url_for("agenda.invitation", invitation_id=invitation_id))
    try:
        operations.accept_invitation(user, found)
    except (InvalidTransition, InvalidInput, SlotTaken) as error:
        db.session.rollback()
        message = error.message if not isinstance(error, SlotTaken) else _(
            "You can no longer take it: %(reason)s. The offer stays open to the other "
            "mediators.", reason=matching.REASONS["busy"])
        return _render_invitation(_invitation_or_404(invitation_id, user), status=409,
                                  error=message)
    db.session.commit()
    flash(_("You accepted the appointment. The school has been told that you are coming."),
          "success")
    return redirect(url_for("agenda.index"))


@bp.route("/invitations/<int:invitation_id>/decline", methods=["POST"])
@roles_required(Role.mediator)
def decline_invitation(invitation_id: int):
    """The invited mediator says no; the offer stays open to the others."""
    user = _user()
    found = _invitation_or_404(invitation_id, user)
    form = AnswerForm()
    if not form.validate_on_submit():
        flash(_("The form has expired. Please try again."), "danger")
        return redirect(url_for("agenda.invitation", invitation_id=invitation_id))
    try:
        operations.decline_invitation(user, found)
    except InvalidTransition as error:
        db.session.rollback()
        return _render_invitation(_invitation_or_404(invitation_id, user), status=409,
                                  error=error.message)
    db.session.commit()
    flash(_("You declined the offer: the other mediators may still take it."), "success")
    return redirect(url_for("agenda.index"))


@bp.route("/assignments/<int:assignment_id>/decline", methods=["GET", "POST"])
@roles_required(Role.mediator)
def decline(assignment_id: int):
    user = _user()
    assignment = _load(assignment_id, user)
    form = DeclineForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if not policy.answer_allowed(assignment):
        flash(_("This offer is no longer waiting for your answer."), "warning")
        return redirect(_back(form))
    if form.validate_on_submit():
        proposed = None
        if form.proposed_date.data and form.proposed_time.data:
            proposed = to_utc(form.proposed_date.data, form.proposed_time.data)
        try:
            operations.decline(user, assignment, form.reason.data, proposed)
        except InvalidInput as error:
            db.session.rollback()
            show_error(form, error, {"proposed_start": "proposed_date"}, fallback="reason")
        except (InvalidTransition, SlotTaken) as error:
            return refused(error, _back(form))
        else:
            db.session.commit()
            flash(_("You declined the offer. The coordinator has been told."), "info")
            return redirect(_back(form))
    status = 400 if form.errors else 200
    return render_template("agenda/decline.html", form=form, assignment=assignment), status


def _log_form(assignment: Assignment):
    """The right form for the request's kind, prefilled from the log or the assignment."""
    is_translation = assignment.request.type.kind == RequestKind.deadline
    log = assignment.session_log
    if is_translation:
        form = TranslationLogForm(obj=log) if log else TranslationLogForm()
        if request.method == "GET" and log is None:
            form.pages.data = assignment.request.page_count
        return form
    form = MeetingLogForm()
    if request.method == "GET":
        req = assignment.request
        start = log.actual_start_dt if log and log.actual_start_dt else assignment.start_dt
        end = log.actual_end_dt if log and log.actual_end_dt else assignment.end_dt
        form.day.data = in_rome(start).date()
        form.actual_start.data = in_rome(start).time()
        form.actual_end.data = in_rome(end).time()
        form.pupils_met.data = log.pupils_met if log else req.expected_pupils
        form.parents_met.data = log.parents_met if log else req.expected_parents
        form.teachers_met.data = log.teachers_met if log else req.expected_teachers
        if log:
            form.outcome.data = log.outcome.value
            form.summary.data = log.summary
            form.follow_up_needed.data = log.follow_up_needed
    return form


def _log_input(form, assignment: Assignment, document) -> LogInput:
    if isinstance(form, TranslationLogForm):
        return LogInput(
            outcome=Outcome.held, pages=form.pages.data, words=form.words.data,
            summary=form.summary.data, follow_up_needed=form.follow_up_needed.data,
            delivered_document=document,
        )
    day = form.day.data
    return LogInput(
        outcome=Outcome(form.outcome.data),
        actual_start=to_utc(day, form.actual_start.data),
        actual_end=to_utc(day, form.actual_end.data),
        pupils_met=form.pupils_met.data, parents_met=form.parents_met.data,
        teachers_met=form.teachers_met.data, summary=form.summary.data,
        follow_up_needed=form.follow_up_needed.data,
    )


@bp.route("/assignments/<int:assignment_id>/log", methods=["GET", "POST"])
@roles_required(Role.mediator)
def log(assignment_id: int):
    """Log a session once it has started, or correct a log sent back by the coordinator."""
    user = _user()
    now = utcnow()
    assignment = _load(assignment_id, user)
    form = _log_form(assignment)
    is_translation = isinstance(form, TranslationLogForm)
    existing_document = (assignment.session_log.delivered_document
                         if assignment.session_log else None)
    # After a rolled-back attempt these objects are expired and simply reload.
    context = {"assignment": assignment, "is_translation": is_translation,
               "existing_document": existing_document}
    # Why the form is not shown (the operation asks the policy again), or None.
    refusal = policy.log_refusal(assignment, now)
    blocked = policy.LOG_REFUSALS[refusal] if refusal else None
    if blocked and request.method == "GET":
        return render_template("agenda/log.html", form=None, blocked=blocked, **context), 409
    if form.validate_on_submit():
        upload = form.document.data if is_translation else None
        document = None
        try:
            if upload:
                document = store_upload(upload, assignment.request,
                                        DocumentKind.translation, user, field="document")
            operations.log_session(user, assignment, _log_input(form, assignment, document))
        except (InvalidInput, InvalidUpload) as error:
            _forget_file(document)
            db.session.rollback()
            # The day of the logged start is the form's own field.
            show_error(form, error, {"actual_date": "day"})
        except (InvalidTransition, SlotTaken) as error:
            _forget_file(document)
            db.session.rollback()
            return render_template("agenda/log.html", form=None, blocked=error.message,
                                   **context), 409
        else:
            db.session.commit()
            if is_translation:
                flash(_("Thank you: the translation has been delivered to the school."),
                      "success")
            else:
                flash(_("Thank you: the session has been logged. The coordinator will"
                        " review it."), "success")
            return redirect(url_for("agenda.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("agenda/log.html", form=form, blocked=None, **context), status
