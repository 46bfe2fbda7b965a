"""Figures an auditor signs (issue #18): a mediator's monthly timesheet (the FAMI
template's content) and the cooperative statement of a month and Ambito.

Both read the dashboard's sessions with the dashboard's filter and definitions
(:func:`filters.counted_sessions`: approved logs, counted on the Europe/Rome day they
started or, a translation, on its deadline; delivered = held, paid = every approved
session) and price them with the dashboard's own SQL (:func:`aggregates.with_prices`,
:func:`aggregates.session_cost_seconds`: seconds × the rate the log keeps + pages × the
tariff it keeps, in cents × seconds). Their totals are the dashboard's figures for the
same filter (:func:`aggregates.totals`, :func:`aggregates.paid` on
:func:`aggregates.period_figures`), never a sum of rounded rows: each amount is rounded
once, as shown. The timesheet's filter is the month, the Ambito (a coordinator's own) and
the mediator (``ReportFilter.mediator_id``); the statement's the month and the Ambito.

The FAMI template's "attested by" column is filled by :func:`attested_by` alone.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from ..bookings.queries import attestations_for
from ..clock import ROME, in_rome, month_start, next_month
from ..extensions import db
from ..i18n import format_date
from ..models import (
    Action,
    Ambito,
    AttestationOutcome,
    MacroAction,
    MediatorProfile,
    MediatorRate,
    Outcome,
    Project,
    School,
    SessionLog,
    TranslationTariff,
    User,
)
from ..scoping import scope_of
from . import aggregates
from .aggregates import euros, hours, session_cost_seconds, session_seconds, with_prices
from .filters import ReportFilter, counted_sessions, session_when, tune_for_reporting

#: The months a timesheet or statement may be asked for (the reporting periods' years).
FIRST_YEAR, LAST_YEAR = 2000, 2100


def this_month(today: date | None = None) -> date:
    """The first day of the current Europe/Rome month."""
    return month_start(today or datetime.now(ROME).date())


def parse_month(value: str | None, default: date) -> tuple[date, bool]:
    """``YYYY-MM`` as the month's first day, and whether it was valid (else ``default``)."""
    if not value:
        return default, True
    try:
        first = date.fromisoformat(f"{value}-01")
    except ValueError:
        return default, False
    if not FIRST_YEAR <= first.year <= LAST_YEAR or len(value) != 7:
        return default, False
    return first, True


def month_filter(month: date, ambito_id: int | None = None,
                 mediator_id: int | None = None) -> ReportFilter:
    """The dashboard's filter of one calendar month (Europe/Rome days, both ends)."""
    return ReportFilter(start=month, end=next_month(month) - timedelta(days=1),
                        ambito_id=ambito_id, mediator_id=mediator_id)


def attested_by(log_ids: list[int]) -> dict[int, str]:
    """Who at the school attested each session of ``log_ids``: session log id → the
    attesting person's name, as the FAMI timesheet's "attested by" column shows it; a
    disputed session says so, with who disputed it; a pending one is left out (the
    column stays empty)."""
    result = {}
    for log_id, attestation in attestations_for(log_ids).items():
        name = attestation.by.display_name
        result[log_id] = (name if attestation.outcome == AttestationOutcome.attested
                          else _("Disputed by %(name)s", name=name))
    return result


@dataclass
class SessionRow:
    """One session of a timesheet (a meeting, or a translation: no start nor end)."""

    log_id: int
    day: date
    start: datetime | None
    end: datetime | None
    school: str
    project_code: str
    macro_action: str
    action: str | None
    outcome: Outcome
    seconds: int  # paid (every approved session); delivered only when held
    pages: int | None
    hourly_cost: Decimal | None  # the rate the log keeps
    page_cost: Decimal | None  # the tariff it keeps
    cost: int  # cents × seconds (÷ 360,000: euros)
    attested_by: str | None = None

    @property
    def held(self) -> bool:
        return self.outcome == Outcome.held

    @property
    def delivered_seconds(self) -> int:
        return self.seconds if self.held else 0

    @property
    def amount(self) -> Decimal:
        return euros(self.cost)


