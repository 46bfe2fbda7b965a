"""The dashboard's figures: one function per figure, each computed in SQL with GROUP BY.

Every function takes ``(report: ReportFilter, user)`` (the budget and the end-date warning
also take an optional ``today``; the figures that add up the period's sessions an optional
``figures=period_figures(report, user)``, so that the dashboard reads those sessions once)
and returns plain dicts and lists of dicts: numbers as ``int`` or ``Decimal``, dates as
``date``. Figures are exact: each is computed from unrounded values (seconds, cents ×
seconds) and rounded once, for display: hours to 0.01 and money to cents (:func:`hours`,
:func:`euros`: what the page shows, never the input of another figure); shares and
ratios are not rounded at all (:func:`_ratio`: the template rounds them, once). Beside
each figure in hours is its exact duration in seconds (``seconds``, ``used_seconds``,
``booked_seconds``...), which the page shows as hours and minutes, rounded once to the
minute (``display.hours_minutes``); the hours stay for the charts and the checks. No
function loads session rows into Python; the number of queries never depends on the
number of sessions.

What keeps them fast at a million logs (README, "Performance → Reporting"): the sessions
are read from ``session_logs`` alone, by when they count (``counted_dt``) and school,
through ``ix_session_logs_state_counted`` / ``ix_session_logs_school_counted``, and the
additive figures from one read of them (:func:`period_figures`; the beneficiaries join the
held sessions' pupil cases and requests by their keys, for the family codes); the figures over every
date read ``approved_session_totals`` (kept by triggers); requests and bookings are read
through their copies of the first offer, project and school (``first_offered_dt``,
``assignments.project_id`` and ``school_id``); the admin's figures join no request when
no filter needs them. On PostgreSQL the dashboard's transaction gets more memory for its
sorts and plans each statement for its period (``filters.tune_for_reporting``). In Python,
the statements are built once per filter and scope and reused (:func:`_kept`).

Definitions (also on the page, "How figures are computed"):

- An approved session log counts on the day it started or, for a translation, on its
  deadline (Europe/Rome days, both ends of the period included).
- **Delivered and paid**: a session is *delivered* when its outcome is held; it is *paid*
  whatever its outcome (held, family absent, cancelled late: the mediator went). Sessions,
  hours delivered, beneficiaries, contacts, schools and teachers reached, documents
  translated and the hours against the plan count the sessions held; hours paid, cost and
  the budget every approved session (:func:`paid`, :func:`totals`' cost).
- **Hours** = actual end − actual start of each session (a translation has no hours).
- **Cost** = hours paid × the mediator's hourly rate valid on the session's Europe/Rome day
  + for a translation, its pages × its project's tariff per page valid on its deadline's
  day (models/rates.py; nothing without a rate or tariff that day).
- **Attested sessions** (:func:`attestations`): the approved sessions of the period by the
  school's answer: attested, disputed, pending (none yet); they add up to every approved
  session, whatever its outcome.
- **No-show rate** (:func:`no_shows`) = approved meetings (sessions with a start) not held
  ÷ every approved meeting, per school and per Ambito.
- **Families' confirmations** (:func:`family_confirmations`, issue #19) = over the same
  approved meetings: the letters with a family link printed, the answers received through
  it (the latest answer of each meeting), the meetings the family confirmed ("we will
  come") and their share of every meeting, and the no-show rate (as above) of the meetings
  the family confirmed beside that of every other meeting (unconfirmed: no answer, another
  answer, no link).
- **Useful mediations** (:func:`feedback`, issue #19, FAMI's result indicator) = over the
  approved sessions of the filter that the requesting teacher rated (1 to 5, "was the
  mediation useful?"), the share rated 4 or 5: useful answers ÷ answers, overall and by
  Ambito, school, language (the request's, varieties apart) and request type; beside it
  the average of the mediators' ratings of the organisation. **Mediators' averages**
  (:func:`mediator_feedback`): per mediator, the average usefulness the schools gave their
  approved sessions of the filter, and the average organisation rating they gave; on the
  dashboard, which only coordinators (their Ambito) and the admin open.
- **Unique beneficiaries** (issue #18) = the people met at held sessions (outcome held),
  each once: the distinct pupil cases named by a held session at which pupils were met (a
  pupil named but absent is not counted) + parents counted once per family, a family being
  the school's family code (on the pupil case, or on a meeting that names no pupil;
  siblings share it) or else the pupil case; a family's parents are the most parents met at
  any one of its held sessions. **Not identified**, shown apart and never added: the pupils
  met beyond the one named (or at a session naming none) and the parents met at a session
  with neither a pupil case nor a family code.
- **Contacts** = the sum over held sessions of the participants met (pupils + parents +
  teachers): a family met three times is three contacts but one beneficiary.
- **Schools reached** = distinct schools with a session held; **teachers reached** =
  distinct school staff who filed the requests of those sessions.
- **Documents translated** = sessions of translation requests (with their pages and words).
- **Requests** are those filed in the period, in their state at the end of the period
  (:func:`state_at_end`: from the audit trail, so a past period's figures do not change
  when run again); time to first offer = first offer to a mediator − filing, over the
  requests offered before the end of the period; the others are given beside it (how many,
  their median and longest wait at the end of the period, or now while it runs); share
  unfilled = unfilled ÷ requests filed. The macro-action filter does not apply to requests
  nor to utilisation (a request counts against a macro-action only once logged).
- The **language** filter includes the language's varieties (``models.with_varieties``).
- **Utilisation** = hours of the mediator's accepted appointments in the period through
  requests in the filter ÷ (weekly hour cap × days of the period ÷ 7).
- **Hours against plan**: the Ambito's planned hours per macro-action (projects running in
  the period) against the hours delivered, in the period and over all dates.
- **Budget**: per project running in the period, the sum of its budget lines; cost in the
  period (in the filter and scope); spent to date, remaining and the date the money runs out
  are for the whole project, every Ambito (the budget is shared): remaining ÷ the average
  daily cost of the last 90 days (today included).
- **End-date warning**: a project running today whose effective end (extensions included) is
  within 60 days, or any project with active bookings (offered or accepted) after its end.

Why the price is kept on each log and applied when reading (issue #18). A rate or tariff
is never edited: a new one applies from its day. Each log keeps the id of the rate (or, a
translation, the tariff) valid on its day (``SessionLog.rate_id``/``tariff_id``, set when
the log is written), and ``approved_session_totals`` is keyed by them too; the cost is
computed here, at read time, as seconds × that rate + pages × that tariff, in cents ×
seconds. So the cost of any session can be traced to one rate row (who entered it and
when) and the exports show it; and a rate entered late for a past day changes exactly the
sessions it covers: adding it reassigns their ``rate_id`` in one UPDATE (``rates.
reassign_rates``), the triggers move them to their new totals, and the audit trail has the
change. Looking the rate up by date at read time instead would need a correlated lookup
per session (a million at the region's scale) and could not serve the budget to date from
the totals; storing a computed cost would have to be recomputed the same way and would
hide which rate made it.
"""

import functools
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

from ..bookings import policy
from ..clock import ROME, rome_midnight
from ..extensions import db
from ..models import (
    Ambito,
    ApprovedSessionTotal,
    Assignment,
    AssignmentState,
    AttestationOutcome,
    AuditEvent,
    BudgetLine,
    FamilyAnswer,
    FamilyInvitation,
    FeedbackSide,
    Language,
    LogState,
    MacroAction,
    MediationRequest,
    MediatorProfile,
    MediatorRate,
    Outcome,
    PlannedHours,
    Project,
    ProjectExtension,
    PupilCase,
    RequestKind,
    RequestState,
    RequestType,
    Role,
    School,
    SessionAttestation,
    SessionFeedback,
    SessionLog,
    TranslationTariff,
    User,
    mediator_ambiti,
    with_varieties,
)
from ..models.types import UTCDateTime
from ..scoping import Scope, scope_of, visible
from .filters import (
    ReportFilter,
    counted_sessions,
    month_starts,
    needs_schools,
    request_conditions,
    school_conditions,
    session_when,
    tune_for_reporting,
)

#: Days before a project's end from which the dashboard warns.
END_WARNING_DAYS = 60
#: The days whose spending gives the current pace of the budget.
PACE_DAYS = 90

CENT = Decimal("0.01")
_ZERO = Decimal(0)


# --- SQL helpers --------------------------------------------------------------


#: Statements kept per builder (:func:`_kept`): those of the last 32 filters and scopes
#: asked for, in each worker process. A dashboard's statements take about 0.6 MB (most of
#: it SQLAlchemy's cache key, kept on each statement): at most about 20 MB per process.
STATEMENTS_KEPT = 32


