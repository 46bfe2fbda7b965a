"""Funder-reporting exports: the sessions of a period, the pseudonymous beneficiaries,
the quarterly monitoring summary and the adjustments (the sessions of closed periods
approved in the period, counted in it apart: ``reporting/periods.py``), each defined
here as a :class:`~.spreadsheets.Table` (its columns, its rows, their labels);
:mod:`.spreadsheets` writes it as CSV (streamed) or XLSX.

Every export reads the approved sessions selected by :func:`filters.sessions` (the
dashboard's filter, in the user's scope). Row exports stream from the database
(``yield_per``: a server-side cursor on PostgreSQL) and are written as they come;
aggregates are computed by the database (``GROUP BY``), never by loading rows.

A pupil appears only by the pseudonymous code the school gave them: never the country
of origin, the risk indicators, nor any free text (the session summary, notes, comments).

Headers, labels and file names are Italian unless the caller asks for English (how each
language's CSV is written: :mod:`.spreadsheets`). Dates and times are Europe/Rome.

Figures are exact (README, "Exports for the funder"): every export that has hours has
them twice: ``Hours`` not rounded for display (the XLSX's float; 10 decimals in the CSV,
so that their sum rounds to the dashboard's figure) and ``Minutes``, an integer that adds
up exactly: the sum of a column of minutes ÷ 60 is the dashboard's hours for the same
filter, and the summary's totals are the sums of its rows. The CSV never rounds hours to
two decimals: a column of rounded hours does not add up to the total (16.09 against
16.08).
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _

from ..clock import ROME, rome_midnight
from ..extensions import db
from ..labels import ATTESTATION_LABELS, CYCLE_LABELS, MODE_LABELS, OUTCOME_LABELS, ROLE_LABELS
from ..models import (
    Action,
    Ambito,
    Assignment,
    Language,
    MacroAction,
    MediationRequest,
    MediatorProfile,
    MediatorRate,
    Outcome,
    Project,
    PupilCase,
    ReportingPeriod,
    RequestKind,
    RequestType,
    School,
    SessionAttestation,
    SessionLog,
    TranslationTariff,
    User,
)
from ..models.cases import pupil_case_languages
from ..scoping import Scope
from .aggregates import session_cost_seconds, with_prices
from .filters import (
    ReportFilter,
    adjusted_sessions,
    session_when,
    sessions,
    tune_for_reporting,
)
from .spreadsheets import Column, Kind, Table

KINDS = ("sessions", "beneficiaries", "summary", "adjustments")
FORMATS = ("csv", "xlsx")
LOCALES = ("it", "en")
DEFAULT_LOCALE = "it"
#: Rows fetched from the database at a time while streaming.
BATCH = 2_000


# -- SQL helpers


def _sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


def _seconds_sum(start, end):
    """The total length of the sessions' time ranges, in seconds, computed by the database
    (translations, without a time range, add nothing)."""
    if _sqlite():
        def epoch(column):
            return sa.cast(sa.func.strftime("%s", column), sa.Integer)
        return sa.func.coalesce(sa.func.sum(epoch(end) - epoch(start)), 0)
    return sa.func.coalesce(sa.extract("epoch", sa.func.sum(end - start)), 0)


def _hours(seconds) -> float:
    return float(seconds or 0) / 3600


def _minutes(seconds) -> int | float:
    """Seconds as minutes: an int, exact (sessions are logged to the minute), so that a
    column of them adds up exactly; a float only for seconds that make no whole minute."""
    minutes, rest = divmod(int(seconds or 0), 60)
    if rest or int(seconds or 0) != (seconds or 0):
        return float(seconds) / 60
    return minutes


def _stream(statement: sa.Select) -> Iterator[sa.Row]:
    """The rows of ``statement``, fetched :data:`BATCH` at a time (a server-side cursor on
    PostgreSQL), never all at once."""
    result = db.session.execute(statement.execution_options(yield_per=BATCH))
    try:
        yield from result
    finally:
        result.close()


def _rome_date(moment: datetime | None) -> date | None:
    return moment.astimezone(ROME).date() if moment is not None else None


def _rome_time(moment: datetime | None) -> time | None:
    return moment.astimezone(ROME).time().replace(second=0, microsecond=0) \
        if moment is not None else None


# -- quarters


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int  # 1-4
    first: date
    last: date


def quarters(start: date, end: date) -> list[Quarter]:
    """The calendar quarters (Europe/Rome) that meet the period, in order."""
    found = []
    year, number = start.year, (start.month - 1) // 3 + 1
    while True:
        first = date(year, 3 * number - 2, 1)
        if first > end:
            return found
        following = date(year + 1, 1, 1) if number == 4 else date(year, 3 * number + 1, 1)
        found.append(Quarter(year, number, first, following - timedelta(days=1)))
        year, number = (year + 1, 1) if number == 4 else (year, number + 1)


def _quarter_index(when, periods: list[Quarter]):
    """SQL: the position in ``periods`` of the quarter a session counts in (its Rome
    calendar quarter), by comparing its UTC instant with each quarter's first instant."""
    if len(periods) == 1:
        return sa.literal(0)
    bounds = [rome_midnight(q.last + timedelta(days=1))
              for q in periods[:-1]]
    return sa.case(*((when < bound, i) for i, bound in enumerate(bounds)),
                   else_=len(periods) - 1)


