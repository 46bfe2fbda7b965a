"""A weekly series' page: its weeks, each with what the user can do to that week alone.

Cancelling a week is the request's own cancellation (``operations.cancel_request``);
moving a week is ``operations.move_week``; offering a week, or giving it to another
mediator, is the coordinator's offer page for that week. What each week shows is
``policy.week_actions``; the other weeks are never touched.
"""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..bookings import operations, policy
from ..bookings.queries import load_request, load_series
from ..clock import to_utc
from ..errors import InvalidInput, InvalidTransition, SlotTaken
from ..extensions import db
from ..models import Role, utcnow
from ..scoping import roles_required
from ..view_helpers import refused, show_error
from .forms import CancelForm, MoveWeekForm
from .views import bp

#: Who opens a series' page (a mediator reads only their own weeks, on the agenda).
SERIES_READERS = (Role.teacher, Role.lead, Role.coordinator, Role.admin)


def _user():
    return current_user._get_current_object()


def _forms(week_id: int, formdata=None):
    """The week's two forms, their fields named apart from the other weeks' ones."""
    prefix = f"week{week_id}"
    return (CancelForm(formdata=formdata, prefix=f"{prefix}-cancel"),
            MoveWeekForm(formdata=formdata, prefix=f"{prefix}-move"))


def _page(series_id: int, week_id: int | None = None) -> str:
    return url_for("requests.series", series_id=series_id,
                   _anchor=f"week-{week_id}" if week_id else None)


def render_series(series_id: int, user, status: int = 200, failed=None):
    """The page; ``failed`` is (week id, cancel form, move form) of a refused action,
    shown with its errors and what was typed."""
    weeks = load_series(series_id, user)
    if not policy.sees_series(user, weeks[0]):
        abort(404)
    now = utcnow()
    rows = []
    for week in weeks:
        cancel_form, move_form = (failed[1:] if failed and failed[0] == week.id
                                  else _forms(week.id))
        active = policy.active_assignment(week)
        rows.append({
            "req": week, "actions": policy.week_actions(user, week, now), "active": active,
            "start": policy.meeting_start(week, active), "cancel_form": cancel_form,
            "move_form": move_form,
        })
    return render_template("requests/series.html", weeks=rows, first=weeks[0],
                           series=weeks[0].series,
                           school_side=policy.in_school(user, weeks[0])), status


@bp.route("/series/<int:series_id>")
@roles_required(*SERIES_READERS)
def series(series_id: int):
    return render_series(series_id, _user())


def _week(series_id: int, week_id: int, user):
    """The week ``week_id`` of the series, read for update, or a 404."""
    req = load_request(week_id, user, lock=True)
    if req.series_id != series_id or not policy.sees_series(user, req):
        abort(404)
    return req


@bp.route("/series/<int:series_id>/weeks/<int:week_id>/cancel", methods=["POST"])
@roles_required(*SERIES_READERS)
def cancel_week(series_id: int, week_id: int):
    """Cancel this week only (the request's own cancellation)."""
    user = _user()
    req = _week(series_id, week_id, user)
    cancel_form = CancelForm(prefix=f"week{week_id}-cancel")
    move_form = MoveWeekForm(formdata=None, prefix=f"week{week_id}-move")
    if cancel_form.validate_on_submit():
        try:
            operations.cancel_request(user, req, cancel_form.reason.data, cancel_form.note.data)
        except InvalidInput as error:
            db.session.rollback()
            show_error(cancel_form, error, fallback="reason")
        except (InvalidTransition, SlotTaken) as error:
            return refused(error, _page(series_id, week_id))
        else:
            late = req.cancelled_late
            db.session.commit()
            if late:
                flash(_("Week cancelled; the other weeks do not change. It was less than 24 "
                        "hours before the meeting, so the cancellation is recorded as late."),
                      "warning")
            else:
                flash(_("Week cancelled; the other weeks do not change."), "success")
            return redirect(_page(series_id, week_id))
    return render_series(series_id, user, 400, (week_id, cancel_form, move_form))


@bp.route("/series/<int:series_id>/weeks/<int:week_id>/move", methods=["POST"])
@roles_required(*SERIES_READERS)
def move_week(series_id: int, week_id: int):
    """Move this week only to another day or time (it keeps its length)."""
    user = _user()
    req = _week(series_id, week_id, user)
    cancel_form = CancelForm(formdata=None, prefix=f"week{week_id}-cancel")
    move_form = MoveWeekForm(prefix=f"week{week_id}-move")
    if move_form.validate_on_submit():
        slot = req.slots[0]
        start = to_utc(move_form.date.data, move_form.start.data)
        end = start + (slot.end_dt - slot.start_dt)
        try:
            new = operations.move_week(user, req, start, end, move_form.reason.data)
        except InvalidInput as error:
            db.session.rollback()
            show_error(move_form, error)
        except (InvalidTransition, SlotTaken) as error:
            return refused(error, _page(series_id, week_id))
        else:
            db.session.commit()
            if new is not None:
                flash(_("Week moved; the other weeks do not change. The mediator is asked to "
                        "confirm the new time."), "success")
            else:
                flash(_("Week moved; the other weeks do not change."), "success")
            return redirect(_page(series_id, week_id))
    return render_series(series_id, user, 400, (week_id, cancel_form, move_form))
