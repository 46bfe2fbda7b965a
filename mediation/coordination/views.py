"""The coordinator's queue, offers and session-log approvals."""

from datetime import timedelta

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_timedelta, get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload
from wtforms import SelectChoice

from ..bookings import matching, operations, policy
from ..bookings.queries import load_request
from ..bounds import page_arg, valid_id
from ..clock import in_rome, to_utc
from ..errors import InvalidInput, InvalidTransition, SlotTaken
from ..extensions import db
from ..family import operations as family
from ..i18n import format_time
from ..labels import request_state_label
from ..models import (
    Action,
    MacroAction,
    MediatorProfile,
    RequestKind,
    RequestState,
    Role,
    SessionLog,
    Urgency,
    utcnow,
)
from ..reporting import periods
from ..scoping import get_or_404, roles_required
from ..view_helpers import refused, show_error
from . import queries
from .forms import (
    ALL,
    BroadcastForm,
    OfferForm,
    QueueFilterForm,
    ReturnLogForm,
    ReviewLogForm,
)

bp = Blueprint("coordination", __name__, url_prefix="/coordination")

COORDINATORS = (Role.coordinator, Role.admin)
OTHER = "other"


def _user():
    return current_user._get_current_object()


def _detail(req):
    # The id from the identity key: after a commit the request is expired, and reading
    # req.id would load it again, with its slots and assignments, only to redirect.
    return redirect(url_for("requests.detail", request_id=sa.inspect(req).identity[0]))


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


# --- the queue -------------------------------------------------------------


def _queue_filters(form: QueueFilterForm) -> queries.QueueFilters:
    """The filters the form asks for; a value that is not valid is left out."""
    form.validate()

    def value(field):
        if field.errors:
            return None
        # Optional() lets a blank value ("  ") through unchecked: it means no filter.
        if isinstance(field.data, str) and not field.data.strip():
            return None
        return field.data

    status = value(form.status) or RequestState.open.value
    urgency = value(form.urgency)
    return queries.QueueFilters(
        state=None if status == ALL else RequestState(status),
        school_id=_int(value(form.school)),
        language_id=_int(value(form.language)),
        type_id=_int(value(form.type)),
        urgency=Urgency(urgency) if urgency else None,
        date_from=value(form.date_from),
        date_to=value(form.date_to),
        sort=value(form.sort) or queries.SORTS[0],
    )


@bp.route("/requests")
@roles_required(*COORDINATORS)
def queue():
    """The requests of the Ambito, filtered and sorted, with counts per status."""
    user = _user()
    locale = str(get_locale())
    choices = queries.filter_choices(user)
    form = QueueFilterForm(formdata=request.args)
    form.status.choices = [SelectChoice(s.value, request_state_label(s)) for s in RequestState]
    form.status.choices.append(SelectChoice(ALL, _("All statuses")))
    form.school.choices = [SelectChoice("", _("All schools"))] + [
        SelectChoice(str(s.id), s.name) for s in choices["schools"]
    ]
    form.language.choices = [SelectChoice("", _("All languages"))] + [
        SelectChoice(str(lang.id), lang.name(locale)) for lang in choices["languages"]
    ]
    form.type.choices = [SelectChoice("", _("All types"))] + [
        SelectChoice(str(t.id), t.name(locale)) for t in choices["types"]
    ]
    filters = _queue_filters(form)
    page = page_arg()
    pagination = queries.queue(user, filters, page, current_app.config["PER_PAGE"])
    now = utcnow()
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "coordination/queue.html",
        form=form,
        filters=filters,
        pagination=pagination,
        counts=queries.state_counts(user, filters),
        # The family's answers to the letters of the page's meetings (issue #19), in one query.
        family_answers=family.latest_answers(r.id for r in pagination.items),
        disputed=queries.disputed_sessions(user),
        no_shows=queries.no_shows_to_settle(user),
        freed=queries.freed_times(user, now),
        args=args,
        now=now,
        age=lambda r: format_timedelta(now - r.created_dt),
        active_of=policy.active_assignment,
        can_offer=lambda r: policy.can_offer(user, r),
        ALL=ALL,
    )


# --- offering to a mediator ------------------------------------------------


