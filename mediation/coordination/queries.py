"""Reads for the coordinator's pages, scoped to the user; a fixed number of queries each."""

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from ..clock import day_bounds, day_start
from ..extensions import db
from ..models import (
    ACTIVE_ASSIGNMENT_STATES,
    Assignment,
    AssignmentState,
    AttestationOutcome,
    BroadcastInvitation,
    BroadcastState,
    Language,
    LogState,
    MacroAction,
    MediationRequest,
    MediatorLanguage,
    MediatorNoShow,
    MediatorProfile,
    OfferBroadcast,
    PreferredSlot,
    RequestState,
    RequestType,
    School,
    SessionAttestation,
    SessionLog,
    Urgency,
    User,
    mediator_ambiti,
    with_varieties,
)
from ..scoping import scoped, visible

#: Orders of the queue, by the ``sort`` parameter; the first is the default.
SORTS = ("urgency", "age", "date")


@dataclass
class QueueFilters:
    """What the queue is narrowed to; ``state`` None means every state."""

    state: RequestState | None = RequestState.open
    school_id: int | None = None
    language_id: int | None = None
    type_id: int | None = None
    urgency: Urgency | None = None
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "urgency"


def _first_slot():
    return (
        sa.select(sa.func.min(PreferredSlot.start_dt))
        .where(PreferredSlot.request_id == MediationRequest.id)
        .correlate(MediationRequest)
        .scalar_subquery()
    )


def _active_start():
    return (
        sa.select(sa.func.min(Assignment.start_dt))
        .where(Assignment.request_id == MediationRequest.id,
               Assignment.state.in_(ACTIVE_ASSIGNMENT_STATES))
        .correlate(MediationRequest)
        .scalar_subquery()
    )


def meeting_time():
    """When a request takes place: its active appointment, else its first slot or deadline."""
    return sa.func.coalesce(_active_start(), _first_slot(), MediationRequest.deadline_dt)


def _filtered(stmt: sa.Select, filters: QueueFilters) -> sa.Select:
    """Every filter but the state (the counts per state use these too)."""
    if filters.school_id is not None:
        stmt = stmt.where(MediationRequest.school_id == filters.school_id)
    if filters.language_id is not None:
        stmt = stmt.where(MediationRequest.language_id.in_(with_varieties(filters.language_id)))
    if filters.type_id is not None:
        stmt = stmt.where(MediationRequest.type_id == filters.type_id)
    if filters.urgency is not None:
        stmt = stmt.where(MediationRequest.urgency == filters.urgency)
    when = meeting_time()
    if filters.date_from is not None:
        stmt = stmt.where(when >= day_start(filters.date_from))
    if filters.date_to is not None:
        stmt = stmt.where(when < day_bounds(filters.date_to)[1])
    return stmt


def _order(sort: str):
    """Urgent requests first, then the oldest (the default); the oldest first; or by the
    date of the meeting."""
    created = (MediationRequest.created_dt.asc(), MediationRequest.id.asc())
    if sort == "age":
        return created
    if sort == "date":
        when = meeting_time()
        return (when.is_(None), when.asc(), *created)
    urgent_first = sa.case((MediationRequest.urgency == Urgency.urgent, 0), else_=1)
    return (urgent_first, *created)


def queue(user: User, filters: QueueFilters, page: int, per_page: int):
    """One page of the requests the user coordinates, with what each row shows."""
    stmt = _filtered(scoped(MediationRequest, user), filters)
    if filters.state is not None:
        stmt = stmt.where(MediationRequest.state == filters.state)
    stmt = stmt.options(
        joinedload(MediationRequest.type),
        joinedload(MediationRequest.language),
        joinedload(MediationRequest.school),
        selectinload(MediationRequest.slots),
        selectinload(MediationRequest.assignments)
        .joinedload(Assignment.mediator)
        .joinedload(MediatorProfile.user),
    ).order_by(*_order(filters.sort))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def state_counts(user: User, filters: QueueFilters) -> dict[RequestState, int]:
    """Number of requests per state under the other filters, in one GROUP BY query."""
    stmt = _filtered(
        sa.select(MediationRequest.state, sa.func.count(MediationRequest.id))
        .where(visible(MediationRequest, user)),
        filters,
    ).group_by(MediationRequest.state)
    counts = dict.fromkeys(RequestState, 0)
    counts.update({state: count for state, count in db.session.execute(stmt).all()})
    return counts


