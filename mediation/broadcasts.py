"""Offers to several mediators in tiers: ``flask broadcasts send`` sends each tier that is
due (issue #19).

A broadcast's next tier goes out ``tier_delay_minutes`` after the previous one if nobody
has accepted (``OfferBroadcast.next_tier_dt``). The command is safe to run every few
minutes (cron, a systemd timer), next to ``flask reminders send``: each tier is claimed
with a conditional UPDATE on ``next_tier_dt`` after locking the request, as an acceptance
does (``bookings.operations.send_next_tier``), in the transaction that queues the emails;
so two runs at the same moment, or a run repeated after a crash, never send it twice, and
a tier never goes out after someone accepted.
"""

from datetime import datetime

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from .bookings import operations
from .extensions import db
from .models import BroadcastState, OfferBroadcast, utcnow


def due_broadcasts(now: datetime) -> list[int]:
    """The open broadcasts whose next tier is due, the oldest due first."""
    return list(db.session.scalars(
        sa.select(OfferBroadcast.id)
        .where(OfferBroadcast.state == BroadcastState.open,
               OfferBroadcast.next_tier_dt <= now)
        .order_by(OfferBroadcast.next_tier_dt, OfferBroadcast.id)
    ))


def send_due(now: datetime | None = None) -> int:
    """Send every tier that is due; one transaction each. How many mediators were asked."""
    now = now or utcnow()
    asked = 0
    for broadcast_id in due_broadcasts(now):
        broadcast = db.session.get(OfferBroadcast, broadcast_id)
        asked += len(operations.send_next_tier(broadcast, now))
        db.session.commit()
    return asked


@click.group("broadcasts")
def broadcasts_cli():
    """Offers sent to several mediators: their next tiers."""


@broadcasts_cli.command("send")
@with_appcontext
def send_command():
    """Ask the next tier of mediators of each offer nobody accepted in time (safe to run
    every few minutes)."""
    click.echo(f"mediators asked: {send_due()}")
