"""Builds the demo data once, from :mod:`mediation.demo.data`; every choice comes from one
seeded generator, and every date from today.

The work is laid out day by day over each project's school days at the pace its budget
allows (:meth:`_DemoBuilder._generate`): on each day, sessions are added until the cost
of the work done so far reaches the share of the budget those days stand for. A session
goes to a mediator of the Ambito with free hours that week, at a time within their weekly
availability, not absent, with half an hour to spare around their other appointments and
under their weekly cap; it concerns a pupil of the school who speaks one of their
languages (or, for a group meeting, the school's families). Its request goes through
filing, approval, offer, acceptance, the meeting, the log and its approval, each at a
moment of office hours (8:00-19:00, Rome) on a weekday that is not a holiday; where
today falls in that sequence gives the request its state. A few requests are written by
hand (:meth:`_DemoBuilder._add_guided_tour`): those that the accounts of the "start
here" list show.

The many rows (requests, slots, assignments, logs, the audit trail, pupils) are written
with bulk inserts and explicit ids (:meth:`_DemoBuilder._write`); places and people go
through the ORM.
"""

import enum
import random
from bisect import insort
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from hashlib import sha256

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from ..bookings.policy import FEEDBACK_WINDOW
from ..clock import ROME, days_bounds
from ..documents import store_file
from ..extensions import db
from ..models import (
    Absence,
    Action,
    Ambito,
    Assignment,
    AssignmentState,
    AttestationOutcome,
    AuditEvent,
    AvailabilityRange,
    BudgetLine,
    Closure,
    Cycle,
    Direction,
    Document,
    DocumentKind,
    FeedbackSide,
    ItalianLevel,
    Language,
    LogState,
    MacroAction,
    MediationRequest,
    MediatorLanguage,
    MediatorProfile,
    Mode,
    Outcome,
    PlannedHours,
    PreferredSlot,
    Project,
    ProjectExtension,
    PupilCase,
    PupilCaseStatus,
    PupilStatus,
    RequestKind,
    RequestState,
    RequestType,
    Role,
    School,
    SchoolCycle,
    SchoolYear,
    SessionAttestation,
    SessionFeedback,
    SessionLog,
    Site,
    Urgency,
    User,
    UTCDateTime,
)
from ..models.cases import pupil_case_languages
from ..models.rates import EARLIEST, TranslationTariff, day_start, first_rate
from ..seed import (
    FIRST_SCHOOL_YEAR,
    LAST_SCHOOL_YEAR,
    easter_sunday,
    ensure_budget_lines,
    ensure_macro_actions,
    ensure_school_years,
    get_or_create_project,
    iter_days,
    lessons_period,
    regional_closures,
)
from . import data as D
from .examples import add_examples
from .files import delivered_text, source_pdf

#: Office hours: every moment the demo records falls in them, on a weekday that is not a
#: regional holiday.
OFFICE_OPENS, OFFICE_CLOSES = time(8, 0), time(19, 0)
#: Meetings start from 8:30 and end by 17:30.
FIRST_START, LAST_END = 8 * 60 + 30, 17 * 60 + 30
#: Minutes to spare between two appointments of one mediator (the service's travel buffer).
BUFFER = 30


@cache
def _offset(day: date) -> timedelta:
    """Rome's offset from UTC at noon on ``day`` (right at any time from 2:00 to 24:00)."""
    return datetime(day.year, day.month, day.day, 12, tzinfo=ROME).utcoffset()