def _chosen_time(req, form):
    """The slot chosen (a position, OTHER, or None for a translation) and its times."""
    if req.type.kind == RequestKind.deadline:
        return None, None, None
    slot = form.slot.data or (str(req.slots[0].position) if req.slots else OTHER)
    if slot != OTHER:
        chosen = next((s for s in req.slots if str(s.position) == slot), None)
        if chosen is None and req.slots:
            chosen = req.slots[0]
        if chosen is not None:
            return str(chosen.position), chosen.start_dt, chosen.end_dt
        slot = OTHER
    day, start, end = form.date.data, form.start.data, form.end.data
    if day is None or start is None or end is None or form.date.errors:
        return OTHER, None, None
    if end <= start:
        form.end.errors.append(_("The end must come after the start."))
        return OTHER, None, None
    return OTHER, to_utc(day, start), to_utc(day, end)


def _proposals(req) -> list[dict]:
    """Times the mediators who declined proposed, with a link offering them."""
    minutes = req.duration_minutes or req.type.default_duration_minutes or 60
    result = []
    for assignment in queries.counter_proposals(req):
        start = in_rome(assignment.proposed_start_dt)
        end = start + timedelta(minutes=minutes)
        url = url_for("coordination.offer", request_id=req.id, slot=OTHER,
                      date=start.date().isoformat(), start=start.strftime("%H:%M"),
                      end=end.strftime("%H:%M"))
        result.append({"assignment": assignment, "url": url})
    return result


def _other_time_args(start, end) -> dict:
    """The offer form's fields for a time that is not one of the preferred slots."""
    local_start, local_end = in_rome(start), in_rome(end)
    return {"slot": OTHER, "date": local_start.date().isoformat(),
            "start": local_start.strftime("%H:%M"), "end": local_end.strftime("%H:%M")}


def _no_slot_can_be_taken(rankings, now) -> bool:
    """Nobody can take any of the preferred times (or they have all passed)."""
    return all(r.best is None or r.start < now for r in rankings)


def _render_offer(req, form, slot, start, end, status=200, conflict=None,
                  series_conflicts=None, broadcast_form=None):
    user = _user()
    now = utcnow()
    active = policy.active_assignment(req)
    is_translation = req.type.kind == RequestKind.deadline
    found = best = rankings = None
    if not is_translation and len(req.slots) > 1 and slot != OTHER:
        # Rank every preferred slot once: the chosen one is shown, the best suggested.
        rankings, best = matching.rank_slots(req, user, ignore=active)
        found = next(r.ranked for r in rankings if str(r.position) == slot)
    elif is_translation or start is not None:
        found = matching.rank(req, user, start, end, ignore=active)
        if not is_translation and slot != OTHER:
            rankings = [matching.SlotRanking(int(slot), start, end, found)]
    # A dead end: show when the mediators who speak the language are free instead.
    openings = None
    if (rankings is not None and policy.allows(req, "offer")
            and _no_slot_can_be_taken(rankings, now)):
        openings = matching.next_free_times(req, user, now=now)
    # Who does not speak the language is counted, not listed: they could never take it.
    not_speaking = sum(1 for c in found or () if "language" in c.reasons)
    candidates = None if found is None else [c for c in found if "language" not in c.reasons]
    return render_template(
        "coordination/offer.html",
        req=req,
        form=form,
        slot=slot,
        start=start,
        end=end,
        active=active,
        reassigning=active is not None,
        # The request waits for a mediator (not a reassignment): bookings/policy.py.
        offering=policy.allows(req, "offer"),
        is_translation=is_translation,
        candidates=candidates,
        not_speaking=not_speaking,
        best=best,
        openings=openings,
        other_time=_other_time_args,
        proposals=_proposals(req),
        # The times proposed to the school, latest first, while they lie ahead.
        school_proposals=[p for p in reversed(req.proposals) if p.start_dt > now],
        conflict=conflict,
        series_conflicts=series_conflicts or [],
        # Offering to several mediators at once (issue #19): bookings/policy.py decides.
        can_broadcast=policy.can_broadcast(user, req),
        can_withdraw_broadcast=policy.can_withdraw_broadcast(user, req),
        broadcast_form=broadcast_form or BroadcastForm(formdata=None),
        open_broadcast=queries.open_broadcast(req),
        time_of=lambda moment: format_time(moment, "short"),
        OTHER=OTHER,
    ), status


