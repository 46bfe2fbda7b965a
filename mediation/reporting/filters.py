"""The filters shared by the dashboard and the exports, and the session logs they select.

A period is a range of Europe/Rome calendar days, both ends included. The user's scope
comes first: a coordinator sees their Ambito, the admin the region; a filter can only
narrow it, and an id outside it is refused (the caller answers 404).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from ..bounds import valid_id
from ..clock import ROME, month_start, next_month, rome_midnight
from ..extensions import db
from ..models import (
    Ambito,
    Assignment,
    Language,
    LogState,
    MacroAction,
    MediationRequest,
    RequestType,
    Role,
    School,
    SessionLog,
    User,
    with_varieties,
)
from ..scoping import Scope, visible


class OutOfScope(Exception):
    """A filter names an object the user may not see."""


@dataclass(frozen=True)
class ReportFilter:
    start: date  # first day, included (Europe/Rome)
    end: date  # last day, included (Europe/Rome)
    ambito_id: int | None = None
    school_id: int | None = None
    macro_action_id: int | None = None
    language_id: int | None = None
    type_id: int | None = None
    #: One mediator's sessions (the timesheet, :mod:`.sheets`): honoured by the figures
    #: read from the logs (:func:`session_conditions`: ``aggregates.period_figures`` and
    #: the figures built on it), not by those read from the running totals (every date).
    #: The dashboard's form does not offer it.
    mediator_id: int | None = None

    @property
    def start_dt(self) -> datetime:
        """The first instant of the period, aware (Europe/Rome)."""
        return rome_midnight(self.start)

    @property
    def end_dt(self) -> datetime:
        """The first instant after the period, aware (Europe/Rome)."""
        return rome_midnight(self.end + timedelta(days=1))


def _id(args: Mapping, name: str) -> int | None:
    value = args.get(name)
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise OutOfScope(name) from None
    if not valid_id(number):  # no such row; PostgreSQL would refuse to compare it
        raise OutOfScope(name)
    return number


def _check(model, object_id: int | None, user: User) -> None:
    if object_id is None:
        return
    if model in (School, Ambito):
        found = db.session.scalar(
            sa.select(model.id).where(model.id == object_id, visible(model, user)))
    else:  # reference data, the same for everyone
        found = db.session.get(model, object_id)
    if found is None:
        raise OutOfScope(model.__name__)


def parse_filter(args: Mapping, user: User, default_start: date,
                 default_end: date) -> tuple[ReportFilter, dict[str, str]]:
    """A filter from query-string arguments (``start``, ``end`` as ISO dates, ``ambito``,
    ``school``, ``macro_action``, ``language``, ``type``), and errors by field name.

    Bad dates fall back to the defaults with an error message to show; ids the user
    may not see raise :class:`OutOfScope`.
    """
    from flask_babel import gettext as _

    errors = {}
    dates = {}
    for name, default in (("start", default_start), ("end", default_end)):
        raw = args.get(name) or ""
        try:
            dates[name] = date.fromisoformat(raw) if raw else default
        except ValueError:
            dates[name] = default
            errors[name] = _("Enter a date as YYYY-MM-DD.")
        if not errors.get(name) and not 2000 <= dates[name].year <= 2100:
            dates[name] = default
            errors[name] = _("Enter a date between 2000 and 2100.")
    if dates["end"] < dates["start"]:
        errors["end"] = _("The end must not come before the start.")
        dates["end"] = dates["start"]
    ambito_id = _id(args, "ambito")
    if user.role == Role.coordinator:
        if ambito_id not in (None, user.ambito_id):
            raise OutOfScope("ambito")
        ambito_id = user.ambito_id
    report = ReportFilter(
        start=dates["start"], end=dates["end"], ambito_id=ambito_id,
        school_id=_id(args, "school"), macro_action_id=_id(args, "macro_action"),
        language_id=_id(args, "language"), type_id=_id(args, "type"),
    )
    if user.role != Role.coordinator:  # a coordinator's is their own Ambito: in scope
        _check(Ambito, report.ambito_id, user)
    _check(School, report.school_id, user)
    _check(MacroAction, report.macro_action_id, user)
    _check(Language, report.language_id, user)
    _check(RequestType, report.type_id, user)
    return report, errors


def tune_for_reporting() -> None:
    """PostgreSQL, for this transaction only (``SET LOCAL``):

    - sorts and hash tables may use REPORTING_WORK_MEM: the figures group a whole region's
      sessions of a year;
    - every statement is planned for its own period and filters (``plan_cache_mode``):
      psycopg prepares a statement run five times on a connection, and PostgreSQL may then
      keep one generic plan for any period, planned as if it held a few rows.
    """
    from flask import current_app

    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            sa.text("SELECT set_config('work_mem', :work_mem, true),"
                    " set_config('plan_cache_mode', 'force_custom_plan', true)"),
            {"work_mem": current_app.config["REPORTING_WORK_MEM"]})


def session_conditions(report: ReportFilter, user: User | Scope, *,
                       period: bool = True) -> list[sa.ColumnElement[bool]]:
    """Conditions on SessionLog ⋈ School (``School.id == SessionLog.school_id``, as in
    :func:`counted_sessions`) selecting the approved sessions of the filter in the user's
    scope. They use only the log's own columns (its copies of when it counts and of its
    request's school, type...) and the school's, so that the figures need not join
    assignments and requests.

    ``period=False`` leaves the period out (every date), keeping the other filters.

    A period's figures leave out the adjustments (a log approved after its day's period
    had closed, ``SessionLog.adjusted_period_id``): they are shown apart, in the period
    of their approval (``reporting/periods.adjustments``). Every date counts them.
    """
    conditions = [SessionLog.state == LogState.approved]
    if period:
        conditions += [_when() >= report.start_dt, _when() < report.end_dt,
                       SessionLog.adjusted_period_id.is_(None)]
    if report.macro_action_id is not None:
        conditions.append(SessionLog.macro_action_id == report.macro_action_id)
    if needs_schools(report, user):
        conditions.append(visible(School, user))
    if report.ambito_id is not None:
        conditions.append(School.ambito_id == report.ambito_id)
    if report.school_id is not None:
        conditions.append(SessionLog.school_id == report.school_id)
    if report.language_id is not None:
        conditions.append(SessionLog.request_id.in_(
            sa.select(MediationRequest.id)
            .where(MediationRequest.language_id.in_(with_varieties(report.language_id)))))
    if report.type_id is not None:
        conditions.append(SessionLog.type_id == report.type_id)
    if report.mediator_id is not None:
        conditions.append(SessionLog.mediator_id == report.mediator_id)
    return conditions


def school_conditions(report: ReportFilter, user: User | Scope) -> list[sa.ColumnElement[bool]]:
    """The schools of the user's scope, filtered by Ambito and school, on School."""
    conditions = [visible(School, user)]
    if report.ambito_id is not None:
        conditions.append(School.ambito_id == report.ambito_id)
    if report.school_id is not None:
        conditions.append(School.id == report.school_id)
    return conditions


