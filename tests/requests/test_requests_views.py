"""The schools' pages: filing requests, the list, the request page, approve/reject/cancel."""

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from mediation.clock import ROME, to_utc
from mediation.extensions import db
from mediation.models import (
    Action,
    AssignmentState,
    AuditEvent,
    Closure,
    Cycle,
    Document,
    DocumentKind,
    LogState,
    MacroAction,
    MediationRequest,
    OutboxMessage,
    Outcome,
    PreferredSlot,
    PupilCase,
    RequestState,
    Role,
    SessionLog,
)

from tests.conftest import login
from tests.scenarios.filing import World, school_day

EN = {"Accept-Language": "en"}
PDF = b"%PDF-1.4 a small test document\n%%EOF\n"


def error_for(html: str, field_id: str) -> str:
    """The error text shown next to a field ("" if none)."""
    match = re.search(rf'<div id="{field_id}-error" class="invalid-feedback d-block">(.*?)</div>',
                      html, re.S)
    return " ".join(match.group(1).split()) if match else ""


def listed_ids(html: str) -> set[int]:
    return {int(n) for n in re.findall(r'href="/requests/(\d+)"', html)}


def only_request() -> MediationRequest:
    return db.session.scalars(sa.select(MediationRequest)).one()


# --- filing a meeting -------------------------------------------------------


def test_choose_type_lists_active_types(client, world, factory):
    """The type chooser links to every active type and not to inactive ones."""
    factory.request_type(code="retired", active=False, name_en="Retired type")
    login(client, world.teacher)
    html = client.get("/requests/new", headers=EN).get_data(as_text=True)
    assert "/requests/new/family_meeting" in html
    assert "/requests/new/translation" in html
    assert "Retired type" not in html
    assert client.get("/requests/new/retired").status_code == 404


def test_meeting_form_shows_language_varieties_and_default_duration(client, world):
    """The form labels varieties with their language and preselects the type's duration."""
    login(client, world.teacher)
    response = client.get("/requests/new/family_meeting", headers=EN)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Arabic — Moroccan Arabic" in html
    assert '<option selected value="60">' in html
    assert "2026-001" in html
    assert "js/requests.js" in html


def test_teacher_files_family_meeting_with_existing_case(client, world):
    """A valid meeting becomes an open request with its slots, then redirects to its page."""
    login(client, world.teacher)
    response = client.post("/requests/new/family_meeting", data=world.meeting_form(),
                           headers=EN)
    req = only_request()
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/requests/{req.id}")
    assert req.state == RequestState.open
    assert req.pupil_case_id == world.case.id
    assert req.language_id == world.darija.id
    assert req.site_id == world.site.id
    assert req.duration_minutes == 60
    assert (req.expected_pupils, req.expected_parents, req.expected_teachers) == (1, 2, 1)
    assert [s.start_dt for s in req.slots] == [
        to_utc(school_day(1, 0), datetime.strptime("09:00", "%H:%M").time()),
        to_utc(school_day(1, 2), datetime.strptime("14:30", "%H:%M").time()),
    ]
    assert req.slots[0].end_dt - req.slots[0].start_dt == timedelta(minutes=60)
    page = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert "Request sent" in page
    assert "2026-001" in page


def test_teacher_files_meeting_with_new_inline_case(client, world):
    """Choosing "new pupil code" creates the case (no names) in the same transaction."""
    login(client, world.teacher)
    data = world.meeting_form(pupil_case="new", case_code="2026-077", case_class="1A",
                              case_cycle="primaria", case_arrival_year="2025",
                              case_home_language="0")
    response = client.post("/requests/new/family_meeting", data=data)
    assert response.status_code == 302
    req = only_request()
    case = db.session.get(PupilCase, req.pupil_case_id)
    assert (case.code, case.class_name, case.cycle, case.arrival_year) == (
        "2026-077", "1A", Cycle.primaria, 2025)
    assert case.school_id == world.school.id
    assert [lang.id for lang in case.home_languages] == [world.darija.id]


