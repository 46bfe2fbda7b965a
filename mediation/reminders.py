"""Timed messages: the reminder the day before, and the request to log a session.

``flask reminders send`` is safe to run every few minutes (cron, a systemd timer):
each assignment is claimed with a conditional UPDATE on its ``reminder_sent_dt``
or ``log_requested_dt`` in the same transaction that queues the emails, so two
runs at the same time, or a run repeated after a crash, never send twice.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import joinedload

from .extensions import db
from .models import (
    Assignment,
    AssignmentState,
    MediationRequest,
    MediatorProfile,
    RequestState,
    SessionLog,
    utcnow,
)
from .outbox import queue_email

#: Defaults, overridden by REMINDER_LEAD_HOURS and LOG_REQUEST_MAX_AGE_DAYS.
DEFAULT_LEAD_HOURS = 24
DEFAULT_LOG_MAX_AGE_DAYS = 14


@dataclass
class Sent:
    reminders: int = 0
    log_requests: int = 0


def _claim(assignment_id: int, column, now: datetime) -> bool:
    """Mark the assignment as handled unless someone did already (one winner)."""
    result = db.session.execute(
        sa.update(Assignment)
        .where(Assignment.id == assignment_id, column.is_(None))
        .values({column: now})
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _recipients(*users):
    seen = set()
    for user in users:
        if user is not None and user.active and user.id not in seen:
            seen.add(user.id)
            yield user


def due_reminders(now: datetime) -> list[Assignment]:
    """Confirmed meetings starting within the lead time, not yet reminded.

    A meeting confirmed inside that window needs no reminder: the confirmation
    has just been sent."""
    lead = timedelta(hours=current_app.config.get("REMINDER_LEAD_HOURS", DEFAULT_LEAD_HOURS))
    soon = db.session.scalars(
        sa.select(Assignment)
        .join(Assignment.request)
        .where(Assignment.state == AssignmentState.accepted,
               MediationRequest.state == RequestState.confirmed,
               Assignment.reminder_sent_dt.is_(None),
               Assignment.start_dt > now,
               Assignment.start_dt <= now + lead)
        .options(joinedload(Assignment.request).joinedload(MediationRequest.requester),
                 joinedload(Assignment.mediator).joinedload(MediatorProfile.user))
        .order_by(Assignment.start_dt)
    )
    return [a for a in soon if a.responded_dt is None or a.responded_dt <= a.start_dt - lead]


def due_log_requests(now: datetime) -> list[Assignment]:
    """Accepted assignments that have ended (or whose deadline has passed) with no log.

    Older ones are left alone: the first run on an existing database must not
    send a message for every session of the past."""
    max_age = timedelta(days=current_app.config.get("LOG_REQUEST_MAX_AGE_DAYS",
                                                    DEFAULT_LOG_MAX_AGE_DAYS))
    ended = sa.func.coalesce(Assignment.end_dt, Assignment.deadline_dt)
    return list(db.session.scalars(
        sa.select(Assignment)
        .join(Assignment.request)
        .outerjoin(SessionLog, SessionLog.assignment_id == Assignment.id)
        .where(Assignment.state == AssignmentState.accepted,
               MediationRequest.state == RequestState.confirmed,
               Assignment.log_requested_dt.is_(None),
               SessionLog.id.is_(None),
               ended <= now,
               ended > now - max_age)
        .options(joinedload(Assignment.request),
                 joinedload(Assignment.mediator).joinedload(MediatorProfile.user))
        .order_by(ended)
    ))


def send_due(now: datetime | None = None) -> Sent:
    """Queue every reminder and log request that is due; one transaction each."""
    now = now or utcnow()
    sent = Sent()
    for assignment in due_reminders(now):
        if _claim(assignment.id, Assignment.reminder_sent_dt, now):
            request = assignment.request
            for user in _recipients(assignment.mediator.user, request.requester):
                queue_email("reminder", user, kind="reminder", request=request,
                            assignment=assignment)
            sent.reminders += 1
        db.session.commit()
    for assignment in due_log_requests(now):
        if _claim(assignment.id, Assignment.log_requested_dt, now):
            for user in _recipients(assignment.mediator.user):
                queue_email("reminder", user, kind="log_due", request=assignment.request,
                            assignment=assignment)
            sent.log_requests += 1
        db.session.commit()
    return sent


@click.group("reminders")
def reminders_cli():
    """Reminders the day before, and requests to log ended sessions."""


@reminders_cli.command("send")
@with_appcontext
def send_command():
    """Queue the reminders and log requests that are due (safe to run every few minutes)."""
    sent = send_due()
    click.echo(f"reminders queued: {sent.reminders}; log requests queued: {sent.log_requests}")
