"""Reads for the pupil pages, scoped to the user; a fixed number of queries each.

What "high risk", "a session", "a transition coming up" and "a follow-up not yet
booked" mean is defined here, once: in SQL for the list of cases at risk, and in
Python (:func:`risk_indicator_count`, :func:`is_high_risk`) for the case page.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased, joinedload, selectinload

from ..clock import day_start, in_rome
from ..coordination.queries import meeting_time
from ..extensions import db
from ..models import (
    Ambito,
    Assignment,
    Cycle,
    ItalianLevel,
    MediationRequest,
    MediatorProfile,
    Outcome,
    PupilCase,
    PupilCaseStatus,
    PupilStatus,
    RequestState,
    RequestType,
    Role,
    School,
    SchoolYear,
    SessionLog,
    User,
)
from ..scoping import get_or_404, scoped, visible

# --- the definitions ----------------------------------------------------------

#: Grades of each cycle: a pupil whose class starts with the last grade's digit is in the
#: last year of the cycle (mediation/demo/ builds classes the same way).
CYCLE_GRADES = {Cycle.infanzia: 3, Cycle.primaria: 5, Cycle.secondaria_1: 3,
                Cycle.secondaria_2: 5}
#: Italian levels that count as a risk indicator.
LOW_ITALIAN_LEVELS = (ItalianLevel.a0, ItalianLevel.a1)
#: High risk: at least this many of the four indicators (high absences, repeated year,
#: late enrolment, Italian A0/A1), or the status "at risk" in the current school year.
HIGH_RISK_MIN_INDICATORS = 2
#: A session is a logged session (any log state) where the mediator went: a session
#: cancelled at the last minute did not take place.
SESSION_OUTCOMES = (Outcome.held, Outcome.family_absent)
#: A later request in one of these states books the follow-up a session asked for.
FOLLOW_UP_BOOKED_STATES = (RequestState.open, RequestState.offered, RequestState.confirmed,
                           RequestState.logged, RequestState.closed)
#: The request type that prepares a transition between cycles.
ORIENTATION = "orientation"
#: An orientation request in one of these states does not prepare the transition.
ORIENTATION_VOID_STATES = (RequestState.cancelled, RequestState.rejected,
                           RequestState.unfilled)
#: Statuses that take a case off the list of cases at risk (it left school), or off the
#: transitions (it has already moved on).
LEFT = (PupilStatus.left_school,)
MOVED_ON = (PupilStatus.moved_to_next_cycle, PupilStatus.left_school)
#: A case without a status this school year is still followed if last year's status was
#: one of these (the lead has not recorded this year's yet).
CONTINUING = (PupilStatus.attending, PupilStatus.at_risk)


def risk_indicator_count(case: PupilCase) -> int:
    """How many of the four risk indicators a case has."""
    return (int(bool(case.high_absences)) + int(bool(case.repeated_year))
            + int(bool(case.late_enrolment))
            + int(case.italian_level in LOW_ITALIAN_LEVELS))


def is_high_risk(case: PupilCase, status: PupilStatus | None) -> bool:
    """High risk: enough indicators, or "at risk" in the current school year."""
    return (risk_indicator_count(case) >= HIGH_RISK_MIN_INDICATORS
            or status == PupilStatus.at_risk)


def _one_if(condition) -> sa.ColumnElement[int]:
    return sa.case((condition, 1), else_=0)


def _indicator_count_sql() -> sa.ColumnElement[int]:
    """:func:`risk_indicator_count` in SQL."""
    return (_one_if(PupilCase.high_absences) + _one_if(PupilCase.repeated_year)
            + _one_if(PupilCase.late_enrolment)
            + _one_if(PupilCase.italian_level.in_(LOW_ITALIAN_LEVELS)))


def _high_risk_sql(status_column) -> sa.ColumnElement[bool]:
    """:func:`is_high_risk` in SQL, ``status_column`` the current year's status (or NULL)."""
    return sa.or_(_indicator_count_sql() >= HIGH_RISK_MIN_INDICATORS,
                  status_column == PupilStatus.at_risk)