@bp.route("/requests/<int:request_id>/offer", methods=["GET", "POST"])
@roles_required(*COORDINATORS)
def offer(request_id: int):
    """Choose a time and a mediator, and offer them the request (or reassign it)."""
    user = _user()
    # A POST reads the request for update once, instead of reading it, then again
    # (with everything its page shows) in the operation's _lock.
    req = load_request(request_id, user, lock=request.method == "POST")
    reassigning = policy.reassign_allowed(req)
    if not policy.allows(req, "offer") and not reassigning:
        flash(_("This request is not waiting for a mediator."), "warning")
        return _detail(req)
    if (request.method == "POST" and reassigning
            and request.form.get("from_state") == RequestState.open.value):
        # The page offered an open request, and someone offered it meanwhile: their offer
        # stands, this one is not turned into a reassignment.
        flash(_("Someone else has just offered this request: here is who has it now."),
              "warning")
        return _detail(req)
    if request.method == "GET":
        # The time chosen so far comes in the query string; nothing is sent yet.
        form = OfferForm(formdata=request.args, meta={"csrf": False})
        for field in (form.date, form.start, form.end):
            field.validate(form)
        slot, start, end = _chosen_time(req, form)
        return _render_offer(req, form, slot, start, end)

    form = OfferForm()
    form.validate()
    slot, start, end = _chosen_time(req, form)
    if form.mediator_id.errors or form.mediator_id.data is None:
        form.form_errors.append(_("Choose a mediator."))
        return _render_offer(req, form, slot, start, end, status=400)
    if form.errors:
        return _render_offer(req, form, slot, start, end, status=400)
    # With the user the emails and the message name.
    mediator = get_or_404(MediatorProfile, form.mediator_id.data, user,
                          joinedload(MediatorProfile.user))
    try:
        if reassigning:
            operations.reassign(user, req, mediator, form.reason.data or "", start, end)
        else:
            operations.offer(user, req, mediator, start, end)
    except InvalidInput as error:
        db.session.rollback()
        req = load_request(request_id, user)
        # A preferred slot's time is not a field of the form: its error goes above it.
        show_error(form, error, {"start": ""} if slot != OTHER else None)
        return _render_offer(req, form, slot, start, end, status=400)
    except SlotTaken as error:
        db.session.rollback()
        req = load_request(request_id, user)
        return _render_offer(req, form, slot, start, end, status=409, conflict=error.message)
    except InvalidTransition as error:
        return refused(error, url_for("requests.detail", request_id=request_id))
    name = mediator.user.display_name
    db.session.commit()
    if reassigning:
        flash(_("The request has been reassigned to %(name)s, who has been told.", name=name),
              "success")
    else:
        flash(_("The request has been offered to %(name)s, who has been told.", name=name),
              "success")
    return _detail(req)


@bp.route("/requests/<int:request_id>/propose", methods=["POST"])
@roles_required(*COORDINATORS)
def propose(request_id: int):
    """Propose the school a time at which a mediator is free (from the offer page's free
    times); nothing is booked until the school accepts it and it is offered."""
    user = _user()
    req = load_request(request_id, user, lock=True)
    back = redirect(url_for("coordination.offer", request_id=request_id))
    form = OfferForm()
    form.validate()
    day, start, end = form.date.data, form.start.data, form.end.data
    if (form.mediator_id.errors or form.mediator_id.data is None or form.date.errors
            or day is None or start is None or end is None or end <= start):
        flash(_("Choose one of the free times to propose."), "danger")
        return back
    mediator = get_or_404(MediatorProfile, form.mediator_id.data, user,
                          joinedload(MediatorProfile.user))
    try:
        operations.propose_time(user, req, mediator, to_utc(day, start), to_utc(day, end))
    except InvalidInput as error:
        return refused(error, url_for("coordination.offer", request_id=request_id))
    except InvalidTransition as error:
        return refused(error, url_for("requests.detail", request_id=request_id))
    db.session.commit()
    flash(_("The time has been proposed to the school, which has been told."), "success")
    return back


