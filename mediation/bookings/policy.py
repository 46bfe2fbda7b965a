"""Who may do what to a request, in which state: the request lifecycle's one home.

Every action on a request asks two questions, kept apart because a refusal answers them
differently:

- *may* this user act on this object at all? (``may_*``) A "no" means the object is none
  of their business: the operation raises ``NotAllowed`` (a 404, as for an object of
  another school or Ambito);
- does the object's state allow the action *now*? (``TRANSITIONS`` and the ``*_allowed``
  predicates) A "no" means it was possible and is no longer: ``InvalidTransition`` (409).

``can_*`` asks both. The operations (``bookings/operations.py``) enforce each question
through this module after locking the request; the request page is handed one
:class:`RequestActions` built by :func:`actions`, so that no view or template decides a
rule by itself. ``tests/bookings/test_policy.py`` checks, for every role, state and action, that
this module, the operation and the page agree.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l

from ..models import (
    ACTIVE_ASSIGNMENT_STATES,
    Assignment,
    AssignmentState,
    AttestationOutcome,
    BroadcastInvitation,
    BroadcastState,
    FamilyInvitation,
    FeedbackSide,
    InvitationState,
    LogState,
    MediationRequest,
    Mode,
    OfferBroadcast,
    Outcome,
    ProposalState,
    ReportingPeriod,
    RequestKind,
    RequestState,
    Role,
    SessionFeedback,
    SessionLog,
    TimeProposal,
    User,
)

S = RequestState

#: The request's state diagram: for each state, the actions it allows and the state each
#: leads to (docs/design.md draws it). A state with no entry is final.
TRANSITIONS: dict[RequestState, dict[str, RequestState]] = {
    S.awaiting_approval: {"approve": S.open, "reject": S.rejected, "cancel": S.cancelled,
                          "move": S.awaiting_approval},
    S.open: {"offer": S.offered, "mark_unfilled": S.unfilled, "cancel": S.cancelled,
             "propose_time": S.open, "answer_proposal": S.open, "move": S.open,
             # Offered to several mediators at once: nothing is booked, the request stays
             # open until the first of them accepts (issue #19).
             "broadcast": S.open, "accept_invitation": S.confirmed},
    S.offered: {"accept": S.confirmed, "decline": S.open, "reassign": S.offered,
                "cancel": S.cancelled, "move": S.offered},
    # Moving a confirmed week offers the new time to its mediator, who confirms it again.
    # The school's report that the mediator did not come changes no state: the coordinator
    # decides (cancel, reassign, or approve a log written after all).
    S.confirmed: {"log": S.logged, "reassign": S.offered, "cancel": S.cancelled,
                  "move": S.offered, "report_no_show": S.confirmed},
    S.logged: {"approve_log": S.closed, "return_log": S.logged, "log": S.logged},
}

#: The audit events that record a change of a request's state, and the state each leads
#: to (None: the event says it, ``request.submitted``'s initial state). Every such event
#: also carries the new state in its data (``state``, since issue #18); this table reads
#: the events written before. Reporting counts a request in the state of its last such
#: event before the end of a period (``reporting/aggregates.py``); the other events of a
#: request (a document, a time proposed, a log sent back) change no state.
AUDITED_STATES: dict[str, RequestState | None] = {
    "request.submitted": None,
    "request.approved": S.open,
    "request.rejected": S.rejected,
    "request.cancelled": S.cancelled,
    "request.unfilled": S.unfilled,
    "assignment.offered": S.offered,
    "assignment.accepted": S.confirmed,
    "assignment.declined": S.open,
    "session.logged": S.logged,
    "session.approved": S.closed,
}

#: Every action of the lifecycle, in the order the diagram names them.
ACTIONS = tuple(dict.fromkeys(a for moves in TRANSITIONS.values() for a in moves))

#: States from which a request can still be cancelled (anything before "logged").
CANCELLABLE = frozenset(state for state, moves in TRANSITIONS.items() if "cancel" in moves)

#: States of a request still waiting for its first offer: the school's approval, then an
#: offer (reporting ages the requests not offered by the end of a period in these states).
WAITING_FOR_AN_OFFER = frozenset(
    state for state, moves in TRANSITIONS.items()
    if "offer" in moves or moves.get("approve") == S.open)

#: States of a request whose logged session the school can attest or dispute: once the
#: mediator has logged it, whatever the coordinator's review (attestation and approval
#: are independent: docs/design.md, "The school's attestation").
ATTESTABLE = frozenset({S.logged, S.closed})

#: A cancellation closer than this to the meeting's start is recorded as late.
LATE_CANCELLATION = timedelta(hours=24)


def allows(request: MediationRequest, action: str) -> bool:
    """Whether the request's state allows ``action`` (the state diagram alone)."""
    return action in TRANSITIONS.get(request.state, {})


