"""Pupil pathways: the case page, updating it, and the list of cases at risk."""

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from mediation.cases import operations, queries
from mediation.clock import in_rome, to_utc
from mediation.errors import InvalidInput, NotAllowed
from mediation.extensions import db
from mediation.models import (
    Assignment,
    AuditEvent,
    Cycle,
    ItalianLevel,
    Outcome,
    PupilCase,
    PupilCaseStatus,
    PupilStatus,
    RequestState,
    Role,
)

from tests.conftest import login
from tests.scenarios.booking import now

EN = {"Accept-Language": "en"}
WEEKS = 6


def visible_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]*>", " ", html))


def main_text(html: str) -> str:
    return visible_text(html[html.index("<main"):html.index("</main>")])


# --- the case page -----------------------------------------------------------


def _k7q_history(world):
    world.session(world.k7q, now() - timedelta(days=10), follow_up=True)
    world.request(world.k7q, world.orientation, state=RequestState.open)


@pytest.mark.parametrize("role", ["lead", "coordinator", "admin"])
def test_case_page_shows_every_field(client, world, role):
    _k7q_history(world)
    login(client, getattr(world, role))
    response = client.get(f"/cases/{world.k7q.id}", headers=EN)
    assert response.status_code == 200
    text = main_text(response.get_data(as_text=True))
    assert "Pupil K7Q" in text
    assert "2B" in text and "Primary school" in text
    assert "2024" in text  # year of arrival
    assert "Arabic" in text  # home language
    assert "Morocco" in text  # country of origin, by name
    assert "Many absences Yes" in text and "Has repeated a year Yes" in text
    assert "Enrolled late (in a class below their age) No" in text
    assert "Level of Italian A0" in text
    assert "3 indicators out of 4." in text and "High risk" in text
    assert f"{world.current.label} (current) At risk" in text
    # The timeline: each request, its state, the mediator and the session's outcome.
    assert "Family meeting" in text and "Orientation" in text
    assert "Closed" in text and "Open" in text
    assert "Mediator: Amina Mediatrice" in text
    assert "Outcome: Held" in text and "Follow-up needed" in text
    timeline = text[text.index("Every request about this pupil"):]
    assert timeline.index("Orientation") < timeline.index("Family meeting")  # newest first
    # Only the lead edits; the others are told whom to ask.
    assert ("Update the risk indicators" in text) == (role == "lead")
    assert ("Ask the school lead" in text) == (role != "lead")
    if role != "lead":
        assert world.lead.email in text


def test_lead_books_the_next_step_from_the_case_page(client, world):
    login(client, world.lead)
    html = client.get(f"/cases/{world.k7q.id}", headers=EN).get_data(as_text=True)
    assert f'href="/requests/new/orientation?pupil_case={world.k7q.id}"' in html
    assert f'href="/requests/new/family_meeting?pupil_case={world.k7q.id}"' in html
    form = client.get(f"/requests/new/orientation?pupil_case={world.k7q.id}")
    assert form.status_code == 200
    # The form comes with the pupil already chosen.
    assert re.search(rf'<option[^>]*selected[^>]*value="{world.k7q.id}"'
                     rf'|<option[^>]*value="{world.k7q.id}"[^>]*selected',
                     form.get_data(as_text=True))


