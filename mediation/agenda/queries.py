"""Reads for the mediator's agenda, scoped to the user; a fixed number of queries each.

A mediator sees only their own assignments (``scoped(Assignment, user)``), and
of a pupil only what the templates show: code, class, language and purpose.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from ..bookings import policy
from ..clock import in_rome, week_bounds, week_start
from ..extensions import db
from ..models import (
    Assignment,
    AssignmentState,
    BroadcastInvitation,
    BroadcastState,
    InvitationState,
    LogState,
    MediationRequest,
    MediatorProfile,
    OfferBroadcast,
    Outcome,
    SessionLog,
    User,
)
from ..scoping import scoped

#: At most this many upcoming assignments on the agenda without a week chosen.
UPCOMING_LIMIT = 100


def _when():
    """When an assignment "happens", in SQL: a meeting's start, a translation's deadline."""
    return sa.func.coalesce(Assignment.start_dt, Assignment.deadline_dt)


def _loaders():
    """What an agenda card shows, loaded with the assignment."""
    return (
        joinedload(Assignment.request).options(
            joinedload(MediationRequest.type),
            joinedload(MediationRequest.language),
            joinedload(MediationRequest.school),
            joinedload(MediationRequest.site),
            joinedload(MediationRequest.pupil_case),
        ),
        joinedload(Assignment.session_log),
    )


def when(assignment: Assignment) -> datetime:
    return assignment.start_dt or assignment.deadline_dt


@dataclass
class Day:
    """One heading of the agenda: a Europe/Rome date and its assignments."""

    day: date
    assignments: list[Assignment] = field(default_factory=list)


def by_day(assignments: list[Assignment]) -> list[Day]:
    """Group assignments (already in time order) by their Europe/Rome date."""
    days: list[Day] = []
    for assignment in assignments:
        day = in_rome(when(assignment)).date()
        if not days or days[-1].day != day:
            days.append(Day(day))
        days[-1].assignments.append(assignment)
    return days


def _not_logged():
    """No log yet, or a log the coordinator sent back."""
    return sa.or_(
        ~sa.exists().where(SessionLog.assignment_id == Assignment.id),
        sa.exists().where(SessionLog.assignment_id == Assignment.id,
                          SessionLog.state == LogState.returned),
    )


def _invitation_loaders():
    return (joinedload(BroadcastInvitation.broadcast).joinedload(OfferBroadcast.request)
            .options(joinedload(MediationRequest.type), joinedload(MediationRequest.language),
                     joinedload(MediationRequest.school), joinedload(MediationRequest.site),
                     joinedload(MediationRequest.pupil_case)),
            joinedload(BroadcastInvitation.mediator))


def _my_invitations(user: User):
    """The invitations sent to the user (a mediator); those never sent (their tier has not
    gone out) are nobody's business."""
    return (sa.select(BroadcastInvitation)
            .join(MediatorProfile, MediatorProfile.id == BroadcastInvitation.mediator_id)
            .where(MediatorProfile.user_id == user.id,
                   BroadcastInvitation.sent_dt.is_not(None)))


def open_invitations(user: User, now: datetime) -> list[BroadcastInvitation]:
    """The offers sent to the user and to other mediators that they can still accept
    (the broadcast open, its time ahead), the soonest first; one query."""
    when = sa.func.coalesce(OfferBroadcast.start_dt, MediationRequest.deadline_dt)
    return list(db.session.scalars(
        _my_invitations(user)
        .join(OfferBroadcast, OfferBroadcast.id == BroadcastInvitation.broadcast_id)
        .join(MediationRequest, MediationRequest.id == OfferBroadcast.request_id)
        .where(BroadcastInvitation.state == InvitationState.sent,
               OfferBroadcast.state == BroadcastState.open, when >= now)
        .options(*_invitation_loaders())
        .order_by(when, BroadcastInvitation.id)
    ).unique())


def invitation(user: User, invitation_id: int) -> BroadcastInvitation | None:
    """One invitation sent to the user, or None (another mediator's, or not sent yet)."""
    return db.session.scalars(
        _my_invitations(user).where(BroadcastInvitation.id == invitation_id)
        .options(*_invitation_loaders())
    ).unique().first()


def agenda(user: User, now: datetime, week: date | None = None) -> dict:
    """The mediator's agenda: what needs them first, then their appointments.

    Always: ``to_log``, the accepted assignments that have happened and are not logged
    (or whose log was sent back), the oldest first; ``offers``, the offers still to
    answer, the soonest first.

    Without ``week``: the upcoming appointments not yet logged (up to ``UPCOMING_LIMIT``),
    split into ``today_items`` (a list), ``this_week_days`` and ``later`` (lists of ``Day``), by
    their Europe/Rome date. With ``week`` (a Monday): ``days``, the accepted assignments
    of that week, logged or not.
    """
    happens = _when()
    mine = scoped(Assignment, user).options(*_loaders())
    offers = db.session.scalars(
        mine.where(Assignment.state == AssignmentState.offered, happens >= now)
        .order_by(happens, Assignment.id)
    ).all()
    accepted = mine.where(Assignment.state == AssignmentState.accepted)
    to_log = db.session.scalars(
        accepted.where(happens <= now, _not_logged()).order_by(happens, Assignment.id)
    ).all()
    context = {"offers": offers, "to_log": to_log, "invitations": open_invitations(user, now),
               "week": week, "more": False,
               "limit": UPCOMING_LIMIT, "today_items": [], "this_week_days": [], "later": [],
               "days": []}
    if week is not None:
        first, last = week_bounds(week)
        context["days"] = by_day(db.session.scalars(
            accepted.where(happens >= first, happens < last).order_by(happens, Assignment.id)
        ).all())
        return context
    upcoming = db.session.scalars(
        accepted.where(happens > now, _not_logged())
        .order_by(happens, Assignment.id).limit(UPCOMING_LIMIT + 1)
    ).all()
    context["more"] = len(upcoming) > UPCOMING_LIMIT
    today = in_rome(now).date()
    next_monday = week_start(today) + timedelta(days=7)
    for day in by_day(upcoming[:UPCOMING_LIMIT]):
        if day.day == today:
            context["today_items"] = day.assignments
        elif day.day < next_monday:
            context["this_week_days"].append(day)
        else:
            context["later"].append(day)
    return context


#: The most sessions the agenda lists for the mediator's feedback.
TO_RATE_LIMIT = 10


def to_rate(user: User, now: datetime) -> list[SessionLog]:
    """The mediator's held sessions whose question about the organisation (issue #19) is
    open now, the latest first (at most :data:`TO_RATE_LIMIT`): what
    ``policy.can_give_feedback`` allows, read in two queries."""
    since = now - policy.FEEDBACK_WINDOW
    logs = db.session.scalars(
        scoped(SessionLog, user)
        .where(SessionLog.outcome == Outcome.held,
               SessionLog.state.in_((LogState.submitted, LogState.approved)),
               sa.or_(SessionLog.counted_dt >= since, SessionLog.created_dt >= since))
        .options(selectinload(SessionLog.feedback),
                 joinedload(SessionLog.assignment).options(*_loaders()))
        .order_by(SessionLog.counted_dt.desc(), SessionLog.id.desc())
        .limit(4 * TO_RATE_LIMIT)
    ).unique().all()
    return [log for log in logs if policy.can_give_feedback(user, log, now)][:TO_RATE_LIMIT]
