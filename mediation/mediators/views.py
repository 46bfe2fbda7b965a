"""Mediators: the Ambito's list and calendar, a mediator's week, availability and absences.

A mediator reaches their own pages under ``/mediators/me/...``; coordinators
and the admin reach any mediator they may see under ``/mediators/<id>/...``.
Anyone else gets a 404.
"""

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from ..clock import day_bounds, in_rome, to_utc, week_start
from ..errors import InvalidInput
from ..extensions import db
from ..i18n import format_date, format_time
from ..models import (
    Absence,
    Ambito,
    AssignmentState,
    Language,
    MediatorLanguage,
    MediatorProfile,
    Role,
    utcnow,
)
from ..scoping import roles_required
from ..templating import localised_day_and_time
from ..view_helpers import show_error
from . import operations, queries
from .forms import (
    EDITABLE_WEEKDAYS,
    ROWS_PER_DAY,
    SPARE_LANGUAGE_ROWS,
    AbsenceForm,
    ConfirmForm,
    OwnProfileForm,
    ProfileForm,
    RateForm,
    range_field,
)

bp = Blueprint("mediators", __name__, url_prefix="/mediators")

COORDINATORS = (Role.coordinator, Role.admin)
EVERYONE = (Role.mediator, Role.coordinator, Role.admin)


@bp.app_template_filter("wall_time")
def wall_time(value: time | datetime | None) -> str:
    """A Europe/Rome wall-clock time ("08:00" in both languages), never shifted to another
    zone."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = in_rome(value).time()
    return format_time(value, "short", rebase=False)


@bp.app_template_filter("short_school")
def short_school(name: str) -> str:
    return queries.short_school(name)


#: Bootstrap Italia colours of a calendar block, per assignment state.
STATE_CLASSES = {
    AssignmentState.offered: "text-bg-warning",
    AssignmentState.accepted: "text-bg-success",
}


def _weekday_names() -> list[str]:
    from babel.dates import get_day_names

    names = get_day_names("wide", locale=get_locale())
    return [names[weekday] for weekday in range(7)]  # 0 is Monday, as in datetime


def _user():
    return current_user._get_current_object()


def _parse_day(value: str | None, default: date) -> date:
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        abort(404)


def _today() -> date:
    return in_rome(utcnow()).date()


def _default_day(today: date) -> date:
    """Today, or on a weekend the coming Monday: that is the week people plan."""
    return today if today.weekday() < 5 else today + timedelta(days=7 - today.weekday())


@bp.app_template_global("absence_period")
def absence_period(absence: Absence) -> str:
    """"25 Nov 2026" or "25–27 Nov" for whole days, else both date-times."""
    start, end = in_rome(absence.start_dt), in_rome(absence.end_dt)
    if start.time() == time() and end.time() == time():
        last = (end - timedelta(days=1)).date()
        if last == start.date():
            return format_date(start.date(), "medium")
        return _("%(first)s to %(last)s", first=format_date(start.date(), "medium"),
                 last=format_date(last, "medium"))
    return _("%(first)s to %(last)s", first=localised_day_and_time(absence.start_dt),
             last=localised_day_and_time(absence.end_dt))


def _self_or(mediator_id: int | None) -> None:
    """``/me/...`` pages are a mediator's own; numbered pages are for coordinators too."""
    if mediator_id is None and current_user.role != Role.mediator:
        abort(404)


def _urls(mediator: MediatorProfile, own: bool) -> dict:
    """Links between one mediator's pages, ``/me/...`` for the mediator themself."""
    ref = {} if own else {"mediator_id": mediator.id}
    return {
        "week_url": url_for("mediators.week", **ref),
        "availability_url": url_for("mediators.availability", **ref),
        "absences_url": url_for("mediators.absences", **ref),
        # Only for those who manage the mediator (their cost is not the mediator's page).
        "rates_url": (url_for("mediators.rates", mediator_id=mediator.id)
                      if operations.manages(_user(), mediator) else None),
        # The monthly timesheet (reporting): the mediator's own, or one they may see.
        "timesheet_url": url_for("reporting.timesheet", mediator_id=mediator.id),
        "ref": ref,
    }


def _is_own(mediator: MediatorProfile) -> bool:
    return operations.is_self(_user(), mediator)


# --- the Ambito's mediators -------------------------------------------------


