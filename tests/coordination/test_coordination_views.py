"""The coordinator's pages: the queue, offers and reassignments, cancellations, log approvals."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import render_template

from mediation.bookings import policy
from mediation.clock import ROME
from mediation.extensions import db
from mediation.models import (
    Absence,
    Assignment,
    AssignmentState,
    LogState,
    MediationRequest,
    OutboxMessage,
    ProposalState,
    RequestState,
    Role,
    SessionLog,
    TimeProposal,
    Urgency,
)
from mediation.requests.forms import CancelForm

from tests.conftest import Auth, login
from tests.scenarios.booking import rome
from tests.scenarios.coordination import free_on_tuesday_afternoons, make_world, next_week, running

EN = {"Accept-Language": "en"}


@pytest.fixture
def coordinator(client, world):
    login(client, world.coordinator)
    return client


def listed(html: str) -> list[int]:
    """Ids of the requests in the queue, in page order."""
    return [int(i) for i in re.findall(r'id="request-(\d+)"', html)]


def chip_count(html: str, state: str) -> int:
    return int(re.search(rf'data-state="{state}" data-count="(\d+)"', html).group(1))


def candidate_html(html: str, mediator) -> str:
    """The part of the offer page about one mediator."""
    start = html.index(f'id="candidate-{mediator.id}"')
    end = html.find('id="candidate-', start + 10)
    return html[start:end if end != -1 else len(html)]


def outbox_for(user) -> list[OutboxMessage]:
    return db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.recipient_id == user.id)
    ).all()


# --- the queue -------------------------------------------------------------


def test_queue_shows_open_requests_of_the_ambito_by_default(coordinator, world, factory):
    """By default the queue lists the Ambito's open requests, with counts per status."""
    open_one = world.request()
    open_two = world.request(school=world.other_school)
    offered = world.request(state=RequestState.offered)
    cancelled = world.request(state=RequestState.cancelled)
    elsewhere = factory.request(state=RequestState.open)
    db.session.commit()
    response = coordinator.get("/coordination/requests", headers=EN)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert set(listed(html)) == {open_one.id, open_two.id}
    assert elsewhere.id not in listed(html) and offered.id not in listed(html)
    assert chip_count(html, "open") == 2
    assert chip_count(html, "offered") == 1
    assert chip_count(html, "cancelled") == 1
    assert f'/coordination/requests/{open_one.id}/offer' in html
    assert f'/coordination/requests/{offered.id}/offer' not in html

    html = coordinator.get("/coordination/requests?status=all", headers=EN).get_data(True)
    assert set(listed(html)) == {open_one.id, open_two.id, offered.id, cancelled.id}
    html = coordinator.get("/coordination/requests?status=offered", headers=EN).get_data(True)
    assert listed(html) == [offered.id]


def test_queue_filters(coordinator, world, factory):
    """School, language, type, urgency and date filters narrow the list and the counts."""
    plain = world.request(slots=((0, 10),))
    other_school = world.request(school=world.other_school, slots=((1, 10),))
    ukrainian = world.request(language=factory.language("uk"), slots=((2, 10),))
    urgent = world.request(urgency=Urgency.urgent, slots=((3, 10),))
    translation = world.translation_request()  # due on Wednesday
    db.session.commit()

    def ids(query):
        response = coordinator.get(f"/coordination/requests?{query}", headers=EN)
        assert response.status_code == 200
        return set(listed(response.get_data(as_text=True)))

    assert ids(f"school={world.other_school.id}") == {other_school.id}
    assert ids(f"language={ukrainian.language_id}") == {ukrainian.id}
    assert ids(f"type={world.translation.id}") == {translation.id}
    assert ids("urgency=urgent") == {urgent.id}
    tuesday, wednesday = next_week(1).isoformat(), next_week(2).isoformat()
    assert ids(f"date_from={tuesday}&date_to={wednesday}") == {
        other_school.id, ukrainian.id, translation.id}
    assert ids(f"date_from={next_week(3).isoformat()}") == {urgent.id}
    assert ids(f"date_to={next_week(0).isoformat()}") == {plain.id}
    # Counts follow the other filters.
    html = coordinator.get(f"/coordination/requests?school={world.other_school.id}",
                           headers=EN).get_data(as_text=True)
    assert chip_count(html, "open") == 1
    # Nonsense values are ignored, never an error.
    assert ids("school=abc&status=nope&date_from=yesterday&sort=x") == {
        plain.id, other_school.id, ukrainian.id, urgent.id, translation.id}


def test_queue_sorting_and_age(coordinator, world):
    """Urgent requests first, then the oldest, by default; the oldest first; or by date of
    the meeting; ages read "N days"."""
    now = datetime.now(UTC)
    old = world.request(created_dt=now - timedelta(days=3), slots=((4, 10),))
    urgent = world.request(created_dt=now - timedelta(days=1), urgency=Urgency.urgent,
                           slots=((2, 10),))
    soon = world.request(created_dt=now - timedelta(days=2), slots=((0, 9),))
    older_urgent = world.request(created_dt=now - timedelta(days=2, hours=1),
                                 urgency=Urgency.urgent, slots=((3, 10),))
    db.session.commit()
    html = coordinator.get("/coordination/requests", headers=EN).get_data(as_text=True)
    assert listed(html) == [older_urgent.id, urgent.id, old.id, soon.id]
    assert "3 days" in html
    # The form says which order is shown.
    assert re.search(r'<option selected value="urgency">|<option value="urgency" selected',
                     html)
    html = coordinator.get("/coordination/requests?sort=urgency", headers=EN).get_data(True)
    assert listed(html) == [older_urgent.id, urgent.id, old.id, soon.id]
    html = coordinator.get("/coordination/requests?sort=age", headers=EN).get_data(True)
    assert listed(html) == [old.id, older_urgent.id, soon.id, urgent.id]
    html = coordinator.get("/coordination/requests?sort=date", headers=EN).get_data(True)
    assert listed(html) == [soon.id, urgent.id, older_urgent.id, old.id]


