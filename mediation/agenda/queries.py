"""Reads for the mediator's agenda, scoped to the user; a fixed number of queries each.

A mediator sees only their own assignments (``scoped(Assignment, user)``), and
of a pupil only what the templates show: code, class, language and purpose.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from ..bookings.rules import in_rome, to_utc
from ..extensions import db
from ..models import (
    Assignment,
    AssignmentState,
    LogState,
    MediationRequest,
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


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def agenda(user: User, now: datetime, week: date | None = None) -> dict:
    """The mediator's agenda: offers, upcoming appointments by day, sessions to log.

    Without ``week``: every upcoming appointment (up to ``UPCOMING_LIMIT``).
    With ``week`` (a Monday): the accepted assignments of that week, logged or not.
    """
    happens = _when()
    mine = scoped(Assignment, user).options(*_loaders())
    offers = db.session.scalars(
        mine.where(Assignment.state == AssignmentState.offered, happens >= now)
        .order_by(happens, Assignment.id)
    ).all()
    accepted = mine.where(Assignment.state == AssignmentState.accepted)
    if week is None:
        upcoming = db.session.scalars(
            accepted.where(happens > now, _not_logged())
            .order_by(happens, Assignment.id).limit(UPCOMING_LIMIT + 1)
        ).all()
        more = len(upcoming) > UPCOMING_LIMIT
        upcoming = upcoming[:UPCOMING_LIMIT]
    else:
        first, last = to_utc(week, time()), to_utc(week + timedelta(days=7), time())
        upcoming = db.session.scalars(
            accepted.where(happens >= first, happens < last).order_by(happens, Assignment.id)
        ).all()
        more = False
    to_log = db.session.scalars(
        accepted.where(happens <= now, _not_logged()).order_by(happens, Assignment.id)
    ).all()
    return {
        "offers": offers,
        "days": by_day(upcoming),
        "more": more,
        "limit": UPCOMING_LIMIT,
        "to_log": to_log,
        "week": week,
    }