# -- the three exports


def _name(model, locale: str):
    return getattr(model, "name_it" if locale == "it" else "name_en")


def _title(model, locale: str):
    return getattr(model, "title_it" if locale == "it" else "title_en")


def _session_columns() -> list[Column]:
    return [
        Column(_("Session no."), Kind.integer, 10),
        Column(_("Date"), Kind.date, 11),
        Column(_("Start time"), Kind.time, 8),
        Column(_("End time"), Kind.time, 8),
        Column(_("Hours"), Kind.hours, 7),
        Column(_("Minutes"), Kind.minutes, 8),
        Column(_("Project"), Kind.text, 14),
        Column(_("Ambito"), Kind.text, 22),
        Column(_("School code"), Kind.text, 12),
        Column(_("School"), Kind.text, 34),
        Column(_("Municipality"), Kind.text, 18),
        Column(_("Request type"), Kind.text, 28),
        Column(_("Language"), Kind.text, 16),
        Column(_("Mode"), Kind.text, 14),
        Column(_("Macro-action"), Kind.integer, 8),
        Column(_("Macro-action title"), Kind.text, 44),
        Column(_("Action"), Kind.text, 8),
        Column(_("Action title"), Kind.text, 36),
        Column(_("Outcome"), Kind.text, 18),
        Column(_("Pupils met"), Kind.integer, 8),
        Column(_("Parents met"), Kind.integer, 8),
        Column(_("Teachers met"), Kind.integer, 8),
        Column(_("Pupil code"), Kind.text, 12),
        Column(_("Mediator"), Kind.text, 24),
        Column(_("Pages"), Kind.integer, 7),
        Column(_("Words"), Kind.integer, 8),
        # Delivered when held; every approved session is paid (the mediator went).
        Column(_("Delivered"), Kind.text, 10),
        Column(_("Hourly rate"), Kind.money, 9),
        Column(_("Tariff per page"), Kind.money, 9),
        Column(_("Cost"), Kind.money, 10),
        # The school's attestation (issue #18): attested, disputed or pending; by whom
        # (their name and role) and when (Europe/Rome).
        Column(_("School attestation"), Kind.text, 12),
        Column(_("Attested by"), Kind.text, 24),
        Column(_("Attested by (role)"), Kind.text, 18),
        Column(_("Attestation date"), Kind.date, 11),
        Column(_("Attestation time"), Kind.time, 8),
    ]


def _session_cost(seconds, pages, hourly_cost, page_cost) -> Decimal:
    """What a session costs, in euros, unrounded: its seconds at the rate it keeps, or
    its pages at the tariff it keeps (none: nothing)."""
    cost = Decimal(0)
    if seconds is not None and hourly_cost is not None:
        cost += Decimal(int(seconds)) * hourly_cost / 3600
    if pages is not None and page_cost is not None:
        cost += pages * page_cost
    return cost


