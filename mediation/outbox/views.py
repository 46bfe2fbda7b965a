"""The outbox page: admins and coordinators see the emails waiting or undelivered, and
requeue them."""

from functools import partial

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from ..bounds import page_arg
from ..extensions import db
from ..models import OutboxState, Role, utcnow
from ..scoping import roles_required
from . import operations, queries

bp = Blueprint("outbox_admin", __name__, url_prefix="/outbox")

MANAGERS = (Role.admin, Role.coordinator)


def _user():
    return current_user._get_current_object()


def _state(value: str | None) -> OutboxState | None:
    """The state filter of the page: pending, dead, or None for both."""
    try:
        state = OutboxState(value) if value else None
    except ValueError:
        return None
    return state if state in queries.LISTED else None


def _back():
    state = _state(request.form.get("state"))
    return redirect(url_for(".index", **({"state": state.value} if state else {})))


@bp.route("/")
@roles_required(*MANAGERS)
def index():
    """Pending and dead emails of the user's scope, with their attempts and last error."""
    user = _user()
    state = _state(request.args.get("state"))
    page = page_arg()
    pagination = queries.listing(user, state, page, current_app.config["PER_PAGE"])
    counts = queries.counts(user)
    return render_template(
        "outbox/index.html",
        pagination=pagination,
        counts=counts,
        dead_count=counts[OutboxState.dead],
        state=state,
        args={"state": state.value} if state else {},
        max_attempts=current_app.config["OUTBOX_MAX_ATTEMPTS"],
        may_requeue=partial(operations.may_requeue, now=utcnow()),
        being_sent=partial(operations.being_sent, now=utcnow()),
    )


@bp.post("/<int:message_id>/requeue")
@roles_required(*MANAGERS)
def requeue(message_id: int):
    user = _user()
    message = queries.get_or_404(user, message_id)
    try:
        operations.requeue(user, message)
    except operations.BeingSent as error:
        db.session.rollback()
        flash(str(error.message), "warning")
        return _back()
    db.session.commit()
    flash(_("The email to %(email)s will be sent again shortly.",
            email=message.recipient_email), "success")
    return _back()


@bp.post("/requeue-dead")
@roles_required(*MANAGERS)
def requeue_dead():
    count = operations.requeue_dead(_user())
    db.session.commit()
    if count:
        flash(ngettext("%(num)d email will be sent again shortly.",
                       "%(num)d emails will be sent again shortly.", count), "success")
    else:
        flash(_("No email was waiting to be requeued."), "info")
    return _back()