# --- who: the parties to a request --------------------------------------------


def in_school(user: User, request: MediationRequest) -> bool:
    """A teacher or the lead of the school that asked."""
    return user.role in (Role.teacher, Role.lead) and user.school_id == request.school_id


def leads_school(user: User, request: MediationRequest) -> bool:
    return user.role == Role.lead and user.school_id == request.school_id


def coordinates(user: User, request: MediationRequest) -> bool:
    """The coordinator of the school's Ambito, or the regional admin."""
    if user.role == Role.admin:
        return True
    return user.role == Role.coordinator and user.ambito_id == request.school.ambito_id


def holds(user: User, assignment: Assignment) -> bool:
    """The mediator the assignment is (or was) for."""
    return user.role == Role.mediator and assignment.mediator.user_id == user.id


# --- facts about a request that several rules read ------------------------------


def active_assignment(request: MediationRequest) -> Assignment | None:
    """The offered or accepted assignment among the request's (loaded) assignments."""
    return next((a for a in request.assignments if a.state in ACTIVE_ASSIGNMENT_STATES), None)


def meeting_start(request: MediationRequest,
                  active: Assignment | None = None) -> datetime | None:
    """When the meeting starts: the active assignment's time, else the first time asked
    for; None for a translation."""
    active = active if active is not None else active_assignment(request)
    if active is not None and active.start_dt is not None:
        return active.start_dt
    return request.slots[0].start_dt if request.slots else None


def is_late(request: MediationRequest, now: datetime,
            active: Assignment | None = None) -> bool:
    """Whether cancelling now is a late cancellation (less than 24 hours before the
    meeting, or after its start)."""
    start = meeting_start(request, active)
    return start is not None and start - now < LATE_CANCELLATION


# --- the school ----------------------------------------------------------------


def may_approve(user: User, request: MediationRequest) -> bool:
    """Approving or rejecting: the school's lead."""
    return leads_school(user, request)


def can_approve(user: User, request: MediationRequest) -> bool:
    return may_approve(user, request) and allows(request, "approve")


def may_cancel(user: User, request: MediationRequest) -> bool:
    """Cancelling: the school (teachers and lead) and its coordinators."""
    return in_school(user, request) or coordinates(user, request)


def can_cancel(user: User, request: MediationRequest) -> bool:
    return may_cancel(user, request) and allows(request, "cancel")


def may_answer_proposal(user: User, request: MediationRequest) -> bool:
    return in_school(user, request)


def proposal_open(proposal: TimeProposal, now: datetime) -> bool:
    """A proposed time the school can still accept or decline."""
    return (allows(proposal.request, "answer_proposal")
            and proposal.state == ProposalState.pending and proposal.start_dt > now)


def can_answer_proposal(user: User, proposal: TimeProposal, now: datetime) -> bool:
    return may_answer_proposal(user, proposal.request) and proposal_open(proposal, now)


def sees_proposals(user: User, request: MediationRequest) -> bool:
    """The times proposed to the school concern the school and its coordinators."""
    return in_school(user, request) or coordinates(user, request)


def may_attest(user: User, request: MediationRequest) -> bool:
    """Attesting or disputing a logged session: the teacher who asked, or a lead of the
    school (not another teacher of the school)."""
    return in_school(user, request) and (
        user.role == Role.lead or user.id == request.requester_id)


def _attestable(log: SessionLog) -> bool:
    return log.assignment.request.state in ATTESTABLE


def attest_allowed(log: SessionLog) -> bool:
    """The school can confirm a logged session not answered yet, or one it disputed (the
    dispute resolved: confirming replaces it, the audit trail keeps both)."""
    attestation = log.attestation
    return _attestable(log) and (
        attestation is None or attestation.outcome == AttestationOutcome.disputed)