def _last_grade_sql() -> sa.ColumnElement[bool]:
    """The case is in the last grade of its cycle."""
    return sa.or_(*(
        sa.and_(PupilCase.cycle == cycle, PupilCase.class_name.like(f"{grade}%"))
        for cycle, grade in CYCLE_GRADES.items()
    ))


def is_last_grade(case: PupilCase) -> bool:
    return case.class_name.strip().startswith(str(CYCLE_GRADES[case.cycle]))


def session_time():
    """When a session took place: its actual start, else the planned one, else the log."""
    return sa.func.coalesce(SessionLog.actual_start_dt, Assignment.start_dt,
                            Assignment.deadline_dt, SessionLog.created_dt)


# --- the school year -----------------------------------------------------------


def today(now: datetime) -> date:
    return in_rome(now).date()


def current_school_year(now: datetime) -> SchoolYear | None:
    """The school year under way: the latest that has started (in summer, the one ended)."""
    return db.session.scalar(
        sa.select(SchoolYear).where(SchoolYear.start_date <= today(now))
        .order_by(SchoolYear.start_date.desc()).limit(1)
    )


def current_and_previous_school_years(now: datetime
                                      ) -> tuple[SchoolYear | None, SchoolYear | None]:
    """The school year under way and the one before it (in one query)."""
    years = started_school_years(now, limit=2)
    return (years[0] if years else None, years[1] if len(years) > 1 else None)


def started_school_years(now: datetime, limit: int = 6) -> list[SchoolYear]:
    """The school years a status can be set for: those that have started, newest first."""
    return list(db.session.scalars(
        sa.select(SchoolYear).where(SchoolYear.start_date <= today(now))
        .order_by(SchoolYear.start_date.desc()).limit(limit)
    ))


# --- a case and its timeline ---------------------------------------------------


def load_case(case_id: int, user: User) -> PupilCase:
    """A case the user may see, with its school, languages and statuses, or a 404."""
    case = db.session.scalar(
        scoped(PupilCase, user).where(PupilCase.id == case_id).options(
            joinedload(PupilCase.school).joinedload(School.ambito),
            selectinload(PupilCase.home_languages),
            selectinload(PupilCase.statuses).joinedload(PupilCaseStatus.school_year),
        )
    )
    if case is None:
        get_or_404(PupilCase, -1, user)  # aborts with the 404 page
    return case


@dataclass
class TimelineEntry:
    request: MediationRequest
    when: datetime
    mediators: list[str] = field(default_factory=list)
    logs: list[SessionLog] = field(default_factory=list)


def _involved(assignment: Assignment) -> bool:
    """A mediator took part: the offer is open or accepted, or the session was logged."""
    return assignment.session_log is not None or assignment.state.value in ("offered",
                                                                            "accepted")


def timeline(case: PupilCase, user: User) -> list[TimelineEntry]:
    """Every request about the case the user may see, newest first, with mediators and logs."""
    when = sa.func.coalesce(meeting_time(), MediationRequest.created_dt)
    requests = db.session.scalars(
        scoped(MediationRequest, user)
        .where(MediationRequest.pupil_case_id == case.id)
        .options(
            joinedload(MediationRequest.type),
            selectinload(MediationRequest.slots),
            selectinload(MediationRequest.assignments).options(
                joinedload(Assignment.mediator).joinedload(MediatorProfile.user),
                joinedload(Assignment.session_log),
            ),
        )
        .order_by(when.desc(), MediationRequest.id.desc())
    ).all()
    entries = []
    for req in requests:
        logs = [a.session_log for a in req.assignments if a.session_log is not None]
        active = next((a for a in req.assignments if a.state.value in ("offered", "accepted")),
                      None)
        moment = (
            next((log.actual_start_dt for log in logs if log.actual_start_dt), None)
            or ((active.start_dt or active.deadline_dt) if active else None)
            or (req.slots[0].start_dt if req.slots else None)
            or req.deadline_dt or req.created_dt
        )
        names = []
        for assignment in req.assignments:
            name = assignment.mediator.user.display_name
            if _involved(assignment) and name not in names:
                names.append(name)
        entries.append(TimelineEntry(request=req, when=moment, mediators=names, logs=logs))
    return entries


