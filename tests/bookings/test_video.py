"""A meeting in video mode gets its room's link (issue #19): on the school's request page,
on the mediator's agenda, in the emails and as the calendar invitation's LOCATION; a
reassignment is a new appointment with a new room, and the old room's link disappears."""

import base64
import re

import sqlalchemy as sa
from icalendar import Calendar

from mediation.bookings import operations as ops
from mediation.bookings import policy, video
from mediation.extensions import db
from mediation.models import Mode, OutboxMessage

from tests.conftest import login

LINK = re.compile(r'href="(https://meet\.jit\.si/Mediazione[a-z2-7]{24})"[^>]*data-video-link')


def confirmed(booking, mode=Mode.video, mediator=None):
    where = {} if mode == Mode.in_person else {"site_id": None}
    request = ops.submit_request(booking.teacher, booking.slot_input(mode=mode, **where))
    slot = request.slots[0]
    assignment = ops.offer(booking.coordinator, request, mediator or booking.mediator,
                           slot.start_dt, slot.end_dt)
    ops.accept((mediator or booking.mediator).user, assignment)
    db.session.commit()
    return request, assignment


def invitations(mail) -> list:
    return [Calendar.from_ical(base64.b64decode(a["data"])).walk("VEVENT")[0]
            for a in mail.attachments if a["content_type"].startswith("text/calendar")]


def test_the_school_and_the_mediator_see_the_same_room(client, booking):
    request, assignment = confirmed(booking)
    link = video.video_link(assignment)
    assert link.startswith("https://meet.jit.si/Mediazione")
    login(client, booking.teacher)
    assert set(LINK.findall(client.get(f"/requests/{request.id}").get_data(as_text=True))) \
        == {link}
    login(client, booking.mediator.user)
    assert LINK.findall(client.get("/agenda").get_data(as_text=True)) == [link]
    login(client, booking.coordinator)
    assert set(LINK.findall(client.get(f"/requests/{request.id}").get_data(as_text=True))) \
        == {link}


def test_the_emails_and_the_invitation_carry_the_link(booking):
    _, assignment = confirmed(booking)
    link = video.video_link(assignment)
    mails = list(db.session.scalars(sa.select(OutboxMessage).where(
        OutboxMessage.template == "booking")))
    confirmation = [m for m in mails if m.recipient_email == booking.teacher.email][-1]
    assert link in confirmation.body_text
    events = [e for m in mails for e in invitations(m)]
    assert events and all(str(e["LOCATION"]) == link for e in events)
    assert all(link in str(e["DESCRIPTION"]) for e in events)


def test_a_reassignment_opens_a_new_room_and_closes_the_old(client, booking):
    request, old = confirmed(booking)
    old_link = video.video_link(old)
    other = booking.factory.mediator(ambiti=[booking.school.ambito])
    db.session.commit()
    mark = db.session.scalar(sa.select(sa.func.max(OutboxMessage.id)))
    slot = request.slots[0]
    new = ops.reassign(booking.coordinator, request, other, "Ill", slot.start_dt, slot.end_dt)
    db.session.commit()
    new_link = video.video_link(new)
    assert new_link and new_link != old_link
    assert video.video_link(old) is None  # superseded: no link any more
    login(client, booking.teacher)
    page = client.get(f"/requests/{request.id}").get_data(as_text=True)
    assert old_link not in page and new_link in page
    mails = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.id > mark))
    cancelled = [e for m in mails if m.recipient_email == booking.mediator.user.email
                 for e in invitations(m)]
    assert cancelled and all(old_link not in str(e["LOCATION"]) for e in cancelled)


def test_no_link_in_person_or_without_a_service(app, client, booking):
    request, assignment = confirmed(booking, mode=Mode.in_person)
    assert not policy.video_link_shown(assignment) and video.video_link(assignment) is None
    login(client, booking.teacher)
    assert "data-video-link" not in client.get(f"/requests/{request.id}").get_data(as_text=True)
    other = booking.factory.mediator(ambiti=[booking.school.ambito])
    db.session.commit()
    _, remote = confirmed(booking, mediator=other)
    assert video.video_link(remote)
    app.config["VIDEO_MEETING_BASE_URL"] = ""
    assert video.video_link(remote) is None


def test_the_room_is_stable_and_unguessable(booking):
    _, first = confirmed(booking)
    assert video.video_link(first) == video.video_link(first)
    assert len(video.room_name(first)) == len("Mediazione") + 24
