"""Who can take a request at a given time, and if not, why not.

Everything is loaded in a fixed number of queries whatever the number of
mediators: the mediators with their languages, availability and absences,
then their overlapping assignments, then their hours in the slot's week.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from ..models import (
    ACTIVE_ASSIGNMENT_STATES,
    Absence,
    Assignment,
    Language,
    MediationRequest,
    MediatorLanguage,
    MediatorProfile,
    User,
    mediator_ambiti,
)
from ..scoping import visible
from .rules import ROME, in_rome

REASONS = {
    "absent": _l("absent"),
    "busy": _l("busy then"),
    "unavailable": _l("outside their availability"),
    "over_cap": _l("over their weekly hours"),
}


@dataclass
class Candidate:
    mediator: MediatorProfile
    #: Codes of the reasons that exclude them, most important first.
    reasons: list[str] = field(default_factory=list)
    exact_language: bool = True
    week_hours: Decimal = Decimal(0)
    conflict: Assignment | None = None

    @property
    def available(self) -> bool:
        return not self.reasons

    @property
    def reason_labels(self) -> list[str]:
        return [str(REASONS[code]) for code in self.reasons]


def language_family(language: Language) -> int:
    return language.parent_id or language.id


def _speakers(request: MediationRequest, user: User) -> list[MediatorProfile]:
    """Mediators of the request's Ambito (as far as ``user`` may see) who speak its language."""
    family = language_family(request.language)
    family_ids = sa.select(Language.id).where(
        sa.or_(Language.id == family, Language.parent_id == family)
    )
    stmt = (
        sa.select(MediatorProfile)
        .where(visible(MediatorProfile, user))
        .where(MediatorProfile.id.in_(
            sa.select(mediator_ambiti.c.mediator_id)
            .where(mediator_ambiti.c.ambito_id == request.school.ambito_id)
        ))
        .where(MediatorProfile.id.in_(
            sa.select(MediatorLanguage.mediator_id)
            .where(MediatorLanguage.language_id.in_(family_ids))
        ))
        .join(MediatorProfile.user)
        .where(User.active)
        .options(
            joinedload(MediatorProfile.user),
            selectinload(MediatorProfile.languages).joinedload(MediatorLanguage.language),
            selectinload(MediatorProfile.availability),
            selectinload(MediatorProfile.absences),
        )
        .order_by(User.display_name)
    )
    return list(db.session.scalars(stmt).unique())


def _week_bounds(moment: datetime) -> tuple[datetime, datetime]:
    local = in_rome(moment)
    monday = (local - timedelta(days=local.weekday())).date()
    start = datetime.combine(monday, datetime.min.time(), tzinfo=ROME)
    return start, start + timedelta(days=7)


def _within_availability(mediator: MediatorProfile, start: datetime, end: datetime) -> bool:
    local_start, local_end = in_rome(start), in_rome(end)
    return any(
        r.weekday == local_start.weekday()
        and r.start_time <= local_start.time()
        and local_end.time() <= r.end_time
        for r in mediator.availability
    )


def _absent(mediator: MediatorProfile, start: datetime, end: datetime) -> Absence | None:
    return next((a for a in mediator.absences if a.start_dt < end and start < a.end_dt), None)


def evaluate(
    request: MediationRequest,
    user: User,
    start: datetime | None,
    end: datetime | None,
    ignore: Assignment | None = None,
) -> list[Candidate]:
    """Every mediator who speaks the request's language, available ones first.

    ``ignore`` is an assignment that does not count as a conflict (the one a
    reassignment replaces).
    """
    mediators = _speakers(request, user)
    candidates = {
        m.id: Candidate(
            mediator=m,
            exact_language=any(ml.language_id == request.language_id for ml in m.languages),
        )
        for m in mediators
    }
    if start is not None and end is not None and candidates:
        ids = list(candidates)
        ignore_id = ignore.id if ignore is not None else -1
        conflicts = db.session.scalars(
            sa.select(Assignment).where(
                Assignment.mediator_id.in_(ids),
                Assignment.state.in_(ACTIVE_ASSIGNMENT_STATES),
                Assignment.start_dt < end,
                Assignment.end_dt > start,
                Assignment.id != ignore_id,
            )
        ).all()
        conflict_of = {a.mediator_id: a for a in conflicts}
        week_start, week_end = _week_bounds(start)
        hours = dict(_sum_hours(ids, week_start, week_end, ignore_id))
        slot_hours = Decimal((end - start).total_seconds()) / 3600
        for candidate in candidates.values():
            m = candidate.mediator
            candidate.week_hours = hours.get(m.id, Decimal(0))
            if _absent(m, start, end):
                candidate.reasons.append("absent")
            if m.id in conflict_of:
                candidate.reasons.append("busy")
                candidate.conflict = conflict_of[m.id]
            if not _within_availability(m, start, end):
                candidate.reasons.append("unavailable")
            if candidate.week_hours + slot_hours > m.weekly_hour_cap:
                candidate.reasons.append("over_cap")
    return sorted(
        candidates.values(),
        key=lambda c: (not c.available, not c.exact_language, c.week_hours,
                       c.mediator.user.display_name),
    )


def _sum_hours(ids, week_start, week_end, ignore_id) -> list[tuple[int, Decimal]]:
    """Hours of active meetings per mediator in a week, summed in Python over few rows."""
    rows = db.session.execute(
        sa.select(Assignment.mediator_id, Assignment.start_dt, Assignment.end_dt).where(
            Assignment.mediator_id.in_(ids),
            Assignment.state.in_(ACTIVE_ASSIGNMENT_STATES),
            Assignment.start_dt >= week_start,
            Assignment.start_dt < week_end,
            Assignment.id != ignore_id,
        )
    ).all()
    totals: dict[int, Decimal] = {}
    for mediator_id, start, end in rows:
        totals[mediator_id] = totals.get(mediator_id, Decimal(0)) + Decimal(
            (end - start).total_seconds()
        ) / 3600
    return list(totals.items())
