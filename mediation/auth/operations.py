"""Account operations: each checks, changes, audits and queues mail; the caller commits."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash

from ..audit import record
from ..errors import DomainError
from ..extensions import db
from ..models import Role, User, utcnow
from ..outbox import queue_email
from . import tokens
from .passwords import password_problem
from .session import end_all_sessions_of

# Checked against when the email is unknown, so that a login takes as long
# whether or not the account exists.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


class InvalidCredentials(DomainError):
    status_code = 400
    default_message = _l("Email or password is not correct.")


class WeakPassword(DomainError):
    status_code = 400


def check_password_policy(password: str, email: str | None, name: str | None) -> None:
    """:raise WeakPassword: the password breaks the policy (mediation/auth/passwords.py)."""
    problem = password_problem(password, email, name)
    if problem is not None:
        raise WeakPassword(problem, field="password")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def authenticate(email: str, password: str) -> User:
    """Return the active user with these credentials.

    :raise InvalidCredentials: the same error whatever was wrong, so that the
        page does not reveal which emails have an account.
    """
    user = find_user_by_email(email)
    if user is None or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password)
        record("auth.login_failed", None, None, reason="unknown_or_uninvited")
        raise InvalidCredentials()
    if not check_password_hash(user.password_hash, password) or not user.active:
        record("auth.login_failed", user, None, reason="bad_password_or_inactive")
        raise InvalidCredentials()
    user.last_login_dt = utcnow()
    record("auth.login", user, user)
    return user


def set_password(user: User, password: str, actor: User | None, action: str) -> None:
    """Set a new password and end every session of the user (on every device).

    :raise WeakPassword: the password breaks the policy.
    """
    check_password_policy(password, user.email, user.display_name)
    user.password_hash = generate_password_hash(password)
    user.session_version += 1  # also voids every emailed link (mediation/auth/tokens.py)
    end_all_sessions_of(user)
    record(action, user, actor)


def change_password(user: User, current: str, new: str) -> None:
    if not user.password_hash or not check_password_hash(user.password_hash, current):
        raise DomainError(_l("The current password is not correct."), field="current")
    set_password(user, new, user, "auth.password_changed")


def end_all_sessions(user: User) -> None:
    """Log the user out everywhere: every session row goes, so every cookie stops working."""
    user.session_version += 1
    end_all_sessions_of(user)
    record("auth.logout_everywhere", user, user)


def request_password_reset(email: str) -> None:
    """Queue a reset link if the account exists; do nothing visible otherwise."""
    user = find_user_by_email(email)
    if user is None or not user.active:
        return
    token = tokens.make_token(user, tokens.RESET)
    queue_email("password_reset", user, token=token)
    record("auth.password_reset_requested", user, None)


def reset_password(token: str, password: str) -> User:
    """Set the password of the account a reset link is for.

    :raise tokens.InvalidToken: the link is tampered with, used or expired.
    """
    user = tokens.load_token(token, tokens.RESET)
    set_password(user, password, user, "auth.password_reset")
    return user


def create_user(
    email: str,
    display_name: str,
    role: Role,
    actor: User | None,
    *,
    school_id: int | None = None,
    ambito_id: int | None = None,
    password: str | None = None,
    locale: str | None = None,
    invite: bool = True,
) -> User:
    """Create an account; without a password, email an invitation to choose one."""
    email = normalise_email(email)
    if password:
        check_password_policy(password, email, display_name)
    if find_user_by_email(email) is not None:
        raise DomainError(_l("An account with this email already exists."), field="email")
    user = User(
        email=email,
        display_name=display_name,
        role=role,
        school_id=school_id,
        ambito_id=ambito_id,
        locale=locale,
        password_hash=generate_password_hash(password) if password else None,
    )
    db.session.add(user)
    db.session.flush()
    record("user.created", user, actor, role=role.value)
    if invite and not password:
        invite_user(user, actor)
    return user


def invite_user(user: User, actor: User | None) -> None:
    """Email a link with which the user chooses their password."""
    token = tokens.make_token(user, tokens.INVITATION)
    queue_email("invitation", user, token=token, inviter=actor)
    record("user.invited", user, actor)


def accept_invitation(token: str, password: str) -> User:
    """Set the first password of an invited account.

    :raise tokens.InvalidToken: the link is tampered with, used or expired.
    """
    user = tokens.load_token(token, tokens.INVITATION)
    set_password(user, password, user, "user.invitation_accepted")
    return user


def update_preferences(user: User, display_name: str, locale: str) -> None:
    user.display_name = display_name
    user.locale = locale
    record("user.preferences_changed", user, user, locale=locale)
