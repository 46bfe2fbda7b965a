"""Pupil cases and the dropout-prevention list.

Who sees what: the case pages show the country of origin and the risk indicators, so
only leads (their school), coordinators (their Ambito) and the admin open them; a
teacher or a mediator gets a 404, like for a case outside the user's scope. Scoping
lets teachers and mediators load a case (to file or serve a request about it): that
rule is for the request pages, which show the code and class only.
"""

from datetime import datetime

from babel.lists import format_list
from babel.units import format_unit
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from ..bounds import page_arg
from ..clock import in_rome
from ..errors import Conflict, InvalidInput
from ..extensions import db
from ..labels import PUPIL_STATUS_LABELS, cycle_label
from ..models import (
    ItalianLevel,
    PupilCase,
    PupilStatus,
    Role,
    SchoolYear,
    User,
    utcnow,
)
from ..requests import queries as request_queries
from ..requests.forms import chosen, options
from ..scoping import roles_required
from ..view_helpers import show_error
from . import operations, queries
from .forms import (
    STATUS_BADGES,
    AtRiskFilterForm,
    CaseFilterForm,
    FamilyForm,
    IndicatorsForm,
    StatusForm,
)

bp = Blueprint("cases", __name__, url_prefix="/cases")

#: Who opens the case pages (and so reads the country and the risk indicators).
CASE_READERS = (Role.lead, Role.coordinator, Role.admin)
AT_RISK_READERS = (Role.coordinator, Role.admin)

@bp.context_processor
def badges():
    return {"STATUS_BADGES": STATUS_BADGES}


def _user() -> User:
    return current_user._get_current_object()


def _locale() -> str:
    return str(get_locale())


def country_name(code: str | None) -> str:
    """An ISO 3166 code as the country's name in the interface language."""
    if not code:
        return ""
    return get_locale().territories.get(code.upper(), code)


# --- the lead's list ------------------------------------------------------------


@bp.route("")
@roles_required(Role.lead)
def index():
    """The school's pupil cases, by class, with their status this school year."""
    user = _user()
    year = queries.current_school_year(utcnow())
    form = CaseFilterForm(formdata=request.args)
    form.class_name.choices = options(
        [("", _("All classes"))] + [(name, name) for name in queries.class_names(user)]
    )
    form.status.choices = options(
        [("", _("All statuses")), (queries.NO_STATUS, _("No status yet"))]
        + [(s.value, label) for s, label in PUPIL_STATUS_LABELS.items()]
    )
    form.validate()
    filters = queries.CaseFilters(
        class_name=chosen(form.class_name),
        status=chosen(form.status),
    )
    pagination = db.paginate(
        queries.school_cases(user, year, filters),
        page=page_arg(),
        per_page=current_app.config["PER_PAGE"],
        error_out=False,
    )
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    statuses = queries.statuses_in(year, pagination.items)
    rows = [(case, statuses.get(case.id), queries.is_high_risk(case, statuses.get(case.id)))
            for case in pagination.items]
    return render_template(
        "cases/index.html", form=form, pagination=pagination, rows=rows, year=year,
        page_args=args, filtered=bool(args),
    )


# --- a case ---------------------------------------------------------------------


def _indicators_form(case: PupilCase, submitted: bool = False) -> IndicatorsForm:
    if submitted:
        return IndicatorsForm(prefix="indicators")
    data = {"high_absences": case.high_absences, "repeated_year": case.repeated_year,
            "late_enrolment": case.late_enrolment,
            "italian_level": case.italian_level.value if case.italian_level else ""}
    return IndicatorsForm(formdata=None, prefix="indicators", data=data)


def _family_form(case: PupilCase, submitted: bool = False) -> FamilyForm:
    if submitted:
        return FamilyForm(prefix="family")
    return FamilyForm(formdata=None, prefix="family", data={"family_code": case.family_code})


def _status_form(years: list[SchoolYear], current: SchoolYear | None,
                 submitted: bool = False) -> StatusForm:
    if submitted:
        form = StatusForm(prefix="status")
    else:
        form = StatusForm(formdata=None, prefix="status",
                          data={"school_year": current.id if current else None})
    form.school_year.choices = options(
        [("", _("Choose a school year"))] + [(year.id, year.label) for year in years]
    )
    return form


def _render_case(case: PupilCase, user: User, status: int = 200, indicators_form=None,
                 status_form=None, family_form=None):
    now = utcnow()
    year = queries.current_school_year(now)
    current_status = next(
        (row.status for row in case.statuses if year is not None and row.school_year_id == year.id),
        None,
    )
    statuses = sorted(case.statuses, key=lambda row: row.school_year.start_date, reverse=True)
    can_edit = operations.may_edit(user, case)
    context = {
        "case": case,
        "country": country_name(case.country_of_origin),
        "indicator_count": queries.risk_indicator_count(case),
        "high_risk": queries.is_high_risk(case, current_status),
        "low_italian": case.italian_level in queries.LOW_ITALIAN_LEVELS,
        "last_grade": queries.is_last_grade(case),
        "year": year,
        "current_status": current_status,
        "statuses": statuses,
        "timeline": queries.timeline(case, user),
        "can_edit": can_edit,
        # The breadcrumb goes back to the school's pupils (a lead's list) or to the pupils
        # at risk (the coordinator's and the admin's).
        "case_list": user.role == Role.lead,
        "weeks": current_app.config["CASES_AT_RISK_WEEKS"],
    }
    if can_edit:
        years = queries.started_school_years(now)
        context["indicators_form"] = indicators_form or _indicators_form(case)
        context["family_form"] = family_form or _family_form(case)
        context["status_form"] = status_form or _status_form(years, year)
        context["next_types"] = [t for t in request_queries.active_types() if t.concerns_pupil]
    else:
        context["leads"] = queries.school_leads(case, user)
    return render_template("cases/detail.html", **context), status