def test_new_case_needs_code_class_and_cycle(client, world):
    """A new pupil without code is refused next to the code field; nothing is stored."""
    login(client, world.teacher)
    data = world.meeting_form(pupil_case="new", case_code="", case_class="", case_cycle="")
    response = client.post("/requests/new/family_meeting", data=data, headers=EN)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "required for a new pupil" in error_for(html, "case_code")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PupilCase)) == 1


def test_duplicate_new_case_code_is_refused_and_rolled_back(client, world):
    """Reusing an existing code shows the operation's message next to the code field."""
    login(client, world.teacher)
    data = world.meeting_form(pupil_case="new", case_code="2026-001", case_class="1A",
                              case_cycle="primaria")
    response = client.post("/requests/new/family_meeting", data=data, headers=EN)
    assert response.status_code == 400
    assert "already used" in error_for(response.get_data(as_text=True), "case_code")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MediationRequest)) == 0


def test_school_requiring_approval_sends_to_lead(client, factory):
    """A teacher's request waits for the lead, who gets an email in the outbox."""
    world = World(factory, requires_approval=True)
    login(client, world.teacher)
    response = client.post("/requests/new/family_meeting", data=world.meeting_form(),
                           headers=EN)
    assert response.status_code == 302
    req = only_request()
    assert req.state == RequestState.awaiting_approval
    recipients = db.session.scalars(sa.select(OutboxMessage.recipient_id)).all()
    assert recipients == [world.lead.id]
    page = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert "for approval" in page


def test_lead_request_needs_no_approval(client, factory):
    """The lead's own request is open at once, even where approval is required."""
    world = World(factory, requires_approval=True)
    login(client, world.lead)
    client.post("/requests/new/family_meeting", data=world.meeting_form())
    assert only_request().state == RequestState.open


@pytest.mark.parametrize(
    ("case", "field", "message"),
    [
        ("past", "slot_2_date", "in the past"),
        ("weekend", "slot_2_date", "weekend"),
        ("closure", "slot_2_date", "closed on that day (Sciopero)"),
        ("no_project", "slot_2_date", "No project is running"),
        ("short", "duration", "at least 15 minutes"),
    ],
)
def test_meeting_refusals_show_next_to_field_and_keep_input(client, world, case, field, message):
    """Each refusal is a 400 with the message next to its field and everything typed kept."""
    second = school_day(2, 1)
    overrides = {}
    if case == "past":
        second = datetime.now(ROME).date() - timedelta(days=7)
    elif case == "weekend":
        second = school_day(2, 5)
    elif case == "closure":
        world.factory.add(Closure(school=world.school, name="Sciopero", start_date=second,
                                  end_date=second))
    elif case == "no_project":
        # A Monday after the project ends, whatever the date.
        second = world.project.end_date + timedelta(days=7 - world.project.end_date.weekday())
    elif case == "short":
        overrides["duration"] = "10"
    login(client, world.teacher)
    data = world.meeting_form(slot_2_date=second.isoformat(), slot_2_time="10:15",
                              notes="Kept note 42", **overrides)
    response = client.post("/requests/new/family_meeting", data=data, headers=EN)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in error_for(html, field)
    assert f'value="{second.isoformat()}"' in html
    assert 'value="10:15"' in html
    assert "Kept note 42" in html
    assert f'<option selected value="{world.darija.id}">' in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MediationRequest)) == 0


def test_slot_needs_date_and_time_and_site_in_person(client, world):
    """Form-level checks: a day without a time, no slot at all, no site in person."""
    login(client, world.teacher)
    data = world.meeting_form(slot_1_date="", slot_1_time="", slot_2_time="", site="",
                              expected_parents="-1")
    response = client.post("/requests/new/family_meeting", data=data, headers=EN)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "at least one time" in error_for(html, "slot_1_date")
    assert "start time as well" in error_for(html, "slot_2_time")
    assert "Choose where" in error_for(html, "site")
    assert "between 0 and 500" in error_for(html, "expected_parents")


