"""The dashboard for funder reporting (coordinators: their Ambito; the admin: the region).

The exports (CSV/XLSX) live in ``exports.py``; this module draws the page.
"""

import os
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import selectinload
from wtforms import DateField, DecimalField, SelectField
from wtforms.validators import InputRequired, NumberRange

from ..errors import InvalidInput
from ..extensions import db
from ..i18n import format_date, format_percent, number_format
from ..labels import request_state_label
from ..models import Ambito, Language, MacroAction, Project, RequestType, Role, School
from ..scoping import roles_required, visible
from ..view_helpers import show_error
from . import aggregates, display, periods, tariffs
from .filters import OutOfScope, default_period, parse_filter

bp = Blueprint("reporting", __name__, url_prefix="/reporting")
# Seconds as "12 h 30 min" (rounded once, to the minute), in any template.
bp.add_app_template_filter(display.hours_minutes, "hours_minutes")
bp.add_app_template_filter(display.age, "age")

REPORTERS = (Role.coordinator, Role.admin)


def _user():
    return current_user._get_current_object()


def _options(user, locale: str) -> dict:
    """The choices of the filter form, limited to the user's scope."""
    ambiti = db.session.execute(
        sa.select(Ambito.id, Ambito.name).where(visible(Ambito, user)).order_by(Ambito.name)
    ).all()
    schools = db.session.execute(
        sa.select(School.id, School.name, School.ambito_id)
        .where(visible(School, user)).order_by(School.name, School.id)
    ).all()
    macro_actions = db.session.execute(
        sa.select(MacroAction.id, MacroAction.number, MacroAction.title_it, MacroAction.title_en,
                  Project.code)
        .join(Project, Project.id == MacroAction.project_id)
        .order_by(Project.start_date.desc(), Project.code, MacroAction.number)
    ).all()
    name = Language.name_it if locale == "it" else Language.name_en
    languages = db.session.execute(sa.select(Language.id, name).order_by(name)).all()
    type_name = RequestType.name_it if locale == "it" else RequestType.name_en
    types = db.session.execute(
        sa.select(RequestType.id, type_name).order_by(RequestType.position, RequestType.code)
    ).all()
    return {
        "ambiti": [(a.id, a.name) for a in ambiti],
        "schools": [(s.id, s.name) for s in schools],
        "macro_actions": [
            (m.id, f"{m.code} · {m.number}. {m.title_it if locale == 'it' else m.title_en}")
            for m in macro_actions
        ],
        "languages": [(lang_id, label) for lang_id, label in languages],
        "types": [(type_id, label) for type_id, label in types],
    }


def _number(value) -> float:
    return float(value) if isinstance(value, Decimal) else value


def _hours(seconds) -> float:
    """Exact hours for a chart (dashboard.js rounds them once, to the minute, as it
    writes them)."""
    return float(Decimal(str(seconds or 0)) / 3600)


def _macro_label(row: dict, locale: str) -> str:
    return f"{row['project_code']} · {row['number']}. {display.macro_title(row, locale)}"


def _month_label(first: date) -> str:
    return format_date(first, "LLL yyyy")


#: The value axis of each kind of chart (Chart.js scale options): counts in whole
#: ticks, shares from 0 to 100 % (more when a mediator is booked past the cap), hours
#: from zero (dashboard.js writes their ticks in hours and minutes).
SCALES = {
    "count": {"beginAtZero": True, "ticks": {"precision": 0}},
    "percent": {"min": 0, "suggestedMax": 1},
    "hours": {"beginAtZero": True},
}


def _spec(unit: str, **spec) -> dict:
    return {"unit": unit, "scale": SCALES[unit], **spec}