def _kept(builder):
    """Keep the statements ``builder`` returns, per arguments (the last
    :data:`STATEMENTS_KEPT` sets of arguments).

    Building a statement and computing its key for SQLAlchemy's compiled cache cost more
    Python than running it does on an Ambito's data (bench/pagecost.py). A statement is
    immutable and names no connection, so one object serves every request and thread,
    and SQLAlchemy keeps its key on it. A builder's arguments must therefore be all that
    its statement depends on, as hashable values: the filter, the user's :class:`Scope`
    (never the User), the dialect, a day, ids read before. Values that change on every
    call (ids of rows found) are passed at execution instead, as bound parameters.
    """
    kept = functools.lru_cache(maxsize=STATEMENTS_KEPT)(builder)

    @functools.wraps(builder)
    def build(*args):
        for arg in args:
            # A row object hashes by identity: kept once per request, never reused.
            if isinstance(arg, db.Model):
                raise TypeError(f"{builder.__name__} takes values, not {type(arg).__name__}")
        return kept(*args)

    build.cache_info, build.cache_clear = kept.cache_info, kept.cache_clear
    KEPT_BUILDERS.append(build)
    return build


#: Every builder decorated with :func:`_kept` (their ``cache_info()``: the tests, and how
#: often the dashboard reuses its statements).
KEPT_BUILDERS: list = []


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def seconds_between(start, end, dialect: str) -> sa.ColumnElement:
    """Whole seconds from ``start`` to ``end`` (UTC datetime columns), in SQL.

    SQLite stores naive UTC text: unix seconds from ``strftime('%s')`` are exact integers.
    PostgreSQL: the epoch of the interval as a ``double precision`` (``date_part``), rounded
    to an integer: ``EXTRACT`` gives a ``numeric``, slow to add up, average and sort (the
    median delay to the first offer of a region's year: 94 ms with it, 62 ms without).
    """
    if dialect == "sqlite":
        return (sa.cast(sa.func.strftime("%s", end), sa.Integer)
                - sa.cast(sa.func.strftime("%s", start), sa.Integer))
    return sa.cast(sa.func.date_part("epoch", end - start), sa.Integer)


def session_seconds(dialect: str):
    return seconds_between(SessionLog.actual_start_dt, SessionLog.actual_end_dt, dialect)


def _cents(amount) -> sa.ColumnElement:
    """A money column (two decimals) as whole cents, in SQL."""
    return sa.cast(sa.func.round(amount * 100), sa.Integer)


def _cost_cents_seconds(seconds, pages) -> sa.ColumnElement:
    """What ``seconds`` at the joined rate and ``pages`` at the joined tariff cost, in
    cents × seconds (÷ 360,000 gives euros: a page at the tariff is 3,600 seconds at it),
    as a 64-bit integer: exact, and cheaper to add up than decimals. Zero for what has no
    rate or tariff (outer joins: see :func:`with_prices`)."""
    return (sa.func.coalesce(sa.cast(seconds, sa.BigInteger)
                             * _cents(MediatorRate.hourly_cost), 0)
            + sa.func.coalesce(sa.cast(pages, sa.BigInteger)
                               * _cents(TranslationTariff.page_cost) * 3600, 0))


def session_cost_seconds(dialect: str):
    """What a session costs (cents × seconds, ÷ 360,000 gives euros): its seconds at the
    rate it keeps, or its pages at the tariff it keeps (a session is paid whatever its
    outcome: the mediator went)."""
    return _cost_cents_seconds(session_seconds(dialect), SessionLog.pages)


def with_prices(select: sa.Select, rate_id=SessionLog.rate_id,
                 tariff_id=SessionLog.tariff_id) -> sa.Select:
    """``select`` joined to the rate and the tariff its rows keep (outer joins on their
    primary keys: a few hundred rows, hashed)."""
    return (select.outerjoin(MediatorRate, MediatorRate.id == rate_id)
            .outerjoin(TranslationTariff, TranslationTariff.id == tariff_id))


def _held() -> sa.ColumnElement[bool]:
    """A session held (delivered); the others (family absent, cancelled late) were paid
    but not delivered."""
    return SessionLog.outcome == Outcome.held


def _if_held(value) -> sa.ColumnElement:
    """``value`` for a session held, else NULL (which sums ignore)."""
    return sa.case((_held(), value))


def _sum(expr):
    """``SUM(expr)``: NULL over no rows (or only NULLs), which the callers read as zero
    (:func:`_decimal`, ``or 0``). Not wrapped in COALESCE: every element of a statement
    costs SQLAlchemy time to build and to key for its statement cache, on every page."""
    return sa.func.sum(expr)


def _decimal(value) -> Decimal:
    if value is None:
        return _ZERO
    return value if isinstance(value, Decimal) else Decimal(str(value))


def hours(seconds) -> Decimal:
    """Seconds (a SQL sum) as hours, rounded to 0.01: a figure as shown. Never compute
    with it (a share, a sum): use the seconds."""
    return (_decimal(seconds) / 3600).quantize(CENT, ROUND_HALF_UP)


def euros(cost_seconds) -> Decimal:
    """A SQL sum of seconds × hourly cost in cents as euros, rounded to the cent: a figure
    as shown. Never compute with it: use the cents × seconds."""
    return (_decimal(cost_seconds) / 360_000).quantize(CENT, ROUND_HALF_UP)


def _ratio(part, whole) -> Decimal | None:
    """part ÷ whole (a share: 0.1234 is 12.34 %), not rounded (28 significant digits):
    the page rounds it once, as it shows it; None when whole is 0. Give it unrounded
    values (seconds, cents × seconds), never :func:`hours` or :func:`euros`."""
    whole = _decimal(whole)
    if not whole:
        return None
    return _decimal(part) / whole


def _utc(moment: datetime):
    """An aware datetime as a SQL literal of the UTC column type."""
    return sa.literal(moment, UTCDateTime())


def _effective_end():
    """A project's end date with its extensions, as a SQL expression on Project."""
    extended = (sa.select(sa.func.max(ProjectExtension.new_end_date))
                .where(ProjectExtension.project_id == Project.id)
                .correlate(Project).scalar_subquery())
    return sa.case((extended > Project.end_date, extended), else_=Project.end_date)


def _projects_in_period(report: ReportFilter):
    """Ids of the projects whose period (extensions included) meets the report's; with a
    macro-action filter, that macro-action's project only."""
    query = sa.select(Project.id).where(Project.start_date <= report.end,
                                        _effective_end() >= report.start)
    if report.macro_action_id is not None:
        query = query.where(Project.id == sa.select(MacroAction.project_id).where(
            MacroAction.id == report.macro_action_id).scalar_subquery())
    return query


def _approved_totals(report: ReportFilter, scope: Scope, *columns) -> sa.Select:
    """``SELECT columns`` over the running totals of approved sessions (every date) of the
    filter's schools and macro-action in the scope, joined to their schools. The
    totals know no language nor type: the caller reads the logs when those are filtered."""
    conditions = school_conditions(report, scope)
    if report.macro_action_id is not None:
        conditions.append(ApprovedSessionTotal.macro_action_id == report.macro_action_id)
    return (sa.select(*columns).select_from(ApprovedSessionTotal)
            .join(School, School.id == ApprovedSessionTotal.school_id)
            .where(*conditions))


def _filters_requests(report: ReportFilter, scope: Scope) -> bool:
    """Whether the scope or the filter restricts requests (everyone but the admin without
    an Ambito, school, language or type filter): otherwise their schools need no join."""
    return (scope.role != Role.admin or report.ambito_id is not None
            or report.school_id is not None or report.language_id is not None
            or report.type_id is not None)


def _with_school(select: sa.Select, report: ReportFilter, scope: Scope) -> sa.Select:
    """``select`` (from MediationRequest) joined to the request's school when the scope
    or the filter needs it (see :func:`_filters_requests`)."""
    if not _filters_requests(report, scope):
        return select
    return select.join(School, School.id == MediationRequest.school_id)


def _assignment_filter(report: ReportFilter, scope: Scope) -> list[sa.ColumnElement[bool]]:
    """The request filter as conditions on Assignment: its school (its own copy) among
    those of the scope and filter, its request among those of the language and type
    filtered (none when nothing restricts them)."""
    conditions = []
    if needs_schools(report, scope) or report.school_id is not None:
        conditions.append(Assignment.school_id.in_(
            sa.select(School.id).where(*school_conditions(report, scope))))
    language_or_type = []
    if report.language_id is not None:
        language_or_type.append(
            MediationRequest.language_id.in_(with_varieties(report.language_id)))
    if report.type_id is not None:
        language_or_type.append(MediationRequest.type_id == report.type_id)
    if language_or_type:
        conditions.append(Assignment.request_id.in_(
            sa.select(MediationRequest.id).where(*language_or_type)))
    return conditions


def _today(today: date | None) -> date:
    return today or datetime.now(ROME).date()


# --- sessions -----------------------------------------------------------------


