"""The audit trail and the email outbox, both written in the transaction of the change."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .privacy import AUDIT, EMAIL, NOT_PERSONAL, personal
from .types import UTCDateTime, enum_column, utcnow


class AuditEvent(db.Model):
    """Who did what to which object, when and from where.

    ``data`` holds structured, non-sensitive details (states, ids, reason codes):
    never secrets, never free text about pupils.
    """

    __tablename__ = "audit_events"
    __table_args__ = (sa.Index("ix_audit_events_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    created_dt: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, index=True, info=NOT_PERSONAL,
    )
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id"), index=True, info=personal(AUDIT),
    )
    action: Mapped[str] = mapped_column(sa.String(60), info=NOT_PERSONAL)
    object_type: Mapped[str] = mapped_column(sa.String(40), info=NOT_PERSONAL)
    object_id: Mapped[int | None] = mapped_column(info=NOT_PERSONAL)
    ip_address: Mapped[str | None] = mapped_column(sa.String(45), info=personal(AUDIT))
    data: Mapped[dict] = mapped_column(sa.JSON, default=dict, info=personal(AUDIT))

    actor: Mapped["User | None"] = relationship()  # noqa: F821


class OutboxState(enum.StrEnum):
    pending = "pending"
    sent = "sent"
    dead = "dead"


class OutboxMessage(db.Model):
    """An email, rendered in the recipient's language and queued with the change causing it."""

    __tablename__ = "outbox_messages"
    __table_args__ = (sa.Index("ix_outbox_messages_due", "state", "next_attempt_dt"),)

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, info=NOT_PERSONAL)
    # Stable across retries, so a resend after an ambiguous failure is the same mail.
    message_id: Mapped[str] = mapped_column(sa.String(200), unique=True, info=NOT_PERSONAL)
    template: Mapped[str] = mapped_column(sa.String(100), info=NOT_PERSONAL)
    recipient_email: Mapped[str] = mapped_column(sa.String(254), info=personal(EMAIL))
    recipient_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id"), info=personal(EMAIL),
    )
    locale: Mapped[str] = mapped_column(sa.String(10), info=NOT_PERSONAL)
    subject: Mapped[str] = mapped_column(sa.String(300), info=personal(EMAIL))
    body_text: Mapped[str] = mapped_column(sa.Text, info=personal(EMAIL))
    body_html: Mapped[str | None] = mapped_column(sa.Text, info=personal(EMAIL))
    # [{"filename", "content_type", "data" (base64)}]
    attachments: Mapped[list] = mapped_column(sa.JSON, default=list, info=personal(EMAIL))
    state: Mapped[OutboxState] = mapped_column(
        enum_column(OutboxState, "outbox_state"), default=OutboxState.pending,
        info=NOT_PERSONAL,
    )
    attempts: Mapped[int] = mapped_column(default=0, info=NOT_PERSONAL)
    next_attempt_dt: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, info=NOT_PERSONAL,
    )
    last_error: Mapped[str | None] = mapped_column(sa.Text, info=NOT_PERSONAL)
    # While a worker sends the message: the end of its lease (no other worker takes the
    # message, nobody may requeue it); None otherwise.
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime, info=NOT_PERSONAL)
    sent_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, info=NOT_PERSONAL)
