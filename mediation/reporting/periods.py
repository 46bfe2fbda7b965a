"""Reporting periods that close: the queries (scoped to the user) and the lock that
serialises closing a period against approving a log of its days.

The operations (close, reopen) are in :mod:`.operations`; the rule of what a closed period
refuses is :func:`mediation.bookings.policy.adjustment_of`; what is frozen at closing, and
the evidence pack, in :mod:`.snapshots`.
"""

from collections.abc import Iterable

import sqlalchemy as sa

from ..bookings import policy
from ..clock import in_rome
from ..extensions import db
from ..models import ReportingPeriod, Role, SessionLog, User
from ..scoping import Scope
from .aggregates import seconds_between
from .filters import ReportFilter, counted_sessions

#: The PostgreSQL advisory lock key of reporting periods (any number no other lock uses).
_LOCK_KEY = 18_0001


def lock(*, shared: bool) -> None:
    """Serialise closing a period (exclusive) with approving a log (shared), for this
    transaction: an approval either commits before the closing reads the figures (and is
    frozen in them) or waits and sees the period closed (and becomes an adjustment).
    SQLite: every write transaction already holds the single write lock
    (``database._on_begin``)."""
    if db.session.get_bind().dialect.name == "postgresql":
        function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        db.session.execute(sa.select(getattr(sa.func, function)(_LOCK_KEY)))


def closed_for_school(ambito_id: int) -> list[ReportingPeriod]:
    """The periods closed now that hold a school of ``ambito_id``'s days: its Ambito's
    and the region's."""
    return list(db.session.scalars(
        sa.select(ReportingPeriod)
        .where(ReportingPeriod.reopened_at.is_(None),
               sa.or_(ReportingPeriod.ambito_id == ambito_id,
                      ReportingPeriod.ambito_id.is_(None)))
        .order_by(ReportingPeriod.start_date)))


def closed_periods_of(logs: Iterable[SessionLog]) -> dict[int, ReportingPeriod]:
    """The closed period each of ``logs`` would be an adjustment of if approved now
    (policy.adjustment_of), by log id; logs of open days are left out. One query."""
    logs = list(logs)
    ambiti = {log.assignment.request.school.ambito_id for log in logs}
    if not ambiti:
        return {}
    closed = list(db.session.scalars(
        sa.select(ReportingPeriod)
        .where(ReportingPeriod.reopened_at.is_(None),
               sa.or_(ReportingPeriod.ambito_id.in_(ambiti),
                      ReportingPeriod.ambito_id.is_(None)))
        .order_by(ReportingPeriod.start_date)))
    found = {}
    for log in logs:
        ambito_id = log.assignment.request.school.ambito_id
        period = policy.adjustment_of(
            in_rome(log.counted_dt).date(),
            [p for p in closed if p.ambito_id in (None, ambito_id)])
        if period is not None:
            found[log.id] = period
    return found


def closed_of_scope(ambito_id: int | None) -> list[ReportingPeriod]:
    """The periods of exactly this scope (an Ambito, or the region: None) closed now."""
    scope = (ReportingPeriod.ambito_id.is_(None) if ambito_id is None
             else ReportingPeriod.ambito_id == ambito_id)
    return list(db.session.scalars(
        sa.select(ReportingPeriod).where(scope, ReportingPeriod.reopened_at.is_(None))))


def _visible(user: User) -> sa.ColumnElement[bool]:
    if user.role == Role.admin:
        return sa.true()
    if user.role == Role.coordinator and user.ambito_id is not None:
        return ReportingPeriod.ambito_id == user.ambito_id
    return sa.false()


def visible_periods(user: User) -> list[ReportingPeriod]:
    """Every period the user may see (the admin: all; a coordinator: their Ambito's),
    latest first."""
    return list(db.session.scalars(
        sa.select(ReportingPeriod).where(_visible(user))
        .order_by(ReportingPeriod.start_date.desc(), ReportingPeriod.ambito_id,
                  ReportingPeriod.id.desc())))


def region_periods_of(user: User) -> list[ReportingPeriod]:
    """For a coordinator, the region's periods closed now (their Ambito's days are
    closed by them too), latest first; their files cover every Ambito and stay the
    admin's. Nobody else: the admin sees them among all periods."""
    if user.role != Role.coordinator:
        return []
    return list(db.session.scalars(
        sa.select(ReportingPeriod)
        .where(ReportingPeriod.ambito_id.is_(None), ReportingPeriod.reopened_at.is_(None))
        .order_by(ReportingPeriod.start_date.desc())))


def get_visible(user: User, period_id: int) -> ReportingPeriod | None:
    """The period, if the user may see it (None: answer 404)."""
    return db.session.scalar(
        sa.select(ReportingPeriod).where(ReportingPeriod.id == period_id, _visible(user)))


def scope_for(period_ambito_id: int | None, user: User) -> Scope:
    """The scope a period's figures are computed in: an Ambito's (as its coordinator sees
    it), or the region's."""
    if period_ambito_id is None:
        return Scope(Role.admin, user.id, None, None)
    return Scope(Role.coordinator, user.id, period_ambito_id, None)


def adjustments(report: ReportFilter, user: User | Scope) -> list[dict]:
    """The adjustments counted in the filter's period: sessions approved in it (Europe/Rome
    days) whose own day lies in a period closed before, per closed period: sessions and
    seconds. The dashboard shows them apart from the period's own figures."""
    dialect = db.session.get_bind().dialect.name
    seconds = seconds_between(SessionLog.actual_start_dt, SessionLog.actual_end_dt, dialect)
    rows = db.session.execute(
        counted_sessions(
            report, user, ReportingPeriod.id, ReportingPeriod.ambito_id,
            ReportingPeriod.start_date, ReportingPeriod.end_date,
            sa.func.count(SessionLog.id), sa.func.coalesce(sa.func.sum(seconds), 0),
            period=False)
        .join(ReportingPeriod, ReportingPeriod.id == SessionLog.adjusted_period_id)
        .where(SessionLog.approved_dt >= report.start_dt,
               SessionLog.approved_dt < report.end_dt)
        .group_by(ReportingPeriod.id, ReportingPeriod.ambito_id, ReportingPeriod.start_date,
                  ReportingPeriod.end_date)
        .order_by(ReportingPeriod.start_date, ReportingPeriod.id)).all()
    return [{"period_id": row[0], "ambito_id": row[1], "start": row[2], "end": row[3],
             "sessions": int(row[4]), "seconds": int(row[5])} for row in rows]