def school_leads(case: PupilCase, user: User) -> list[User]:
    """The leads of the case's school (whom a coordinator asks to book the next step)."""
    return list(db.session.scalars(
        scoped(User, user).where(User.school_id == case.school_id, User.role == Role.lead,
                                 User.active)
        .order_by(User.display_name)
    ))


# --- the lead's list -----------------------------------------------------------

#: Value of the status filter for cases without a status in the current year.
NO_STATUS = "none"


@dataclass
class CaseFilters:
    class_name: str | None = None
    status: str | None = None  # a PupilStatus value or NO_STATUS


def class_names(user: User) -> list[str]:
    return list(db.session.scalars(
        sa.select(PupilCase.class_name).where(visible(PupilCase, user))
        .distinct().order_by(PupilCase.class_name)
    ))


def school_cases(user: User, year: SchoolYear | None, filters: CaseFilters) -> sa.Select:
    """The cases of the user's school matching ``filters``, by class and code (to paginate)."""
    stmt = scoped(PupilCase, user).order_by(PupilCase.class_name, PupilCase.code)
    if filters.class_name:
        stmt = stmt.where(PupilCase.class_name == filters.class_name)
    if filters.status:
        this_year = sa.select(PupilCaseStatus.id).where(
            PupilCaseStatus.pupil_case_id == PupilCase.id,
            PupilCaseStatus.school_year_id == (year.id if year is not None else None),
        )
        if filters.status == NO_STATUS:
            stmt = stmt.where(~this_year.exists())
        else:
            stmt = stmt.where(this_year.where(
                PupilCaseStatus.status == PupilStatus(filters.status)).exists())
    return stmt


def statuses_in(year: SchoolYear | None, cases: list[PupilCase]) -> dict[int, PupilStatus]:
    """The status in ``year`` of each of ``cases`` that has one, by case id (one query)."""
    if year is None or not cases:
        return {}
    return dict(db.session.execute(
        sa.select(PupilCaseStatus.pupil_case_id, PupilCaseStatus.status).where(
            PupilCaseStatus.school_year_id == year.id,
            PupilCaseStatus.pupil_case_id.in_([case.id for case in cases]),
        )
    ).all())


# --- the cases at risk -----------------------------------------------------------


@dataclass
class AtRiskRow:
    case_id: int
    code: str
    class_name: str
    cycle: Cycle
    school_id: int
    school_name: str
    ambito_name: str
    status: PupilStatus | None
    indicators: int
    last_session: datetime | None
    no_recent_session: bool
    follow_up_pending: bool
    transition_without_orientation: bool


