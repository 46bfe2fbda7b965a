"""Server-side login sessions: one row per login, referenced from the cookies."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .privacy import LOGIN, NOT_PERSONAL, personal
from .types import UTCDateTime, utcnow


class UserSession(db.Model):
    """One login of a user on one device.

    The session and remember cookies carry a random token; only its SHA-256 is
    stored here, so a copy of the table logs nobody in. Deleting the row ends
    the session at once, whatever cookie the browser still holds.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True, info=personal(LOGIN)
    )
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True, info=personal(LOGIN))
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow,
                                                 info=personal(LOGIN))
    last_seen_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow,
                                                   info=personal(LOGIN))
    # The absolute end of the session, fixed at login.
    expires_dt: Mapped[datetime] = mapped_column(UTCDateTime, info=personal(LOGIN))
    # "Remember me on this device": the remember cookie may restore the session.
    remember: Mapped[bool] = mapped_column(default=False, info=personal(LOGIN))
    ip_address: Mapped[str | None] = mapped_column(sa.String(45), info=personal(LOGIN))
    # A summary of the browser's User-Agent header, to recognise one's devices.
    user_agent: Mapped[str | None] = mapped_column(sa.String(200), info=personal(LOGIN))

    user: Mapped["User"] = relationship()  # noqa: F821