def dispute_allowed(log: SessionLog) -> bool:
    """The school can dispute a logged session it has not answered yet (a confirmation
    is final; a dispute stands until the school confirms)."""
    return _attestable(log) and log.attestation is None


def can_attest(user: User, log: SessionLog) -> bool:
    return may_attest(user, log.assignment.request) and attest_allowed(log)


def can_dispute(user: User, log: SessionLog) -> bool:
    return may_attest(user, log.assignment.request) and dispute_allowed(log)


# --- feedback after a held session (issue #19) -----------------------------------

#: How long after the session its feedback may be given: a question answered while the
#: session is remembered (and within a reporting quarter's reach), then closed.
FEEDBACK_WINDOW = timedelta(days=30)


def feedback_side(user: User, log: SessionLog) -> FeedbackSide | None:
    """Whose question ``user`` answers about ``log``: the school's (the teacher who asked:
    they met the family and know whether it helped; not a lead or another teacher, who
    were not there) or the mediator's (who held it); None for anyone else."""
    request = log.assignment.request
    if user.role in (Role.teacher, Role.lead) and user.id == request.requester_id \
            and user.school_id == request.school_id:
        return FeedbackSide.school
    if holds(user, log.assignment):
        return FeedbackSide.mediator
    return None


def sees_feedback(user: User, request: MediationRequest) -> bool:
    """The answers about a session, comments included, are read by the coordinators of
    its school's Ambito and the admin (the comment's help text says so); the school and
    the mediator each see only their own answer."""
    return coordinates(user, request)


def may_give_feedback(user: User, log: SessionLog) -> bool:
    return feedback_side(user, log) is not None


def given_feedback(log: SessionLog, side: FeedbackSide) -> SessionFeedback | None:
    """The answer of ``side`` about ``log`` (its loaded rows), or None."""
    return next((f for f in log.feedback if f.side == side), None)


def feedback_allowed(log: SessionLog, side: FeedbackSide, now: datetime) -> bool:
    """A session held (outcome held; a translation delivered counts too), its log sent or
    approved (not one sent back for correction: its facts may change), not answered yet
    by this side, within :data:`FEEDBACK_WINDOW` of when it counts (its start, or a
    translation's deadline; the log's time if later)."""
    counted = max(log.counted_dt, log.created_dt) if log.created_dt else log.counted_dt
    return (log.outcome == Outcome.held
            and log.state in (LogState.submitted, LogState.approved)
            and given_feedback(log, side) is None
            and now - counted <= FEEDBACK_WINDOW)


def can_give_feedback(user: User, log: SessionLog, now: datetime) -> bool:
    side = feedback_side(user, log)
    return side is not None and feedback_allowed(log, side, now)


# --- the coordinator -----------------------------------------------------------


def may_coordinate(user: User, request: MediationRequest) -> bool:
    """Offering, reassigning, marking unfilled, proposing times, reviewing logs."""
    return coordinates(user, request)


def can_offer(user: User, request: MediationRequest) -> bool:
    return may_coordinate(user, request) and allows(request, "offer")


def reassign_allowed(request: MediationRequest) -> bool:
    return allows(request, "reassign") and active_assignment(request) is not None


def can_reassign(user: User, request: MediationRequest) -> bool:
    return may_coordinate(user, request) and reassign_allowed(request)


def can_mark_unfilled(user: User, request: MediationRequest) -> bool:
    return may_coordinate(user, request) and allows(request, "mark_unfilled")


def propose_allowed(request: MediationRequest) -> bool:
    """Another time can be proposed for a meeting, not for a translation's deadline."""
    return allows(request, "propose_time") and request.type.kind == RequestKind.slot


def review_allowed(log: SessionLog) -> bool:
    """A log waiting for the coordinator: approve it or send it back."""
    return (log.state == LogState.submitted
            and allows(log.assignment.request, "approve_log"))


def can_review(user: User, log: SessionLog) -> bool:
    return may_coordinate(user, log.assignment.request) and review_allowed(log)


# --- offers to several mediators, the first to accept wins (issue #19) -----------

#: The most mediators one broadcast invites (every tier together).
MAX_INVITED = 12


def broadcast_allowed(request: MediationRequest) -> bool:
    """An open request can be sent to several mediators at once, unless it already is."""
    return allows(request, "broadcast") and request.open_broadcast is None