def at_risk(user: User, now: datetime, weeks: int, school_id: int | None = None
            ) -> list[AtRiskRow]:
    """The cases in the user's scope that need a next step, in two queries whatever their number.

    Only the cases followed this school year are considered: those with a status this
    year other than "left school"; without one, those whose status last year was
    :data:`CONTINUING`, or that have no status at all yet (new codes). One is listed when

    - it is high risk (:func:`is_high_risk`) and has had no session since ``weeks`` weeks
      before ``now`` (a session exactly ``weeks`` weeks ago is recent enough);
    - its latest session asked for a follow-up and no request about it in
      :data:`FOLLOW_UP_BOOKED_STATES` was made, or takes place, after that session;
    - it is in the last grade of its cycle in the current school year, has not moved on,
      and has no orientation request since the year started that is still valid.

    The most urgent first: by the number of risk indicators (most first), then by the
    time since the last session (never first, then the longest ago), then by school,
    class and code.
    """
    year, previous = current_and_previous_school_years(now)
    cutoff = now - timedelta(weeks=weeks)

    when = session_time()
    sessions = (
        sa.select(
            MediationRequest.pupil_case_id.label("case_id"),
            MediationRequest.id.label("request_id"),
            when.label("session_dt"),
            SessionLog.follow_up_needed.label("follow_up"),
            sa.func.row_number().over(
                partition_by=MediationRequest.pupil_case_id,
                order_by=(when.desc(), SessionLog.id.desc()),
            ).label("position"),
        )
        .join(Assignment, SessionLog.assignment_id == Assignment.id)
        .join(MediationRequest, Assignment.request_id == MediationRequest.id)
        .where(MediationRequest.pupil_case_id.is_not(None),
               SessionLog.outcome.in_(SESSION_OUTCOMES),
               visible(MediationRequest, user))
        .subquery("sessions")
    )
    latest = (
        sa.select(sessions).where(sessions.c.position == 1).subquery("latest")
    )
    status = aliased(PupilCaseStatus, name="current_status")
    on_year = status.school_year_id == year.id if year is not None else sa.false()
    last_year = aliased(PupilCaseStatus, name="previous_status")
    on_last_year = (last_year.school_year_id == previous.id if previous is not None
                    else sa.false())
    followed = sa.or_(
        status.status.not_in(LEFT),
        sa.and_(status.id.is_(None), sa.or_(
            last_year.status.in_(CONTINUING),
            ~sa.exists().where(PupilCaseStatus.pupil_case_id == PupilCase.id),
        )),
    )

    no_recent_session = sa.and_(
        _high_risk_sql(status.status),
        sa.or_(latest.c.session_dt.is_(None), latest.c.session_dt < cutoff),
    )
    follow_up_pending = sa.and_(
        latest.c.follow_up.is_(True),
        ~sa.exists().where(
            MediationRequest.pupil_case_id == PupilCase.id,
            MediationRequest.id != latest.c.request_id,
            MediationRequest.state.in_(FOLLOW_UP_BOOKED_STATES),
            sa.or_(MediationRequest.created_dt > latest.c.session_dt,
                   meeting_time() > latest.c.session_dt),
        ),
    )
    if year is None:
        transition = sa.false()
    else:
        year_start = day_start(year.start_date)
        transition = sa.and_(
            _last_grade_sql(),
            sa.or_(status.status.is_(None), status.status.not_in(MOVED_ON)),
            ~sa.exists().where(
                MediationRequest.pupil_case_id == PupilCase.id,
                MediationRequest.type_id == RequestType.id,
                RequestType.code == ORIENTATION,
                MediationRequest.state.not_in(ORIENTATION_VOID_STATES),
                sa.or_(MediationRequest.created_dt >= year_start,
                       meeting_time() >= year_start),
            ),
        )

    indicators = _indicator_count_sql()
    stmt = (
        sa.select(
            PupilCase.id, PupilCase.code, PupilCase.class_name, PupilCase.cycle,
            School.id, School.name, Ambito.name, status.status, indicators,
            latest.c.session_dt,
            _one_if(no_recent_session), _one_if(follow_up_pending), _one_if(transition),
        )
        .join(School, School.id == PupilCase.school_id)
        .join(Ambito, Ambito.id == School.ambito_id)
        .outerjoin(status, sa.and_(status.pupil_case_id == PupilCase.id, on_year))
        .outerjoin(last_year, sa.and_(last_year.pupil_case_id == PupilCase.id, on_last_year))
        .outerjoin(latest, latest.c.case_id == PupilCase.id)
        .where(
            visible(PupilCase, user),
            followed,
            sa.or_(no_recent_session, follow_up_pending, transition),
        )
        .order_by(indicators.desc(), latest.c.session_dt.asc().nulls_first(),
                  Ambito.name, School.name, PupilCase.class_name, PupilCase.code)
    )
    if school_id is not None:
        stmt = stmt.where(PupilCase.school_id == school_id)
    return [
        AtRiskRow(case_id=row[0], code=row[1], class_name=row[2], cycle=row[3],
                  school_id=row[4], school_name=row[5], ambito_name=row[6], status=row[7],
                  indicators=int(row[8]), last_session=row[9], no_recent_session=bool(row[10]),
                  follow_up_pending=bool(row[11]),
                  transition_without_orientation=bool(row[12]))
        for row in db.session.execute(stmt)
    ]


def schools(user: User) -> list[School]:
    """The schools the user may filter the list by."""
    return list(db.session.scalars(scoped(School, user).order_by(School.name)))