def _session_statement(report: ReportFilter, user: User, locale: str) -> sa.Select:
    dialect = db.session.get_bind().dialect.name
    macro_title = MacroAction.title_it if locale == "it" else MacroAction.title_en
    action_title = Action.title_it if locale == "it" else Action.title_en
    return (
        with_prices(counted_sessions(
            report, scope_of(user),
            SessionLog.id, session_when(), SessionLog.actual_start_dt,
            SessionLog.actual_end_dt, School.name, Project.code, MacroAction.number,
            macro_title, Action.code, action_title, SessionLog.outcome,
            session_seconds(dialect), SessionLog.pages, MediatorRate.hourly_cost,
            TranslationTariff.page_cost, session_cost_seconds(dialect),
        ))
        .join(MacroAction, MacroAction.id == SessionLog.macro_action_id)
        .join(Project, Project.id == SessionLog.project_id)
        .outerjoin(Action, Action.id == SessionLog.action_id)
        .order_by(session_when(), SessionLog.id)
    )


def _price_groups(report: ReportFilter, user: User) -> list[sa.Row]:
    """The filter's sessions grouped by cooperative, mediator and price (the rate and the
    tariff their logs keep): seconds delivered and paid, pages, cost (cents × seconds)."""
    dialect = db.session.get_bind().dialect.name
    seconds = session_seconds(dialect)
    statement = (
        with_prices(counted_sessions(
            report, scope_of(user),
            MediatorProfile.employer, MediatorProfile.id, User.display_name,
            MediatorRate.hourly_cost, TranslationTariff.page_cost,
            aggregates._sum(aggregates._if_held(seconds)),
            aggregates._sum(seconds),
            aggregates._sum(SessionLog.pages),
            aggregates._sum(session_cost_seconds(dialect)),
        ))
        .join(MediatorProfile, MediatorProfile.id == SessionLog.mediator_id)
        .join(User, User.id == MediatorProfile.user_id)
        .group_by(MediatorProfile.employer, MediatorProfile.id, User.display_name,
                  MediatorRate.hourly_cost, TranslationTariff.page_cost)
        # The hourly rates first, then the tariffs (a translation keeps no rate): the same
        # order on SQLite and PostgreSQL, which sort NULL apart by default.
        .order_by(MediatorProfile.employer, User.display_name, MediatorProfile.id,
                  sa.nulls_last(MediatorRate.hourly_cost.asc()),
                  sa.nulls_last(TranslationTariff.page_cost.asc()))
    )
    return db.session.execute(statement).all()


def _price(hourly_cost, page_cost, held, paid, pages, cost) -> dict:
    held, paid, pages, cost = int(held or 0), int(paid or 0), int(pages or 0), int(cost or 0)
    return {"hourly_cost": hourly_cost, "page_cost": page_cost,
            "delivered_seconds": held, "paid_seconds": paid, "pages": pages,
            "cost": cost, "amount": euros(cost), "paid_hours": hours(paid)}


def _measures(parts: list[dict]) -> dict:
    """The exact sums of ``parts`` (seconds, pages, cents × seconds), rounded once."""
    held = sum(p["delivered_seconds"] for p in parts)
    paid = sum(p["paid_seconds"] for p in parts)
    cost = sum(p["cost"] for p in parts)
    return {"delivered_seconds": held, "paid_seconds": paid,
            "delivered_hours": hours(held), "paid_hours": hours(paid),
            "pages": sum(p["pages"] for p in parts), "cost": cost, "amount": euros(cost)}


def _dashboard(report: ReportFilter, user: User) -> dict:
    """The dashboard's own figures of ``report``: hours delivered and paid, cost."""
    figures = aggregates.period_figures(report, user)
    totals = aggregates.totals(report, user, figures=figures)
    paid = aggregates.paid(report, user, figures=figures)
    return {"delivered_seconds": totals["seconds"], "delivered_hours": totals["hours"],
            "paid_seconds": paid["seconds"], "paid_hours": paid["hours"],
            "cost": totals["cost"], "sessions": totals["sessions"],
            "paid_sessions": paid["sessions"], "not_held": paid["not_held"]}


