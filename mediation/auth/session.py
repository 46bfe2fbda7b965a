"""Flask-Login wiring over server-side sessions (:class:`~mediation.models.UserSession`).

Each login creates a ``user_sessions`` row holding the SHA-256 of a random token;
the session cookie and the remember cookie carry ``<user id>:<token>``. A cookie
is honoured only while its row exists and has not passed its idle or absolute
lifetime, so logging out (which deletes the row) makes a copied or replayed
cookie worthless, and logging out everywhere or changing the password (which
delete every row of the user) ends the sessions on every device.
"""

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask, current_app, has_request_context, request, session
from flask_babel import lazy_gettext as _l
from flask_login import login_user
from flask_login.utils import decode_cookie
from sqlalchemy.orm import joinedload

from ..extensions import db, login_manager
from ..models import User, UserSession, utcnow


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _split(user_id: str | None) -> tuple[int, str] | None:
    """``(user id, token)`` from a cookie's ``<id>:<token>``, or None."""
    uid, _, token = (user_id or "").partition(":")
    if not uid.isdigit() or len(token) < 32:
        return None
    return int(uid), token


def _idle_limit(record: UserSession) -> timedelta:
    config = current_app.config
    if record.remember:
        return timedelta(days=config["SESSION_REMEMBER_IDLE_DAYS"])
    return timedelta(minutes=config["SESSION_IDLE_MINUTES"])


def _user_agent_summary() -> str | None:
    if not has_request_context():
        return None
    agent = request.user_agent.string or ""
    return agent[:200] or None


def _purge_ended(user: User, now) -> None:
    """Delete the user's sessions that have expired (rows are otherwise removed on use)."""
    config = current_app.config
    idle = now - timedelta(minutes=config["SESSION_IDLE_MINUTES"])
    remember_idle = now - timedelta(days=config["SESSION_REMEMBER_IDLE_DAYS"])
    db.session.execute(sa.delete(UserSession).where(
        UserSession.user_id == user.id,
        sa.or_(
            UserSession.expires_dt <= now,
            sa.and_(UserSession.remember.is_(False), UserSession.last_seen_dt <= idle),
            sa.and_(UserSession.remember.is_(True), UserSession.last_seen_dt <= remember_idle),
        ),
    ))


_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"),
             ("Chrome/", "Chrome"), ("Safari/", "Safari"))
_SYSTEMS = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"),
            ("Windows", "Windows"), ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"),
            ("Linux", "Linux"))


def describe_agent(agent: str | None) -> str:
    """A short description of a User-Agent header, such as "Firefox, Windows"."""
    agent = agent or ""
    browser = next((name for token, name in _BROWSERS if token in agent), None)
    system = next((name for token, name in _SYSTEMS if token in agent), None)
    described = ", ".join(part for part in (browser, system) if part)
    return described or agent[:40]


def is_current(record: UserSession, user: User) -> bool:
    """Whether ``record`` is the session ``user`` was loaded with in this request."""
    token = getattr(user, "session_token", None)
    return bool(token) and record.token_hash == _hash(token)


def start_session(user: User, remember: bool = False) -> str:
    """Add a new session row for ``user`` and return its token (kept in the cookie only)."""
    config = current_app.config
    now = utcnow()
    lifetime = (config["REMEMBER_COOKIE_DURATION"] if remember
                else timedelta(hours=config["SESSION_ABSOLUTE_HOURS"]))
    if not isinstance(lifetime, timedelta):
        lifetime = timedelta(seconds=int(lifetime))
    _purge_ended(user, now)
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(
        user_id=user.id, token_hash=_hash(token), created_dt=now, last_seen_dt=now,
        expires_dt=now + lifetime, remember=remember,
        ip_address=request.remote_addr if has_request_context() else None,
        user_agent=_user_agent_summary(),
    ))
    return token


def log_in(user: User, remember: bool = False) -> None:
    """Log ``user`` in this browser with a brand-new session; the caller commits.

    Whatever the browser's Flask session held is dropped (a new identifier at
    every login), except the language chosen before logging in.
    """
    locale = session.get("locale")
    session.clear()
    if locale and not user.locale:
        session["locale"] = locale
    user.session_token = start_session(user, remember)
    login_user(user, remember=remember)


def end_current_session() -> None:
    """Delete the session rows named by this browser's session and remember cookies."""
    names = [session.get("_user_id")]
    cookie = request.cookies.get(current_app.config.get("REMEMBER_COOKIE_NAME",
                                                        "remember_token"))
    if cookie:
        names.append(decode_cookie(cookie))
    hashes = [_hash(parts[1]) for parts in map(_split, names) if parts]
    if hashes:
        db.session.execute(sa.delete(UserSession).where(UserSession.token_hash.in_(hashes)))


def end_all_sessions_of(user: User) -> None:
    """Delete every session row of ``user``: every device is logged out."""
    db.session.execute(sa.delete(UserSession).where(UserSession.user_id == user.id))


def load_user(user_id: str) -> User | None:
    """Load the user of a live session, refusing ended, expired or foreign tokens."""
    parts = _split(user_id)
    if parts is None:
        return None
    uid, token = parts
    row = db.session.execute(
        sa.select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == _hash(token))
        # Every page's header names the user's school or Ambito (scope_label).
        .options(joinedload(User.school), joinedload(User.ambito))
    ).first()
    if row is None:
        return None
    record, user = row
    if user.id != uid or not user.active:
        return None
    now = utcnow()
    if now >= record.expires_dt or now - record.last_seen_dt >= _idle_limit(record):
        db.session.delete(record)
        db.session.commit()
        return None
    touch = timedelta(seconds=current_app.config["SESSION_TOUCH_SECONDS"])
    if now - record.last_seen_dt >= touch:
        # At most one write per session and SESSION_TOUCH_SECONDS. The user is loaded
        # at the start of a request, before the view has changed anything.
        record.last_seen_dt = now
        db.session.commit()
    user.session_token = token
    return user


def configure_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    # A stolen cookie from another network is not reused silently.
    login_manager.session_protection = "basic"
