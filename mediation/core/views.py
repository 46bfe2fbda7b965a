"""Home pages per role, school and Ambito pages, the language switcher."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..auth.operations import update_preferences
from ..auth.views import safe_next
from ..errors import InvalidInput
from ..extensions import db
from ..models import Ambito, Role, School
from ..scoping import get_or_404, roles_required
from ..view_helpers import show_error
from . import operations, queries
from .forms import SchoolContactForm

bp = Blueprint("core", __name__)


@bp.route("/")
@login_required
def home():
    user = current_user._get_current_object()
    if user.role in (Role.teacher, Role.lead):
        return render_template("core/home_school.html", **queries.school_home(user))
    if user.role == Role.mediator:
        return redirect(url_for("agenda.index"))
    if user.role == Role.coordinator:
        return render_template("core/home_coordinator.html", **queries.coordinator_home(user))
    return render_template("core/home_admin.html", **queries.admin_home(user))


@bp.route("/favicon.ico")
def favicon():
    """Where browsers and feed readers look for the icon whatever the page says."""
    return send_from_directory(current_app.static_folder, "favicon.ico",
                               mimetype="image/vnd.microsoft.icon", max_age=7 * 24 * 3600)


@bp.route("/locale", methods=["POST"])
def set_locale():
    """Switch the interface language; remembered on the account when logged in."""
    locale = request.form.get("locale")
    if locale in current_app.config["LANGUAGES"]:
        session["locale"] = locale
        if current_user.is_authenticated and current_user.locale != locale:
            user = current_user._get_current_object()
            update_preferences(user, user.display_name, locale)
            db.session.commit()
    return redirect(safe_next(request.form.get("next")))


@bp.route("/schools/<int:school_id>")
@login_required
def school(school_id: int):
    """A school with its sites and cycles; its staff for those who manage it."""
    user = current_user._get_current_object()
    school = get_or_404(School, school_id, user)
    return render_template("core/school.html", **queries.school_page(school, user),
                           may_edit_contact=operations.may_edit_contact(user, school))


@bp.route("/schools/<int:school_id>/contact", methods=["GET", "POST"])
@roles_required(Role.lead, Role.coordinator, Role.admin)
def school_contact(school_id: int):
    """The school's address and telephone, printed on the family letter."""
    user = current_user._get_current_object()
    school = get_or_404(School, school_id, user)
    if not operations.may_edit_contact(user, school):
        abort(404)
    form = SchoolContactForm(obj=school)
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                changes = operations.update_contact(
                    user, school, address=form.address.data, telephone=form.telephone.data)
            except InvalidInput as error:
                db.session.rollback()
                school = get_or_404(School, school_id, user)
                show_error(form, error)
            else:
                db.session.commit()
                flash(_("Contact details saved.") if changes else _("Nothing to change."),
                      "success" if changes else "info")
                return redirect(url_for("core.school", school_id=school_id))
    return render_template("core/school_contact.html", school=school, form=form), status


@bp.route("/ambiti/<int:ambito_id>")
@roles_required(Role.coordinator, Role.admin)
def ambito(ambito_id: int):
    """An Ambito with its schools and mediators."""
    user = current_user._get_current_object()
    ambito = get_or_404(Ambito, ambito_id, user)
    return render_template("core/ambito.html", **queries.ambito_page(ambito, user))