def can_broadcast(user: User, request: MediationRequest) -> bool:
    return may_coordinate(user, request) and broadcast_allowed(request)


def withdraw_broadcast_allowed(request: MediationRequest) -> bool:
    """The coordinator can call back a broadcast nobody has accepted yet."""
    return request.open_broadcast is not None


def can_withdraw_broadcast(user: User, request: MediationRequest) -> bool:
    return may_coordinate(user, request) and withdraw_broadcast_allowed(request)


def invited(user: User, invitation: BroadcastInvitation) -> bool:
    """The mediator the invitation is for, once their tier has gone out (an invitation
    never sent is nobody's business: a 404, as for another mediator's)."""
    return (user.role == Role.mediator and invitation.mediator.user_id == user.id
            and invitation.sent_dt is not None)


#: Why an invitation cannot be accepted, as the mediator reads it.
INVITATION_REFUSALS = {
    "taken": _l("Already taken: another mediator accepted this request first."),
    "withdrawn": _l("This offer has been withdrawn: the request is no longer waiting for "
                    "a mediator."),
    "declined": _l("You have declined this offer."),
}


def invitation_refusal(invitation: BroadcastInvitation) -> str | None:
    """Why ``invitation`` cannot be accepted now (a code of ``INVITATION_REFUSALS``), or
    None: it was sent, its broadcast is still open and its request still open."""
    broadcast = invitation.broadcast
    if invitation.declined:
        return "declined"
    if broadcast.state == BroadcastState.taken:
        return "taken"
    if (broadcast.state != BroadcastState.open or invitation.state != InvitationState.sent
            or not allows(broadcast.request, "accept_invitation")):
        return "withdrawn"
    return None


def can_accept_invitation(user: User, invitation: BroadcastInvitation) -> bool:
    return invited(user, invitation) and invitation_refusal(invitation) is None


def decline_invitation_allowed(invitation: BroadcastInvitation) -> bool:
    """An invitation is declined while it could be accepted (sent, its broadcast and its
    request still open)."""
    return invitation_refusal(invitation) is None


def can_decline_invitation(user: User, invitation: BroadcastInvitation) -> bool:
    return invited(user, invitation) and decline_invitation_allowed(invitation)


def all_declined(broadcast: OfferBroadcast) -> bool:
    """Every mediator of the tiers sent so far has declined (the coordinator is told)."""
    sent = [i for i in broadcast.invitations if i.sent_dt is not None]
    return bool(sent) and all(i.declined for i in sent)


def sees_freed_time(user: User, request: MediationRequest) -> bool:
    """A cancelled request's coordinators see which open requests its mediator's freed
    time could serve (``coordination.queries.freed_times``)."""
    return coordinates(user, request) and request.state == S.cancelled


# --- one week of a weekly series -----------------------------------------------


def sees_series(user: User, request: MediationRequest) -> bool:
    """A series' page (its weeks, each with its mediator and actions): the school and
    its coordinators, not the mediators (each reads only their own weeks)."""
    return in_school(user, request) or coordinates(user, request)


def may_move(user: User, request: MediationRequest) -> bool:
    """Moving one week of a series to another time: the teacher who asked, a lead of
    the school, or its coordinators (not another teacher of the school)."""
    return coordinates(user, request) or (
        in_school(user, request)
        and (user.role == Role.lead or user.id == request.requester_id))


def move_allowed(request: MediationRequest, now: datetime) -> bool:
    """A week of a series can be moved before it is logged, while its meeting is still
    ahead (one that has started is logged, or cancelled). Only a series' week: a single
    request's time is changed by the coordinator's reassignment (the offer page)."""
    start = meeting_start(request)
    return (request.series_id is not None and request.type.kind == RequestKind.slot
            and allows(request, "move") and start is not None and start > now)


def can_move(user: User, request: MediationRequest, now: datetime) -> bool:
    return may_move(user, request) and move_allowed(request, now)


@dataclass(frozen=True)
class WeekActions:
    """What ``user`` can do to one week on the series' page; the page shows exactly these
    (each week's own request page keeps every other action)."""

    cancel: bool = False
    cancel_late: bool = False
    move: bool = False
    offer: bool = False  # an open week: offered to a mediator (the offer page)
    reassign: bool = False  # given to another mediator (the offer page, coordinators)

    @property
    def any(self) -> bool:
        return self.cancel or self.move or self.offer or self.reassign