def _lookup(*columns) -> dict:
    """A small reference table as a dict: first column → the others (one query)."""
    rows = db.session.execute(sa.select(*columns)).all()
    return {row[0]: (row[1:] if len(row) > 2 else row[1]) for row in rows}


def _adjustment_columns() -> list[Column]:
    """The sessions' columns, and the closed period each adjusts, and its approval."""
    return [
        *_session_columns(),
        Column(_("Closed period from"), Kind.date, 11),
        Column(_("Closed period to"), Kind.date, 11),
        Column(_("Approved on"), Kind.date, 11),
    ]


def _session_rows(report: ReportFilter, user: Scope, locale: str,
                  modes: dict, outcomes: dict, yes: str, no: str, attestations: dict,
                  roles: dict, adjustments: bool = False) -> Iterator[tuple]:
    """The rows of the sessions export; ``adjustments``: of the adjustments export (the
    adjustments approved in the period, with the closed period each adjusts)."""
    tune_for_reporting()  # when iterated: the table reads nothing before
    # Names of reference data come from small dicts, not joins: SQLite would otherwise
    # start from the product of the small tables and probe the sessions for each row.
    ambiti = _lookup(Ambito.id, Ambito.name)
    projects = _lookup(Project.id, Project.code)
    types = _lookup(RequestType.id, _name(RequestType, locale), RequestType.kind)
    languages = _lookup(Language.id, _name(Language, locale))
    macro_actions = _lookup(MacroAction.id, MacroAction.number, _title(MacroAction, locale))
    actions = _lookup(Action.id, Action.code, _title(Action, locale))
    mediators = dict(db.session.execute(
        sa.select(MediatorProfile.id, User.display_name)
        .join(User, User.id == MediatorProfile.user_id)).all())
    select = adjusted_sessions if adjustments else sessions
    extra = ((ReportingPeriod.start_date, ReportingPeriod.end_date, SessionLog.approved_dt)
             if adjustments else ())
    attester = sa.orm.aliased(User, name="attester")
    statement = (
        select(
            report, user,
            SessionLog.id, SessionLog.actual_start_dt, SessionLog.actual_end_dt,
            Assignment.deadline_dt, MediationRequest.project_id, School.ambito_id,
            School.code, School.name, School.municipality, MediationRequest.type_id,
            MediationRequest.language_id, MediationRequest.mode, SessionLog.macro_action_id,
            SessionLog.action_id, SessionLog.outcome, SessionLog.pupils_met,
            SessionLog.parents_met, SessionLog.teachers_met, PupilCase.code,
            Assignment.mediator_id, SessionLog.pages, SessionLog.words,
            MediatorRate.hourly_cost, TranslationTariff.page_cost,
            SessionAttestation.outcome, attester.display_name, attester.role,
            SessionAttestation.at, *extra,
        )
        .outerjoin(PupilCase, PupilCase.id == MediationRequest.pupil_case_id)
        .outerjoin(SessionAttestation, SessionAttestation.session_log_id == SessionLog.id)
        .outerjoin(attester, attester.id == SessionAttestation.by_id)
        .outerjoin(MediatorRate, MediatorRate.id == SessionLog.rate_id)
        .outerjoin(TranslationTariff, TranslationTariff.id == SessionLog.tariff_id)
        .order_by(session_when(), SessionLog.id)
    )
    for (log_id, start, end, deadline, project_id, ambito_id, school_code, school,
         municipality, type_id, language_id, mode, macro_id, action_id, outcome, pupils,
         parents, teachers, pupil_code, mediator_id, pages, words, hourly_cost,
         page_cost, attested, attested_by, attester_role, attested_at,
         *adjusted) in _stream(statement):
        timed = start is not None
        seconds = (end - start).total_seconds() if timed else None
        type_name, type_kind = types[type_id]
        yield (
            log_id, _rome_date(start if timed else deadline), _rome_time(start),
            _rome_time(end), _hours(seconds) if timed else None,
            _minutes(seconds) if timed else None,
            projects[project_id], ambiti[ambito_id], school_code, school, municipality,
            type_name, languages[language_id],
            modes[mode] if type_kind == RequestKind.slot else None, *macro_actions[macro_id],
            *actions.get(action_id, (None, None)), outcomes[outcome], pupils, parents,
            teachers, pupil_code,
            mediators[mediator_id], pages, words,
            yes if outcome == Outcome.held else no, hourly_cost, page_cost,
            _session_cost(seconds, pages, hourly_cost, page_cost),
            attestations[attested], attested_by,
            roles[attester_role] if attester_role is not None else None,
            _rome_date(attested_at), _rome_time(attested_at),
            *(adjusted[:2] + [_rome_date(adjusted[2])] if adjusted else ()),
        )