@bp.route("/requests/<int:request_id>/offer-series", methods=["POST"])
@roles_required(*COORDINATORS)
def offer_series(request_id: int):
    """Offer every open week of a series to one mediator, or none of them."""
    user = _user()
    req = load_request(request_id, user)
    mediator_id = request.form.get("mediator_id", type=int)
    if not valid_id(mediator_id):
        abort(404)
    mediator = get_or_404(MediatorProfile, mediator_id, user)
    try:
        assignments = operations.offer_series(user, req, mediator)
    except operations.SeriesConflict as error:
        db.session.rollback()
        req = load_request(request_id, user)
        form = OfferForm(formdata=None)
        slot, start, end = _chosen_time(req, form)
        return _render_offer(req, form, slot, start, end, status=409,
                             series_conflicts=error.conflicts,
                             conflict=_("%(name)s cannot take every week of the series:",
                                        name=mediator.user.display_name))
    except InvalidTransition as error:
        return refused(error, url_for("requests.detail", request_id=request_id))
    name = mediator.user.display_name
    db.session.commit()
    flash(_("%(num)d weeks offered to %(name)s, who has been told.", num=len(assignments),
            name=name), "success")
    return _detail(req)


# --- offering to several mediators at once (issue #19) --------------------------


def _broadcast_tiers(req, user, form, start, end) -> list[list[MediatorProfile]]:
    """The mediators to invite, tier by tier: those ticked (in the ranking's order), or
    the top of the ranking; then the next available ones of the ranking, if asked."""
    ranked = [c.mediator.id for c in matching.rank(req, user, start, end) if c.available]
    ticked = [i for i in request.form.getlist("invite", type=int) if valid_id(i)]
    if ticked:
        first = [i for i in ranked if i in ticked] + [i for i in ticked if i not in ranked]
    else:
        first = ranked[:form.top.data or 3]
    second = [i for i in ranked if i not in first][:form.second_tier.data or 0]
    ids = list(dict.fromkeys(first + second))
    found = {m.id: m for m in queries.mediators_for_offer(user, ids)}
    if len(found) != len(ids):
        abort(404)
    return [[found[i] for i in first], [found[i] for i in second if i not in first]]


@bp.route("/requests/<int:request_id>/broadcast", methods=["POST"])
@roles_required(*COORDINATORS)
def broadcast(request_id: int):
    """Send the request, at the chosen time, to several mediators: the first to accept
    gets it."""
    user = _user()
    req = load_request(request_id, user, lock=True)
    if not policy.broadcast_allowed(req):
        flash(_("This request is not waiting for a mediator, or it has already been sent "
                "to several."), "warning")
        return _detail(req)
    form = BroadcastForm()
    form.validate()
    slot, start, end = _chosen_time(req, form)
    if form.errors or (req.type.kind == RequestKind.slot and start is None):
        if req.type.kind == RequestKind.slot and start is None:
            form.form_errors.append(_("Choose a time."))
        return _render_offer(req, form, slot, start, end, status=400, broadcast_form=form)
    tiers = _broadcast_tiers(req, user, form, start, end)
    delay = timedelta(hours=form.delay_hours.data or 4)
    try:
        done = operations.broadcast_offer(user, req, tiers, start, end, delay)
    except (InvalidInput, SlotTaken) as error:
        db.session.rollback()
        req = load_request(request_id, user)
        return _render_offer(req, form, slot, start, end, status=400,
                             conflict=error.message, broadcast_form=form)
    except InvalidTransition as error:
        return refused(error, url_for("requests.detail", request_id=request_id))
    sent = sum(1 for i in done.invitations if i.tier == 1)
    later = len(done.invitations) - sent
    db.session.commit()
    message = ngettext("Offered to %(num)d mediators: the first to accept gets it.",
                       "Offered to %(num)d mediators: the first to accept gets it.", sent)
    if later:
        message += " " + ngettext(
            "%(num)d more will be asked if nobody has accepted by then.",
            "%(num)d more will be asked if nobody has accepted by then.", later)
    flash(message, "success")
    return redirect(url_for("coordination.offer", request_id=request_id))