#: The measures of a group of sessions, in the order of the period query's columns.
#: ``sessions``, ``seconds`` and the rest: sessions held (delivered); ``paid_sessions``,
#: ``paid_seconds``, ``cost``: every approved session (paid, whatever its outcome).
_MEASURES = ("sessions", "seconds", "paid_sessions", "paid_seconds", "cost", "pages", "words",
             "pupils_met", "parents_met", "teachers_met")


def period_figures(report: ReportFilter, user: User) -> dict:
    """The figures that add up the period's sessions (totals and contacts, per
    macro-action, per project, per month, per type, translations) from one read of the
    sessions: one statement that groups them by macro-action, project, month and type,
    then adds those groups up seven ways (UNION ALL, in SQL). The dashboard computes it
    once; each figure's function below (and the budget's cost in the period) takes it.

    Not grouped by Ambito as well: PostgreSQL then expects as many groups as sessions
    (it knows nothing of how the keys go together) and sorts the region's year of
    sessions instead of hashing them (1.4 s instead of 0.3 s); hours against the plan
    read the period per school themselves.

    Returns the rows of each way, keyed as ``(key, sub)`` → measures.
    """
    result = {name: {} for name in _WAYS}
    statement = _period_statement(report, scope_of(user), _dialect())
    for name, key, sub, *measures in db.session.execute(statement):
        result[name][key, sub] = {measure: 0 if value is None else value
                                  for measure, value in zip(_MEASURES, measures, strict=True)}
    return result


#: The ways :func:`period_figures` adds up the period's groups of sessions.
_WAYS = ("totals", "macro_action", "project", "month", "month_macro_action", "type",
         "translations")


@_kept
def _period_statement(report: ReportFilter, scope: Scope, dialect: str) -> sa.CompoundSelect:
    months = month_starts(report)
    seconds = session_seconds(dialect)
    base = with_prices(counted_sessions(
        report, scope,
        SessionLog.macro_action_id.label("macro_action_id"),
        SessionLog.project_id.label("project_id"),
        _month_index(months).label("month"),
        SessionLog.type_id.label("type_id"),
        _if_held(1).label("sessions"),
        _if_held(seconds).label("seconds"),
        seconds.label("paid_seconds"),
        session_cost_seconds(dialect).label("cost"),
        _if_held(SessionLog.pages).label("pages"),
        _if_held(SessionLog.words).label("words"),
        _if_held(SessionLog.pupils_met).label("pupils_met"),
        _if_held(SessionLog.parents_met).label("parents_met"),
        _if_held(SessionLog.teachers_met).label("teachers_met"),
    )).subquery("period_sessions")
    groups = (
        sa.select(base.c.macro_action_id, base.c.project_id, base.c.month, base.c.type_id,
                  *(sa.func.count().label(measure) if measure == "paid_sessions"
                    else _sum(base.c[measure]).label(measure) for measure in _MEASURES))
        # A macro-action belongs to one project: grouping by both makes no more groups.
        .group_by(base.c.macro_action_id, base.c.project_id, base.c.month, base.c.type_id)
        .cte("period_groups")
    )
    g = groups.c

    def way(name: str, key=None, sub=None, where=None) -> sa.Select:
        keys = [column for column in (key, sub) if column is not None]
        select = sa.select(
            sa.literal(name).label("way"),
            (key if key is not None else sa.cast(sa.null(), sa.Integer)).label("key"),
            (sub if sub is not None else sa.cast(sa.null(), sa.Integer)).label("sub"),
            # Plain sums (NULL over no groups, read as zeros below): COALESCEs around
            # them were 8 % of the page's instructions, to build and to key for
            # SQLAlchemy's statement cache.
            *(_sum(g[measure]).label(measure) for measure in _MEASURES),
        )
        if where is not None:
            select = select.where(where)
        return select.group_by(*keys) if keys else select

    translations = g.type_id.in_(
        sa.select(RequestType.id).where(RequestType.kind == RequestKind.deadline))
    return sa.union_all(
        way("totals"),
        way("macro_action", g.macro_action_id),
        way("project", g.project_id),
        way("month", g.month),
        way("month_macro_action", g.month, g.macro_action_id),
        way("type", g.type_id),
        way("translations", where=translations),
    )


def _figures(report: ReportFilter, user: User, figures: dict | None) -> dict:
    return figures if figures is not None else period_figures(report, user)


def _one(rows: dict) -> dict:
    """The only row of an ungrouped way (zeros when there were no sessions)."""
    return rows.get((None, None)) or dict.fromkeys(_MEASURES, 0)


def _delivered(row: dict) -> dict:
    """Sessions and hours held (delivered), and the cost (of every session paid)."""
    return {"sessions": int(row["sessions"]), "hours": hours(row["seconds"]),
            "seconds": int(row["seconds"]), "cost": euros(row["cost"])}


def totals(report: ReportFilter, user: User, *, figures: dict | None = None) -> dict:
    """Sessions and hours delivered (held) and the cost of the filter's sessions (every
    one paid: held, family absent, cancelled late)."""
    return _delivered(_one(_figures(report, user, figures)["totals"]))


def paid(report: ReportFilter, user: User, *, figures: dict | None = None) -> dict:
    """What is paid beside what was delivered: sessions and hours paid (every approved
    session), and those paid but not held (``not_held``: the family absent or a late
    cancellation: the mediator went), with their hours."""
    row = _one(_figures(report, user, figures)["totals"])
    paid_seconds, held_seconds = int(row["paid_seconds"]), int(row["seconds"])
    return {"sessions": int(row["paid_sessions"]), "hours": hours(paid_seconds),
            "seconds": paid_seconds,
            "not_held": int(row["paid_sessions"]) - int(row["sessions"]),
            "not_held_hours": hours(paid_seconds - held_seconds),
            "not_held_seconds": paid_seconds - held_seconds}


def hours_by_macro_action(report: ReportFilter, user: User, *,
                          figures: dict | None = None) -> list[dict]:
    """Sessions and hours delivered (held), and the cost of those paid, per macro-action,
    in the order of the plan."""
    rows = _figures(report, user, figures)["macro_action"]
    if not rows:
        return []
    names = db.session.execute(_macro_action_names(), {"ids": [key for key, _sub in rows]})
    result = []
    for macro_action_id, code, number, title_it, title_en in names:
        row = rows[macro_action_id, None]
        result.append({"macro_action_id": macro_action_id, "project_code": code,
                       "number": number, "title_it": title_it, "title_en": title_en,
                       **_delivered(row)})
    return result


@_kept
def _macro_action_names() -> sa.Select:
    """The macro-actions of the ids given (``ids``), with their project's code, in the
    order of the plan."""
    return (sa.select(MacroAction.id, Project.code, MacroAction.number, MacroAction.title_it,
                      MacroAction.title_en)
            .join(Project, Project.id == MacroAction.project_id)
            .where(MacroAction.id.in_(sa.bindparam("ids", expanding=True)))
            .order_by(Project.start_date, Project.code, MacroAction.number))


def _month_index(months: list[date]):
    """The index in ``months`` of the Europe/Rome month a session counts in: a CASE over
    the months' first instants (computed here, so daylight saving time is right)."""
    when = session_when()
    branches = [(when < _utc(rome_midnight(first)), index)
                for index, first in enumerate(months[1:])]
    if not branches:
        return sa.literal(0)
    return sa.case(*branches, else_=len(months) - 1)


def hours_by_month(report: ReportFilter, user: User, *,
                   figures: dict | None = None) -> list[dict]:
    """Every month the period touches (Europe/Rome), with its sessions and hours, in all
    and per macro-action (``hours_by_macro_action``: macro-action id → hours)."""
    figures = _figures(report, user, figures)
    result = [{"month": first, "sessions": 0, "hours": hours(0), "seconds": 0,
               "hours_by_macro_action": {}, "seconds_by_macro_action": {}}
              for first in month_starts(report)]
    for (index, _sub), row in figures["month"].items():
        result[index]["sessions"] = int(row["sessions"])
        result[index]["hours"] = hours(row["seconds"])
        result[index]["seconds"] = int(row["seconds"])
    for (index, macro_action_id), row in figures["month_macro_action"].items():
        result[index]["hours_by_macro_action"][macro_action_id] = hours(row["seconds"])
        result[index]["seconds_by_macro_action"][macro_action_id] = int(row["seconds"])
    return result


def sessions_by_type(report: ReportFilter, user: User, *,
                     figures: dict | None = None) -> list[dict]:
    """Sessions and hours per request type."""
    rows = _figures(report, user, figures)["type"]
    if not rows:
        return []
    names = db.session.execute(_type_names(), {"ids": [key for key, _sub in rows]})
    return [{"type_id": type_id, "code": code, "name_it": name_it, "name_en": name_en,
             "sessions": int(rows[type_id, None]["sessions"]),
             "hours": hours(rows[type_id, None]["seconds"]),
             "seconds": int(rows[type_id, None]["seconds"])}
            for type_id, code, name_it, name_en in names]