def filter_choices(user: User) -> dict:
    """Schools, languages and request types to filter by."""
    return {
        "schools": db.session.scalars(
            scoped(School, user).order_by(School.name)
        ).all(),
        "languages": db.session.scalars(
            sa.select(Language).where(Language.parent_id.is_(None)).order_by(Language.name_en)
        ).all(),
        "types": db.session.scalars(
            sa.select(RequestType).order_by(RequestType.position, RequestType.name_en)
        ).all(),
    }


def counter_proposals(request: MediationRequest) -> list[Assignment]:
    """Declined assignments whose mediator proposed another time, latest first."""
    return sorted(
        (a for a in request.assignments
         if a.state == AssignmentState.declined and a.proposed_start_dt is not None),
        key=lambda a: a.id, reverse=True,
    )


def logs_to_approve(user: User, page: int, per_page: int):
    """Session logs submitted in the user's scope, oldest first, with what each card shows."""
    stmt = (
        scoped(SessionLog, user)
        .where(SessionLog.state == LogState.submitted)
        .options(
            joinedload(SessionLog.macro_action),
            joinedload(SessionLog.action),
            joinedload(SessionLog.delivered_document),
            joinedload(SessionLog.attestation).joinedload(SessionAttestation.by),
            joinedload(SessionLog.assignment).options(
                joinedload(Assignment.mediator).joinedload(MediatorProfile.user),
                joinedload(Assignment.request).options(
                    joinedload(MediationRequest.type),
                    joinedload(MediationRequest.language),
                    joinedload(MediationRequest.school),
                    joinedload(MediationRequest.pupil_case),
                ),
            ),
        )
        .order_by(SessionLog.created_dt, SessionLog.id)
    )
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def macro_actions_of(project_ids) -> dict[int, list[MacroAction]]:
    """The macro-actions (with their actions) of the given projects, by project id."""
    ids = set(project_ids)
    if not ids:
        return {}
    rows = db.session.scalars(
        sa.select(MacroAction)
        .where(MacroAction.project_id.in_(ids))
        .options(selectinload(MacroAction.actions))
        .order_by(MacroAction.project_id, MacroAction.number)
    ).all()
    result: dict[int, list[MacroAction]] = {i: [] for i in ids}
    for macro in rows:
        result[macro.project_id].append(macro)
    return result


def logs_by_id(user: User, ids) -> list[SessionLog]:
    """The session logs with these ids that the user may see (fewer if some are not)."""
    return db.session.scalars(
        scoped(SessionLog, user)
        .where(SessionLog.id.in_(set(ids)))
        # Only the logs: approving locks each request with a refresh FOR UPDATE,
        # which PostgreSQL refuses on a request loaded with outer-joined relations.
        .order_by(SessionLog.id)
    ).all()


#: What the queue's alerts show of an appointment: its mediator's name and its request's
#: type, language and school (loaded with it, in the same query).
_APPOINTMENT_SHOWN = (
    joinedload(Assignment.mediator).joinedload(MediatorProfile.user),
    joinedload(Assignment.request).options(
        joinedload(MediationRequest.type),
        joinedload(MediationRequest.language),
        joinedload(MediationRequest.school),
    ),
)


def no_shows_to_settle(user: User) -> list[MediatorNoShow]:
    """The schools' reports that the mediator did not come, in the user's scope, whose
    appointment still stands as it was (confirmed, not logged): the coordinator has yet to
    decide (cancel, reassign, or wait for the mediator's log). Oldest report first, with
    their request and who reported: one query."""
    return list(db.session.scalars(
        sa.select(MediatorNoShow)
        .join(Assignment, Assignment.id == MediatorNoShow.assignment_id)
        .join(MediationRequest, MediationRequest.id == Assignment.request_id)
        .outerjoin(SessionLog, SessionLog.assignment_id == Assignment.id)
        .where(MediationRequest.state == RequestState.confirmed,
               Assignment.state == AssignmentState.accepted, SessionLog.id.is_(None),
               visible(MediationRequest, user))
        .options(
            joinedload(MediatorNoShow.reported_by),
            joinedload(MediatorNoShow.assignment).options(*_APPOINTMENT_SHOWN),
        )
        .order_by(MediatorNoShow.reported_dt, MediatorNoShow.id)
    ))