@bp.route("/requests/<int:request_id>/broadcast/withdraw", methods=["POST"])
@roles_required(*COORDINATORS)
def withdraw_broadcast(request_id: int):
    """Call back an offer to several mediators that nobody has accepted yet."""
    user = _user()
    req = load_request(request_id, user, lock=True)
    form = BroadcastForm()
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        flash(_("The form has expired. Please try again."), "danger")
        return redirect(url_for("coordination.offer", request_id=request_id))
    try:
        operations.withdraw_broadcast(user, req)
    except InvalidTransition as error:
        return refused(error, url_for("coordination.offer", request_id=request_id))
    db.session.commit()
    flash(_("The offer to several mediators has been withdrawn; they have been told."),
          "success")
    return redirect(url_for("coordination.offer", request_id=request_id))


# --- session logs ----------------------------------------------------------


def _render_logs(errors=None, comments=None, status=200):
    user = _user()
    page = page_arg()
    pagination = queries.logs_to_approve(user, page, current_app.config["PER_PAGE"])
    macros = queries.macro_actions_of(
        log.assignment.request.project_id for log in pagination.items
    )
    return render_template(
        "coordination/logs.html",
        pagination=pagination,
        macros=macros,
        closed_periods=periods.closed_periods_of(pagination.items),
        errors=errors or {},
        comments=comments or {},
        time_of=lambda moment: format_time(moment, "short") if moment else "",
    ), status


@bp.route("/logs")
@roles_required(*COORDINATORS)
def logs():
    """Session logs waiting for approval."""
    return _render_logs()


@bp.route("/logs/approve", methods=["POST"])
@roles_required(*COORDINATORS)
def approve_logs():
    """Approve several session logs at once, as they count by default."""
    user = _user()
    ids = {i for i in request.form.getlist("log_ids", type=int) if valid_id(i)}
    if not ids:
        flash(_("Choose the session logs to approve."), "warning")
        return redirect(url_for("coordination.logs"))
    found = queries.logs_by_id(user, ids)
    if len(found) != len(ids):
        abort(404)
    try:
        for log in found:
            operations.approve_log(user, log)
    except (InvalidTransition, InvalidInput) as error:
        return refused(error, url_for("coordination.logs"))
    db.session.commit()
    flash(ngettext("%(num)d session log approved.", "%(num)d session logs approved.",
                   len(found)), "success")
    return redirect(url_for("coordination.logs"))


@bp.route("/logs/<int:log_id>/approve", methods=["POST"])
@roles_required(*COORDINATORS)
def approve_log(log_id: int):
    """Approve one session log, possibly counting it against another (macro-)action."""
    user = _user()
    log = get_or_404(SessionLog, log_id, user)
    form = ReviewLogForm()
    if not form.validate():
        return _render_logs(errors={log.id: _("Choose a macro-action.")}, status=400)
    macro_action = action = None
    if form.macro_action_id.data is not None:
        macro_action = db.session.get(MacroAction, form.macro_action_id.data) or abort(404)
    if form.action_id.data is not None:
        # The operation checks that the action belongs to the macro-action counted.
        action = db.session.get(Action, form.action_id.data) or abort(404)
    try:
        operations.approve_log(user, log, macro_action, action)
    except InvalidInput as error:
        db.session.rollback()
        return _render_logs(errors={log_id: error.message}, status=400)
    except InvalidTransition as error:
        return refused(error, url_for("coordination.logs"))
    db.session.commit()
    flash(_("The session log has been approved."), "success")
    return redirect(url_for("coordination.logs"))


@bp.route("/logs/<int:log_id>/return", methods=["POST"])
@roles_required(*COORDINATORS)
def return_log(log_id: int):
    """Send a session log back to the mediator, saying what to correct."""
    user = _user()
    log = get_or_404(SessionLog, log_id, user)
    form = ReturnLogForm()
    form.validate()
    comment = form.comment.data or ""
    try:
        operations.return_log(user, log, comment)
    except InvalidInput as error:
        db.session.rollback()
        return _render_logs(errors={log_id: error.message}, comments={log_id: comment},
                            status=400)
    except InvalidTransition as error:
        return refused(error, url_for("coordination.logs"))
    db.session.commit()
    flash(_("The session log has been sent back to the mediator."), "success")
    return redirect(url_for("coordination.logs"))
