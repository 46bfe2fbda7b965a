"""The mediator did not come (issue text: "The mediator's no-show, the teacher reports that
nobody came, is recorded, notifies the coordinator and counts per mediator"): who may
report it and when, what it records, the email to the Ambito's coordinators (once, in
their language), the request page's button and report, a log written after all shown as a
conflict, and the count on the coordinator's list of mediators (one query, scoped)."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from mediation.bookings import operations as ops
from mediation.bookings import policy
from mediation.bookings.operations import LogInput
from mediation.clock import in_rome
from mediation.errors import InvalidInput, InvalidTransition, NotAllowed
from mediation.extensions import db
from mediation.mediators.queries import mediator_list, no_show_counts
from mediation.models import (
    AssignmentState,
    AuditEvent,
    MediatorNoShow,
    OutboxMessage,
    Outcome,
    PreferredSlot,
    RequestState,
    Role,
    utcnow,
)

from tests.conftest import csrf_token, login
from tests.requests.test_requests_views import EN, error_for
from tests.scenarios.booking import rome


def started(booking, mediator=None, school=None, days_ago=1):
    """A confirmed appointment of the booking's school (or ``school``) that began
    ``days_ago`` days ago at 10:00 in Rome, not logged. Committed."""
    b = booking
    school = school or b.school
    start = rome(in_rome(utcnow()).date() - timedelta(days=days_ago), 10)
    requester = b.teacher if school is b.school else b.factory.user(Role.teacher, school=school)
    req = b.factory.request(school=school, project=b.project, requester=requester,
                            type=b.meeting, language=b.mediator.languages[0].language,
                            state=RequestState.confirmed)
    b.factory.add(PreferredSlot(request=req, position=1, start_dt=start,
                                end_dt=start + timedelta(hours=1)))
    b.factory.assignment(request=req, mediator=mediator or b.mediator, start=start,
                         end=start + timedelta(hours=1), state=AssignmentState.accepted)
    db.session.commit()
    return req


def no_show_mails():
    return list(db.session.scalars(sa.select(OutboxMessage).where(
        OutboxMessage.template == "booking", OutboxMessage.subject.contains("non è venuto")
        | OutboxMessage.subject.contains("did not come"))))


class TestTheOperation:
    def test_it_is_recorded_audited_and_mailed_to_the_coordinators_once(self, booking):
        b = booking
        english = b.factory.user(Role.coordinator, ambito=b.school.ambito, locale="en")
        b.factory.user(Role.coordinator, ambito=b.school.ambito, active=False)
        b.factory.user(Role.coordinator)  # another Ambito's
        req = started(b)
        report = ops.report_mediator_no_show(b.teacher, req, "  We waited 40 minutes ")
        db.session.commit()
        assert (report.mediator_id, report.request_id, report.reported_by_id, report.note) == (
            b.mediator.id, req.id, b.teacher.id, "We waited 40 minutes")
        assert req.state == RequestState.confirmed  # the coordinator decides
        event = db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.action == "request.no_show_reported")).one()
        assert (event.object_id, event.actor_id) == (req.id, b.teacher.id)
        mails = no_show_mails()
        assert sorted(m.recipient_email for m in mails) == sorted(
            [b.coordinator.email, english.email])
        by_address = {m.recipient_email: m for m in mails}
        assert by_address[english.email].subject.startswith("The mediator did not come")
        assert by_address[b.coordinator.email].subject.startswith("Il mediatore non è venuto")
        assert "We waited 40 minutes" in by_address[english.email].body_text
        assert b.mediator.user.display_name in by_address[english.email].body_text

    def test_a_lead_may_report_a_colleague_may_not(self, booking):
        b = booking
        req = started(b)
        colleague = b.factory.user(Role.teacher, school=b.school)
        db.session.commit()
        for user in (colleague, b.mediator.user, b.coordinator):
            with pytest.raises(NotAllowed):
                ops.report_mediator_no_show(user, req)
        assert ops.report_mediator_no_show(b.lead, req).reported_by_id == b.lead.id

    @pytest.mark.parametrize("days_ago", [-1, 8])
    def test_only_from_the_start_until_the_window_ends(self, booking, days_ago):
        req = started(booking, days_ago=days_ago)
        assert not policy.no_show_allowed(req, utcnow())
        with pytest.raises(InvalidTransition):
            ops.report_mediator_no_show(booking.teacher, req)

    def test_once_per_appointment_and_never_once_logged(self, booking):
        b = booking
        req = started(b)
        ops.report_mediator_no_show(b.teacher, req)
        db.session.commit()
        with pytest.raises(InvalidTransition):
            ops.report_mediator_no_show(b.lead, req)
        logged = started(b, mediator=b.factory.mediator(ambiti=[b.school.ambito]))
        active = policy.active_assignment(logged)
        ops.log_session(active.mediator.user, active, LogInput(
            outcome=Outcome.held, actual_start=active.start_dt, actual_end=active.end_dt,
            parents_met=1))
        db.session.commit()
        with pytest.raises(InvalidTransition):
            ops.report_mediator_no_show(b.teacher, logged)

    def test_the_mediator_may_still_log_and_the_conflict_shows(self, client, booking):
        b = booking
        req = started(b)
        ops.report_mediator_no_show(b.teacher, req, "Nobody came")
        db.session.commit()
        active = policy.active_assignment(req)
        assert policy.can_log(b.mediator.user, active, utcnow())
        ops.log_session(b.mediator.user, active, LogInput(
            outcome=Outcome.held, actual_start=active.start_dt, actual_end=active.end_dt,
            parents_met=1))
        db.session.commit()
        login(client, b.coordinator)
        page = client.get(f"/requests/{req.id}").get_data(as_text=True)
        assert "data-no-show-conflict" in page and "Nobody came" in page

    def test_a_note_too_long_is_refused(self, booking):
        with pytest.raises(InvalidInput) as error:
            ops.report_mediator_no_show(booking.teacher, started(booking), "x" * 1001)
        assert error.value.field == "note"


class TestThePage:
    def test_the_teacher_reports_from_the_page(self, client, booking):
        req = started(booking)
        login(client, booking.teacher)
        page = client.get(f"/requests/{req.id}", headers=EN).get_data(as_text=True)
        assert 'data-action="report_no_show"' in page and "The mediator did not come" in page
        response = client.post(f"/requests/{req.id}/no-show",
                               data={"csrf_token": csrf_token(page), "note": "Waited"})
        assert response.status_code == 302
        assert db.session.scalar(sa.select(sa.func.count(MediatorNoShow.id))) == 1
        page = client.get(f"/requests/{req.id}", headers=EN).get_data(as_text=True)
        assert "data-no-show" in page and "Waited" in page
        assert 'data-action="report_no_show"' not in page
        assert len(no_show_mails()) == 1
        # The mediator reads the report about them.
        login(client, booking.mediator.user)
        assert "data-no-show" in client.get(f"/requests/{req.id}").get_data(as_text=True)

    def test_a_note_too_long_comes_back_with_its_error(self, client, booking):
        req = started(booking)
        login(client, booking.teacher)
        page = client.get(f"/requests/{req.id}").get_data(as_text=True)
        response = client.post(f"/requests/{req.id}/no-show", headers=EN,
                               data={"csrf_token": csrf_token(page), "note": "y" * 1001})
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        assert error_for(html, "note") and "y" * 1001 in html
        assert db.session.scalar(sa.select(sa.func.count(MediatorNoShow.id))) == 0

    def test_another_school_gets_a_404(self, client, booking):
        req = started(booking)
        stranger = booking.factory.user(Role.teacher)
        colleague = booking.factory.user(Role.teacher, school=booking.school)
        db.session.commit()
        for user in (stranger, colleague):
            login(client, user)
            page = client.get("/").get_data(as_text=True)
            response = client.post(f"/requests/{req.id}/no-show",
                                   data={"csrf_token": csrf_token(page)})
            assert response.status_code == 404, user
        assert db.session.scalar(sa.select(sa.func.count(MediatorNoShow.id))) == 0
        assert no_show_mails() == []


class TestTheQueue:
    def test_the_coordinators_queue_lists_it_until_decided(self, client, booking):
        """The Ambito's coordinator finds the report at the top of the requests queue, with
        the note, until they cancel the request (or reassign it, or the mediator logs it);
        another Ambito's coordinator does not see it."""
        b = booking
        req = started(b)
        ops.report_mediator_no_show(b.teacher, req, "Nobody came, we waited")
        other = b.factory.user(Role.coordinator)  # another Ambito's
        db.session.commit()
        login(client, b.coordinator)
        page = client.get("/coordination/requests", headers=EN).get_data(as_text=True)
        assert f'data-no-show="{req.id}"' in page and "Nobody came, we waited" in page
        assert f"/requests/{req.id}#no-show" in page
        assert "The school reports that the mediator did not come: 1 appointment" in page
        login(client, other)
        page = client.get("/coordination/requests").get_data(as_text=True)
        assert "data-no-show=" not in page
        ops.cancel_request(b.coordinator, req, "other")
        db.session.commit()
        login(client, b.coordinator)
        page = client.get("/coordination/requests").get_data(as_text=True)
        assert "data-no-show=" not in page