def test_phone_meeting_needs_no_site(client, world):
    """A phone meeting is accepted without a site."""
    login(client, world.teacher)
    response = client.post("/requests/new/family_meeting",
                           data=world.meeting_form(mode="phone", site="",
                                                   call_number="0371 123456"))
    assert response.status_code == 302
    req = only_request()
    assert req.site_id is None and req.mode.value == "phone"
    assert req.call_number == "0371 123456"


def test_other_roles_cannot_file(client, world, factory):
    """Coordinators and mediators get a 404 on the school's pages."""
    coordinator = factory.user(Role.coordinator, ambito=world.ambito)
    login(client, coordinator)
    assert client.get("/requests").status_code == 404
    assert client.get("/requests/new/family_meeting").status_code == 404


# --- translations and documents ---------------------------------------------


def translation_form(world, files, **overrides):
    data = {
        "language": str(world.arabic.id),
        "deadline_date": school_day(1, 3).isoformat(),
        "deadline_time": "12:00",
        "direction": "from_italian",
        "page_count": "2",
        "urgency": "urgent",
        "notes": "Circolare gite",
        "documents": files,
    }
    data.update(overrides)
    return data


def test_translation_with_pdf_is_stored_and_downloadable(app, client, world, factory):
    """The PDF is stored under UPLOAD_FOLDER, downloadable by the school, 404 elsewhere."""
    login(client, world.teacher)
    response = client.post(
        "/requests/new/translation",
        data=translation_form(world, [(io.BytesIO(PDF), "circolare.pdf")]),
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    req = only_request()
    assert req.state == RequestState.open
    assert req.deadline_dt == to_utc(school_day(1, 3), datetime.strptime("12:00", "%H:%M").time())
    assert req.direction.value == "from_italian" and req.page_count == 2
    doc = db.session.scalars(sa.select(Document)).one()
    assert doc.kind == DocumentKind.source and doc.request_id == req.id
    stored = Path(app.config["UPLOAD_FOLDER"]) / doc.storage_name
    assert stored.read_bytes() == PDF

    url = f"/requests/{req.id}/documents/{doc.id}"
    assert url in client.get(f"/requests/{req.id}").get_data(as_text=True)
    with client.get(url) as download:
        assert download.status_code == 200
        assert download.data == PDF
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        assert download.mimetype == "application/pdf"
        assert "attachment" in download.headers["Content-Disposition"]
        assert "circolare.pdf" in download.headers["Content-Disposition"]

    other = factory.user(Role.teacher)
    other_client = app.test_client()
    login(other_client, other)
    assert other_client.get(url).status_code == 404


def test_document_of_another_request_is_404(client, world):
    """A document id that belongs to another request of the same school is a 404."""
    first, second = world.request(), world.request()
    doc = world.factory.add(Document(request=first, kind=DocumentKind.source,
                                     storage_name="a" * 32, original_name="x.pdf",
                                     content_type="application/pdf", size_bytes=1, sha256="0"))
    login(client, world.teacher)
    assert client.get(f"/requests/{second.id}/documents/{doc.id}").status_code == 404


def test_executable_renamed_pdf_is_refused(app, client, world):
    """A .exe named .pdf is refused next to the file field; no request, no file is kept."""
    login(client, world.teacher)
    fake = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 100
    response = client.post(
        "/requests/new/translation",
        data=translation_form(world, [(io.BytesIO(PDF), "good.pdf"),
                                      (io.BytesIO(fake), "virus.pdf")]),
        content_type="multipart/form-data", headers=EN,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "virus.pdf is not a PDF" in error_for(html, "documents")
    assert "choose the documents again" in html
    assert "Circolare gite" in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MediationRequest)) == 0
    folder = Path(app.config["UPLOAD_FOLDER"])
    assert not folder.exists() or list(folder.iterdir()) == []


