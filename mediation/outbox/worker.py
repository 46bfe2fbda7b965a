"""The outbox worker's sending: claim a due message, send it through SMTP, record it.

The worker (``flask outbox run``, ``cli.py``) calls :func:`drain`. It takes one due
message at a time (:func:`claim_next`): on PostgreSQL with ``SELECT ... FOR UPDATE SKIP
LOCKED``, so that several workers never wait for nor take the same row; everywhere with
a conditional ``UPDATE`` that moves ``next_attempt_dt`` forward by a lease and counts
the attempt. The claim is committed before talking to the SMTP server, so no lock is
held while sending; another worker sees the message again only if the lease runs out
(the worker died). The Message-ID header is the row's ``message_id``: a resend after an
ambiguous failure (the server took the mail but the answer was lost) is the same mail,
which receiving servers and clients recognise.

Delivery is at least once. Once the SMTP server has accepted a message, recording
it as sent comes first (before QUIT), and a database error there is retried with a
fresh connection, waiting at most ``RECORD_SENT_MAX_WAIT`` seconds between tries,
until the database answers (:func:`record_sent`): an outage or a restart of the
database does not make the message go out again. What remains is a worker killed
(or its machine lost) between the server's "250 accepted" and the commit of
"sent", a few milliseconds: the message is then sent again once the lease has
run out, with the same Message-ID. (With several workers, an outage longer than
the lease also lets another worker take the message when the database comes
back, if it polls before this worker's next try.)

The lease (``OUTBOX_LEASE_SECONDS``) must outlast any send: the SMTP
conversation of one message is cut off after half the lease (:class:`_Connection`),
and the lease must be at least twice ``MAIL_TIMEOUT`` (:func:`check_settings`),
so that one step waiting its full timeout still fits.
"""

import base64
import contextlib
import logging
import smtplib
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import flask_mail
import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import OutboxMessage, OutboxState, utcnow

logger = logging.getLogger("mediation.outbox")  # the outbox's log, as operators know it


@dataclass(frozen=True)
class Claimed:
    """A message taken by this worker: what is needed to send it, read before sending."""

    id: int
    message_id: str
    template: str
    recipient_email: str
    subject: str
    body_text: str
    body_html: str | None
    attachments: list
    created_dt: datetime
    attempts: int  # including this one
    lease_until: datetime  # the claim's token: the row's next_attempt_dt while it is ours


@dataclass
class Result:
    """What happened to one claimed message."""

    message: Claimed
    state: OutboxState  # sent, pending (will be retried) or dead
    error: str | None = None
    next_attempt_dt: datetime | None = None
    record_tries: int = 1  # how many tries recording the outcome took


def _setting(name: str):
    return current_app.config[name]


def lease_seconds() -> float:
    """How long a claimed message stays invisible to other workers (and cannot be requeued).

    A message held by a worker that died is sent by another one after this long.
    """
    return float(_setting("OUTBOX_LEASE_SECONDS"))


def send_budget() -> float:
    """The longest the SMTP conversation of one message may last: half the lease.

    The other half is the margin for recording the outcome and for the clocks of
    the workers' machines, which compute and compare the lease, not agreeing.
    """
    return lease_seconds() / 2


