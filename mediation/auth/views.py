"""Log in and out, reset a forgotten password, accept an invitation, manage one's account."""

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..errors import DomainError
from ..extensions import db
from ..feeds.views import feed_links
from . import operations, tokens
from .forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    NewPasswordForm,
    PreferencesForm,
)

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str:
    """Only follow ``next`` to a path on this site."""
    if target and target.isprintable() and "\\" not in target:
        parts = urlsplit(target)
        local = target.startswith("/") and not target.startswith("//")
        if local and not parts.scheme and not parts.netloc:
            return target
    return url_for("core.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = operations.authenticate(form.email.data, form.password.data)
        except operations.InvalidCredentials as error:
            db.session.commit()  # keep the audit event of the failed attempt
            form.password.errors.append(error.message)
        else:
            db.session.commit()
            locale = session.get("locale")
            session.clear()  # a fresh session at login, nothing carried over
            if locale and not user.locale:
                session["locale"] = locale
            login_user(user, remember=form.remember.data)
            flash(_("Welcome, %(name)s.", name=user.display_name), "success")
            return redirect(safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    session.clear()
    logout_user()  # after clear(): it leaves the flag that deletes the remember cookie
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/logout-everywhere", methods=["POST"])
@login_required
def logout_everywhere():
    operations.end_all_sessions(current_user)
    db.session.commit()
    session.clear()
    logout_user()
    flash(_("You have been logged out on every device."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        operations.request_password_reset(form.email.data)
        db.session.commit()
        # The same answer whether or not the account exists.
        flash(
            _(
                "If an account exists for %(email)s, we have sent it a link to choose"
                " a new password. The link is valid for two hours.",
                email=form.email.data,
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form)


def _token_error(error: tokens.InvalidToken):
    if isinstance(error, tokens.ExpiredToken):
        message = _("This link has expired. Ask for a new one.")
    else:
        message = _("This link is not valid: it may have been used already or copied incompletely.")
    return render_template("auth/link_invalid.html", message=message), 400


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    try:
        tokens.load_token(token, tokens.RESET)
    except tokens.InvalidToken as error:
        return _token_error(error)
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            user = operations.reset_password(token, form.password.data)
        except tokens.InvalidToken as error:
            return _token_error(error)
        db.session.commit()
        logout_user()
        flash(_("Your password has been changed. You can now log in."), "success")
        return redirect(url_for("auth.login", email=user.email))
    return render_template("auth/new_password.html", form=form, invitation=False)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    try:
        user = tokens.load_token(token, tokens.INVITATION)
    except tokens.InvalidToken as error:
        return _token_error(error)
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            user = operations.accept_invitation(token, form.password.data)
        except tokens.InvalidToken as error:
            return _token_error(error)
        db.session.commit()
        logout_user()
        session.clear()
        login_user(user)
        flash(_("Welcome, %(name)s. Your account is ready.", name=user.display_name), "success")
        return redirect(url_for("core.home"))
    return render_template("auth/new_password.html", form=form, invitation=True, user=user)


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    preferences = PreferencesForm(prefix="pref", obj=current_user)
    password = ChangePasswordForm(prefix="pw")
    action = request.form.get("action")
    if action == "preferences" and preferences.validate_on_submit():
        operations.update_preferences(
            current_user, preferences.display_name.data, preferences.locale.data
        )
        db.session.commit()
        flash(_("Your preferences have been saved."), "success")
        return redirect(url_for("auth.account"))
    if action == "password" and password.validate_on_submit():
        try:
            operations.change_password(current_user, password.current.data, password.password.data)
        except DomainError as error:
            getattr(password, error.field).errors.append(error.message)
        else:
            db.session.commit()
            # The version changed: log in again in this browser only.
            login_user(current_user._get_current_object())
            flash(
                _("Your password has been changed; other devices have been logged out."),
                "success",
            )
            return redirect(url_for("auth.account"))
    return render_template("auth/account.html", preferences=preferences, password=password,
                           calendar_feed=feed_links(current_user))
