"""Every transition of the request lifecycle (docs/design.md), one function each.

Each function checks that the actor may do it, changes the rows, writes the
audit event and queues the emails, in the caller's transaction; the view (or
command) commits once it returns. Refusals are domain errors: ``NotAllowed``
(a 404: the actor has no business with the object), ``InvalidTransition``
(409: not in this state), ``SlotTaken`` (409: the database refused an overlap),
``InvalidInput`` (a message for a form field).
"""

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from ..audit import record
from ..clock import in_rome, to_utc
from ..core.operations import clean_telephone, is_telephone
from ..errors import DomainError, InvalidInput, InvalidTransition, NotAllowed, SlotTaken
from ..extensions import db
from ..i18n import format_date
from ..labels import CANCELLATION_REASON_LABELS
from ..models import (
    Action,
    Assignment,
    AssignmentState,
    AttestationOutcome,
    BroadcastInvitation,
    BroadcastState,
    Direction,
    Document,
    InvitationState,
    LogState,
    MacroAction,
    MediationRequest,
    MediatorNoShow,
    MediatorProfile,
    Mode,
    OfferBroadcast,
    Outcome,
    PreferredSlot,
    ProposalState,
    PupilCase,
    RequestKind,
    RequestSeries,
    RequestState,
    RequestType,
    Role,
    SessionAttestation,
    SessionFeedback,
    SessionLog,
    TimeProposal,
    Urgency,
    User,
    utcnow,
)
from ..models.constraints import is_overlap_violation
from ..reporting import periods
from . import matching, notifications, policy
from .locks import lock_mediators
from .queries import is_locked
from .rules import (
    Calendar,
    booking_problem,
    deadline_problem,
    slot_problem,
)


class SeriesConflict(DomainError):
    """Some weeks of a series cannot be offered; ``conflicts`` lists them by date."""

    status_code = 409
    default_message = _l("The series cannot be offered: some weeks do not work.")

    def __init__(self, conflicts: list[tuple[datetime, str]]):
        super().__init__()
        self.conflicts = conflicts


#: The reason codes a cancellation accepts: the keys of their labels (one list of codes,
#: in :mod:`mediation.labels`, so that a form never offers a code this refuses).
CANCELLATION_REASONS = frozenset(CANCELLATION_REASON_LABELS)

#: The longest weekly series a school can ask for.
MAX_SERIES_WEEKS = 12

@dataclass
class SlotInput:
    start: datetime
    end: datetime


@dataclass
class RequestInput:
    """What a school fills in; times are aware datetimes."""

    type: RequestType
    language_id: int
    site_id: int | None = None
    pupil_case: PupilCase | None = None
    mode: Mode = Mode.in_person
    urgency: Urgency = Urgency.normal
    expected_pupils: int = 0
    expected_parents: int = 0
    expected_teachers: int = 0
    slots: list[SlotInput] = field(default_factory=list)
    deadline: datetime | None = None
    direction: Direction | None = None
    page_count: int | None = None
    notes: str | None = None
    # The family of a meeting that names no pupil (a pupil's family is on the pupil case).
    family_code: str | None = None
    # A meeting by phone: the number to call for it (required then, ignored otherwise).
    call_number: str | None = None


@dataclass
class LogInput:
    outcome: Outcome
    actual_start: datetime | None = None
    actual_end: datetime | None = None
    pupils_met: int = 0
    parents_met: int = 0
    teachers_met: int = 0
    summary: str | None = None
    follow_up_needed: bool = False
    pages: int | None = None
    words: int | None = None
    delivered_document: Document | None = None


# --- helpers ---------------------------------------------------------------


def _require(condition: bool, error: DomainError | None = None) -> None:
    if not condition:
        raise error or InvalidTransition()


def _lock(request: MediationRequest) -> MediationRequest:
    """Re-read the request for update, so concurrent transitions serialise on it."""
    if is_locked(request):  # the view read it for update in this transaction
        return request
    # Lock only the request's own row: PostgreSQL refuses FOR UPDATE on the
    # nullable side of the outer joins an eager-loaded request comes with.
    db.session.refresh(request, with_for_update={"of": MediationRequest})
    return request


def _event(request: MediationRequest, action: str, actor: User, **data) -> None:
    """Audit ``action`` on the request; an event that changes its state records the new
    state (``state``: reporting counts a request in its state at the end of a period)."""
    if action in policy.AUDITED_STATES:
        data.setdefault("state", request.state.value)
    record(action, request, actor, **data)


