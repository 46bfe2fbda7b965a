"""Reads for the mediators' pages, scoped to the user; a fixed number of queries each.

Times: assignments and absences are stored in UTC and placed on Europe/Rome
days and hours here; availability ranges are already Europe/Rome wall-clock
times, so a 08:00–12:00 range is 08:00–12:00 in summer and in winter alike.
"""

import bisect
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm import joinedload, selectinload

from ..clock import day_bounds, in_rome, to_utc, week_bounds, week_start
from ..extensions import db
from ..models import (
    ACTIVE_ASSIGNMENT_STATES,
    Absence,
    Ambito,
    Assignment,
    AssignmentState,
    MediationRequest,
    MediatorLanguage,
    MediatorNoShow,
    MediatorProfile,
    School,
    User,
    mediator_ambiti,
)
from ..scoping import mediators_who_worked_for, scoped, visible

#: Hours shown as rows (week view) or columns (calendar's day view): 07:00 to 19:00–20:00.
FIRST_HOUR = 7
LAST_HOUR = 19
HOURS = list(range(FIRST_HOUR, LAST_HOUR + 1))
WORKING_DAYS = 5


def _when(assignment) -> datetime:
    return assignment.start_dt or assignment.deadline_dt


def _active_in(start: datetime, end: datetime):
    """Active assignments that overlap [start, end), or whose deadline falls in it."""
    return sa.and_(
        Assignment.state.in_(ACTIVE_ASSIGNMENT_STATES),
        sa.or_(
            sa.and_(Assignment.start_dt < end, Assignment.end_dt > start),
            sa.and_(Assignment.deadline_dt >= start, Assignment.deadline_dt < end),
        ),
    )


def _assignment_loaders():
    return (
        joinedload(Assignment.request).options(
            joinedload(MediationRequest.school),
            joinedload(MediationRequest.language),
            joinedload(MediationRequest.type),
        ),
    )


def short_school(name: str, limit: int = 24) -> str:
    """"Istituto Comprensivo Lodi 2" → "IC Lodi 2": what fits in a calendar block."""
    for long, short in (
        ("Istituto Comprensivo Statale", "IC"),
        ("Istituto Comprensivo", "IC"),
        ("Istituto di Istruzione Superiore", "IIS"),
        ("Istituto d'Istruzione Superiore", "IIS"),
        ("Istituto Tecnico", "IT"),
        ("Istituto Professionale", "IP"),
        ("Scuola Primaria", "SP"),
        ("Scuola Secondaria di primo grado", "SS1"),
        ("Liceo Scientifico", "LS"),
    ):
        if name.lower().startswith(long.lower()):
            name = short + name[len(long):]
            break
    return name if len(name) <= limit else name[: limit - 1].rstrip() + "…"


# --- loading one mediator ---------------------------------------------------


def load_mediator(user: User, mediator_id: int | None, *options,
                  worked_for: bool = False) -> MediatorProfile:
    """A mediator the user may see (their own profile when ``mediator_id`` is None), or 404.
    ``worked_for``: also one who once worked in the coordinator's Ambito
    (``scoping.mediators_who_worked_for``: their timesheets)."""
    condition = (mediators_who_worked_for(user) if worked_for
                 else visible(MediatorProfile, user))
    stmt = sa.select(MediatorProfile).where(condition).options(
        joinedload(MediatorProfile.user), *options)
    if mediator_id is None:
        stmt = stmt.where(MediatorProfile.user_id == user.id)
    else:
        stmt = stmt.where(MediatorProfile.id == mediator_id)
    mediator = db.session.scalars(stmt).unique().one_or_none()
    if mediator is None:
        abort(404)
    return mediator


# --- the list of mediators --------------------------------------------------


@dataclass
class MediatorRow:
    mediator: MediatorProfile
    week_hours: Decimal = Decimal(0)
    next_absence: Absence | None = None
    #: The school's reports that the mediator did not come, in the user's scope.
    no_shows: int = 0

    @property
    def over_cap(self) -> bool:
        return self.week_hours > self.mediator.weekly_hour_cap


def _visible_mediators(user: User, ambito_id: int | None):
    stmt = sa.select(MediatorProfile.id).where(visible(MediatorProfile, user))
    if ambito_id is not None:
        stmt = stmt.where(MediatorProfile.id.in_(
            sa.select(mediator_ambiti.c.mediator_id)
            .where(mediator_ambiti.c.ambito_id == ambito_id)
        ))
    return stmt


