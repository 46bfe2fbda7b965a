"""Private iCalendar feeds: ``/calendar/<token>.ics`` for calendar apps, and the
buttons on the account page that create or replace the token.

The feed needs no login (Google, Apple and Outlook subscribe with a plain GET,
no cookies): the token is the secret; an unknown or replaced token is a 404.
"""

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from .. import calendars
from ..extensions import db
from ..models import Role, User
from ..outbox import recipient_locale
from ..scoping import roles_required
from . import operations

bp = Blueprint("feeds", __name__)


def feed_links(user: User) -> dict | None:
    """What the account page shows about the user's feed (``None``: no feed for this role)."""
    if not operations.has_feed(user):
        return None
    if user.calendar_token is None:
        return {"url": None, "webcal": None}
    url = calendars.external_url("feeds.feed", token=user.calendar_token)
    return {"url": url, "webcal": "webcal://" + url.split("://", 1)[1]}


def _feed_name(user: User) -> str:
    if user.role == Role.coordinator and user.ambito is not None:
        return _("Mediations – %(name)s", name=user.ambito.name)
    return _("Mediations – %(name)s", name=user.display_name)


@bp.route("/calendar/<token>.ics")
def feed(token: str):
    user = operations.user_for_token(token)
    if user is None:
        abort(404)
    assignments = operations.feed_assignments(user)
    with force_locale(recipient_locale(user)):
        body = calendars.feed(_feed_name(user), assignments,
                              with_mediator=user.role == Role.coordinator)
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="calendar.ics"'
    # Personal data behind a secret URL: calendar apps may keep it, shared caches may not.
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.add_etag()
    return response.make_conditional(request)


def _back():
    return redirect(url_for("auth.account", _anchor="calendar-feed"))


@bp.route("/account/calendar-feed", methods=["POST"])
@roles_required(*operations.FEED_ROLES)
def create():
    operations.create_token(current_user._get_current_object())
    db.session.commit()
    flash(_("Your calendar address is ready: add it to your calendar app."), "success")
    return _back()


@bp.route("/account/calendar-feed/regenerate", methods=["POST"])
@roles_required(*operations.FEED_ROLES)
def regenerate():
    operations.regenerate_token(current_user._get_current_object())
    db.session.commit()
    flash(_("Your calendar address has been replaced: the old one no longer works."
            " Subscribe again with the new one."), "success")
    return _back()