def _flush_assignment() -> None:
    """Flush, turning the database's refusal of an overlap into ``SlotTaken``."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:
        if is_overlap_violation(error) or "uq_assignments_request_active" in str(error.orig):
            raise SlotTaken() from error
        raise


# --- teachers and leads ----------------------------------------------------


def submit_request(actor: User, data: RequestInput, *, notify: bool = True) -> MediationRequest:
    """File a request for the actor's school.

    :raise InvalidInput: a slot or the deadline is not bookable (``field`` names it).
    """
    _require(actor.role in (Role.teacher, Role.lead), NotAllowed())
    school = actor.school
    now = utcnow()
    kind = data.type.kind
    if kind == RequestKind.slot:
        if not data.slots:
            raise InvalidInput(_l("Propose at least one time."), field="slot_1")
        days = [in_rome(s.start).date() for s in data.slots]
        calendar = Calendar.load(school, min(days), max(days))
        for position, slot in enumerate(data.slots, start=1):
            problem = slot_problem(slot.start, slot.end, calendar, now)
            if problem:
                raise InvalidInput(problem, field=f"slot_{position}")
        project = calendar.project_on(days[0])
        if data.mode == Mode.in_person and data.site_id is None:
            raise InvalidInput(_l("Choose where the meeting takes place."), field="site")
        call_number = call_number_of(data)
    else:
        call_number = None
        if data.deadline is None:
            raise InvalidInput(_l("Give a deadline."), field="deadline")
        day = in_rome(data.deadline).date()
        calendar = Calendar.load(school, day, day)
        problem = deadline_problem(data.deadline, calendar, now)
        if problem:
            raise InvalidInput(problem, field="deadline")
        project = calendar.project_on(day)
    if data.site_id is not None and data.site_id not in {s.id for s in school.sites}:
        raise InvalidInput(_l("Choose one of your school's sites."), field="site")
    if data.pupil_case is not None and data.pupil_case.school_id != school.id:
        raise NotAllowed()
    if data.type.concerns_pupil and data.pupil_case is None:
        raise InvalidInput(_l("Choose the pupil this is about."), field="pupil_case")
    family_code = normal_code(data.family_code)
    if family_code is not None and (data.pupil_case is not None or kind != RequestKind.slot):
        # A pupil's family is the pupil case's; a translation meets nobody.
        raise InvalidInput(_l("A family code is given only for a meeting that names no "
                              "pupil."), field="family_code")

    needs_approval = school.requires_lead_approval and actor.role != Role.lead
    request = MediationRequest(
        project=project,
        school=school,
        site_id=data.site_id if kind == RequestKind.slot else None,
        requester=actor,
        type=data.type,
        language_id=data.language_id,
        pupil_case=data.pupil_case,
        family_code=family_code,
        state=RequestState.awaiting_approval if needs_approval else RequestState.open,
        mode=data.mode if kind == RequestKind.slot else Mode.in_person,
        call_number=call_number,
        urgency=data.urgency,
        expected_pupils=data.expected_pupils,
        expected_parents=data.expected_parents,
        expected_teachers=data.expected_teachers,
        duration_minutes=(
            int((data.slots[0].end - data.slots[0].start).total_seconds() // 60)
            if kind == RequestKind.slot else None
        ),
        deadline_dt=data.deadline if kind == RequestKind.deadline else None,
        direction=data.direction if kind == RequestKind.deadline else None,
        page_count=data.page_count if kind == RequestKind.deadline else None,
        notes=data.notes or None,
    )
    for position, slot in enumerate(data.slots if kind == RequestKind.slot else [], start=1):
        request.slots.append(PreferredSlot(position=position, start_dt=slot.start,
                                           end_dt=slot.end))
    db.session.add(request)
    db.session.flush()
    _event(request, "request.submitted", actor, state=request.state.value)
    if needs_approval and notify:
        notifications.approval_needed(request)
    return request


def call_number_of(data: RequestInput) -> str | None:
    """The number to call for a meeting by phone, as stored (None for another mode).

    :raise InvalidInput: a meeting by phone without a number, or one that is not a number.
    """
    if data.mode != Mode.phone:
        return None
    number = clean_telephone(data.call_number)
    if number is None:
        raise InvalidInput(_l("Give the number to call for the meeting."), field="call_number")
    if not is_telephone(number):
        raise InvalidInput(_l("Write a telephone number, e.g. 0371 123456."),
                           field="call_number")
    return number


def submit_series(actor: User, data: RequestInput, weeks: int) -> RequestSeries:
    """File the same meeting every week for ``weeks`` weeks: one request per week.

    The time stays the same on the clock in Rome across daylight saving changes.
    Every week is checked like a single request; the first that fails names its date.
    """
    _require(data.type.kind == RequestKind.slot and len(data.slots) == 1, InvalidInput(
        _l("A weekly series needs exactly one time."), field="slot_2"))
    if not 2 <= weeks <= MAX_SERIES_WEEKS:
        raise InvalidInput(_l("A series lasts from 2 to %(max)d weeks.", max=MAX_SERIES_WEEKS),
                           field="weeks")
    first = data.slots[0]
    local_start, length = in_rome(first.start), first.end - first.start
    series = RequestSeries(weeks=weeks)
    db.session.add(series)
    for week in range(weeks):
        start = to_utc(local_start.date() + timedelta(weeks=week), local_start.time())
        occurrence = replace(data, slots=[SlotInput(start, start + length)])
        try:
            request = submit_request(actor, occurrence, notify=week == 0)
        except InvalidInput as error:
            if week == 0:
                raise
            raise InvalidInput(
                _l("Week %(number)d (%(date)s): %(problem)s", number=week + 1,
                   date=format_date(start, "long"), problem=error.message),
                field="slot_1",
            ) from error
        request.series = series
        request.series_position = week + 1
    db.session.flush()
    return series


def create_pupil_case(actor: User, **fields) -> PupilCase:
    """Add a pseudonymous pupil code to the actor's school.

    :raise InvalidInput: the code is already used in this school.
    """
    _require(actor.role in (Role.teacher, Role.lead), NotAllowed())
    code = fields.pop("code").strip().upper()
    fields["family_code"] = normal_code(fields.get("family_code"))
    exists = db.session.scalar(
        sa.select(PupilCase.id).where(PupilCase.school_id == actor.school_id,
                                      PupilCase.code == code)
    )
    if exists:
        raise InvalidInput(_l("This code is already used in your school."), field="case_code")
    languages = fields.pop("home_languages", [])
    case = PupilCase(school_id=actor.school_id, code=code, created_by_id=actor.id, **fields)
    case.home_languages.extend(languages)
    db.session.add(case)
    db.session.flush()
    record("pupil_case.created", case, actor)
    return case


def normal_code(value: str | None) -> str | None:
    """A pupil's or a family's code as stored: without surrounding spaces, in capitals;
    None when empty. The forms check its characters (letters, digits, - / . _)."""
    value = (value or "").strip().upper()
    return value or None


def _with_series(request: MediationRequest, state: RequestState) -> list[MediationRequest]:
    """The request, and the other weeks of its series in the same state."""
    if request.series_id is None:
        return [request]
    return [request, *(r for r in request.series.requests
                       if r.id != request.id and r.state == state)]


def approve_request(actor: User, request: MediationRequest) -> None:
    """The school lead lets a request (all the waiting weeks of a series) go to the coordinator."""
    _require(policy.may_approve(actor, request), NotAllowed())
    _lock(request)
    _require(policy.allows(request, "approve"))
    for each in _with_series(request, RequestState.awaiting_approval):
        each.state = RequestState.open
        _event(each, "request.approved", actor)


def reject_request(actor: User, request: MediationRequest, reason: str) -> None:
    """The school lead turns a request (and the waiting weeks of its series) down."""
    _require(policy.may_approve(actor, request), NotAllowed())
    if not reason.strip():
        raise InvalidInput(_l("Say why the request is rejected."), field="reason")
    _lock(request)
    _require(policy.allows(request, "reject"))
    for each in _with_series(request, RequestState.awaiting_approval):
        each.state = RequestState.rejected
        each.rejection_reason = reason.strip()
        _event(each, "request.rejected", actor)
    notifications.request_rejected(request)


def cancel_request(actor: User, request: MediationRequest, reason: str,
                   note: str | None = None) -> None:
    """Cancel a request before it is logged; frees the mediator's time at once.

    A cancellation less than 24 hours before the meeting is flagged late.
    """
    _require(policy.may_cancel(actor, request), NotAllowed())
    if reason not in CANCELLATION_REASONS:
        raise InvalidInput(_l("Choose a reason."), field="reason")
    _lock(request)
    _require(policy.allows(request, "cancel"))
    assignment = policy.active_assignment(request)
    request.state = RequestState.cancelled
    request.cancellation_reason = reason
    request.cancellation_note = (note or "").strip() or None
    request.cancelled_late = policy.is_late(request, utcnow(), assignment)
    if assignment is not None:
        assignment.state = AssignmentState.cancelled
        assignment.end_reason = reason
        assignment.sequence += 1
    _withdraw_broadcast(actor, request)
    _event(request, "request.cancelled", actor, reason=reason, late=request.cancelled_late,
           assignment_id=assignment.id if assignment else None)
    notifications.request_cancelled(request, assignment, actor)


# --- coordinators ----------------------------------------------------------


def _check_mediator(actor: User, request: MediationRequest, mediator: MediatorProfile,
                    start: datetime | None, end: datetime | None,
                    ignore: Assignment | None = None) -> None:
    """Apply the matching's hard filters to this mediator (a courtesy: the database
    still guarantees that nothing overlaps).

    :raise NotAllowed: the actor cannot see the mediator.
    :raise SlotTaken: the mediator is already booked then.
    :raise InvalidInput: another hard filter excludes the mediator.
    """
    standing = matching.check(request, actor, mediator, start, end, ignore=ignore)
    _require(standing is not None, NotAllowed())
    if standing.reason == "busy":
        raise SlotTaken()
    if standing.reason is not None:
        raise InvalidInput(
            _l("%(name)s cannot take it: %(reason)s.", name=mediator.user.display_name,
               reason=matching.REASONS[standing.reason]),
            field="mediator",
        )


def _check_time(request: MediationRequest, mediator: MediatorProfile,
                start: datetime | None, end: datetime | None) -> None:
    """The time must be bookable at the school and belong to the request's project."""
    now = utcnow()
    if request.type.kind == RequestKind.deadline:
        return
    if start is None or end is None:
        raise InvalidInput(_l("Choose a time."), field="start")
    day = in_rome(start).date()
    calendar = Calendar.load(request.school, day, day)
    problem = booking_problem(start, end, calendar, now, request.project_id)
    if problem:
        raise InvalidInput(problem, field="start")