def test_translation_needs_a_document_and_future_deadline(client, world):
    """No file, or a past deadline, is refused next to the right field."""
    login(client, world.teacher)
    response = client.post("/requests/new/translation", data=translation_form(world, []),
                           content_type="multipart/form-data", headers=EN)
    assert response.status_code == 400
    assert "at least one document" in error_for(response.get_data(as_text=True), "documents")
    past = (datetime.now(ROME).date() - timedelta(days=3)).isoformat()
    response = client.post(
        "/requests/new/translation",
        data=translation_form(world, [(io.BytesIO(PDF), "a.pdf")], deadline_date=past),
        content_type="multipart/form-data", headers=EN,
    )
    assert response.status_code == 400
    assert "must be in the future" in error_for(response.get_data(as_text=True),
                                                "deadline_date")


# --- approval, rejection, cancellation ---------------------------------------


def test_lead_approves(client, world):
    """The lead approves an awaiting request: it becomes open, with its audit event."""
    req = world.request(state=RequestState.awaiting_approval)
    login(client, world.lead)
    page = client.get(f"/requests/{req.id}", headers=EN).get_data(as_text=True)
    assert f'action="/requests/{req.id}/approve"' in page
    response = client.post(f"/requests/{req.id}/approve")
    assert response.status_code == 302
    db.session.refresh(req)
    assert req.state == RequestState.open
    actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert "request.approved" in actions


def test_lead_approving_twice_is_refused_politely(client, world):
    """Approving an open request flashes the refusal and changes nothing (no 500)."""
    req = world.request(state=RequestState.open)
    login(client, world.lead)
    response = client.post(f"/requests/{req.id}/approve", headers=EN, follow_redirects=True)
    assert response.status_code == 200
    assert "no longer in a state" in response.get_data(as_text=True)


def test_teacher_cannot_approve(client, world):
    """Approval is the lead's: a teacher gets a 404 and sees no approve button."""
    req = world.request(state=RequestState.awaiting_approval)
    login(client, world.teacher)
    assert f"/requests/{req.id}/approve" not in client.get(f"/requests/{req.id}").get_data(
        as_text=True)
    assert client.post(f"/requests/{req.id}/approve").status_code == 404
    db.session.refresh(req)
    assert req.state == RequestState.awaiting_approval


def test_lead_rejects_with_reason(client, world):
    """Rejecting needs a reason; with one the request is rejected and the teacher told."""
    req = world.request(state=RequestState.awaiting_approval)
    login(client, world.lead)
    response = client.post(f"/requests/{req.id}/reject", data={"reason": " "}, headers=EN)
    assert response.status_code == 400
    assert "Say why" in error_for(response.get_data(as_text=True), "reason")
    response = client.post(f"/requests/{req.id}/reject",
                           data={"reason": "Already covered by the school's own mediator"})
    assert response.status_code == 302
    db.session.refresh(req)
    assert req.state == RequestState.rejected
    assert req.rejection_reason == "Already covered by the school's own mediator"
    assert db.session.scalars(sa.select(OutboxMessage.recipient_id)).all() == [world.teacher.id]
    page = client.get(f"/requests/{req.id}", headers=EN).get_data(as_text=True)
    assert "Already covered" in page


def add_slot(req, start):
    db.session.add(PreferredSlot(request=req, position=1, start_dt=start,
                                 end_dt=start + timedelta(hours=1)))
    db.session.flush()


def test_cancel_more_than_a_day_ahead_is_not_late(client, world, factory):
    """Another teacher of the school cancels; the mediator's offer ends, not flagged late."""
    req = world.request(state=RequestState.offered)
    start = datetime.now(UTC) + timedelta(days=5)
    add_slot(req, start)
    mediator = factory.mediator(ambiti=[world.ambito])
    assignment = factory.assignment(request=req, mediator=mediator, start=start,
                                    end=start + timedelta(hours=1))
    colleague = factory.user(Role.teacher, school=world.school)
    login(client, colleague)
    page = client.get(f"/requests/{req.id}", headers=EN).get_data(as_text=True)
    assert "Cancel the request" in page
    assert "less than 24 hours" not in page
    response = client.post(f"/requests/{req.id}/cancel",
                           data={"reason": "family_unavailable", "note": "Moved"})
    assert response.status_code == 302
    db.session.refresh(req)
    db.session.refresh(assignment)
    assert req.state == RequestState.cancelled and not req.cancelled_late
    assert assignment.state == AssignmentState.cancelled
    page = client.get(f"/requests/{req.id}", headers=EN).get_data(as_text=True)
    assert "The family cannot come" in page


