"""The "Periods" pages of reporting: the periods of the user's scope, closing one (a
coordinator: their Ambito; the admin: any Ambito or the region), reopening one (the
admin, with a reason), and the frozen files and evidence pack of each.

Routes of the ``reporting`` blueprint (registered by :mod:`.views`).
"""

from datetime import datetime

import sqlalchemy as sa
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from .. import audit
from ..bookings import policy
from ..clock import ROME
from ..errors import InvalidInput, InvalidTransition, NotAllowed
from ..extensions import db
from ..models import Ambito, Role
from ..scoping import roles_required, visible
from ..view_helpers import show_error
from . import operations, periods, snapshots
from .views import REPORTERS, bp

REGION = "region"


class ClosePeriodForm(FlaskForm):
    """The scope and days of a period to close, and the confirmation."""

    scope = SelectField(_l("Scope"), validators=[InputRequired()])
    start = DateField(_l("First day"), validators=[InputRequired()])
    end = DateField(_l("Last day"), validators=[InputRequired()])
    confirm = BooleanField(
        _l("I confirm: its figures and exports are frozen as they are now, and later "
           "changes to its sessions count in the next open period as adjustments."),
        validators=[DataRequired(_l("Tick the box to confirm."))])


class ReopenPeriodForm(FlaskForm):
    reason = TextAreaField(_l("Reason for reopening"),
                           validators=[InputRequired(), Length(max=500)])


def _user():
    return current_user._get_current_object()


def _scope_choices(user) -> list[tuple[str, str]]:
    ambiti = db.session.execute(
        sa.select(Ambito.id, Ambito.name).where(visible(Ambito, user))
        .order_by(Ambito.name)).all()
    choices = [(str(a.id), a.name) for a in ambiti
               if policy.may_close_period(user, a.id)]
    if policy.may_close_period(user, None):
        choices.insert(0, (REGION, _("The whole region")))
    return choices


def _today():
    return datetime.now(ROME).date()


@bp.route("/periods", methods=["GET", "POST"])
@roles_required(*REPORTERS)
def periods_page():
    """The periods of the user's scope, and the form that closes one."""
    user = _user()
    form = ClosePeriodForm()
    form.scope.choices = _scope_choices(user)
    if form.validate_on_submit():
        ambito = None
        if form.scope.data != REGION:
            ambito = db.session.get(Ambito, int(form.scope.data))
        try:
            period = operations.close_period(user, ambito, form.start.data, form.end.data,
                                             _today())
        except InvalidInput as error:
            db.session.rollback()
            show_error(form, error)
        except NotAllowed:
            abort(404)
        else:
            db.session.commit()
            flash(_("The period is closed: its figures and exports are frozen."), "success")
            return redirect(url_for("reporting.period_page", period_id=period.id))
    names = dict(db.session.execute(sa.select(Ambito.id, Ambito.name)).all())
    status = 400 if request.method == "POST" else 200
    return render_template("reporting/periods.html", form=form,
                           periods=periods.visible_periods(user),
                           region_periods=periods.region_periods_of(user),
                           ambito_names=names), status


def _period_or_404(period_id: int):
    period = periods.get_visible(_user(), period_id)
    if period is None:
        abort(404)
    return period


@bp.get("/periods/<int:period_id>")
@roles_required(*REPORTERS)
def period_page(period_id: int):
    """A period's frozen figures (as stored when it closed), its files and its pack."""
    user = _user()
    period = _period_or_404(period_id)
    locale = str(get_locale())
    figures = snapshots.file_named(period, snapshots.figures_name(locale)) \
        or snapshots.file_named(period, snapshots.figures_name("it"))
    form = ReopenPeriodForm() if policy.may_reopen_period(user, period) else None
    return render_template(
        "reporting/period.html", period=period, form=form,
        figures_html=figures.content.decode() if figures is not None else "",
        files=[f for f in period.files if not f.name.endswith(".html")],
        ambito_name=period.ambito.name if period.ambito is not None else None)


@bp.post("/periods/<int:period_id>/reopen")
@roles_required(Role.admin)
def reopen_period(period_id: int):
    user = _user()
    period = _period_or_404(period_id)
    form = ReopenPeriodForm()
    if form.validate_on_submit():
        try:
            operations.reopen_period(user, period, form.reason.data)
        except (InvalidInput, InvalidTransition) as error:
            db.session.rollback()
            if isinstance(error, InvalidInput):
                show_error(form, error)
            else:
                flash(str(error.message), "danger")
                return redirect(url_for("reporting.period_page", period_id=period_id))
        except NotAllowed:
            abort(404)
        else:
            db.session.commit()
            flash(_("The period has been reopened."), "success")
            return redirect(url_for("reporting.period_page", period_id=period_id))
    period = _period_or_404(period_id)
    figures = snapshots.file_named(period, snapshots.figures_name(str(get_locale())))
    return render_template(
        "reporting/period.html", period=period, form=form,
        figures_html=figures.content.decode() if figures is not None else "",
        files=[f for f in period.files if not f.name.endswith(".html")],
        ambito_name=period.ambito.name if period.ambito is not None else None), 400


def _send(content: bytes, mimetype: str, filename: str) -> Response:
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/periods/<int:period_id>/files/<name>")
@roles_required(*REPORTERS)
def period_file(period_id: int, name: str):
    """A file frozen when the period closed, byte for byte."""
    user = _user()
    period = _period_or_404(period_id)
    stored = snapshots.file_named(period, name)
    if stored is None:
        abort(404)
    content, mimetype = stored.content, stored.mimetype
    audit.record("period.downloaded", period, user, name=name)
    db.session.commit()
    return _send(content, mimetype, name)


@bp.get("/periods/<int:period_id>/evidence.zip")
@roles_required(*REPORTERS)
def period_pack(period_id: int):
    """The evidence pack: the pack's frozen files and their SHA-256 manifest, one ZIP."""
    user = _user()
    period = _period_or_404(period_id)
    content, filename = snapshots.evidence_pack(period), snapshots.pack_name(period)
    audit.record("period.downloaded", period, user, name=filename)
    db.session.commit()
    return _send(content, snapshots.ZIP_MIMETYPE, filename)