def offer(actor: User, request: MediationRequest, mediator: MediatorProfile,
          start: datetime | None = None, end: datetime | None = None) -> Assignment:
    """Offer an open request to a mediator, for a time (or, for a translation, its deadline).

    :raise SlotTaken: the mediator holds an overlapping offer or appointment.
    """
    _require(policy.may_coordinate(actor, request), NotAllowed())
    _lock(request)
    # Before the checks: they read the mediator's bookings, absences and hours.
    lock_mediators(mediator)
    _require(policy.allows(request, "offer"))
    _check_time(request, mediator, start, end)
    _check_mediator(actor, request, mediator, start, end)
    # Offered to one: an open broadcast of the request is called back.
    _withdraw_broadcast(actor, request)
    assignment = _new_assignment(actor, request, mediator, start, end)
    request.state = RequestState.offered
    _event(request, "assignment.offered", actor, assignment_id=assignment.id,
           mediator_id=mediator.id)
    notifications.offered(assignment)
    return assignment


def _new_assignment(actor, request, mediator, start, end) -> Assignment:
    is_translation = request.type.kind == RequestKind.deadline
    assignment = Assignment(
        request=request,
        mediator=mediator,
        state=AssignmentState.offered,
        start_dt=None if is_translation else start,
        end_dt=None if is_translation else end,
        deadline_dt=request.deadline_dt if is_translation else None,
        offered_by=actor,
    )
    db.session.add(assignment)
    _flush_assignment()
    return assignment


def offer_series(actor: User, request: MediationRequest,
                 mediator: MediatorProfile) -> list[Assignment]:
    """Offer every open week of ``request``'s series to one mediator, or none.

    Each week is checked against the hard filters first, so that every
    conflict is listed by date; the database still refuses any overlap.

    :raise SeriesConflict: at least one week cannot be offered (nothing is written).
    """
    _require(request.series_id is not None, InvalidTransition())
    for week in request.series.requests:
        _require(policy.may_coordinate(actor, week), NotAllowed())
    # The weeks first (in id order, as every write locks requests before mediators),
    # then the mediator; the checks below read what the previous holders committed.
    for week in sorted(request.series.requests, key=lambda r: r.id):
        _lock(week)
    lock_mediators(mediator)
    weeks = [r for r in request.series.requests if policy.allows(r, "offer")]
    _require(bool(weeks))
    conflicts = []
    for week in weeks:
        slot = week.slots[0]
        standing = matching.check(week, actor, mediator, slot.start_dt, slot.end_dt)
        _require(standing is not None, NotAllowed())
        if standing.reason is not None:
            conflicts.append((slot.start_dt, str(matching.REASONS[standing.reason])))
    if conflicts:
        raise SeriesConflict(conflicts)
    assignments = []
    for week in weeks:
        slot = week.slots[0]
        try:
            assignments.append(offer(actor, week, mediator, slot.start_dt, slot.end_dt))
        except (SlotTaken, InvalidInput) as error:
            raise SeriesConflict([(slot.start_dt, str(error.message))]) from error
    return assignments


def reassign(actor: User, request: MediationRequest, mediator: MediatorProfile,
             reason: str, start: datetime | None = None,
             end: datetime | None = None) -> Assignment:
    """Replace the active assignment by an offer to another mediator (or another time)."""
    _require(policy.may_coordinate(actor, request), NotAllowed())
    if not reason.strip():
        raise InvalidInput(_l("Say why the request is reassigned."), field="reason")
    _lock(request)
    lock_mediators(mediator)  # the new one: the old one's time is only freed
    _require(policy.reassign_allowed(request))
    old = policy.active_assignment(request)
    _check_time(request, mediator, start, end)
    _check_mediator(actor, request, mediator, start, end, ignore=old)
    old.state = AssignmentState.superseded
    old.end_reason = reason.strip()
    old.sequence += 1
    db.session.flush()  # free the old slot before the new row is checked
    assignment = _new_assignment(actor, request, mediator, start, end)
    request.state = RequestState.offered
    _event(request, "assignment.superseded", actor, assignment_id=old.id,
           mediator_id=old.mediator_id)
    _event(request, "assignment.offered", actor, assignment_id=assignment.id,
           mediator_id=mediator.id)
    notifications.superseded(old)
    notifications.offered(assignment)
    return assignment


