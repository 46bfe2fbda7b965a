"""The outbox worker against a real SMTP server (aiosmtpd) running in the test.

Runs on whichever database the suite runs on; the SKIP LOCKED test needs PostgreSQL.
"""

import asyncio
import base64
import email
import email.policy
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta

import icalendar
import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from mediation import PROJECT_ROOT
from mediation.bookings import operations as ops
from mediation.extensions import db
from mediation.models import Assignment, AuditEvent, OutboxMessage, OutboxState, Role, utcnow
from mediation.outbox import operations as outbox_ops
from mediation.outbox import worker as outbox_worker

from tests.conftest import backend


class Collector:
    """An aiosmtpd handler that keeps every mail it is given."""

    def __init__(self):
        self.lock = threading.Lock()
        self.mails = []  # (rcpt_tos, parsed message)

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.original_content or envelope.content,
                                          policy=email.policy.default)
        with self.lock:
            self.mails.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"

    def message_ids(self) -> Counter:
        with self.lock:
            return Counter(str(m["Message-ID"]) for _, m in self.mails)

    def by_recipient(self) -> dict:
        with self.lock:
            result = {}
            for rcpt_tos, message in self.mails:
                for rcpt in rcpt_tos:
                    result.setdefault(rcpt, []).append(message)
            return result


class SmtpServer:
    """An SMTP server on a fixed local port that a test can stop and start again."""

    def __init__(self, port: int):
        self.port = port
        self.collector = Collector()
        self.controller = None

    def start(self):
        self.controller = Controller(self.collector, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_port():
    return free_port()


@pytest.fixture
def app_config(app_config, smtp_port):
    app_config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_port, MAIL_TIMEOUT=2,
                      OUTBOX_MAX_ATTEMPTS=8, OUTBOX_BACKOFF_SECONDS=60,
                      OUTBOX_BACKOFF_MAX=3600)
    # Two workers at once, each with its own connection.
    app_config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_size": 10, "max_overflow": 0}
    return app_config


@pytest.fixture
def smtp(smtp_port):
    """The SMTP server, not started: a test starts it when it wants it up."""
    server = SmtpServer(smtp_port)
    yield server
    server.stop()


@pytest.fixture
def smtp_up(smtp):
    smtp.start()
    return smtp