def _beneficiary_columns() -> list[Column]:
    return [
        Column(_("Pupil code"), Kind.text, 12),
        Column(_("Family code"), Kind.text, 12),
        Column(_("School code"), Kind.text, 12),
        Column(_("School"), Kind.text, 34),
        Column(_("Class"), Kind.text, 8),
        Column(_("School cycle"), Kind.text, 22),
        Column(_("Year of arrival in Italy"), Kind.integer, 10),
        Column(_("Languages spoken at home"), Kind.text, 24),
        Column(_("Sessions attended"), Kind.integer, 10),
        Column(_("Hours"), Kind.hours, 7),
        Column(_("Minutes"), Kind.minutes, 8),
        Column(_("First session"), Kind.date, 11),
        Column(_("Last session"), Kind.date, 11),
    ]


def _beneficiary_rows(report: ReportFilter, user: Scope, locale: str,
                      cycles: dict) -> Iterator[tuple]:
    tune_for_reporting()  # when iterated: the table reads nothing before
    when = session_when()
    language = _name(Language, locale)
    home_languages = (
        sa.select(sa.func.aggregate_strings(language, "|"))
        .select_from(pupil_case_languages)
        .join(Language, Language.id == pupil_case_languages.c.language_id)
        .where(pupil_case_languages.c.pupil_case_id == PupilCase.id)
        .correlate(PupilCase)
        .scalar_subquery()
    )
    statement = (
        sessions(
            report, user,
            PupilCase.code, PupilCase.family_code, School.code, School.name,
            PupilCase.class_name, PupilCase.cycle,
            PupilCase.arrival_year, home_languages, sa.func.count(SessionLog.id),
            _seconds_sum(SessionLog.actual_start_dt, SessionLog.actual_end_dt),
            sa.func.min(when), sa.func.max(when),
        )
        .join(PupilCase, PupilCase.id == MediationRequest.pupil_case_id)
        # The pupils met (issue #18): the held sessions at which pupils were there.
        .where(SessionLog.outcome == Outcome.held, SessionLog.pupils_met > 0)
        .group_by(PupilCase.id, PupilCase.code, PupilCase.family_code, School.code, School.name,
                  PupilCase.class_name, PupilCase.cycle, PupilCase.arrival_year)
        .order_by(School.code, PupilCase.code)
    )
    for (code, family_code, school_code, school, class_name, cycle, arrival, languages, count,
         seconds, first, last) in _stream(statement):
        yield (
            code, family_code, school_code, school, class_name, cycles[cycle], arrival,
            ", ".join(sorted(languages.split("|"))) if languages else None, count,
            _hours(seconds), _minutes(seconds), _rome_date(first), _rome_date(last),
        )


