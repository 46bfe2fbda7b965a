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

When nobody can take the times a school proposed, :func:`next_free_times` finds,
for each mediator who speaks the language and covers the school, their next
times that pass the same hard filters (each rule is one function below, used by
both) and the school calendar (``rules.booking_problem``), in a fixed number of
queries whatever the number of mediators, bookings and days.
"""

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import partial

import sqlalchemy as sa
from babel.numbers import format_decimal as babel_format_decimal
from flask import current_app
from flask_babel import get_locale, gettext, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql

from ..clock import day_of, days_bounds, in_rome, month_of, to_utc, week_of
from ..extensions import db
from ..models import (
    ACTIVE_ASSIGNMENT_STATES,
    Absence,
    Assignment,
    AssignmentState,
    AvailabilityRange,
    Language,
    LanguageLevel,
    MediationRequest,
    MediatorLanguage,
    MediatorMunicipality,
    MediatorProfile,
    Mode,
    RequestState,
    Role,
    School,
    User,
    mediator_ambiti,
    utcnow,
)
from ..scoping import Scope, visible
from .rules import Calendar, booking_problem

#: The scope that sees every mediator: to check, at a new time, the mediator who already
#: holds a week of a series, whoever moves it (the school sees no mediator).
EVERY_MEDIATOR = Scope(Role.admin, 0, None, None)

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
#: How many weeks ahead :func:`next_free_times` looks, from tomorrow.
FREE_TIMES_WEEKS = 4
#: How many free times it finds per mediator.
FREE_TIMES_PER_MEDIATOR = 4
#: A free time starts at the beginning of an availability range or this much later.
FREE_TIMES_STEP = timedelta(minutes=30)

#: The states of a request whose assignment was accepted.
WENT_AHEAD = (RequestState.confirmed, RequestState.logged, RequestState.closed)

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


@dataclass(slots=True)
class SpokenLanguage:
    language_id: int
    level: LanguageLevel
    language: Language


@dataclass(slots=True)
class Candidate:
    """What the ranking needs and shows of a mediator (plain values, not ORM objects:
    building a thousand of those cost more than the rest of the ranking)."""

    id: int
    user_id: int
    display_name: str
    employer: str
    weekly_hour_cap: Decimal
    languages: list[SpokenLanguage] = field(default_factory=list)


@dataclass(slots=True)
class Booked:
    """An active assignment next to the slot being ranked."""

    id: int
    mediator_id: int
    start_dt: datetime
    end_dt: datetime
    mode: Mode
    school_id: int
    site_id: int | None
    municipality: str


@dataclass(slots=True)
class Factor:
    """One part of a score; its sentence is written only when a page shows it."""

    code: str
    points: float
    _detail: Callable[[], str] | str

    @property
    def detail(self) -> str:
        return self._detail if isinstance(self._detail, str) else self._detail()


@dataclass(slots=True)
class Ranked:
    """A mediator's standing for one slot."""

    mediator: Candidate
    reasons: list[str] = field(default_factory=list)
    factors: list[Factor] = field(default_factory=list)
    #: None when the mediator is excluded whatever the time (their hours are not read).
    week_hours: Decimal | None = Decimal(0)
    month_hours: Decimal | None = Decimal(0)
    conflict: Booked | None = None
    exact_language: bool = False
    #: The sum of the factors' points (the excluded have neither).
    score: float = 0.0

    @property
    def available(self) -> bool:
        return not self.reasons

    @property
    def reason(self) -> str | None:
        return self.reasons[0] if self.reasons else None

    @property
    def reason_labels(self) -> list[str]:
        return [str(REASONS[code]) for code in self.reasons[:1]]


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


def _duration_expr(start, end):
    """The length of a time range in SQL: days as a float on SQLite, an interval on
    PostgreSQL (adding intervals up is much cheaper there than converting each row)."""
    if db.session.get_bind().dialect.name == "sqlite":
        return sa.func.julianday(end) - sa.func.julianday(start)
    return end - start


def _as_hours(value) -> Decimal:
    if value is None:
        return Decimal(0)
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value) * 86400
    return Decimal(str(round(seconds / 3600, 2)))


_FIT_ORDER = {"none": 0, "variety": 1, "family": 2, "exact": 3}