def run_once(runner):
    """``flask outbox run --once``, with nothing of this test's session left open."""
    db.session.commit()
    result = runner.invoke(args=["outbox", "run", "--once"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return result


def rows() -> list[OutboxMessage]:
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def backoff_elapsed():
    """Make every pending message due, as if its backoff had passed."""
    db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.state == OutboxState.pending)
                       .values(next_attempt_dt=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def confirm_assignment(booking):
    """Offer the teacher's request to the mediator, who accepts: three mails."""
    request = ops.submit_request(booking.teacher, booking.slot_input())
    db.session.commit()
    slot = request.slots[0]
    assignment = ops.offer(booking.coordinator, request, booking.mediator, slot.start_dt,
                           slot.end_dt)
    db.session.commit()
    ops.accept(booking.mediator.user, assignment)
    db.session.commit()
    return request


def add_message(factory, n: int, **kw) -> OutboxMessage:
    kw.setdefault("message_id", f"<test-{n}-{factory.n()}@mediazione.example.org>")
    kw.setdefault("template", "booking")
    kw.setdefault("recipient_email", f"someone{n}@example.org")
    kw.setdefault("locale", "it")
    kw.setdefault("subject", f"Messaggio {n}")
    kw.setdefault("body_text", f"Testo {n}\n")
    kw.setdefault("body_html", f"<p>Testo {n}</p>")
    kw.setdefault("next_attempt_dt", utcnow() - timedelta(seconds=5))
    return factory.add(OutboxMessage(**kw))


# --- delivery ------------------------------------------------------------------


def test_confirmed_assignment_delivers_the_expected_mails(booking, runner, smtp_up):
    """Offer + accept: each queued mail arrives once at its recipient, in their language,
    with the row's Message-ID; the mediator has the offer, the teacher and the lead the
    confirmation; nobody else gets anything."""
    booking.teacher.locale = "en"
    booking.lead.locale = "it"
    booking.mediator.user.locale = "it"
    confirm_assignment(booking)
    queued = {m.message_id: m for m in rows()}
    people = {booking.teacher.email, booking.lead.email, booking.mediator.user.email}
    assert {m.recipient_email for m in queued.values()} == people

    result = run_once(runner)

    assert smtp_up.collector.message_ids() == Counter({i: 1 for i in queued})
    received = smtp_up.collector.by_recipient()
    assert set(received) == people
    expected_subject = {
        booking.mediator.user.email: "Nuova proposta di mediazione: ",
        booking.teacher.email: "Mediator confirmed: ",
        booking.lead.email: "Mediatore confermato: ",
    }
    for address, mails in received.items():
        # (A long subject is folded after "Subject:"; Python's parser keeps the space.)
        subjects = [m["Subject"].strip() for m in mails]
        assert any(s.startswith(expected_subject[address]) for s in subjects), subjects
        for mail in mails:
            row = queued[mail["Message-ID"]]
            assert row.recipient_email == address and mail["To"] == address
            assert mail["Subject"].strip() == row.subject
            assert mail["Auto-Submitted"] == "auto-generated"
            # Text and HTML alternatives of the same message.
            assert any(p.get_content_type() == "multipart/alternative" for p in mail.walk())
            text = mail.get_body(preferencelist=("plain",)).get_content()
            assert text.replace("\r\n", "\n").strip() == row.body_text.strip()
            html = mail.get_body(preferencelist=("html",))
            assert html.get_content_type() == "text/html" and "</" in html.get_content()
    # The confirmation reaches the teacher, the lead and the mediator with an invitation
    # their calendar can read: METHOD:REQUEST, one event at the assignment's time.
    assignment = db.session.scalars(sa.select(Assignment)).one()
    for address in people:
        invitations = [part for mail in received[address] for part in mail.walk()
                       if part.get_content_type() == "text/calendar"]
        assert len(invitations) == 1, address
        calendar = icalendar.Calendar.from_ical(invitations[0].get_payload(decode=True))
        assert calendar["METHOD"] == "REQUEST"
        [event] = calendar.walk("VEVENT")
        assert event.decoded("DTSTART") == assignment.start_dt
        assert str(event["UID"]).startswith(f"assignment-{assignment.id}@")
    for row in rows():
        assert row.state == OutboxState.sent and row.sent_dt is not None
        assert row.attempts == 1 and row.last_error is None
    assert result.output.count(" sent <") == len(queued)


def test_attachments_are_sent(factory, runner, smtp_up):
    """The attachments of the row arrive byte for byte, beside the text and HTML parts."""
    payload = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    row = add_message(factory, 1, attachments=[
        {"filename": "invito.ics", "content_type": "text/calendar",
         "data": base64.b64encode(payload).decode()},
        {"filename": "nota.pdf", "content_type": "application/pdf",
         "data": base64.b64encode(b"%PDF-1.4 \x00\xff").decode()},
    ])
    run_once(runner)
    (mail,) = smtp_up.collector.by_recipient()[row.recipient_email]
    attachments = {part.get_filename(): part for part in mail.iter_attachments()}
    assert set(attachments) == {"invito.ics", "nota.pdf"}
    assert attachments["invito.ics"].get_content_type() == "text/calendar"
    assert attachments["invito.ics"].get_payload(decode=True) == payload
    assert attachments["nota.pdf"].get_payload(decode=True) == b"%PDF-1.4 \x00\xff"
    assert mail.get_body(preferencelist=("plain",)).get_content().strip() == "Testo 1"
    assert "<p>Testo 1</p>" in mail.get_body(preferencelist=("html",)).get_content()


def test_a_rolled_back_operation_queues_nothing(booking, runner, smtp_up):
    """The offer's mail is written in the offer's transaction: a rollback takes it away."""
    request = ops.submit_request(booking.teacher, booking.slot_input())
    db.session.commit()
    slot = request.slots[0]
    ops.offer(booking.coordinator, request, booking.mediator, slot.start_dt, slot.end_dt)
    db.session.flush()
    assert len(rows()) == 1  # queued, inside the transaction
    db.session.rollback()
    assert rows() == []
    run_once(runner)
    assert smtp_up.collector.mails == []


# --- failures and retries ----------------------------------------------------------


def test_smtp_down_loses_nothing_and_everything_arrives_once(booking, runner, smtp):
    """Server down: every message stays pending with its error and a growing wait;
    once it is back, each arrives exactly once."""
    confirm_assignment(booking)
    queued = rows()
    assert len(queued) >= 3

    before = utcnow()
    result = run_once(runner)
    assert result.output.count(" failed <") == len(queued)
    for row in rows():
        assert row.state == OutboxState.pending
        assert row.attempts == 1
        assert "refused" in row.last_error.lower() or "errno" in row.last_error.lower()
        assert before + timedelta(seconds=59) <= row.next_attempt_dt
        assert row.next_attempt_dt <= utcnow() + timedelta(seconds=61)

    run_once(runner)  # nothing is due yet: no attempt is spent
    assert {row.attempts for row in rows()} == {1}

    backoff_elapsed()
    before = utcnow()
    run_once(runner)
    for row in rows():
        assert (row.state, row.attempts) == (OutboxState.pending, 2)
        # The wait doubles.
        assert before + timedelta(seconds=119) <= row.next_attempt_dt
        assert row.next_attempt_dt <= utcnow() + timedelta(seconds=121)

    smtp.start()
    backoff_elapsed()
    run_once(runner)
    run_once(runner)
    backoff_elapsed()
    run_once(runner)
    assert smtp.collector.message_ids() == Counter({row.message_id: 1 for row in queued})
    assert {(row.state, row.attempts) for row in rows()} == {(OutboxState.sent, 3)}


def test_dead_after_the_last_attempt_then_requeued(app, factory, runner, smtp):
    """After OUTBOX_MAX_ATTEMPTS failures the message is dead, and the worker leaves it;
    a requeue (audited) gives it a fresh start and it is sent."""
    app.config["OUTBOX_MAX_ATTEMPTS"] = 3
    admin = factory.user(Role.admin)
    row = add_message(factory, 1)
    for attempt in (1, 2, 3):
        run_once(runner)
        db.session.refresh(row)
        assert row.attempts == attempt
        assert row.state == (OutboxState.dead if attempt == 3 else OutboxState.pending)
        backoff_elapsed()
    assert row.last_error
    assert row.state == OutboxState.dead

    smtp.start()
    row.next_attempt_dt = utcnow() - timedelta(hours=1)
    run_once(runner)  # a dead message is not sent, even when "due"
    assert smtp.collector.mails == []

    outbox_ops.requeue(admin, row)
    db.session.commit()
    assert (row.state, row.attempts) == (OutboxState.pending, 0)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "outbox.requeued"))
    assert (event.object_id, event.actor_id) == (row.id, admin.id)
    assert event.data == {"previous_state": "dead", "attempts": 3}

    run_once(runner)
    assert smtp.collector.message_ids() == Counter({row.message_id: 1})
    db.session.refresh(row)
    assert row.state == OutboxState.sent