def _summary_columns() -> list[Column]:
    return [
        Column(_("Year"), Kind.integer, 7),
        Column(_("Quarter"), Kind.integer, 9),
        Column(_("Project"), Kind.text, 14),
        Column(_("Macro-action"), Kind.integer, 8),
        Column(_("Action"), Kind.text, 8),
        Column(_("Description"), Kind.text, 44),
        # Delivered: the sessions held (the definitions in docs/user-guide.md).
        Column(_("Sessions held"), Kind.integer, 10),
        Column(_("Hours held"), Kind.hours, 9),
        Column(_("Minutes held"), Kind.minutes, 9),
        Column(_("Pupils met"), Kind.integer, 8),
        Column(_("Parents met"), Kind.integer, 8),
        Column(_("Teachers met"), Kind.integer, 8),
        Column(_("Participants"), Kind.integer, 10),
        Column(_("Pupils met (distinct codes)"), Kind.integer, 10),
        Column(_("Translated pages"), Kind.integer, 10),
        # Paid but not delivered: the family did not come, or a late cancellation.
        Column(_("Sessions not held"), Kind.integer, 10),
        Column(_("Hours paid"), Kind.hours, 9),
        Column(_("Minutes paid"), Kind.minutes, 9),
        Column(_("Cost"), Kind.money, 11),
    ]


def _summary_rows(report: ReportFilter, user: Scope, locale: str,
                  quarter_total: str, period_total: str) -> Iterator[tuple]:
    tune_for_reporting()  # when iterated: the table reads nothing before
    periods = quarters(report.start, report.end)
    held = SessionLog.outcome == Outcome.held

    def if_held(column):
        return sa.case((held, column))

    # What was delivered counts the sessions held; what is paid (and its cost) every one.
    base = sessions(
        report, user,
        _quarter_index(session_when(), periods).label("quarter"),
        SessionLog.id.label("log_id"), if_held(SessionLog.id).label("held_id"),
        SessionLog.macro_action_id, SessionLog.action_id,
        SessionLog.actual_start_dt.label("start"), SessionLog.actual_end_dt.label("end"),
        if_held(SessionLog.actual_start_dt).label("held_start"),
        if_held(SessionLog.actual_end_dt).label("held_end"),
        if_held(SessionLog.pupils_met).label("pupils_met"),
        if_held(SessionLog.parents_met).label("parents_met"),
        if_held(SessionLog.teachers_met).label("teachers_met"),
        if_held(SessionLog.pages).label("pages"),
        # The pupils met (issue #18): named by a held session at which pupils were there.
        sa.case((sa.and_(held, SessionLog.pupils_met > 0),
                 MediationRequest.pupil_case_id)).label("pupil_case_id"),
        session_cost_seconds(db.session.get_bind().dialect.name).label("cost"),
    )
    base = with_prices(base).subquery("approved")
    c = base.c
    measures = (
        sa.func.count(c.held_id),
        _seconds_sum(c.held_start, c.held_end),
        sa.func.coalesce(sa.func.sum(c.pupils_met), 0),
        sa.func.coalesce(sa.func.sum(c.parents_met), 0),
        sa.func.coalesce(sa.func.sum(c.teachers_met), 0),
        sa.func.coalesce(sa.func.sum(c.pupils_met + c.parents_met + c.teachers_met), 0),
        sa.func.count(sa.distinct(c.pupil_case_id)),
        sa.func.coalesce(sa.func.sum(c.pages), 0),
        sa.func.count(c.log_id) - sa.func.count(c.held_id),
        _seconds_sum(c.start, c.end),
        sa.func.coalesce(sa.func.sum(c.cost), 0),
    )

    def values(row) -> tuple:
        (count, seconds, pupils, parents, teachers, participants, cases, pages, not_held,
         paid_seconds, cost) = row
        return (count, _hours(seconds), _minutes(seconds), pupils, parents, teachers,
                participants, cases, pages, not_held, _hours(paid_seconds),
                _minutes(paid_seconds), Decimal(int(cost)) / 360_000)

    macro_title, action_title = _title(MacroAction, locale), _title(Action, locale)
    detail = db.session.execute(
        sa.select(c.quarter, Project.code, MacroAction.number, macro_title, Action.code,
                  action_title, *measures)
        .select_from(base)
        .join(MacroAction, MacroAction.id == c.macro_action_id)
        .join(Project, Project.id == MacroAction.project_id)
        .outerjoin(Action, Action.id == c.action_id)
        .group_by(c.quarter, MacroAction.id, Project.code, MacroAction.number, macro_title,
                  Action.id, Action.code, action_title)
        .order_by(c.quarter, Project.code, MacroAction.number, sa.nulls_first(Action.code))
    ).all()
    by_quarter = {row[0]: values(row[1:]) for row in db.session.execute(
        sa.select(c.quarter, *measures).group_by(c.quarter))}
    total = values(db.session.execute(sa.select(*measures)).one())
    zero = (0, 0.0, 0, 0, 0, 0, 0, 0, 0, 0, 0.0, 0, Decimal(0))
    for index, quarter in enumerate(periods):
        for row in detail:
            if row[0] == index:
                _q, project, number, title, code, description, *rest = row
                yield (quarter.year, quarter.number, project, number, code,
                       description or title, *values(rest))
        yield (quarter.year, quarter.number, None, None, None, quarter_total,
               *by_quarter.get(index, zero))
    yield (None, None, None, None, None, period_total, *total)