def week_actions(user: User, request: MediationRequest, now: datetime) -> WeekActions:
    """Everything ``user`` can do to the week ``request`` of a series, decided here."""
    active = active_assignment(request)
    cancel = can_cancel(user, request)
    coordinating = may_coordinate(user, request)
    return WeekActions(
        cancel=cancel,
        cancel_late=cancel and is_late(request, now, active),
        move=can_move(user, request, now),
        offer=coordinating and allows(request, "offer"),
        reassign=coordinating and reassign_allowed(request),
    )


# --- the mediator --------------------------------------------------------------


def answer_allowed(assignment: Assignment) -> bool:
    """An offer waiting for the mediator's answer (accept or decline)."""
    return (assignment.state == AssignmentState.offered
            and allows(assignment.request, "accept"))


def can_answer(user: User, assignment: Assignment) -> bool:
    return holds(user, assignment) and answer_allowed(assignment)


#: Why a session cannot be logged, as the mediator reads it.
LOG_REFUSALS = {
    "not_confirmed": _l("This appointment is not confirmed, so there is nothing to log."),
    "not_started": _l("A session can be logged only once it has started."),
    "already_logged": _l("This session has already been logged."),
}


def log_refusal(assignment: Assignment, now: datetime) -> str | None:
    """Why the session cannot be logged now (a code of ``LOG_REFUSALS``), or None.

    A session is logged by the mediator who accepted it, once it has started (a
    translation at any time); a log is written once, then corrected only when the
    coordinator sends it back.
    """
    request = assignment.request
    log = assignment.session_log
    if assignment.state != AssignmentState.accepted:
        return "not_confirmed"
    if assignment.start_dt is not None and assignment.start_dt > now:
        return "not_started"
    if log is None:
        return None if request.state == RequestState.confirmed else "not_confirmed"
    if log.state == LogState.returned and request.state == RequestState.logged:
        return None
    return "already_logged"


def can_log(user: User, assignment: Assignment, now: datetime) -> bool:
    return holds(user, assignment) and log_refusal(assignment, now) is None


def reads_summary(user: User, assignment: Assignment) -> bool:
    """A session log's summary is read by the school, the coordinator and the mediator
    who wrote it (not by the regional admin, nor by other mediators)."""
    if user.role in (Role.teacher, Role.lead, Role.coordinator):
        return True
    return holds(user, assignment)


# --- the mediator did not come: the school reports a no-show -----------------------

#: How long after the meeting's start the school may report that nobody came.
NO_SHOW_WINDOW = timedelta(days=7)


def may_report_no_show(user: User, request: MediationRequest) -> bool:
    """The teacher who asked, or a lead of the school (as for the attestation)."""
    return in_school(user, request) and (
        user.id == request.requester_id or user.role == Role.lead)


def no_show_allowed(request: MediationRequest, now: datetime) -> bool:
    """A confirmed appointment at a time, whose start has passed (until
    ``NO_SHOW_WINDOW`` after it), not logged by the mediator, not reported yet. The
    report changes no state: the coordinator decides (docs/design.md)."""
    active = active_assignment(request)
    return (allows(request, "report_no_show") and active is not None
            and active.state == AssignmentState.accepted and active.start_dt is not None
            and active.start_dt <= now < active.start_dt + NO_SHOW_WINDOW
            and active.session_log is None and active.no_show is None)


def can_report_no_show(user: User, request: MediationRequest, now: datetime) -> bool:
    return may_report_no_show(user, request) and no_show_allowed(request, now)


def sees_no_show(user: User, request: MediationRequest) -> bool:
    """A report is seen by the school, the Ambito's coordinators (and the admin), and the
    mediator it is about."""
    if in_school(user, request) or coordinates(user, request):
        return True
    return any(a.no_show is not None and holds(user, a) for a in request.assignments)


# --- reporting periods that close ---------------------------------------------------


def may_close_period(user: User, ambito_id: int | None) -> bool:
    """Closing a period of a scope (and seeing its frozen figures): the admin, for the
    region (``ambito_id`` None) or any Ambito; a coordinator, for their own Ambito."""
    if user.role == Role.admin:
        return True
    return (user.role == Role.coordinator and ambito_id is not None
            and user.ambito_id == ambito_id)