@pytest.mark.parametrize("role", ["teacher", "mediator"])
def test_teachers_and_mediators_get_404_and_never_see_restricted_data(client, world, role):
    log = world.session(world.k7q, now() - timedelta(days=3), follow_up=True)
    req = log.assignment.request
    user = world.teacher if role == "teacher" else world.mediator.user
    login(client, user)
    for url in (f"/cases/{world.k7q.id}", "/cases", "/cases/at-risk"):
        assert client.get(url, headers=EN).status_code == 404, url
    assert client.post(f"/cases/{world.k7q.id}/indicators",
                       data={"indicators-high_absences": "y"}).status_code == 404
    assert client.post(f"/cases/{world.k7q.id}/status", data={
        "status-school_year": world.current.id, "status-status": "left_school"},
    ).status_code == 404
    pages = ["/", f"/requests/{req.id}", f"/requests/{req.id}/letter"]
    pages += ["/requests"] if role == "teacher" else ["/agenda"]
    for url in pages:
        response = client.get(url, headers=EN, follow_redirects=True)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        text = main_text(html)
        assert not re.search(r"\bMA\b", text) and "Morocco" not in text, url
        assert not re.search(r"\bA0\b", text), url
        for word in ("absence", "repeated", "enrolment", "risk", "at risk"):
            assert word not in text.lower(), (url, word)
        assert 'href="/cases' not in html, url  # no link to the pupil pages
    # The indicators were not changed by the refused posts.
    db.session.refresh(world.k7q)
    assert world.k7q.high_absences and not world.k7q.late_enrolment


@pytest.mark.parametrize("role", ["lead", "coordinator", "admin"])
def test_request_page_links_the_case_for_leads_and_coordinators(client, world, role):
    req = world.request(world.k7q)
    login(client, getattr(world, role))
    html = client.get(f"/requests/{req.id}", headers=EN).get_data(as_text=True)
    assert f'<a href="/cases/{world.k7q.id}">Code K7Q, class 2B</a>' in html


def test_another_schools_or_ambitos_case_is_404(client, world, factory):
    same_ambito = factory.school(world.ambito)
    neighbour = world.case("N1", school=same_ambito)
    far = world.case("F1", school=world.other_school)
    login(client, world.lead)
    assert client.get(f"/cases/{neighbour.id}").status_code == 404
    assert client.get(f"/cases/{far.id}").status_code == 404
    assert client.post(f"/cases/{neighbour.id}/indicators",
                       data={"indicators-high_absences": "y"}).status_code == 404
    assert client.get("/cases/999999").status_code == 404
    login(client, world.coordinator)
    assert client.get(f"/cases/{neighbour.id}").status_code == 200
    assert client.get(f"/cases/{far.id}").status_code == 404


def test_navigation(client, world):
    login(client, world.lead)
    html = client.get("/", headers=EN).get_data(as_text=True)
    assert 'href="/cases"' in html and 'href="/cases/at-risk"' not in html
    login(client, world.coordinator)
    html = client.get("/", headers=EN).get_data(as_text=True)
    assert 'href="/cases/at-risk"' in html and 'href="/cases"' not in html
    login(client, world.teacher)
    html = client.get("/", headers=EN).get_data(as_text=True)
    assert 'href="/cases' not in html


# --- the lead's list ---------------------------------------------------------


def test_lead_lists_the_schools_cases_with_filters(client, world):
    world.case("A5", class_name="5A", status=PupilStatus.attending)
    world.case("B3", class_name="3B")
    world.case("X9", school=world.other_school, class_name="2B")
    login(client, world.lead)
    text = main_text(client.get("/cases", headers=EN).get_data(as_text=True))
    assert "3 pupils" in text and "K7Q" in text and "A5" in text and "B3" in text
    assert "X9" not in text
    text = main_text(client.get("/cases?class_name=5A", headers=EN).get_data(as_text=True))
    assert "1 pupil" in text and "A5" in text and "K7Q" not in text
    text = main_text(client.get("/cases?status=at_risk", headers=EN).get_data(as_text=True))
    assert "K7Q" in text and "A5" not in text and "B3" not in text
    text = main_text(client.get("/cases?status=none", headers=EN).get_data(as_text=True))
    assert "B3" in text and "K7Q" not in text
    # A value that is not in the list is ignored, not an error.
    assert client.get("/cases?status=bogus").status_code == 200
    login(client, world.coordinator)
    assert client.get("/cases").status_code == 404


# --- updating a case ---------------------------------------------------------


def _events(case, action):
    return list(db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.object_type == "PupilCase",
                                    AuditEvent.object_id == case.id,
                                    AuditEvent.action == action)
        .order_by(AuditEvent.id)
    ))