def _fit_of(request_language: Language, spoken: Language) -> str:
    """How one spoken language fits the request's: 'exact', 'family' (the general
    language, or a variety of a general request), 'variety' (a sibling variety) or
    'none'."""
    wanted, parent = request_language.id, request_language.parent_id
    if spoken.id == wanted:
        return "exact"
    if (parent is not None and spoken.id == parent) or (
            parent is None and spoken.parent_id == wanted):
        return "family"
    if parent is not None and spoken.parent_id == parent:
        return "variety"
    return "none"


def _language_fit(fits: dict[int, str], spoken: list[SpokenLanguage]) -> str:
    """The best fit among the languages a mediator speaks (``fits`` by language id)."""
    best = "none"
    for s in spoken:
        fit = fits[s.language_id]
        if _FIT_ORDER[fit] > _FIT_ORDER[best]:
            best = fit
    return best


def _needs_travel(a: Booked, request: MediationRequest) -> bool:
    if a.mode != Mode.in_person or request.mode != Mode.in_person:
        return False
    return (a.school_id, a.site_id) != (request.school_id, request.site_id)


# -- the hard filters that depend on the time: one function each, for rank and for
#    next_free_times alike ---------------------------------------------------------------


def _within_availability(ranges: list, start: datetime, end: datetime) -> bool:
    """The whole meeting lies inside one of the weekly ranges of its weekday
    (``ranges``: (start time, end time) in Rome)."""
    local_start, local_end = in_rome(start), in_rome(end)
    if local_start.date() != local_end.date():
        return False
    start_time, end_time = local_start.time(), local_end.time()
    return any(r_start <= start_time and end_time <= r_end for r_start, r_end in ranges)


def _is_absent(absences: list, start: datetime, end: datetime) -> bool:
    """One of the absences (start, end) touches the meeting."""
    return any(a_start <= end and a_end > start for a_start, a_end in absences)


def _clash(booked: list[Booked], request: MediationRequest, start: datetime, end: datetime,
           buffer: timedelta) -> tuple[str, Booked] | None:
    """("busy", the booking) when an active booking overlaps the meeting, ("travel", it)
    when one at another place leaves less than the travel buffer, or None."""
    for a in booked:
        if a.start_dt < end and start < a.end_dt:
            return "busy", a
    for a in booked:
        close = a.start_dt < end + buffer and start - buffer < a.end_dt
        if close and _needs_travel(a, request):
            return "travel", a
    return None


def _over_cap(week_hours: Decimal, meeting_hours: Decimal, cap: Decimal) -> bool:
    """The meeting would take the week's booked hours past the weekly cap."""
    return week_hours + meeting_hours > cap


def _hours_of(start: datetime, end: datetime) -> Decimal:
    return Decimal((end - start).total_seconds()) / 3600


class _Texts:
    """The factors' sentences, translated once per ranking rather than once per mediator."""

    def __init__(self):
        self.locale = get_locale()
        self.case = gettext("has already worked with this pupil")
        self.school = gettext("has already worked at this school")
        self.at_school = gettext("already at this school that day")
        self.exact = gettext("speaks exactly the variety asked for")
        self.no_recent = gettext("no assignment in the last 30 days")

    def number(self, value) -> str:
        return babel_format_decimal(value, locale=self.locale)

    def workload(self, hours, contract) -> str:
        return gettext("%(hours)s of about %(contract)s contract hours booked this month",
                       hours=self.number(hours), contract=self.number(contract))

    def in_town(self, town) -> str:
        return gettext("already in %(town)s that day", town=town)

    def last(self, days) -> str:
        return ngettext("last assignment %(num)d day ago", "last assignment %(num)d days ago",
                        days)