def _local(day: date, hour: int, minute: int) -> datetime:
    """A wall-clock time in Rome on ``day`` (2:00 or later) as an aware UTC datetime."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - _offset(day)


def _at(day: date, minutes: int) -> datetime:
    return _local(day, *divmod(minutes, 60))


def _rome(moment: datetime) -> datetime:
    """A UTC moment from 1:00 to 22:00 (office hours) as a naive Rome wall-clock time."""
    return moment.replace(tzinfo=None) + _offset(moment.date())


def school_year_of(day: date) -> int:
    return day.year if day.month >= 9 else day.year - 1


def calendar_school_days(first: date, last: date) -> list[date]:
    """The regional school days from ``first`` to ``last`` by the regional calendar's rules
    (seed.lessons_period, seed.regional_closures), whether or not its years are seeded."""
    days = []
    for start_year in range(school_year_of(first), school_year_of(last) + 1):
        begin, end = lessons_period(start_year)
        closed = set()
        for _name, a, b in regional_closures(start_year):
            closed.update(iter_days(a, b))
        for day in iter_days(max(begin, first), min(end, last)):
            if day.weekday() < 5 and day not in closed:
                days.append(day)
    return days


# --- what the builder keeps track of ---------------------------------------------


@dataclass
class _Mediator:
    profile: MediatorProfile
    user: User
    first_name: str
    ambiti: list[str]
    languages: frozenset[str]
    cap_minutes: int
    cost: float
    woman: bool
    availability: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    absent: set[date] = field(default_factory=set)
    #: Appointments by day: sorted (start, end) minutes, local time.
    busy: dict[date, list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))
    #: Minutes booked per ISO week, and minutes kept free (the live journey's headroom).
    week_minutes: dict[tuple[int, int], int] = field(default_factory=lambda: defaultdict(int))
    kept_minutes: dict[tuple[int, int], int] = field(default_factory=lambda: defaultdict(int))

    def free_minutes(self, day: date) -> int:
        week = day.isocalendar()[:2]
        return self.cap_minutes - self.week_minutes[week] - self.kept_minutes[week]

    def is_free(self, day: date, start: int, end: int) -> bool:
        return all(end + BUFFER <= a or b + BUFFER <= start for a, b in self.busy.get(day, ()))

    def starts(self, day: date, minutes: int) -> list[int]:
        """Start times (every half hour) of a meeting of ``minutes`` that day."""
        found = []
        for lo, hi in self.availability.get(day.weekday(), ()):
            first = max(lo, FIRST_START)
            first += -first % 30
            for start in range(first, min(hi, LAST_END) - minutes + 1, 30):
                if self.is_free(day, start, start + minutes):
                    found.append(start)
        return found

    def book(self, day: date, start: int, end: int) -> None:
        insort(self.busy[day], (start, end))
        self.week_minutes[day.isocalendar()[:2]] += end - start

    def release(self, day: date, start: int, end: int) -> None:
        self.busy[day].remove((start, end))
        self.week_minutes[day.isocalendar()[:2]] -= end - start


@dataclass
class _Pupil:
    id: int
    school: "_School"
    languages: list[str]
    arrival_year: int
    first_year: int
    #: (cycle, year of the cycle, section) in each school year followed.
    classes: dict[int, tuple[Cycle, int, str]] = field(default_factory=dict)
    statuses: dict[int, PupilStatus] = field(default_factory=dict)
    at_risk: bool = False


@dataclass
class _School:
    school: School
    tag: str
    ambito: str
    sites: list[Site]
    lead: User | None = None
    teachers: list[User] = field(default_factory=list)
    closed: set[date] = field(default_factory=set)
    pupils: dict[int, list[_Pupil]] = field(default_factory=lambda: defaultdict(list))


@dataclass
class _Assignment:
    id: int
    mediator: _Mediator
    state: AssignmentState
    offered_by: User
    offered: datetime
    responded: datetime | None = None
    decline_reason: str | None = None
    end_reason: str | None = None
    proposed_start: datetime | None = None
    proposed_note: str | None = None


@dataclass
class _Request:
    """A request and everything that happened to it, before it is written."""

    id: int
    project: Project
    school: _School
    type: RequestType
    language: str
    requester: User
    created: datetime
    pupil: _Pupil | None = None
    state: RequestState = RequestState.open
    mode: Mode = Mode.in_person
    urgency: Urgency = Urgency.normal
    day: date | None = None
    minutes: int | None = None
    start: datetime | None = None
    end: datetime | None = None
    deadline: datetime | None = None
    slots: list[tuple[datetime, datetime]] = field(default_factory=list)
    site: Site | None = None
    participants: tuple[int, int, int] = (0, 0, 0)
    notes: str | None = None
    direction: Direction | None = None
    page_count: int | None = None
    rejection_reason: str | None = None
    cancellation: tuple[str, str] | None = None
    cancelled_late: bool = False
    assignments: list[_Assignment] = field(default_factory=list)
    log: dict | None = None
    attestation: dict | None = None
    feedback: list[dict] = field(default_factory=list)
    documents: list[dict] = field(default_factory=list)
    events: list[tuple[datetime, User | None, str, dict]] = field(default_factory=list)

    def event(self, when: datetime, actor: User | None, action: str, **data) -> None:
        self.events.append((when, actor, action, data))


class _DemoBuilder:
    def __init__(self, password: str, now: datetime) -> None:
        self.rng = random.Random(2026)
        # The schools' attestations draw from a stream of their own, so that the rest of
        # the demo (calibrated on budgets and volumes) is the same with or without them.
        self.attest_rng = random.Random(2027)
        self.disputed = False  # whether a session was disputed yet (_attest)
        # The numbers to call of the meetings by phone: a stream of their own too.
        self.call_rng = random.Random(2029)
        # The feedback after held sessions (issue #19): a stream of its own too.
        self.feedback_rng = random.Random(2028)
        self.now = now.replace(microsecond=0)
        self.today = now.astimezone(ROME).date()
        # One hash for everyone: hashing is slow on purpose, and the password is shared.
        self.password_hash = generate_password_hash(password)
        self.ambiti: dict[str, Ambito] = {}
        self.coordinators: dict[str, list[User]] = defaultdict(list)
        self.schools: list[_School] = []
        self.by_code: dict[str, _School] = {}
        self.mediators: list[_Mediator] = []
        self.by_name: dict[str, _Mediator] = {}
        self.requests: list[_Request] = []
        self.pupils: list[_Pupil] = []
        self.ids: dict[str, int] = {}
        self.pks: dict[int, int] = {}
        self.pupil_pools: dict[tuple, list] = {}

    def _pk(self, obj) -> int:
        """The primary key of a row the ORM wrote, read once (attribute access costs)."""
        key = id(obj)
        value = self.pks.get(key)
        if value is None:
            value = self.pks[key] = obj.id
        return value

    # -- entry point

    def build(self) -> None:
        self._load_reference()
        self._add_ambiti_and_schools()
        self._add_people()
        self._add_mediators()
        self._add_successor_project()
        self._add_tariffs()
        self._load_calendar()
        self._add_school_closures()
        db.session.flush()
        # An older schema (the tests of earlier migrations load the demo there) has no
        # attestations.
        self.attesting = sa.inspect(db.session.connection()).has_table("session_attestations")
        # ... nor the number to call of a meeting by phone.
        self.calling = "call_number" in {c["name"] for c in sa.inspect(
            db.session.connection()).get_columns("mediation_requests")}
        self.giving_feedback = sa.inspect(db.session.connection()).has_table(
            "session_feedback")
        self._reserve_ids()
        self._add_pupils()
        self._add_guided_tour()
        self._generate(self.labimpact, D.BUDGET_USE["LABIMPACT"])
        self._generate(self.successor, D.BUDGET_USE["FAMI2127"])
        self._add_planned_hours()
        self._write()
        add_examples(self)
        self._close_a_quarter()

    # -- reference data and calendar

    def _load_reference(self) -> None:
        self.languages = {lang.code: lang for lang in db.session.scalars(sa.select(Language))}
        self.types = {t.code: t for t in db.session.scalars(sa.select(RequestType))}
        self.labimpact = db.session.scalar(sa.select(Project).filter_by(code="LABIMPACT"))

    def _load_calendar(self) -> None:
        self.current_year = school_year_of(self.today)
        last = max(LAST_SCHOOL_YEAR, school_year_of(self.successor.effective_end_date))
        # The demo needs school days around today, even past the years seeded by default.
        ensure_school_years(FIRST_SCHOOL_YEAR, max(last, self.current_year + 1))
        db.session.flush()
        self.years = {
            y.start_date.year: y
            for y in db.session.scalars(sa.select(SchoolYear).order_by(SchoolYear.start_date))
        }
        self.holidays: set[date] = set()
        for closure in db.session.scalars(sa.select(Closure).where(Closure.school_id.is_(None))):
            self.holidays.update(iter_days(closure.start_date, closure.end_date))
        for info in self.schools:
            info.closed.update(self.holidays)

    def _school_days(self, first: date, last: date) -> list[date]:
        """The regional school days from ``first`` to ``last`` (the seeded calendar)."""
        days = []
        for day in iter_days(first, last):
            year = self.years.get(school_year_of(day))
            if (day.weekday() < 5 and day not in self.holidays and year is not None
                    and year.start_date <= day <= year.end_date):
                days.append(day)
        return days

    def _add_school_closures(self) -> None:
        """Closures of single schools: the Ambrosian carnival, and the December bridge
        (ponte) of IC Lodi III."""
        lodi3 = self.by_code["LOIC81200X"]
        for start_year in (self.current_year - 1, self.current_year, self.current_year + 1):
            if start_year not in self.years:
                continue
            ash_wednesday = easter_sunday(start_year + 1) - timedelta(days=46)
            for info in self.schools:
                if info.school.code.startswith("MI"):
                    self._school_closure(
                        info, "Carnevale ambrosiano",
                        ash_wednesday + timedelta(days=1), ash_wednesday + timedelta(days=2),
                    )
            immacolata = date(start_year, 12, 8)
            # Tuesday: the Monday before; Wednesday: Thursday and Friday; Thursday: Friday.
            bridge = {1: (-1, -1), 2: (1, 2), 3: (1, 1)}.get(immacolata.weekday())
            if bridge is not None:
                self._school_closure(
                    lodi3, "Ponte dell'Immacolata (delibera del Consiglio d'Istituto)",
                    immacolata + timedelta(days=bridge[0]), immacolata + timedelta(days=bridge[1]),
                )

    def _school_closure(self, info: _School, name: str, first: date, last: date) -> None:
        db.session.add(
            Closure(school_id=info.school.id, name=name, start_date=first, end_date=last)
        )
        info.closed.update(iter_days(first, last))

    # -- office hours

    def _is_office(self, moment: datetime) -> bool:
        local = _rome(moment)
        return (local.weekday() < 5 and local.date() not in self.holidays
                and OFFICE_OPENS <= local.time() < OFFICE_CLOSES)

    def _office_day(self, day: date, step: int) -> date:
        while day.weekday() >= 5 or day in self.holidays:
            day += timedelta(days=step)
        return day

    def _after(self, moment: datetime, hours: float = 0,
               rng: random.Random | None = None) -> datetime:
        """The first moment of office hours from ``moment`` + ``hours`` (the minutes
        drawn from ``rng``, the demo's own stream by default)."""
        rng = rng or self.rng
        moment = (moment + timedelta(hours=hours)).replace(microsecond=0)
        if self._is_office(moment):
            return moment
        local = _rome(moment)
        day = local.date() if local.time() < OFFICE_OPENS else local.date() + timedelta(days=1)
        day = self._office_day(day, 1)
        return _at(day, 8 * 60 + rng.randrange(0, 75)) + timedelta(
            seconds=rng.randrange(60))

    def _before(self, moment: datetime, hours: float = 0) -> datetime:
        """The last moment of office hours up to ``moment`` - ``hours``."""
        moment = (moment - timedelta(hours=hours)).replace(microsecond=0)
        if self._is_office(moment):
            return moment
        local = _rome(moment)
        day = local.date() if local.time() >= OFFICE_CLOSES else local.date() - timedelta(days=1)
        day = self._office_day(day, -1)
        return _at(day, 19 * 60 - self.rng.randrange(5, 120)) + timedelta(
            seconds=self.rng.randrange(60))

    # -- places and people

    def _add_ambiti_and_schools(self) -> None:
        for code, name, lead_agency in D.AMBITI:
            ambito = Ambito(code=code, name=name, lead_agency=lead_agency)
            db.session.add(ambito)
            self.ambiti[code] = ambito
        for spec in D.SCHOOLS:
            school = School(
                ambito=self.ambiti[spec["ambito"]],
                code=spec["code"],
                name=spec["name"],
                municipality=spec["municipality"],
                requires_lead_approval=spec["approval"],
            )
            # The letterhead of the family letter (numbers that reach no one).
            school.address, school.telephone = D.SCHOOL_CONTACTS[spec["code"]]
            school.cycle_rows = [SchoolCycle(cycle=c) for c in spec["cycles"]]
            sites = []
            for number, (name, address, municipality) in enumerate(spec["sites"], start=1):
                site = Site(
                    code=self._site_code(spec["code"], name, number),
                    name=name,
                    address=address,
                    municipality=municipality,
                )
                school.sites.append(site)
                sites.append(site)
            db.session.add(school)
            info = _School(school, spec["tag"], spec["ambito"], sites)
            self.schools.append(info)
            self.by_code[spec["code"]] = info

    def _site_code(self, school_code: str, site_name: str, number: int) -> str:
        """A plausible codice meccanografico for a plesso of the school."""
        lowered = site_name.lower()
        if "infanzia" in lowered:
            kind = "AA"
        elif "primaria" in lowered:
            kind = "EE"
        elif "secondaria" in lowered:
            kind = "MM"
        else:
            kind = "TF"
        check = self.rng.choice("ABCDEFGHJKLMNPQRSTUVXZ")
        return f"{school_code[:2]}{kind}{school_code[4:7]}{number:02d}{check}"

    def _user(self, email: str, name: str, role: Role, **scope) -> User:
        user = User(
            email=email.lower(),
            display_name=name,
            password_hash=self.password_hash,
            role=role,
            created_dt=_local(date(2018, 9, 3), 9, 0),
            **scope,
        )
        db.session.add(user)
        return user

    def _staff_name(self, used: set[str]) -> str:
        while True:
            name = f"{self.rng.choice(D.STAFF_FIRST_NAMES)} {self.rng.choice(D.STAFF_SURNAMES)}"
            if name not in used:
                used.add(name)
                return name

    def _add_people(self) -> None:
        self.admin = self._user(D.ADMIN_EMAIL, "Referente regionale Lab'Impact", Role.admin)
        for email, name, ambito in D.COORDINATORS:
            user = self._user(email, name, Role.coordinator, ambito=self.ambiti[ambito])
            self.coordinators[ambito].append(user)
        used = {name for _, name, _ in D.COORDINATORS}
        for info in self.schools:
            code = info.school.code.lower()
            info.lead = self._user(
                f"lead.{code}@{D.DEMO_DOMAIN}", self._staff_name(used), Role.lead,
                school=info.school,
            )
            for number in range(1, self.rng.randint(1, 2) + 1):
                local = "docente" if number == 1 else f"docente{number}"
                name, locale = self._staff_name(used), None
                if number == 2 and info.school.code == D.ENGLISH_TEACHER[0]:
                    name, locale = D.ENGLISH_TEACHER[1], "en"
                info.teachers.append(
                    self._user(f"{local}.{code}@{D.DEMO_DOMAIN}", name, Role.teacher,
                               school=info.school, locale=locale)
                )
            if info.school.code == D.ENGLISH_TEACHER[0] and len(info.teachers) < 2:
                info.teachers.append(
                    self._user(f"docente2.{code}@{D.DEMO_DOMAIN}", D.ENGLISH_TEACHER[1],
                               Role.teacher, school=info.school, locale="en")
                )

    def _add_mediators(self) -> None:
        for first, last, served, employer, cap, cost, languages in D.MEDIATORS:
            email_name = first.lower().replace("í", "i")
            user = self._user(
                f"mediatore.{email_name}@{D.DEMO_DOMAIN}", f"{first} {last}", Role.mediator,
                ambito=self.ambiti[served[0]],
            )
            profile = MediatorProfile(
                user=user,
                employer=employer,
                weekly_hour_cap=Decimal(cap),
                rates=[first_rate(Decimal(cost))],
            )
            profile.ambiti = [self.ambiti[code] for code in served]
            for code, level in languages:
                profile.languages.append(
                    MediatorLanguage(language=self.languages[code], level=level)
                )
            info = _Mediator(profile, user, first, served,
                             frozenset(code for code, _ in languages),
                             cap * 60, float(cost), first not in D.MEN)
            pattern = D.FIXED_AVAILABILITY.get(first)
            if pattern is None:
                pattern = {}
                for weekday in sorted(self.rng.sample(range(5), self.rng.randint(3, 5))):
                    ranges = []
                    if self.rng.random() < 0.8:
                        ranges.append((time(8, 0), time(13, 0)))
                    if not ranges or self.rng.random() < 0.6:
                        ranges.append((time(14, 0), time(18, 0)))
                    pattern[weekday] = ranges
            for weekday, ranges in pattern.items():
                for lo, hi in ranges:
                    profile.availability.append(
                        AvailabilityRange(weekday=weekday, start_time=lo, end_time=hi)
                    )
                info.availability[weekday] = [
                    (lo.hour * 60 + lo.minute, hi.hour * 60 + hi.minute) for lo, hi in ranges
                ]
            db.session.add(profile)
            self.mediators.append(info)
            self.by_name[first] = info
        for first, from_day, to_day, reason in D.ABSENCES:
            info = self.by_name[first]
            first_day = self.today + timedelta(days=from_day)
            last_day = self.today + timedelta(days=to_day)
            start_dt, end_dt = days_bounds(first_day, last_day)
            info.profile.absences.append(Absence(start_dt=start_dt, end_dt=end_dt, reason=reason))
            info.absent.update(iter_days(first_day, last_day))
        self.serving = {code: [m for m in self.mediators if code in m.ambiti]
                        for code in self.ambiti}
        self.durations = {code: [m for m, w in options for _ in range(w)]
                          for code, options in D.DURATIONS.items()}
        # The live journey's Arabic meeting in Lodi: its hours are kept free.
        name, lo, hi, days = D.JOURNEY_WINDOW
        mediator = self.by_name[name]
        for day in iter_days(self.today, self.today + timedelta(days=days)):
            start, end = lo.hour * 60 + lo.minute, hi.hour * 60 + hi.minute
            mediator.busy[day].append((start + BUFFER, end - BUFFER))
            mediator.kept_minutes[day.isocalendar()[:2]] = 3 * 60

    # -- projects

    def _add_successor_project(self) -> None:
        project, _ = get_or_create_project(**D.SUCCESSOR)
        ensure_budget_lines(project, D.SUCCESSOR_BUDGET)
        ensure_macro_actions(project)
        # Keep the demo usable after the programme's planned end: extend it past today,
        # with the budget that keeps its pace.
        horizon = self.today + timedelta(days=120)
        if project.effective_end_date < horizon:
            original = len(calendar_school_days(project.start_date, project.end_date))
            new_end = date(horizon.year + 1, 6, 30)
            extra = len(calendar_school_days(project.effective_end_date + timedelta(days=1),
                                             new_end))
            project.extensions.append(ProjectExtension(new_end_date=new_end, note="Proroga"))
            granted = sum(amount for _, amount in D.SUCCESSOR_BUDGET)
            amount = (granted * extra / original / 100).quantize(Decimal(1)) * 100
            project.budget_lines.append(BudgetLine(label=D.EXTENSION_BUDGET_LABEL,
                                                   amount=amount, position=2))
        self.successor = project
        db.session.flush()
        self.macro: dict[int, dict[int, MacroAction]] = {}
        self.action: dict[int, dict[str, Action]] = {}
        for project in (self.labimpact, self.successor):
            self.macro[project.id] = {m.number: m for m in project.macro_actions}
            self.action[project.id] = {
                a.code: a for m in project.macro_actions for a in m.actions
            }

    def _add_tariffs(self) -> None:
        """Each project's translation tariff, valid for all its translations."""
        self.tariffs: dict[int, TranslationTariff] = {}
        for project in (self.labimpact, self.successor):
            tariff = TranslationTariff(project=project, page_cost=D.PAGE_COSTS[project.code],
                                       valid_from=EARLIEST, valid_from_dt=day_start(EARLIEST))
            db.session.add(tariff)
            self.tariffs[project.id] = tariff
        db.session.flush()

    def _add_planned_hours(self) -> None:
        """Each Ambito's plan: the hours its share of the budget buys, per macro-action in
        the proportion of the work it does (macro-action 2: referrals)."""
        costs = [m.cost for m in self.mediators]
        hourly = sum(costs) / len(costs)
        weights = sum(D.AMBITO_WEIGHTS.values())
        kinds = dict(D.TYPE_WEIGHTS)
        minutes = {code: kinds[code] * sum(m * w for m, w in D.DURATIONS[code])
                   / sum(w for _, w in D.DURATIONS[code]) for code in kinds}
        referral = minutes["referral"] / sum(minutes.values())
        for project in (self.labimpact, self.successor):
            hours = float(project.total_budget) / hourly
            for code, weight in D.AMBITO_WEIGHTS.items():
                share = hours * weight / weights
                for number, part in ((1, 1 - referral), (2, referral)):
                    db.session.add(PlannedHours(
                        ambito=self.ambiti[code], macro_action=self.macro[project.id][number],
                        hours=Decimal(round(share * part, -1))))

    # -- pupils

    def _reserve_ids(self) -> None:
        """The first free id of each table the builder writes in bulk."""
        for model in (PupilCase, PupilCaseStatus, MediationRequest, PreferredSlot, Assignment,
                      SessionLog, AuditEvent, Document,
                      *((SessionAttestation,) if self.attesting else ()),
                      *((SessionFeedback,) if self.giving_feedback else ())):
            table = model.__table__
            self.ids[table.name] = (db.session.scalar(sa.select(sa.func.max(table.c.id)))
                                    or 0) + 1

    def _next_id(self, table: str) -> int:
        value = self.ids[table]
        self.ids[table] = value + 1
        return value

    def _add_pupils(self) -> None:
        """Pupils followed by each school since the first school year: a few newly
        followed every year, each in the class of their age (or a year behind), moving up
        a class a year through the cycles the school has, until they finish its last
        cycle or leave."""
        rng = self.rng
        profiles = [p for p in D.FAMILY_PROFILES for _ in range(p[0])]
        years = sorted(y for y in self.years if y <= self.current_year)
        behind = [value for value, weight in D.PLACED_BEHIND for _ in range(weight)]
        since = [value for value, weight in D.YEARS_SINCE_ARRIVAL for _ in range(weight)]
        for info in self.schools:
            cycles = info.school.cycles
            sequence = 0
            for start_year in years:
                new = D.NEW_PUPILS[0] if start_year == years[0] else D.NEW_PUPILS[1]
                for _ in range(rng.randint(*new)):
                    _, languages, countries = rng.choice(profiles)
                    cycle = rng.choices(cycles, [1 if c == Cycle.infanzia else 3
                                                 for c in cycles])[0]
                    grade = rng.randint(1, D.GRADES[cycle])
                    if start_year != years[0] and rng.random() < 0.6:
                        grade = 1  # most newly followed pupils start a cycle
                    age = D.FIRST_AGE[cycle] + grade - 1 + rng.choice(behind)
                    arrival = max(start_year - rng.choice(since), start_year - age)
                    sequence += rng.randint(1, 4)
                    pupil = _Pupil(0, info, languages, arrival, start_year)
                    pupil.code = f"{info.tag}-{start_year}-{sequence:03d}"
                    pupil.country = rng.choice(countries)
                    self._follow(pupil, cycles, cycle, grade, years)
                    self.pupils.append(pupil)

    def _follow(self, pupil: _Pupil, cycles: list[Cycle], cycle: Cycle, grade: int,
                years: list[int]) -> None:
        rng = self.rng
        section = rng.choice("ABCDE")
        pupil.high_absences = rng.random() < 0.2
        pupil.repeated = rng.random() < 0.12
        pupil.at_risk = pupil.high_absences or pupil.repeated
        repeat_year = rng.choice(years) if pupil.repeated else None
        for year in years:
            if year < pupil.first_year:
                continue
            pupil.classes[year] = (cycle, grade, section)
            pupil.school.pupils[year].append(pupil)
            last_of_school = grade == D.GRADES[cycle] and cycle == cycles[-1]
            if year == self.current_year:
                at_risk = pupil.at_risk and rng.random() < 0.6
                pupil.statuses[year] = PupilStatus.at_risk if at_risk else PupilStatus.attending
                break
            if last_of_school:
                pupil.statuses[year] = (PupilStatus.moved_to_next_cycle
                                        if cycle != Cycle.secondaria_2 else PupilStatus.attending)
                break
            if rng.random() < D.LEAVES_SCHOOL:
                pupil.statuses[year] = PupilStatus.left_school
                break
            pupil.statuses[year] = (PupilStatus.at_risk if pupil.at_risk and rng.random() < 0.4
                                    else PupilStatus.attending)
            if year == repeat_year:
                continue  # the same class again next year
            if grade < D.GRADES[cycle]:
                grade += 1
            else:
                cycle, grade, section = cycles[cycles.index(cycle) + 1], 1, rng.choice("ABCDE")

    def _pupil_rows(self) -> tuple[list[dict], list[dict], list[dict]]:
        rng = self.rng
        cases, languages, statuses = [], [], []
        for pupil in self.pupils:
            last = max(pupil.classes)
            cycle, grade, section = pupil.classes[last]
            here = pupil.first_year - pupil.arrival_year
            level = rng.choice(
                [ItalianLevel.a0, ItalianLevel.a1] if here == 0
                else [ItalianLevel.a2, ItalianLevel.b1] if here <= 2
                else [ItalianLevel.b1, ItalianLevel.b2]
            )
            year = self.years[pupil.first_year]
            enrolled = self._office_day(year.start_date + timedelta(days=rng.randint(0, 12)), 1)
            created = min(_at(enrolled, rng.randrange(8 * 60 + 15, 13 * 60)),
                          self._before(self.now, 1))
            cases.append({
                "id": pupil.id, "school_id": self._pk(pupil.school.school), "code": pupil.code,
                "class_name": f"{grade}{section}", "cycle": cycle,
                "arrival_year": pupil.arrival_year, "country_of_origin": pupil.country,
                "high_absences": pupil.high_absences, "repeated_year": pupil.repeated,
                "late_enrolment": here == 0 and rng.random() < 0.4,
                "italian_level": level, "created_dt": created,
                "created_by_id": self._pk(pupil.school.lead), "anonymised_dt": None,
            })
            for code in pupil.languages:
                languages.append({"pupil_case_id": pupil.id,
                                  "language_id": self._pk(self.languages[code])})
            for year_number, status in pupil.statuses.items():
                statuses.append({"id": self._next_id("pupil_case_statuses"),
                                 "pupil_case_id": pupil.id,
                                 "school_year_id": self._pk(self.years[year_number]),
                                 "status": status})
        return cases, languages, statuses

    # -- choosing what a request is about

    def _speakers(self, ambito: str, language: str) -> list[_Mediator]:
        return [m for m in self.mediators if ambito in m.ambiti and language in m.languages]

    def _pupils_for(self, info: _School, year: int, type_code: str,
                    languages: frozenset[str]) -> list[tuple[_Pupil, str]]:
        """Pupils of the school that year who speak one of ``languages``, suited to the
        type: newly arrived for a reception, in the last class of a cycle for an
        orientation."""
        key = (id(info), year, type_code, languages)
        found = self.pupil_pools.get(key)
        if found is None:
            found = self.pupil_pools[key] = self._find_pupils(info, year, type_code,
                                                              languages)
        return found

    def _find_pupils(self, info: _School, year: int, type_code: str,
                     languages: set[str]) -> list[tuple[_Pupil, str]]:
        found = []
        for pupil in info.pupils.get(year, ()):
            spoken = [code for code in pupil.languages if code in languages]
            if not spoken:
                continue
            cycle, grade, _ = pupil.classes[year]
            if type_code == "reception" and pupil.arrival_year < year - 1:
                continue
            if type_code == "orientation" and (grade != D.GRADES[cycle]
                                               or cycle == Cycle.secondaria_2):
                continue
            found.append((pupil, spoken[0]))
        return found

    def _new_request(self, project: Project, info: _School, type_code: str, language: str,
                     created: datetime, pupil: _Pupil | None = None,
                     requester: User | None = None) -> _Request:
        rng = self.rng
        if requester is None:
            requester = rng.choice(info.teachers if info.school.requires_lead_approval
                                   else [*info.teachers, info.lead])
        request = _Request(self._next_id("mediation_requests"), project, info,
                           self.types[type_code], language, requester, created, pupil=pupil)
        request.urgency = Urgency.urgent if rng.random() < 0.08 else Urgency.normal
        request.site = rng.choice(info.sites)
        r = rng.randint
        if type_code == "family_meeting":
            request.participants = (r(0, 1), r(1, 2), r(1, 2))
        elif type_code == "group_meeting":
            request.participants = (0, r(5, 16), r(2, 4))
        elif type_code in ("reception", "referral"):
            request.participants = (int(type_code == "reception"), r(1, 2), r(1, 2))
        elif type_code == "orientation":
            request.participants = (1, r(1, 2), 1)
        self.requests.append(request)
        return request

    def _mode(self, day: date) -> Mode:
        rng = self.rng
        if D.COVID_CLOSURE[0] <= day <= D.COVID_CLOSURE[1]:
            return rng.choice([Mode.video, Mode.video, Mode.phone])
        if date(2020, 9, 1) <= day <= date(2021, 6, 30) and rng.random() < 0.4:
            return Mode.video
        return rng.choices([Mode.in_person, Mode.phone, Mode.video], [16, 2, 2])[0]

    def _slots(self, request: _Request, days: list[date], count: int | None = None) -> None:
        """The meeting's time plus up to two other times the school proposed, on nearby
        school days of the school; a note that fits them."""
        rng = self.rng
        info, minutes = request.school, request.minutes
        index = self.day_index.get(request.day, 0)
        nearby = [d for d in days[max(0, index - 5): index + 6]
                  if d != request.day and d not in info.closed
                  and school_year_of(d) == school_year_of(request.day)]
        if count is None:
            count = rng.choice([0, 1, 1, 2])
        times = [(request.start, request.end)]
        for day in rng.sample(nearby, min(len(nearby), count)):
            start = _at(day, rng.randrange(FIRST_START, LAST_END - minutes + 1, 30))
            times.append((start, start + timedelta(minutes=minutes)))
        rng.shuffle(times)
        request.slots = times
        if request.notes is None and rng.random() < 0.35:
            request.notes = self._note(request)

    def _note(self, request: _Request) -> str | None:
        hours = [(_rome(a).time(), _rome(b).time()) for a, b in request.slots]

        def fits(condition: str | None) -> bool:
            if condition == "afternoon":
                return all(a >= time(14, 0) for a, _ in hours)
            if condition == "morning":
                return all(b <= time(13, 0) for _, b in hours)
            if condition == "woman":
                return all(a.mediator.woman for a in request.assignments)
            if condition == "in_person":
                return request.mode == Mode.in_person
            return True

        notes = [note for note, condition in D.REQUEST_NOTES if fits(condition)]
        return self.rng.choice(notes) if notes else None

    # -- a request's life

    def _timeline(self, request: _Request, coordinator: User, mediator: _Mediator,
                  before: datetime, *, declined: bool = False,
                  superseded: bool = False) -> datetime | None:
        """Approval, offers and acceptance after filing, all before ``before``; the moment
        the request was accepted (None if that is after now, or never: the state says
        where it stands)."""
        rng = self.rng
        info, created = request.school, request.created
        request.event(created, request.requester, "request.submitted",
                      state="awaiting_approval" if self._needs_approval(request) else "open",
                      type=request.type.code)
        for document in request.documents:
            request.event(document["created_dt"], request.requester, "document.uploaded",
                          document_id=document["id"], kind=document["kind"].value)
        moment = created
        for scale in (1.0, 0.4, 0.15, 0.05):
            moments = [created]
            if self._needs_approval(request):
                moments.append(self._after(moments[-1], rng.uniform(0.5, 30) * scale))
            steps = 4 if declined or superseded else 2
            for _ in range(steps):
                moments.append(self._after(moments[-1], rng.uniform(0.3, 30) * scale))
            if moments[-1] < before:
                break
        else:  # nothing fits: each step a minute of office hours after the previous one
            moments = [created]
            for _ in range(6):
                moments.append(self._after(moments[-1], 1 / 60))
        moments = iter(moments[1:])
        if self._needs_approval(request):
            moment = next(moments)
            if moment > self.now:
                request.state = RequestState.awaiting_approval
                return None
            request.event(moment, info.lead, "request.approved")
        others = [m for m in self._speakers(info.ambito, request.language) if m is not mediator]
        if (declined or superseded) and others:
            first = rng.choice(others)
            offered, answered = next(moments), next(moments)
            if offered > self.now:
                request.state = RequestState.open
                return None
            rest = list(moments)
            if answered > self.now or (superseded and rest[0] > self.now):
                # The first answer, or the reassignment, is still to come: the offer is to
                # ``mediator`` alone.
                rest = [offered, answered]
                declined = superseded = False
            moments = iter(rest)
        if (declined or superseded) and others:
            state = AssignmentState.declined if declined else AssignmentState.accepted
            old = _Assignment(self._next_id("assignments"), first, state, coordinator,
                              offered, answered)
            request.assignments.append(old)
            request.event(offered, coordinator, "assignment.offered", assignment=old,
                          mediator_id=self._pk(first.profile))
            if declined:
                old.decline_reason = rng.choice(D.DECLINE_REASONS)
                request.event(answered, first.user, "assignment.declined", assignment=old,
                              mediator_id=self._pk(first.profile))
            else:
                request.event(answered, first.user, "assignment.accepted", assignment=old)
                old.state = AssignmentState.superseded
                old.end_reason = D.SUPERSEDE_REASON
                # Withdrawn at the latest when the request is offered again (``rest[0]``,
                # not after now): a reassignment does both at once.
                withdrawn = min(self._after(answered, rng.uniform(0.3, 1.5)), rest[0])
                request.event(withdrawn, coordinator, "assignment.superseded", assignment=old)
        elif declined or superseded:
            next(moments, None), next(moments, None)
        offered, answered = next(moments, None), next(moments, None)
        if offered is None or offered > self.now:
            request.state = RequestState.open
            return None
        assignment = _Assignment(self._next_id("assignments"), mediator,
                                 AssignmentState.offered, coordinator, offered)
        request.assignments.append(assignment)
        request.event(offered, coordinator, "assignment.offered", assignment=assignment,
                      mediator_id=self._pk(mediator.profile))
        if answered > self.now:
            request.state = RequestState.offered
            return None
        assignment.state, assignment.responded = AssignmentState.accepted, answered
        request.event(answered, mediator.user, "assignment.accepted", assignment=assignment)
        request.state = RequestState.confirmed
        return answered

    def _needs_approval(self, request: _Request) -> bool:
        return (request.school.school.requires_lead_approval
                and request.requester.role == Role.teacher)

    def _log(self, request: _Request, coordinator: User, done: datetime, *,
             outcome: Outcome = Outcome.held, approve: bool = True,
             at: datetime | None = None) -> None:
        """The mediator logs the session after ``done`` (or ``at``); the coordinator
        approves it."""
        rng = self.rng
        assignment = request.assignments[-1]
        mediator = assignment.mediator
        logged = at or self._after(done, rng.uniform(0.3, 40))
        if logged > self.now:
            return  # still to log: the request stays confirmed
        project_id = self._pk(request.project)
        rtype = request.type
        log = {
            "id": self._next_id("session_logs"), "assignment_id": assignment.id,
            "outcome": outcome, "state": LogState.submitted, "created_dt": logged,
            "macro_action_id": self._pk(self.macro[project_id][rtype.default_macro_action_number]),
            "action_id": self._pk(self.action[project_id][rtype.default_action_code]),
            "actual_start_dt": None, "actual_end_dt": None, "pupils_met": 0,
            "parents_met": 0, "teachers_met": 0, "summary": None, "follow_up_needed": False,
            "pages": None, "words": None, "delivered_document_id": None,
            "review_comment": None, "approved_by_id": None, "approved_dt": None,
        }
        pupils, parents, teachers = request.participants
        if rtype.kind == RequestKind.deadline:
            log["pages"] = request.page_count
            log["words"] = request.page_count * rng.randint(220, 380)
            log["summary"] = D.SUMMARIES["translation"][0]
            document = self._document(request, DocumentKind.translation, logged,
                                      mediator.user, words=log["words"])
            log["delivered_document_id"] = document["id"]
            request.event(logged, mediator.user, "document.uploaded",
                          document_id=document["id"], kind=DocumentKind.translation.value)
        else:
            log["actual_start_dt"] = request.start + timedelta(minutes=rng.choice([0, 0, 0, 5]))
            log["actual_end_dt"] = request.end + timedelta(minutes=rng.choice([-5, 0, 0, 0, 10]))
            log["teachers_met"] = teachers
            if outcome == Outcome.held:
                log["pupils_met"] = pupils
                log["parents_met"] = max(1 if parents else 0, parents - rng.choice([0, 0, 1]))
                log["summary"] = rng.choice(D.SUMMARIES[rtype.code])
                log["follow_up_needed"] = rng.random() < 0.2
            else:
                log["summary"] = (D.ABSENT_SUMMARY if outcome == Outcome.family_absent
                                  else D.LATE_SUMMARY)
        request.log = log
        request.state = RequestState.logged
        request.event(logged, mediator.user, "session.logged", assignment=assignment,
                      outcome=outcome.value)
        self._attest(request, logged)
        self._feedback(request, logged, mediator.user, outcome)
        approved = self._after(logged, rng.uniform(1, 90))
        if not approve or approved > self.now:
            return
        log.update(state=LogState.approved, approved_by_id=self._pk(coordinator),
                   approved_dt=approved)
        request.state = RequestState.closed
        request.event(approved, coordinator, "session.approved", assignment=assignment)

    def _call_number(self, request: _Request) -> str | None:
        """A meeting by phone has the number the mediator calls (a landline of Lombardy
        or a mobile), drawn from ``call_rng``."""
        if request.mode != Mode.phone:
            return None
        rng = self.call_rng
        prefix = rng.choice(["0371", "02", "030", "035", "0382", "347", "333"])
        return f"{prefix} {rng.randint(100000, 9999999)}"

    def _attest(self, request: _Request, logged: datetime) -> None:
        """The requesting teacher confirms most sessions a few days after the log; a few
        of the last month's are disputed (the coordinator's queue lists them), and the
        newest are still pending."""
        if not self.attesting:
            return
        rng = self.attest_rng
        answered = self._after(logged, rng.uniform(3, 200), rng)
        if answered > self.now or rng.random() < 0.1:
            return  # pending: not answered yet, or never (the school did not get round to it)
        disputed = (self.now - answered < timedelta(days=30)
                    and (rng.random() < 0.04 or not self.disputed))
        self.disputed = self.disputed or disputed  # at least one, when the month has answers
        outcome = AttestationOutcome.disputed if disputed else AttestationOutcome.attested
        request.attestation = {
            "id": self._next_id("session_attestations"), "session_log_id": request.log["id"],
            "outcome": outcome, "reason": rng.choice(D.DISPUTES) if disputed else None,
            "by_id": self._pk(request.requester), "at": answered,
        }
        request.event(answered, request.requester, f"session.{outcome.value}",
                      log_id=request.log["id"])

    def _feedback(self, request: _Request, logged: datetime, mediator: User,
                  outcome: Outcome) -> None:
        """After a held session, the requesting teacher often says whether it was useful
        (mostly 4 or 5) and the mediator, less often, how the organisation went; each a
        few days after the log, within the 30 days the question stays open."""
        if not self.giving_feedback or outcome != Outcome.held:
            return
        rng = self.feedback_rng
        for side, actor, chance, weights in (
                (FeedbackSide.school, request.requester, 0.7, (2, 4, 12, 38, 44)),
                (FeedbackSide.mediator, mediator, 0.5, (3, 8, 20, 40, 29))):
            answered = self._after(logged, rng.uniform(2, 24 * 18), rng)
            if (answered > self.now or answered > logged + FEEDBACK_WINDOW
                    or rng.random() >= chance):
                continue  # not yet, too late (a holiday came between), or never
            rating = rng.choices((1, 2, 3, 4, 5), weights)[0]
            comments = D.FEEDBACK_COMMENTS[side.value]
            comment = rng.choice(comments) if rng.random() < 0.25 else None
            request.feedback.append({
                "id": self._next_id("session_feedback"), "session_log_id": request.log["id"],
                "side": side, "rating": rating, "comment": comment,
                "by_id": self._pk(actor), "at": answered,
            })
            request.event(answered, actor, "session.feedback", log_id=request.log["id"],
                          side=side.value, rating=rating)

    def _document(self, request: _Request, kind: DocumentKind, when: datetime, actor: User,
                  words: int = 0) -> dict:
        title = request.notes or D.TRANSLATION_DOCUMENTS[0]
        school = request.school.school.name
        if kind == DocumentKind.source:
            content = source_pdf(school, title, request.page_count)
            name = title.rstrip(".").replace("'", " ").replace(" ", "_")[:60] + ".pdf"
        else:
            language = self.languages[request.language].name_it
            content = delivered_text(title, language, request.page_count, words)
            name = f"Traduzione_{request.language}_{request.id}.txt"
        storage_name, content_type = store_file(content, name, sync=False)
        document = {
            "id": self._next_id("documents"), "request_id": request.id, "kind": kind,
            "storage_name": storage_name, "original_name": name,
            "content_type": content_type, "size_bytes": len(content),
            "sha256": sha256(content).hexdigest(), "uploaded_by_id": self._pk(actor),
            "created_dt": when, "purged_dt": None,
        }
        request.documents.append(document)
        return document

    # -- the work of each project

    def _generate(self, project: Project, use: float) -> None:
        """Sessions on the project's school days up to a few weeks ahead, at the pace that
        spends ``use`` of its budget over all its school days."""
        rng = self.rng
        first = max(project.start_date, date(FIRST_SCHOOL_YEAR, 9, 1))
        end = project.effective_end_date
        every_day = calendar_school_days(first, end)

        def weight(day: date) -> float:
            return D.COVID_PACE if D.COVID_CLOSURE[0] <= day <= D.COVID_CLOSURE[1] else 1.0

        per_weight = float(project.total_budget) * use / sum(map(weight, every_day))
        # Nothing is filed before the project starts.
        self.opened = self._after(_at(project.start_date, 8 * 60))
        days = self._school_days(first, min(end, self.today + timedelta(days=D.HORIZON_DAYS)))
        self.days = days
        self.day_index = {day: index for index, day in enumerate(days)}
        target = spent = 0.0
        ambiti = list(D.AMBITO_WEIGHTS)
        weights = list(D.AMBITO_WEIGHTS.values())
        for day in days:
            target += weight(day) * per_weight * rng.uniform(0.5, 1.5)
            failures = 0
            while spent < target and failures < 40:
                ambito = rng.choices(ambiti, weights)[0]
                cost = self._session(project, day, ambito)
                if cost is None:
                    failures += 1
                    continue
                spent += cost
                if rng.random() < D.TRANSLATION_SHARE:
                    spent += self._translation(project, day, ambito)
                if rng.random() < D.UNFILLED_SHARE:
                    self._unfilled(project, day, ambito)

    def _session(self, project: Project, day: date, ambito: str) -> float | None:
        """One meeting on ``day`` in the Ambito; its cost (0 when it was cancelled, or
        filed after now), or None when nobody could take one."""
        rng = self.rng
        year = school_year_of(day)
        codes, weights = zip(*D.TYPE_WEIGHTS, strict=True)
        type_code = rng.choices(codes, weights)[0]
        rtype = self.types[type_code]
        minutes = rng.choice(self.durations[type_code])
        week, weekday = day.isocalendar()[:2], day.weekday()
        mediators, weights = [], []
        for m in self.serving[ambito]:
            free = m.cap_minutes - m.week_minutes[week] - m.kept_minutes[week]
            if free >= minutes and weekday in m.availability and day not in m.absent:
                mediators.append(m)
                weights.append(free / m.cap_minutes)
        if not mediators:
            return None
        mediator = rng.choices(mediators, weights)[0]
        schools = [s for s in self.schools if s.ambito == ambito and day not in s.closed]
        rng.shuffle(schools)
        for info in schools:
            if rtype.concerns_pupil:
                pupils = self._pupils_for(info, year, type_code, mediator.languages)
                if not pupils:
                    continue
                pupil, language = rng.choice(pupils)
            else:
                spoken = {code for p in info.pupils.get(year, ()) for code in p.languages}
                spoken &= mediator.languages
                if not spoken:
                    continue
                pupil, language = None, rng.choice(sorted(spoken))
            break
        else:
            return None
        starts = mediator.starts(day, minutes)
        if not starts:
            return None
        start = rng.choice(starts)
        start_dt = _at(day, start)
        created = max(self._before(start_dt - timedelta(days=rng.uniform(*D.LEAD_DAYS))),
                      self.opened)
        if created > self.now:
            return mediator.cost * minutes / 60  # not asked for yet
        coordinator = rng.choice(self.coordinators[ambito])
        request = self._new_request(project, info, type_code, language, created, pupil)
        request.day, request.start, request.minutes = day, start_dt, minutes
        request.end = start_dt + timedelta(minutes=minutes)
        request.mode = self._mode(day)
        if self._needs_approval(request) and rng.random() < D.REJECTED_SHARE:
            self._slots(request, self.days)
            return self._rejected(request)
        cancel = None
        if rng.random() < D.CANCELLED_SHARE:
            cancel = self._after(created, rng.uniform(2, (start_dt - created).days * 8 + 3))
            if cancel >= start_dt:
                cancel = self._before(start_dt, rng.uniform(0.5, 3))
            if cancel <= created or cancel > self.now:
                cancel = None
        roll = rng.random()
        accepted = self._timeline(
            request, coordinator, mediator, (cancel or start_dt) - timedelta(hours=2),
            declined=roll < D.DECLINED_SHARE,
            superseded=D.DECLINED_SHARE <= roll < D.DECLINED_SHARE + D.SUPERSEDED_SHARE)
        self._slots(request, self.days)
        if cancel is not None:
            self._cancel(request, coordinator, cancel)
            return 0.0
        # Offered or accepted, the time is the mediator's; still open, it is kept for them
        # (the offer page finds them free then).
        mediator.book(day, start, start + minutes)
        if accepted is None:
            return mediator.cost * minutes / 60
        if request.end <= self.now:
            outcome = Outcome.held
            if rtype.kind == RequestKind.slot:
                outcome = rng.choices([Outcome.held, Outcome.family_absent,
                                       Outcome.cancelled_late], [30, 2, 1])[0]
            self._log(request, coordinator, request.end, outcome=outcome)
        return mediator.cost * minutes / 60

    def _rejected(self, request: _Request) -> float:
        rng = self.rng
        request.event(request.created, request.requester, "request.submitted",
                      state="awaiting_approval", type=request.type.code)
        when = self._after(request.created, rng.uniform(0.5, 30))
        if when > self.now:
            request.state = RequestState.awaiting_approval
        else:
            request.state = RequestState.rejected
            request.rejection_reason = rng.choice(D.REJECTION_REASONS)
            request.event(when, request.school.lead, "request.rejected")
        return 0.0

    def _cancel(self, request: _Request, coordinator: User, when: datetime) -> None:
        rng = self.rng
        reason, note = rng.choice(D.CANCELLATIONS)
        # What happened after the cancellation did not happen.
        request.events = [e for e in request.events if e[0] < when]
        kept = {id(e[3].get("assignment")): e[2] for e in request.events}
        request.assignments = [a for a in request.assignments if id(a) in kept]
        for assignment in request.assignments:
            if (assignment.state == AssignmentState.superseded
                    and kept[id(assignment)] != "assignment.superseded"):
                assignment.state, assignment.end_reason = AssignmentState.accepted, None
        request.state = RequestState.cancelled
        request.cancellation = (reason, note)
        request.cancelled_late = (request.start or request.deadline) - when < timedelta(hours=24)
        active = None
        for assignment in request.assignments:
            if assignment.responded is not None and assignment.responded >= when:
                assignment.responded = None
            if assignment.state in (AssignmentState.offered, AssignmentState.accepted):
                if assignment.responded is None:
                    assignment.state = AssignmentState.offered
                active = assignment
        if active is not None:
            active.state = AssignmentState.cancelled
            active.end_reason = "Richiesta annullata: " + note[0].lower() + note[1:]
        actor = rng.choice([request.requester, coordinator])
        request.event(when, actor, "request.cancelled", reason=reason, assignment=active)

    def _translation(self, project: Project, day: date, ambito: str) -> float:
        """A document to translate by ``day`` (its deadline); its cost at the project's
        tariff (0 when nobody could translate it)."""
        rng = self.rng
        year = school_year_of(day)
        info = rng.choice([s for s in self.schools if s.ambito == ambito])
        spoken = {D.WRITTEN_FORM.get(code, code) for p in info.pupils.get(year, ())
                  for code in p.languages}
        options = [(code, m) for code in sorted(spoken) for m in self._speakers(ambito, code)
                   if day not in m.absent]
        if not options:
            return 0.0
        language, mediator = rng.choice(options)
        deadline = _local(day, rng.choice([12, 13, 16]), 0)
        created = self._before(deadline - timedelta(days=rng.uniform(6, 20)))
        pages = rng.randint(1, 4)
        cost = float(self.tariffs[project.id].page_cost) * pages
        if created > self.now:
            return cost  # not asked for yet
        request = self._new_request(project, info, "translation", language, created)
        request.day, request.deadline = day, deadline
        request.direction = rng.choices([Direction.from_italian, Direction.to_italian],
                                        [6, 1])[0]
        request.page_count = pages
        request.notes = rng.choice(D.TRANSLATION_DOCUMENTS)
        self._document(request, DocumentKind.source, created, request.requester)
        coordinator = rng.choice(self.coordinators[ambito])
        accepted = self._timeline(request, coordinator, mediator, deadline - timedelta(days=2))
        if accepted is not None:
            done = self._before(deadline, rng.uniform(1, 30))
            if done > accepted:
                self._log(request, coordinator, done, at=done)
        return cost

    def _unfilled(self, project: Project, day: date, ambito: str) -> None:
        """A meeting in a language no mediator of the Ambito speaks."""
        rng = self.rng
        year = school_year_of(day)
        info = rng.choice([s for s in self.schools if s.ambito == ambito])
        covered = {code for m in self.mediators if ambito in m.ambiti for code in m.languages}
        pupils = [p for p in info.pupils.get(year, ()) if not set(p.languages) & covered]
        if not pupils or day in info.closed:
            return
        pupil = rng.choice(pupils)
        rtype = self.types["family_meeting"]
        start = _at(day, rng.randrange(FIRST_START, LAST_END - 60 + 1, 30))
        created = self._before(start - timedelta(days=rng.uniform(*D.LEAD_DAYS)))
        if created > self.now:
            return
        request = self._new_request(project, info, rtype.code, pupil.languages[0], created,
                                    pupil)
        request.day, request.start, request.minutes = day, start, 60
        request.end = start + timedelta(minutes=60)
        request.mode = self._mode(day)
        self._slots(request, self.days)
        request.event(created, request.requester, "request.submitted",
                      state="awaiting_approval" if self._needs_approval(request) else "open",
                      type=rtype.code)
        moment = created
        if self._needs_approval(request):
            moment = self._after(created, rng.uniform(0.5, 30))
            if moment > self.now:
                request.state = RequestState.awaiting_approval
                return
            request.event(moment, info.lead, "request.approved")
        given_up = self._after(moment, rng.uniform(24, 72))
        if given_up > start:
            # Nobody was found before the meeting: the coordinator says so at the latest
            # on its day, never later (a request asking for a past time is not left open).
            given_up = max(moment, self._before(start))
        if given_up > self.now:
            request.state = RequestState.open
            return
        request.state = RequestState.unfilled
        request.event(given_up, rng.choice(self.coordinators[ambito]), "request.unfilled")

    # -- the guided tour: what the "start here" accounts show

    def _next_days(self, info: _School, count: int, after: date | None = None,
                   weekdays: set[int] | None = None) -> list[date]:
        """The school's next ``count`` school days after ``after`` (today)."""
        after = after or self.today
        days = [d for d in self._school_days(after + timedelta(days=1),
                                             after + timedelta(days=400))
                if d not in info.closed and (weekdays is None or d.weekday() in weekdays)]
        return days[:count]

    def _last_day(self, info: _School) -> date:
        days = [d for d in self._school_days(self.today - timedelta(days=200),
                                             self.today - timedelta(days=1))
                if d not in info.closed]
        return days[-1]

    def _tour_request(self, code: str, type_code: str, language: str, day: date,
                      start: int, hours_ago: float, requester: User | None = None,
                      slots: list[tuple[date, int]] = ()) -> _Request:
        info = self.by_code[code]
        rtype = self.types[type_code]
        pupil = None
        if rtype.concerns_pupil:
            year = school_year_of(day)
            pupils = [p for p in info.pupils.get(year) or info.pupils[max(info.pupils)]
                      if language in p.languages
                      or any(self.languages[c].parent_id == self.languages[language].id
                             for c in p.languages)]
            pupil = pupils[0] if pupils else None
        created = self._before(min(self.now, _at(day, start)), hours_ago)
        request = self._new_request(self.successor, info, type_code, language, created, pupil,
                                    requester or info.teachers[0])
        request.urgency = Urgency.normal
        request.day, request.start = day, _at(day, start)
        request.minutes = rtype.default_duration_minutes
        request.end = request.start + timedelta(minutes=request.minutes)
        request.slots = [(request.start, request.end)] + [
            (_at(d, m), _at(d, m) + timedelta(minutes=request.minutes))
            for d, m in slots]
        return request

    def _add_guided_tour(self) -> None:
        """The requests the "start here" accounts show, whatever the day: IC Lodi III's
        confirmed Arabic family meeting and its request awaiting the lead's approval,
        Fatima's offer to answer and session to log, the Lodi coordinator's open request
        that Elira can take and the Romanian one nobody can (Ionela never works on
        Fridays), and a log waiting for the coordinator's approval."""
        lodi3, codogno = self.by_code["LOIC81200X"], self.by_code["LOIC81800N"]
        coordinator = self.coordinators["LODI"][0]
        fatima, elira = self.by_name["Fatima"], self.by_name["Elira"]

        def accept(request: _Request, mediator: _Mediator, offered_ago: float,
                   accepted: bool = True) -> _Assignment:
            offered = self._before(min(self.now, request.start), offered_ago)
            if offered <= request.created:
                # Both fell in the same evening or weekend: the request was filed earlier,
                # never offered after now.
                request.created = self._before(offered, 0.5)
            request.event(request.created, request.requester, "request.submitted",
                          state="awaiting_approval" if self._needs_approval(request)
                          else "open", type=request.type.code)
            if self._needs_approval(request):
                request.event(self._after(request.created, 0.2), request.school.lead,
                              "request.approved")
            assignment = _Assignment(self._next_id("assignments"), mediator,
                                     AssignmentState.offered, coordinator, offered)
            request.assignments.append(assignment)
            request.event(offered, coordinator, "assignment.offered", assignment=assignment,
                          mediator_id=self._pk(mediator.profile))
            request.state = RequestState.offered
            start = _rome(request.start)
            minutes = start.hour * 60 + start.minute
            mediator.book(request.day, minutes,
                          minutes + request.minutes)
            if accepted:
                answered = self._after(offered, 1.5)
                if answered > min(self.now, request.start):
                    answered = self._before(min(self.now, request.start), 0.1)
                assignment.state, assignment.responded = AssignmentState.accepted, answered
                request.event(answered, mediator.user, "assignment.accepted",
                              assignment=assignment)
                request.state = RequestState.confirmed
            return assignment

        # The teacher's confirmed Arabic family meeting, at 16:00 on the second school day.
        day = self._next_days(lodi3, 2)[-1]
        meeting = self._tour_request("LOIC81200X", "family_meeting", "ar", day, 16 * 60, 60)
        meeting.notes = "Il padre lavora su turni: meglio il pomeriggio."
        accept(meeting, fatima, 30)
        # Fatima's offer to answer: Codogno, 14:30 on the fourth school day.
        day = self._next_days(codogno, 4)[-1]
        offer = self._tour_request("LOIC81800N", "family_meeting", "ar", day, 14 * 60 + 30, 30)
        accept(offer, fatima, 3, accepted=False)
        # Her session to log: yesterday's (the last school day's) meeting at 11:00.
        day = self._last_day(lodi3)
        past = self._tour_request("LOIC81200X", "reception", "ar", day, 11 * 60, 24 * 7)
        accept(past, fatima, 24 * 5)
        # A log for the coordinator to approve: Elira's meeting of the same day.
        day = self._last_day(codogno)
        logged = self._tour_request("LOIC81800N", "family_meeting", "sq", day, 9 * 60, 24 * 8)
        accept(logged, elira, 24 * 6)
        self._log(logged, coordinator, logged.end, approve=False,
                  at=self._before(self.now, 1))
        # An open request Elira can take: Sant'Angelo, three mornings of next week.
        santangelo = self.by_code["LOIC80400V"]
        days = self._next_days(santangelo, 8)[3:6]
        fillable = self._tour_request("LOIC80400V", "family_meeting", "sq", days[0], 10 * 60,
                                      20, slots=[(days[1], 9 * 60), (days[2], 11 * 60)])
        fillable.event(fillable.created, fillable.requester, "request.submitted",
                       state="open", type="family_meeting")
        for slot_day, (start, _end) in zip(days, fillable.slots, strict=True):
            minutes = _rome(start).hour * 60 + _rome(start).minute
            insort(elira.busy[slot_day], (minutes, minutes + 60))  # kept free for the offer
        # One nobody can take: Romanian on Fridays (Ionela, the only Romanian speaker of
        # the Ambito, works Monday to Thursday).
        fridays = self._next_days(codogno, 3, weekdays={4})
        stuck = self._tour_request("LOIC81800N", "family_meeting", "ro", fridays[0], 9 * 60,
                                   26, slots=[(fridays[1], 14 * 60 + 30),
                                              (fridays[2], 10 * 60)])
        stuck.event(stuck.created, stuck.requester, "request.submitted", state="open",
                    type="family_meeting")
        # The lead's approval: a teacher asks for a reception in Chinese next week.
        day = self._next_days(lodi3, 6)[-1]
        pending = self._tour_request("LOIC81200X", "reception", "zh", day, 9 * 60, 2)
        pending.event(pending.created, pending.requester, "request.submitted",
                      state="awaiting_approval", type="reception")
        pending.state = RequestState.awaiting_approval
        self.tour = [meeting, offer, past, logged, fillable, stuck, pending]

    # -- writing

    def _close_a_quarter(self) -> None:
        """The Lodi coordinator has closed the latest quarter ended 60 days ago or more:
        its figures and exports are frozen (reporting/snapshots.py). Sixty days leave the
        logs still to approve out of it."""
        from ..reporting.operations import close_period

        db.session.flush()
        if not sa.inspect(db.session.connection()).has_table("reporting_periods"):
            return  # an older schema (the tests of earlier migrations load the demo there)
        ambito = db.session.scalar(sa.select(Ambito).filter_by(code=D.MARKER_AMBITO))
        coordinator = db.session.scalar(
            sa.select(User).where(User.role == Role.coordinator, User.ambito_id == ambito.id)
            .order_by(User.id))
        last = self.today - timedelta(days=60)
        first_of_next = date(last.year, 3 * ((last.month - 1) // 3) + 1, 1)
        end = first_of_next - timedelta(days=1)
        start = date(end.year, end.month - 2, 1)
        period = close_period(coordinator, ambito, start, end, self.today)
        # Closed on a working morning some days after the quarter's end, not at the moment
        # the demo is built (the demo's every moment is in office hours).
        closed = _at(self._office_day(end + timedelta(days=10), 1), 10 * 60 + 7)
        period.closed_at = closed
        db.session.execute(sa.update(AuditEvent).where(
            AuditEvent.action == "period.closed", AuditEvent.object_type == "ReportingPeriod",
            AuditEvent.object_id == period.id).values(created_dt=closed))

    def _write(self) -> None:
        """Everything the builder collected, in bulk, ids given."""
        for pupil in self.pupils:
            pupil.id = self._next_id("pupil_cases")
        cases, case_languages, statuses = self._pupil_rows()
        requests, slots, assignments, logs, documents, events = [], [], [], [], [], []
        attestations, feedback = [], []
        for request in self.requests:
            last = max([request.created] + [e[0] for e in request.events])
            requests.append({
                "id": request.id, "project_id": self._pk(request.project),
                "school_id": self._pk(request.school.school),
                "site_id": self._pk(request.site) if request.site else None,
                "requester_id": self._pk(request.requester), "type_id": self._pk(request.type),
                "language_id": self._pk(self.languages[request.language]),
                "pupil_case_id": request.pupil.id if request.pupil else None,
                "series_id": None, "series_position": None, "state": request.state,
                "mode": request.mode, "urgency": request.urgency,
                "expected_pupils": request.participants[0],
                "expected_parents": request.participants[1],
                "expected_teachers": request.participants[2],
                "duration_minutes": (request.minutes
                                     if request.deadline is None else None),
                "deadline_dt": request.deadline, "direction": request.direction,
                "page_count": request.page_count, "notes": request.notes,
                "created_dt": request.created, "updated_dt": last,
                # Also kept by a trigger on assignments: set here, it has nothing to change.
                "first_offered_dt": min((a.offered for a in request.assignments), default=None),
                "rejection_reason": request.rejection_reason,
                "cancellation_reason": request.cancellation[0] if request.cancellation else None,
                "cancellation_note": request.cancellation[1] if request.cancellation else None,
                "cancelled_late": request.cancelled_late, "anonymised_dt": None,
            })
            if self.calling:
                requests[-1]["call_number"] = self._call_number(request)
            for position, (start, end) in enumerate(request.slots, start=1):
                slots.append({"id": self._next_id("preferred_slots"), "request_id": request.id,
                              "position": position, "start_dt": start, "end_dt": end})
            for a in request.assignments:
                assignments.append({
                    "id": a.id, "request_id": request.id, "project_id": self._pk(request.project),
                    "school_id": self._pk(request.school.school),
                    "mediator_id": self._pk(a.mediator.profile),
                    "state": a.state, "start_dt": request.start, "end_dt": request.end,
                    "deadline_dt": request.deadline, "offered_by_id": self._pk(a.offered_by),
                    "offered_dt": a.offered, "responded_dt": a.responded,
                    "decline_reason": a.decline_reason, "proposed_start_dt": a.proposed_start,
                    "proposed_note": a.proposed_note, "end_reason": a.end_reason,
                    "sequence": 0, "reminder_sent_dt": None, "log_requested_dt": None,
                })
            if request.log is not None:
                a = request.assignments[-1]
                logs.append(dict(
                    request.log, counted_dt=request.log["actual_start_dt"] or request.deadline,
                    request_id=request.id, project_id=self._pk(request.project),
                    school_id=self._pk(request.school.school),
                    mediator_id=self._pk(a.mediator.profile),
                    type_id=self._pk(request.type), requester_id=self._pk(request.requester),
                    pupil_case_id=request.pupil.id if request.pupil else None,
                    # What it costs (models/rates.py): a demo mediator has one rate, and
                    # a project one translation tariff, both from 2000.
                    rate_id=(self._pk(a.mediator.profile.rates[0])
                             if request.log["actual_start_dt"] else None),
                    tariff_id=(None if request.log["actual_start_dt"]
                               else self._pk(self.tariffs[self._pk(request.project)]))))
            if request.attestation is not None:
                attestations.append(request.attestation)
            feedback.extend(request.feedback)
            documents.extend(request.documents)
            for when, actor, action, data in request.events:
                values = {}
                for key, value in data.items():
                    if isinstance(value, _Assignment):
                        values[f"{key}_id"] = value.id
                    elif value is not None:
                        values[key] = value
                events.append({
                    "id": self._next_id("audit_events"), "created_dt": when,
                    "actor_id": self._pk(actor) if actor is not None else None, "action": action,
                    "object_type": "MediationRequest", "object_id": request.id,
                    "ip_address": None, "data": values,
                })
        # Latest first: the SQLite trigger that keeps a mediator's appointments apart reads
        # the mediator's appointments that start before the new one's end.
        epoch = datetime.min.replace(tzinfo=UTC)
        assignments.sort(key=lambda row: row["start_dt"] or epoch, reverse=True)
        for table, rows in ((PupilCase.__table__, cases), (pupil_case_languages, case_languages),
                            (PupilCaseStatus.__table__, statuses),
                            (MediationRequest.__table__, requests),
                            (PreferredSlot.__table__, slots), (Assignment.__table__, assignments),
                            (Document.__table__, documents), (SessionLog.__table__, logs),
                            (SessionAttestation.__table__, attestations),
                            (SessionFeedback.__table__, feedback),
                            (AuditEvent.__table__, events)):
            _insert(table, rows)
        if db.session.get_bind().dialect.name == "postgresql":
            for name in self.ids:
                db.session.execute(sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'),"
                    f" (SELECT COALESCE(MAX(id), 0) + 1 FROM {name}), false)"))


def _sqlite_moment(value: datetime) -> str:
    """An aware datetime as SQLAlchemy stores it on SQLite: naive UTC text."""
    v = value.astimezone(UTC) if value.utcoffset() else value
    return (f"{v.year:04d}-{v.month:02d}-{v.day:02d}"
            f" {v.hour:02d}:{v.minute:02d}:{v.second:02d}.{v.microsecond:06d}")


def _processor(column: sa.Column, dialect) -> Callable | None:
    """How a value of ``column`` goes to the driver: as SQLAlchemy's bind processing would
    send it, faster for the demo's many moments and enums."""
    if isinstance(column.type, UTCDateTime):
        return _sqlite_moment if dialect.name == "sqlite" else None
    if isinstance(column.type, sa.Enum):
        return lambda value: value.value if isinstance(value, enum.Enum) else value
    return column.type._cached_bind_processor(dialect)


def _insert(table: sa.Table, rows: list[dict], batch: int = 5000) -> None:
    """Insert ``rows`` with the driver's executemany, without SQLAlchemy's per-row work
    (most of the time of a bulk insert of this size)."""
    if not rows:
        return
    connection = db.session.connection()
    dialect = connection.dialect
    columns = list(rows[0])
    processors = [_processor(table.c[name], dialect) for name in columns]
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    names = ", ".join(dialect.identifier_preparer.quote(name) for name in columns)
    statement = (f"INSERT INTO {table.name} ({names})"
                 f" VALUES ({', '.join([marker] * len(columns))})")
    converted = [(i, process) for i, process in enumerate(processors) if process is not None]
    values = []
    for row in rows:
        items = list(row.values())
        for i, process in converted:
            if items[i] is not None:
                items[i] = process(items[i])
        values.append(tuple(items))
    for start in range(0, len(values), batch):
        connection.exec_driver_sql(statement, values[start:start + batch])
