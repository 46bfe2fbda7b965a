"""Account reads, always for the user who asks."""

import sqlalchemy as sa

from ..extensions import db
from ..models import User, UserSession, utcnow


def open_sessions(user: User) -> list[UserSession]:
    """The user's own sessions that have not reached their absolute end, latest first."""
    return list(db.session.scalars(
        sa.select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.expires_dt > utcnow())
        .order_by(UserSession.last_seen_dt.desc(), UserSession.id.desc())
    ))