class _Pool:
    """What does not depend on the time: who, what they speak, where they work, with
    whom they have worked and when last. Loaded once for all the slots of a request."""

    def __init__(self, request: MediationRequest, user: User, only: MediatorProfile | None,
                 now: datetime, *, scores: bool = True):
        self.request = request
        self.now = now
        self.weights = weights()
        self.buffer = travel_buffer()
        self.texts = _Texts()
        # Rows, not objects: Core execution on the session's connection (and transaction).
        self.conn = db.session.connection()
        # Who may be ranked, as a subquery: a thousand ids as bound parameters in every
        # query cost more to send than the queries cost to run.
        members = (sa.select(MediatorProfile.id).join(MediatorProfile.user)
                   .where(visible(MediatorProfile, user), User.active))
        if only is not None:
            members = members.where(MediatorProfile.id == only.id)
        self.ids = members.scalar_subquery()
        self.candidates = self._candidates(user, only)
        # Language and coverage do not depend on the time: who fails them is excluded
        # for every slot, and nothing that depends on the time is read for them.
        self.static_reasons: dict[int, list[str]] = {}
        self.exact: set[int] = set()
        eligible = []
        for m in self.candidates:
            reasons = []
            fit = _language_fit(self.fits, m.languages)
            if fit == "none":
                reasons.append("language")
            elif fit == "variety":
                reasons.append("variety")
            elif fit == "exact":
                self.exact.add(m.id)
            if m.id not in self.serving:
                reasons.append("ambito")
            self.static_reasons[m.id] = reasons
            if not reasons:
                eligible.append(m.id)
        self.eligible = eligible
        self.worked_case, self.worked_school, self.last_assigned = set(), set(), {}
        if eligible and scores:
            self.worked_case, self.worked_school = self._history()
            self.last_assigned = self._last_assigned()

    def _among(self, column):
        """``column`` is one of the eligible mediators, with their ids as ONE bound value
        (an array on PostgreSQL, a JSON list on SQLite): hundreds of bound parameters
        cost more to send than the queries cost to run."""
        if self.conn.dialect.name == "postgresql":
            # A typed array parameter: a constant for the planner (a text cast to an array
            # would be parsed again for every row).
            return column == sa.any_(
                sa.bindparam("eligible", self.eligible, type_=postgresql.ARRAY(sa.Integer)))
        values = sa.func.json_each(
            sa.bindparam("eligible", json.dumps(self.eligible), type_=sa.String)
        ).table_valued("value")
        return column.in_(sa.select(values.c.value))

    def _candidates(self, user: User, only: MediatorProfile | None) -> list[Candidate]:
        school = self.request.school
        serves = sa.or_(
            sa.exists().where(mediator_ambiti.c.mediator_id == MediatorProfile.id,
                              mediator_ambiti.c.ambito_id == school.ambito_id),
            sa.exists().where(MediatorMunicipality.mediator_id == MediatorProfile.id,
                              MediatorMunicipality.municipality == school.municipality),
        )
        stmt = (
            sa.select(MediatorProfile.id, MediatorProfile.user_id, User.display_name,
                      MediatorProfile.employer, MediatorProfile.weekly_hour_cap, serves)
            .join(MediatorProfile.user)
            .where(visible(MediatorProfile, user), User.active)
            .order_by(User.display_name, MediatorProfile.id)
        )
        if only is not None:
            stmt = stmt.where(MediatorProfile.id == only.id)
        candidates, self.serving = [], set()
        for *row, serving in self.conn.execute(stmt).all():
            candidates.append(Candidate(*row))
            if serving:
                self.serving.add(row[0])
        if not candidates:
            return candidates
        by_id = {c.id: c for c in candidates}
        # The language list is short: all of it, as objects, in one query.
        languages = {language.id: language for language in db.session.scalars(
            sa.select(Language))}
        self.fits = {language_id: _fit_of(self.request.language, language)
                     for language_id, language in languages.items()}
        for mediator_id, language_id, level in self.conn.execute(
            sa.select(MediatorLanguage.mediator_id, MediatorLanguage.language_id,
                      MediatorLanguage.level)
            .where(MediatorLanguage.mediator_id.in_(self.ids))
        ).all():
            by_id[mediator_id].languages.append(
                SpokenLanguage(language_id, level, languages[language_id]))
        return candidates

    def _history(self) -> tuple[set, set]:
        request, now = self.request, self.now
        accepted = Assignment.state == AssignmentState.accepted
        if self.conn.dialect.name == "sqlite":
            # Without statistics SQLite would walk every accepted assignment through the
            # index on (state, start) rather than the school's few requests: the state is
            # wrapped so that no index serves it.
            accepted = sa.func.coalesce(Assignment.state, "") == AssignmentState.accepted
        history = (
            sa.select(Assignment.mediator_id,
                      sa.func.max(sa.case((MediationRequest.pupil_case_id
                                           == request.pupil_case_id, 1), else_=0)))
            .join(MediationRequest, MediationRequest.id == Assignment.request_id)
            # No filter on the mediators: the school's requests are few, and the index on
            # assignments.request_id takes it from there.
            .where(accepted,
                   # Implied by an accepted assignment; said so that the index on
                   # (school, state) finds the school's requests.
                   MediationRequest.state.in_(WENT_AHEAD),
                   Assignment.request_id != request.id,
                   sa.func.coalesce(Assignment.start_dt, Assignment.deadline_dt) < now,
                   sa.func.coalesce(Assignment.start_dt, Assignment.deadline_dt)
                   >= now - LOOKBACK,
                   MediationRequest.school_id == request.school_id)
            .group_by(Assignment.mediator_id)
        )
        worked_case, worked_school = set(), set()
        for mediator_id, same_case in self.conn.execute(history).all():
            worked_school.add(mediator_id)
            if same_case and request.pupil_case_id is not None:
                worked_case.add(mediator_id)
        return worked_case, worked_school

    def _last_assigned(self) -> dict:
        now = self.now
        since = now - timedelta(days=RECENCY_FULL_DAYS)
        # coalesce(start_dt, deadline_dt) would hide start_dt from its index: one branch each.
        accepted = (self._among(Assignment.mediator_id),
                    Assignment.state == AssignmentState.accepted)
        when = sa.union_all(
            sa.select(Assignment.mediator_id, Assignment.start_dt.label("at"))
            .where(*accepted, Assignment.start_dt >= since, Assignment.start_dt < now),
            sa.select(Assignment.mediator_id, Assignment.deadline_dt.label("at"))
            .where(*accepted, Assignment.start_dt.is_(None), Assignment.deadline_dt >= since,
                   Assignment.deadline_dt < now),
        ).subquery()
        result = {}
        for mediator_id, last in self.conn.execute(
            sa.select(when.c.mediator_id, sa.func.max(when.c.at)).group_by(when.c.mediator_id)
        ).all():
            if isinstance(last, str):  # SQLite returns MAX() over a UNION as stored text
                last = datetime.fromisoformat(last)
            if last.tzinfo is None:
                last = last.replace(tzinfo=UTC)
            result[mediator_id] = last
        return result

    # -- what depends on the time -------------------------------------------------------

    def absence_ranges(self, start: datetime, end: datetime) -> dict[int, list]:
        """The absences touching ``start``–``end``, as (start, end) by mediator."""
        found = defaultdict(list)
        if not self.eligible:
            return found
        for mediator_id, a_start, a_end in self.conn.execute(
            sa.select(Absence.mediator_id, Absence.start_dt, Absence.end_dt)
            .where(self._among(Absence.mediator_id), Absence.start_dt <= end,
                   Absence.end_dt > start)
        ).all():
            found[mediator_id].append((a_start, a_end))
        return found

    def absences(self, start: datetime, end: datetime) -> set[int]:
        """The mediators absent at some moment of ``start``–``end``."""
        return {mediator_id for mediator_id, ranges in self.absence_ranges(start, end).items()
                if _is_absent(ranges, start, end)}

    def availability(self, weekdays: set[int]) -> dict:
        ranges = defaultdict(list)
        if not self.eligible:
            return ranges
        for mediator_id, weekday, start_time, end_time in self.conn.execute(
            sa.select(AvailabilityRange.mediator_id, AvailabilityRange.weekday,
                      AvailabilityRange.start_time, AvailabilityRange.end_time)
            .where(self._among(AvailabilityRange.mediator_id),
                   AvailabilityRange.weekday.in_(sorted(weekdays)))
        ).all():
            ranges[mediator_id, weekday].append((start_time, end_time))
        return ranges

    def neighbours(self, start: datetime, end: datetime, ignore_id: int) -> dict:
        """Active assignments that day or within the travel buffer, by mediator."""
        day_start, day_end = day_of(start)
        low, high = min(day_start, start - self.buffer), max(day_end, end + self.buffer)
        return self.bookings(low, high, ignore_id)

    def bookings(self, low: datetime, high: datetime, ignore_id: int) -> dict:
        """Active assignments touching ``low``–``high``, by mediator, earliest first."""
        found = defaultdict(list)
        if not self.eligible:
            return found
        for row in self.conn.execute(
            sa.select(Assignment.id, Assignment.mediator_id, Assignment.start_dt,
                      Assignment.end_dt, MediationRequest.mode, MediationRequest.school_id,
                      MediationRequest.site_id, School.municipality)
            .join(MediationRequest, MediationRequest.id == Assignment.request_id)
            .join(School, School.id == MediationRequest.school_id)
            .where(self._among(Assignment.mediator_id),
                   Assignment.state.in_(ACTIVE_ASSIGNMENT_STATES),
                   Assignment.start_dt < high,
                   Assignment.end_dt > low,
                   # A meeting lasts less than a day (rules.slot_problem): this lower
                   # bound lets the index on (mediator, start) skip the past.
                   Assignment.start_dt > low - MAX_MEETING,
                   Assignment.id != ignore_id)
            .order_by(Assignment.start_dt)
        ).all():
            found[row.mediator_id].append(Booked(*row))
        return found

    def hours(self, week: tuple[datetime, datetime], month: tuple[datetime, datetime],
              ignore_id: int) -> tuple[dict, dict]:
        """Hours booked in the slot's week and in its month, by mediator (one query)."""
        if not self.eligible:
            return {}, {}
        duration = _duration_expr(Assignment.start_dt, Assignment.end_dt)

        def within(bounds):
            return sa.func.sum(sa.case(
                (sa.and_(Assignment.start_dt >= bounds[0], Assignment.start_dt < bounds[1]),
                 duration)))

        rows = self.conn.execute(
            sa.select(Assignment.mediator_id, within(week), within(month))
            .where(self._among(Assignment.mediator_id),
                   Assignment.state.in_(ACTIVE_ASSIGNMENT_STATES),
                   Assignment.start_dt >= min(week[0], month[0]),
                   Assignment.start_dt < max(week[1], month[1]),
                   Assignment.id != ignore_id)
            .group_by(Assignment.mediator_id)
        ).all()
        return ({mid: _as_hours(w) for mid, w, _m in rows if w},
                {mid: _as_hours(m) for mid, _w, m in rows if m})


