"""Private iCalendar feed tokens, and the assignments a feed lists.

The token in a feed's URL is its only secret (calendar apps subscribe without
logging in): 43 URL-safe characters from ``secrets.token_urlsafe(32)``, stored
in ``users.calendar_token`` (unique). Regenerating it replaces it, so that the
old URL stops working at once. Only mediators and coordinators have a feed.
"""

import secrets
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from ..audit import record
from ..errors import NotAllowed
from ..extensions import db
from ..models import (
    ACTIVE_ASSIGNMENT_STATES,
    Assignment,
    MediationRequest,
    MediatorProfile,
    Role,
    User,
    utcnow,
)
from ..scoping import visible

#: Who has a feed.
FEED_ROLES = (Role.mediator, Role.coordinator)
#: How far back a feed goes.
FEED_PAST = timedelta(days=30)
#: ``secrets.token_urlsafe(32)`` gives 43 characters; the column holds 64.
_TOKEN_MAX = 64


def has_feed(user: User) -> bool:
    return user.is_authenticated and user.role in FEED_ROLES


def _new_token() -> str:
    return secrets.token_urlsafe(32)


def create_token(actor: User) -> str:
    """Give the actor a feed token if they have none yet (idempotent)."""
    if not has_feed(actor):
        raise NotAllowed()
    if actor.calendar_token is None:
        actor.calendar_token = _new_token()
        record("calendar_feed.created", actor, actor)
    return actor.calendar_token


def regenerate_token(actor: User) -> str:
    """Replace the actor's feed token: the old feed URL stops working."""
    if not has_feed(actor):
        raise NotAllowed()
    replaced = actor.calendar_token is not None
    actor.calendar_token = _new_token()
    record("calendar_feed.regenerated" if replaced else "calendar_feed.created", actor, actor)
    return actor.calendar_token


def user_for_token(token: str) -> User | None:
    """The active mediator or coordinator whose feed this token opens, else ``None``.

    The lookup is an equality on the unique column: no prefix or timing leaks
    beyond what the index gives, and a malformed token never reaches the database.
    """
    if not token or len(token) > _TOKEN_MAX or not all(
            c.isascii() and (c.isalnum() or c in "-_") for c in token):
        return None
    user = db.session.scalar(sa.select(User).where(User.calendar_token == token))
    if user is None or not user.active or user.role not in FEED_ROLES:
        return None
    if not secrets.compare_digest(user.calendar_token, token):  # belt and braces
        return None
    return user


def feed_assignments(user: User) -> list[Assignment]:
    """The offered and accepted appointments the user's feed lists, from 30 days ago on.

    A mediator's own; a coordinator's Ambito's (scoping rules). Translations
    (deadline only) have no time and are left out. Loaded with everything the
    calendar shows, in a constant number of queries.
    """
    if user.role not in FEED_ROLES:
        return []
    since = utcnow() - FEED_PAST
    return list(db.session.scalars(
        sa.select(Assignment)
        .where(visible(Assignment, user),
               Assignment.state.in_(ACTIVE_ASSIGNMENT_STATES),
               Assignment.start_dt.is_not(None),
               Assignment.end_dt >= since)
        .options(
            joinedload(Assignment.request).options(
                joinedload(MediationRequest.type),
                joinedload(MediationRequest.language),
                joinedload(MediationRequest.school),
                joinedload(MediationRequest.site),
            ),
            joinedload(Assignment.mediator).joinedload(MediatorProfile.user),
            joinedload(Assignment.offered_by),
        )
        .order_by(Assignment.start_dt, Assignment.id)
    ).unique())
