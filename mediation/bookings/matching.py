"""Ranking mediators for a request: hard filters, then a score explained in words.

For one time range, :func:`rank` returns every mediator the user can see (the
coordinator's Ambito, or the region for the admin): those who can take it,
best first, with each factor of their score; then the others, each with the
first reason that excludes them ("why not Fatima?"). It runs a fixed number of
queries whatever the number of mediators and assignments.

Hard filters, in order: speaks the language (a variety counts, a sibling
variety does not), covers the Ambito or the school's municipality, available
for the whole slot in their weekly pattern, not absent, no overlapping
assignment (including a travel buffer when the neighbouring assignment is at
another place), under the weekly hour cap.

Soft factors (weights in ``MATCHING_WEIGHTS``): continuity with the pupil or
the school, fair workload this month, proximity that day, least recently
assigned, exact language variety.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from babel.numbers import format_decimal as babel_format_decimal
from flask import current_app
from flask_babel import get_locale, gettext, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import (
    ACTIVE_ASSIGNMENT_STATES,
    Absence,
    Assignment,
    AssignmentState,
    AvailabilityRange,
    Language,
    MediationRequest,
    MediatorLanguage,
    MediatorMunicipality,
    MediatorProfile,
    Mode,
    User,
    mediator_ambiti,
    utcnow,
)
from ..scoping import visible
from .rules import ROME, in_rome

DEFAULT_WEIGHTS = {
    "continuity_case": 40.0,  # has already worked with this pupil: families trust a face they know
    "continuity_school": 20.0,  # has already worked at this school
    "workload": 20.0,  # few hours this month against their contract
    "proximity_school": 15.0,  # already at this school that day
    "proximity_municipality": 8.0,  # already in this municipality that day
    "recency": 10.0,  # has not had an assignment for a while
    "exact_language": 5.0,  # speaks the very variety asked for
}
DEFAULT_TRAVEL_BUFFER_MINUTES = 30
#: How far back continuity looks.
LOOKBACK = timedelta(days=365)
#: "Least recently assigned" earns full points after this many days without work.
RECENCY_FULL_DAYS = 30
WEEKS_PER_MONTH = Decimal(52) / Decimal(12)
#: A meeting starts and ends on the same day, so it lasts less than this.
MAX_MEETING = timedelta(days=1)

#: Hard filters in the order they are checked; the first one that fails is shown.
REASONS = {
    "language": _l("does not speak the language"),
    "variety": _l("speaks another variety of the language"),
    "ambito": _l("does not cover this Ambito or municipality"),
    "unavailable": _l("outside their weekly availability"),
    "absent": _l("absent"),
    "busy": _l("already booked then"),
    "travel": _l("no time to travel from another appointment"),
    "over_cap": _l("over their weekly hours"),
}


@dataclass
class Factor:
    code: str
    points: float
    detail: str


@dataclass
class Ranked:
    """A mediator's standing for one slot."""

    mediator: MediatorProfile
    reasons: list[str] = field(default_factory=list)
    factors: list[Factor] = field(default_factory=list)
    week_hours: Decimal = Decimal(0)
    month_hours: Decimal = Decimal(0)
    conflict: Assignment | None = None
    exact_language: bool = False

    @property
    def available(self) -> bool:
        return not self.reasons

    @property
    def reason(self) -> str | None:
        return self.reasons[0] if self.reasons else None

    @property
    def reason_labels(self) -> list[str]:
        return [str(REASONS[code]) for code in self.reasons[:1]]

    @property
    def score(self) -> float:
        return round(sum(f.points for f in self.factors), 1)


@dataclass
class SlotRanking:
    position: int | None
    start: datetime | None
    end: datetime | None
    ranked: list[Ranked]

    @property
    def best(self) -> Ranked | None:
        return self.ranked[0] if self.ranked and self.ranked[0].available else None


def weights() -> dict[str, float]:
    return {**DEFAULT_WEIGHTS, **current_app.config.get("MATCHING_WEIGHTS", {})}


def travel_buffer() -> timedelta:
    minutes = current_app.config.get("MATCHING_TRAVEL_BUFFER_MINUTES",
                                     DEFAULT_TRAVEL_BUFFER_MINUTES)
    return timedelta(minutes=int(minutes))


def _hours_expr(start, end):
    """Hours between two datetime columns, in SQL, for either database."""
    if db.session.get_bind().dialect.name == "sqlite":
        return (sa.func.julianday(end) - sa.func.julianday(start)) * 24
    return sa.func.extract("epoch", end - start) / 3600


