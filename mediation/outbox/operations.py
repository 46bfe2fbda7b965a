"""Requeueing from the outbox page: the one rule of when a message may be sent again."""

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..audit import record
from ..errors import DomainError, NotAllowed
from ..extensions import db
from ..models import OutboxMessage, OutboxState, User, utcnow
from .queries import visible_messages


class AlreadySent(DomainError):
    status_code = 409
    default_message = _l("This email has already been sent.")


def _may_see(actor: User, message: OutboxMessage) -> bool:
    return db.session.scalar(
        sa.select(sa.literal(True)).select_from(OutboxMessage)
        .where(OutboxMessage.id == message.id, visible_messages(actor))
    ) is not None


class BeingSent(DomainError):
    status_code = 409
    default_message = _l("A worker is sending this email right now: it cannot be requeued."
                         " If the attempt fails, it will be retried anyway.")


def being_sent(message: OutboxMessage, now: datetime | None = None) -> bool:
    """Whether a worker may be sending ``message`` now: its lease has not run out."""
    return (message.state == OutboxState.pending and message.leased_until is not None
            and message.leased_until > (now or utcnow()))


def requeue_refusal(message: OutboxMessage, now: datetime | None = None) -> DomainError | None:
    """Why ``message`` cannot be requeued, or None if it can: the one rule of requeueing.

    A pending message waiting for its next attempt and a dead one can be requeued; a
    sent one cannot, nor one a worker may be sending (requeueing it would let another
    worker send it a second time).
    """
    if message.state == OutboxState.sent:
        return AlreadySent()
    if being_sent(message, now):
        return BeingSent()
    return None


def may_requeue(message: OutboxMessage, now: datetime | None = None) -> bool:
    return requeue_refusal(message, now) is None


def requeue(actor: User, message: OutboxMessage) -> None:
    """Send a pending or dead message again as soon as a worker polls, counting from zero."""
    if not _may_see(actor, message):
        raise NotAllowed()
    # The row as it is now, not as the page saw it: a worker may have claimed it since.
    # (On PostgreSQL the row stays locked until the commit, so a claim skips it.)
    db.session.refresh(message, with_for_update=True)
    refusal = requeue_refusal(message)
    if refusal is not None:
        raise refusal
    previous_state, attempts = message.state, message.attempts
    message.state = OutboxState.pending
    message.attempts = 0
    message.next_attempt_dt = utcnow()
    message.leased_until = None
    record("outbox.requeued", message, actor, previous_state=previous_state.value,
           attempts=attempts)


def requeue_dead(actor: User) -> int:
    """Requeue every dead message the actor may see; returns how many."""
    messages = db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.state == OutboxState.dead, visible_messages(actor))
        .order_by(OutboxMessage.id)
    ).all()
    now = utcnow()
    messages = [message for message in messages if may_requeue(message, now)]
    for message in messages:
        attempts = message.attempts
        message.state = OutboxState.pending
        message.attempts = 0
        message.next_attempt_dt = now
        message.leased_until = None
        record("outbox.requeued", message, actor, previous_state=OutboxState.dead.value,
               attempts=attempts)
    return len(messages)