@bp.route("/<int:case_id>")
@roles_required(*CASE_READERS)
def detail(case_id: int):
    user = _user()
    case = queries.load_case(case_id, user)
    return _render_case(case, user)


def _back(case_id: int):
    return redirect(url_for("cases.detail", case_id=case_id))


@bp.route("/<int:case_id>/indicators", methods=["POST"])
@roles_required(Role.lead)
def update_indicators(case_id: int):
    user = _user()
    case = queries.load_case(case_id, user)
    form = _indicators_form(case, submitted=True)
    if form.validate_on_submit():
        try:
            changes = operations.update_indicators(
                user, case,
                high_absences=form.high_absences.data,
                repeated_year=form.repeated_year.data,
                late_enrolment=form.late_enrolment.data,
                italian_level=ItalianLevel(form.italian_level.data)
                if form.italian_level.data else None,
            )
        except InvalidInput as error:
            db.session.rollback()
            case = queries.load_case(case_id, user)
            show_error(form, error)
        else:
            db.session.commit()
            flash(_("Risk indicators saved.") if changes else _("Nothing to change."),
                  "success" if changes else "info")
            return _back(case_id)
    return _render_case(case, user, 400, indicators_form=form)


@bp.route("/<int:case_id>/family", methods=["POST"])
@roles_required(Role.lead)
def set_family_code(case_id: int):
    user = _user()
    case = queries.load_case(case_id, user)
    form = _family_form(case, submitted=True)
    if form.validate_on_submit():
        changed = operations.set_family_code(user, case, form.family_code.data)
        db.session.commit()
        flash(_("Family code saved.") if changed else _("Nothing to change."),
              "success" if changed else "info")
        return _back(case_id)
    return _render_case(case, user, 400, family_form=form)


@bp.route("/<int:case_id>/status", methods=["POST"])
@roles_required(Role.lead)
def set_status(case_id: int):
    user = _user()
    case = queries.load_case(case_id, user)
    now = utcnow()
    years = queries.started_school_years(now)
    form = _status_form(years, None, submitted=True)
    if form.validate_on_submit():
        year = next(y for y in years if y.id == form.school_year.data)
        try:
            operations.set_status(user, case, year, PupilStatus(form.status.data))
        except (InvalidInput, Conflict) as error:
            db.session.rollback()
            case = queries.load_case(case_id, user)
            show_error(form, error)
        else:
            db.session.commit()
            flash(_("Status for %(year)s saved.", year=year.label), "success")
            return _back(case_id)
    return _render_case(case, user, 400, status_form=form)


# --- the cases at risk ------------------------------------------------------------


def time_since(last: datetime, now: datetime) -> str:
    """How long ago ``last`` was, as a person says it, by Europe/Rome calendar days:
    "3 days" under two weeks, "5 weeks" under three months, "18 months" under two years,
    then "2 years and 3 months" (CLDR's words and plurals for the locale)."""
    locale = get_locale()
    first, today = in_rome(last).date(), in_rome(now).date()
    days = (today - first).days
    months = ((today.year - first.year) * 12 + today.month - first.month
              - (today.day < first.day))
    if days < 1:
        return _("less than a day")
    if days < 14:
        return format_unit(days, "duration-day", locale=locale)
    if months < 3:
        return format_unit(days // 7, "duration-week", locale=locale)
    if months < 24:
        return format_unit(months, "duration-month", locale=locale)
    years, months = divmod(months, 12)
    parts = [format_unit(years, "duration-year", locale=locale)]
    if months:
        parts.append(format_unit(months, "duration-month", locale=locale))
    return format_list(parts, style="unit", locale=locale)


def _reasons(row: queries.AtRiskRow, now: datetime) -> list[str]:
    """Why a case is on the list, in words: for a case without a recent session, the
    real time since its last one (not the threshold that put it on the list)."""
    reasons = []
    if row.no_recent_session:
        if row.last_session is None:
            reasons.append(_("High risk, and no session yet"))
        else:
            reasons.append(_("High risk, and no session for %(time)s",
                             time=time_since(row.last_session, now)))
    if row.follow_up_pending:
        reasons.append(_("The last session asked for a follow-up, not booked yet"))
    if row.transition_without_orientation:
        reasons.append(_("Last year of the cycle (%(cycle)s), and no orientation this"
                         " school year", cycle=cycle_label(row.cycle)))
    return reasons


@bp.route("/at-risk")
@roles_required(*AT_RISK_READERS)
def at_risk():
    """The cases of the Ambito that need a next step, and why."""
    user = _user()
    weeks = current_app.config["CASES_AT_RISK_WEEKS"]
    form = AtRiskFilterForm(formdata=request.args)
    schools = queries.schools(user)
    form.school.choices = options(
        [("", _("All schools"))] + [(str(school.id), school.name) for school in schools]
    )
    form.validate()
    # Only a listed school: Optional() lets "  " through without an error.
    listed = {str(school.id) for school in schools}
    school_id = int(form.school.data) if form.school.data in listed else None
    now = utcnow()
    rows = queries.at_risk(user, now, weeks, school_id=school_id)
    return render_template(
        "cases/at_risk.html", form=form, weeks=weeks,
        rows=[(row, _reasons(row, now),
               time_since(row.last_session, now) if row.last_session else None)
              for row in rows],
        show_ambito=user.role == Role.admin, filtered=school_id is not None,
    )