def disputed_sessions(user: User) -> list[SessionAttestation]:
    """The logged sessions the school disputes, in the user's scope (the Ambito's), the
    oldest dispute first, with their request (type, language, school) and who disputed
    them: one query. A dispute stays here until the school confirms the session."""
    return list(db.session.scalars(
        sa.select(SessionAttestation)
        .join(SessionLog, SessionLog.id == SessionAttestation.session_log_id)
        .where(SessionAttestation.outcome == AttestationOutcome.disputed,
               visible(SessionLog, user))
        .options(
            joinedload(SessionAttestation.by),
            joinedload(SessionAttestation.log).joinedload(SessionLog.assignment)
            .options(*_APPOINTMENT_SHOWN),
        )
        .order_by(SessionAttestation.at, SessionAttestation.id)
    ))


# --- offers to several mediators at once (issue #19) ------------------------------


def mediators_for_offer(user: User, ids: list[int]) -> list[MediatorProfile]:
    """The mediators of ``ids`` the user can see, with their accounts; one query."""
    if not ids:
        return []
    return list(db.session.scalars(
        scoped(MediatorProfile, user).where(MediatorProfile.id.in_(ids))
        .options(joinedload(MediatorProfile.user))
    ).unique())


def open_broadcast(request: MediationRequest) -> OfferBroadcast | None:
    """The request's open broadcast with its invitations and their mediators' names
    (one query whatever the number of invitations), or None."""
    return db.session.scalars(
        sa.select(OfferBroadcast)
        .where(OfferBroadcast.request_id == request.id,
               OfferBroadcast.state == BroadcastState.open)
        .options(selectinload(OfferBroadcast.invitations)
                 .joinedload(BroadcastInvitation.mediator).joinedload(MediatorProfile.user))
    ).first()


# --- what a cancellation frees (issue #19) -----------------------------------------


@dataclass
class FreedTime:
    """A confirmed meeting cancelled ahead of its time: its mediator and time are free
    again, and the open requests they could serve (each with the preferred time that
    falls in the freed time)."""

    assignment: Assignment
    could_serve: list[tuple[MediationRequest, PreferredSlot]]


def freed_times(user: User, now: datetime, request_id: int | None = None) -> list[FreedTime]:
    """The confirmed meetings of the user's scope cancelled before their start (of one
    cancelled request, with ``request_id``), each with the open requests of the scope in a
    language its mediator speaks, at a school of an Ambito they serve, with a preferred
    time overlapping the freed time while the mediator holds no other booking then. One
    query whatever the number of cancellations and requests; the offer page checks every
    rule of a booking before anything is offered."""
    other = sa.orm.aliased(Assignment)
    busy = sa.exists().where(
        other.mediator_id == Assignment.mediator_id,
        other.state.in_(ACTIVE_ASSIGNMENT_STATES),
        other.start_dt < PreferredSlot.end_dt, other.end_dt > PreferredSlot.start_dt)
    query = (
        sa.select(Assignment, MediationRequest, PreferredSlot)
        .join(MediatorLanguage, MediatorLanguage.mediator_id == Assignment.mediator_id)
        .join(MediationRequest, sa.and_(
            MediationRequest.language_id == MediatorLanguage.language_id,
            MediationRequest.state == RequestState.open))
        .join(PreferredSlot, sa.and_(
            PreferredSlot.request_id == MediationRequest.id,
            PreferredSlot.start_dt < Assignment.end_dt,
            PreferredSlot.end_dt > Assignment.start_dt))
        .join(School, School.id == MediationRequest.school_id)
        .join(mediator_ambiti, sa.and_(mediator_ambiti.c.mediator_id == Assignment.mediator_id,
                                       mediator_ambiti.c.ambito_id == School.ambito_id))
        .where(Assignment.state == AssignmentState.cancelled,
               Assignment.responded_dt.is_not(None), Assignment.decline_reason.is_(None),
               Assignment.start_dt > now, PreferredSlot.start_dt > now, ~busy,
               visible(Assignment, user), visible(MediationRequest, user))
        .options(
            joinedload(Assignment.mediator).joinedload(MediatorProfile.user),
            joinedload(Assignment.request).options(joinedload(MediationRequest.school),
                                                   joinedload(MediationRequest.type)),
            joinedload(MediationRequest.school), joinedload(MediationRequest.type),
            joinedload(MediationRequest.language))
        .order_by(Assignment.start_dt, Assignment.id, PreferredSlot.start_dt,
                  MediationRequest.id)
    )
    if request_id is not None:
        query = query.where(Assignment.request_id == request_id)
    found: dict[int, FreedTime] = {}
    for assignment, request, slot in db.session.execute(query).unique():
        freed = found.setdefault(assignment.id, FreedTime(assignment, []))
        freed.could_serve.append((request, slot))
    return list(found.values())