@dataclass(slots=True)
class _Standing:
    """The part of a mediator's standing that does not depend on the time."""

    reasons: list[str]
    head: list[Factor]  # continuity
    tail: list[Factor]  # recency, exact language
    points: float
    exact_language: bool
    contract: Decimal  # about a month of their weekly hours


def _standings(pool: _Pool) -> list[_Standing]:
    w, t, now = pool.weights, pool.texts, pool.now
    standings = []
    for m in pool.candidates:
        reasons = pool.static_reasons[m.id]
        exact = m.id in pool.exact
        head, tail = [], []
        if reasons:  # excluded whatever the time: no score
            standings.append(_Standing(reasons, head, tail, 0.0, exact, Decimal(1)))
            continue
        if m.id in pool.worked_case:
            head.append(Factor("continuity", w["continuity_case"], t.case))
        elif m.id in pool.worked_school:
            head.append(Factor("continuity", w["continuity_school"], t.school))
        last = pool.last_assigned.get(m.id)
        if last is None:
            tail.append(Factor("recency", w["recency"], t.no_recent))
        else:
            days = max(0, (now - last).days)
            tail.append(Factor(
                "recency",
                round(w["recency"] * min(days, RECENCY_FULL_DAYS) / RECENCY_FULL_DAYS, 1),
                partial(t.last, days),
            ))
        if exact:
            tail.append(Factor("language", w["exact_language"], t.exact))
        standings.append(_Standing(
            reasons, head, tail, sum(f.points for f in head) + sum(f.points for f in tail),
            exact, (m.weekly_hour_cap * WEEKS_PER_MONTH) or Decimal(1),
        ))
    return standings