def test_cancel_within_a_day_is_flagged_late(client, world):
    """The page warns, and a cancellation less than 24 hours ahead is flagged late."""
    req = world.request(state=RequestState.open)
    add_slot(req, datetime.now(UTC) + timedelta(hours=3))
    login(client, world.teacher)
    page = client.get(f"/requests/{req.id}", headers=EN).get_data(as_text=True)
    assert "less than 24 hours away" in page
    response = client.post(f"/requests/{req.id}/cancel", data={"reason": "school_event"},
                           headers=EN, follow_redirects=True)
    assert "recorded as late" in response.get_data(as_text=True)
    db.session.refresh(req)
    assert req.state == RequestState.cancelled and req.cancelled_late


def test_cancel_needs_a_reason_and_a_cancellable_state(client, world):
    """No reason: 400 next to the field; a closed request shows no cancel and refuses it."""
    req = world.request(state=RequestState.open)
    login(client, world.teacher)
    response = client.post(f"/requests/{req.id}/cancel", data={"reason": ""}, headers=EN)
    assert response.status_code == 400
    assert "Choose a reason" in error_for(response.get_data(as_text=True), "reason")
    closed = world.request(state=RequestState.closed)
    db.session.commit()
    assert "Cancel the request" not in client.get(f"/requests/{closed.id}",
                                                  headers=EN).get_data(as_text=True)
    response = client.post(f"/requests/{closed.id}/cancel", data={"reason": "duplicate"})
    assert response.status_code == 302
    db.session.refresh(closed)
    assert closed.state == RequestState.closed


def test_other_school_gets_404_everywhere(app, client, world, factory):
    """A teacher and a lead of school B see nothing of school A's request."""
    req = world.request(state=RequestState.awaiting_approval)
    doc = factory.add(Document(request=req, kind=DocumentKind.source, storage_name="b" * 32,
                               original_name="x.pdf", content_type="application/pdf",
                               size_bytes=1, sha256="0"))
    school_b = factory.school(world.ambito)
    teacher_b = factory.user(Role.teacher, school=school_b)
    lead_b = factory.user(Role.lead, school=school_b)
    login(client, teacher_b)
    assert client.get(f"/requests/{req.id}").status_code == 404
    assert client.get(f"/requests/{req.id}/documents/{doc.id}").status_code == 404
    assert client.post(f"/requests/{req.id}/cancel",
                       data={"reason": "duplicate"}).status_code == 404
    assert req.id not in listed_ids(client.get("/requests").get_data(as_text=True))
    lead_client = app.test_client()
    login(lead_client, lead_b)
    assert lead_client.post(f"/requests/{req.id}/approve").status_code == 404
    assert lead_client.post(f"/requests/{req.id}/reject",
                            data={"reason": "no"}).status_code == 404
    db.session.refresh(req)
    assert req.state == RequestState.awaiting_approval


# --- the request page ---------------------------------------------------------


def logged_request(world, factory, summary="Family informed about the canteen"):
    req = world.request(state=RequestState.logged, site=world.site, pupil_case=world.case)
    start = datetime.now(UTC) - timedelta(days=2)
    add_slot(req, start)
    mediator = factory.mediator(ambiti=[world.ambito], display_name="Amina Mediatrice")
    assignment = factory.assignment(request=req, mediator=mediator, start=start,
                                    end=start + timedelta(hours=1),
                                    state=AssignmentState.accepted)
    macro = factory.add(MacroAction(project=world.project, number=1, title_it="M1",
                                    title_en="M1"))
    action = factory.add(Action(macro_action=macro, code="1.1", title_it="A", title_en="A"))
    factory.add(SessionLog(assignment=assignment, actual_start_dt=start,
                           actual_end_dt=start + timedelta(hours=1), parents_met=2,
                           outcome=Outcome.held, summary=summary, macro_action=macro,
                           action=action, state=LogState.submitted))
    return req, mediator


