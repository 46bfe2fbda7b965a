"""A meeting by phone records the number to call: required on the form when the mode is
phone (checked like a school's telephone), shown to the school and the coordinators on the
request page, to the mediator holding the appointment (request page, agenda), in the
emails and the calendar invitation; moving a week keeps it; the retention purge blanks it."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from mediation.bookings import operations as ops
from mediation.bookings import policy, video
from mediation.core.operations import is_telephone
from mediation.errors import InvalidInput
from mediation.extensions import db
from mediation.models import MediationRequest, Mode, OutboxMessage, utcnow
from mediation.privacy.operations import purge

from tests.bookings.test_series_weeks import the_day_after
from tests.bookings.test_video import invitations
from tests.conftest import login
from tests.requests.test_requests_views import EN, error_for
from tests.scenarios.filing import World

NUMBER = "+39 0371 123456"
SHOWN = re.compile(r'data-call-number>([^<]*)<')


def confirmed(booking, number=NUMBER, mediator=None):
    mediator = mediator or booking.mediator
    request = ops.submit_request(booking.teacher, booking.slot_input(
        mode=Mode.phone, site_id=None, call_number=number))
    slot = request.slots[0]
    assignment = ops.offer(booking.coordinator, request, mediator, slot.start_dt, slot.end_dt)
    ops.accept(mediator.user, assignment)
    db.session.commit()
    return request, assignment


def test_the_telephone_check_is_shared():
    assert is_telephone("0371 123456") and is_telephone("+39 (0371) 12.34.56")
    assert not is_telephone("call me") and not is_telephone("12345")
    assert not is_telephone("0" * 31)


class TestTheForm:
    def test_phone_mode_requires_the_number_and_keeps_what_was_typed(self, client, factory):
        world = World(factory)
        db.session.commit()
        login(client, world.teacher)
        data = world.meeting_form(mode="phone", site="", call_number="",
                                  notes="Father works shifts")
        response = client.post("/requests/new/family_meeting", data=data, headers=EN)
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        assert "Give the number to call" in error_for(html, "call_number")
        assert "Father works shifts" in html
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MediationRequest)) == 0

    def test_a_number_that_is_not_one_is_refused(self, client, factory):
        world = World(factory)
        db.session.commit()
        login(client, world.teacher)
        data = world.meeting_form(mode="phone", site="", call_number="ask the secretary")
        response = client.post("/requests/new/family_meeting", data=data)
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        assert "Scrivi un numero di telefono" in error_for(html, "call_number")
        assert 'value="ask the secretary"' in html

    def test_the_number_is_stored_for_phone_mode_only(self, client, factory):
        world = World(factory)
        db.session.commit()
        login(client, world.teacher)
        data = world.meeting_form(mode="phone", site="", call_number="  0371   123456 ")
        assert client.post("/requests/new/family_meeting", data=data).status_code == 302
        request = db.session.scalars(sa.select(MediationRequest)).one()
        assert (request.mode, request.call_number) == (Mode.phone, "0371 123456")
        data = world.meeting_form(call_number="0371 999999")  # in person: ignored
        assert client.post("/requests/new/family_meeting", data=data).status_code == 302
        latest = db.session.scalars(sa.select(MediationRequest).order_by(
            MediationRequest.id.desc())).first()
        assert latest.mode == Mode.in_person and latest.call_number is None


def test_the_operation_refuses_a_phone_meeting_without_a_number(booking):
    with pytest.raises(InvalidInput) as error:
        ops.submit_request(booking.teacher, booking.slot_input(mode=Mode.phone, site_id=None))
    assert error.value.field == "call_number"


def test_who_sees_the_number_on_the_pages(client, booking):
    request, assignment = confirmed(booking)
    for user in (booking.teacher, booking.lead, booking.coordinator):
        login(client, user)
        page = client.get(f"/requests/{request.id}").get_data(as_text=True)
        assert NUMBER in SHOWN.findall(page), user.role
    login(client, booking.mediator.user)
    assert NUMBER in SHOWN.findall(client.get(f"/requests/{request.id}").get_data(as_text=True))
    assert SHOWN.findall(client.get("/agenda").get_data(as_text=True)) == [NUMBER]


def test_a_former_mediator_no_longer_sees_it(client, booking):
    request, old = confirmed(booking)
    other = booking.factory.mediator(ambiti=[booking.school.ambito])
    db.session.commit()
    slot = request.slots[0]
    new = ops.reassign(booking.coordinator, request, other, "Ill", slot.start_dt, slot.end_dt)
    db.session.commit()
    assert video.call_number(old) is None and video.call_number(new) == NUMBER
    assert not policy.sees_call_number(booking.mediator.user, request)
    assert policy.sees_call_number(other.user, request)


def test_the_emails_and_the_invitation_carry_the_number(booking):
    confirmed(booking)
    mails = list(db.session.scalars(sa.select(OutboxMessage).where(
        OutboxMessage.template == "booking")))
    to_mediator = [m for m in mails if m.recipient_email == booking.mediator.user.email]
    assert to_mediator and all(NUMBER in m.body_text for m in to_mediator)
    events = [e for m in mails for e in invitations(m)]
    assert events and all(str(e["LOCATION"]) == NUMBER for e in events)
    assert all(NUMBER in str(e["DESCRIPTION"]) for e in events)


def test_no_number_in_person(booking):
    request = ops.submit_request(booking.teacher, booking.slot_input(call_number=NUMBER))
    db.session.commit()
    assert request.call_number is None
    assert not policy.sees_call_number(booking.teacher, request)


def test_moving_a_week_keeps_the_number(booking):
    series = ops.submit_series(booking.teacher, booking.slot_input(
        mode=Mode.phone, site_id=None, call_number=NUMBER), 3)
    db.session.commit()
    assert {r.call_number for r in series.requests} == {NUMBER}
    second = series.requests[1]
    start, end = the_day_after(second)
    ops.move_week(booking.teacher, second, start, end, "Exams")
    db.session.commit()
    db.session.refresh(second)
    assert second.call_number == NUMBER


def test_the_purge_blanks_the_number(booking):
    request, _ = confirmed(booking)
    ops.cancel_request(booking.teacher, request, "other")
    db.session.commit()
    purge(utcnow() + timedelta(days=1))
    db.session.commit()
    db.session.refresh(request)
    assert request.call_number is None and request.mode == Mode.phone