def _chart_data(figures: dict, locale: str) -> dict:
    """What dashboard.js draws: one entry per canvas, the same numbers as the tables.
    Macro-actions appear by their names: wrapped in lines on an axis, cut short in a
    legend (the full names are in the tables)."""
    macro = figures["hours_by_macro_action"]
    months = figures["hours_by_month"]
    requests = figures["requests_by_state"]
    people = figures["beneficiaries"]
    planned = figures["hours_vs_planned"]
    several = len({row["project_code"] for row in [*macro, *planned]}) > 1

    def name(row):
        return display.macro_name(row, locale, with_project=several)

    return {
        "chart-months": _spec(
            "hours", type="bar", stacked=True, axis=_("Hours"),
            labels=[_month_label(m["month"]) for m in months],
            datasets=[
                {"label": display.short(name(row)),
                 "data": [_hours(m["seconds_by_macro_action"].get(row["macro_action_id"], 0))
                          for m in months]}
                for row in macro
            ],
        ),
        "chart-macro-actions": _spec(
            "hours", type="bar", horizontal=True, axis=_("Hours"),
            labels=[display.wrapped(name(row)) for row in macro],
            datasets=[{"label": _("Hours"), "data": [_hours(r["seconds"]) for r in macro]}],
        ),
        "chart-types": _spec(
            "count", type="bar", horizontal=True, axis=_("Approved sessions"),
            labels=[display.wrapped(row["name_it" if locale == "it" else "name_en"])
                    for row in figures["sessions_by_type"]],
            datasets=[{"label": _("Approved sessions"),
                       "data": [row["sessions"] for row in figures["sessions_by_type"]]}],
        ),
        "chart-beneficiaries": _spec(
            "count", type="bar", axis=_("People"),
            labels=[_("Pupils"), _("Parents")],
            datasets=[
                {"label": _("Unique beneficiaries"),
                 "data": [people["pupils"], people["parents"]]},
                {"label": _("Contacts"),
                 "data": [people["pupil_contacts"], people["parent_contacts"]]},
                {"label": _("Not identified (apart)"),
                 "data": [people["unidentified_pupils"], people["unidentified_parents"]]},
            ],
        ),
        "chart-requests": _spec(
            "count", type="bar", axis=_("Requests"),
            labels=[request_state_label(row["state"]) for row in requests["by_state"]],
            datasets=[{"label": _("Requests"),
                       "data": [row["count"] for row in requests["by_state"]]}],
        ),
        "chart-utilisation": _spec(
            "percent", type="bar", horizontal=True, axis=_("Utilisation"),
            labels=[row["name"] for row in figures["utilisation"]],
            datasets=[{"label": _("Utilisation"),
                       "data": [_number(row["utilisation"] or 0)
                                for row in figures["utilisation"]]}],
        ),
        "chart-planned": _spec(
            "hours", type="bar", horizontal=True, axis=_("Hours"),
            labels=[[row["ambito_name"], *display.wrapped(name(row), lines=2)]
                    for row in planned],
            datasets=[
                {"label": _("Planned hours"),
                 "data": [_number(row["planned_hours"] or 0) for row in planned]},
                {"label": _("Hours used (all dates)"),
                 "data": [_hours(row["used_total_seconds"]) for row in planned]},
            ],
        ),
    }


def _percent(value) -> str:
    return "–" if value is None else format_percent(value, "#,##0.0%")


def _average(value) -> str:
    """An average rating (1 to 5, unrounded) with one decimal, as the locale writes it."""
    return "–" if value is None else number_format(get_locale(), "#,##0.0")(value)


@bp.get("/")
@roles_required(*REPORTERS)
def dashboard():
    """The figures of the filter, with charts and the same numbers in tables."""
    user = _user()
    locale = str(get_locale())
    default_start, default_end = default_period()
    try:
        report, errors = parse_filter(request.args, user, default_start, default_end)
    except OutOfScope:
        abort(404)
    figures = aggregates.dashboard(report, user)
    # The feedback after held sessions (issue #19): the page's own figures, not among
    # those a closed period freezes (snapshots.py); the mediators' averages only here,
    # on a page of the coordinators and the admin.
    figures["feedback"] = aggregates.feedback(report, user)
    options = _options(user, locale)
    chosen = {
        "ambito": dict(options["ambiti"]).get(report.ambito_id),
        "school": dict(options["schools"]).get(report.school_id),
        "macro_action": dict(options["macro_actions"]).get(report.macro_action_id),
        "language": dict(options["languages"]).get(report.language_id),
        "type": dict(options["types"]).get(report.type_id),
    }
    return render_template(
        "reporting/dashboard.html",
        report=report,
        errors=errors,
        args=request.args,
        options=options,
        chosen=chosen,
        figures=figures,
        adjustments=periods.adjustments(report, user),
        chart_data=_chart_data(figures, locale),
        chart_formats={"duration": display.duration_patterns()},
        is_coordinator=user.role == Role.coordinator,
        may_set_tariffs=tariffs.may_set_tariffs(user),
        macro_label=lambda row: _macro_label(row, locale),
        title_of=lambda row: display.macro_title(row, locale),
        macro_short=lambda row: display.short(display.macro_name(row, locale)),
        month_label=_month_label,
        percent=_percent,
        average=_average,
        state_label=request_state_label,
        end_warning_days=aggregates.END_WARNING_DAYS,
        pace_days=aggregates.PACE_DAYS,
    )