def _ambito_filter() -> tuple[int | None, list[Ambito]]:
    """The admin may narrow lists to one Ambito; a coordinator sees their own."""
    if current_user.role != Role.admin:
        return None, []
    ambiti = queries.ambiti_for_filter(_user())
    try:
        chosen = int(request.args.get("ambito", ""))
    except ValueError:
        chosen = None
    return (chosen if chosen in {a.id for a in ambiti} else None), ambiti


@bp.route("")
@roles_required(*COORDINATORS)
def index():
    """The mediators serving the Ambito, with languages, hours this week and next absence."""
    ambito_id, ambiti = _ambito_filter()
    now = utcnow()
    rows = queries.mediator_list(_user(), now, ambito_id)
    return render_template(
        "mediators/index.html", rows=rows, ambiti=ambiti, ambito_id=ambito_id,
        monday=week_start(in_rome(now).date()),
    )


# --- one mediator's week ------------------------------------------------------


@bp.route("/me/week", defaults={"mediator_id": None})
@bp.route("/<int:mediator_id>/week")
@roles_required(*EVERYONE)
def week(mediator_id: int | None):
    """Availability, absences and assignments of one mediator's week, at a glance."""
    _self_or(mediator_id)
    user = _user()
    mediator = queries.load_mediator(user, mediator_id,
                                     selectinload(MediatorProfile.availability))
    today = _today()
    monday = week_start(_parse_day(request.args.get("start"), _default_day(today)))
    days = queries.week(user, mediator, monday)
    own = _is_own(mediator)
    urls = _urls(mediator, own)
    # The schools' reports that this mediator did not come, for the coordinators (their
    # Ambito's) and the admin.
    no_shows = (queries.no_show_counts(user, [mediator.id]).get(mediator.id, 0)
                if user.role in (Role.coordinator, Role.admin) else None)
    return render_template(
        "mediators/week.html", mediator=mediator, days=days, monday=monday,
        no_shows=no_shows,
        this_monday=week_start(today),
        previous_week=monday - timedelta(days=7), next_week=monday + timedelta(days=7),
        today=today, own=own, manages=operations.manages(user, mediator),
        state_classes=STATE_CLASSES, **urls,
    )


# --- availability and profile -------------------------------------------------


def _profile_form(mediator: MediatorProfile, user, manages: bool) -> OwnProfileForm:
    """The whole profile for who manages the mediator; languages and towns for themself."""
    form = ProfileForm() if manages else OwnProfileForm()
    languages = db.session.scalars(sa.select(Language).order_by(Language.name_en)).all()
    locale = str(get_locale())
    choices = [SelectChoice("", _("Choose a language"))] + [
        SelectChoice(str(lang.id), lang.name(locale))
        for lang in sorted(languages, key=lambda lang: lang.name(locale).lower())
    ]
    if manages:
        if user.role == Role.admin:
            ambiti = db.session.scalars(sa.select(Ambito).order_by(Ambito.name)).all()
        else:
            ambiti = db.session.scalars(
                sa.select(Ambito).where(Ambito.id == user.ambito_id)).all()
        form.ambiti.choices = [SelectChoice(a.id, a.name) for a in ambiti]
    if request.method == "GET":
        if manages:
            form.weekly_hour_cap.data = mediator.weekly_hour_cap
            form.ambiti.data = [a.id for a in mediator.ambiti if a.id in {x.id for x in ambiti}]
        form.municipalities.data = "\n".join(m.municipality for m in mediator.municipalities)
        while len(form.languages):
            form.languages.pop_entry()
        for ml in mediator.languages:
            form.languages.append_entry({"language": str(ml.language_id),
                                         "level": ml.level.value})
        for _spare in range(SPARE_LANGUAGE_ROWS):
            form.languages.append_entry()
    for entry in form.languages:
        entry.form.language.choices = choices
    return form


def _submitted_ambiti(form: ProfileForm, mediator: MediatorProfile, user) -> list[int]:
    """A coordinator's checkbox concerns only their Ambito; the others stay as they are."""
    chosen = set(form.ambiti.data or [])
    if user.role == Role.admin:
        return sorted(chosen)
    others = {a.id for a in mediator.ambiti if a.id != user.ambito_id}
    return sorted(others | (chosen & {user.ambito_id}))