@_kept
def _type_names() -> sa.Select:
    """The request types of the ids given (``ids``), in their order."""
    return (sa.select(RequestType.id, RequestType.code, RequestType.name_it,
                      RequestType.name_en)
            .where(RequestType.id.in_(sa.bindparam("ids", expanding=True)))
            .order_by(RequestType.position, RequestType.code))


def beneficiaries(report: ReportFilter, user: User, *, figures: dict | None = None) -> dict:
    """Unique beneficiaries (the people met at held sessions, each once) kept apart from
    contacts and from the participants who cannot be told apart.

    Only held sessions count (not a family absent nor a late cancellation): the mediator
    met nobody at those. ``pupils``: distinct pupil cases named by a held session at which
    pupils were met (a pupil named but absent is not counted); ``parents``: per family the
    most parents met at one held session, added up; a family is the school's family code
    (on the pupil case, or on a meeting that names no pupil: siblings share it), otherwise
    the pupil case; ``families``: the families whose parents were met; ``beneficiaries`` =
    pupils + parents. ``unidentified``: the participants whom no code tells apart, Σ over
    held sessions (``unidentified_pupils``: the pupils met beyond the one named, or at a
    session that names none; ``unidentified_parents``: the parents met at a session with
    neither a pupil case nor a family code): shown apart, never added to the beneficiaries.
    ``contacts`` = Σ over held sessions of pupils, parents and teachers met (also apart:
    ``pupil_contacts``...). Computed here, from the held sessions (``figures`` is not
    needed: the dashboard passes it to every figure alike).
    """
    row = db.session.execute(_beneficiaries_statement(report, scope_of(user))).one()
    (pupils, parents, families, unidentified_pupils, unidentified_parents,
     *contacts) = (int(value or 0) for value in row)
    return {"pupils": pupils, "parents": parents, "families": families,
            "beneficiaries": pupils + parents,
            "unidentified_pupils": unidentified_pupils,
            "unidentified_parents": unidentified_parents,
            "unidentified": unidentified_pupils + unidentified_parents,
            "pupil_contacts": contacts[0], "parent_contacts": contacts[1],
            "teacher_contacts": contacts[2], "contacts": sum(contacts)}


@_kept
def _beneficiaries_statement(report: ReportFilter, scope: Scope) -> sa.Select:
    # The family code: the pupil case's, or the request's (a meeting naming no pupil).
    code = sa.func.coalesce(PupilCase.family_code, MediationRequest.family_code)
    # A family code is the school's own: the same code at two schools is two families.
    code_school = sa.case((code.is_not(None), SessionLog.school_id))
    named_present = sa.case((sa.and_(SessionLog.pupil_case_id.is_not(None),
                                     SessionLog.pupils_met > 0), 1), else_=0)
    # 1. The held sessions grouped by pupil case and family code (a pupil case belongs to
    # one family): a hash table of about as many rows as pupils met, whatever the number
    # of sessions.
    by_case = (
        counted_sessions(
            report, scope,
            SessionLog.pupil_case_id.label("pupil_case_id"),
            code_school.label("code_school"),
            code.label("code"),
            sa.func.max(named_present).label("pupil_met"),
            sa.func.max(SessionLog.parents_met).label("most_parents"),
            _sum(SessionLog.pupils_met - named_present).label("unnamed_pupils"),
            _sum(SessionLog.pupils_met).label("pupils"),
            _sum(SessionLog.parents_met).label("parents"),
            _sum(SessionLog.teachers_met).label("teachers"),
        )
        .outerjoin(PupilCase, PupilCase.id == SessionLog.pupil_case_id)
        .outerjoin(MediationRequest, MediationRequest.id == SessionLog.request_id)
        .where(SessionLog.outcome == Outcome.held)
        .group_by(SessionLog.pupil_case_id, code_school, code)
        .subquery("by_case")
    )
    c = by_case.c
    # 2. The families: the family code, or else the pupil case; neither: the unidentified.
    family_case = sa.case((c.code.is_(None), c.pupil_case_id))
    by_family = (
        sa.select(
            # The same for every row of a family (1: a code or a pupil case), as an
            # aggregate: PostgreSQL wants every column grouped or aggregated.
            sa.func.max(sa.case((sa.or_(c.code.is_not(None), c.pupil_case_id.is_not(None)),
                                 1), else_=0)).label("identified"),
            _sum(c.pupil_met).label("pupil_met"),
            sa.func.max(c.most_parents).label("most_parents"),
            _sum(c.unnamed_pupils).label("unnamed_pupils"),
            _sum(c.pupils).label("pupils"), _sum(c.parents).label("parents"),
            _sum(c.teachers).label("teachers"),
        )
        .group_by(c.code_school, c.code, family_case)
        .subquery("by_family")
    )
    f = by_family.c
    identified = f.identified == 1
    return sa.select(
        _sum(f.pupil_met),
        _sum(sa.case((identified, f.most_parents))),
        sa.func.count(sa.case((sa.and_(identified, f.most_parents > 0), 1))),
        _sum(f.unnamed_pupils),
        _sum(sa.case((identified, 0), else_=f.parents)),
        _sum(f.pupils), _sum(f.parents), _sum(f.teachers),
    )


def reach(report: ReportFilter, user: User, *, figures: dict | None = None) -> dict:
    """Distinct schools with a session, and distinct school staff who filed their
    requests (``teachers``); ``teachers_met``: Σ teachers met (contacts, from the period
    figures)."""
    schools, teachers = db.session.execute(_reach_statement(report, scope_of(user))).one()
    teachers_met = _one(_figures(report, user, figures)["totals"])["teachers_met"]
    return {"schools": schools, "teachers": teachers, "teachers_met": int(teachers_met)}


@_kept
def _reach_statement(report: ReportFilter, scope: Scope) -> sa.Select:
    # Grouped by school and requester first (a hash table of a few thousand pairs), then
    # counted: COUNT(DISTINCT) over the sessions themselves would sort them twice.
    pairs = counted_sessions(
        report, scope,
        SessionLog.school_id.label("school_id"),
        SessionLog.requester_id.label("requester_id"),
    ).where(_held()).group_by(SessionLog.school_id, SessionLog.requester_id).subquery()
    return sa.select(sa.func.count(sa.distinct(pairs.c.school_id)),
                     sa.func.count(sa.distinct(pairs.c.requester_id)))


def no_shows(report: ReportFilter, user: User) -> dict:
    """Per Ambito and per school of the filter with sessions of meetings (sessions with a
    start: a translation has no family to miss it): the approved sessions, those not held
    (``not_held`` = ``family_absent`` + ``cancelled_late``: paid, not delivered) and the
    no-show rate (not held ÷ approved, unrounded; None without sessions). One statement:
    the schools grouped, then the Ambiti from them (UNION ALL, in SQL)."""
    rows = db.session.execute(_no_shows_statement(report, scope_of(user)))
    result = {"ambiti": [], "schools": []}
    for way, row_id, name, ambito_name, sessions, absent, late in rows:
        absent, late = int(absent or 0), int(late or 0)
        result["ambiti" if way == "ambito" else "schools"].append({
            "id": row_id, "name": name, "ambito_name": ambito_name,
            "sessions": int(sessions), "family_absent": absent, "cancelled_late": late,
            "not_held": absent + late, "rate": _ratio(absent + late, sessions)})
    return result


@_kept
def _no_shows_statement(report: ReportFilter, scope: Scope) -> sa.CompoundSelect:
    by_school = (
        counted_sessions(
            report, scope,
            SessionLog.school_id.label("school_id"),
            sa.func.count().label("sessions"),
            _sum(sa.case((SessionLog.outcome == Outcome.family_absent, 1))).label("absent"),
            _sum(sa.case((SessionLog.outcome == Outcome.cancelled_late, 1))).label("late"),
        )
        .where(SessionLog.actual_start_dt.is_not(None))
        .group_by(SessionLog.school_id)
        .subquery("no_shows")
    )
    c = by_school.c
    schools = (
        sa.select(sa.literal("school").label("way"), School.id.label("id"),
                  School.name.label("name"), Ambito.name.label("ambito_name"),
                  c.sessions.label("sessions"), c.absent.label("absent"),
                  c.late.label("late"))
        .select_from(by_school)
        .join(School, School.id == c.school_id)
        .join(Ambito, Ambito.id == School.ambito_id)
    )
    ambiti = (
        sa.select(sa.literal("ambito"), Ambito.id, Ambito.name, Ambito.name,
                  sa.func.sum(c.sessions), sa.func.sum(c.absent), sa.func.sum(c.late))
        .select_from(by_school)
        .join(School, School.id == c.school_id)
        .join(Ambito, Ambito.id == School.ambito_id)
        .group_by(Ambito.id, Ambito.name)
    )
    both = sa.union_all(schools, ambiti).subquery()
    return sa.select(*both.c).order_by(both.c.ambito_name, both.c.way, both.c.name)