def _mediators(user: User, ambito_id: int | None, *options) -> list[MediatorProfile]:
    stmt = (
        sa.select(MediatorProfile)
        .where(MediatorProfile.id.in_(_visible_mediators(user, ambito_id)))
        .join(MediatorProfile.user)
        .options(joinedload(MediatorProfile.user), *options)
        .order_by(User.active.desc(), User.display_name, MediatorProfile.id)
    )
    return list(db.session.scalars(stmt).unique())


def week_hours(mediator_ids, first: datetime, last: datetime) -> dict[int, Decimal]:
    """Hours of active meetings starting in [first, last), per mediator, in every Ambito."""
    rows = db.session.execute(
        sa.select(Assignment.mediator_id, Assignment.start_dt, Assignment.end_dt).where(
            Assignment.mediator_id.in_(mediator_ids),
            Assignment.state.in_(ACTIVE_ASSIGNMENT_STATES),
            Assignment.start_dt >= first,
            Assignment.start_dt < last,
        )
    ).all()
    totals: dict[int, Decimal] = {}
    for mediator_id, start, end in rows:
        hours = Decimal((end - start).total_seconds()) / 3600
        totals[mediator_id] = totals.get(mediator_id, Decimal(0)) + hours
    return {k: v.quantize(Decimal("0.01")) for k, v in totals.items()}


def no_show_counts(user: User, mediator_ids, ambito_id: int | None = None) -> dict[int, int]:
    """How many times the schools reported that each mediator did not come, counting the
    requests the user sees (a coordinator: their Ambito's schools; the admin: all, or the
    Ambito chosen). One query."""
    stmt = (sa.select(MediatorNoShow.mediator_id, sa.func.count(MediatorNoShow.id))
            .join(MediationRequest, MediationRequest.id == MediatorNoShow.request_id)
            .where(MediatorNoShow.mediator_id.in_(mediator_ids),
                   visible(MediationRequest, user))
            .group_by(MediatorNoShow.mediator_id))
    if ambito_id is not None:
        stmt = stmt.where(MediationRequest.school_id.in_(
            sa.select(School.id).where(School.ambito_id == ambito_id)))
    return {mediator_id: count for mediator_id, count in db.session.execute(stmt)}


def mediator_list(user: User, now: datetime, ambito_id: int | None = None) -> list[MediatorRow]:
    """The mediators the user may see, with languages, this week's hours and next absence."""
    mediators = _mediators(
        user, ambito_id,
        selectinload(MediatorProfile.languages).joinedload(MediatorLanguage.language),
        selectinload(MediatorProfile.ambiti),
    )
    rows = {m.id: MediatorRow(m) for m in mediators}
    if not rows:
        return []
    ids = _visible_mediators(user, ambito_id)
    monday = week_start(in_rome(now).date())
    hours = week_hours(ids, *week_bounds(monday))
    absences = db.session.scalars(
        sa.select(Absence).where(Absence.mediator_id.in_(ids), Absence.end_dt > now)
        .order_by(Absence.start_dt)
    ).all()
    for absence in absences:
        row = rows.get(absence.mediator_id)
        if row is not None and row.next_absence is None:
            row.next_absence = absence
    for mediator_id, total in hours.items():
        if mediator_id in rows:
            rows[mediator_id].week_hours = total
    for mediator_id, count in no_show_counts(user, ids, ambito_id).items():
        if mediator_id in rows:
            rows[mediator_id].no_shows = count
    return list(rows.values())


# --- placing things on days and hours ---------------------------------------


@dataclass
class Segment:
    """The part of an absence that falls on one day (Europe/Rome)."""

    absence: Absence
    #: None when the absence began on an earlier day / goes on past midnight.
    starts: time | None
    ends: time | None

    @property
    def all_day(self) -> bool:
        return self.starts is None and self.ends is None


def segment(absence: Absence, day: date) -> Segment | None:
    day_start, day_end = day_bounds(day)
    if not (absence.start_dt < day_end and day_start < absence.end_dt):
        return None
    starts = in_rome(absence.start_dt).time() if absence.start_dt > day_start else None
    ends = in_rome(absence.end_dt).time() if absence.end_dt < day_end else None
    return Segment(absence, starts, ends)