class TestTheCount:
    def test_counted_per_mediator_in_the_coordinators_ambito(self, client, booking):
        b = booking
        other = b.factory.mediator(ambiti=[b.school.ambito])
        elsewhere = b.factory.school(b.factory.ambito())
        b.mediator.ambiti.append(elsewhere.ambito)
        db.session.commit()
        for mediator, days in ((b.mediator, 1), (b.mediator, 2), (other, 3)):
            req = started(b, mediator=mediator, days_ago=days)
            ops.report_mediator_no_show(b.teacher, req)
        away = started(b, school=elsewhere, days_ago=4)
        ops.report_mediator_no_show(away.requester, away)
        db.session.commit()
        ids = [b.mediator.id, other.id]
        assert no_show_counts(b.coordinator, ids) == {b.mediator.id: 2, other.id: 1}
        admin = b.factory.user(Role.admin)
        coordinator_away = b.factory.user(Role.coordinator, ambito=elsewhere.ambito)
        db.session.commit()
        assert no_show_counts(admin, ids) == {b.mediator.id: 3, other.id: 1}
        assert no_show_counts(admin, ids, elsewhere.ambito.id) == {b.mediator.id: 1}
        assert no_show_counts(coordinator_away, ids) == {b.mediator.id: 1}
        rows = {r.mediator.id: r.no_shows for r in mediator_list(b.coordinator, utcnow())}
        assert rows[b.mediator.id] == 2 and rows[other.id] == 1
        login(client, b.coordinator)
        page = client.get("/mediators").get_data(as_text=True)
        assert re.search(rf'data-mediator="{b.mediator.id}".*?data-no-shows="2"', page, re.S)
        week = client.get(f"/mediators/{b.mediator.id}/week").get_data(as_text=True)
        assert 'data-no-shows="2"' in week
        login(client, coordinator_away)
        week = client.get(f"/mediators/{b.mediator.id}/week").get_data(as_text=True)
        assert 'data-no-shows="1"' in week
        login(client, b.mediator.user)  # the mediator's own week shows no count
        assert "data-no-shows" not in client.get("/mediators/me/week").get_data(as_text=True)

    def test_the_list_costs_the_same_whatever_the_reports(self, app, booking, count_queries):
        b = booking
        mediators = [b.mediator] + [b.factory.mediator(ambiti=[b.school.ambito])
                                    for _ in range(3)]
        counts = []
        for mediator in mediators[:1], mediators[1:]:
            for days, each in enumerate(mediator, start=1):
                ops.report_mediator_no_show(b.teacher, started(b, mediator=each,
                                                               days_ago=days))
            db.session.commit()
            client = app.test_client()
            login(client, b.coordinator)
            with count_queries() as counter:
                assert client.get("/mediators").status_code == 200
            counts.append(counter.count)
        assert counts[0] == counts[1], counts
