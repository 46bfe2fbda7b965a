"""Offers sent to several mediators at once, the first to accept taking the request
(issue #19, "Fewer empty chairs").

A broadcast is one time (or, for a translation, the request's deadline) offered to a
ranked list of mediators, in tiers: tier 1 is invited at once, each further tier after
``tier_delay_minutes`` if nobody has accepted (``flask broadcasts send``). An invitation
books nothing: the mediator's time is held only once they accept, when the acceptance
creates an accepted assignment like any other (``bookings.operations.accept_invitation``).

The database guarantees the first-to-accept rule: a request has at most one open
broadcast (``uq_offer_broadcasts_request_open``), a broadcast at most one accepted
invitation (``uq_broadcast_invitations_accepted``), a request at most one active
assignment (``uq_assignments_request_active``); the acceptance closes the broadcast with
a conditional UPDATE (``state = 'open'``), so that of two acceptances one wins.
"""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .privacy import BOOKING, NOT_PERSONAL, personal
from .types import UTCDateTime, enum_column, utcnow


class BroadcastState(enum.StrEnum):
    open = "open"  # invitations may be accepted
    taken = "taken"  # a mediator accepted: the request is confirmed
    withdrawn = "withdrawn"  # the request was cancelled, offered to one, marked unfilled


class InvitationState(enum.StrEnum):
    waiting = "waiting"  # its tier has not gone out yet
    sent = "sent"  # the mediator has been told and may accept
    accepted = "accepted"  # this mediator took the request
    # Someone else took it, the broadcast was withdrawn, or the mediator declined it (then
    # ``answered_dt`` is set: see ``BroadcastInvitation.declined``).
    withdrawn = "withdrawn"


_OPEN_SQL = "state = 'open'"
_ACCEPTED_SQL = "state = 'accepted'"


class OfferBroadcast(db.Model):
    """A request offered to several mediators at once, for one time."""

    __tablename__ = "offer_broadcasts"
    __table_args__ = (
        sa.CheckConstraint("start_dt IS NULL OR (end_dt IS NOT NULL AND start_dt < end_dt)",
                           name="range_positive"),
        sa.CheckConstraint("tier_delay_minutes >= 0", name="delay_not_negative"),
        sa.Index("uq_offer_broadcasts_request_open", "request_id", unique=True,
                 postgresql_where=sa.text(_OPEN_SQL), sqlite_where=sa.text(_OPEN_SQL)),
        sa.Index("ix_offer_broadcasts_state_next_tier", "state", "next_tier_dt"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("mediation_requests.id"), index=True, info=NOT_PERSONAL)
    # The time offered (None for a translation: its deadline is the request's).
    start_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, info=NOT_PERSONAL)
    end_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, info=NOT_PERSONAL)
    state: Mapped[BroadcastState] = mapped_column(
        enum_column(BroadcastState, "broadcast_state"), default=BroadcastState.open,
        info=NOT_PERSONAL)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"),
                                               info=personal(BOOKING))
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, info=NOT_PERSONAL)
    # How long each tier waits after the previous one before it goes out.
    tier_delay_minutes: Mapped[int] = mapped_column(default=0, info=NOT_PERSONAL)
    # When the next waiting tier goes out (None: every tier has gone out).
    next_tier_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, info=NOT_PERSONAL)
    closed_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, info=NOT_PERSONAL)

    request: Mapped["MediationRequest"] = relationship(  # noqa: F821
        back_populates="broadcasts")
    created_by: Mapped["User"] = relationship()  # noqa: F821
    invitations: Mapped[list["BroadcastInvitation"]] = relationship(
        back_populates="broadcast", order_by="(BroadcastInvitation.tier, "
                                             "BroadcastInvitation.position)")


class BroadcastInvitation(db.Model):
    """One mediator invited by a broadcast, in a tier, at a rank."""

    __tablename__ = "broadcast_invitations"
    __table_args__ = (
        sa.UniqueConstraint("broadcast_id", "mediator_id"),
        sa.CheckConstraint("tier >= 1", name="tier_positive"),
        # Waiting: not sent; sent or accepted: sent; withdrawn: either.
        sa.CheckConstraint("(state = 'waiting' AND sent_dt IS NULL)"
                           " OR (state IN ('sent', 'accepted') AND sent_dt IS NOT NULL)"
                           " OR state = 'withdrawn'", name="sent_when_not_waiting"),
        sa.Index("uq_broadcast_invitations_accepted", "broadcast_id", unique=True,
                 postgresql_where=sa.text(_ACCEPTED_SQL),
                 sqlite_where=sa.text(_ACCEPTED_SQL)),
        sa.Index("ix_broadcast_invitations_mediator_state", "mediator_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    broadcast_id: Mapped[int] = mapped_column(sa.ForeignKey("offer_broadcasts.id"),
                                              info=NOT_PERSONAL)
    mediator_id: Mapped[int] = mapped_column(sa.ForeignKey("mediator_profiles.id"),
                                             info=personal(BOOKING))
    tier: Mapped[int] = mapped_column(default=1, info=NOT_PERSONAL)
    position: Mapped[int] = mapped_column(default=1, info=NOT_PERSONAL)
    state: Mapped[InvitationState] = mapped_column(
        enum_column(InvitationState, "invitation_state"), default=InvitationState.waiting,
        info=NOT_PERSONAL)
    sent_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, info=NOT_PERSONAL)
    answered_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, info=NOT_PERSONAL)

    broadcast: Mapped[OfferBroadcast] = relationship(back_populates="invitations")
    mediator: Mapped["MediatorProfile"] = relationship()  # noqa: F821

    @property
    def declined(self) -> bool:
        """The mediator declined it: withdrawn with an answer (an accepted invitation has
        its answer too; one withdrawn by another's acceptance or the coordinator has
        none)."""
        return self.state == InvitationState.withdrawn and self.answered_dt is not None