def _rank(pool: _Pool, standings: list[_Standing], start: datetime | None,
          end: datetime | None, ignore_id: int, *, availability: dict | None = None,
          hours_cache: dict | None = None) -> list[Ranked]:
    request, w, t, buffer = pool.request, pool.weights, pool.texts, pool.buffer
    is_meeting = start is not None and end is not None
    window_start = start if is_meeting else request.deadline_dt
    window_end = end if is_meeting else request.deadline_dt
    absent = pool.absences(window_start, window_end) if window_start is not None else set()
    results = []
    if not is_meeting:
        for m, base in zip(pool.candidates, standings, strict=True):
            if base.reasons or m.id in absent:
                results.append(Ranked(m, base.reasons or ["absent"], [], None, None, None,
                                      base.exact_language))
            else:
                results.append(Ranked(m, [], base.head + base.tail, None, None, None,
                                      base.exact_language, round(base.points, 1)))
        results.sort(key=lambda r: (bool(r.reasons), -r.score))  # as below
        return results

    weekday = in_rome(start).weekday()
    if availability is None:
        availability = pool.availability({weekday})
    neighbours = pool.neighbours(start, end, ignore_id)
    bounds = (week_of(start), month_of(start))
    hours_cache = {} if hours_cache is None else hours_cache
    if bounds not in hours_cache:
        hours_cache[bounds] = pool.hours(*bounds, ignore_id)
    week_hours, month_hours = hours_cache[bounds]
    slot_hours = _hours_of(start, end)
    school_id, municipality = request.school_id, request.school.municipality
    zero, nothing = Decimal(0), []
    for m, base in zip(pool.candidates, standings, strict=True):
        if base.reasons:  # language or coverage: nothing that depends on the time was read
            results.append(Ranked(m, base.reasons, [], None, None, None, base.exact_language))
            continue
        reasons = []
        this_week = week_hours.get(m.id, zero)
        this_month = month_hours.get(m.id, zero)
        if not _within_availability(availability.get((m.id, weekday), nothing), start, end):
            reasons.append("unavailable")
        if m.id in absent:
            reasons.append("absent")
        booked = neighbours.get(m.id, nothing)
        conflict = None
        clash = _clash(booked, request, start, end, buffer)
        if clash is not None:
            reasons.append(clash[0])
            conflict = clash[1]
        if _over_cap(this_week, slot_hours, m.weekly_hour_cap):
            reasons.append("over_cap")
        if reasons:  # excluded: no score
            results.append(Ranked(m, reasons, [], this_week, this_month, conflict,
                                  base.exact_language))
            continue

        # The score: points now, sentences only when shown.
        ratio = min(1.0, float(this_month / base.contract))
        workload = Factor("workload", round(w["workload"] * (1 - ratio), 1),
                          partial(t.workload, this_month, round(base.contract)))
        factors = [*base.head, workload]
        if not booked:
            pass
        elif any(a.school_id == school_id for a in booked):
            factors.append(Factor("proximity", w["proximity_school"], t.at_school))
        elif any(a.municipality == municipality for a in booked):
            factors.append(Factor("proximity", w["proximity_municipality"],
                                  partial(t.in_town, municipality)))
        score = base.points + sum(f.points for f in factors[len(base.head):])
        factors += base.tail
        results.append(Ranked(m, reasons, factors, this_week, this_month, conflict,
                              base.exact_language, round(score, 1)))
    # Candidates come sorted by name and the sort is stable: the available best first,
    # then the excluded by name (easier to find "why not Fatima?" in).
    results.sort(key=lambda r: (bool(r.reasons), -r.score))
    return results