def timesheet(report: ReportFilter, user: User, locale: str) -> dict:
    """A mediator's timesheet for ``report`` (a month, their id, perhaps an Ambito), in
    ``user``'s scope: the sessions with a start (held and paid-not-held, with their
    outcome), the translations apart, the amounts by rate and the totals, which are the
    dashboard's figures for the same filter."""
    tune_for_reporting()
    sessions, translations = [], []
    for (log_id, counted, start, end, school, project_code, number, macro_title,
         action_code, action_title, outcome, seconds, pages, hourly_cost, page_cost,
         cost) in db.session.execute(_session_statement(report, user, locale)):
        row = SessionRow(
            log_id=log_id, day=in_rome(counted).date(), start=start, end=end, school=school,
            project_code=project_code, macro_action=f"{number}. {macro_title}",
            action=f"{action_code} {action_title}" if action_code else None,
            outcome=outcome, seconds=int(seconds or 0), pages=pages,
            hourly_cost=hourly_cost, page_cost=page_cost, cost=int(cost or 0))
        (sessions if start is not None else translations).append(row)
    attested = attested_by([row.log_id for row in (*sessions, *translations)])
    for row in (*sessions, *translations):
        row.attested_by = attested.get(row.log_id)
    prices = [_price(*row[3:]) for row in _price_groups(report, user)]
    return {
        "sessions": sessions,
        "translations": translations,
        "projects": sorted({row.project_code for row in (*sessions, *translations)}),
        "prices": prices,
        "totals": _dashboard(report, user),
        "translated_pages": sum(row.pages or 0 for row in translations),
    }


def statement(report: ReportFilter, user: User) -> dict:
    """The statement of ``report`` (a month, an Ambito or the user's whole scope): per
    cooperative (the mediators' employer) and mediator, hours delivered and paid, pages
    translated and the amounts by price (rate × hours paid, tariff × pages), with the
    exact sums; and the dashboard's figures for the same filter beside them
    (``dashboard``, ``reconciled``: equal to the cent, and the hours to the second)."""
    tune_for_reporting()
    cooperatives: list[dict] = []
    for employer, mediator_id, name, *price in _price_groups(report, user):
        if not cooperatives or cooperatives[-1]["name"] != employer:
            cooperatives.append({"name": employer, "mediators": []})
        mediators = cooperatives[-1]["mediators"]
        if not mediators or mediators[-1]["id"] != mediator_id:
            mediators.append({"id": mediator_id, "name": name, "prices": []})
        mediators[-1]["prices"].append(_price(*price))
    for cooperative in cooperatives:
        for mediator in cooperative["mediators"]:
            mediator.update(_measures(mediator["prices"]))
        cooperative.update(_measures([p for m in cooperative["mediators"]
                                      for p in m["prices"]]))
    total = _measures([p for c in cooperatives for m in c["mediators"] for p in m["prices"]])
    dashboard = _dashboard(report, user)
    return {
        "cooperatives": cooperatives,
        "total": total,
        "dashboard": dashboard,
        "reconciled": (total["amount"] == dashboard["cost"]
                       and total["delivered_seconds"] == dashboard["delivered_seconds"]
                       and total["paid_seconds"] == dashboard["paid_seconds"]),
        "difference": total["amount"] - dashboard["cost"],
    }


# --- the workbooks (the same content as the pages) -----------------------------------


def _exact_euros(cost: int):
    """Cents × seconds as euros, unrounded (the workbook shows two decimals)."""
    return Decimal(cost) / 360_000


def ambito_name(ambito_id: int | None) -> str:
    if ambito_id is None:
        return _("All Ambiti")
    return db.session.get(Ambito, ambito_id).name


def timesheet_heading(mediator: MediatorProfile, month: date, ambito_id: int | None,
                      sheet: dict) -> list[tuple[str, object]]:
    """The timesheet's heading: mediator, cooperative, project, month, Ambito."""
    return [(_("Mediator"), mediator.user.display_name),
            (_("Cooperative"), mediator.employer),
            (_("Project"), ", ".join(sheet["projects"]) or "–"),
            (_("Month"), format_date(month, "LLLL yyyy")),
            (_("Ambito"), ambito_name(ambito_id))]


