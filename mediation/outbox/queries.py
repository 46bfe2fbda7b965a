"""What the outbox page reads, scoped to the user (:func:`visible_messages`)."""

import sqlalchemy as sa

from ..extensions import db
from ..models import OutboxMessage, OutboxState, Role, User
from ..scoping import visible


def visible_messages(user: User) -> sa.ColumnElement[bool]:
    """The messages ``user`` may see: all for the admin, a coordinator's Ambito's people."""
    if not user.is_authenticated:
        return sa.false()
    if user.role == Role.admin:
        return sa.true()
    if user.role == Role.coordinator:
        return OutboxMessage.recipient_id.in_(
            sa.select(User.id).where(visible(User, user)).scalar_subquery()
        )
    return sa.false()


#: The states the page lists; sent messages are history, not work.
LISTED = (OutboxState.pending, OutboxState.dead)


def counts(user: User) -> dict[OutboxState, int]:
    """How many pending and dead messages the user may see, in one query."""
    rows = db.session.execute(
        sa.select(OutboxMessage.state, sa.func.count())
        .where(OutboxMessage.state.in_(LISTED), visible_messages(user))
        .group_by(OutboxMessage.state)
    ).all()
    found = dict(rows)
    return {state: found.get(state, 0) for state in LISTED}


def listing(user: User, state: OutboxState | None, page: int, per_page: int):
    """One page of the user's pending and dead messages (or one of the two), newest first."""
    states = (state,) if state is not None else LISTED
    stmt = (
        sa.select(OutboxMessage)
        .where(OutboxMessage.state.in_(states), visible_messages(user))
        .order_by(OutboxMessage.created_dt.desc(), OutboxMessage.id.desc())
    )
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def get_or_404(user: User, message_id: int) -> OutboxMessage:
    """A message the user may see, or a 404."""
    return db.first_or_404(
        sa.select(OutboxMessage).where(OutboxMessage.id == message_id, visible_messages(user))
    )