def test_requeueing_a_sent_message_is_refused(factory):
    admin = factory.user(Role.admin)
    row = add_message(factory, 1, state=OutboxState.sent, sent_dt=utcnow())
    with pytest.raises(outbox_ops.AlreadySent):
        outbox_ops.requeue(admin, row)


def test_backoff_doubles_up_to_the_cap(app):
    app.config.update(OUTBOX_BACKOFF_SECONDS=60, OUTBOX_BACKOFF_MAX=3600)
    waits = [outbox_worker.backoff(n).total_seconds() for n in range(1, 10)]
    assert waits == [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]


class TestTimeout:
    """A server that accepts the connection and never answers costs MAIL_TIMEOUT, not a hang."""

    @pytest.fixture
    def silent_listener(self):
        with socket.create_server(("127.0.0.1", 0)) as server:  # listens, never accepts
            yield server.getsockname()[1]

    @pytest.fixture
    def smtp_port(self, silent_listener):
        return silent_listener

    def test_timeout_is_honoured(self, app, factory, runner):
        app.config["MAIL_TIMEOUT"] = 1
        row = add_message(factory, 1)
        started = time.monotonic()
        run_once(runner)
        elapsed = time.monotonic() - started
        assert elapsed < 6, elapsed
        db.session.refresh(row)
        assert (row.state, row.attempts) == (OutboxState.pending, 1)
        assert "timed out" in row.last_error