def timesheet_table(sheet: dict, heading: list[tuple[str, object]], locale: str,
                    filename: str):
    """The timesheet as a workbook's table: one row per session then per translation,
    the totals (the dashboard's figures), then the signature lines; ``heading`` (mediator,
    cooperative, project, month...) on the second sheet. Call within ``force_locale``."""
    from ..labels import OUTCOME_LABELS
    from .spreadsheets import Column, Kind, Table

    columns = [
        Column(_("Date"), Kind.date, 11),
        Column(_("School"), Kind.text, 34),
        Column(_("Start time"), Kind.time, 8),
        Column(_("End time"), Kind.time, 8),
        Column(_("Hours delivered"), Kind.hours, 9),
        Column(_("Hours paid"), Kind.hours, 9),
        Column(_("Pages"), Kind.integer, 7),
        Column(_("Macro-action"), Kind.text, 36),
        Column(_("Action"), Kind.text, 30),
        Column(_("Outcome"), Kind.text, 18),
        Column(_("Hourly rate"), Kind.money, 9),
        Column(_("Tariff per page"), Kind.money, 9),
        Column(_("Amount"), Kind.money, 10),
        Column(_("Attested by"), Kind.text, 24),
    ]

    def time_of(moment):
        return in_rome(moment).time().replace(second=0, microsecond=0) if moment else None

    def rows():
        for row in (*sheet["sessions"], *sheet["translations"]):
            timed = row.start is not None
            yield (row.day, row.school, time_of(row.start), time_of(row.end),
                   row.delivered_seconds / 3600 if timed else None,
                   row.seconds / 3600 if timed else None, row.pages, row.macro_action,
                   row.action, str(OUTCOME_LABELS[row.outcome]), row.hourly_cost,
                   row.page_cost, _exact_euros(row.cost), row.attested_by)
        totals = sheet["totals"]
        yield (_("Total"), None, None, None, totals["delivered_seconds"] / 3600,
               totals["paid_seconds"] / 3600, sheet["translated_pages"], None, None, None,
               None, None, totals["cost"], None)
        yield (None,) * len(columns)
        for label in (_("Signature of the worker"), _("Signature of the supervisor")):
            yield (label, "", *(None,) * (len(columns) - 2))

    return Table("timesheet", locale, _("Timesheet"), filename, columns, rows(), heading)


def statement_table(result: dict, heading: list[tuple[str, object]], locale: str,
                    filename: str):
    """The statement as a workbook's table: a row per cooperative, mediator and price,
    a total per mediator and per cooperative, the total and the dashboard's figures for
    the same filter (the reconciliation). Call within ``force_locale``."""
    from .spreadsheets import Column, Kind, Table

    columns = [
        Column(_("Cooperative"), Kind.text, 30),
        Column(_("Mediator"), Kind.text, 26),
        Column(_("Hourly rate"), Kind.money, 9),
        Column(_("Tariff per page"), Kind.money, 9),
        Column(_("Hours delivered"), Kind.hours, 9),
        Column(_("Hours paid"), Kind.hours, 9),
        Column(_("Translated pages"), Kind.integer, 9),
        Column(_("Amount"), Kind.money, 11),
    ]

    def measures(part):
        return (part["delivered_seconds"] / 3600, part["paid_seconds"] / 3600,
                part["pages"], _exact_euros(part["cost"]))

    def rows():
        for cooperative in result["cooperatives"]:
            for mediator in cooperative["mediators"]:
                for price in mediator["prices"]:
                    yield (cooperative["name"], mediator["name"], price["hourly_cost"],
                           price["page_cost"], *measures(price))
                yield (cooperative["name"], _("Total of %(name)s", name=mediator["name"]),
                       None, None, *measures(mediator))
            yield (_("Total of %(name)s", name=cooperative["name"]), None, None, None,
                   *measures(cooperative))
        yield (_("Total"), None, None, None, *measures(result["total"]))
        dashboard = result["dashboard"]
        yield (_("Dashboard, same month and Ambito"), None, None, None,
               dashboard["delivered_seconds"] / 3600, dashboard["paid_seconds"] / 3600,
               None, dashboard["cost"])
        yield (_("Difference"), None, None, None, None, None, None, result["difference"])

    return Table("statement", locale, _("Cooperative statement"), filename, columns, rows(),
                 heading)