# -- building a table


def _filter_rows(report: ReportFilter, locale: str) -> list[tuple[str, object]]:
    def named(model, object_id, label, everything):
        if object_id is None:
            return label, everything
        obj = db.session.get(model, object_id)
        if isinstance(obj, MacroAction):
            return label, f"{obj.number} – {obj.title(locale)}"
        if isinstance(obj, Language | RequestType):
            return label, obj.name(locale)
        return label, obj.name

    return [
        (_("From"), report.start),
        (_("To"), report.end),
        named(Ambito, report.ambito_id, _("Ambito"), _("All Ambiti")),
        named(School, report.school_id, _("School"), _("All schools")),
        named(MacroAction, report.macro_action_id, _("Macro-action"), _("All macro-actions")),
        named(Language, report.language_id, _("Language"), _("All languages")),
        named(RequestType, report.type_id, _("Request type"), _("All request types")),
        (_("Exported on"), datetime.now(UTC).astimezone(ROME).replace(tzinfo=None,
                                                                       microsecond=0)),
    ]


def table(kind: str, report: ReportFilter, user: Scope, locale: str = DEFAULT_LOCALE) -> Table:
    """The export ``kind`` of the approved sessions of ``report`` in ``user``'s scope, with
    headers and labels in ``locale``. Its rows are read from the database when iterated.

    A CSV is streamed: its rows are read after the view has returned, when the request's
    session has been closed and its objects are detached. So the rows take the user's
    scope as plain values (:func:`~mediation.scoping.scope_of`), never the ``User`` row."""
    if kind not in KINDS:
        raise ValueError(kind)
    locale = locale if locale in LOCALES else DEFAULT_LOCALE
    period = {"start": report.start.isoformat(), "end": report.end.isoformat()}
    with force_locale(locale):
        filter_rows = _filter_rows(report, locale)
        if kind in ("sessions", "adjustments"):
            adjustments = kind == "adjustments"
            labels = [{key: str(label) for key, label in labels.items()}
                      for labels in (MODE_LABELS, OUTCOME_LABELS, ATTESTATION_LABELS,
                                     ROLE_LABELS)]
            rows = _session_rows(report, user, locale, *labels[:2], _("Yes"), _("No"),
                                 *labels[2:], adjustments=adjustments)
            if adjustments:
                return Table(kind, locale, _("Adjustments to closed periods"),
                             _("adjustments_%(start)s_%(end)s", **period),
                             _adjustment_columns(), rows, filter_rows)
            return Table(kind, locale, _("Sessions of the period"),
                         _("sessions_%(start)s_%(end)s", **period), _session_columns(), rows,
                         filter_rows)
        if kind == "beneficiaries":
            cycles = {key: str(label) for key, label in CYCLE_LABELS.items()}
            return Table(
                kind, locale, _("Beneficiaries"),
                _("beneficiaries_%(start)s_%(end)s", **period), _beneficiary_columns(),
                _beneficiary_rows(report, user, locale, cycles), filter_rows)
        return Table(
            kind, locale, _("Quarterly monitoring summary"),
            _("monitoring_%(start)s_%(end)s", **period), _summary_columns(),
            _summary_rows(report, user, locale, _("Total for the quarter"),
                          _("Total for the period")),
            filter_rows)