# --- claiming ------------------------------------------------------------------------


def test_a_claimed_message_is_hidden_until_its_lease_runs_out(app, factory):
    """While one worker sends a message, another does not take it; if the first one dies,
    the message is due again once the lease has passed (and the attempt was counted)."""
    row = add_message(factory, 1)
    db.session.commit()
    claimed = outbox_worker.claim_next()
    assert claimed.id == row.id and claimed.attempts == 1
    assert outbox_worker.claim_next() is None
    db.session.refresh(row)
    assert row.next_attempt_dt >= utcnow() + timedelta(seconds=outbox_worker.lease_seconds() - 5)
    row.next_attempt_dt = utcnow() - timedelta(seconds=1)  # the lease ran out
    db.session.commit()
    again = outbox_worker.claim_next()
    assert again.id == row.id and again.attempts == 2


def test_a_worker_dying_during_the_last_attempt_leaves_the_message_dead(app, factory):
    app.config["OUTBOX_MAX_ATTEMPTS"] = 3
    row = add_message(factory, 1, attempts=3)  # the third claim's lease ran out
    db.session.commit()
    assert outbox_worker.claim_next() is None
    db.session.refresh(row)
    assert row.state == OutboxState.dead and "interrupted" in row.last_error


def test_a_failure_does_not_undo_a_requeue_made_meanwhile(app, factory):
    admin = factory.user(Role.admin)
    row = add_message(factory, 1)
    db.session.commit()
    claimed = outbox_worker.claim_next()
    # The worker is slow: its lease ran out, so the message may be requeued.
    db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == row.id)
                       .values(leased_until=utcnow() - timedelta(seconds=1)))
    outbox_ops.requeue(admin, db.session.get(OutboxMessage, row.id))
    db.session.commit()
    outbox_worker.record_failure(claimed, "SMTPServerDisconnected: gone")
    db.session.refresh(row)
    assert (row.state, row.attempts, row.last_error) == (OutboxState.pending, 0, None)


@pytest.mark.skipif(backend() != "postgresql", reason="SKIP LOCKED is PostgreSQL's")
def test_a_row_being_claimed_is_skipped_not_waited_for(app, factory):
    """On PostgreSQL a row locked by another worker's claim is skipped at once."""
    first = add_message(factory, 1, next_attempt_dt=utcnow() - timedelta(minutes=2))
    second = add_message(factory, 2, next_attempt_dt=utcnow() - timedelta(minutes=1))
    db.session.commit()
    with db.engine.connect() as other:
        other.execute(sa.select(OutboxMessage.id).where(OutboxMessage.id == first.id)
                      .with_for_update())
        # Without SKIP LOCKED the claim would wait: fail fast instead of hanging.
        db.session.execute(sa.text("SET LOCAL lock_timeout = '3s'"))
        claimed = outbox_worker.claim_next()
        assert claimed.id == second.id
        other.rollback()
    assert outbox_worker.claim_next().id == first.id


def test_two_workers_never_send_the_same_message_twice(app, factory, smtp_up):
    """Two workers drain 40 messages at the same time: each arrives exactly once."""
    ids = [add_message(factory, n).message_id for n in range(40)]
    db.session.commit()
    barrier = threading.Barrier(2)
    outcomes = [None, None]

    def worker(i):
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                outcomes[i] = len(outbox_worker.drain())
            except Exception as error:  # reported below
                outcomes[i] = f"error: {type(error).__name__}: {error}"

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(isinstance(o, int) for o in outcomes), outcomes
    assert sum(outcomes) == 40, outcomes
    assert smtp_up.collector.message_ids() == Counter({i: 1 for i in ids})
    db.session.expire_all()
    assert {row.state for row in rows()} == {OutboxState.sent}


