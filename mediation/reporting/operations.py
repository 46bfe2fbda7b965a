"""Closing and reopening a reporting period (issue #18, "Periods that close").

Who may do it and when is asked of :mod:`mediation.bookings.policy` (``may_close_period``,
``close_refusal``, ``may_reopen_period``); what is frozen, of :mod:`.snapshots`.
"""

from datetime import date

from flask_babel import lazy_gettext as _l

from .. import audit
from ..bookings import policy
from ..errors import InvalidInput, InvalidTransition, NotAllowed
from ..extensions import db
from ..models import Ambito, ReportingPeriod, Role, User, utcnow
from . import periods, snapshots


def close_period(actor: User, ambito: Ambito | None, start: date, end: date,
                 today: date) -> ReportingPeriod:
    """Close the days ``start``..``end`` of ``ambito`` (None: the region): freeze its
    figures and exports, after which a late log of these days becomes an adjustment."""
    ambito_id = ambito.id if ambito is not None else None
    if not policy.may_close_period(actor, ambito_id):
        raise NotAllowed()
    if end < start:
        raise InvalidInput(_l("The end must not come before the start."), field="end")
    periods.lock(shared=False)
    refusal = policy.close_refusal(start, end, today, periods.closed_of_scope(ambito_id))
    if refusal is not None:
        raise InvalidInput(policy.CLOSE_REFUSALS[refusal],
                           field="end" if refusal == "not_ended" else "start")
    period = ReportingPeriod(ambito_id=ambito_id, start_date=start, end_date=end,
                             closed_at=utcnow(), closed_by_id=actor.id)
    db.session.add(period)
    db.session.flush()
    snapshots.freeze(period, periods.scope_for(ambito_id, actor))
    audit.record("period.closed", period, actor, ambito_id=ambito_id,
                 start=start.isoformat(), end=end.isoformat(),
                 files={f.name: f.sha256 for f in period.files})
    return period


def reopen_period(actor: User, period: ReportingPeriod, reason: str) -> None:
    """Reopen a closed period (the admin, with a reason). Its frozen files stay, for
    history; the logs already counted as its adjustments stay adjustments; closing its
    days again freezes them anew in a new period."""
    if not policy.may_see_period(actor, period):
        raise NotAllowed()
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_l("Give the reason for reopening the period."), field="reason")
    if len(reason) > 500:
        raise InvalidInput(_l("At most 500 characters."), field="reason")
    periods.lock(shared=False)
    db.session.refresh(period)
    if actor.role != Role.admin:
        raise NotAllowed()
    if not policy.may_reopen_period(actor, period):
        raise InvalidTransition(_l("This period is not closed."))
    period.reopened_at = utcnow()
    period.reopened_by_id = actor.id
    period.reopen_reason = reason
    audit.record("period.reopened", period, actor, ambito_id=period.ambito_id,
                 start=period.start_date.isoformat(), end=period.end_date.isoformat())