def test_queue_is_paginated(app, coordinator, world):
    """The queue shows PER_PAGE requests a page, oldest first across pages."""
    app.config["PER_PAGE"] = 2
    now = datetime.now(UTC)
    requests = [world.request(created_dt=now - timedelta(hours=10 - i)) for i in range(5)]
    db.session.commit()
    pages = [listed(coordinator.get(f"/coordination/requests?page={p}").get_data(True))
             for p in (1, 2, 3)]
    assert pages == [[r.id for r in requests[0:2]], [r.id for r in requests[2:4]],
                     [requests[4].id]]
    html = coordinator.get("/coordination/requests?page=1&urgency=normal").get_data(True)
    assert "urgency=normal" in html and "page=2" in html


def _queue_rows(world, factory, n):
    mediator = world.mediator()
    for i in range(n):
        state = RequestState.offered if i % 2 else RequestState.open
        req = world.request(language=factory.language(f"q{factory.n()}"),
                            type=factory.request_type(), state=state,
                            school=factory.school(world.school.ambito),
                            slots=((i % 5, 8 + (i // 5) % 8),))
        if state == RequestState.offered:
            start = rome(next_week(i % 5), 8) + timedelta(days=7 * i)
            factory.assignment(request=req, mediator=mediator, start=start,
                               end=start + timedelta(hours=1))


def test_queue_queries_do_not_grow(app, client, factory, count_queries):
    """The queue costs the same number of queries with 5 or 100 requests."""
    app.config["PER_PAGE"] = 200
    counts = []
    for n in (5, 100):
        world = make_world(factory)
        _queue_rows(world, factory, n)
        db.session.commit()
        client = app.test_client()
        login(client, world.coordinator)
        db.session.expunge_all()
        with count_queries() as counter:
            response = client.get("/coordination/requests?status=all&sort=date")
        assert response.status_code == 200
        assert len(listed(response.get_data(as_text=True))) == n
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


# --- offering --------------------------------------------------------------


def test_offer_page_queries_do_not_grow(app, factory, count_queries):
    """The offer page costs the same number of queries with 5 or 100 mediators."""
    counts = []
    for n in (5, 100):
        world = make_world(factory)
        req = world.request(slots=((0, 10), (1, 10)))
        other = world.request(slots=((0, 10),), state=RequestState.confirmed)
        for i in range(n):
            mediator = world.mediator(languages=("ar", f"m{factory.n()}"))
            if i % 3 == 0:
                factory.add(Absence(mediator=mediator, start_dt=rome(next_week(0), 0),
                                    end_dt=rome(next_week(0), 23)))
            if i == 1:
                factory.assignment(request=other, mediator=mediator,
                                   start=rome(next_week(0), 10), end=rome(next_week(0), 11),
                                   state=AssignmentState.accepted)
        db.session.commit()
        url = f"/coordination/requests/{req.id}/offer?slot=1"
        client = app.test_client()
        login(client, world.coordinator)
        db.session.expunge_all()
        with count_queries() as counter:
            response = client.get(url)
        assert response.status_code == 200
        assert response.get_data(as_text=True).count('id="candidate-') == n
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


def test_dead_end_page_queries_do_not_grow(app, factory, count_queries):
    """The offer page with its free times costs the same with 5 or 60 speakers who cannot
    take the time asked for, with their bookings and absences."""
    world = make_world(factory)
    running(world)
    req = world.request(slots=((0, 10),))
    tuesday = first_weekday_from_tomorrow(1)
    url = f"/coordination/requests/{req.id}/offer"
    counts, added = [], 0
    for n in (5, 60):
        for i in range(added, n):
            other = world.request(slots=((1, 14),), state=RequestState.confirmed)
            mediator = world.mediator(languages=("ar", f"m{factory.n()}"))
            for availability in mediator.availability:
                availability.start_time = time(13)  # never at 10:00
            factory.assignment(request=other, mediator=mediator,
                               start=rome(tuesday, 13 + i % 3), end=rome(tuesday, 14 + i % 3),
                               state=AssignmentState.accepted)
            if i % 2:
                factory.add(Absence(mediator=mediator, start_dt=rome(tuesday, 15),
                                    end_dt=rome(tuesday + timedelta(days=1), 15)))
        added = n
        db.session.commit()
        client = app.test_client()
        login(client, world.coordinator)
        db.session.expire_all()
        with count_queries() as counter:
            response = client.get(url)
        assert response.status_code == 200
        assert response.get_data(as_text=True).count(" app-free-mediator\"") == n
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


def test_offer_happy_path(coordinator, world):
    """Offering a slot to a mediator creates the offer, moves the request and mails them."""
    mediator = world.mediator()
    req = world.request(slots=((0, 10), (1, 14)))
    db.session.commit()
    page = coordinator.get(f"/coordination/requests/{req.id}/offer?slot=2", headers=EN)
    assert page.status_code == 200
    assert mediator.user.display_name in candidate_html(page.get_data(as_text=True), mediator)
    response = coordinator.post(f"/coordination/requests/{req.id}/offer",
                                data={"slot": "2", "mediator_id": mediator.id})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/requests/{req.id}")
    db.session.expire_all()
    assignment = db.session.scalar(sa.select(Assignment).where(Assignment.request_id == req.id))
    assert assignment.state == AssignmentState.offered
    assert assignment.mediator_id == mediator.id
    assert assignment.start_dt == rome(next_week(1), 14)
    assert db.session.get(MediationRequest, req.id).state == RequestState.offered
    assert [m.template for m in outbox_for(mediator.user)] == ["booking"]


def test_offer_from_a_stale_page_leaves_the_other_offer(app, coordinator, world):
    """Two coordinators on the same open request: the second click is not a reassignment."""
    first, second = world.mediator(), world.mediator()
    req = world.request()
    db.session.commit()
    page = coordinator.get(f"/coordination/requests/{req.id}/offer?slot=1", headers=EN)
    assert 'name="from_state" value="open"' in page.get_data(as_text=True)
    colleague = app.test_client()
    Auth(colleague).login(world.factory.user(Role.coordinator, ambito=world.school.ambito))
    taken = colleague.post(f"/coordination/requests/{req.id}/offer",
                           data={"slot": "1", "mediator_id": first.id, "from_state": "open"})
    assert taken.status_code == 302
    late = coordinator.post(f"/coordination/requests/{req.id}/offer", headers=EN, data={
        "slot": "1", "mediator_id": second.id, "from_state": "open"}, follow_redirects=True)
    assert late.status_code == 200
    assert "Someone else has just offered this request" in late.get_data(as_text=True)
    db.session.expire_all()
    (assignment,) = db.session.scalars(
        sa.select(Assignment).where(Assignment.request_id == req.id)).all()
    assert assignment.mediator_id == first.id and assignment.state == AssignmentState.offered


def test_offer_at_another_time(coordinator, world):
    """A time agreed by phone is offered with its date, start and end."""
    mediator = world.mediator()
    req = world.request()
    db.session.commit()
    day = next_week(3)
    query = f"slot=other&date={day.isoformat()}&start=15:00&end=16:30"
    page = coordinator.get(f"/coordination/requests/{req.id}/offer?{query}", headers=EN)
    assert page.status_code == 200 and 'id="candidate-' in page.get_data(as_text=True)
    response = coordinator.post(f"/coordination/requests/{req.id}/offer", data={
        "slot": "other", "date": day.isoformat(), "start": "15:00", "end": "16:30",
        "mediator_id": mediator.id})
    assert response.status_code == 302
    assignment = db.session.scalar(sa.select(Assignment).where(Assignment.request_id == req.id))
    assert (assignment.start_dt, assignment.end_dt) == (rome(day, 15), rome(day, 16, 30))


def test_offer_at_another_time_needs_a_valid_time(coordinator, world):
    """A weekend or an end before the start is refused with a message, nothing is booked."""
    mediator = world.mediator()
    req = world.request()
    db.session.commit()
    saturday = next_week(5).isoformat()
    response = coordinator.post(f"/coordination/requests/{req.id}/offer", headers=EN, data={
        "slot": "other", "date": saturday, "start": "10:00", "end": "11:00",
        "mediator_id": mediator.id})
    assert response.status_code == 400
    assert "weekend" in response.get_data(as_text=True)
    response = coordinator.post(f"/coordination/requests/{req.id}/offer", headers=EN, data={
        "slot": "other", "date": next_week(1).isoformat(), "start": "11:00", "end": "10:00",
        "mediator_id": mediator.id})
    assert response.status_code == 400
    assert "The end must come after the start." in response.get_data(as_text=True)
    response = coordinator.post(f"/coordination/requests/{req.id}/offer", headers=EN,
                                data={"slot": "1"})
    assert response.status_code == 400
    assert "Choose a mediator." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 0


def test_offer_translation_has_no_slot(coordinator, world):
    """A translation is offered against its deadline, without a time range."""
    mediator = world.mediator()
    req = world.translation_request()
    db.session.commit()
    page = coordinator.get(f"/coordination/requests/{req.id}/offer", headers=EN)
    assert page.status_code == 200
    assert "Available" in candidate_html(page.get_data(as_text=True), mediator)
    response = coordinator.post(f"/coordination/requests/{req.id}/offer",
                                data={"mediator_id": mediator.id})
    assert response.status_code == 302
    assignment = db.session.scalar(sa.select(Assignment).where(Assignment.request_id == req.id))
    assert assignment.start_dt is None and assignment.deadline_dt == req.deadline_dt


def test_candidates_say_why_not(coordinator, world):
    """Each unavailable mediator is shown with the reason: absent, busy, outside hours, cap."""
    req = world.request(slots=((0, 10),))
    start, end = rome(next_week(0), 10), rome(next_week(0), 11)
    free = world.mediator(display_name="Free Amal")
    absent = world.mediator(display_name="Absent Badr")
    world.factory.add(Absence(mediator=absent, start_dt=start - timedelta(days=1),
                              end_dt=end + timedelta(days=1)))
    busy = world.mediator(display_name="Busy Chaima")
    world.factory.assignment(request=world.request(), mediator=busy,
                             start=start + timedelta(minutes=30), end=end + timedelta(minutes=30),
                             state=AssignmentState.accepted)
    outside = world.mediator(display_name="Afternoon Driss")
    for availability in outside.availability:
        availability.start_time = time(14)
    capped = world.mediator(display_name="Capped Fatima")
    capped.weekly_hour_cap = Decimal("0.5")
    romanian = world.mediator(display_name="Romanian Gabi", languages=("ro",))
    db.session.commit()
    html = coordinator.get(f"/coordination/requests/{req.id}/offer", headers=EN).get_data(True)
    assert "Available" in candidate_html(html, free)
    # The week's hours are read for whoever speaks the language, and only for them.
    assert "1 of 20 hours booked that week" in candidate_html(html, busy)
    # Who does not speak the language is counted, not listed.
    assert f'id="candidate-{romanian.id}"' not in html and "Romanian Gabi" not in html
    assert "1 mediator does not speak ar." in html
    assert "Why not: absent" in candidate_html(html, absent)
    assert "Why not: already booked then" in candidate_html(html, busy)
    assert "Why not: outside their weekly availability" in candidate_html(html, outside)
    assert "Why not: over their weekly hours" in candidate_html(html, capped)
    assert "Why not" not in candidate_html(html, free)
    # Available first; the excluded, by name, behind a summary that counts them.
    assert html.index(f'id="candidate-{free.id}"') < html.index(f'id="candidate-{absent.id}"')
    excluded = html[html.index('class="mt-3 app-excluded"'):]
    assert "4 mediators cannot take it: why not?" in excluded
    names = ["Absent Badr", "Afternoon Driss", "Busy Chaima", "Capped Fatima"]
    assert sorted(names, key=excluded.index) == names
    assert "Free Amal" not in excluded
    # Hard filters: only the available one can be chosen.
    for excluded in (busy, absent, outside, capped):
        assert f'name="mediator_id" value="{excluded.id}"' not in html
    assert f'name="mediator_id" value="{free.id}"' in html


def test_offering_a_busy_mediator_is_a_409(coordinator, world):
    """A mediator booked meanwhile: a 409 page with the message, no new row, never a 500."""
    req = world.request(slots=((0, 10),))
    busy = world.mediator()
    world.factory.assignment(request=world.request(), mediator=busy,
                             start=rome(next_week(0), 10), end=rome(next_week(0), 11),
                             state=AssignmentState.accepted)
    db.session.commit()
    response = coordinator.post(f"/coordination/requests/{req.id}/offer", headers=EN,
                                data={"slot": "1", "mediator_id": busy.id})
    assert response.status_code == 409
    assert "has just been booked" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 1
    assert db.session.get(MediationRequest, req.id).state == RequestState.open


def test_reassign_needs_a_reason_and_supersedes(coordinator, world):
    """Reassigning needs a reason; the old offer is superseded and both mediators are told."""
    first, second = world.mediator(), world.mediator()
    req = world.request(slots=((0, 10),), state=RequestState.confirmed)
    old = world.factory.assignment(request=req, mediator=first, start=rome(next_week(0), 10),
                                   end=rome(next_week(0), 11), state=AssignmentState.accepted)
    db.session.commit()
    page = coordinator.get(f"/coordination/requests/{req.id}/offer", headers=EN)
    assert page.status_code == 200 and "Why it is reassigned" in page.get_data(as_text=True)
    response = coordinator.post(f"/coordination/requests/{req.id}/offer", headers=EN,
                                data={"slot": "1", "mediator_id": second.id, "reason": " "})
    assert response.status_code == 400
    assert "Say why the request is reassigned." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Assignment, old.id).state == AssignmentState.accepted

    response = coordinator.post(f"/coordination/requests/{req.id}/offer", data={
        "slot": "1", "mediator_id": second.id, "reason": "Mediator ill"})
    # A 400 here was seen once in CI on PostgreSQL (not reproduced): say why if it recurs.
    assert response.status_code == 302, page_errors(response.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(Assignment, old.id).state == AssignmentState.superseded
    new = db.session.scalar(sa.select(Assignment).where(Assignment.mediator_id == second.id))
    assert new.state == AssignmentState.offered and new.request_id == req.id
    assert db.session.get(MediationRequest, req.id).state == RequestState.offered
    assert len(outbox_for(first.user)) == 1 and len(outbox_for(second.user)) == 1


def test_counter_proposal_is_offered_in_one_click(coordinator, world):
    """A declined offer's proposed time links to the page with that time filled in."""
    mediator = world.mediator()
    req = world.request(slots=((0, 10),))
    proposed = rome(next_week(2), 15, 30)
    world.factory.assignment(request=req, mediator=mediator, start=rome(next_week(0), 10),
                             end=rome(next_week(0), 11), state=AssignmentState.declined,
                             decline_reason="At another school", proposed_start_dt=proposed)
    db.session.commit()
    html = coordinator.get(f"/coordination/requests/{req.id}/offer", headers=EN).get_data(True)
    assert "declined and proposed" in html
    link = f"slot=other&amp;date={next_week(2).isoformat()}&amp;start=15:30&amp;end=16:30"
    assert link in html
    html = coordinator.get(f"/coordination/requests/{req.id}/offer?"
                           + link.replace("&amp;", "&"), headers=EN).get_data(True)
    assert 'value="15:30"' in html and "Available" in candidate_html(html, mediator)


def test_offer_page_of_a_closed_request_goes_back(coordinator, world):
    """A request no longer waiting for a mediator sends the coordinator back to its page."""
    req = world.request(state=RequestState.cancelled)
    db.session.commit()
    response = coordinator.get(f"/coordination/requests/{req.id}/offer")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/requests/{req.id}")


# --- no mediator can take the times asked for: their next free times ------------


def first_weekday_from_tomorrow(weekday: int) -> date:
    """The first ``weekday`` after today in Rome (the free times start tomorrow)."""
    day = datetime.now(ROME).date() + timedelta(days=1)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day


def forms_in(html: str, marker: str) -> list[tuple[str, dict]]:
    """(action, fields with its first submit button's) of the forms in the part of the page
    that starts at ``marker``, up to the end of its section."""
    start = html.index(marker)
    part = html[start:html.index("</section>", start)]
    found = []
    for action, body in re.findall(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>',
                                   part, re.S):
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', body))
        fields.update(re.findall(r'<button type="submit"[^>]* name="([^"]+)" value="([^"]*)"',
                                 body)[:1])
        found.append((action.replace("&amp;", "&"), fields))
    return found


@dataclass
class DeadEnd:
    """An open request for Monday 10:00 in Arabic, which the only Arabic speaker cannot
    take: she works on Tuesdays from 14 to 17 only. A Romanian speaker does not count."""

    req: MediationRequest
    amal: object
    romanian: object
    tuesday: date

    @property
    def first_time(self) -> tuple[datetime, datetime]:
        return rome(self.tuesday, 14), rome(self.tuesday, 15)


@pytest.fixture
def dead_end(world) -> DeadEnd:
    running(world)
    amal = free_on_tuesday_afternoons(world, "Amal D'Angelo")
    romanian = world.mediator(display_name="Romanian Gabi", languages=("ro",))
    req = world.request(slots=((0, 10),))
    db.session.commit()
    return DeadEnd(req, amal, romanian, first_weekday_from_tomorrow(1))


def test_dead_end_shows_the_next_free_times(coordinator, world, dead_end):
    """Nobody can take the time asked for: the page lists when the speakers of the language
    are free, each time with one click to offer it or propose it; "mark unfilled" stays at
    hand; who does not speak the language is counted, not listed."""
    req, amal = dead_end.req, dead_end.amal
    html = coordinator.get(f"/coordination/requests/{req.id}/offer", headers=EN).get_data(True)
    assert "No mediator can take the times the school proposed" in html
    section = html[html.index("app-free-times"):html.index("</section>",
                                                            html.index("app-free-times"))]
    assert f'id="free-{amal.id}"' in section and "Amal D&#39;Angelo" in section
    start, end = dead_end.first_time
    assert f'datetime="{start.isoformat()}"' in section  # the first Tuesday afternoon
    forms = forms_in(html, "app-free-times")
    offers = [f for a, f in forms if a.endswith(f"/requests/{req.id}/offer")]
    proposals = [f for a, f in forms if a.endswith(f"/requests/{req.id}/propose")]
    assert len(offers) == len(proposals) == 4  # a handful, one each
    first = {"slot": "other", "date": dead_end.tuesday.isoformat(), "start": "14:00",
             "end": "15:00", "mediator_id": str(amal.id)}
    assert first.items() <= offers[0].items() and offers[0]["from_state"] == "open"
    assert proposals[0]["date"] == first["date"] and proposals[0]["start"] == "14:00"
    assert [a for a, _ in forms][-1].endswith(f"/requests/{req.id}/unfilled")
    assert "Romanian Gabi" not in html and f'id="candidate-{dead_end.romanian.id}"' not in html
    assert "1 mediator does not speak ar." in html
    # Where someone can take a time asked for, no free times are shown.
    fine = world.request(slots=((1, 14),))
    db.session.commit()
    html = coordinator.get(f"/coordination/requests/{fine.id}/offer", headers=EN).get_data(True)
    assert "app-free-times" not in html and "Available" in candidate_html(html, amal)


def test_offer_a_free_time_in_one_click(coordinator, world, dead_end):
    """The "Offer" button of a free time books it for the mediator, as any offer does."""
    req, amal = dead_end.req, dead_end.amal
    html = coordinator.get(f"/coordination/requests/{req.id}/offer").get_data(True)
    action, fields = forms_in(html, "app-free-times")[0]
    response = coordinator.post(action, data=fields)
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/requests/{req.id}")
    db.session.expire_all()
    assignment = db.session.scalar(sa.select(Assignment).where(Assignment.request_id == req.id))
    assert (assignment.start_dt, assignment.end_dt) == dead_end.first_time
    assert assignment.mediator_id == amal.id and assignment.state == AssignmentState.offered
    assert db.session.get(MediationRequest, req.id).state == RequestState.offered
    assert [m.template for m in outbox_for(amal.user)] == ["booking"]


def test_propose_a_free_time_and_the_school_accepts(app, coordinator, world, dead_end):
    """"Propose to the school": the teacher is asked (mail and request page), accepts, the
    coordinator is told and offers it in one click."""
    req, amal = dead_end.req, dead_end.amal
    start, end = dead_end.first_time
    html = coordinator.get(f"/coordination/requests/{req.id}/offer").get_data(True)
    action, fields = next((a, f) for a, f in forms_in(html, "app-free-times")
                          if a.endswith("/propose"))
    response = coordinator.post(action, data=fields)
    assert response.headers["Location"].endswith(f"/coordination/requests/{req.id}/offer")
    db.session.expire_all()
    proposal = db.session.scalar(sa.select(TimeProposal))
    assert (proposal.request_id, proposal.mediator_id) == (req.id, amal.id)
    assert (proposal.start_dt, proposal.end_dt, proposal.state) == (
        start, end, ProposalState.pending)
    assert db.session.get(MediationRequest, req.id).state == RequestState.open  # not booked
    assert not db.session.scalars(sa.select(Assignment)).all()
    (mail,) = outbox_for(world.teacher)
    assert mail.template == "proposal"
    # The text part as typed, the HTML part escaped.
    assert "Amal D'Angelo" in mail.body_text and "&#39;" not in mail.body_text
    assert "Amal D&#39;Angelo" in mail.body_html
    assert f"/requests/{req.id}" in mail.body_text
    html = coordinator.get(f"/coordination/requests/{req.id}/offer", headers=EN).get_data(True)
    assert "Waiting for its answer." in html

    # What the teacher then sees, and their answer.
    teacher = app.test_client()
    login(teacher, world.teacher)
    page = teacher.get(f"/requests/{req.id}", headers=EN).get_data(True)
    assert "Another time proposed by the coordinator" in page
    assert f'datetime="{start.isoformat()}"' in page
    ((answer_action, answer),) = forms_in(page, "app-time-proposals")
    assert answer_action.endswith(f"/requests/{req.id}/proposal")
    assert answer == {"csrf_token": answer["csrf_token"], "proposal_id": str(proposal.id),
                      "answer": "accept"}
    response = teacher.post(answer_action, data=answer, headers=EN)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(TimeProposal, proposal.id).state == ProposalState.accepted
    (told,) = outbox_for(world.coordinator)
    assert told.template == "proposal" and "Amal D'Angelo" in told.body_text
    assert f"/coordination/requests/{req.id}/offer" in told.body_text
    page = teacher.get(f"/requests/{req.id}", headers=EN).get_data(True)
    assert "You have accepted" in page and "Accept this time" not in page
    assert "Proposed time accepted by the school" in page  # the history

    # The coordinator offers the accepted time in one click.
    html = coordinator.get(f"/coordination/requests/{req.id}/offer", headers=EN).get_data(True)
    assert "The school has accepted" in html
    action, fields = next((a, f) for a, f in forms_in(html + "</section>", "app-school-proposal")
                          if a.endswith("/offer"))
    assert coordinator.post(action, data=fields).status_code == 302
    db.session.expire_all()
    assignment = db.session.scalar(sa.select(Assignment).where(Assignment.request_id == req.id))
    assert (assignment.start_dt, assignment.end_dt, assignment.mediator_id) == (
        start, end, amal.id)


def test_the_school_declines_a_proposed_time(app, coordinator, world, dead_end):
    """Declining tells the coordinator; the offer page says so and still offers free times."""
    req = dead_end.req
    start, end = dead_end.first_time
    proposal = ops_propose(world, req, dead_end.amal, start, end)
    teacher = app.test_client()
    login(teacher, world.teacher)
    # No answer chosen: nothing changes, never a 500.
    response = teacher.post(f"/requests/{req.id}/proposal", headers=EN,
                            data={"proposal_id": proposal.id}, follow_redirects=True)
    assert "Choose whether to accept or decline" in response.get_data(True)
    response = teacher.post(f"/requests/{req.id}/proposal",
                            data={"proposal_id": proposal.id, "answer": "decline"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(TimeProposal, proposal.id).state == ProposalState.declined
    assert [m.template for m in outbox_for(world.coordinator)] == ["proposal"]
    html = coordinator.get(f"/coordination/requests/{req.id}/offer", headers=EN).get_data(True)
    assert "The school has declined" in html and "app-free-times" in html
    assert "Another time proposed" not in teacher.get(f"/requests/{req.id}").get_data(True)


def ops_propose(world, req, mediator, start, end):
    from mediation.bookings import operations as ops
    proposal = ops.propose_time(world.coordinator, req, mediator, start, end)
    db.session.commit()
    return proposal


def test_propose_refuses_what_cannot_be_booked(coordinator, world, dead_end):
    """A time the mediator cannot take, or no time at all: a message, nothing stored."""
    req, amal = dead_end.req, dead_end.amal
    url = f"/coordination/requests/{req.id}/propose"
    monday = next_week(0).isoformat()
    response = coordinator.post(url, headers=EN, follow_redirects=True, data={
        "mediator_id": amal.id, "date": monday, "start": "10:00", "end": "11:00"})
    assert "cannot take it: outside their weekly availability" in response.get_data(True)
    response = coordinator.post(url, headers=EN, follow_redirects=True, data={})
    assert "Choose one of the free times to propose." in response.get_data(True)
    assert db.session.scalars(sa.select(TimeProposal)).all() == []


def test_answering_is_for_the_school_only(app, client, world, dead_end, factory):
    """The coordinator, the mediator, another school's teacher: 404; an unknown proposal
    too; nothing changes."""
    req = dead_end.req
    proposal = ops_propose(world, req, dead_end.amal, *dead_end.first_time)
    other_teacher = factory.user(Role.teacher)
    for user in (world.coordinator, dead_end.amal.user, other_teacher):
        login(client, user)
        response = client.post(f"/requests/{req.id}/proposal",
                               data={"proposal_id": proposal.id, "answer": "accept"})
        assert response.status_code == 404, user.role
    login(client, world.teacher)
    response = client.post(f"/requests/{req.id}/proposal",
                           data={"proposal_id": proposal.id + 1, "answer": "accept"})
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(TimeProposal, proposal.id).state == ProposalState.pending


# --- unfilled and cancelled ------------------------------------------------


def test_mark_unfilled(coordinator, world):
    """An open request can be marked unfilled, once; the second time is refused politely."""
    req = world.request()
    db.session.commit()
    response = coordinator.post(f"/requests/{req.id}/unfilled")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(MediationRequest, req.id).state == RequestState.unfilled
    assert len(outbox_for(world.teacher)) == 1
    response = coordinator.post(f"/requests/{req.id}/unfilled")
    assert response.status_code == 302


def test_cancel(coordinator, world):
    """Cancelling needs a reason from the list and frees the mediator."""
    mediator = world.mediator()
    req = world.request(state=RequestState.offered)
    assignment = world.factory.assignment(request=req, mediator=mediator,
                                          start=rome(next_week(0), 10),
                                          end=rome(next_week(0), 11))
    db.session.commit()
    # The request page's cancel form, the same for the school and the coordinator.
    assert f'action="/requests/{req.id}/cancel"' in coordinator.get(
        f"/requests/{req.id}").get_data(as_text=True)
    response = coordinator.post(f"/requests/{req.id}/cancel", headers=EN,
                                data={"reason": "", "note": "kept"})
    assert response.status_code == 400
    assert "kept" in response.get_data(as_text=True)
    response = coordinator.post(f"/requests/{req.id}/cancel",
                                data={"reason": "no_longer_needed", "note": "Family moved"})
    assert response.status_code == 302
    db.session.expire_all()
    req = db.session.get(MediationRequest, req.id)
    assert req.state == RequestState.cancelled
    assert req.cancellation_reason == "no_longer_needed"
    assert req.cancellation_note == "Family moved"
    assert db.session.get(Assignment, assignment.id).state == AssignmentState.cancelled
    assert len(outbox_for(mediator.user)) == 1


# --- session logs ----------------------------------------------------------


def test_logs_page_lists_submitted_logs(coordinator, world):
    """The logs page shows each submitted log with its details and what it counts against."""
    log = world.logged(world.mediator(display_name="Hind"))
    db.session.commit()
    html = coordinator.get("/coordination/logs", headers=EN).get_data(as_text=True)
    assert f'id="log-{log.id}"' in html
    assert "Hind" in html and "Talked about the school year" in html
    assert f'<option value="{world.macros[0].id}" selected' in html
    assert f'<option value="{world.macros[0].actions[0].id}" selected' in html


def test_approve_with_another_macro_action(coordinator, world):
    """Approving can count a log against another macro-action and action; the request closes."""
    log = world.logged(world.mediator())
    macro, action = world.macros[1], world.macros[1].actions[0]
    db.session.commit()
    response = coordinator.post(f"/coordination/logs/{log.id}/approve",
                                data={"macro_action_id": macro.id, "action_id": action.id})
    assert response.status_code == 302
    db.session.expire_all()
    log = db.session.get(SessionLog, log.id)
    assert log.state == LogState.approved
    assert (log.macro_action_id, log.action_id) == (macro.id, action.id)
    assert log.approved_by_id == world.coordinator.id
    assert log.assignment.request.state == RequestState.closed


def test_approve_with_a_mismatched_action_is_a_400(coordinator, world):
    """An action of another macro-action is refused with a message, the log stays submitted."""
    log = world.logged(world.mediator())
    db.session.commit()
    response = coordinator.post(f"/coordination/logs/{log.id}/approve", headers=EN, data={
        "macro_action_id": world.macros[1].id, "action_id": world.macros[0].actions[0].id})
    assert response.status_code == 400
    assert "This action belongs to another macro-action." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(SessionLog, log.id).state == LogState.submitted


def test_bulk_approve(coordinator, world):
    """Several logs are approved at once."""
    logs = [world.logged(world.mediator()) for _ in range(3)]
    db.session.commit()
    response = coordinator.post("/coordination/logs/approve",
                                data={"log_ids": [logs[0].id, logs[1].id]})
    assert response.status_code == 302
    db.session.expire_all()
    states = [db.session.get(SessionLog, log.id).state for log in logs]
    assert states == [LogState.approved, LogState.approved, LogState.submitted]


def test_return_log_needs_a_comment(coordinator, world):
    """Returning a log needs a comment; the mediator gets it by email."""
    mediator = world.mediator()
    log = world.logged(mediator)
    db.session.commit()
    response = coordinator.post(f"/coordination/logs/{log.id}/return", headers=EN,
                                data={"comment": "  "})
    assert response.status_code == 400
    assert "Tell the mediator what to correct." in response.get_data(as_text=True)
    response = coordinator.post(f"/coordination/logs/{log.id}/return",
                                data={"comment": "Add the teachers present"})
    assert response.status_code == 302
    db.session.expire_all()
    log = db.session.get(SessionLog, log.id)
    assert log.state == LogState.returned
    assert log.review_comment == "Add the teachers present"
    assert len(outbox_for(mediator.user)) == 1


# --- scope -----------------------------------------------------------------


def test_another_ambito_is_a_404(client, world, factory):
    """A coordinator of another Ambito cannot reach this Ambito's requests, logs or mediators."""
    req = world.request()
    log = world.logged(world.mediator())
    mediator_a = world.mediator()
    world_b = make_world(factory)
    req_b = world_b.request()
    db.session.commit()
    login(client, world_b.coordinator)
    assert client.get(f"/coordination/requests/{req.id}/offer").status_code == 404
    assert client.post(f"/coordination/requests/{req.id}/offer",
                       data={"slot": "1", "mediator_id": mediator_a.id}).status_code == 404
    assert client.post(f"/requests/{req.id}/unfilled").status_code == 404
    assert client.post(f"/requests/{req.id}/cancel",
                       data={"reason": "duplicate"}).status_code == 404
    # A mediator of Ambito A offered on an Ambito B request.
    assert client.post(f"/coordination/requests/{req_b.id}/offer",
                       data={"slot": "1", "mediator_id": mediator_a.id}).status_code == 404
    assert f'id="log-{log.id}"' not in client.get("/coordination/logs").get_data(True)
    assert client.post(f"/coordination/logs/{log.id}/approve").status_code == 404
    assert client.post(f"/coordination/logs/{log.id}/return",
                       data={"comment": "x"}).status_code == 404
    assert client.post("/coordination/logs/approve",
                       data={"log_ids": [log.id]}).status_code == 404
    assert req.id not in listed(client.get("/coordination/requests?status=all").get_data(True))
    db.session.expire_all()
    assert db.session.get(MediationRequest, req.id).state == RequestState.open
    assert db.session.get(SessionLog, log.id).state == LogState.submitted


def test_bulk_approve_with_a_foreign_id_approves_nothing(coordinator, world, factory):
    """One id outside the Ambito makes the whole bulk approval a 404."""
    mine = world.logged(world.mediator())
    world_b = make_world(factory)
    foreign = world_b.logged(world_b.mediator())
    db.session.commit()
    response = coordinator.post("/coordination/logs/approve",
                                data={"log_ids": [mine.id, foreign.id]})
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(SessionLog, mine.id).state == LogState.submitted


@pytest.mark.parametrize("who", ["teacher", "lead", "mediator"])
def test_other_roles_get_404_everywhere(client, world, who):
    """Teachers, leads and mediators get a 404 on every coordination URL."""
    mediator = world.mediator()
    req = world.request()
    log = world.logged(mediator)
    user = {"teacher": world.teacher, "mediator": mediator.user,
            "lead": world.factory.user(Role.lead, school=world.school)}[who]
    db.session.commit()
    login(client, user)
    # (Cancelling is the request page's action, which the school may take too:
    # tests/requests/test_requests_views.py.)
    for url in ("/coordination/requests", f"/coordination/requests/{req.id}/offer",
                "/coordination/logs"):
        assert client.get(url).status_code == 404, url
    for url in (f"/coordination/requests/{req.id}/offer",
                f"/requests/{req.id}/unfilled",
                "/coordination/logs/approve", f"/coordination/logs/{log.id}/approve",
                f"/coordination/logs/{log.id}/return"):
        assert client.post(url, data={"mediator_id": mediator.id, "reason": "duplicate",
                                      "log_ids": [log.id], "comment": "x"}).status_code == 404, url
    db.session.expire_all()
    assert db.session.get(MediationRequest, req.id).state == RequestState.open


def test_admin_coordinates_every_ambito(client, world, factory):
    """The admin sees every Ambito's queue and can offer there."""
    admin = factory.user(Role.admin)
    mediator = world.mediator()
    req = world.request()
    db.session.commit()
    login(client, admin)
    assert req.id in listed(client.get("/coordination/requests").get_data(as_text=True))
    response = client.post(f"/coordination/requests/{req.id}/offer",
                           data={"slot": "1", "mediator_id": mediator.id})
    # (Once seen as a 400 in CI on PostgreSQL, not reproduced since: say why if it recurs.)
    assert response.status_code == 302, page_errors(response.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(MediationRequest, req.id).state == RequestState.offered


def page_errors(html: str) -> list[str]:
    """The error messages a refused form shows (alerts and field errors), as text."""
    found = re.findall(r'class="[^"]*(?:alert-danger|invalid-feedback|form-errors)[^"]*"[^>]*>'
                       r'(.*?)</', html, re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text)).strip() for text in found]


# --- the partial on the request page ---------------------------------------


def _actions(app, user, req, active=None):
    now = datetime.now(UTC)
    with app.test_request_context(headers=EN):
        return render_template("requests/_coordination_actions.html", req=req, active=active,
                               now=now, current_user=user, cancel_form=CancelForm(),
                               actions=policy.actions(user, req, now))


def test_request_actions_partial(app, world):
    """Coordinators get the actions that fit the state; other roles get nothing."""
    mediator = world.mediator()
    open_req = world.request()
    html = _actions(app, world.coordinator, open_req)
    assert f"/coordination/requests/{open_req.id}/offer" in html
    assert f"/requests/{open_req.id}/unfilled" in html
    assert 'value="no_longer_needed"' in html
    assert _actions(app, world.teacher, open_req).strip() == ""
    assert _actions(app, mediator.user, open_req).strip() == ""

    confirmed = world.request(state=RequestState.confirmed)
    active = world.factory.assignment(request=confirmed, mediator=mediator,
                                      state=AssignmentState.accepted)
    html = _actions(app, world.coordinator, confirmed, active)
    assert "Reassign" in html and "/unfilled" not in html and "/cancel" in html

    log = world.logged(world.mediator())
    html = _actions(app, world.coordinator, log.assignment.request, log.assignment)
    assert f"#log-{log.id}" in html and "/cancel" not in html
    assert _actions(app, world.coordinator, world.request(state=RequestState.closed)).strip() \
        == ""