def session_answers(report: ReportFilter, user: User) -> tuple:
    """The approved sessions of the filter with the school's attestation and the family's
    answer to the letter's link (at most one of each per session), counted in one
    statement: what :func:`attestations` and :func:`family_confirmations` read."""
    return tuple(db.session.execute(_answers_statement(report, scope_of(user))).one())


@_kept
def _answers_statement(report: ReportFilter, scope: Scope) -> sa.Select:
    outcome = SessionAttestation.outcome
    meeting = SessionLog.actual_start_dt.is_not(None)
    coming = FamilyInvitation.answer == FamilyAnswer.coming
    missed = SessionLog.outcome.in_([Outcome.family_absent, Outcome.cancelled_late])
    return counted_sessions(
        report, scope, sa.func.count(SessionLog.id),
        _sum(sa.case((outcome == AttestationOutcome.attested, 1))),
        _sum(sa.case((outcome == AttestationOutcome.disputed, 1))),
        _sum(sa.case((meeting, 1))),
        _sum(sa.case((sa.and_(meeting, FamilyInvitation.id.is_not(None)), 1))),
        _sum(sa.case((sa.and_(meeting, FamilyInvitation.answer.is_not(None)), 1))),
        _sum(sa.case((sa.and_(meeting, coming), 1))),
        _sum(sa.case((sa.and_(meeting, coming, missed), 1))),
        _sum(sa.case((sa.and_(meeting, missed), 1))),
    ).outerjoin(SessionAttestation, SessionAttestation.session_log_id == SessionLog.id
                ).outerjoin(FamilyInvitation,
                            FamilyInvitation.assignment_id == SessionLog.assignment_id)


#: The ratings that count a mediation as useful (FAMI's result indicator, issue #19).
USEFUL_RATINGS = (4, 5)


def feedback(report: ReportFilter, user: User) -> dict:
    """The share of useful mediations (issue #19): over the approved sessions of the
    filter rated by the requesting teacher, ``answers`` and ``useful`` (rated 4 or 5) and
    their ``share`` (unrounded), ``overall`` and by ``ambiti``, ``schools``, ``languages``
    and ``types`` (each a list of rows with ``id`` and names, by name); ``organisation``:
    the mediators' answers about the organisation, their count and average (unrounded);
    and ``mediators`` (:func:`mediator_feedback`'s rows). One statement whatever the number
    of sessions: every grouping at once (UNION ALL)."""
    result = {"overall": {"answers": 0, "useful": 0, "share": None},
              "ambiti": [], "schools": [], "languages": [], "types": [], "mediators": [],
              "organisation": {"answers": 0, "average": None}}
    ways = {"ambito": "ambiti", "school": "schools", "language": "languages",
            "type": "types"}
    for (way, row_id, name_it, name_en, answers, useful, total, org_answers,
         org_total) in db.session.execute(_feedback_statement(report, scope_of(user))):
        answers, useful = int(answers or 0), int(useful or 0)
        if way == "organisation":
            result["organisation"] = {"answers": int(org_answers or 0),
                                      "average": _ratio(org_total or 0, org_answers or 0)}
            continue
        if way == "mediator":
            result["mediators"].append({
                "mediator_id": row_id, "name": name_it, "school_answers": answers,
                "useful": useful, "usefulness": _ratio(total or 0, answers),
                "organisation_answers": int(org_answers or 0),
                "organisation": _ratio(org_total or 0, org_answers or 0)})
            continue
        row = {"answers": answers, "useful": useful, "share": _ratio(useful, answers)}
        if way == "all":
            result["overall"] = row
        else:
            row.update(id=row_id, name_it=name_it, name_en=name_en)
            result[ways[way]].append(row)
    return result


def mediator_feedback(report: ReportFilter, user: User) -> list[dict]:
    """Per mediator with answers about their approved sessions of the filter (issue #19),
    by name: ``school_answers`` and ``usefulness`` (the average rating the requesting
    teachers gave, unrounded) and ``useful`` (rated 4 or 5), ``organisation_answers`` and
    ``organisation`` (the average rating the mediator gave the organisation). For the
    coordinators (their Ambito's sessions) and the admin only: the dashboard. Read by
    :func:`feedback`'s one statement."""
    return feedback(report, user)["mediators"]


@_kept
def _feedback_statement(report: ReportFilter, scope: Scope) -> sa.Select:
    school = sa.orm.aliased(SessionFeedback, name="school_feedback")
    mediator = sa.orm.aliased(SessionFeedback, name="mediator_feedback")
    # Every approved session of the filter with an answer, with both answers.
    rated = (
        counted_sessions(
            report, scope,
            School.ambito_id.label("ambito_id"),
            SessionLog.school_id.label("school_id"),
            SessionLog.type_id.label("type_id"),
            SessionLog.mediator_id.label("mediator_id"),
            MediationRequest.language_id.label("language_id"),
            school.rating.label("rating"),
            sa.case((school.rating.in_(USEFUL_RATINGS), 1), else_=0).label("useful"),
            mediator.rating.label("org_rating"),
        )
        .join(MediationRequest, MediationRequest.id == SessionLog.request_id)
        .outerjoin(school, sa.and_(school.session_log_id == SessionLog.id,
                                   school.side == FeedbackSide.school))
        .outerjoin(mediator, sa.and_(mediator.session_log_id == SessionLog.id,
                                     mediator.side == FeedbackSide.mediator))
        .where(sa.or_(school.id.is_not(None), mediator.id.is_not(None)))
        .subquery("rated")
    )
    c = rated.c
    # Typed NULLs: PostgreSQL resolves a UNION's column types branch by branch.
    none, no_name = sa.cast(sa.null(), sa.BigInteger), sa.cast(sa.null(), sa.String)
    # COUNT(rating) counts the sessions the school answered; SUM(useful) is 0 for the
    # others (``useful`` is 0 without a school answer).
    school_counts = (sa.func.count(c.rating), sa.func.sum(c.useful))

    def by(way: str, key, model, name_it, name_en):
        return (sa.select(sa.literal(way), key, sa.cast(name_it, sa.String),
                          sa.cast(name_en, sa.String), *school_counts,
                          none, none, none)
                .select_from(rated).join(model, model.id == key)
                .where(c.rating.is_not(None))
                .group_by(key, name_it, name_en))

    both = sa.union_all(
        sa.select(sa.literal("all").label("way"), none.label("id"),
                  no_name.label("name_it"), no_name.label("name_en"),
                  sa.func.count(c.rating).label("answers"),
                  sa.func.sum(c.useful).label("useful"), none.label("total"),
                  none.label("org_answers"), none.label("org_total")).select_from(rated),
        sa.select(sa.literal("organisation"), none, no_name, no_name, none, none, none,
                  sa.func.count(c.org_rating), sa.func.sum(c.org_rating)).select_from(rated),
        by("ambito", c.ambito_id, Ambito, Ambito.name, Ambito.name),
        by("school", c.school_id, School, School.name, School.name),
        by("language", c.language_id, Language, Language.name_it, Language.name_en),
        by("type", c.type_id, RequestType, RequestType.name_it, RequestType.name_en),
        sa.select(sa.literal("mediator"), c.mediator_id, sa.cast(User.display_name, sa.String),
                  sa.cast(User.display_name, sa.String), *school_counts, sa.func.sum(c.rating),
                  sa.func.count(c.org_rating), sa.func.sum(c.org_rating))
        .select_from(rated)
        .join(MediatorProfile, MediatorProfile.id == c.mediator_id)
        .join(User, User.id == MediatorProfile.user_id)
        .group_by(c.mediator_id, User.display_name),
    ).subquery()
    return sa.select(*both.c).order_by(both.c.way, both.c.name_it, both.c.id)


def family_confirmations(report: ReportFilter, user: User, *,
                         answers: tuple | None = None) -> dict:
    """The approved meetings of the filter (sessions with a start) by the family's answer
    to the letter's link (issue #19): ``meetings``, ``letters`` (a link was printed),
    ``answers`` (any answer received), ``confirmed`` ("we will come") and ``share``
    (confirmed ÷ meetings, unrounded); for the ``confirmed`` and the ``unconfirmed``
    meetings, their sessions, those not held and the no-show rate. One statement, shared
    with :func:`attestations` (``answers=session_answers(report, user)``)."""
    row = answers if answers is not None else session_answers(report, user)
    meetings, letters, answered, confirmed, confirmed_missed, missed = (
        int(value or 0) for value in row[3:])
    unconfirmed = meetings - confirmed
    unconfirmed_missed = missed - confirmed_missed
    return {
        "meetings": meetings, "letters": letters, "answers": answered,
        "confirmed": confirmed, "share": _ratio(confirmed, meetings),
        "confirmed_rate": {"sessions": confirmed, "not_held": confirmed_missed,
                           "rate": _ratio(confirmed_missed, confirmed)},
        "unconfirmed_rate": {"sessions": unconfirmed, "not_held": unconfirmed_missed,
                             "rate": _ratio(unconfirmed_missed, unconfirmed)},
    }