# --- the long-running worker -------------------------------------------------------


def test_the_worker_polls_and_stops_on_sigterm(app, factory, smtp_up, smtp_port):
    """`flask outbox run` sends what is queued while it runs and exits cleanly on SIGTERM."""
    first = add_message(factory, 1)
    db.session.commit()
    env = dict(os.environ,
               MEDIATION_SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
               MEDIATION_MAIL_SERVER="127.0.0.1", MEDIATION_MAIL_PORT=str(smtp_port),
               MEDIATION_MAIL_BACKEND="outbox", MEDIATION_SECRET_KEY="test")
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "mediation", "outbox", "run",
         "--interval", "0.2"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        def wait_for(count):
            deadline = time.monotonic() + 30
            while len(smtp_up.collector.mails) < count and time.monotonic() < deadline:
                assert worker.poll() is None, worker.communicate()
                # Not time.sleep: under libfaketime 0.9.10 (CI's run with the clock moved)
                # Python 3.11's sleep gets EINVAL (wolfcw/libfaketime#426).
                threading.Event().wait(0.05)
            assert len(smtp_up.collector.mails) == count

        wait_for(1)
        second = add_message(factory, 2, next_attempt_dt=utcnow())
        db.session.commit()
        wait_for(2)
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=20)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert worker.returncode == 0, err
    assert f"sent {first.message_id}" in out and f"sent {second.message_id}" in out
    assert "SIGTERM" in err and "outbox worker stopped" in out
    assert smtp_up.collector.message_ids() == Counter({first.message_id: 1,
                                                       second.message_id: 1})


# --- the database going away after the server accepted a mail ---------------------


class DatabaseOutage:
    """Makes the test's database refuse the worker for ``seconds``, for real.

    PostgreSQL: connections to the database are refused (ALLOW_CONNECTIONS false) and
    its backends, the worker's included, are terminated, as when the server restarts.
    SQLite: another connection holds the exclusive lock, and the worker's connections
    give up after 50 ms instead of 30 s ("database is locked").
    """

    def __init__(self, app, seconds: float):
        self.url = sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
        self.seconds = seconds
        self.timer = None
        self.sqlite_lock = None
        self.admin = None
        if self.url.get_backend_name() == "postgresql":
            self.admin = sa.create_engine(self.url.set(database="postgres"),
                                          isolation_level="AUTOCOMMIT",
                                          poolclass=sa.pool.NullPool)
        else:
            @sa.event.listens_for(db.engine, "checkout")
            def short_busy_timeout(dbapi_connection, record, proxy):
                dbapi_connection.execute("PRAGMA busy_timeout = 50")

    def _allow(self, allowed: bool):
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'ALTER DATABASE "{self.url.database}" '
                                 f'ALLOW_CONNECTIONS {"true" if allowed else "false"}')
            if not allowed:
                conn.execute(sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"),
                    {"name": self.url.database})

    def start(self):
        if self.admin is not None:
            self._allow(False)
        else:
            import sqlite3
            self.sqlite_lock = sqlite3.connect(self.url.database, isolation_level=None,
                                               check_same_thread=False)
            self.sqlite_lock.execute("BEGIN EXCLUSIVE")
        self.timer = threading.Timer(self.seconds, self.end)
        self.timer.start()

    def end(self):
        if self.admin is not None:
            self._allow(True)
        elif self.sqlite_lock is not None:
            self.sqlite_lock.execute("COMMIT")
            self.sqlite_lock.close()
            self.sqlite_lock = None

    def close(self):
        if self.timer is not None:
            self.timer.cancel()
        self.end()
        if self.admin is not None:
            self.admin.dispose()