def _put_error(form, error: InvalidInput, errors: dict[str, list]) -> None:
    """Show a refusal next to its field: a weekday's ranges, the languages, or a field."""
    name = error.field or ""
    if name.startswith("weekday_") or name == "languages":
        errors.setdefault(name, []).append(error.message)
        return
    show_error(form, error)


@bp.route("/me/availability", defaults={"mediator_id": None}, methods=["GET", "POST"])
@bp.route("/<int:mediator_id>/availability", methods=["GET", "POST"])
@roles_required(*EVERYONE)
def availability(mediator_id: int | None):
    """The weekly pattern and the profile (all of it for coordinators and the admin)."""
    _self_or(mediator_id)
    user = _user()
    mediator = queries.load_mediator(
        user, mediator_id,
        selectinload(MediatorProfile.availability),
        selectinload(MediatorProfile.ambiti),
        selectinload(MediatorProfile.languages).joinedload(MediatorLanguage.language),
        selectinload(MediatorProfile.municipalities),
    )
    own = _is_own(mediator)
    manages = operations.manages(user, mediator)
    if not (own or manages):
        abort(404)
    form = _profile_form(mediator, user, manages)
    if request.method == "GET":
        form.fill(mediator.availability)
    errors: dict[str, list] = {}
    if form.validate_on_submit():
        try:
            if manages:
                ambito_ids = _submitted_ambiti(form, mediator, user)
                operations.set_profile(
                    user, mediator, form.weekly_hour_cap.data, form.language_rows(),
                    ambito_ids, form.municipality_names(),
                )
            else:
                operations.set_own_profile(user, mediator, form.language_rows(),
                                           form.municipality_names())
            operations.set_availability(user, mediator, form.ranges())
        except InvalidInput as error:
            db.session.rollback()
            _put_error(form, error, errors)
        else:
            db.session.commit()
            flash(_("Your availability and profile have been saved.") if not manages
                  else _("The mediator's availability and profile have been saved."), "success")
            if manages and not operations.manages(user, mediator):
                # A coordinator who removed their own Ambito no longer sees the mediator.
                return redirect(url_for("mediators.index"))
            return redirect(_urls(mediator, own)["week_url"])
    status = 400 if request.method == "POST" else 200
    if manages:
        other_ambiti = [a for a in mediator.ambiti
                        if user.role != Role.admin and a.id != user.ambito_id]
    else:
        other_ambiti = []
    return render_template(
        "mediators/availability.html", form=form, mediator=mediator, own=own,
        manages=manages, errors=errors, weekdays=EDITABLE_WEEKDAYS,
        rows_per_day=ROWS_PER_DAY, range_field=range_field, weekday_names=_weekday_names(),
        other_ambiti=other_ambiti, earliest=operations.EARLIEST, latest=operations.LATEST,
        **_urls(mediator, own),
    ), status


# --- absences -------------------------------------------------------------------


def _absence_times(form: AbsenceForm) -> tuple[datetime, datetime]:
    start = to_utc(form.start_date.data, form.start_time.data or time())
    if form.end_time.data:
        end = to_utc(form.end_date.data, form.end_time.data)
    else:
        end = day_bounds(form.end_date.data)[1]
    return start, end


def _conflict_message(conflicts, own: bool) -> str:
    count = len(conflicts)
    if own:
        return ngettext(
            "The absence overlaps %(num)d appointment. Your coordinator has to reassign it:"
            " tell them, or decline the offer if you have not accepted it yet.",
            "The absence overlaps %(num)d appointments. Your coordinator has to reassign"
            " them: tell them, or decline the offers you have not accepted yet.",
            count,
        )
    return ngettext(
        "The absence overlaps %(num)d appointment: reassign it to another mediator"
        " (it is listed below).",
        "The absence overlaps %(num)d appointments: reassign them to other mediators"
        " (they are listed below).",
        count,
    )