def test_detail_shows_request_assignment_log_and_history(client, world, factory):
    """The school sees the request, the mediator, the log with summary, the history."""
    world.case.country_of_origin = "ZW"
    world.case.high_absences = True
    req, _ = logged_request(world, factory)
    factory.add(AuditEvent(action="request.cancelled", object_type="MediationRequest",
                           object_id=req.id, actor_id=world.teacher.id,
                           data={"reason": "pupil_moved", "late": True}))
    login(client, world.teacher)
    html = client.get(f"/requests/{req.id}", headers=EN).get_data(as_text=True)
    assert "Amina Mediatrice" in html
    assert "Code 2026-001, class 3B" in html
    assert "ZW" not in re.sub(r'value="[^"]*"', "", html)  # (CSRF tokens are random)
    assert world.site.address in html
    assert "Family informed about the canteen" in html
    assert "Macro-action 1" in html and "action 1.1" in html
    assert "Request cancelled" in html
    assert "The pupil moved to another school" in html
    assert "late: less than 24 hours" in html


@pytest.mark.parametrize("role", ["coordinator", "admin", "mediator"])
def test_other_roles_view_detail_in_scope(app, client, world, factory, role):
    """Coordinators, admins and the mediator see the page; the admin not the summary."""
    req, mediator = logged_request(world, factory)
    user = {"coordinator": lambda: factory.user(Role.coordinator, ambito=world.ambito),
            "admin": lambda: factory.user(Role.admin),
            "mediator": lambda: mediator.user}[role]()
    login(client, user)
    response = client.get(f"/requests/{req.id}", headers=EN)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Amina Mediatrice" in html
    assert ("Family informed about the canteen" in html) == (role != "admin")
    assert f"/requests/{req.id}/cancel" not in html or role != "mediator"


def test_detail_is_404_for_foreign_coordinator_and_mediator(app, client, world, factory):
    """A coordinator of another Ambito and an unrelated mediator get a 404."""
    req, _ = logged_request(world, factory)
    login(client, factory.user(Role.coordinator))
    assert client.get(f"/requests/{req.id}").status_code == 404
    other = app.test_client()
    login(other, factory.mediator(ambiti=[world.ambito]).user)
    assert other.get(f"/requests/{req.id}").status_code == 404


# --- the list -----------------------------------------------------------------


def test_list_filters(client, world, factory):
    """State, type, language, date range and "only mine" each narrow the list."""
    colleague = factory.user(Role.teacher, school=world.school)
    a = world.request(state=RequestState.open)
    add_slot(a, to_utc(school_day(1, 0), datetime.strptime("09:00", "%H:%M").time()))
    b = world.request(state=RequestState.confirmed, language=world.darija, requester=colleague)
    add_slot(b, to_utc(school_day(3, 0), datetime.strptime("09:00", "%H:%M").time()))
    c = world.request(type=world.translation, state=RequestState.open, duration_minutes=None,
                      deadline_dt=to_utc(school_day(1, 2), datetime.strptime("12:00",
                                                                              "%H:%M").time()))
    foreign = factory.request(state=RequestState.open)
    login(client, world.teacher)

    def ids(**query):
        response = client.get("/requests", query_string=query)
        assert response.status_code == 200
        return listed_ids(response.get_data(as_text=True))

    assert ids() == {a.id, b.id, c.id}
    assert foreign.id not in ids()
    assert ids(state="confirmed") == {b.id}
    assert ids(type=str(world.translation.id)) == {c.id}
    assert ids(language=str(world.darija.id)) == {b.id}
    assert ids(mine="y") == {a.id, c.id}
    week = school_day(1, 0)
    assert ids(date_from=week.isoformat(), date_to=(week + timedelta(days=4)).isoformat()) == {
        a.id, c.id}
    assert ids(date_from=school_day(2, 0).isoformat()) == {b.id}
    assert ids(state="nonsense") == {a.id, b.id, c.id}