class OutageOnDelivery(Collector):
    """Keeps the mail, then takes the database away before answering "250 accepted"."""

    def __init__(self, outage: DatabaseOutage):
        super().__init__()
        self.outage = outage
        self.started = False

    async def handle_DATA(self, server, session, envelope):
        answer = await super().handle_DATA(server, session, envelope)
        if not self.started:
            self.started = True
            self.outage.start()
        return answer


@pytest.fixture
def outage(app):
    outage = DatabaseOutage(app, seconds=1.5)
    yield outage
    outage.close()


def test_a_mail_accepted_is_recorded_once_the_database_is_back(app, factory, runner, smtp,
                                                              outage):
    """The server accepts the mail, then the database goes away for 1.5 s: the worker
    keeps trying to record it as sent (with a new connection each time) until the
    database answers, instead of leaving the lease to run out; later passes, even after
    the lease would have run out, do not send it again."""
    row = add_message(factory, 1)
    db.session.commit()
    row_id, message_id = row.id, row.message_id
    smtp.collector = OutageOnDelivery(outage)
    smtp.start()

    started = time.monotonic()
    result = runner.invoke(args=["outbox", "run", "--once"])
    elapsed = time.monotonic() - started
    outage.timer.join(timeout=10)  # the database is back
    db.session.remove()
    db.engine.dispose()  # the pooled connections the outage killed
    for _ in range(2):
        # As if every lease had run out: a message left leased would go out again.
        db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.state ==
                                                          OutboxState.pending)
                           .values(next_attempt_dt=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        runner.invoke(args=["outbox", "run", "--once"])

    assert smtp.collector.message_ids() == Counter({message_id: 1})
    db.session.expire_all()
    row = db.session.get(OutboxMessage, row_id)
    assert (row.state, row.attempts, row.leased_until) == (OutboxState.sent, 1, None)
    assert row.last_error is None and row.sent_dt is not None
    assert result.exit_code == 0, result.output
    tries = int(re.search(r"recorded after (\d+) tries", result.output).group(1))
    assert tries >= 3, result.output  # it did fail, several times
    assert elapsed >= 1.4 and elapsed < 10, elapsed


def test_a_non_transient_error_recording_a_sent_mail_is_not_retried(app, factory,
                                                                     monkeypatch):
    """A bug (not a lost connection nor a lock) is raised at once: retrying would not help."""
    add_message(factory, 1)
    db.session.commit()
    claimed = outbox_worker.claim_next()
    sleeps = []

    def broken_update(*args, **kwargs):
        raise sa.exc.ProgrammingError("UPDATE outbox_messages", {}, Exception("syntax error"))

    monkeypatch.setattr(db.session, "execute", broken_update)
    with pytest.raises(sa.exc.ProgrammingError):
        outbox_worker.record_sent(claimed, sleep=sleeps.append)
    assert sleeps == []


# --- the lease -------------------------------------------------------------------------


class HoldFirstDelivery(Collector):
    """Holds the first mail's DATA unanswered until ``release`` is set, then refuses it
    (451); keeps the following ones."""

    def __init__(self):
        super().__init__()
        self.first_data = threading.Event()
        self.first_data_at = None
        self.release = threading.Event()
        self.kept_at = []

    async def handle_DATA(self, server, session, envelope):
        if not self.first_data.is_set():
            self.first_data_at = time.monotonic()
            self.first_data.set()
            while not self.release.is_set():
                await asyncio.sleep(0.02)
            return "451 Requested action aborted: try again later"
        answer = await super().handle_DATA(server, session, envelope)
        self.kept_at.append(time.monotonic())
        return answer


def worker_process(app, smtp_port, **env):
    env = dict(os.environ,
               MEDIATION_SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
               MEDIATION_MAIL_SERVER="127.0.0.1", MEDIATION_MAIL_PORT=str(smtp_port),
               MEDIATION_MAIL_BACKEND="outbox", MEDIATION_SECRET_KEY="test", **env)
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "mediation", "outbox", "run",
         "--interval", "0.2"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_a_killed_workers_message_is_sent_after_the_lease(app, factory, smtp, smtp_port):
    """A worker killed (SIGKILL) while the server holds its mail leaves the message leased:
    another worker sends it once OUTBOX_LEASE_SECONDS have passed, not before, and not
    ten minutes later."""
    lease = 4
    row = add_message(factory, 1)
    db.session.commit()
    smtp.collector = HoldFirstDelivery()
    smtp.start()
    settings = {"MEDIATION_OUTBOX_LEASE_SECONDS": str(lease), "MEDIATION_MAIL_TIMEOUT": "2"}
    workers = [worker_process(app, smtp_port, **settings)]
    try:
        assert smtp.collector.first_data.wait(timeout=30), workers[0].communicate(timeout=5)
        workers[0].send_signal(signal.SIGKILL)
        workers[0].communicate(timeout=10)
        smtp.collector.release.set()
        db.session.expire_all()
        leased = db.session.get(OutboxMessage, row.id)
        assert leased.state == OutboxState.pending and leased.attempts == 1
        assert leased.leased_until > utcnow()
        db.session.commit()  # (on SQLite the test's transaction holds the write lock)

        workers.append(worker_process(app, smtp_port, **settings))
        deadline = time.monotonic() + lease + 15
        while not smtp.collector.kept_at and time.monotonic() < deadline:
            assert workers[1].poll() is None, workers[1].communicate()
            threading.Event().wait(0.05)  # not time.sleep: see test_the_worker_polls...
        assert smtp.collector.kept_at, "not sent again within the lease + 15 s"
        waited = smtp.collector.kept_at[0] - smtp.collector.first_data_at
        # The lease started at the claim, a moment before the server saw DATA. The second
        # worker may take seconds to start on a loaded machine; the old lease (at least
        # 10 x MAIL_TIMEOUT = 20 s) stays outside the bound.
        assert lease - 1 <= waited <= lease + 12, waited
        workers[1].send_signal(signal.SIGTERM)
        out, err = workers[1].communicate(timeout=20)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.communicate()
    assert f"sent {row.message_id}" in out
    assert smtp.collector.message_ids() == Counter({row.message_id: 1})
    db.session.expire_all()
    row = db.session.get(OutboxMessage, row.id)
    assert (row.state, row.attempts, row.leased_until) == (OutboxState.sent, 2, None)


def test_the_worker_refuses_a_lease_shorter_than_two_smtp_timeouts(app, factory, runner,
                                                                   smtp_up):
    """A lease the SMTP timeout could outlast would let two workers send one message."""
    app.config.update(OUTBOX_LEASE_SECONDS=50, MAIL_TIMEOUT=30)
    add_message(factory, 1)
    db.session.commit()
    result = runner.invoke(args=["outbox", "run", "--once"])
    assert result.exit_code != 0
    assert "OUTBOX_LEASE_SECONDS (50) must be at least twice MAIL_TIMEOUT (30)" in result.output
    assert smtp_up.collector.mails == []
    app.config["OUTBOX_LEASE_SECONDS"] = 60
    run_once(runner)
    assert len(smtp_up.collector.mails) == 1


class SlowSteps(Collector):
    """Answers RCPT and DATA each after ``delay`` seconds: every step within the timeout."""

    def __init__(self, delay: float):
        super().__init__()
        self.delay = delay

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        await asyncio.sleep(self.delay)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


def test_a_send_is_cut_off_after_half_the_lease(app, factory, runner, smtp):
    """Each step answered just within MAIL_TIMEOUT cannot stretch a send past the lease:
    the conversation is cut off after half of it, and the attempt counts as failed."""
    app.config.update(OUTBOX_LEASE_SECONDS=4, MAIL_TIMEOUT=2)
    row = add_message(factory, 1)
    db.session.commit()
    smtp.collector = SlowSteps(delay=1.5)
    smtp.start()
    started = time.monotonic()
    run_once(runner)
    elapsed = time.monotonic() - started
    db.session.refresh(row)
    assert (row.state, row.attempts) == (OutboxState.pending, 1)
    assert "took longer than 2 s" in row.last_error
    assert elapsed < 2.9, elapsed  # RCPT + DATA would have taken 3 s
