"""The policy's predicates for the family's answer, and the operation, without HTTP."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from mediation.bookings import policy
from mediation.extensions import db
from mediation.family import operations
from mediation.models import (
    AssignmentState,
    FamilyAnswer,
    OutboxMessage,
    RequestState,
    Role,
)

from tests.scenarios.booking import now


@pytest.fixture
def issued(app, meeting):
    with app.test_request_context():
        invitation, token = operations.issue(meeting.assignment)
        db.session.commit()
    return invitation, token


def test_open_until_the_meeting_ends(meeting, issued):
    invitation, _ = issued
    assert policy.family_answer_open(invitation, now())
    assert policy.family_answer_open(invitation, meeting.end - timedelta(seconds=1))
    assert not policy.family_answer_open(invitation, meeting.end)
    assert not policy.family_answer_open(invitation, meeting.end + timedelta(days=1))


@pytest.mark.parametrize("state", [s for s in RequestState if s != RequestState.confirmed])
def test_closed_in_any_other_request_state(meeting, issued, state):
    invitation, _ = issued
    meeting.request.state = state
    assert not policy.family_answer_open(invitation, now())


@pytest.mark.parametrize("state", [s for s in AssignmentState if s != AssignmentState.accepted])
def test_closed_once_its_assignment_is_no_longer_the_accepted_one(meeting, issued, state):
    invitation, _ = issued
    meeting.assignment.state = state
    assert not policy.family_answer_open(invitation, now())


def test_who_sees_the_answer(booking, factory, meeting):
    req = meeting.request
    other_school = factory.school(booking.school.ambito)
    elsewhere = factory.ambito()
    assert policy.sees_family_answer(booking.teacher, req)
    assert policy.sees_family_answer(booking.lead, req)
    assert policy.sees_family_answer(booking.coordinator, req)
    assert policy.sees_family_answer(factory.user(Role.admin), req)
    assert not policy.sees_family_answer(booking.mediator.user, req)
    assert not policy.sees_family_answer(factory.user(Role.teacher, school=other_school), req)
    assert not policy.sees_family_answer(factory.user(Role.coordinator, ambito=elsewhere), req)
    assert policy.actions(booking.teacher, req, now()).family_answer
    assert not policy.actions(booking.mediator.user, req, now()).family_answer


def test_the_token_is_derived_not_stored(app, meeting, issued):
    invitation, token = issued
    assert len(token) == 22 and operations.TOKEN.fullmatch(token)
    assert token not in (invitation.nonce, invitation.token_hash)
    with app.test_request_context():
        again, same = operations.issue(meeting.assignment)
    assert again.id == invitation.id and same == token
    # Another secret, another token: a copy of the database opens nothing.
    app.config["SECRET_KEY"] = "another-secret"
    with app.test_request_context():
        assert operations.issue(meeting.assignment)[1] != token
        with pytest.raises(operations.LinkClosed):
            operations.find(operations.issue(meeting.assignment)[1], now())


def test_answer_records_the_latest_and_notifies_only_on_a_change_to_a_problem(
        app, booking, meeting, issued):
    invitation, token = issued

    def queued():
        return db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)))

    with app.test_request_context():
        operations.answer(token, FamilyAnswer.coming, now())
        assert invitation.answer == FamilyAnswer.coming and queued() == 0
        operations.answer(token, FamilyAnswer.not_coming, now())
        assert queued() == 2  # the requester and the coordinator
        operations.answer(token, FamilyAnswer.not_coming, now())
        assert queued() == 2
        later = now() + timedelta(minutes=5)
        operations.answer(token, FamilyAnswer.another_day, later)
        assert queued() == 4
        assert invitation.answer == FamilyAnswer.another_day
        assert invitation.answered_at == later
        with pytest.raises(operations.LinkClosed):
            operations.answer(token, FamilyAnswer.coming, meeting.end)
        with pytest.raises(operations.LinkClosed):
            operations.answer("A" * 22, FamilyAnswer.coming, now())
