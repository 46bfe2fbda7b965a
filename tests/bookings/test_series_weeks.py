"""One week of a weekly series changed alone (issue #19): cancelled, moved to another time,
or given to another mediator; the other weeks stay exactly as they were, and each change is
checked and notified as a single request's is."""

import base64
from datetime import timedelta

import pytest
import sqlalchemy as sa

from mediation.bookings import matching, policy
from mediation.bookings import operations as ops
from mediation.clock import in_rome
from mediation.errors import InvalidInput, InvalidTransition, NotAllowed
from mediation.extensions import db
from mediation.models import (
    AssignmentState,
    AuditEvent,
    BroadcastState,
    Closure,
    InvitationState,
    OutboxMessage,
    ProposalState,
    RequestState,
    Role,
    TimeProposal,
    utcnow,
)

from tests.scenarios.booking import rome, school_day, submitted, weekday_after


def confirmed_series(booking, weeks=4, hour=10):
    """A weekly series filed by the teacher, offered whole and accepted by the mediator."""
    series = ops.submit_series(booking.teacher, booking.slot_input(day=school_day(14),
                                                                   hour=hour), weeks)
    for assignment in ops.offer_series(booking.coordinator, series.requests[0],
                                       booking.mediator):
        ops.accept(booking.mediator.user, assignment)
    db.session.commit()
    return series


def open_series(booking, weeks=4):
    series = ops.submit_series(booking.teacher, booking.slot_input(day=school_day(14)), weeks)
    db.session.commit()
    return series


def snapshot(week):
    """Everything a change of another week must leave alone."""
    db.session.refresh(week)
    slot = week.slots[0]
    return (week.state, slot.start_dt, slot.end_dt, week.cancellation_reason, [
        (a.id, a.mediator_id, a.state, a.start_dt, a.end_dt, a.sequence)
        for a in week.assignments])


def others(series, changed):
    return [snapshot(w) for w in series.requests if w.id != changed.id]


def events_of(week):
    return list(db.session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.object_type == "MediationRequest", AuditEvent.object_id == week.id)
        .order_by(AuditEvent.id)))


def new_mails(after: int):
    return list(db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.id > after)
                                   .order_by(OutboxMessage.id)))


def last_mail_id() -> int:
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(OutboxMessage.id), 0)))


def calendar_methods(mail) -> set[str]:
    return {line.split(":", 1)[1].strip() for a in mail.attachments
            for line in base64.b64decode(a["data"]).decode().splitlines()
            if line.startswith("METHOD:")}


def the_day_after(week):
    start = week.slots[0].start_dt
    day = weekday_after(in_rome(start).date())
    return rome(day, in_rome(start).hour), rome(day, in_rome(start).hour + 1)


class TestCancelOneWeek:
    def test_only_that_week_is_cancelled(self, booking):
        series = confirmed_series(booking)
        second = series.requests[1]
        before = others(series, second)
        mark = last_mail_id()
        ops.cancel_request(booking.teacher, second, "family_unavailable")
        db.session.commit()
        assert second.state == RequestState.cancelled
        assert second.assignments[0].state == AssignmentState.cancelled
        assert others(series, second) == before
        # As a single cancellation: the mediator's appointment withdrawn from the calendar.
        mediator_mail = [m for m in new_mails(mark)
                         if m.recipient_email == booking.mediator.user.email]
        assert [calendar_methods(m) for m in mediator_mail] == [{"CANCEL"}]