def attestations(report: ReportFilter, user: User, *, answers: tuple | None = None) -> dict:
    """The approved sessions of the filter by the school's attestation: ``attested``
    (the school confirmed they took place), ``disputed`` (the school disputes them) and
    ``pending`` (no answer yet), adding up to ``sessions``; whatever their outcome (a
    session the family missed is attested too: the mediator went). One statement, shared
    with :func:`family_confirmations`."""
    row = answers if answers is not None else session_answers(report, user)
    sessions, attested, disputed = (int(value or 0) for value in row[:3])
    return {"sessions": sessions, "attested": attested, "disputed": disputed,
            "pending": sessions - attested - disputed}


def documents_translated(report: ReportFilter, user: User, *,
                         figures: dict | None = None) -> dict:
    """Approved translations: how many, and their pages and words."""
    row = _one(_figures(report, user, figures)["translations"])
    return {"documents": int(row["sessions"]), "pages": int(row["pages"]),
            "words": int(row["words"])}


# --- requests and mediators ---------------------------------------------------


def requests_by_state(report: ReportFilter, user: User) -> dict:
    """Requests filed in the period by their state at the end of the period (every state,
    zeros included: a past period's figures do not change when run again), the time to
    the first offer (median and average, hours, over the requests offered before the end
    of the period), the requests not offered by then (``never_offered``: those still
    waiting at the end, with their median and oldest age then, or now while the period
    runs, and those closed without an offer) and the share
    unfilled (unfilled ÷ requests filed)."""
    by_state, first_offer, not_offered = _requests_statements(report, scope_of(user),
                                                               _dialect())
    until = {"until": min(report.end_dt, datetime.now(ROME))}
    state_rows = db.session.execute(by_state).all()
    counts = {state: count for state, count, _total in state_rows}
    total = int(state_rows[0][2]) if state_rows else 0
    offered, average, median, _oldest = db.session.execute(first_offer).one()
    waiting, _average_age, median_age, oldest_age = db.session.execute(
        not_offered, until).one()
    never_offered = total - offered
    unfilled = counts.get(RequestState.unfilled, 0)
    return {
        "by_state": [{"state": state, "count": counts.get(state, 0)} for state in RequestState],
        "total": total,
        "unfilled": unfilled,
        "unfilled_share": _ratio(unfilled, total),
        "offered": offered,
        "first_offer_median_hours": hours(median) if offered else None,
        "first_offer_average_hours": hours(average) if offered else None,
        # Unrounded (the page shows them in hours and minutes, rounded once).
        "first_offer_median_seconds": _decimal(median) if offered else None,
        "first_offer_average_seconds": _decimal(average) if offered else None,
        # Left out of the median: not offered by the end of the period; of them, those
        # still waiting then (awaiting approval or open) and how long they had waited,
        # and those closed without an offer (cancelled, rejected, unfilled).
        "never_offered": never_offered,
        "never_offered_waiting": waiting,
        "never_offered_closed": never_offered - waiting,
        "never_offered_median_age_seconds": _decimal(median_age) if waiting else None,
        "never_offered_oldest_age_seconds": _decimal(oldest_age) if waiting else None,
    }


def state_at_end(report: ReportFilter) -> sa.ColumnElement:
    """A request's state at the end of the period, on MediationRequest: its state today
    when it has not changed since (``updated_dt``, set by every change), otherwise the
    state of its last audit event of a change of state before the end
    (``policy.AUDITED_STATES``: the state the event records, or the one its action leads
    to for the events written before they recorded it); its state today when it has
    none (rows written before the audit trail)."""
    end = _utc(report.end_dt)
    recorded = AuditEvent.data["state"].as_string()
    led_to = sa.case(*((AuditEvent.action == action, state.value)
                       for action, state in policy.AUDITED_STATES.items()
                       if state is not None))
    last_event = (
        sa.select(sa.func.coalesce(recorded, led_to))
        .where(AuditEvent.object_type == "MediationRequest",
               AuditEvent.object_id == MediationRequest.id,
               AuditEvent.action.in_(list(policy.AUDITED_STATES)),
               AuditEvent.created_dt < end)
        .order_by(AuditEvent.id.desc())
        .limit(1)
        .correlate(MediationRequest)
        .scalar_subquery()
    )
    return sa.type_coerce(
        sa.case((MediationRequest.updated_dt < end, MediationRequest.state),
                else_=sa.func.coalesce(last_event, MediationRequest.state)),
        MediationRequest.state.type)