# --- Translation tariffs (the admin) ---------------------------------------------------


class TariffForm(FlaskForm):
    """A project's new price per translated page and the day from which it applies."""

    project = SelectField(_l("Project"), coerce=int, validators=[InputRequired()])
    page_cost = DecimalField(_l("Price per page (euros)"), places=2,
                             validators=[InputRequired(), NumberRange(min=0, max=1000)])
    valid_from = DateField(_l("Valid from (day)"), validators=[InputRequired()],
                           description=_l("It applies to the translations due from this "
                                          "day on, until the next tariff's day."))


@bp.route("/tariffs", methods=["GET", "POST"])
@roles_required(Role.admin)
def translation_tariffs():
    """Every project's tariffs per translated page, and a form to add one from a day on."""
    user = _user()
    projects = db.session.scalars(
        sa.select(Project).options(selectinload(Project.tariffs))
        .order_by(Project.start_date.desc(), Project.code)).all()
    form = TariffForm()
    form.project.choices = [(p.id, f"{p.code} – {p.title}") for p in projects]
    if form.validate_on_submit():
        project = db.session.get(Project, form.project.data)
        try:
            tariffs.add_tariff(user, project, form.page_cost.data, form.valid_from.data)
        except InvalidInput as error:
            db.session.rollback()
            show_error(form, error)
        else:
            db.session.commit()
            flash(_("The new tariff has been recorded."), "success")
            return redirect(url_for("reporting.translation_tariffs"))
    status = 400 if request.method == "POST" else 200
    return render_template("reporting/tariffs.html", form=form, projects=projects), status


# --- Exports (CSV and XLSX) -----------------------------------------------------------
# Added by the exports work (queries and writers in exports.py, the response in
# downloads.py); the dashboard owns the rest of this module.

from .downloads import export_response  # noqa: E402


@bp.get("/export/<kind>.<fmt>")
@roles_required(*REPORTERS)
def export(kind: str, fmt: str):
    """An export of the dashboard's filter (the same query string; ``lang=en`` for English
    headers): ``kind`` sessions, beneficiaries or summary, ``fmt`` csv or xlsx."""
    return export_response(kind, fmt, _user())


# --- Timesheets and cooperative statements (issue #18) ---------------------------------
# The figures in sheets.py (the dashboard's definitions and totals); here, who may ask
# for which, the month and the Ambito from the query string, the page and the workbook.

from flask import Response  # noqa: E402
from flask_babel import force_locale  # noqa: E402

from .. import audit  # noqa: E402
from ..clock import next_month  # noqa: E402
from ..mediators.queries import load_mediator  # noqa: E402
from . import sheets, spreadsheets  # noqa: E402
from .downloads import export_locale  # noqa: E402
from .filters import _id  # noqa: E402

TIMESHEET_READERS = (Role.mediator, Role.coordinator, Role.admin)


def _month_and_ambito(user) -> tuple[date, dict, int | None, list]:
    """The month asked for (``month=YYYY-MM``, the current one by default), errors by
    field, the Ambito (a coordinator's own; the admin's choice, if any; none for a
    mediator: all their sessions) and the Ambiti the admin may choose. An Ambito the user
    may not see is a 404."""
    month, valid = sheets.parse_month(request.args.get("month"), sheets.this_month())
    errors = {} if valid else {"month": _("Enter a month as YYYY-MM.")}
    ambiti = []
    if user.role == Role.coordinator:
        ambito_id = user.ambito_id
    elif user.role == Role.admin:
        try:
            ambito_id = _id(request.args, "ambito")
        except OutOfScope:
            abort(404)
        ambiti = db.session.execute(sa.select(Ambito.id, Ambito.name)
                                    .order_by(Ambito.name)).all()
        if ambito_id is not None and ambito_id not in {a.id for a in ambiti}:
            abort(404)
    else:
        ambito_id = None
    return month, errors, ambito_id, ambiti


def _months_around(month: date) -> tuple[str, str]:
    previous = sheets.month_start(month - timedelta(days=1))
    return previous.strftime("%Y-%m"), next_month(month).strftime("%Y-%m")


