"""Flask-Login wiring: the login cookie carries the user's session version."""

import sqlalchemy as sa
from flask import Flask
from flask_babel import lazy_gettext as _l

from ..extensions import db, login_manager
from ..models import User


def load_user(user_id: str) -> User | None:
    """Load the user of a session, refusing sessions from before a version bump."""
    uid, _, version = user_id.partition(":")
    if not (uid.isdigit() and version.isdigit()):
        return None
    user = db.session.scalar(sa.select(User).where(User.id == int(uid)))
    if user is None or user.session_version != int(version) or not user.active:
        return None
    return user


def configure_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    # A stolen cookie from another network is not reused silently.
    login_manager.session_protection = "basic"