def test_lead_updates_the_indicators(client, world):
    login(client, world.lead)
    response = client.post(f"/cases/{world.k7q.id}/indicators", headers=EN, data={
        "indicators-repeated_year": "y", "indicators-late_enrolment": "y",
        "indicators-italian_level": "B1",
    })
    assert response.status_code == 302
    db.session.expire_all()
    case = db.session.get(PupilCase, world.k7q.id)
    assert (case.high_absences, case.repeated_year, case.late_enrolment) == (False, True, True)
    assert case.italian_level == ItalianLevel.b1
    [event] = _events(case, "pupil_case.indicators_updated")
    assert event.actor_id == world.lead.id
    assert event.data["changes"] == {"high_absences": [True, False],
                                     "late_enrolment": [False, True],
                                     "italian_level": ["A0", "B1"]}
    text = main_text(client.get(f"/cases/{case.id}", headers=EN).get_data(as_text=True))
    assert "Risk indicators saved." in text and "Level of Italian B1" in text
    # Saving the same values changes nothing and writes no event.
    client.post(f"/cases/{case.id}/indicators", data={
        "indicators-repeated_year": "y", "indicators-late_enrolment": "y",
        "indicators-italian_level": "B1"})
    assert len(_events(case, "pupil_case.indicators_updated")) == 1