def _workbook(table, filename: str) -> Response:
    handle = spreadsheets.xlsx_file(table)
    response = Response(spreadsheets.file_chunks(handle), mimetype=spreadsheets.XLSX_MIMETYPE)
    response.call_on_close(handle.close)
    response.content_length = os.fstat(handle.fileno()).st_size
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _timesheet(mediator_id: int):
    user = _user()
    mediator = load_mediator(user, mediator_id, worked_for=True)
    month, errors, ambito_id, ambiti = _month_and_ambito(user)
    report = sheets.month_filter(month, ambito_id, mediator.id)
    return user, mediator, month, errors, ambito_id, ambiti, report


@bp.get("/timesheets/<int:mediator_id>")
@roles_required(*TIMESHEET_READERS)
def timesheet(mediator_id: int):
    """A mediator's monthly timesheet, printable on A4 (the mediator: their own; a
    coordinator: a mediator serving their Ambito, its sessions; the admin: any)."""
    user, mediator, month, errors, ambito_id, ambiti, report = _timesheet(mediator_id)
    sheet = sheets.timesheet(report, user, str(get_locale()))
    previous, following = _months_around(month)
    return render_template(
        "reporting/timesheet.html", mediator=mediator, month=month, errors=errors,
        ambito_id=ambito_id, ambiti=ambiti, sheet=sheet,
        heading=sheets.timesheet_heading(mediator, month, ambito_id, sheet),
        previous=previous, following=following, month_value=month.strftime("%Y-%m"),
    )


@bp.get("/timesheets/<int:mediator_id>.xlsx")
@roles_required(*TIMESHEET_READERS)
def timesheet_xlsx(mediator_id: int):
    """The same timesheet as an XLSX workbook (``lang=en``: English headers)."""
    user, mediator, month, errors, ambito_id, _ambiti, report = _timesheet(mediator_id)
    if errors:
        abort(404)
    locale = export_locale(request.args)
    with force_locale(locale):
        sheet = sheets.timesheet(report, user, locale)
        filename = _("timesheet_%(month)s_%(id)s", month=month.strftime("%Y-%m"),
                     id=mediator.id)
        table = sheets.timesheet_table(
            sheet, sheets.timesheet_heading(mediator, month, ambito_id, sheet), locale, filename)
    audit.record("report.exported", None, user, kind="timesheet", format="xlsx",
                 locale=locale, month=month.isoformat(), ambito_id=ambito_id,
                 mediator_id=mediator.id)
    db.session.commit()
    return _workbook(table, filename)


def _statement_heading(month: date, ambito_id) -> list:
    return [(_("Month"), format_date(month, "LLLL yyyy")),
            (_("Ambito"), sheets.ambito_name(ambito_id))]


@bp.get("/statement")
@roles_required(*REPORTERS)
def statement():
    """The cooperative statement of a month and Ambito (a coordinator: theirs; the admin:
    any, or every one), reconciled with the dashboard."""
    user = _user()
    month, errors, ambito_id, ambiti = _month_and_ambito(user)
    result = sheets.statement(sheets.month_filter(month, ambito_id), user)
    previous, following = _months_around(month)
    return render_template(
        "reporting/statement.html", month=month, errors=errors, ambito_id=ambito_id,
        ambiti=ambiti, result=result, heading=_statement_heading(month, ambito_id),
        previous=previous, following=following, month_value=month.strftime("%Y-%m"),
        month_end=next_month(month) - timedelta(days=1),
    )


@bp.get("/statement.xlsx")
@roles_required(*REPORTERS)
def statement_xlsx():
    """The same statement as an XLSX workbook (``lang=en``: English headers)."""
    user = _user()
    month, errors, ambito_id, _ambiti = _month_and_ambito(user)
    if errors:
        abort(404)
    locale = export_locale(request.args)
    with force_locale(locale):
        result = sheets.statement(sheets.month_filter(month, ambito_id), user)
        filename = _("statement_%(month)s", month=month.strftime("%Y-%m"))
        table = sheets.statement_table(result, _statement_heading(month, ambito_id), locale,
                                       filename)
    audit.record("report.exported", None, user, kind="statement", format="xlsx",
                 locale=locale, month=month.isoformat(), ambito_id=ambito_id)
    db.session.commit()
    return _workbook(table, filename)


# --- Periods that close (the routes in period_views.py) ----------------------------------

from . import period_views  # noqa: E402, F401  (registers its routes on bp)