@dataclass
class Busy:
    """Time taken by an assignment the user may not see (another Ambito's school)."""

    mediator_id: int
    start_dt: datetime | None
    end_dt: datetime | None
    deadline_dt: datetime | None
    state: AssignmentState
    is_hidden = True


@dataclass
class Cell:
    """One slot of a grid: a day, or an hour of a day."""

    start: datetime
    end: datetime
    day: date
    hour: int | None = None
    available: bool = False
    absences: list[Segment] = field(default_factory=list)
    assignments: list = field(default_factory=list)  # Assignment or Busy, by time
    #: Hours not shown as rows/columns (before 07:00 or after 20:00) fall in the first/last.
    clamped: bool = False

    @property
    def absent(self) -> bool:
        return bool(self.absences)


def _hour_cells(day: date) -> list[Cell]:
    """The hours of a day from 07 to 19; the first and last stretch to midnight."""
    day_start, day_end = day_bounds(day)
    cells = []
    for hour in HOURS:
        start = day_start if hour == FIRST_HOUR else to_utc(day, time(hour))
        end = day_end if hour == LAST_HOUR else to_utc(day, time(hour + 1))
        cells.append(Cell(start, end, day, hour))
    return cells


def _place(cells: list[Cell], assignments, absences) -> None:
    """Put each assignment in the cell it starts in, and mark cells overlapped by absences."""
    starts = [c.start for c in cells]
    for assignment in assignments:
        index = bisect.bisect_right(starts, _when(assignment)) - 1
        if 0 <= index < len(cells) and _when(assignment) < cells[index].end:
            cells[index].assignments.append(assignment)
    for cell in cells:
        cell.assignments.sort(key=_when)
        for absence in absences:
            if absence.start_dt < cell.end and cell.start < absence.end_dt:
                part = segment(absence, cell.day)
                if part is not None:
                    cell.absences.append(part)


def _shown_days(monday: date, extra_days: set[date]) -> list[date]:
    """Monday to Friday, plus Saturday and Sunday when something happens on them."""
    days = [monday + timedelta(days=i) for i in range(WORKING_DAYS)]
    for offset in (5, 6):
        day = monday + timedelta(days=offset)
        if day in extra_days:
            days = [monday + timedelta(days=i) for i in range(offset + 1)]
    return days


# --- one mediator's week ----------------------------------------------------


@dataclass
class WeekDay:
    day: date
    ranges: list = field(default_factory=list)  # AvailabilityRange
    absences: list[Segment] = field(default_factory=list)
    meetings: list = field(default_factory=list)  # Assignment or Busy
    deadlines: list = field(default_factory=list)  # Assignment or Busy
    hours: list[Cell] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.ranges or self.absences or self.meetings or self.deadlines)


def _visible_assignments(user: User, mediator_ids, first: datetime, last: datetime):
    return list(db.session.scalars(
        scoped(Assignment, user)
        .where(Assignment.mediator_id.in_(mediator_ids), _active_in(first, last))
        .options(*_assignment_loaders())
        .order_by(sa.func.coalesce(Assignment.start_dt, Assignment.deadline_dt), Assignment.id)
    ).unique())


def _hidden_assignments(user: User, mediator_ids, first: datetime, last: datetime):
    """Times (only) of the mediators' assignments that the user may not see."""
    rows = db.session.execute(
        sa.select(Assignment.mediator_id, Assignment.start_dt, Assignment.end_dt,
                  Assignment.deadline_dt, Assignment.state)
        .where(Assignment.mediator_id.in_(mediator_ids), _active_in(first, last))
        .where(sa.not_(visible(Assignment, user)))
    ).all()
    return [Busy(*row) for row in rows]


def _absences(mediator_ids, first: datetime, last: datetime) -> list[Absence]:
    return list(db.session.scalars(
        sa.select(Absence).where(
            Absence.mediator_id.in_(mediator_ids),
            Absence.start_dt < last, Absence.end_dt > first,
        ).order_by(Absence.start_dt)
    ))