def move_week(actor: User, request: MediationRequest, start: datetime, end: datetime,
              reason: str) -> Assignment | None:
    """Move one week of a weekly series to another time; the other weeks are untouched.

    The new time is checked like a single request's (the calendar's rules, the
    request's project); if a mediator holds the week, like an offer to them at that time
    (overlap, travel buffer, weekly cap, absences, availability), under their booking
    lock. The week's time becomes the new one; its mediator's assignment is withdrawn
    and the new time offered to them, as a reassignment at another time does (they
    confirm it again). Times the coordinator proposed and the school has not answered
    are declined. Returns the new offer, or None when no mediator held the week.

    :raise InvalidInput: no reason, or the time cannot be booked (``date``).
    """
    _require(policy.may_move(actor, request), NotAllowed())
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_l("Say why this week is moved."), field="reason")
    _lock(request)
    old = policy.active_assignment(request)
    if old is not None:
        lock_mediators(old.mediator)  # before the checks read the mediator's bookings
    now = utcnow()
    _require(policy.move_allowed(request, now))
    slot = request.slots[0]
    if end <= start:
        raise InvalidInput(_l("The end must come after the start."), field="date")
    if (slot.start_dt, slot.end_dt) == (start, end) and (
            old is None or (old.start_dt, old.end_dt) == (start, end)):
        raise InvalidInput(_l("This week is already at that time."), field="date")
    day = in_rome(start).date()
    problem = booking_problem(start, end, Calendar.load(request.school, day, day), now,
                              request.project_id)
    if problem:
        raise InvalidInput(problem, field="date")
    if old is not None:
        # The mediator already holds the week: whoever moves it (the school sees no
        # mediator), they are checked at the new time.
        standing = matching.check(request, matching.EVERY_MEDIATOR, old.mediator, start, end,
                                  ignore=old)
        if standing is None or standing.reason is not None:
            why = (matching.REASONS[standing.reason] if standing is not None
                   else _l("no longer active"))
            raise InvalidInput(
                _l("%(name)s cannot take it: %(reason)s. Choose another time, or cancel "
                   "this week.", name=old.mediator.user.display_name, reason=why),
                field="date")
    moved_from = slot.start_dt
    # Mediators invited to the old time are told the offer is over: the coordinator
    # offers the new time afresh.
    _withdraw_broadcast(actor, request)
    slot.start_dt, slot.end_dt = start, end
    declined = [p for p in request.proposals if p.state == ProposalState.pending]
    for proposal in declined:
        proposal.state = ProposalState.declined
        proposal.answered_by = actor
        proposal.answered_dt = now
    _event(request, "request.moved", actor, moved_from=moved_from.isoformat(),
           moved_to=start.isoformat(), proposals_declined=len(declined))
    new = None
    if old is not None:
        held = notifications.was_confirmed(old)
        old.state = AssignmentState.superseded
        old.end_reason = reason
        old.sequence += 1
        db.session.flush()  # free the old time before the new row is checked
        offered_by = actor if policy.coordinates(actor, request) else (old.offered_by or actor)
        new = _new_assignment(offered_by, request, old.mediator, start, end)
        request.state = RequestState.offered
        _event(request, "assignment.superseded", actor, assignment_id=old.id,
               mediator_id=old.mediator_id)
        _event(request, "assignment.offered", actor, assignment_id=new.id,
               mediator_id=old.mediator_id)
        notifications.week_moved(request, actor, old, held)
        notifications.offered(new)
    else:
        notifications.week_moved(request, actor, None, False)
    return new


def mark_unfilled(actor: User, request: MediationRequest) -> None:
    """Record that no mediator could be found."""
    _require(policy.may_coordinate(actor, request), NotAllowed())
    _lock(request)
    _require(policy.allows(request, "mark_unfilled"))
    _withdraw_broadcast(actor, request)
    request.state = RequestState.unfilled
    _event(request, "request.unfilled", actor)
    notifications.unfilled(request)


def propose_time(actor: User, request: MediationRequest, mediator: MediatorProfile,
                 start: datetime, end: datetime) -> TimeProposal:
    """Propose the school a time at which ``mediator`` is free, when no mediator can take
    the times it asked for. Nothing is booked: the school accepts or declines it
    (:func:`answer_proposal`), and the coordinator offers an accepted time as any other.

    :raise InvalidInput: the time is not bookable, the mediator cannot take it then
        (the matching's hard filters, as for an offer), or it is already proposed.
    """
    _require(policy.may_coordinate(actor, request), NotAllowed())
    _lock(request)
    _require(policy.propose_allowed(request))
    _check_time(request, mediator, start, end)
    try:
        _check_mediator(actor, request, mediator, start, end)
    except SlotTaken:
        raise InvalidInput(
            _l("%(name)s cannot take it: %(reason)s.", name=mediator.user.display_name,
               reason=matching.REASONS["busy"]), field="mediator") from None
    _require(not any(p.state == ProposalState.pending and p.start_dt == start
                     and p.end_dt == end for p in request.proposals),
             InvalidInput(_l("This time has already been proposed to the school."),
                          field="start"))
    proposal = TimeProposal(request=request, mediator=mediator, start_dt=start, end_dt=end,
                            proposed_by=actor)
    db.session.add(proposal)
    db.session.flush()
    _event(request, "time.proposed", actor, proposal_id=proposal.id, mediator_id=mediator.id,
           proposed=start.isoformat())
    notifications.time_proposed(proposal)
    return proposal


def answer_proposal(actor: User, proposal: TimeProposal, accept: bool) -> None:
    """The school accepts a time the coordinator proposed (the other times proposed are
    then declined) or declines it; the coordinator who proposed it is told."""
    request = proposal.request
    _require(policy.may_answer_proposal(actor, request), NotAllowed())
    _lock(request)
    db.session.refresh(proposal)
    now = utcnow()
    if not policy.proposal_open(proposal, now):
        # Still pending, the request still open: only its time has passed.
        passed = (policy.allows(request, "answer_proposal")
                  and proposal.state == ProposalState.pending)
        raise InvalidTransition(_l("This time is in the past.") if passed else None)
    answered = [proposal]
    if accept:
        answered += [p for p in request.proposals
                     if p.id != proposal.id and p.state == ProposalState.pending]
    for each in answered:
        each.state = (ProposalState.accepted if accept and each is proposal
                      else ProposalState.declined)
        each.answered_by = actor
        each.answered_dt = now
    _event(request, "time.accepted" if accept else "time.declined", actor,
           proposal_id=proposal.id, proposed=proposal.start_dt.isoformat())
    notifications.proposal_answered(proposal)