@bp.route("/me/absences", defaults={"mediator_id": None}, methods=["GET", "POST"])
@bp.route("/<int:mediator_id>/absences", methods=["GET", "POST"])
@roles_required(*EVERYONE)
def absences(mediator_id: int | None):
    """Future absences, each with the appointments it overlaps, and a form to add one."""
    _self_or(mediator_id)
    user = _user()
    mediator = queries.load_mediator(user, mediator_id,
                                     selectinload(MediatorProfile.ambiti))
    own = _is_own(mediator)
    if not (own or operations.manages(user, mediator)):
        abort(404)
    form = AbsenceForm()
    if form.validate_on_submit():
        start, end = _absence_times(form)
        try:
            conflicts = operations.add_absence(user, mediator, start, end, form.reason.data)
        except InvalidInput as error:
            db.session.rollback()
            field = {"end": "end_date"}.get(error.field, error.field)
            target = getattr(form, field or "", None)
            if target is None:
                form.form_errors.append(error.message)
            else:
                target.errors = [*target.errors, error.message]
        else:
            db.session.commit()
            flash(_("The absence has been recorded."), "success")
            if conflicts:
                flash(_conflict_message(conflicts, own), "warning")
            return redirect(_urls(mediator, own)["absences_url"])
    now = utcnow()
    rows = queries.future_absences(user, mediator, now)
    status = 400 if request.method == "POST" else 200
    return render_template(
        "mediators/absences.html", form=form, mediator=mediator, rows=rows, own=own,
        manages=operations.manages(user, mediator), **_urls(mediator, own),
    ), status


@bp.route("/me/absences/<int:absence_id>/delete", defaults={"mediator_id": None},
          methods=["POST"])
@bp.route("/<int:mediator_id>/absences/<int:absence_id>/delete", methods=["POST"])
@roles_required(*EVERYONE)
def delete_absence(mediator_id: int | None, absence_id: int):
    _self_or(mediator_id)
    user = _user()
    mediator = queries.load_mediator(user, mediator_id,
                                     selectinload(MediatorProfile.ambiti))
    absence = db.session.get(Absence, absence_id)
    if absence is None or absence.mediator_id != mediator.id:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        flash(_("The form has expired. Please try again."), "danger")
    else:
        operations.remove_absence(user, absence)
        db.session.commit()
        flash(_("The absence has been deleted."), "success")
    return redirect(_urls(mediator, _is_own(mediator))["absences_url"])


@bp.route("/<int:mediator_id>/rates", methods=["GET", "POST"])
@roles_required(*COORDINATORS)
def rates(mediator_id: int):
    """The mediator's hourly rates over time, and a form to add one from a day on."""
    user = _user()
    mediator = queries.load_mediator(user, mediator_id,
                                     selectinload(MediatorProfile.ambiti))
    if not operations.manages(user, mediator):
        abort(404)
    form = RateForm()
    if form.validate_on_submit():
        try:
            operations.add_rate(user, mediator, form.hourly_cost.data, form.valid_from.data)
        except InvalidInput as error:
            db.session.rollback()
            show_error(form, error)
        else:
            db.session.commit()
            flash(_("The new rate has been recorded."), "success")
            return redirect(url_for("mediators.rates", mediator_id=mediator.id))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "mediators/rates.html", form=form, mediator=mediator,
        rows=list(reversed(mediator.rates)), own=False, manages=True,
        **_urls(mediator, False),
    ), status


# --- the Ambito's calendar --------------------------------------------------------


@bp.route("/calendar")
@roles_required(*COORDINATORS)
def calendar():
    """All mediators' appointments: mediators as rows, days (or a day's hours) as columns."""
    by_hour = request.args.get("view") == "day"
    today = _today()
    day = _parse_day(request.args.get("day"), _default_day(today))
    ambito_id, ambiti = _ambito_filter()
    grid = queries.calendar(_user(), day, by_hour, ambito_id)
    step = timedelta(days=1 if by_hour else 7)
    shown = day if by_hour else week_start(day)
    if by_hour:
        # Skip the weekend when stepping from Friday or Monday.
        previous_day = day - timedelta(days=3 if day.weekday() == 0 else 1)
        next_day = day + timedelta(days=3 if day.weekday() == 4 else 1)
    else:
        previous_day, next_day = shown - step, shown + step
    args = {"ambito": ambito_id} if ambito_id else {}
    return render_template(
        "mediators/calendar.html", grid=grid, by_hour=by_hour, day=day, shown=shown,
        today=today, previous_day=previous_day, next_day=next_day, ambiti=ambiti,
        ambito_id=ambito_id, args=args, state_classes=STATE_CLASSES,
        monday=week_start(day),
    )