def test_list_is_paginated_newest_first(app, client, world):
    """PER_PAGE rows per page, newest first, filters kept in the page links."""
    app.config["PER_PAGE"] = 2
    made = [world.request(created_dt=datetime.now(UTC) - timedelta(days=10 - i))
            for i in range(3)]
    login(client, world.teacher)
    html = client.get("/requests?mine=y").get_data(as_text=True)
    order = [int(n) for n in re.findall(r'href="/requests/(\d+)"', html)]
    assert order == [made[2].id, made[1].id]
    assert "page=2" in html and "mine=y" in html
    assert listed_ids(client.get("/requests?mine=y&page=2").get_data(as_text=True)) == {
        made[0].id}


def test_lead_sees_requests_awaiting_approval(app, client, world):
    """The lead's list opens with the requests awaiting approval; a teacher's does not."""
    waiting = world.request(state=RequestState.awaiting_approval)
    login(client, world.lead)
    html = client.get("/requests", headers=EN).get_data(as_text=True)
    assert "awaits your approval" in html
    assert f'action="/requests/{waiting.id}/approve"' in html
    teacher_client = login(app.test_client(), world.teacher)
    teacher = teacher_client.get("/requests", headers=EN)
    assert teacher.status_code == 200
    assert "awaits your approval" not in teacher.get_data(as_text=True)


# --- query counts --------------------------------------------------------------


def test_list_queries_do_not_grow(app, factory, count_queries):
    """The list costs the same number of queries with 5 or 100 requests on the page."""
    app.config["PER_PAGE"] = 200
    counts = []
    for n in (5, 100):
        ambito = factory.ambito()
        school = factory.school(ambito)
        project = factory.project()
        lead = factory.user(Role.lead, school=school)
        mediator = factory.mediator(ambiti=[ambito])
        start = datetime.now(UTC) + timedelta(days=3)
        for i in range(n):
            case = factory.add(PupilCase(school=school, code=f"C{factory.n()}",
                                         class_name="1A", cycle=Cycle.primaria))
            req = factory.request(
                school=school, project=project, pupil_case=case, site=school.sites[0],
                requester=factory.user(Role.teacher, school=school),
                language=factory.language(f"x{factory.n()}"), type=factory.request_type(),
                state=RequestState.awaiting_approval if i % 3 == 0 else RequestState.offered,
            )
            slot = start + timedelta(hours=2 * i)
            add_slot(req, slot)
            if req.state == RequestState.offered:
                factory.assignment(request=req, mediator=mediator, start=slot,
                                   end=slot + timedelta(hours=1))
        client = app.test_client()
        login(client, lead)
        db.session.expunge_all()
        with count_queries() as counter:
            response = client.get("/requests")
        assert response.status_code == 200
        assert len(listed_ids(response.get_data(as_text=True))) == n
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


def test_detail_queries_do_not_grow(app, factory, count_queries):
    """The request page costs the same with 5 or 100 assignments, events and documents."""
    counts = []
    for n in (5, 100):
        world = World(factory, again=n != 5)
        req, _ = logged_request(world, factory)
        for i in range(n):
            mediator = factory.mediator(ambiti=[world.ambito],
                                        languages=(f"m{factory.n()}",))
            at = datetime.now(UTC) + timedelta(days=1, hours=i)
            assignment = factory.assignment(request=req, mediator=mediator, start=at,
                                            end=at + timedelta(hours=1),
                                            state=AssignmentState.declined,
                                            decline_reason="Busy")
            factory.add(AuditEvent(action="assignment.declined", object_type="MediationRequest",
                                   object_id=req.id, actor_id=mediator.user_id,
                                   data={"assignment_id": assignment.id,
                                         "mediator_id": mediator.id}))
            factory.add(Document(request=req, kind=DocumentKind.source,
                                 storage_name=f"{factory.n():032d}", original_name=f"d{i}.pdf",
                                 content_type="application/pdf", size_bytes=10, sha256="0",
                                 uploaded_by_id=world.teacher.id))
        url = f"/requests/{req.id}"
        client = app.test_client()
        login(client, world.teacher)
        db.session.expunge_all()
        with count_queries() as counter:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts

