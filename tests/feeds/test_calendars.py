"""iCalendar: invitations attached to booking emails, and the private feeds."""

import base64
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from mediation import calendars
from mediation.bookings import operations as ops
from mediation.clock import ROME, to_utc
from mediation.extensions import db
from mediation.models import (
    AssignmentState,
    AuditEvent,
    Cycle,
    Mode,
    OutboxMessage,
    PupilCase,
    RequestState,
    Role,
    User,
    utcnow,
)

from tests.conftest import login
from tests.scenarios.booking import offered, rome, school_day, submitted

PUPIL_CODE = "LODI-2026-077"
NOTE = "Secret note about the family"


def parse(data: bytes) -> Calendar:
    calendar = Calendar.from_ical(data)
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
    return calendar


def the_event(calendar: Calendar):
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return events[0]


def confirmed(booking, **overrides):
    assignment = offered(booking, submitted(booking, **overrides))
    ops.accept(booking.mediator.user, assignment)
    db.session.commit()
    return assignment


def invitations(user, method=None) -> list[tuple[OutboxMessage, dict, Calendar]]:
    """(message, attachment, parsed calendar) of every invitation queued for ``user``."""
    found = []
    for message in db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.recipient_id == user.id)
            .order_by(OutboxMessage.id)):
        for item in message.attachments:
            calendar = parse(base64.b64decode(item["data"]))
            if method is None or calendar["METHOD"] == method:
                found.append((message, item, calendar))
    return found


def pupil_case(booking) -> PupilCase:
    return booking.factory.add(PupilCase(school=booking.school, code=PUPIL_CODE,
                                         class_name="3B", cycle=Cycle.primaria))


# --- the invitation itself ---------------------------------------------------


class TestInvitation:
    def test_uid_is_stable_and_sequence_bumped_on_cancel(self, booking):
        """REQUEST then CANCEL of one appointment: same UID, SEQUENCE goes up, CANCELLED."""
        assignment = confirmed(booking)
        request_cal = parse(calendars.invitation(assignment, "REQUEST"))
        event = the_event(request_cal)
        assert request_cal["METHOD"] == "REQUEST"
        assert str(event["UID"]) == f"assignment-{assignment.id}@127.0.0.1"
        assert event["SEQUENCE"] == 0 and event["STATUS"] == "CONFIRMED"
        assert event["ORGANIZER"] == f"mailto:{booking.coordinator.email}"
        assert str(event["ATTENDEE"]) == f"mailto:{booking.mediator.user.email}"
        assert "DTSTAMP" in event

        ops.cancel_request(booking.teacher, assignment.request, "no_longer_needed")
        db.session.commit()
        cancel_cal = parse(calendars.invitation(assignment, "CANCEL"))
        cancelled = the_event(cancel_cal)
        assert cancel_cal["METHOD"] == "CANCEL"
        assert cancelled["UID"] == event["UID"]
        assert cancelled["SEQUENCE"] == 1
        assert cancelled["STATUS"] == "CANCELLED"

    def test_reassignment_bumps_the_old_sequence(self, booking):
        """Superseding an appointment bumps its SEQUENCE; the new one has its own UID."""
        old = confirmed(booking)
        other = booking.factory.mediator(ambiti=[booking.school.ambito])
        new = ops.reassign(booking.coordinator, old.request, other, "Ill",
                           old.start_dt, old.end_dt)
        db.session.commit()
        cancelled = the_event(parse(calendars.invitation(old, "CANCEL")))
        assert cancelled["SEQUENCE"] == 1 and cancelled["STATUS"] == "CANCELLED"
        assert the_event(parse(calendars.invitation(new)))["UID"] != cancelled["UID"]

    @pytest.mark.parametrize(("day", "offset"), [
        (date(2026, 3, 27), timedelta(hours=1)),   # the Friday before summer time: CET
        (date(2026, 3, 30), timedelta(hours=2)),   # the Monday after: CEST
        (date(2026, 10, 23), timedelta(hours=2)),  # the Friday before winter time: CEST
        (date(2026, 10, 26), timedelta(hours=1)),  # the Monday after: CET
    ])
    def test_times_are_in_rome_with_a_vtimezone(self, booking, day, offset):
        """DTSTART/DTEND carry TZID=Europe/Rome and the wall time in Rome, either side of a
        daylight saving change; the VTIMEZONE itself gives the right offset."""
        start = to_utc(day, time(10, 30))
        request = booking.factory.request(school=booking.school, project=booking.project,
                                          requester=booking.teacher, type=booking.meeting,
                                          site=booking.school.sites[0])
        assignment = booking.factory.assignment(request=request, mediator=booking.mediator,
                                                start=start, end=start + timedelta(hours=1),
                                                offered_by=booking.coordinator)
        data = calendars.invitation(assignment)
        stamp = day.strftime("%Y%m%d")
        assert f"DTSTART;TZID=Europe/Rome:{stamp}T103000".encode() in data
        assert f"DTEND;TZID=Europe/Rome:{stamp}T113000".encode() in data
        calendar = parse(data)
        event = the_event(calendar)
        assert event["DTSTART"].params["TZID"] == "Europe/Rome"
        begins = event.decoded("DTSTART")
        assert (begins.hour, begins.minute) == (10, 30)
        assert begins.utcoffset() == offset
        assert begins.astimezone(UTC) == start
        timezones = calendar.walk("VTIMEZONE")
        assert [str(tz["TZID"]) for tz in timezones] == ["Europe/Rome"]
        own_rules = timezones[0].to_tz()
        assert datetime.combine(day, time(10, 30), tzinfo=own_rules).utcoffset() == offset

    def test_words_are_in_the_locale_and_never_the_pupil(self, booking):
        """SUMMARY says the kind of request and language; no pupil code nor note anywhere."""
        case = pupil_case(booking)
        booking.teacher.locale = "en"
        assignment = confirmed(booking, pupil_case=case, notes=NOTE)
        for recipient in (booking.teacher, booking.lead, booking.mediator.user):
            for _message, item, calendar in invitations(recipient):
                data = base64.b64decode(item["data"])
                assert PUPIL_CODE.encode() not in data and b"Secret" not in data
                assert NOTE not in calendar.to_ical().decode()
        english = the_event(invitations(booking.teacher, "REQUEST")[0][2])
        italian = the_event(invitations(booking.lead, "REQUEST")[0][2])
        assert str(english["SUMMARY"]).startswith(booking.meeting.name_en)
        assert str(italian["SUMMARY"]).startswith(booking.meeting.name_it)
        site = booking.school.sites[0]
        assert str(italian["LOCATION"]) == (
            f"{booking.school.name}, {site.name}, {site.address}, {site.municipality}")
        link = str(italian["URL"])
        assert re.fullmatch(rf"https?://[^/]+/requests/{assignment.request_id}", link)
        assert link in str(italian["DESCRIPTION"])

    def test_phone_meeting_has_no_address(self, booking):
        """Its place is the number to call (bookings/test_call_number.py)."""
        assignment = confirmed(booking, mode=Mode.phone, site_id=None,
                               call_number="0371 123456")
        event = the_event(parse(calendars.invitation(assignment)))
        assert str(event["LOCATION"]) == "0371 123456"

    def test_a_translation_has_no_event(self, booking):
        """A deadline has no time range: no attachment, and invitation() refuses."""
        deadline = rome(school_day(10), 12)
        request = ops.submit_request(booking.teacher, ops.RequestInput(
            type=booking.translation, language_id=booking.mediator.languages[0].language_id,
            deadline=deadline))
        assignment = ops.offer(booking.coordinator, request, booking.mediator)
        ops.accept(booking.mediator.user, assignment)
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) >= 3
        assert all(not m.attachments for m in db.session.scalars(sa.select(OutboxMessage)))
        assert calendars.attachment(assignment, "REQUEST", booking.teacher) is None
        with pytest.raises(ValueError):
            calendars.invitation(assignment)


# --- the emails --------------------------------------------------------------


class TestEmails:
    def test_confirmation_sends_request_to_school_and_mediator(self, booking):
        """Accepting: the requester, the lead and the mediator each get METHOD:REQUEST."""
        assignment = confirmed(booking)
        uid = calendars.event_uid(assignment)
        for user in (booking.teacher, booking.lead, booking.mediator.user):
            found = invitations(user)
            assert len(found) == 1, user.email
            message, item, calendar = found[0]
            assert calendar["METHOD"] == "REQUEST"
            assert item["content_type"] == "text/calendar; method=REQUEST; charset=UTF-8"
            assert item["filename"].endswith(".ics")
            event = the_event(calendar)
            assert event["UID"] == uid and event["STATUS"] == "CONFIRMED"
            assert "calendar" in message.body_text  # "calendario" once translated
        # The mediator's own mail says they accepted, not that "X has confirmed".
        mediator_mail = invitations(booking.mediator.user)[0][0]
        assert booking.mediator.user.display_name not in mediator_mail.subject
        # The offer itself carries no invitation.
        first = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).first()
        assert first.recipient_id == booking.mediator.user_id and not first.attachments

    def test_cancellation_sends_cancel_to_everyone_affected(self, booking):
        """Coordinator cancels a confirmed meeting: mediator, requester and lead get CANCEL."""
        assignment = confirmed(booking)
        ops.cancel_request(booking.coordinator, assignment.request, "school_event")
        db.session.commit()
        uid = calendars.event_uid(assignment)
        for user in (booking.teacher, booking.lead, booking.mediator.user):
            found = invitations(user, "CANCEL")
            assert len(found) == 1, user.email
            _message, item, calendar = found[0]
            assert item["content_type"].startswith("text/calendar; method=CANCEL")
            event = the_event(calendar)
            assert event["UID"] == uid
            assert event["STATUS"] == "CANCELLED" and event["SEQUENCE"] == 1
        assert invitations(booking.coordinator) == []

    def test_requester_who_cancels_gets_the_cancel_too(self, booking):
        """The teacher's calendar holds the confirmed meeting: their cancel removes it."""
        assignment = confirmed(booking)
        ops.cancel_request(booking.teacher, assignment.request, "family_unavailable")
        db.session.commit()
        assert len(invitations(booking.teacher, "CANCEL")) == 1
        assert len(invitations(booking.mediator.user, "CANCEL")) == 1

    def test_cancelled_offer_cancels_for_the_mediator_only(self, booking):
        """An offer never confirmed: the school never held an invitation, gets no CANCEL."""
        assignment = offered(booking)
        ops.cancel_request(booking.teacher, assignment.request, "duplicate")
        db.session.commit()
        found = invitations(booking.mediator.user, "CANCEL")
        assert len(found) == 1
        assert the_event(found[0][2])["UID"] == calendars.event_uid(assignment)
        lead_mails = db.session.scalars(sa.select(OutboxMessage).where(
            OutboxMessage.recipient_id == booking.lead.id)).all()
        assert len(lead_mails) == 1 and not lead_mails[0].attachments
        assert not db.session.scalars(sa.select(OutboxMessage).where(
            OutboxMessage.recipient_id == booking.teacher.id)).all()

    def test_reassignment_cancels_for_the_old_mediator(self, booking):
        """The superseded mediator gets CANCEL; the new one REQUEST once they accept."""
        old = confirmed(booking)
        other = booking.factory.mediator(ambiti=[booking.school.ambito])
        new = ops.reassign(booking.coordinator, old.request, other, "Ill",
                           old.start_dt, old.end_dt)
        db.session.commit()
        found = invitations(booking.mediator.user, "CANCEL")
        assert len(found) == 1
        event = the_event(found[0][2])
        assert event["UID"] == calendars.event_uid(old) and event["STATUS"] == "CANCELLED"
        # The school's copy of the old appointment is withdrawn too.
        assert [the_event(c)["UID"] for _m, _i, c in invitations(booking.teacher, "CANCEL")] \
            == [calendars.event_uid(old)]
        assert invitations(other.user) == []  # an offer: nothing to put in a calendar yet
        ops.accept(other.user, new)
        db.session.commit()
        found = invitations(other.user, "REQUEST")
        assert len(found) == 1 and the_event(found[0][2])["UID"] == calendars.event_uid(new)
        teacher_requests = [the_event(c)["UID"]
                            for _m, _i, c in invitations(booking.teacher, "REQUEST")]
        assert teacher_requests == [calendars.event_uid(old), calendars.event_uid(new)]


# --- the feeds ---------------------------------------------------------------


def feed_url(user: User) -> str:
    return f"/calendar/{user.calendar_token}.ics"


def with_token(user: User) -> User:
    from mediation.feeds import operations as feed_ops

    feed_ops.create_token(user)
    db.session.commit()
    return user


def uids(response) -> set[str]:
    return {str(e["UID"]) for e in Calendar.from_ical(response.data).walk("VEVENT")}


def add_assignment(booking, mediator=None, school=None, days=3, hour=9,
                   state=AssignmentState.accepted, **kw):
    """An assignment ``days`` from now (negative: in the past) at ``hour`` in Rome."""
    f = booking.factory
    school = school or booking.school
    kw_request = {"requester": booking.teacher} if school is booking.school else {}
    request = f.request(school=school, project=booking.project, type=booking.meeting,
                        site=school.sites[0], notes=NOTE, state=RequestState.confirmed,
                        **kw_request)
    start = to_utc((utcnow() + timedelta(days=days)).astimezone(ROME).date(), time(hour))
    kw.setdefault("offered_by", booking.coordinator)
    return f.assignment(request=request, mediator=mediator or booking.mediator, start=start,
                        end=start + timedelta(hours=1), state=state, **kw)


class TestFeed:
    def test_mediator_feed_lists_own_current_appointments(self, client, booking):
        f = booking.factory
        other = f.mediator(ambiti=[booking.school.ambito])
        mine = [add_assignment(booking, days=5),
                add_assignment(booking, days=6, state=AssignmentState.offered),
                add_assignment(booking, days=-10)]
        gone = [add_assignment(booking, days=7, state=AssignmentState.cancelled),
                add_assignment(booking, days=-40)]
        others = add_assignment(booking, mediator=other, days=5)
        with_token(booking.mediator.user)

        response = client.get(feed_url(booking.mediator.user))

        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
        assert "private" in response.headers["Cache-Control"]
        assert "Set-Cookie" not in response.headers
        calendar = parse(response.data)
        assert "METHOD" not in calendar
        assert str(calendar["X-WR-CALNAME"]).endswith(booking.mediator.user.display_name)
        assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H" in response.data
        assert uids(response) == {calendars.event_uid(a) for a in mine}
        assert calendars.event_uid(others) not in uids(response)
        assert not {calendars.event_uid(a) for a in gone} & uids(response)
        statuses = {str(e["UID"]): str(e["STATUS"]) for e in calendar.walk("VEVENT")}
        assert statuses[calendars.event_uid(mine[1])] == "TENTATIVE"
        assert statuses[calendars.event_uid(mine[0])] == "CONFIRMED"
        assert all(e["DTSTART"].params["TZID"] == "Europe/Rome"
                   for e in calendar.walk("VEVENT"))
        assert calendar.walk("VTIMEZONE")
        assert NOTE.encode() not in response.data
        # The same answer again is a 304 for a client that kept the ETag.
        again = client.get(feed_url(booking.mediator.user),
                           headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304

    def test_coordinator_feed_is_their_ambito_only(self, client, booking):
        f = booking.factory
        here = add_assignment(booking, days=4)
        elsewhere_school = f.school()
        elsewhere_mediator = f.mediator(ambiti=[elsewhere_school.ambito])
        elsewhere = add_assignment(booking, mediator=elsewhere_mediator,
                                   school=elsewhere_school, days=4)
        with_token(booking.coordinator)

        response = client.get(feed_url(booking.coordinator))

        assert response.status_code == 200
        assert uids(response) == {calendars.event_uid(here)}
        assert calendars.event_uid(elsewhere) not in uids(response)
        event = Calendar.from_ical(response.data).walk("VEVENT")[0]
        assert booking.mediator.user.display_name in str(event["SUMMARY"])

    def test_unknown_token_is_404(self, client, booking):
        with_token(booking.mediator.user)
        assert client.get("/calendar/not-a-real-token.ics").status_code == 404
        assert client.get("/calendar/" + "a" * 300 + ".ics").status_code == 404
        assert client.get(feed_url(booking.mediator.user).upper()).status_code == 404

    def test_regenerate_replaces_the_token(self, client, booking):
        """Regenerating (logged in, POST) kills the old URL; both steps are audited."""
        mediator = booking.mediator.user
        login(client, mediator)
        assert 'id="calendar-feed"' in client.get("/account").text
        response = client.post("/account/calendar-feed")
        assert response.status_code == 302 and "#calendar-feed" in response.headers["Location"]
        db.session.expire_all()
        first = db.session.get(User, mediator.id).calendar_token
        assert first and len(first) >= 43
        page = client.get("/account").text
        assert re.search(rf'value="https?://[^/"]+/calendar/{first}\.ics" readonly', page)
        assert re.search(rf'href="webcal://[^/"]+/calendar/{first}\.ics"', page)
        assert client.get(f"/calendar/{first}.ics").status_code == 200

        assert client.post("/account/calendar-feed/regenerate").status_code == 302
        db.session.expire_all()
        second = db.session.get(User, mediator.id).calendar_token
        assert second != first
        assert client.get(f"/calendar/{first}.ics").status_code == 404
        assert client.get(f"/calendar/{second}.ics").status_code == 200
        actions = list(db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.object_type == "User",
                                               AuditEvent.object_id == mediator.id)
            .where(AuditEvent.action.like("calendar_feed.%")).order_by(AuditEvent.id)))
        assert actions == ["calendar_feed.created", "calendar_feed.regenerated"]
        events = db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.action.like("calendar_feed.%"))).all()
        assert all(first not in str(e.data) and second not in str(e.data) for e in events)

    def test_regenerate_needs_login(self, client, booking):
        with_token(booking.mediator.user)
        token = booking.mediator.user.calendar_token
        response = client.post("/account/calendar-feed/regenerate")
        assert response.status_code == 302 and "/login" in response.headers["Location"]
        db.session.expire_all()
        assert db.session.get(User, booking.mediator.user_id).calendar_token == token

    def test_regenerate_needs_the_csrf_token(self, app, client, booking):
        with_token(booking.mediator.user)
        token = booking.mediator.user.calendar_token
        login(client, booking.mediator.user)
        app.config["WTF_CSRF_ENABLED"] = True
        try:
            response = client.post("/account/calendar-feed/regenerate")
            assert response.status_code == 400
            db.session.expire_all()
            assert db.session.get(User, booking.mediator.user_id).calendar_token == token
            page = client.get("/account").text
            csrf = re.search(r'action="/account/calendar-feed/regenerate"[^>]*>\s*'
                             r'<input type="hidden" name="csrf_token" value="([^"]+)"', page)
            response = client.post("/account/calendar-feed/regenerate",
                                   data={"csrf_token": csrf.group(1)})
            assert response.status_code == 302
        finally:
            app.config["WTF_CSRF_ENABLED"] = False
        db.session.expire_all()
        assert db.session.get(User, booking.mediator.user_id).calendar_token != token

    @pytest.mark.parametrize("role", ["teacher", "lead"])
    def test_school_staff_have_no_feed(self, client, booking, role):
        user = getattr(booking, role)
        login(client, user)
        assert 'id="calendar-feed"' not in client.get("/account").text
        assert client.post("/account/calendar-feed").status_code == 404
        db.session.expire_all()
        assert db.session.get(User, user.id).calendar_token is None
        # A token set by other means opens nothing either.
        db.session.get(User, user.id).calendar_token = "x" * 43
        db.session.commit()
        assert client.get("/calendar/" + "x" * 43 + ".ics").status_code == 404

    def test_inactive_user_feed_is_404(self, client, booking):
        user = with_token(booking.mediator.user)
        url = feed_url(user)
        user.active = False
        db.session.commit()
        assert client.get(url).status_code == 404

    @pytest.mark.parametrize("role", [Role.mediator, Role.coordinator])
    def test_query_count_does_not_grow(self, client, booking, count_queries, role):
        """A feed of 20 appointments takes as many queries as a feed of 2."""
        f = booking.factory
        ambito = booking.school.ambito
        user = booking.mediator.user if role == Role.mediator else booking.coordinator
        with_token(user)

        def measure(first, total):
            for n in range(first, first + total):
                # A coordinator sees many mediators, offered by several coordinators.
                if role == Role.mediator:
                    mediator, by = booking.mediator, booking.coordinator
                else:
                    mediator = f.mediator(ambiti=[ambito])
                    by = f.user(Role.coordinator, ambito=ambito)
                add_assignment(booking, mediator=mediator, days=1 + n, hour=9, offered_by=by)
            db.session.commit()
            db.session.expire_all()
            with count_queries() as counter:
                response = client.get(feed_url(user))
            assert response.status_code == 200
            return counter.count, len(Calendar.from_ical(response.data).walk("VEVENT"))

        small, small_events = measure(0, 2)
        large, large_events = measure(2, 18)
        assert large_events > small_events >= 1
        assert large == small