def _delays(delays: sa.Subquery, dialect: str) -> sa.Select:
    """The count, average, median and largest of ``delays.c.delay`` (seconds)."""
    if dialect == "postgresql":
        # The same median (the middle delay, or the mean of the two middle ones) in one
        # sort, instead of numbering every request.
        return sa.select(
            sa.func.count(),
            sa.func.avg(delays.c.delay),
            sa.func.percentile_cont(0.5).within_group(delays.c.delay),
            sa.func.max(delays.c.delay),
        )
    ranked = sa.select(
        delays.c.delay,
        sa.func.row_number().over(order_by=delays.c.delay).label("rank"),
        sa.func.count().over().label("n"),
    ).subquery()
    middle = sa.or_(ranked.c.rank == (ranked.c.n + 1) // 2,
                    ranked.c.rank == (ranked.c.n + 2) // 2)
    return sa.select(
        sa.func.count(),
        sa.func.avg(ranked.c.delay),
        sa.func.avg(sa.case((middle, ranked.c.delay))),
        sa.func.max(ranked.c.delay),
    )


@_kept
def _requests_statements(report: ReportFilter, scope: Scope,
                         dialect: str) -> tuple[sa.Select, sa.Select, sa.Select]:
    """The requests by their state at the end of the period; the count, average, median
    and largest of the delays to their first offer (those offered before the end); the
    same of the ages of the others at ``until`` (a parameter: the end of the period, or
    now while it runs)."""
    states = (
        _with_school(sa.select(state_at_end(report).label("state"))
                     .select_from(MediationRequest), report, scope)
        .where(*request_conditions(report, scope))
        .subquery("states")
    )
    by_state = (sa.select(states.c.state, sa.func.count(), sa.func.sum(sa.func.count()).over())
                .group_by(states.c.state))
    # The first offer is kept on the request (first_offered_dt, by a trigger): the
    # requests' indexes alone give the delays, without joining their assignments.
    end = _utc(report.end_dt)
    offered = sa.and_(MediationRequest.first_offered_dt.is_not(None),
                      MediationRequest.first_offered_dt < end)
    first = (
        _with_school(sa.select(seconds_between(MediationRequest.created_dt,
                                               MediationRequest.first_offered_dt, dialect)
                               .label("delay"))
                     .select_from(MediationRequest), report, scope)
        .where(*request_conditions(report, scope), offered)
        .subquery()
    )
    until = sa.bindparam("until", type_=UTCDateTime())
    # Ages of the requests still waiting for an offer at the end (awaiting the school's
    # approval, or open): those cancelled, rejected or marked unfilled before any offer
    # are counted (total - offered), not aged.
    ages = (
        _with_school(sa.select(seconds_between(MediationRequest.created_dt, until, dialect)
                               .label("delay"))
                     .select_from(MediationRequest), report, scope)
        .where(*request_conditions(report, scope), sa.not_(offered),
               state_at_end(report).in_(policy.WAITING_FOR_AN_OFFER))
        .subquery()
    )
    return by_state, _delays(first, dialect), _delays(ages, dialect)


def utilisation(report: ReportFilter, user: User) -> list[dict]:
    """Per mediator: hours of accepted appointments in the period through requests in the
    filter, against their capacity (weekly hour cap × days of the period ÷ 7).

    Lists the mediators of the scope (serving the Ambito filtered, if any) and any other
    mediator with hours booked in it.
    """
    rows = db.session.execute(_utilisation_statement(report, scope_of(user), _dialect()))
    days = (report.end - report.start).days + 1
    result = []
    for mediator_id, name, cap, seconds in rows:
        # Exact: seconds booked ÷ seconds of capacity (cap × days ÷ 7 hours), one division.
        week_seconds = _decimal(cap) * days * 3600
        result.append({"mediator_id": mediator_id, "name": name, "weekly_hour_cap": cap,
                       "booked_hours": hours(seconds),
                       "booked_seconds": int(seconds or 0),
                       "capacity_hours": hours(week_seconds / 7),
                       "capacity_seconds": week_seconds / 7,
                       "utilisation": _ratio(_decimal(seconds) * 7, week_seconds)})
    return result


@_kept
def _utilisation_statement(report: ReportFilter, scope: Scope, dialect: str) -> sa.Select:
    booked = (
        sa.select(Assignment.mediator_id.label("mediator_id"),
                  _sum(seconds_between(Assignment.start_dt, Assignment.end_dt, dialect))
                  .label("seconds"))
        .select_from(Assignment)
        .where(Assignment.state == AssignmentState.accepted,
               Assignment.start_dt >= report.start_dt, Assignment.start_dt < report.end_dt,
               *_assignment_filter(report, scope))
        .group_by(Assignment.mediator_id)
        .subquery()
    )
    listed = sa.and_(visible(MediatorProfile, scope), User.active)
    ambito_id = report.ambito_id
    if report.school_id is not None:
        ambito_id = sa.select(School.ambito_id).where(
            School.id == report.school_id).scalar_subquery()
    if ambito_id is not None:
        listed = sa.and_(listed, MediatorProfile.id.in_(
            sa.select(mediator_ambiti.c.mediator_id)
            .where(mediator_ambiti.c.ambito_id == ambito_id)))
    return (
        sa.select(MediatorProfile.id, User.display_name, MediatorProfile.weekly_hour_cap,
                  booked.c.seconds)
        .join(User, User.id == MediatorProfile.user_id)
        .outerjoin(booked, booked.c.mediator_id == MediatorProfile.id)
        .where(sa.or_(listed, booked.c.seconds > 0))
        .order_by(User.display_name, MediatorProfile.id)
    )


# --- the plan and the budget --------------------------------------------------


def hours_vs_planned(report: ReportFilter, user: User) -> list[dict]:
    """Per Ambito and macro-action (of the projects running in the period): planned hours
    (None when none are planned), hours of approved sessions in the period
    (``used_hours``) and over all dates (``used_total_hours``), and the share used so far
    (used_total ÷ planned). Other filters apply to the hours used; planned hours are the
    Ambito's whole plan."""
    rows = db.session.execute(_planned_statement(report, scope_of(user), _dialect()))
    result = []
    for (ambito_id, ambito_name, project_code, macro_action_id, number, title_it, title_en,
         planned_hours, in_period_seconds, total_seconds) in rows:
        planned_value = None if planned_hours is None else _decimal(planned_hours)
        result.append({
            "ambito_id": ambito_id, "ambito_name": ambito_name, "project_code": project_code,
            "macro_action_id": macro_action_id, "number": number, "title_it": title_it,
            "title_en": title_en, "planned_hours": planned_value,
            "used_hours": hours(in_period_seconds),
            "used_total_hours": hours(total_seconds),
            "used_seconds": int(in_period_seconds or 0),
            "used_total_seconds": int(total_seconds or 0),
            # From the seconds, not the hours shown (rounded to 0.01).
            "share_used": (_ratio(total_seconds or 0, planned_value * 3600)
                           if planned_value else None),
        })
    return result


@_kept
def _planned_statement(report: ReportFilter, scope: Scope, dialect: str) -> sa.Select:
    macro_actions = sa.select(MacroAction.id).where(
        MacroAction.project_id.in_(_projects_in_period(report)))
    # Per school first (the logs' own column), then per Ambito: the region's sessions
    # need no join to their schools.
    by_school = (
        counted_sessions(
            report, scope,
            SessionLog.school_id.label("school_id"),
            SessionLog.macro_action_id.label("macro_action_id"),
            _sum(_if_held(session_seconds(dialect))).label("seconds"),
        )
        .where(SessionLog.macro_action_id.in_(macro_actions))
        .group_by(SessionLog.school_id, SessionLog.macro_action_id)
        .subquery()
    )
    in_period = (
        sa.select(School.ambito_id.label("ambito_id"), by_school.c.macro_action_id,
                  _sum(by_school.c.seconds).label("in_period"), sa.literal(0).label("total"))
        .join(School, School.id == by_school.c.school_id)
        .group_by(School.ambito_id, by_school.c.macro_action_id)
    )
    every_date = (
        _approved_totals(report, scope, School.ambito_id.label("ambito_id"),
                         ApprovedSessionTotal.macro_action_id.label("macro_action_id"),
                         sa.literal(0).label("in_period"),
                         _sum(ApprovedSessionTotal.held_seconds).label("total"))
        .where(ApprovedSessionTotal.macro_action_id.in_(macro_actions))
        .group_by(School.ambito_id, ApprovedSessionTotal.macro_action_id)
        .having(sa.func.sum(ApprovedSessionTotal.sessions) > 0)
    )
    if report.language_id is not None or report.type_id is not None:
        # The totals are not kept per language or type: read those sessions themselves.
        every_date = (
            counted_sessions(
                report, scope,
                School.ambito_id.label("ambito_id"),
                SessionLog.macro_action_id.label("macro_action_id"),
                sa.literal(0).label("in_period"),
                _sum(_if_held(session_seconds(dialect))).label("total"),
                period=False,
            )
            .where(SessionLog.macro_action_id.in_(macro_actions))
            .group_by(School.ambito_id, SessionLog.macro_action_id)
        )
    both = sa.union_all(in_period, every_date).subquery()
    used = (
        sa.select(both.c.ambito_id, both.c.macro_action_id,
                  sa.func.sum(both.c.in_period).label("in_period"),
                  sa.func.sum(both.c.total).label("total"))
        .group_by(both.c.ambito_id, both.c.macro_action_id)
        .cte("used")  # read twice below (the keys and the join): computed once
    )
    planned_conditions = [visible(Ambito, scope),
                          PlannedHours.macro_action_id.in_(macro_actions)]
    if report.ambito_id is not None:
        planned_conditions.append(PlannedHours.ambito_id == report.ambito_id)
    if report.school_id is not None:
        planned_conditions.append(PlannedHours.ambito_id == sa.select(School.ambito_id).where(
            School.id == report.school_id).scalar_subquery())
    if report.macro_action_id is not None:
        planned_conditions.append(PlannedHours.macro_action_id == report.macro_action_id)
    planned = (
        sa.select(PlannedHours.ambito_id, PlannedHours.macro_action_id, PlannedHours.hours)
        .join(Ambito, Ambito.id == PlannedHours.ambito_id)
        .where(*planned_conditions)
        .subquery()
    )
    keys = sa.union(
        sa.select(planned.c.ambito_id, planned.c.macro_action_id),
        sa.select(used.c.ambito_id, used.c.macro_action_id),
    ).subquery()
    return (
        sa.select(keys.c.ambito_id, Ambito.name, Project.code, keys.c.macro_action_id,
                  MacroAction.number, MacroAction.title_it, MacroAction.title_en,
                  planned.c.hours, used.c.in_period, used.c.total)
        .select_from(keys)
        .join(Ambito, Ambito.id == keys.c.ambito_id)
        .join(MacroAction, MacroAction.id == keys.c.macro_action_id)
        .join(Project, Project.id == MacroAction.project_id)
        .outerjoin(planned, sa.and_(planned.c.ambito_id == keys.c.ambito_id,
                                    planned.c.macro_action_id == keys.c.macro_action_id))
        .outerjoin(used, sa.and_(used.c.ambito_id == keys.c.ambito_id,
                                 used.c.macro_action_id == keys.c.macro_action_id))
        .order_by(Ambito.name, Project.start_date, Project.code, MacroAction.number)
    )


def budget(report: ReportFilter, user: User, today: date | None = None, *,
           figures: dict | None = None) -> list[dict]:
    """Per project running in the period: its budget lines and their sum; the cost of the
    period's sessions in the filter and scope (``cost_in_period``); for the whole project
    (every Ambito: the budget is shared) the cost to date, what remains, the average daily
    cost of the last 90 days (today included) and the day the money runs out at that pace
    (None when nothing was spent in those days or nothing remains), computed from the
    exact costs (:func:`run_out_day`); ``lasts_past_end`` when that day is after the
    project's end."""
    today = _today(today)
    projects_statement, lines_statement, costs_statement = _budget_statements(
        report, today, _dialect())
    projects = db.session.execute(projects_statement).all()
    lines = db.session.execute(lines_statement).all()
    costs = {project_id: (to_date, pace)
             for project_id, to_date, pace in db.session.execute(costs_statement)}
    # The cost of the period's sessions in the filter and scope: the period figures, per
    # project (the dashboard reads those sessions once).
    in_period = _figures(report, user, figures)["project"]
    result = []
    for project_id, code, title, start_date, end_date, total in projects:
        to_date, pace = costs.get(project_id, (0, 0))
        to_date, pace = int(to_date or 0), int(pace or 0)
        in_period_cost = in_period.get((project_id, None), {}).get("cost", 0)
        end = _as_date(end_date)
        amount = _decimal(total).quantize(CENT)
        # Exact, in cents × seconds (÷ 360,000 gives euros): the budget has whole cents.
        remaining_exact = int(amount * 360_000) - to_date
        runs_out = run_out_day(remaining_exact, pace, today)
        result.append({
            "project_id": project_id, "code": code, "title": title,
            "start_date": start_date, "end_date": end,
            "budget": amount,
            "lines": [{"label": label, "amount": _decimal(value).quantize(CENT)}
                      for pid, label, value in lines if pid == project_id],
            "cost_in_period": euros(in_period_cost), "spent_to_date": euros(to_date),
            "remaining": euros(remaining_exact),
            "share_spent": _ratio(to_date, amount * 360_000),
            # Not rounded: the page shows it to the cent.
            "daily_cost": _decimal(pace) / 360_000 / PACE_DAYS,
            "runs_out_on": runs_out, "exhausted": remaining_exact <= 0,
            "runs_out_before_end": runs_out is not None and runs_out <= end,
            # Money left at the project's end at the current pace: the page says so
            # rather than give a date past the end (perhaps centuries away).
            "lasts_past_end": (remaining_exact > 0 and pace > 0
                               and (runs_out is None or runs_out > end)),
            "runout": runout_case(remaining_exact, to_date, pace, runs_out, end, today),
        })
    return result


def runout_case(remaining: int, to_date: int, pace: int, runs_out: date | None, end: date,
                today: date) -> str:
    """What the page says about when the money runs out, from the exact figures (cents ×
    seconds): ``exhausted`` (nothing remains), ``ended`` (the project is over, money
    left), ``before_end`` (``runs_out`` is a day of the project), ``after_end`` (at this
    pace it lasts past the end: the page gives the end, not a date perhaps centuries
    away), ``nothing_spent`` (not a cent yet: no pace), ``no_recent`` (nothing in the
    last :data:`PACE_DAYS` days)."""
    if remaining <= 0:
        return "exhausted"
    if end < today:
        return "ended"
    if runs_out is not None and runs_out <= end:
        return "before_end"
    if pace > 0:
        return "after_end"
    return "nothing_spent" if to_date <= 0 else "no_recent"


def run_out_day(remaining: int, pace: int, today: date) -> date | None:
    """The day the money runs out: ``today`` + remaining ÷ (pace ÷ 90) whole days, from
    exact integers (cents × seconds: what remains, and what the last 90 days cost); None
    when nothing remains, nothing was spent in those days, or past the last date Python
    knows (a pace of a few cents a year)."""
    if remaining <= 0 or pace <= 0:
        return None
    days = remaining * PACE_DAYS // pace
    if days > (date.max - today).days:
        return None
    return today + timedelta(days=days)


@_kept
def _budget_statements(report: ReportFilter, today: date,
                       dialect: str) -> tuple[sa.Select, sa.Select, sa.Select]:
    """The projects running in the period with their effective end and budget; their
    budget lines; per project, the cost to date and over the last 90 days (every Ambito)."""
    tomorrow = rome_midnight(today + timedelta(days=1))
    pace_start = rome_midnight(today - timedelta(days=PACE_DAYS - 1))
    projects_query = _projects_in_period(report)
    budget_total = (sa.select(_sum(BudgetLine.amount))
                    .where(BudgetLine.project_id == Project.id)
                    .correlate(Project).scalar_subquery())
    projects = (
        sa.select(Project.id, Project.code, Project.title, Project.start_date,
                  _effective_end(), budget_total)
        .where(Project.id.in_(projects_query))
        .order_by(Project.start_date, Project.code)
    )
    lines = (
        sa.select(BudgetLine.project_id, BudgetLine.label, BudgetLine.amount)
        .where(BudgetLine.project_id.in_(projects_query))
        .order_by(BudgetLine.project_id, BudgetLine.position, BudgetLine.id)
    )
    when = session_when()
    cost = _sum(session_cost_seconds(dialect))

    def zero():  # a new literal each time: a select keeps one of two equal columns
        return sa.literal(0)

    in_project = SessionLog.project_id.in_(projects_query)
    region = (with_prices(sa.select(SessionLog.project_id).select_from(SessionLog))
              .where(SessionLog.state == LogState.approved, in_project)
              .group_by(SessionLog.project_id))
    parts = [
        # To date, every Ambito: the running totals (per rate and tariff), less what
        # counts from tomorrow on.
        with_prices(sa.select(ApprovedSessionTotal.project_id,
                               _sum(_cost_cents_seconds(ApprovedSessionTotal.seconds,
                                                        ApprovedSessionTotal.pages)),
                               zero()).select_from(ApprovedSessionTotal),
                     ApprovedSessionTotal.rate_id, ApprovedSessionTotal.tariff_id)
        .where(ApprovedSessionTotal.project_id.in_(projects_query))
        .group_by(ApprovedSessionTotal.project_id),
        region.add_columns(-cost, zero()).where(when >= _utc(tomorrow)),
        # The pace: the last 90 days, every Ambito.
        region.add_columns(zero(), cost).where(when >= _utc(pace_start), when < _utc(tomorrow)),
    ]
    both = sa.union_all(*parts).subquery()
    c = list(both.c)
    costs = sa.select(c[0], sa.func.sum(c[1]), sa.func.sum(c[2])).group_by(c[0])
    return projects, lines, costs


def _as_date(value) -> date:
    """A date from SQL (SQLite gives a CASE over dates back as text)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def end_warnings(report: ReportFilter, user: User, today: date | None = None) -> list[dict]:
    """Projects needing attention: one running today whose effective end is within 60 days,
    or one with active bookings (offered or accepted, in the scope and the Ambito/school/
    language/type filter) after its end. ``bookings_after``: how many."""
    today = _today(today)
    projects = db.session.execute(_projects_statement()).all()
    if not projects:
        return []
    ends = {pid: _as_date(end) for pid, _code, _title, _start, end in projects}
    bookings_after = {project_id: int(bookings) for project_id, bookings in db.session.execute(
        _bookings_after_statement(report, scope_of(user), tuple(ends.items())))}
    warnings = []
    for project_id, code, title, start_date, _end in projects:
        end = ends[project_id]
        days_left = (end - today).days
        ending = start_date <= today and 0 <= days_left <= END_WARNING_DAYS
        after = bookings_after.get(project_id, 0)
        if ending or after:
            warnings.append({"project_id": project_id, "code": code, "title": title,
                             "end_date": end, "days_left": days_left,
                             "bookings_after": after})
    return warnings


@_kept
def _projects_statement() -> sa.Select:
    """Every project, with its effective end."""
    return (sa.select(Project.id, Project.code, Project.title, Project.start_date,
                      _effective_end())
            .order_by(Project.start_date, Project.code))


@_kept
def _bookings_after_statement(report: ReportFilter, scope: Scope,
                              ends: tuple[tuple[int, date], ...]) -> sa.Select:
    """Per project of ``ends`` (id, effective end), its active bookings in the filter
    from the day after its end: an appointment by its start, a translation (no start) by
    its deadline. Each is a range of ix_assignments_project_state_start, however long the
    project's history."""
    counts = []
    for project_id, end in ends:
        after = _utc(rome_midnight(end + timedelta(days=1)))
        active = sa.and_(Assignment.project_id == project_id,
                         Assignment.state.in_((AssignmentState.offered,
                                               AssignmentState.accepted)),
                         *_assignment_filter(report, scope))
        for when in (Assignment.start_dt >= after,
                     sa.and_(Assignment.start_dt.is_(None), Assignment.deadline_dt >= after)):
            counts.append(sa.select(sa.literal(project_id).label("project_id"),
                                    sa.func.count().label("bookings"))
                          .select_from(Assignment).where(active, when))
    both = sa.union_all(*counts).subquery()
    return (sa.select(both.c.project_id, sa.func.sum(both.c.bookings))
            .group_by(both.c.project_id))


def dashboard(report: ReportFilter, user: User, today: date | None = None) -> dict:
    """Every figure of the dashboard, by name (a constant number of queries)."""
    tune_for_reporting()
    figures = period_figures(report, user)
    answers = session_answers(report, user)
    return {
        "totals": totals(report, user, figures=figures),
        "paid": paid(report, user, figures=figures),
        "no_shows": no_shows(report, user),
        "attestations": attestations(report, user, answers=answers),
        "family_confirmations": family_confirmations(report, user, answers=answers),
        "hours_by_macro_action": hours_by_macro_action(report, user, figures=figures),
        "hours_by_month": hours_by_month(report, user, figures=figures),
        "sessions_by_type": sessions_by_type(report, user, figures=figures),
        "beneficiaries": beneficiaries(report, user, figures=figures),
        "reach": reach(report, user, figures=figures),
        "documents_translated": documents_translated(report, user, figures=figures),
        "requests_by_state": requests_by_state(report, user),
        "utilisation": utilisation(report, user),
        "hours_vs_planned": hours_vs_planned(report, user),
        "budget": budget(report, user, today, figures=figures),
        "end_warnings": end_warnings(report, user, today),
    }
