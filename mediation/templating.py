"""Template globals and filters: navigation per role, localised dates, the labels of
:mod:`mediation.labels`."""

from datetime import date, datetime

from babel.support import NullTranslations
from flask import Flask, request, url_for
from flask_babel import get_locale, get_translations, lazy_pgettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from jinja2 import pass_context

from .bookings.video import call_number, video_link
from .i18n import currency_filter, format_date, format_datetime, format_time, number_filter
from .labels import TEMPLATE_GLOBALS, cycle_label
from .models import RequestState, Role
from .outbox import after_request_delivery

#: Bootstrap Italia badge colour per request state.
STATE_BADGES = {
    RequestState.awaiting_approval: "warning",
    RequestState.open: "primary",
    RequestState.offered: "info",
    RequestState.confirmed: "success",
    RequestState.logged: "secondary",
    RequestState.closed: "dark",
    RequestState.rejected: "danger",
    RequestState.cancelled: "danger",
    RequestState.unfilled: "danger",
}


#: The side of the service each role is on: the menu, the home pages and the lists link
#: to that side's pages (a school's request list, or the coordinator's queue).
SIDES = {Role.teacher: "school", Role.lead: "school", Role.coordinator: "coordination",
         Role.admin: "coordination", Role.mediator: "mediator"}


def user_side() -> str | None:
    return SIDES.get(current_user.role) if current_user.is_authenticated else None


def navigation() -> list[tuple[str, str]]:
    """The (label, url) entries of the main menu for the current user's role.

    The menu holds on one line at 1366 px in both languages (tests/core/test_layout_browser.py):
    some entries have a shorter label than their page's title (context "menu"), and "My
    account" is the user's name in the header (base.html; an entry of the phone menu)."""
    if not current_user.is_authenticated:
        return []
    user = current_user
    items = [(_l("Home"), url_for("core.home"))]
    if user.role in (Role.teacher, Role.lead):
        items.append((_l("Requests"), url_for("requests.index")))
        items.append((_l("New request"), url_for("requests.choose_type")))
        items.append((_l("My school"), url_for("core.school", school_id=user.school_id)))
        if user.role == Role.lead:
            items.append((_l("Pupils"), url_for("cases.index")))
    elif user.role == Role.mediator:
        items.append((_l("My agenda"), url_for("agenda.index")))
        items.append((_l("My week"), url_for("mediators.week")))
        items.append((_l("Availability"), url_for("mediators.availability")))
        items.append((_l("Absences"), url_for("mediators.absences")))
    elif user.role in (Role.coordinator, Role.admin):
        items.append((_l("Requests"), url_for("coordination.queue")))
        items.append((lazy_pgettext("menu", "Session logs"), url_for("coordination.logs")))
        items.append((_l("Mediators"), url_for("mediators.index")))
        items.append((_l("Calendar"), url_for("mediators.calendar")))
        items.append((_l("Dashboard"), url_for("reporting.dashboard")))
        items.append((_l("Pupils at risk"), url_for("cases.at_risk")))
        if user.role == Role.coordinator:
            items.append((_l("My Ambito"), url_for("core.ambito", ambito_id=user.ambito_id)))
        items.append((_l("Email outbox"), url_for("outbox_admin.index")))
        if user.role == Role.admin:
            items.append((lazy_pgettext("menu", "Privacy"), url_for("privacy.record")))
    return items


#: The most tiles a row of counters holds: on a phone, from 768 px, from 1200 px.
TILE_COLUMNS = (("", 3), ("md", 5), ("xl", 9))


def tile_columns(count: int) -> str:
    """The classes of a grid of ``count`` tiles (app.css ``.app-tiles``): at each width
    as many columns as fit, fewer when the last row would hold a single tile (9 tiles:
    3 x 3 on a phone, 5 + 4 from 768 px, one row from 1200 px)."""
    classes = ["app-tiles"]
    for breakpoint, most in TILE_COLUMNS:
        columns = max(1, min(count, most))
        fitting = [c for c in range(columns, 1, -1) if count <= c or count % c != 1]
        columns = fitting[0] if fitting else columns
        classes.append(f"app-tiles-{breakpoint}-{columns}" if breakpoint
                       else f"app-tiles-{columns}")
    return " ".join(classes)


def scope_label() -> str:
    """The school or Ambito the current user works for, as shown in the header."""
    user = current_user
    if not user.is_authenticated:
        return ""
    if user.school is not None:
        return user.school.name
    if user.ambito is not None:
        return user.ambito.name
    if user.role == Role.admin:
        return _l("Regione Lombardia")
    return ""


def localised_datetime(value: datetime | None, fmt: str = "medium") -> str:
    return format_datetime(value, fmt) if value else ""


def localised_day_and_time(value: datetime | None) -> str:
    """"giovedì 17 dicembre 2026, 08:30", "Thursday, 17 December 2026, 08:30": what a
    person reads in an agenda."""
    if not value:
        return ""
    return f"{format_date(value, 'full')}, {format_time(value, 'short')}"


def localised_date(value: date | datetime | None, fmt: str = "medium") -> str:
    return format_date(value, fmt) if value else ""


def localised_time(value: datetime | None) -> str:
    """"16:30": the end of a time range whose start reads as a day and a time."""
    return format_time(value, "short") if value else ""


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.filters["datetime"] = localised_datetime
    app.jinja_env.filters["date"] = localised_date
    app.jinja_env.filters["day_and_time"] = localised_day_and_time
    app.jinja_env.filters["time"] = localised_time
    app.jinja_env.filters["format_number"] = number_filter
    app.jinja_env.filters["cycle_label"] = cycle_label
    app.jinja_env.filters["format_currency"] = currency_filter
    # Every label (mediation/labels.py), in every template, macros imported without
    # context and emails included.
    app.jinja_env.globals.update(TEMPLATE_GLOBALS)
    app.jinja_env.globals.update(
        STATE_BADGES=STATE_BADGES,
        navigation=navigation,
        scope_label=scope_label,
        tile_columns=tile_columns,
        video_link=video_link,
        call_number=call_number,
        BOOTSTRAP_ITALIA="vendor/bootstrap-italia-2.18.3",
    )

    _install_gettext(app)

    @app.context_processor
    def inject_locale():
        return {"current_locale": str(get_locale()), "current_path": request.full_path,
                "user_side": user_side()}

    app.after_request(after_request_delivery)


def _install_gettext(app: Flask) -> None:
    """The templates' ``_``, ``gettext``, ``ngettext``, ``pgettext`` and ``npgettext``, as
    flask_babel installs them but taking the catalog of the render's ``current_locale``
    (set by the context processor, force_locale included) from a dict: flask_babel looks
    the request's locale and domain up again for every string (~10 µs, a few hundred
    strings a page). Without ``current_locale`` (a macro imported without the context)
    they ask flask_babel."""
    catalogs: dict[str, NullTranslations] = {}

    def catalog(context) -> NullTranslations:
        name = context.get("current_locale")
        found = catalogs.get(name) if name else None
        if found is None:
            found = get_translations()
            if name and name == str(get_locale()):
                catalogs[name] = found
        return found

    app.jinja_env.install_gettext_callables(
        gettext=pass_context(lambda context, s: catalog(context).ugettext(s)),
        ngettext=pass_context(lambda context, s, p, n: catalog(context).ungettext(s, p, n)),
        newstyle=True,
        pgettext=pass_context(lambda context, c, s: catalog(context).upgettext(c, s)),
        npgettext=pass_context(
            lambda context, c, s, p, n: catalog(context).unpgettext(c, s, p, n)),
    )
