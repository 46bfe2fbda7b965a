"""Log in and out, reset a forgotten password, accept an invitation, manage one's account."""

import hashlib
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_limiter import RateLimitExceeded
from flask_login import current_user, login_required, logout_user

from ..audit import record
from ..errors import DomainError
from ..extensions import db, limiter
from ..feeds.views import feed_links
from . import operations, queries, tokens
from .forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    NewPasswordForm,
    PreferencesForm,
)
from .session import describe_agent, end_current_session, is_current, log_in

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str:
    """Only follow ``next`` to a path on this site."""
    if target and target.isprintable() and "\\" not in target:
        parts = urlsplit(target)
        local = target.startswith("/") and not target.startswith("//")
        if local and not parts.scheme and not parts.netloc:
            return target
    return url_for("core.home")


# --- throttling (Flask-Limiter; limits and storage in the RATELIMIT_* settings) -------


def _email_key() -> str:
    """The rate-limit key of the email typed in the form (hashed: no address in the store)."""
    email = operations.normalise_email(request.form.get("email") or "")
    return "email:" + hashlib.sha256(email.encode()).hexdigest()[:32]


def _limit(name: str):
    return lambda: current_app.config[name]


def _login_failed(response) -> bool:
    """Only failed attempts count against an account."""
    return bool(g.get("login_failed"))


@bp.errorhandler(RateLimitExceeded)
def throttled(error):
    """Too many attempts: the same form again, with the reason above it (status 429)."""
    db.session.rollback()
    endpoint = request.endpoint
    record("auth.throttled", None, None, endpoint=endpoint)
    db.session.commit()
    message = _("Too many attempts. Please wait a few minutes and try again.")
    if endpoint == "auth.forgot_password":
        form = ForgotPasswordForm()
        form.form_errors.append(message)
        return render_template("auth/forgot_password.html", form=form), 429
    form = LoginForm()
    form.form_errors.append(message)
    return render_template("auth/login.html", form=form), 429


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_limit("RATELIMIT_LOGIN_PER_IP"), methods=["POST"])
@limiter.limit(_limit("RATELIMIT_LOGIN_PER_ACCOUNT"), methods=["POST"], key_func=_email_key,
               deduct_when=_login_failed)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = operations.authenticate(form.email.data, form.password.data)
        except operations.InvalidCredentials as error:
            g.login_failed = True
            db.session.commit()  # keep the audit event of the failed attempt
            form.password.errors.append(error.message)
        else:
            # A new server-side session and a fresh Flask session: nothing carried over.
            log_in(user, remember=form.remember.data)
            db.session.commit()
            flash(_("Welcome, %(name)s.", name=user.display_name), "success")
            return redirect(safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        record("auth.logout", current_user, current_user)
    end_current_session()  # the cookies this browser holds stop working, even if replayed
    db.session.commit()
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
@limiter.limit(_limit("RATELIMIT_PASSWORD_RESET"), methods=["POST"])
@limiter.limit(_limit("RATELIMIT_PASSWORD_RESET"), methods=["POST"], key_func=_email_key)
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
        account = tokens.load_token(token, tokens.RESET)
    except tokens.InvalidToken as error:
        return _token_error(error)
    form = NewPasswordForm(account=account)
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
    form = NewPasswordForm(account=user)
    if form.validate_on_submit():
        try:
            user = operations.accept_invitation(token, form.password.data)
        except tokens.InvalidToken as error:
            return _token_error(error)
        logout_user()
        log_in(user)
        db.session.commit()
        flash(_("Welcome, %(name)s. Your account is ready.", name=user.display_name), "success")
        return redirect(url_for("core.home"))
    return render_template("auth/new_password.html", form=form, invitation=True, user=user)


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    preferences = PreferencesForm(prefix="pref", obj=current_user)
    password = ChangePasswordForm(prefix="pw", account=current_user)
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
            # Every session ended: log in again in this browser only.
            log_in(current_user._get_current_object())
            db.session.commit()
            flash(
                _("Your password has been changed; other devices have been logged out."),
                "success",
            )
            return redirect(url_for("auth.account"))
    user = current_user._get_current_object()
    sessions = [(record, describe_agent(record.user_agent), is_current(record, user))
                for record in queries.open_sessions(user)]
    return render_template("auth/account.html", preferences=preferences, password=password,
                           sessions=sessions,
                           calendar_feed=feed_links(current_user))