def check_settings() -> None:
    """Refuse a lease too short for a send: two workers could then send the same message.

    One SMTP step may wait ``MAIL_TIMEOUT``; the conversation is cut off after half
    the lease, so the lease must be at least twice ``MAIL_TIMEOUT``.
    """
    lease, timeout = lease_seconds(), float(_setting("MAIL_TIMEOUT"))
    if timeout <= 0 or lease < 2 * timeout:
        raise ValueError(
            f"OUTBOX_LEASE_SECONDS ({lease:g}) must be at least twice MAIL_TIMEOUT "
            f"({timeout:g}): a message still being sent would be sent again by another worker"
        )


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: doubling from the base, capped."""
    base = float(_setting("OUTBOX_BACKOFF_SECONDS"))
    cap = float(_setting("OUTBOX_BACKOFF_MAX"))
    return timedelta(seconds=min(cap, base * 2 ** min(max(attempts - 1, 0), 32)))


def _due(cutoff: datetime):
    return sa.and_(OutboxMessage.state == OutboxState.pending,
                   OutboxMessage.next_attempt_dt <= cutoff)


def claim_next(cutoff: datetime | None = None) -> Claimed | None:
    """Take the oldest message due at ``cutoff`` (default: now) and commit the claim.

    The claim counts the attempt and moves ``next_attempt_dt`` forward by the
    lease, so that no other worker takes the message while it is being sent.
    Returns None when nothing is due.
    """
    cutoff = cutoff or utcnow()
    max_attempts = int(_setting("OUTBOX_MAX_ATTEMPTS"))
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    try:
        while True:
            now = utcnow()
            candidate = (
                sa.select(OutboxMessage.id).where(_due(cutoff))
                .order_by(OutboxMessage.next_attempt_dt, OutboxMessage.id).limit(1)
            )
            if postgresql:
                # Rows another worker is claiming right now are skipped, not waited for.
                candidate = candidate.with_for_update(skip_locked=True)
            message_id = db.session.scalar(candidate)
            if message_id is None:
                db.session.commit()
                return None
            lease_until = now + timedelta(seconds=lease_seconds())
            # Safe without the row lock too (SQLite): only one UPDATE can match.
            claimed = db.session.execute(
                sa.update(OutboxMessage)
                .where(OutboxMessage.id == message_id, _due(cutoff))
                .values(next_attempt_dt=lease_until, leased_until=lease_until,
                        attempts=OutboxMessage.attempts + 1)
                .execution_options(synchronize_session=False)
            ).rowcount == 1
            if not claimed:
                db.session.commit()
                continue
            message = db.session.get(OutboxMessage, message_id, populate_existing=True)
            if message.attempts > max_attempts:
                # The previous, last allowed attempt never finished (the worker died).
                message.state = OutboxState.dead
                message.next_attempt_dt = now
                message.leased_until = None
                message.last_error = "interrupted: the worker stopped during the last attempt"
                logger.warning("dead %s to %s: %s", message.message_id,
                               message.recipient_email, message.last_error)
                db.session.commit()
                continue
            snapshot = Claimed(
                id=message.id, message_id=message.message_id, template=message.template,
                recipient_email=message.recipient_email, subject=message.subject,
                body_text=message.body_text, body_html=message.body_html,
                attachments=list(message.attachments or []), created_dt=message.created_dt,
                attempts=message.attempts, lease_until=lease_until,
            )
            db.session.commit()
            return snapshot
    except BaseException:
        db.session.rollback()
        raise


class _Connection(flask_mail.Connection):
    """Flask-Mail's SMTP connection, with a timeout on connecting and on every reply,
    and a limit on the whole conversation (``budget`` seconds): a server answering every
    step just in time cannot make a send outlast the lease."""

    def __init__(self, mail, timeout: float, budget: float | None = None):
        super().__init__(mail)
        self.timeout = timeout
        self.budget = budget
        self._watchdog: threading.Timer | None = None
        self.cut_off = False

    def _cut_off(self, host) -> None:
        self.cut_off = True
        with contextlib.suppress(OSError, AttributeError):
            host.sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked read: the send fails

    def configure_host(self):
        mail = self.mail
        smtp_class = smtplib.SMTP_SSL if mail.use_ssl else smtplib.SMTP
        started = time.monotonic()
        timeout = self.timeout if self.budget is None else min(self.timeout, self.budget)
        host = smtp_class(mail.server, mail.port, timeout=timeout)
        if self.budget is not None:
            remaining = max(0.0, self.budget - (time.monotonic() - started))
            self._watchdog = threading.Timer(remaining, self._cut_off, args=(host,))
            self._watchdog.daemon = True
            self._watchdog.start()
        try:
            host.set_debuglevel(int(mail.debug))
            if mail.use_tls:
                host.starttls()
            if mail.username and mail.password:
                host.login(mail.username, mail.password)
        except BaseException:
            host.close()
            raise
        return host

    def stop_watchdog(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None

    def __exit__(self, exc_type, exc_value, tb):
        self.stop_watchdog()
        if self.host is None:
            return
        if exc_type is None:
            # The mail was accepted; a failed goodbye does not change that.
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.host.quit()
        self.host.close()


def build_message(message: Claimed) -> flask_mail.Message:
    """The MIME message: text and HTML alternatives, the attachments, the stable Message-ID."""
    mail = flask_mail.Message(
        subject=message.subject,
        recipients=[message.recipient_email],
        body=message.body_text,
        html=message.body_html or None,
        sender=_setting("MAIL_DEFAULT_SENDER"),
        date=message.created_dt.timestamp(),
        extra_headers={"Auto-Submitted": "auto-generated"},
        attachments=[
            flask_mail.Attachment(
                filename=item.get("filename"),
                content_type=item.get("content_type"),
                data=base64.b64decode(item["data"]),
            )
            for item in message.attachments
        ],
    )
    mail.msgId = message.message_id
    return mail


def _connection() -> _Connection:
    return _Connection(current_app.extensions["mail"], float(_setting("MAIL_TIMEOUT")),
                       send_budget())


def deliver(message: Claimed) -> None:
    """Hand one message to the SMTP server; raises on any failure."""
    mail = build_message(message)
    with _connection() as connection:
        connection.send(mail)


def _describe(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}".strip()
    return text[:2000]


def send_one(message: Claimed) -> Result:
    """Send a claimed message and record the outcome (sent, retry later, or dead).

    The message is recorded as sent as soon as the server has accepted it, before
    the goodbye (QUIT, which may wait ``MAIL_TIMEOUT``): that keeps the window in
    which a dying worker causes a resend as short as it can be.
    """
    connection = _connection()
    try:
        mail = build_message(message)
        connection.__enter__()
        connection.send(mail)
        connection.stop_watchdog()
    except Exception as error:  # anything: the row records it and the worker goes on
        with contextlib.suppress(Exception):
            connection.__exit__(type(error), error, error.__traceback__)
        if connection.cut_off:
            error = TimeoutError(f"the SMTP conversation took longer than {send_budget():g} s"
                                 f" (half OUTBOX_LEASE_SECONDS); last error: {_describe(error)}")
        return record_failure(message, _describe(error))
    try:
        return record_sent(message)
    finally:
        connection.__exit__(None, None, None)


#: The longest wait, in seconds, between two tries of recording a sent message.
RECORD_SENT_MAX_WAIT = 2.0


def _transient(error: BaseException) -> bool:
    """A database error that may go away: a lost connection, a server restarting, a lock."""
    if not isinstance(error, sa.exc.DBAPIError):
        return False
    return error.connection_invalidated or isinstance(
        error, (sa.exc.OperationalError, sa.exc.InterfaceError))


def _pause(seconds: float) -> None:
    """Wait ``seconds``. Not time.sleep: under libfaketime 0.9.10 (CI runs the suite with
    the clock moved a year ahead) Python 3.11's sleep raises EINVAL (wolfcw/libfaketime#426),
    which would end the retries below with the mail sent and not recorded."""
    threading.Event().wait(seconds)


def record_sent(message: Claimed, sleep: Callable[[float], None] = _pause) -> Result:
    """Record that the server accepted the message, retrying until the database answers.

    The mail is gone: giving up here would leave the message leased, and another
    pass would send it again once the lease ran out. A transient database error
    (connection lost, server restarting, database locked) is retried with a fresh
    connection, after a wait doubling from 0.1 s up to ``RECORD_SENT_MAX_WAIT``; any
    other error is raised (a bug: retrying would not help). Only killing the
    process stops the retries.
    """
    wait, tries = 0.1, 0
    while True:
        tries += 1
        try:
            db.session.execute(
                sa.update(OutboxMessage).where(OutboxMessage.id == message.id)
                .values(state=OutboxState.sent, sent_dt=utcnow(), leased_until=None)
                .execution_options(synchronize_session=False)
            )
            db.session.commit()
        except BaseException as error:
            with contextlib.suppress(Exception):
                db.session.rollback()
            if not _transient(error):
                raise
            # A fresh session next time: the pool replaces an invalidated connection.
            with contextlib.suppress(Exception):
                db.session.close()
            logger.error("sent %s to %s but could not record it (try %d), retrying in %.1f s:"
                         " %s", message.message_id, message.recipient_email, tries, wait,
                         _describe(error))
            sleep(wait)
            wait = min(wait * 2, RECORD_SENT_MAX_WAIT)
            continue
        if tries > 1:
            logger.warning("recorded %s as sent after %d tries", message.message_id, tries)
        return Result(message, OutboxState.sent, record_tries=tries)


def record_failure(message: Claimed, error: str) -> Result:
    """Count the failed attempt: retry after the backoff, or give up after the last one."""
    now = utcnow()
    if message.attempts >= int(_setting("OUTBOX_MAX_ATTEMPTS")):
        state, next_attempt = OutboxState.dead, now
    else:
        state, next_attempt = OutboxState.pending, now + backoff(message.attempts)
    try:
        # Only while the claim is still ours: a requeue in the meantime wins.
        db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id == message.id,
                   OutboxMessage.state == OutboxState.pending,
                   OutboxMessage.next_attempt_dt == message.lease_until)
            .values(state=state, next_attempt_dt=next_attempt, last_error=error,
                    leased_until=None)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return Result(message, state, error=error,
                  next_attempt_dt=next_attempt if state == OutboxState.pending else None)


def drain(should_stop: Callable[[], bool] | None = None,
          on_result: Callable[[Result], None] | None = None) -> list[Result]:
    """Send every message due now, one at a time, until none is left or ``should_stop()``.

    Messages that fail are not tried again in the same pass, whatever the backoff.
    """
    cutoff = utcnow()
    results = []
    while not (should_stop and should_stop()):
        message = claim_next(cutoff)
        if message is None:
            break
        result = send_one(message)
        _log(result)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


def _log(result: Result) -> None:
    message = result.message
    if result.state == OutboxState.sent:
        logger.info("sent %s to %s (%s)", message.message_id, message.recipient_email,
                    message.template)
    else:
        logger.warning("%s %s to %s (attempt %d): %s",
                       "failed" if result.state == OutboxState.pending else "dead",
                       message.message_id, message.recipient_email, message.attempts,
                       result.error)