def request_filter_conditions(report: ReportFilter,
                              user: User | Scope) -> list[sa.ColumnElement[bool]]:
    """The scope and the filters that concern a request (Ambito, school, language with its
    varieties, type), on MediationRequest ⋈ School: no period, no macro-action."""
    conditions = school_conditions(report, user)
    if report.language_id is not None:
        conditions.append(MediationRequest.language_id.in_(with_varieties(report.language_id)))
    if report.type_id is not None:
        conditions.append(MediationRequest.type_id == report.type_id)
    return conditions


def request_conditions(report: ReportFilter, user: User | Scope) -> list[sa.ColumnElement[bool]]:
    """The requests filed in the period (``created_dt``, Europe/Rome days) in the user's
    scope, filtered by Ambito, school, language and type, on MediationRequest ⋈ School.
    A request counts against no macro-action until it is logged: that filter is ignored."""
    return [
        MediationRequest.created_dt >= report.start_dt,
        MediationRequest.created_dt < report.end_dt,
        *request_filter_conditions(report, user),
    ]


def _when():
    """When a session counts: when it started or, for a translation, its deadline
    (copied onto the log as ``counted_dt``)."""
    return SessionLog.counted_dt


#: The SQL expression of when a session counts (a column of SessionLog).
session_when = _when


def default_period(today: date | None = None) -> tuple[date, date]:
    """The period shown when none is asked for: the current month and the eleven before
    it, up to today (Europe/Rome)."""
    today = today or datetime.now(ROME).date()
    month = today.year * 12 + today.month - 1 - 11
    return date(month // 12, month % 12 + 1, 1), today


def month_starts(report: ReportFilter) -> list[date]:
    """The first day of every calendar month the period touches, in order."""
    months, first = [], month_start(report.start)
    while first <= report.end:
        months.append(first)
        first = next_month(first)
    return months


def sessions(report: ReportFilter, user: User | Scope, *columns) -> sa.Select:
    """``SELECT columns`` over the approved sessions of the filter, in the user's scope,
    with their assignment, request and school (for the exports, which list them)."""
    return (
        sa.select(*columns)
        .select_from(SessionLog)
        .join(Assignment, Assignment.id == SessionLog.assignment_id)
        .join(MediationRequest, MediationRequest.id == SessionLog.request_id)
        .join(School, School.id == SessionLog.school_id)
        .where(*session_conditions(report, user))
    )


def adjusted_sessions(report: ReportFilter, user: User | Scope, *columns) -> sa.Select:
    """Like :func:`sessions`, over the adjustments counted in the filter's period: the
    approved logs of a closed period's days approved (``approved_dt``) in the period,
    joined to the closed period they adjust (``ReportingPeriod``)."""
    from ..models import ReportingPeriod

    return (
        sa.select(*columns)
        .select_from(SessionLog)
        .join(Assignment, Assignment.id == SessionLog.assignment_id)
        .join(MediationRequest, MediationRequest.id == SessionLog.request_id)
        .join(School, School.id == SessionLog.school_id)
        .join(ReportingPeriod, ReportingPeriod.id == SessionLog.adjusted_period_id)
        .where(*session_conditions(report, user, period=False),
               SessionLog.approved_dt >= report.start_dt,
               SessionLog.approved_dt < report.end_dt)
    )


def counted_sessions(report: ReportFilter, user: User | Scope, *columns,
                     period: bool = True) -> sa.Select:
    """``SELECT columns`` over the approved sessions of the filter, in the user's scope,
    reading the logs and their schools only (the dashboard's figures). Without a scope
    nor an Ambito filter (the admin's region) the schools are not joined, unless
    ``columns`` need them."""
    select = sa.select(*columns).select_from(SessionLog)
    if needs_schools(report, user) or any(
            School.__table__ in sa.select(column).get_final_froms() for column in columns):
        select = select.join(School, School.id == SessionLog.school_id)
    return select.where(*session_conditions(report, user, period=period))


def needs_schools(report: ReportFilter, user: User | Scope) -> bool:
    """Whether the user's scope or the filter is about schools (anyone but the admin, or
    an Ambito filter); a school filter is on the log's or request's own school_id."""
    return user.role != Role.admin or report.ambito_id is not None