def test_bad_indicators_are_refused_next_to_the_field_keeping_what_was_typed(client, world):
    login(client, world.lead)
    response = client.post(f"/cases/{world.k7q.id}/indicators", headers=EN, data={
        "indicators-late_enrolment": "y", "indicators-italian_level": "Z9"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    error = re.search(r'id="indicators-italian_level-error"[^>]*>(.*?)</div>', html, re.S)
    assert error and "Choose a level from the list." in error.group(1)
    assert re.search(r'<input[^>]*checked[^>]*id="indicators-late_enrolment"', html)
    assert not re.search(r'<input[^>]*checked[^>]*id="indicators-high_absences"', html)
    db.session.expire_all()
    case = db.session.get(PupilCase, world.k7q.id)
    assert case.high_absences and not case.late_enrolment and case.italian_level == "A0"
    assert _events(case, "pupil_case.indicators_updated") == []


def test_lead_sets_the_yearly_status(client, world):
    login(client, world.lead)
    case_id = world.k7q.id
    response = client.post(f"/cases/{case_id}/status", data={
        "status-school_year": world.previous.id, "status-status": "attending"})
    assert response.status_code == 302
    response = client.post(f"/cases/{case_id}/status", data={
        "status-school_year": world.current.id, "status-status": "left_school"})
    assert response.status_code == 302
    db.session.expire_all()
    statuses = {s.school_year_id: s.status for s in db.session.scalars(
        sa.select(PupilCaseStatus).where(PupilCaseStatus.pupil_case_id == case_id))}
    assert statuses == {world.previous.id: PupilStatus.attending,
                        world.current.id: PupilStatus.left_school}
    events = _events(world.k7q, "pupil_case.status_set")
    assert [(e.data["school_year_id"], e.data["old"], e.data["new"]) for e in events] == [
        (world.previous.id, None, "attending"),
        (world.current.id, "at_risk", "left_school"),
    ]
    assert all(e.actor_id == world.lead.id for e in events)
    text = main_text(client.get(f"/cases/{case_id}", headers=EN).get_data(as_text=True))
    assert f"{world.current.label} (current) Left school" in text
    assert f"{world.previous.label} Attending" in text


@pytest.mark.parametrize("data, field, message", [
    ({"status-status": "bogus"}, "status-status", "Choose a status from the list."),
    ({"status-status": ""}, "status-status", "Choose a status."),
    ({"status-status": "attending", "status-school_year": "next"}, "status-school_year",
     "Choose a school year from the list."),
])
def test_bad_status_is_refused_next_to_the_field(client, world, data, field, message):
    data = {"status-school_year": str(world.current.id), **data}
    if data["status-school_year"] == "next":
        data["status-school_year"] = str(world.next.id)  # has not started: not offered
    login(client, world.lead)
    response = client.post(f"/cases/{world.k7q.id}/status", headers=EN, data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    error = re.search(rf'id="{field}-error"[^>]*>(.*?)</div>', html, re.S)
    assert error and message in error.group(1)
    if field == "status-status":  # the year chosen is kept
        assert re.search(rf'<option selected value="{world.current.id}">', html)
    db.session.expire_all()
    assert db.session.scalar(sa.select(PupilCaseStatus.status).where(
        PupilCaseStatus.pupil_case_id == world.k7q.id)) == PupilStatus.at_risk
    assert _events(world.k7q, "pupil_case.status_set") == []


def test_operations_refuse_the_wrong_role_and_a_year_not_started(world, factory):
    for user in (world.coordinator, world.teacher, world.admin, world.mediator.user,
                 factory.user(Role.lead, school=world.other_school)):
        with pytest.raises(NotAllowed):
            operations.update_indicators(user, world.k7q, high_absences=False,
                                         repeated_year=False, late_enrolment=False,
                                         italian_level=None)
        with pytest.raises(NotAllowed):
            operations.set_status(user, world.k7q, world.current, PupilStatus.attending)
    with pytest.raises(InvalidInput):
        operations.set_status(world.lead, world.k7q, world.next, PupilStatus.attending)
    assert world.k7q.high_absences


def test_coordinator_cannot_post_updates(client, world):
    login(client, world.coordinator)
    assert client.post(f"/cases/{world.k7q.id}/indicators",
                       data={"indicators-italian_level": "B2"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(PupilCase, world.k7q.id).italian_level == ItalianLevel.a0


# --- the cases at risk -------------------------------------------------------


def test_high_risk_is_defined_once_in_python_and_sql(world):
    """The case page (Python) and the list (SQL) agree on every combination."""
    at = now()
    combos = []
    for i in range(32):
        flags = [bool(i & 1), bool(i & 2), bool(i & 4), bool(i & 8), bool(i & 16)]
        case = world.case(f"H{i}", class_name="1A", high_absences=flags[0],
                          repeated_year=flags[1], late_enrolment=flags[2],
                          italian_level=ItalianLevel.a1 if flags[3] else ItalianLevel.b1,
                          status=PupilStatus.at_risk if flags[4] else PupilStatus.attending)
        combos.append((case, queries.is_high_risk(case, case.statuses[0].status)))
    listed = {row.code for row in queries.at_risk(world.coordinator, at, WEEKS)
              if row.no_recent_session}
    for case, high in combos:
        assert (case.code in listed) == high, case.code
    # 16 with the status 'at risk', and 11 of the other 16 have two indicators or more.
    assert sum(high for _, high in combos) == 27


def test_at_risk_list_rules_and_boundaries(client, world, factory):
    at = now()
    w = world
    two = {"high_absences": True, "repeated_year": True}
    # Rule 1: high risk, no session in the last 6 weeks.
    old = w.case("R1-OLD", **two)
    w.session(old, at - timedelta(weeks=WEEKS, hours=2))
    never = w.case("R1-NEVER", late_enrolment=True, italian_level=ItalianLevel.a1)
    by_status = w.case("R1-STATUS", status=PupilStatus.at_risk)
    absent = w.case("R1-LATE-CANCEL", **two)  # a session cancelled late is not a session
    w.session(absent, at - timedelta(days=2), outcome=Outcome.cancelled_late)
    boundary = w.case("NO-BOUNDARY", **two)  # a session exactly 6 weeks ago is recent
    w.session(boundary, at - timedelta(weeks=WEEKS))
    w.case("NO-ONE-INDICATOR", high_absences=True, italian_level=ItalianLevel.a2)
    w.case("NO-LEFT", status=PupilStatus.left_school, **two)
    w.case("NO-OTHER-AMBITO", school=w.other_school, **two)
    # Only the pupils followed this school year: no status yet this year is fine if last
    # year's was attending or at risk, not if they moved on, nor if it is older.
    w.case("R1-CONTINUING", status=PupilStatus.attending, year=w.previous, **two)
    w.case("NO-MOVED-LAST-YEAR", status=PupilStatus.moved_to_next_cycle, year=w.previous,
           **two)
    w.case("NO-STALE", status=PupilStatus.at_risk, year=w.older, **two)
    # Rule 2: the latest session asked for a follow-up, not booked since.
    pending = w.case("R2-PENDING")
    w.session(pending, at - timedelta(days=7), follow_up=True)
    booked = w.case("NO-FOLLOW-UP-BOOKED")
    w.session(booked, at - timedelta(days=8), follow_up=True)
    w.request(booked, state=RequestState.open)
    awaiting = w.case("R2-AWAITING")  # waiting for the lead's approval: not booked yet
    w.session(awaiting, at - timedelta(days=9), follow_up=True)
    w.request(awaiting, state=RequestState.awaiting_approval)
    superseded = w.case("NO-FOLLOW-UP-OLDER")  # the latest session asks for none
    w.session(superseded, at - timedelta(days=20), follow_up=True)
    w.session(superseded, at - timedelta(days=10))
    # Rule 3: last grade of the cycle, no orientation this school year.
    fifth = w.case("R3-PRIMARY", class_name="5A")
    cancelled = w.case("R3-CANCELLED", class_name="3C", cycle=Cycle.secondaria_1)
    w.request(cancelled, w.orientation, state=RequestState.cancelled)
    last_year = w.case("R3-LAST-YEAR", class_name="3D", cycle=Cycle.secondaria_1)
    w.request(last_year, w.orientation, state=RequestState.closed,
              created=datetime.combine(w.previous.start_date, datetime.min.time(), UTC))
    oriented = w.case("NO-ORIENTED", class_name="3B", cycle=Cycle.secondaria_1)
    w.request(oriented, w.orientation, state=RequestState.awaiting_approval)
    w.case("NO-NOT-LAST", class_name="4A")
    w.case("NO-MOVED", class_name="5B", status=PupilStatus.moved_to_next_cycle)
    w.case("NO-OTHER-AMBITO-5", school=w.other_school, class_name="5A")

    rows = {row.code: row for row in queries.at_risk(w.coordinator, at, WEEKS)}
    expected = {"K7Q", "R1-OLD", "R1-NEVER", "R1-STATUS", "R1-LATE-CANCEL", "R1-CONTINUING",
                "R2-PENDING",
                "R2-AWAITING", "R3-PRIMARY", "R3-CANCELLED", "R3-LAST-YEAR"}
    assert set(rows) == expected
    assert rows["R1-OLD"].no_recent_session and not rows["R1-OLD"].follow_up_pending
    assert rows["R1-OLD"].last_session == at - timedelta(weeks=WEEKS, hours=2)
    assert rows["R1-NEVER"].last_session is None
    assert rows["R2-PENDING"].follow_up_pending and not rows["R2-PENDING"].no_recent_session
    assert rows["R3-PRIMARY"].transition_without_orientation
    assert not rows["R3-PRIMARY"].no_recent_session
    assert rows["R3-PRIMARY"].school_name == "IC Lodi Uno"
    # The admin sees every Ambito; a lead's scope is their school (if asked).
    admin_codes = {row.code for row in queries.at_risk(w.admin, at, WEEKS)}
    assert {"NO-OTHER-AMBITO", "NO-OTHER-AMBITO-5"} <= admin_codes
    del never, by_status, fifth

    # The page: each row says why, when, and links to the next step.
    login(client, w.coordinator)
    html = client.get("/cases/at-risk", headers=EN).get_data(as_text=True)
    text = main_text(html)
    # (The page's clock has moved on since `at`: the boundary case is now 6 weeks and a
    # second old, so it is listed too.)
    assert "12 pupils" in text and "NO-BOUNDARY" in text
    assert not re.search(r"NO-(?!BOUNDARY)", text)
    # The real time since the last session, not the threshold.
    assert "High risk, and no session for 6 weeks" in text
    assert "High risk, and no session yet" in text
    assert "The last session asked for a follow-up, not booked yet" in text
    assert "Last year of the cycle (Primary school), and no orientation this school year" in text
    assert "Last year of the cycle (Lower secondary school)" in text
    assert f'href="/cases/{old.id}#next-step"' in html
    # A coordinator cannot book: the button says what the case page offers.
    assert "Ask the school lead" in text and "Book the next step" not in text
    html = client.get(f"/cases/at-risk?school={w.school.id}", headers=EN).get_data(as_text=True)
    assert "12 pupils" in main_text(html)
    quiet = factory.school(w.ambito)
    db.session.commit()
    html = client.get(f"/cases/at-risk?school={quiet.id}", headers=EN).get_data(as_text=True)
    assert "No pupil needs a next step right now." in main_text(html)
    # Another Ambito's school is not a choice: the filter is ignored, nothing leaks.
    html = client.get(f"/cases/at-risk?school={w.other_school.id}",
                      headers=EN).get_data(as_text=True)
    assert "12 pupils" in main_text(html) and "NO-OTHER-AMBITO" not in html


def test_at_risk_list_costs_the_same_with_3_or_30_cases(client, world, factory,
                                                         count_queries):
    login(client, world.coordinator)
    counts = []
    made = 0
    for total in (3, 30):
        while made < total:
            i = made
            case = world.case(f"Q{i}", class_name="5A" if i % 3 == 0 else "2B",
                              high_absences=True, repeated_year=i % 2 == 0,
                              status=PupilStatus.at_risk if i % 5 == 0 else None)
            mediator = factory.mediator(ambiti=[world.ambito])
            world.session(case, now() - timedelta(days=i * 5 + 1), follow_up=i % 4 == 0,
                          mediator=mediator)
            if i % 3 == 1:
                world.request(case, world.orientation)
            made += 1
        db.session.commit()
        with count_queries() as counter:
            response = client.get("/cases/at-risk", headers=EN)
        assert response.status_code == 200
        assert "Q0" in response.get_data(as_text=True)
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


def test_case_page_costs_the_same_with_3_or_30_requests(client, world, factory,
                                                         count_queries):
    login(client, world.lead)
    counts = []
    made = 0
    for total in (3, 30):
        while made < total:
            mediator = factory.mediator(ambiti=[world.ambito])
            world.session(world.k7q, now() - timedelta(days=made + 1), mediator=mediator,
                          follow_up=made % 2 == 0)
            made += 1
        db.session.commit()
        with count_queries() as counter:
            response = client.get(f"/cases/{world.k7q.id}", headers=EN)
        assert response.status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
    assert db.session.scalar(sa.select(sa.func.count(Assignment.id))) == 30


# --- the order of the cases at risk, and the time since the last session ----------


def _months_before(day: date, months: int) -> date:
    """The same day of the month ``months`` earlier (the 28th at most: every month has it)."""
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, min(day.day, 28))


def test_at_risk_list_is_ordered_by_severity_with_the_real_time_since(client, world):
    """Most risk indicators first, then the longest without a session (never first)."""
    w = world
    at = now()
    today = in_rome(at).date()

    def on(day: date) -> datetime:
        return to_utc(day, time(12))  # noon in Rome: that calendar day whatever the hour

    three = {"high_absences": True, "repeated_year": True, "late_enrolment": True}
    # K7Q (the world's case): 3 indicators (absences, repeated, A0), never a session.
    four = w.case("S-FOUR", italian_level=ItalianLevel.a1, **three)
    w.session(four, on(today - timedelta(weeks=10)))
    eighteen = w.case("S-THREE-18M", **three)
    w.session(eighteen, on(_months_before(today, 18)))
    eight_weeks = w.case("S-THREE-8W", **three)
    w.session(eight_weeks, on(today - timedelta(weeks=8)))
    two_years = w.case("S-TWO-27M", high_absences=True, repeated_year=True)
    w.session(two_years, on(_months_before(today, 27)))
    by_status = w.case("S-NONE-STATUS", status=PupilStatus.at_risk)
    w.session(by_status, on(today - timedelta(weeks=7)))
    follow_up = w.case("S-NONE-FOLLOW-UP")
    w.session(follow_up, on(today - timedelta(days=5)), follow_up=True)
    db.session.commit()
    order = ["S-FOUR", "K7Q", "S-THREE-18M", "S-THREE-8W", "S-TWO-27M", "S-NONE-STATUS",
             "S-NONE-FOLLOW-UP"]

    rows = queries.at_risk(w.coordinator, at, WEEKS)
    assert [row.code for row in rows] == order
    assert [row.indicators for row in rows] == [4, 3, 3, 3, 2, 0, 0]

    since = {"en": ["10 weeks", "Never", "18 months", "8 weeks", "2 years, 3 months",
                    "7 weeks", "5 days"],
             "it": ["10 settimane", "Mai", "18 mesi", "8 settimane", "2 anni e 3 mesi",
                    "7 settimane", "5 giorni"]}
    login(client, w.coordinator)
    for lang, expected in since.items():
        html = client.get("/cases/at-risk", headers={"Accept-Language": lang}).get_data(
            as_text=True)
        items = re.findall(r'<li class="app-at-risk-item" data-case="([\w-]+)">(.*?)</li>\s*'
                           r'(?=<li class="app-at-risk-item"|</ol>)', html, re.S)
        assert [code for code, _ in items] == order
        shown = [visible_text(re.search(r"<dd data-since>(.*?)</dd>", item, re.S).group(1))
                 for _, item in items]
        assert [text.split(" (")[0].strip() for text in shown] == expected, lang
        assert 'data-indicators="4"' in items[0][1]
    text = main_text(client.get("/cases/at-risk", headers=EN).get_data(as_text=True))
    assert "High risk, and no session for 18 months" in text
    assert "High risk, and no session for 2 years, 3 months" in text
    assert "4 of 4" in text


@pytest.mark.parametrize("lang, days, shown", [
    ("en", 0, "less than a day"), ("it", 0, "meno di un giorno"),
    ("en", 1, "1 day"), ("en", 13, "13 days"), ("it", 13, "13 giorni"),
    ("en", 14, "2 weeks"), ("en", 89, "12 weeks"), ("it", 49, "7 settimane"),
])
def test_time_since_in_days_and_weeks(app, lang, days, shown):
    from mediation.cases.views import time_since

    now_ = datetime(2026, 3, 31, 10, tzinfo=UTC)  # frozen: the test needs no clock
    with app.test_request_context(), force_locale(lang):
        assert time_since(now_ - timedelta(days=days), now_) == shown


@pytest.mark.parametrize("lang, last, shown", [
    ("en", date(2025, 12, 31), "3 months"), ("en", date(2026, 1, 1), "12 weeks"),
    ("en", date(2024, 9, 30), "18 months"), ("it", date(2024, 9, 30), "18 mesi"),
    ("en", date(2024, 4, 1), "23 months"), ("en", date(2024, 3, 31), "2 years"),
    ("en", date(2020, 1, 15), "6 years, 2 months"), ("it", date(2020, 1, 15), "6 anni e 2 mesi"),
])
def test_time_since_in_months_and_years(app, lang, last, shown):
    from mediation.cases.views import time_since

    now_ = to_utc(date(2026, 3, 31), time(23, 30))  # 23:30 in Rome: 21:30 UTC, same day
    with app.test_request_context(), force_locale(lang):
        assert time_since(to_utc(last, time(9)), now_) == shown