def approve_log(actor: User, log: SessionLog, macro_action: MacroAction | None = None,
                action: Action | None = None) -> None:
    """Approve a session log (possibly counting it against another action); closes the request."""
    request = log.assignment.request
    _require(policy.may_coordinate(actor, request), NotAllowed())
    _lock(request)
    _require(policy.review_allowed(log))
    if log.actual_start_dt is not None and log.actual_end_dt is not None:
        # Logged before these checks existed, or through another way in: not counted.
        problem = logged_time_problem(request, log.assignment, log.actual_start_dt,
                                      log.actual_end_dt)
        if problem is not None:
            raise InvalidInput(
                _l("This log cannot be approved: %(problem)s Send it back to the mediator.",
                   problem=problem[1]), field="log")
    if macro_action is not None:
        _require(macro_action.project_id == request.project_id, NotAllowed())
        if macro_action.id != log.macro_action_id:
            log.macro_action = macro_action
            log.action = None
    counted = macro_action or log.macro_action
    if action is not None:
        _require(action.macro_action_id == counted.id, InvalidInput(
            _l("This action belongs to another macro-action."), field="action"))
        log.action = action
    # A session of a closed period is not approved *there*: it becomes an adjustment of
    # that period, counted now (policy.adjustment_of). The shared lock waits for a period
    # being closed.
    periods.lock(shared=True)
    adjusted = policy.adjustment_of(in_rome(log.counted_dt).date(),
                                    periods.closed_for_school(request.school.ambito_id))
    log.state = LogState.approved
    log.approved_by_id = actor.id
    log.approved_dt = utcnow()
    log.adjusted_period_id = adjusted.id if adjusted is not None else None
    request.state = RequestState.closed
    _event(request, "session.approved", actor, log_id=log.id,
           **({"adjusted_period_id": adjusted.id} if adjusted is not None else {}))


def return_log(actor: User, log: SessionLog, comment: str) -> None:
    """Send a log back to the mediator with a comment."""
    request = log.assignment.request
    _require(policy.may_coordinate(actor, request), NotAllowed())
    if not comment.strip():
        raise InvalidInput(_l("Tell the mediator what to correct."), field="comment")
    _lock(request)
    _require(policy.review_allowed(log))
    log.state = LogState.returned
    log.review_comment = comment.strip()
    _event(request, "session.returned", actor, log_id=log.id)
    notifications.log_returned(log)


# --- the school's attestation of a logged session ----------------------------

#: The longest reason for disputing a session (the column's size).
MAX_DISPUTE_REASON = 1000


def _answer(actor: User, log: SessionLog, outcome: AttestationOutcome,
            reason: str | None) -> SessionAttestation:
    """Write the school's answer on the log's one attestation, and its audit event
    (``session.attested`` or ``session.disputed``, with the answer it replaces)."""
    request = log.assignment.request
    attestation = log.attestation
    previous = attestation.outcome.value if attestation is not None else None
    if attestation is None:
        attestation = SessionAttestation(log=log)
        db.session.add(attestation)
    attestation.outcome = outcome
    attestation.reason = reason
    attestation.by = actor
    attestation.at = utcnow()
    db.session.flush()
    _event(request, f"session.{outcome.value}", actor, log_id=log.id, previous=previous)
    return attestation


def _reload_attestation(log: SessionLog) -> None:
    """Read the log's attestation again once the request is locked: another answer may
    have been committed since the page was read."""
    db.session.refresh(log, ["attestation"])


def attest_session(actor: User, log: SessionLog) -> SessionAttestation:
    """The requesting teacher or a school lead confirms that the logged session took
    place (or, having disputed it, now confirms it: the dispute is resolved)."""
    request = log.assignment.request
    _require(policy.may_attest(actor, request), NotAllowed())
    _lock(request)
    _reload_attestation(log)
    _require(policy.attest_allowed(log))
    return _answer(actor, log, AttestationOutcome.attested, None)


def dispute_session(actor: User, log: SessionLog, reason: str) -> SessionAttestation:
    """The requesting teacher or a school lead disputes the logged session, saying why;
    the coordinator finds it among the disputed sessions of the queue.

    :raise InvalidInput: no reason, or a longer one than the column holds (``reason``).
    """
    request = log.assignment.request
    _require(policy.may_attest(actor, request), NotAllowed())
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_l("Say what did not happen as logged."), field="reason")
    if len(reason) > MAX_DISPUTE_REASON:
        raise InvalidInput(_l("At most %(max)d characters.", max=MAX_DISPUTE_REASON),
                           field="reason")
    _lock(request)
    _reload_attestation(log)
    _require(policy.dispute_allowed(log))
    return _answer(actor, log, AttestationOutcome.disputed, reason)


def _optional_text(value: str | None, limit: int, field: str) -> str | None:
    """What a person typed in an optional free-text field, stripped (None if empty).

    :raise InvalidInput: longer than ``limit`` (on ``field``).
    """
    value = (value or "").strip() or None
    if value is not None and len(value) > limit:
        raise InvalidInput(_l("At most %(max)d characters.", max=limit), field=field)
    return value


def _add_once(row) -> None:
    """Add a row a unique constraint keeps single: the same row written at the same
    moment by someone else is an InvalidTransition (the page says it changed)."""
    db.session.add(row)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:
        raise InvalidTransition() from error


# --- the mediator did not come: the school reports a no-show --------------------------

MAX_NO_SHOW_NOTE = 1000


def report_mediator_no_show(actor: User, request: MediationRequest, note: str | None = None,
                            now: datetime | None = None) -> MediatorNoShow:
    """The requesting teacher or a school lead reports that the mediator of the confirmed
    appointment did not come. Recorded once per appointment, audited, and emailed to the
    coordinators of the school's Ambito; the request stays confirmed: the coordinator
    decides (cancel, reassign, or approve a log the mediator writes after all, with the
    report beside it).

    :raise InvalidInput: a note longer than ``MAX_NO_SHOW_NOTE`` (``note``).
    """
    _require(policy.may_report_no_show(actor, request), NotAllowed())
    now = now or utcnow()
    note = _optional_text(note, MAX_NO_SHOW_NOTE, "note")
    _lock(request)
    active = policy.active_assignment(request)
    if active is not None:  # a log or a report committed since the page was read
        db.session.refresh(active, ["no_show", "session_log"])
    _require(policy.no_show_allowed(request, now))
    report = MediatorNoShow(assignment=active, request_id=request.id,
                            mediator_id=active.mediator_id, reported_by=actor,
                            reported_dt=now, note=note)
    _add_once(report)  # a second report at the same moment: InvalidTransition
    _event(request, "request.no_show_reported", actor, assignment_id=active.id,
           mediator_id=active.mediator_id)
    notifications.mediator_no_show(report)
    return report


