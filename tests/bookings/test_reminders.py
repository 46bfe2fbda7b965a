"""The reminder the day before and the request to log a session: due ones only, once."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from mediation import reminders
from mediation.extensions import db
from mediation.models import (
    AssignmentState,
    OutboxMessage,
    Outcome,
    RequestState,
    Role,
    SessionLog,
    utcnow,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday, 10:00 in Rome


@pytest.fixture
def app_config(app_config):
    app_config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_size": 12, "max_overflow": 0}
    return app_config


def confirmed(booking, start, *, responded=None, request_state=RequestState.confirmed,
              state=AssignmentState.accepted):
    f = booking.factory
    request = f.request(school=booking.school, requester=booking.teacher,
                        project=booking.project, type=booking.meeting,
                        language=booking.mediator.languages[0].language, state=request_state)
    assignment = f.assignment(request=request, mediator=booking.mediator, start=start,
                              end=start + timedelta(hours=1), state=state,
                              responded_dt=responded or start - timedelta(days=3))
    db.session.commit()
    return assignment


def mails():
    rows = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    return [(m.recipient_email, m.subject) for m in rows]


class TestReminders:
    def test_due_meeting_reminds_mediator_and_teacher_once(self, booking):
        assignment = confirmed(booking, NOW + timedelta(hours=20))
        sent = reminders.send_due(NOW)
        assert sent.reminders == 1
        recipients = sorted(email for email, _subject in mails())
        assert recipients == sorted([booking.mediator.user.email, booking.teacher.email])
        # Both in Italian, the default: the subject says what it is.
        assert all(subject.startswith("Promemoria") for _email, subject in mails())
        db.session.refresh(assignment)
        assert assignment.reminder_sent_dt == NOW
        # Run again a few minutes later: nothing new.
        assert reminders.send_due(NOW + timedelta(minutes=5)).reminders == 0
        assert len(mails()) == 2

    def test_in_the_recipients_language(self, booking):
        booking.teacher.locale = "en"
        confirmed(booking, NOW + timedelta(hours=20))
        reminders.send_due(NOW)
        subjects = dict(mails())
        assert subjects[booking.teacher.email].startswith("Reminder: ")
        assert subjects[booking.mediator.user.email].startswith("Promemoria: ")

    @pytest.mark.parametrize("case", ["too_early", "past", "confirmed_late", "cancelled",
                                      "only_offered"])
    def test_not_due(self, booking, case):
        if case == "too_early":
            confirmed(booking, NOW + timedelta(hours=30))
        elif case == "past":
            confirmed(booking, NOW - timedelta(hours=1))
        elif case == "confirmed_late":  # the confirmation has just gone out
            confirmed(booking, NOW + timedelta(hours=5), responded=NOW - timedelta(hours=1))
        elif case == "cancelled":
            confirmed(booking, NOW + timedelta(hours=20), request_state=RequestState.cancelled,
                      state=AssignmentState.cancelled)
        else:
            confirmed(booking, NOW + timedelta(hours=20), request_state=RequestState.offered,
                      state=AssignmentState.offered)
        assert reminders.send_due(NOW).reminders == 0
        assert not [s for _email, s in mails() if s.startswith("Promemoria")]

    def test_inactive_requester_is_skipped(self, booking):
        booking.teacher.active = False
        confirmed(booking, NOW + timedelta(hours=20))
        reminders.send_due(NOW)
        assert [email for email, _ in mails()] == [booking.mediator.user.email]


class TestLogRequests:
    def test_ended_session_without_log_asks_the_mediator_once(self, booking):
        assignment = confirmed(booking, NOW - timedelta(hours=3))
        sent = reminders.send_due(NOW)
        assert sent.log_requests == 1
        [(email, subject)] = mails()
        assert email == booking.mediator.user.email
        assert subject.startswith("Registra l'incontro")
        message = db.session.scalars(sa.select(OutboxMessage)).one()
        assert f"/agenda/assignments/{assignment.id}/log" in message.body_text
        assert reminders.send_due(NOW + timedelta(hours=1)).log_requests == 0

    def test_logged_or_old_sessions_are_left_alone(self, booking):
        logged = confirmed(booking, NOW - timedelta(hours=3))
        booking.factory.add(SessionLog(
            assignment=logged, outcome=Outcome.held, macro_action_id=1,
            actual_start_dt=logged.start_dt, actual_end_dt=logged.end_dt))
        confirmed(booking, NOW - timedelta(days=20))  # before the service sent these
        confirmed(booking, NOW + timedelta(hours=3))  # not over yet
        db.session.commit()
        assert reminders.send_due(NOW).log_requests == 0

    def test_cli(self, booking, runner, app):
        confirmed(booking, utcnow() - timedelta(hours=3))
        result = runner.invoke(args=["reminders", "send"])
        assert result.exit_code == 0, result.output
        assert "log requests queued: 1" in result.output
        result = runner.invoke(args=["reminders", "send"])
        assert "log requests queued: 0" in result.output


def test_two_runs_at_once_remind_once(app, booking):
    """Several schedulers (or a slow run overlapping the next) never remind twice."""
    for hours in (18, 19, 20, 21):
        confirmed(booking, NOW + timedelta(hours=hours))
    db.session.rollback()
    barrier = threading.Barrier(6)
    errors = []

    def run():
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                reminders.send_due(NOW)
            except Exception as error:  # a failure of the test
                errors.append(repr(error))
                db.session.rollback()

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    recipients = [email for email, _ in mails()]
    # Four meetings, two people each, each reminded once.
    assert len(recipients) == 8
    assert recipients.count(booking.mediator.user.email) == 4
    assert booking.lead.role == Role.lead  # the lead is not reminded of a teacher's meeting
    assert booking.lead.email not in recipients