def may_see_period(user: User, period: ReportingPeriod) -> bool:
    return may_close_period(user, period.ambito_id)


def may_reopen_period(user: User, period: ReportingPeriod) -> bool:
    """Reopening is the admin's act (with a reason), for a period closed now."""
    return user.role == Role.admin and period.closed


#: Why a period cannot be closed, as the person closing it reads it.
CLOSE_REFUSALS = {
    "not_ended": _l("A period can be closed only once it has ended (its last day is past)."),
    "overlaps": _l("These days overlap a period of this scope that is already closed."),
}


def close_refusal(start: date, end: date, today: date,
                  closed: Iterable[ReportingPeriod]) -> str | None:
    """Why the days ``start``..``end`` cannot be closed now (a code of
    ``CLOSE_REFUSALS``), given the periods of the same scope closed now; None if they can.

    A period closes once its last day is past (Europe/Rome): so the day a late change is
    made never lies in a closed period, and "the next open period" is the one holding
    that day.
    """
    if end >= today:
        return "not_ended"
    if any(p.closed and p.start_date <= end and start <= p.end_date for p in closed):
        return "overlaps"
    return None


def adjustment_of(day: date, closed: Iterable[ReportingPeriod]) -> ReportingPeriod | None:
    """The closed period holding ``day`` (a session's day, Europe/Rome), among the
    periods closed for its school (its Ambito's and the region's), or None.

    The rule of periods that close: a session of a closed period is never counted
    *there* once it has closed. A late log is still written, and approved, but its
    approval makes it an adjustment of that period (``SessionLog.adjusted_period_id``),
    counted when it was approved: in the open period holding that day, shown apart.
    """
    return next((p for p in closed if p.closed and p.start_date <= day <= p.end_date), None)


# --- the family's answer to the invitation letter (issue #19) ------------------------


def meeting_end(assignment: Assignment) -> datetime | None:
    return assignment.end_dt or assignment.start_dt


def family_answer_open(invitation: FamilyInvitation, now: datetime) -> bool:
    """Whether the family's link answers now: its meeting is still the request's
    confirmed one (accepted, with a time), the request is not cancelled, and the meeting
    has not ended. Anything else is the same 404 as an unknown token."""
    assignment = invitation.assignment
    request = invitation.request
    end = meeting_end(assignment)
    return (assignment.request_id == request.id
            and request.state == S.confirmed
            and assignment.state == AssignmentState.accepted
            and end is not None and now < end)


def sees_family_answer(user: User, request: MediationRequest) -> bool:
    """The school that asked, the Ambito's coordinator (and the admin) see the family's
    answer; the mediator does not need it."""
    return in_school(user, request) or coordinates(user, request)


def video_link_shown(assignment: Assignment | None) -> bool:
    """A meeting in video mode shows its room's link while its appointment stands
    (offered or accepted), wherever the appointment is shown: to the school, its
    mediator, the coordinators. A withdrawn or cancelled one has no link any more: a
    reassignment is a new appointment with a new room."""
    return (assignment is not None and assignment.request.mode == Mode.video
            and assignment.start_dt is not None
            and assignment.state in ACTIVE_ASSIGNMENT_STATES)


def call_number_shown(assignment: Assignment | None) -> bool:
    """A meeting by phone shows the number to call while its appointment stands (offered
    or accepted), as a video meeting shows its link: to its mediator, in the agenda, the
    emails and the calendar invitation."""
    return (assignment is not None and assignment.request.mode == Mode.phone
            and assignment.request.call_number is not None
            and assignment.start_dt is not None
            and assignment.state in ACTIVE_ASSIGNMENT_STATES)


def sees_call_number(user: User, request: MediationRequest) -> bool:
    """On the request page: the school that gave the number and the Ambito's coordinators
    (and the admin) always; a mediator only while their appointment stands."""
    if request.mode != Mode.phone or request.call_number is None:
        return False
    if in_school(user, request) or coordinates(user, request):
        return True
    active = active_assignment(request)
    return active is not None and holds(user, active) and call_number_shown(active)


# --- the request page ------------------------------------------------------------