# --- feedback after a held session (issue #19) -------------------------------------

#: The longest comment of a feedback (the column's size).
MAX_FEEDBACK_COMMENT = 500


def give_feedback(actor: User, log: SessionLog, rating, comment: str | None = None,
                  now: datetime | None = None) -> SessionFeedback:
    """The requesting teacher answers "was the mediation useful?", the mediator who held
    the session "how was the organisation?": a rating from 1 to 5 and an optional
    comment, once per side (``policy.feedback_side`` says whose question it is).

    :raise NotAllowed: neither the requester nor the mediator who held it.
    :raise InvalidInput: no rating, one outside 1-5 (``rating``), a comment too long
        (``comment``).
    :raise InvalidTransition: not a held session, its log sent back, already answered,
        or past ``policy.FEEDBACK_WINDOW``.
    """
    now = now or utcnow()
    side = policy.feedback_side(actor, log)
    _require(side is not None, NotAllowed())
    try:
        value = int(rating)
    except (TypeError, ValueError):
        value = None
    if value is None or not 1 <= value <= 5:
        raise InvalidInput(_l("Choose a rating from 1 to 5."), field="rating")
    comment = _optional_text(comment, MAX_FEEDBACK_COMMENT, "comment")
    request = _lock(log.assignment.request)
    db.session.refresh(log, ["feedback"])
    _require(policy.feedback_allowed(log, side, now))
    feedback = SessionFeedback(log=log, side=side, rating=value, comment=comment,
                               by=actor, at=now)
    _add_once(feedback)  # the same side answering at the same moment: InvalidTransition
    # The rating is no personal data; the comment stays on the row (purged).
    _event(request, "session.feedback", actor, log_id=log.id, side=side.value,
           rating=value)
    return feedback


# --- offers to several mediators, the first to accept wins (issue #19) ------------


class InvitationClosed(InvalidTransition):
    """The invitation can no longer be accepted: ``code`` is a key of
    ``policy.INVITATION_REFUSALS`` ("taken" by another mediator, or "withdrawn")."""

    def __init__(self, code: str):
        super().__init__(policy.INVITATION_REFUSALS[code])
        self.code = code