def rank(request: MediationRequest, user: User, start: datetime | None,
         end: datetime | None, *, ignore: Assignment | None = None,
         only: MediatorProfile | None = None, now: datetime | None = None) -> list[Ranked]:
    """Every mediator the user can see, ranked for ``request`` at ``start``–``end``.

    For a translation (no time range) only the language, coverage and absence on
    the deadline count. ``ignore`` is an assignment that does not count (the one
    a reassignment replaces); ``only`` restricts the ranking to one mediator.
    """
    pool = _Pool(request, user, only, now or utcnow())
    if not pool.candidates:
        return []
    return _rank(pool, _standings(pool), start, end, ignore.id if ignore is not None else -1)


def rank_slots(request: MediationRequest, user: User, *, ignore: Assignment | None = None,
               now: datetime | None = None) -> tuple[list[SlotRanking], SlotRanking | None]:
    """A ranking for each preferred slot, and the slot whose best candidate scores most.

    What does not depend on the time is loaded once for all the slots."""
    slots = list(request.slots)
    pool = _Pool(request, user, None, now or utcnow())
    ignore_id = ignore.id if ignore is not None else -1
    rankings = [SlotRanking(s.position, s.start_dt, s.end_dt, []) for s in slots]
    if pool.candidates:
        standings = _standings(pool)
        availability = pool.availability({in_rome(s.start_dt).weekday() for s in slots})
        hours_cache: dict = {}
        for ranking in rankings:
            ranking.ranked = _rank(pool, standings, ranking.start, ranking.end, ignore_id,
                                   availability=availability, hours_cache=hours_cache)
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