@dataclass(frozen=True)
class RequestActions:
    """What ``user`` can do on a request's page now; the page shows exactly these."""

    approve: bool = False  # and reject: the lead's two answers
    cancel: bool = False
    cancel_late: bool = False  # a cancellation now would be recorded as late
    offer: bool = False
    broadcast: bool = False  # send it to several mediators at once (the offer page)
    withdraw_broadcast: bool = False  # call back the broadcast nobody accepted yet
    reassign: bool = False
    mark_unfilled: bool = False
    review_log: SessionLog | None = None
    answer_offer: Assignment | None = None  # the offer waiting for this mediator
    log: Assignment | None = None  # the session this mediator can log (or correct) now
    attest: SessionLog | None = None  # the logged session this user can confirm now
    dispute: bool = False  # ... and can dispute (then ``attest`` is that log too)
    answer_proposals: bool = False
    see_proposals: bool = False
    see_offer: bool = False  # whom the request is offered to, and when
    school_side: bool = False  # the user is of the school that asked
    coordinator_side: bool = False  # the user coordinates the school's Ambito
    family_answer: bool = False  # the family's answer to the letter (issue #19) is shown
    call_number: str | None = None  # a meeting by phone: the number to call, if shown
    report_no_show: bool = False  # the school says the mediator did not come
    no_shows: tuple = ()  # the reports of this request's appointments this user sees
    # Feedback after a held session (issue #19): the log whose question this user
    # answers (school: usefulness; mediator: organisation), the side, and whether the
    # question is open now (else their answer, if any, is shown).
    feedback_log: SessionLog | None = None
    feedback_side: FeedbackSide | None = None
    give_feedback: bool = False
    # The answers (both sides, with their comments) the request's coordinators read.
    read_feedback: SessionLog | None = None

    @property
    def school(self) -> bool:
        """Anything in the school's box (approve, reject, cancel)."""
        return self.approve or self.cancel

    @property
    def attestation(self) -> bool:
        """Anything in the school's attestation box (confirm, dispute)."""
        return self.attest is not None

    @property
    def coordination(self) -> bool:
        return self.offer or self.reassign or self.mark_unfilled or self.review_log is not None


def actions(user: User, request: MediationRequest, now: datetime) -> RequestActions:
    """Everything ``user`` can do on ``request``'s page, decided once, here."""
    active = active_assignment(request)
    coordinating = may_coordinate(user, request)
    cancel = can_cancel(user, request)
    log = active.session_log if active is not None else None
    offer = request.pending_offer
    attest = log is not None and can_attest(user, log)
    return RequestActions(
        approve=can_approve(user, request),
        cancel=cancel,
        cancel_late=cancel and is_late(request, now, active),
        offer=coordinating and allows(request, "offer"),
        broadcast=coordinating and broadcast_allowed(request),
        withdraw_broadcast=coordinating and withdraw_broadcast_allowed(request),
        reassign=coordinating and reassign_allowed(request),
        mark_unfilled=coordinating and allows(request, "mark_unfilled"),
        review_log=log if coordinating and log is not None and review_allowed(log) else None,
        answer_offer=offer if offer is not None and can_answer(user, offer) else None,
        log=active if active is not None and can_log(user, active, now) else None,
        attest=log if attest else None,
        dispute=attest and dispute_allowed(log),
        answer_proposals=may_answer_proposal(user, request) and allows(
            request, "answer_proposal"),
        see_proposals=sees_proposals(user, request) and allows(request, "answer_proposal"),
        see_offer=in_school(user, request) or coordinating,
        school_side=in_school(user, request),
        coordinator_side=coordinating,
        family_answer=sees_family_answer(user, request),
        call_number=request.call_number if sees_call_number(user, request) else None,
        report_no_show=can_report_no_show(user, request, now),
        no_shows=tuple(a.no_show for a in request.assignments if a.no_show is not None)
        if sees_no_show(user, request) else (),
        **_feedback_actions(user, log, now),
    )


def _feedback_actions(user: User, log: SessionLog | None, now: datetime) -> dict:
    """The request page's feedback box: shown to the requester and the mediator who
    held the session once it is logged as held (the question while it is open, their
    answer once given)."""
    if log is None or log.outcome != Outcome.held:
        return {}
    if sees_feedback(user, log.assignment.request):
        return {"read_feedback": log if log.feedback else None}
    side = feedback_side(user, log)
    if side is None:
        return {}
    give = feedback_allowed(log, side, now)
    if not give and given_feedback(log, side) is None:
        return {}
    return {"feedback_log": log, "feedback_side": side, "give_feedback": give}