def broadcast_offer(actor: User, request: MediationRequest,
                    tiers: list[list[MediatorProfile]], start: datetime | None = None,
                    end: datetime | None = None,
                    tier_delay: timedelta = timedelta(0)) -> OfferBroadcast:
    """Offer an open request, for one time, to several mediators at once: ``tiers[0]``
    now, each further tier ``tier_delay`` after the previous one if nobody has accepted
    (``flask broadcasts send`` sends them). Nothing is booked: the first to accept gets
    the appointment (:func:`accept_invitation`).

    :raise InvalidInput: the time is not bookable, fewer than two or more than
        ``policy.MAX_INVITED`` mediators, a mediator twice, a later tier without a
        delay, or a mediator who cannot take it now (``mediators``).
    """
    _require(policy.may_coordinate(actor, request), NotAllowed())
    _lock(request)
    _require(policy.broadcast_allowed(request))
    tiers = [list(tier) for tier in tiers if tier]
    everyone = [m for tier in tiers for m in tier]
    if len(everyone) < 2:
        raise InvalidInput(_l("Choose at least two mediators."), field="mediators")
    if len(everyone) > policy.MAX_INVITED:
        raise InvalidInput(_l("Choose at most %(max)d mediators.", max=policy.MAX_INVITED),
                           field="mediators")
    if len({m.id for m in everyone}) != len(everyone):
        raise InvalidInput(_l("A mediator is chosen twice."), field="mediators")
    if len(tiers) > 1 and tier_delay <= timedelta(0):
        raise InvalidInput(_l("Say how long to wait before the next mediators are asked."),
                           field="delay_hours")
    _check_time(request, None, start, end)
    for mediator in everyone:
        _check_mediator(actor, request, mediator, start, end)
    now = utcnow()
    is_translation = request.type.kind == RequestKind.deadline
    broadcast = OfferBroadcast(
        request=request, created_by=actor,
        start_dt=None if is_translation else start, end_dt=None if is_translation else end,
        tier_delay_minutes=int(tier_delay.total_seconds() // 60),
        next_tier_dt=now + tier_delay if len(tiers) > 1 else None)
    db.session.add(broadcast)
    position = 0
    for number, tier in enumerate(tiers, start=1):
        for mediator in tier:
            position += 1
            broadcast.invitations.append(BroadcastInvitation(
                mediator=mediator, tier=number, position=position,
                state=InvitationState.sent if number == 1 else InvitationState.waiting,
                sent_dt=now if number == 1 else None))
    db.session.flush()
    _event(request, "broadcast.sent", actor, broadcast_id=broadcast.id,
           mediator_ids=[m.id for m in tiers[0]], tiers=len(tiers))
    notifications.invited([i for i in broadcast.invitations if i.tier == 1])
    return broadcast


def send_next_tier(broadcast: OfferBroadcast, now: datetime) -> list[BroadcastInvitation]:
    """Send the broadcast's next waiting tier, if it is due and nobody has accepted.

    The tier is claimed with a conditional UPDATE on ``next_tier_dt``, so that two runs
    of ``flask broadcasts send`` at the same moment send it once; the request is locked
    first, as an acceptance locks it, so that a tier never goes out after an acceptance
    committed."""
    request = _lock(broadcast.request)
    due = broadcast.next_tier_dt
    if due is None or due > now:
        return []
    waiting = sorted({i.tier for i in broadcast.invitations
                      if i.state == InvitationState.waiting})
    later = waiting[1] if len(waiting) > 1 else None
    claimed = db.session.execute(
        sa.update(OfferBroadcast)
        .where(OfferBroadcast.id == broadcast.id, OfferBroadcast.state == BroadcastState.open,
               OfferBroadcast.next_tier_dt == due)
        .values(next_tier_dt=(now + timedelta(minutes=broadcast.tier_delay_minutes)
                              if later is not None else None))
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    db.session.expire(broadcast)
    if not claimed or not waiting or not policy.allows(request, "accept_invitation"):
        return []
    sent = [i for i in broadcast.invitations
            if i.state == InvitationState.waiting and i.tier == waiting[0]]
    for invitation in sent:
        invitation.state = InvitationState.sent
        invitation.sent_dt = now
    db.session.flush()
    record("broadcast.tier_sent", request, None, broadcast_id=broadcast.id, tier=waiting[0],
           mediator_ids=[i.mediator_id for i in sent])
    notifications.invited(sent)
    return sent


def _withdraw_broadcast(actor: User, request: MediationRequest) -> None:
    """Close the request's open broadcast, if any: the invitations sent are withdrawn and
    their mediators told; those still waiting for their tier are dropped."""
    broadcast = request.open_broadcast
    if broadcast is None:
        return
    broadcast.state = BroadcastState.withdrawn
    broadcast.closed_dt = utcnow()
    broadcast.next_tier_dt = None
    told = []
    for invitation in broadcast.invitations:
        if invitation.state in (InvitationState.waiting, InvitationState.sent):
            if invitation.state == InvitationState.sent:
                told.append(invitation)
            invitation.state = InvitationState.withdrawn
    _event(request, "broadcast.withdrawn", actor, broadcast_id=broadcast.id)
    notifications.invitations_closed(told, taken=False)


def withdraw_broadcast(actor: User, request: MediationRequest) -> None:
    """The coordinator calls back a broadcast nobody has accepted: the request stays open."""
    _require(policy.may_coordinate(actor, request), NotAllowed())
    _lock(request)
    _require(policy.withdraw_broadcast_allowed(request))
    _withdraw_broadcast(actor, request)


def _answerable(actor: User, invitation: BroadcastInvitation) -> MediationRequest:
    """Lock the invitation's request and read its broadcast and invitation again: the
    request, if the invitation can still be answered (else ``InvitationClosed``)."""
    _require(policy.invited(actor, invitation), NotAllowed())
    request = _lock(invitation.broadcast.request)
    db.session.refresh(invitation.broadcast)
    db.session.refresh(invitation)
    refusal = policy.invitation_refusal(invitation)
    if refusal is not None:
        raise InvitationClosed(refusal)
    return request


def accept_invitation(actor: User, invitation: BroadcastInvitation) -> Assignment:
    """The invited mediator takes the request: the first to accept gets the appointment.

    Serialised on the request's row (the acceptances of one broadcast wait for each
    other), then on the mediator's (``locks.py``): every rule of a booking is checked
    against what is committed. The broadcast is closed by a conditional UPDATE (one
    winner, whatever happens), the other invitations withdrawn and their mediators told.

    :raise InvitationClosed: another mediator was first ("taken"), or the broadcast was
        withdrawn.
    :raise InvalidInput: this mediator can no longer take it (booked meanwhile, absent,
        over their weekly hours, no time to travel, the time passed): the broadcast stays
        open to the others.
    """
    request = _answerable(actor, invitation)
    broadcast = invitation.broadcast
    mediator = invitation.mediator
    lock_mediators(mediator)
    start, end = broadcast.start_dt, broadcast.end_dt
    if request.type.kind == RequestKind.slot:
        try:
            _check_time(request, mediator, start, end)
        except InvalidInput as error:
            raise InvalidInput(error.message, field="invitation") from None
    standing = matching.check(request, broadcast.created_by, mediator, start, end)
    if standing is None or standing.reason is not None:
        reason = matching.REASONS[standing.reason] if standing is not None else ""
        raise InvalidInput(_l("You can no longer take it: %(reason)s. The offer stays open "
                              "to the other mediators.", reason=reason), field="invitation")
    now = utcnow()
    won = db.session.execute(
        sa.update(OfferBroadcast)
        .where(OfferBroadcast.id == broadcast.id, OfferBroadcast.state == BroadcastState.open)
        .values(state=BroadcastState.taken, closed_dt=now, next_tier_dt=None)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if not won:
        raise InvitationClosed("taken")
    db.session.expire(broadcast)
    invitation.state = InvitationState.accepted
    invitation.answered_dt = now
    others = [i for i in broadcast.invitations if i.id != invitation.id
              and i.state in (InvitationState.waiting, InvitationState.sent)]
    told = [i for i in others if i.state == InvitationState.sent]
    for other in others:
        other.state = InvitationState.withdrawn
    is_translation = request.type.kind == RequestKind.deadline
    assignment = Assignment(
        request=request, mediator=mediator, state=AssignmentState.accepted,
        start_dt=None if is_translation else start, end_dt=None if is_translation else end,
        deadline_dt=request.deadline_dt if is_translation else None,
        offered_by=broadcast.created_by, offered_dt=invitation.sent_dt, responded_dt=now)
    db.session.add(assignment)
    request.state = RequestState.confirmed
    _flush_assignment()
    _event(request, "assignment.accepted", actor, assignment_id=assignment.id,
           broadcast_id=broadcast.id, mediator_id=mediator.id)
    notifications.confirmed(assignment)
    notifications.invitations_closed(told, taken=True)
    notifications.broadcast_taken(assignment)
    return assignment


def decline_invitation(actor: User, invitation: BroadcastInvitation) -> None:
    """The invited mediator says no: the invitation can no longer be accepted (withdrawn,
    with the answer's time: ``BroadcastInvitation.declined``) and the broadcast stays open
    to the others. When every mediator of the tiers sent so far has declined, the
    coordinators of the Ambito are told (once, at the last of them).

    :raise InvitationClosed: it is already taken, withdrawn or declined.
    """
    request = _answerable(actor, invitation)
    broadcast = invitation.broadcast
    invitation.state = InvitationState.withdrawn
    invitation.answered_dt = utcnow()
    db.session.flush()
    _event(request, "broadcast.declined", actor, broadcast_id=broadcast.id,
           mediator_id=invitation.mediator_id)
    if policy.all_declined(broadcast):
        notifications.broadcast_declined(broadcast)


# --- mediators -------------------------------------------------------------


def accept(actor: User, assignment: Assignment) -> None:
    """The mediator takes the offer; the school is told who is coming."""
    _require(policy.holds(actor, assignment), NotAllowed())
    request = _lock(assignment.request)
    db.session.refresh(assignment)
    _require(policy.answer_allowed(assignment))
    assignment.state = AssignmentState.accepted
    assignment.responded_dt = utcnow()
    request.state = RequestState.confirmed
    _event(request, "assignment.accepted", actor, assignment_id=assignment.id)
    notifications.confirmed(assignment)


def decline(actor: User, assignment: Assignment, reason: str,
            proposed_start: datetime | None = None) -> None:
    """The mediator turns the offer down, optionally proposing another time."""
    _require(policy.holds(actor, assignment), NotAllowed())
    if not reason.strip():
        raise InvalidInput(_l("Say why you decline."), field="reason")
    request = _lock(assignment.request)
    db.session.refresh(assignment)
    _require(policy.answer_allowed(assignment))
    if proposed_start is not None and proposed_start < utcnow():
        raise InvalidInput(_l("This time is in the past."), field="proposed_start")
    assignment.state = AssignmentState.declined
    assignment.responded_dt = utcnow()
    assignment.decline_reason = reason.strip()
    assignment.proposed_start_dt = proposed_start
    request.state = RequestState.open
    _event(request, "assignment.declined", actor, assignment_id=assignment.id,
           proposed=proposed_start.isoformat() if proposed_start else None)
    notifications.declined(assignment)


#: How far, in days of the calendar in Rome, a logged meeting may be from the day it was
#: booked for: a meeting moved to the day before or after (the family could not come,
#: the school swapped days) is still that meeting; anything further is another meeting,
#: to be booked as such (so that availability, overlaps, the weekly cap and the
#: project's period are checked). Days in Rome rather than 24 hours: a meeting booked
#: at 8:00 and held the previous evening at 18:00 is one day earlier, as the person
#: sees it, and so is one booked at 18:00 and held the next day at 8:00.
LOG_DAYS_AROUND = 1
#: The longest session that can be logged: a school day. A booked meeting starts and
#: ends on the same day; a longer log is a typing error (17:00 for 07:00...).
MAX_LOGGED_SESSION = timedelta(hours=8)


def logged_time_problem(request: MediationRequest, assignment: Assignment,
                        start: datetime, end: datetime) -> tuple[str, object] | None:
    """Why a meeting cannot be logged from ``start`` to ``end``, as (field, message), or None.

    The field is ``actual_date`` (the day of the start) or ``actual_end``. A log counts
    against the request's project on the day it started: that day must lie within the
    project's period (extensions included, rule 4 of docs/design.md), and within
    ``LOG_DAYS_AROUND`` days of the appointment booked.
    """
    day = in_rome(start).date()
    project = request.project
    if not project.covers(day):
        return "actual_date", _l(
            "The session must take place within the period of its project, %(project)s:"
            " from %(first)s to %(last)s.", project=project.title,
            first=format_date(project.start_date, "short"),
            last=format_date(project.effective_end_date, "short"))
    if assignment.start_dt is not None:
        booked = in_rome(assignment.start_dt).date()
        if abs((day - booked).days) > LOG_DAYS_AROUND:
            return "actual_date", _l(
                "The session was booked for %(date)s: log it on that day, the day before or"
                " the day after. A meeting held on another day must be booked again.",
                date=format_date(booked, "long"))
    if end - start > MAX_LOGGED_SESSION:
        return "actual_end", _l("A session lasts at most %(hours)d hours: check the times.",
                                hours=MAX_LOGGED_SESSION.seconds // 3600)
    return None


def log_session(actor: User, assignment: Assignment, data: LogInput) -> SessionLog:
    """Log what happened, once the session has started (or a returned log, corrected).

    The log counts against the request type's default macro-action and action
    in the request's project; the coordinator can change them when approving.

    :raise InvalidInput: a meeting's times are missing, in the future, outside its
        project's period or too far from the day booked (``actual_date``: the day of
        the start), or too long (see :func:`logged_time_problem`); a translation comes
        without its document (``document``) and none was delivered before.
    """
    _require(policy.holds(actor, assignment), NotAllowed())
    request = _lock(assignment.request)
    now = utcnow()
    refusal = policy.log_refusal(assignment, now)
    _require(refusal is None, InvalidTransition(
        policy.LOG_REFUSALS[refusal] if refusal == "not_started" else None))
    existing = assignment.session_log
    if request.type.kind == RequestKind.slot:
        if data.actual_start is None or data.actual_end is None:
            raise InvalidInput(_l("Give the start and end of the session."), field="actual_start")
        if data.actual_end <= data.actual_start:
            raise InvalidInput(_l("The end must come after the start."), field="actual_end")
        if data.actual_start > now:
            raise InvalidInput(_l("This time is in the future."), field="actual_start")
        problem = logged_time_problem(request, assignment, data.actual_start, data.actual_end)
        if problem is not None:
            raise InvalidInput(problem[1], field=problem[0])
    elif data.delivered_document is None and (
        existing is None or existing.delivered_document_id is None
    ):
        # A translation is delivered with its file (a corrected log may keep the one sent).
        raise InvalidInput(_l("Attach the translated document."), field="document")
    if existing is None:
        macro, action = default_counting(request)
        log = SessionLog(macro_action=macro, action=action)
        db.session.add(log)
        log.assignment = assignment
    else:
        log = existing
    log.actual_start_dt, log.actual_end_dt = data.actual_start, data.actual_end
    log.pupils_met, log.parents_met = data.pupils_met, data.parents_met
    log.teachers_met = data.teachers_met
    log.outcome = data.outcome
    log.summary = (data.summary or "").strip() or None
    log.follow_up_needed = data.follow_up_needed
    log.pages, log.words = data.pages, data.words
    if data.delivered_document is not None:
        log.delivered_document = data.delivered_document
    log.state = LogState.submitted
    log.review_comment = None
    request.state = RequestState.logged
    db.session.flush()
    _event(request, "session.logged", actor, log_id=log.id, outcome=data.outcome.value)
    if request.type.kind == RequestKind.deadline:
        notifications.translation_delivered(log)
    elif existing is None:  # a corrected log is the same session: asked once
        # A translation's requester is told by the delivery email, which asks for it.
        notifications.attestation_requested(log)
    return log


def default_counting(request: MediationRequest) -> tuple[MacroAction, Action | None]:
    """The macro-action and action a request's type counts against in its project."""
    macro = db.session.scalar(
        sa.select(MacroAction).where(
            MacroAction.project_id == request.project_id,
            MacroAction.number == request.type.default_macro_action_number,
        )
    )
    if macro is None:  # a project without that macro-action: count against the first
        macro = db.session.scalar(
            sa.select(MacroAction).where(MacroAction.project_id == request.project_id)
            .order_by(MacroAction.number)
        )
    _require(macro is not None, InvalidTransition(
        _l("The request's project has no macro-action to count this session against.")))
    action = None
    if request.type.default_action_code:
        action = db.session.scalar(
            sa.select(Action).where(Action.macro_action_id == macro.id,
                                    Action.code == request.type.default_action_code)
        )
    return macro, action