def _hours_by_mediator(ids, since: datetime, until: datetime, ignore_id: int) -> dict:
    rows = db.session.execute(
        sa.select(Assignment.mediator_id,
                  sa.func.sum(_hours_expr(Assignment.start_dt, Assignment.end_dt)))
        .where(Assignment.mediator_id.in_(ids),
               Assignment.state.in_(ACTIVE_ASSIGNMENT_STATES),
               Assignment.start_dt >= since, Assignment.start_dt < until,
               Assignment.id != ignore_id)
        .group_by(Assignment.mediator_id)
    ).all()
    return {mid: Decimal(str(round(float(hours or 0), 2))) for mid, hours in rows}


def _local_day_bounds(moment: datetime) -> tuple[datetime, datetime]:
    local = in_rome(moment)
    start = datetime.combine(local.date(), datetime.min.time(), tzinfo=ROME)
    return start, start + timedelta(days=1)


def _week_bounds(moment: datetime) -> tuple[datetime, datetime]:
    day_start, _ = _local_day_bounds(moment)
    monday = day_start - timedelta(days=in_rome(moment).weekday())
    return monday, monday + timedelta(days=7)


def _month_bounds(moment: datetime) -> tuple[datetime, datetime]:
    local = in_rome(moment)
    first = datetime(local.year, local.month, 1, tzinfo=ROME)
    following = datetime(local.year + local.month // 12, local.month % 12 + 1, 1, tzinfo=ROME)
    return first, following


def _pool(request: MediationRequest, user: User, only: MediatorProfile | None):
    stmt = (
        sa.select(MediatorProfile)
        .join(MediatorProfile.user)
        .where(visible(MediatorProfile, user), User.active)
        # joinedload, not selectinload: selectin loads in batches of 500, one more
        # query per 500 mediators.
        .options(joinedload(MediatorProfile.user),
                 joinedload(MediatorProfile.languages).joinedload(MediatorLanguage.language))
        .order_by(User.display_name)
    )
    if only is not None:
        stmt = stmt.where(MediatorProfile.id == only.id)
    return list(db.session.scalars(stmt).unique())


def _language_fit(request_language: Language, spoken: list[tuple[int, int | None]]) -> str:
    """'exact', 'family' (the general language, or a variety of a general request),
    'variety' (a sibling variety only) or 'none'."""
    wanted, parent = request_language.id, request_language.parent_id
    best = "none"
    for language_id, language_parent in spoken:
        if language_id == wanted:
            return "exact"
        general = parent is not None and language_id == parent
        variety_of_general = parent is None and language_parent == wanted
        if general or variety_of_general:
            best = "family"
        elif parent is not None and language_parent == parent and best == "none":
            best = "variety"
    return best


def _place(request: MediationRequest) -> tuple:
    return (request.school_id, request.site_id)


def _needs_travel(a: MediationRequest, b: MediationRequest) -> bool:
    if a.mode != Mode.in_person or b.mode != Mode.in_person:
        return False
    return _place(a) != _place(b)


def rank(request: MediationRequest, user: User, start: datetime | None,
         end: datetime | None, *, ignore: Assignment | None = None,
         only: MediatorProfile | None = None, now: datetime | None = None) -> list[Ranked]:
    """Every mediator the user can see, ranked for ``request`` at ``start``–``end``.

    For a translation (no time range) only the language, coverage and absence on
    the deadline count. ``ignore`` is an assignment that does not count (the one
    a reassignment replaces); ``only`` restricts the ranking to one mediator.
    """
    now = now or utcnow()
    w = weights()
    pool = _pool(request, user, only)
    if not pool:
        return []
    ids = [m.id for m in pool]
    ignore_id = ignore.id if ignore is not None else -1
    school = request.school
    results = {m.id: Ranked(mediator=m) for m in pool}

    spoken = {m.id: [(ml.language_id, ml.language.parent_id) for ml in m.languages]
              for m in pool}
    serving = set(db.session.scalars(
        sa.select(mediator_ambiti.c.mediator_id).where(
            mediator_ambiti.c.mediator_id.in_(ids),
            mediator_ambiti.c.ambito_id == school.ambito_id)
    ))
    serving |= set(db.session.scalars(
        sa.select(MediatorMunicipality.mediator_id).where(
            MediatorMunicipality.mediator_id.in_(ids),
            MediatorMunicipality.municipality == school.municipality)
    ))

    is_meeting = start is not None and end is not None
    window_start = start if is_meeting else request.deadline_dt
    window_end = end if is_meeting else request.deadline_dt
    absences = defaultdict(list)
    if window_start is not None:
        for absence in db.session.scalars(
            sa.select(Absence).where(Absence.mediator_id.in_(ids),
                                     Absence.start_dt <= window_end,
                                     Absence.end_dt > window_start)
        ):
            absences[absence.mediator_id].append(absence)

    availability = defaultdict(list)
    neighbours = defaultdict(list)
    week_hours, month_hours = {}, {}
    buffer = travel_buffer()
    if is_meeting:
        local_start, local_end = in_rome(start), in_rome(end)
        for r in db.session.scalars(
            sa.select(AvailabilityRange).where(AvailabilityRange.mediator_id.in_(ids),
                                               AvailabilityRange.weekday == local_start.weekday())
        ):
            availability[r.mediator_id].append(r)
        day_start, day_end = _local_day_bounds(start)
        for a in db.session.scalars(
            sa.select(Assignment)
            .where(Assignment.mediator_id.in_(ids),
                   Assignment.state.in_(ACTIVE_ASSIGNMENT_STATES),
                   Assignment.start_dt < max(day_end, end + buffer),
                   Assignment.end_dt > min(day_start, start - buffer),
                   # A meeting lasts less than a day (rules.slot_problem): this lower
                   # bound lets the index on (mediator, start) skip the past.
                   Assignment.start_dt > min(day_start, start - buffer) - MAX_MEETING,
                   Assignment.id != ignore_id)
            .options(joinedload(Assignment.request).joinedload(MediationRequest.school))
            .order_by(Assignment.start_dt)
        ):
            neighbours[a.mediator_id].append(a)
        week_hours = _hours_by_mediator(ids, *_week_bounds(start), ignore_id)
        month_hours = _hours_by_mediator(ids, *_month_bounds(start), ignore_id)

    worked_case, worked_school = set(), set()
    history = (
        sa.select(Assignment.mediator_id,
                  sa.func.max(sa.case((MediationRequest.pupil_case_id == request.pupil_case_id,
                                       1), else_=0)))
        .join(MediationRequest, MediationRequest.id == Assignment.request_id)
        # No filter on the mediators: the school's requests are few, and the index on
        # assignments.request_id takes it from there.
        .where(Assignment.state == AssignmentState.accepted,
               Assignment.request_id != request.id,
               sa.func.coalesce(Assignment.start_dt, Assignment.deadline_dt) < now,
               sa.func.coalesce(Assignment.start_dt, Assignment.deadline_dt) >= now - LOOKBACK,
               MediationRequest.school_id == school.id)
        .group_by(Assignment.mediator_id)
    )
    for mediator_id, same_case in db.session.execute(history):
        if mediator_id not in results:
            continue
        worked_school.add(mediator_id)
        if same_case and request.pupil_case_id is not None:
            worked_case.add(mediator_id)
    since = now - timedelta(days=RECENCY_FULL_DAYS)
    # coalesce(start_dt, deadline_dt) would hide start_dt from its index: one branch each.
    accepted = (Assignment.mediator_id.in_(ids), Assignment.state == AssignmentState.accepted)
    when = sa.union_all(
        sa.select(Assignment.mediator_id, Assignment.start_dt.label("at"))
        .where(*accepted, Assignment.start_dt >= since, Assignment.start_dt < now),
        sa.select(Assignment.mediator_id, Assignment.deadline_dt.label("at"))
        .where(*accepted, Assignment.start_dt.is_(None), Assignment.deadline_dt >= since,
               Assignment.deadline_dt < now),
    ).subquery()
    last_assigned = dict(db.session.execute(
        sa.select(when.c.mediator_id, sa.func.max(when.c.at)).group_by(when.c.mediator_id)
    ).all())

    slot_hours = Decimal((end - start).total_seconds()) / 3600 if is_meeting else Decimal(0)
    texts = _Texts()
    for m in pool:
        result = results[m.id]
        result.week_hours = week_hours.get(m.id, Decimal(0))
        result.month_hours = month_hours.get(m.id, Decimal(0))
        fit = _language_fit(request.language, spoken[m.id])
        result.exact_language = fit == "exact"
        if fit == "none":
            result.reasons.append("language")
        elif fit == "variety":
            result.reasons.append("variety")
        if m.id not in serving:
            result.reasons.append("ambito")
        if is_meeting and not any(
            r.start_time <= local_start.time() and local_end.time() <= r.end_time
            and local_start.date() == local_end.date()
            for r in availability[m.id]
        ):
            result.reasons.append("unavailable")
        if absences[m.id]:
            result.reasons.append("absent")
        if is_meeting:
            for a in neighbours[m.id]:
                if a.start_dt < end and start < a.end_dt:
                    result.reasons.append("busy")
                    result.conflict = a
                    break
            else:
                for a in neighbours[m.id]:
                    close = a.start_dt < end + buffer and start - buffer < a.end_dt
                    if close and _needs_travel(a.request, request):
                        result.reasons.append("travel")
                        result.conflict = a
                        break
            if result.week_hours + slot_hours > m.weekly_hour_cap:
                result.reasons.append("over_cap")
        _score(result, request, w, worked_case, worked_school, neighbours[m.id],
               last_assigned.get(m.id), now, is_meeting, texts)

    ranked = sorted(results.values(), key=lambda r: (not r.available, -r.score,
                                                     r.mediator.user.display_name))
    return ranked


class _Texts:
    """The factors' sentences, translated once per ranking rather than once per mediator."""

    def __init__(self):
        self.locale = get_locale()
        self.case = gettext("has already worked with this pupil")
        self.school = gettext("has already worked at this school")
        self.at_school = gettext("already at this school that day")
        self.exact = gettext("speaks exactly the variety asked for")
        self.no_recent = gettext("no assignment in the last 30 days")
        self._numbers: dict = {}

    def number(self, value) -> str:
        if value not in self._numbers:
            self._numbers[value] = babel_format_decimal(value, locale=self.locale)
        return self._numbers[value]

    def workload(self, hours, contract) -> str:
        return gettext("%(hours)s of about %(contract)s contract hours booked this month",
                       hours=self.number(hours), contract=self.number(contract))

    def in_town(self, town) -> str:
        return gettext("already in %(town)s that day", town=town)

    def last(self, days) -> str:
        return ngettext("last assignment %(num)d day ago", "last assignment %(num)d days ago",
                        days)


def _score(result: Ranked, request, w, worked_case, worked_school, neighbours, last, now,
           is_meeting, t: _Texts) -> None:
    m = result.mediator
    factors = result.factors
    if m.id in worked_case:
        factors.append(Factor("continuity", w["continuity_case"], t.case))
    elif m.id in worked_school:
        factors.append(Factor("continuity", w["continuity_school"], t.school))
    if is_meeting:
        contract = (m.weekly_hour_cap * WEEKS_PER_MONTH) or Decimal(1)
        ratio = min(Decimal(1), result.month_hours / contract)
        factors.append(Factor("workload", round(w["workload"] * float(1 - ratio), 1),
                              t.workload(result.month_hours, round(contract))))
        if any(a.request.school_id == request.school_id for a in neighbours):
            factors.append(Factor("proximity", w["proximity_school"], t.at_school))
        elif any(a.request.school.municipality == request.school.municipality
                 for a in neighbours):
            factors.append(Factor("proximity", w["proximity_municipality"],
                                  t.in_town(request.school.municipality)))
    if last is None:
        factors.append(Factor("recency", w["recency"], t.no_recent))
    else:
        if isinstance(last, str):  # SQLite returns MAX() over a UNION as stored text
            last = datetime.fromisoformat(last)
        if last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        days = max(0, (now - last).days)
        factors.append(Factor(
            "recency", round(w["recency"] * min(days, RECENCY_FULL_DAYS) / RECENCY_FULL_DAYS, 1),
            t.last(days),
        ))
    if result.exact_language:
        factors.append(Factor("language", w["exact_language"], t.exact))


def rank_slots(request: MediationRequest, user: User, *,
               ignore: Assignment | None = None) -> tuple[list[SlotRanking], SlotRanking | None]:
    """A ranking for each preferred slot, and the slot whose best candidate scores most."""
    rankings = [SlotRanking(s.position, s.start_dt, s.end_dt,
                            rank(request, user, s.start_dt, s.end_dt, ignore=ignore))
                for s in request.slots]
    best = None
    for ranking in rankings:
        if ranking.best is not None and (best is None or ranking.best.score > best.best.score):
            best = ranking
    return rankings, best


def check(request: MediationRequest, user: User, mediator: MediatorProfile,
          start: datetime | None, end: datetime | None,
          ignore: Assignment | None = None) -> Ranked | None:
    """The one mediator's standing (None when the user cannot see them)."""
    found = rank(request, user, start, end, ignore=ignore, only=mediator)
    return found[0] if found else None