# -- when nobody can take the times asked for -------------------------------------------


@dataclass(slots=True)
class FreeTimes:
    """A mediator who could take the request, with their next free times (start, end)."""

    mediator: Candidate
    times: list[tuple[datetime, datetime]] = field(default_factory=list)


@dataclass
class Openings:
    """What :func:`next_free_times` found, from ``first_day`` to ``last_day``."""

    first_day: date
    last_day: date
    duration: timedelta
    #: Those who speak the language and cover the school, soonest free first.
    mediators: list[FreeTimes]
    #: How many of the mediators the user can see do not speak the language (counted,
    #: not listed: they could never take it).
    not_speaking: int

    @property
    def found(self) -> bool:
        return any(m.times for m in self.mediators)


def next_free_times(request: MediationRequest, user: User, *, now: datetime | None = None,
                    weeks: int = FREE_TIMES_WEEKS,
                    per_mediator: int = FREE_TIMES_PER_MEDIATOR) -> Openings:
    """The next times, from tomorrow and for ``weeks`` weeks, at which each mediator the
    user can see who speaks the request's language and covers its school could take
    the request's meeting (its duration).

    A time passes every hard filter of :func:`rank` that depends on the time, with the
    same functions (within the weekly availability, not absent, neither booked then nor
    too close to a booking at another place, under the weekly cap) and the school
    calendar's rules (a school day of the request's project, no closure:
    ``rules.booking_problem``). Within each availability range of a day the earliest
    such start is taken (on the range's start or ``FREE_TIMES_STEP`` after it), so that
    the times offered are spread over days rather than half an hour apart; at most
    ``per_mediator`` times each, soonest first. The meeting is a meeting of this
    request: an open request holds no booking, so none is ignored.

    A fixed number of queries whatever the number of mediators, bookings and days: the
    pool's, the calendar's, one each for the availability, the absences and the
    bookings of the period, and one for the booked hours of each of its weeks.
    """
    now = now or utcnow()
    pool = _Pool(request, user, None, now, scores=False)
    minutes = request.duration_minutes or request.type.default_duration_minutes or 60
    duration = timedelta(minutes=minutes)
    first = in_rome(now).date() + timedelta(days=1)
    last = first + timedelta(days=7 * weeks - 1)
    eligible = [FreeTimes(m) for m in pool.candidates if not pool.static_reasons[m.id]]
    openings = Openings(
        first, last, duration, eligible,
        sum(1 for m in pool.candidates if "language" in pool.static_reasons[m.id]))
    if not eligible:
        return openings

    low, high = days_bounds(first, last)
    calendar = Calendar.load(request.school, first, last)
    availability = pool.availability(set(range(7)))
    absences = pool.absence_ranges(low, high)
    booked = pool.bookings(low - pool.buffer, high + pool.buffer, -1)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    week_hours = {}
    for day in days:
        week = week_of(to_utc(day, time(12)))
        if week not in week_hours:
            week_hours[week] = pool.hours(week, month_of(week[0]), -1)[0]
    meeting_hours = _hours_of(to_utc(first, time(12)), to_utc(first, time(12)) + duration)
    zero, nothing = Decimal(0), []

    for free in eligible:
        m = free.mediator
        absent, bookings = absences.get(m.id, nothing), booked.get(m.id, nothing)
        for day in days:
            if len(free.times) >= per_mediator:
                break
            ranges = sorted(availability.get((m.id, day.weekday()), nothing))
            hours = week_hours[week_of(to_utc(day, time(12)))].get(m.id, zero)
            if not ranges or _over_cap(hours, meeting_hours, m.weekly_hour_cap):
                continue
            for r_start, r_end in ranges:
                start = to_utc(day, r_start)
                while len(free.times) < per_mediator:
                    end = start + duration
                    if not _within_availability([(r_start, r_end)], start, end):
                        break  # past the end of the range
                    if (_within_availability(ranges, start, end)
                            and booking_problem(start, end, calendar, now,
                                                request.project_id) is None
                            and not _is_absent(absent, start, end)
                            and _clash(bookings, request, start, end, pool.buffer) is None):
                        free.times.append((start, end))
                        break  # the next range
                    start += FREE_TIMES_STEP
    eligible.sort(key=lambda f: (not f.times, f.times[0][0] if f.times else now))
    return openings