class TestMoveOneWeek:
    def test_a_confirmed_week_is_offered_again_at_the_new_time(self, booking):
        series = confirmed_series(booking)
        third = series.requests[2]
        old = policy.active_assignment(third)
        before = others(series, third)
        start, end = the_day_after(third)
        mark = last_mail_id()
        new = ops.move_week(booking.teacher, third, start, end, "The family works on Mondays")
        db.session.commit()
        assert others(series, third) == before
        assert (third.slots[0].start_dt, third.slots[0].end_dt) == (start, end)
        assert third.state == RequestState.offered
        assert (old.state, old.sequence, old.end_reason) == (
            AssignmentState.superseded, 1, "The family works on Mondays")
        assert (new.mediator_id, new.state, new.start_dt, new.end_dt) == (
            booking.mediator.id, AssignmentState.offered, start, end)
        assert events_of(third)[-3:] == ["request.moved", "assignment.superseded",
                                         "assignment.offered"]
        mails = new_mails(mark)
        mediator = [m for m in mails if m.recipient_email == booking.mediator.user.email]
        # Withdrawn (its invitation cancelled), then offered at the new time.
        assert [calendar_methods(m) for m in mediator] == [{"CANCEL"}, set()]
        school = {m.recipient_email: calendar_methods(m) for m in mails
                  if m.recipient_email != booking.mediator.user.email}
        # The school held the invitation: each of them, the teacher who moved it too.
        assert school == {booking.teacher.email: {"CANCEL"}, booking.lead.email: {"CANCEL"}}

    def test_the_mediator_confirms_and_the_week_is_confirmed_again(self, booking):
        series = confirmed_series(booking)
        week = series.requests[0]
        start, end = the_day_after(week)
        new = ops.move_week(booking.coordinator, week, start, end, "Swap of days")
        db.session.commit()
        ops.accept(booking.mediator.user, new)
        db.session.commit()
        assert week.state == RequestState.confirmed
        assert week.appointment.start_dt == start

    def test_an_open_week_moves_its_time_and_declines_a_pending_proposal(self, booking):
        series = open_series(booking)
        second = series.requests[1]
        later = second.slots[0].start_dt + timedelta(days=1, hours=3)
        proposal = booking.factory.add(TimeProposal(
            request=second, mediator=booking.mediator, start_dt=later,
            end_dt=later + timedelta(hours=1), proposed_by=booking.coordinator))
        db.session.commit()
        before = others(series, second)
        start, end = the_day_after(second)
        mark = last_mail_id()
        assert ops.move_week(booking.teacher, second, start, end, "Exams that day") is None
        db.session.commit()
        assert others(series, second) == before
        assert (second.state, second.slots[0].start_dt) == (RequestState.open, start)
        assert proposal.state == ProposalState.declined
        # Nobody held it: the lead is told (the teacher moved it).
        assert [m.recipient_email for m in new_mails(mark)] == [booking.lead.email]

    def test_moving_an_open_week_withdraws_its_broadcast(self, booking):
        """Mediators invited to the old time are told the offer is over: nobody can
        accept a time the week no longer has."""
        series = open_series(booking)
        week = series.requests[1]
        ambito = booking.school.ambito
        other = booking.factory.mediator(ambiti=[ambito], ambito=ambito)
        slot = week.slots[0]
        broadcast = ops.broadcast_offer(booking.coordinator, week, [[booking.mediator, other]],
                                        slot.start_dt, slot.end_dt)
        db.session.commit()
        invitation = broadcast.invitations[0]
        start, end = the_day_after(week)
        mark = last_mail_id()
        ops.move_week(booking.teacher, week, start, end, "Exams that day")
        db.session.commit()
        assert broadcast.state == BroadcastState.withdrawn
        assert invitation.state == InvitationState.withdrawn
        assert week.open_broadcast is None and week.state == RequestState.open
        assert booking.mediator.user.email in [m.recipient_email for m in new_mails(mark)]
        with pytest.raises(InvalidTransition):
            ops.accept_invitation(booking.mediator.user, invitation)

    def test_a_busy_mediator_refuses_the_new_time_and_nothing_changes(self, booking):
        series = confirmed_series(booking)
        week = series.requests[1]
        start, end = the_day_after(week)
        other = submitted(booking, day=in_rome(start).date(), hour=in_rome(start).hour)
        ops.offer(booking.coordinator, other, booking.mediator, start, end)
        db.session.commit()
        every = [snapshot(w) for w in series.requests]
        with pytest.raises(InvalidInput) as refused:
            ops.move_week(booking.teacher, week, start, end, "Another day")
        db.session.rollback()
        assert refused.value.field == "date"
        assert str(matching.REASONS["busy"]) in str(refused.value.message)
        assert [snapshot(w) for w in series.requests] == every

    def test_over_the_weekly_cap_is_refused(self, booking):
        series = confirmed_series(booking, weeks=2)
        booking.mediator.weekly_hour_cap = 1
        db.session.commit()
        # Week 2 moved into week 1's week, where the mediator already has their hour.
        first, second = series.requests
        day = in_rome(first.slots[0].start_dt).date()
        day += timedelta(days=1 if day.weekday() < 4 else -1)  # another day of that week
        with pytest.raises(InvalidInput) as refused:
            ops.move_week(booking.coordinator, second, rome(day, 15), rome(day, 16), "x")
        assert str(matching.REASONS["over_cap"]) in str(refused.value.message)

    def test_a_closure_or_the_past_is_refused(self, booking):
        series = open_series(booking)
        week = series.requests[1]
        start, end = the_day_after(week)
        booking.factory.add(Closure(name="Sciopero", start_date=in_rome(start).date(),
                                    end_date=in_rome(start).date()))
        db.session.commit()
        with pytest.raises(InvalidInput) as refused:
            ops.move_week(booking.teacher, week, start, end, "x")
        assert refused.value.field == "date"
        db.session.rollback()
        yesterday = utcnow() - timedelta(days=1)
        with pytest.raises(InvalidInput):
            ops.move_week(booking.teacher, week, yesterday, yesterday + timedelta(hours=1), "x")

    def test_a_reason_is_needed(self, booking):
        week = open_series(booking).requests[0]
        start, end = the_day_after(week)
        with pytest.raises(InvalidInput) as refused:
            ops.move_week(booking.teacher, week, start, end, "  ")
        assert refused.value.field == "reason"

    def test_who_may_move(self, booking):
        week = open_series(booking).requests[0]
        start, end = the_day_after(week)
        f = booking.factory
        outsiders = [f.user(Role.teacher, school=booking.school),  # a colleague
                     f.user(Role.teacher), booking.mediator.user, f.user(Role.coordinator)]
        for user in outsiders:
            with pytest.raises(NotAllowed):
                ops.move_week(user, week, start, end, "x")
        for user in (booking.lead, booking.coordinator):
            assert policy.can_move(user, week, utcnow())

    def test_a_single_request_or_a_cancelled_week_is_not_moved(self, booking):
        single = submitted(booking)
        start, end = the_day_after(single)
        with pytest.raises(InvalidTransition):
            ops.move_week(booking.coordinator, single, start, end, "x")
        week = open_series(booking).requests[0]
        ops.cancel_request(booking.teacher, week, "duplicate")
        with pytest.raises(InvalidTransition):
            ops.move_week(booking.coordinator, week, start, end, "x")


class TestGiveOneWeekToAnotherMediator:
    def test_only_that_week_changes_mediator(self, booking):
        series = confirmed_series(booking)
        second = series.requests[1]
        spare = booking.factory.mediator(ambiti=[booking.mediator.ambiti[0]])
        db.session.commit()
        before = others(series, second)
        slot = second.slots[0]
        ops.reassign(booking.coordinator, second, spare, "Ill", slot.start_dt, slot.end_dt)
        db.session.commit()
        assert others(series, second) == before
        assert policy.active_assignment(second).mediator_id == spare.id
        assert second.state == RequestState.offered