def week(user: User, mediator: MediatorProfile, monday: date) -> list[WeekDay]:
    """What the mediator's week looks like, day by day and hour by hour.

    ``mediator`` comes with its availability loaded; three more queries:
    assignments the user may see, times of those they may not, absences.
    """
    first, last = week_bounds(monday)
    ids = [mediator.id]
    assignments = _visible_assignments(user, ids, first, last)
    hidden = _hidden_assignments(user, ids, first, last)
    absences = _absences(ids, first, last)
    everything = sorted([*assignments, *hidden], key=_when)
    busy_days = {in_rome(_when(a)).date() for a in everything}
    busy_days |= {monday + timedelta(days=r.weekday) for r in mediator.availability}
    result = []
    for day in _shown_days(monday, busy_days):
        wd = WeekDay(day)
        wd.ranges = [r for r in mediator.availability if r.weekday == day.weekday()]
        wd.absences = [s for s in (segment(a, day) for a in absences) if s is not None]
        todays = [a for a in everything if in_rome(_when(a)).date() == day]
        wd.meetings = [a for a in todays if a.start_dt is not None]
        wd.deadlines = [a for a in todays if a.start_dt is None]
        wd.hours = _hour_cells(day)
        _place(wd.hours, wd.meetings, absences)
        for cell in wd.hours:
            lo, hi = time(cell.hour), time(cell.hour + 1)
            cell.available = any(r.start_time < hi and r.end_time > lo for r in wd.ranges)
        result.append(wd)
    return result


# --- the Ambito's calendar ----------------------------------------------------


@dataclass
class CalendarRow:
    mediator: MediatorProfile
    cells: list[Cell]


@dataclass
class Calendar:
    columns: list[Cell]  # templates for the header: day or hour
    rows: list[CalendarRow]


def calendar(user: User, day: date, by_hour: bool, ambito_id: int | None = None) -> Calendar:
    """Every visible mediator's active assignments and absences, for a week or a day.

    Four queries whatever the number of mediators and assignments: mediators,
    visible assignments (with school, language and type), times of hidden
    ones, absences.
    """
    if by_hour:
        first, last = day_bounds(day)
    else:
        first, last = week_bounds(day)
    mediators = _mediators(user, ambito_id)
    ids = _visible_mediators(user, ambito_id)
    assignments = _visible_assignments(user, ids, first, last) if mediators else []
    hidden = _hidden_assignments(user, ids, first, last) if mediators else []
    absences = _absences(ids, first, last) if mediators else []

    def columns() -> list[Cell]:
        if by_hour:
            return _hour_cells(day)
        cells = []
        for d in shown:
            start, end = day_bounds(d)
            cells.append(Cell(start, end, d))
        return cells

    if not by_hour:
        weekend = {in_rome(_when(a)).date() for a in [*assignments, *hidden]}
        shown = _shown_days(week_start(day), weekend)
    by_mediator: dict[int, list] = {}
    for a in sorted([*assignments, *hidden], key=_when):
        by_mediator.setdefault(a.mediator_id, []).append(a)
    absences_of: dict[int, list[Absence]] = {}
    for absence in absences:
        absences_of.setdefault(absence.mediator_id, []).append(absence)
    rows = []
    for mediator in mediators:
        cells = columns()
        _place(cells, by_mediator.get(mediator.id, []), absences_of.get(mediator.id, []))
        rows.append(CalendarRow(mediator, cells))
    return Calendar(columns(), rows)


def ambiti_for_filter(user: User) -> list[Ambito]:
    return list(db.session.scalars(scoped(Ambito, user).order_by(Ambito.name)))


# --- absences page ----------------------------------------------------------


@dataclass
class AbsenceRow:
    absence: Absence
    conflicts: list = field(default_factory=list)  # Assignment or Busy


def future_absences(user: User, mediator: MediatorProfile, now: datetime) -> list[AbsenceRow]:
    """The mediator's absences not yet over, each with the active assignments during it."""
    absences = list(db.session.scalars(
        sa.select(Absence).where(Absence.mediator_id == mediator.id, Absence.end_dt > now)
        .order_by(Absence.start_dt)
    ))
    if not absences:
        return []
    first = min(a.start_dt for a in absences)
    last = max(a.end_dt for a in absences)
    ids = [mediator.id]
    assignments = sorted(
        [*_visible_assignments(user, ids, first, last),
         *_hidden_assignments(user, ids, first, last)],
        key=_when,
    )
    rows = []
    for absence in absences:
        row = AbsenceRow(absence)
        for a in assignments:
            if a.start_dt is not None:
                overlaps = a.start_dt < absence.end_dt and absence.start_dt < a.end_dt
            else:
                overlaps = absence.start_dt <= a.deadline_dt < absence.end_dt
            if overlaps:
                row.conflicts.append(a)
        rows.append(row)
    return rows
