"""The mediator's agenda: answering offers, logging sessions and translations."""

import io
import re
from datetime import datetime, time, timedelta

import pytest
import sqlalchemy as sa
from babel.dates import format_date
from flask import render_template

from mediation.bookings import policy
from mediation.clock import in_rome, to_utc
from mediation.extensions import db
from mediation.models import (
    Assignment,
    AssignmentState,
    Cycle,
    DocumentKind,
    LogState,
    MacroAction,
    Mode,
    OutboxMessage,
    Outcome,
    PupilCase,
    RequestKind,
    RequestState,
    Role,
    SessionLog,
)

from tests.conftest import login
from tests.scenarios.booking import now

EN = {"Accept-Language": "en"}


def yesterday_at(hour: int) -> datetime:
    """A time yesterday in Rome: in the past, and the same Rome day for start and end."""
    day = in_rome(now()).date() - timedelta(days=1)
    return to_utc(day, time(hour))


def visible_text(html: str) -> str:
    """The page's text without tags and attributes (where tokens could contain anything)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]*>", " ", html))


def assert_no_restricted_pupil_data(html: str) -> None:
    # The page's own content: the menu has an "Absences" entry (the mediator's own).
    main = html[html.index("<main"):html.index("</main>")]
    text = visible_text(main)
    assert "K7Q" in text  # the pupil code is shown...
    # ...but never the country of origin nor a risk indicator.
    assert not re.search(r"\bMA\b", text)
    assert "Morocco" not in text and "Marocco" not in text
    assert not re.search(r"\bA0\b", text)
    for word in ("absence", "repeated", "enrolment", "risk"):
        assert word not in text.lower()


# --- the agenda --------------------------------------------------------------------


def test_agenda_shows_offers_upcoming_days_and_sessions_to_log(client, world):
    """Sessions to log and offers come first, with their actions; then the appointments."""
    offer = world.booking(start=now() + timedelta(days=2))
    upcoming_start = to_utc(in_rome(now()).date() + timedelta(days=10), time(8, 30))
    upcoming = world.booking(start=upcoming_start, state=AssignmentState.accepted,
                             mode=Mode.in_person)
    past = world.booking(start=yesterday_at(10), state=AssignmentState.accepted)
    login(client, world.mediator.user)

    response = client.get("/agenda", headers=EN)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    tasks, appointments = html.split('id="today-title"')
    assert f"/agenda/assignments/{offer.id}/accept" in tasks
    assert f"/agenda/assignments/{offer.id}/decline" in tasks
    assert f"/agenda/assignments/{past.id}/log" in tasks
    assert "Log the session" in tasks
    heading = format_date(in_rome(upcoming_start).date(), "full", locale="en_GB")
    assert heading in appointments
    assert "08:30" in appointments and "09:30" in appointments
    assert world.site.address in appointments
    assert upcoming.request.type.name_en in appointments
    assert f"/agenda/assignments/{upcoming.id}/log" not in html


class Week:
    """A frozen moment, Wednesday 12:00 in Rome of the week after this one, and the days
    around it: the agenda's "today" and "this week" do not depend on the hour it runs."""

    def __init__(self):
        monday = in_rome(now()).date() + timedelta(days=7 - in_rome(now()).weekday())
        self.today = monday + timedelta(days=2)
        self.now = to_utc(self.today, time(12))

    def at(self, days: int, hour: int) -> datetime:
        return to_utc(self.today + timedelta(days=days), time(hour))


@pytest.fixture
def week(monkeypatch):
    frozen = Week()
    monkeypatch.setattr("mediation.agenda.views.utcnow", lambda: frozen.now)
    return frozen


def what_needs_the_mediator(world, week):
    """An offer waiting, two sessions to log (9 days and 1 day ago), one appointment later
    today, one on Friday and one in three weeks."""
    accepted = AssignmentState.accepted
    return {
        "later": world.booking(start=week.at(21, 10), state=accepted),
        "offer": world.booking(start=week.at(7, 10)),
        "friday": world.booking(start=week.at(2, 10), state=accepted),
        "today": world.booking(start=week.at(0, 15), state=accepted),
        "yesterday": world.booking(start=week.at(-1, 10), state=accepted),
        "old": world.booking(start=week.at(-9, 10), state=accepted),
    }


def test_agenda_puts_what_needs_the_mediator_first(client, world, week):
    """Overdue sessions (the oldest first, with their age), then the offer, then today,
    the rest of the week and later: each once, in this order, each with its action."""
    booked = what_needs_the_mediator(world, week)
    login(client, world.mediator.user)

    html = client.get("/agenda", headers=EN).get_data(as_text=True)

    order = [int(n) for n in re.findall(r'data-assignment="(\d+)"', html)]
    names = {a.id: name for name, a in booked.items()}
    assert [names[n] for n in order] == ["old", "yesterday", "offer", "today", "friday", "later"]
    headings = [html.index(f'id="{key}-title"') for key in ("tasks", "today", "this-week", "later")]
    assert headings == sorted(headings)
    assert html.index(f'data-assignment="{booked["friday"].id}"') > headings[2]
    # Each task carries its age and its action.
    old = task(html, booked["old"])
    assert "9 days ago" in old and f'href="/agenda/assignments/{booked["old"].id}/log"' in old
    assert "Yesterday" in task(html, booked["yesterday"])
    offer = task(html, booked["offer"])
    assert f'action="/agenda/assignments/{booked["offer"].id}/accept"' in offer
    assert f'href="/agenda/assignments/{booked["offer"].id}/decline"' in offer


def test_agenda_tasks_in_italian(client, world, week):
    """The ages and the labels read as Italian."""
    booked = what_needs_the_mediator(world, week)
    login(client, world.mediator.user)

    html = client.get("/agenda", headers={"Accept-Language": "it"}).get_data(as_text=True)

    assert "9 giorni fa" in task(html, booked["old"])
    assert "Ieri" in task(html, booked["yesterday"])
    assert "Registra l'incontro" in task(html, booked["old"])
    assert "Nuova proposta" in task(html, booked["offer"])
    assert "Da fare" in html and "Più avanti" in html


def task(html: str, assignment) -> str:
    """The markup of one item of "To do"."""
    start = html.index(f'id="task-{assignment.id}"')
    return html[start:html.index("</li>", start)]


@pytest.mark.parametrize(("days", "label"), [
    (0, "Today"), (1, "Yesterday"), (2, "2 days ago"), (13, "13 days ago"),
    (14, "2 weeks ago"), (59, "8 weeks ago"), (60, "2 months ago"), (400, "13 months ago"),
])
def test_how_long_ago(app, days, label):
    """Ages count Rome's calendar days: a session at 23:30 yesterday was "Yesterday"."""
    from mediation.agenda.views import since

    today = in_rome(now()).date()
    moment = to_utc(today - timedelta(days=days), time(23, 30))
    with app.test_request_context(headers=EN):
        assert since(moment, to_utc(today, time(0, 30))) == label


def test_week_navigation_is_one_row_of_three(client, world):
    """Previous, this week, next: three links in one group, named in full for screen
    readers; the week view links back to the agenda outside the group."""
    login(client, world.mediator.user)

    for url in ("/agenda", f"/agenda?week={in_rome(now()).date().isoformat()}"):
        html = client.get(url, headers=EN).get_data(as_text=True)
        nav = html[html.index('aria-label="Weeks"'):]
        nav = nav[:nav.index("</nav>")]
        assert nav.count("<a ") == 3, url
        assert 'aria-label="Previous week"' in nav and 'aria-label="Next week"' in nav


def test_agenda_italian_day_heading(client, world):
    """In Italian the days read like "giovedì 17 dicembre 2026"."""
    start = to_utc(in_rome(now()).date() + timedelta(days=4), time(9))
    world.booking(start=start, state=AssignmentState.accepted)
    login(client, world.mediator.user)

    html = client.get("/agenda", headers={"Accept-Language": "it"}).get_data(as_text=True)

    assert format_date(in_rome(start).date(), "full", locale="it") in html


def test_agenda_never_shows_the_pupils_restricted_data(client, world):
    """Country of origin and risk indicators never appear on the mediator's pages."""
    offer = world.booking()
    past = world.booking(start=yesterday_at(10), state=AssignmentState.accepted)
    world.booking(start=now() + timedelta(days=12), state=AssignmentState.accepted)
    login(client, world.mediator.user)

    for url in ("/agenda", f"/agenda/assignments/{offer.id}/decline",
                f"/agenda/assignments/{past.id}/log"):
        response = client.get(url, headers=EN)
        assert response.status_code == 200, url
        assert_no_restricted_pupil_data(response.get_data(as_text=True))


def test_agenda_shows_only_the_mediators_own_assignments(client, world, factory):
    """Another mediator's offer is not on my agenda."""
    other = factory.mediator(ambiti=[world.ambito])
    theirs = world.booking(mediator=other)
    mine = world.booking(start=now() + timedelta(days=5))
    login(client, world.mediator.user)

    html = client.get("/agenda", headers=EN).get_data(as_text=True)

    assert f"/agenda/assignments/{mine.id}/accept" in html
    assert f"/agenda/assignments/{theirs.id}/accept" not in html


def test_agenda_week_navigation(client, world):
    """?week= shows that week's appointments; a malformed week is a 404."""
    start = to_utc(in_rome(now()).date() + timedelta(days=21), time(9))
    booked = world.booking(start=start, state=AssignmentState.accepted)
    login(client, world.mediator.user)
    week = in_rome(start).date()

    inside = client.get(f"/agenda?week={week.isoformat()}", headers=EN)
    before = client.get(f"/agenda?week={(week - timedelta(days=7)).isoformat()}", headers=EN)

    assert f"requests/{booked.request_id}" in inside.get_data(as_text=True)
    assert f"requests/{booked.request_id}" not in before.get_data(as_text=True)
    assert client.get("/agenda?week=soon").status_code == 404


@pytest.mark.parametrize("role", [Role.teacher, Role.lead, Role.coordinator, Role.admin])
def test_other_roles_get_404(client, world, factory, role):
    """Only mediators have an agenda: every /agenda URL is a 404 for the other roles."""
    assignment = world.booking()
    kwargs = {"school": world.school} if role in (Role.teacher, Role.lead) else {}
    if role == Role.coordinator:
        kwargs = {"ambito": world.ambito}
    login(client, factory.user(role, **kwargs))

    assert client.get("/agenda").status_code == 404
    assert client.post(f"/agenda/assignments/{assignment.id}/accept").status_code == 404
    assert client.get(f"/agenda/assignments/{assignment.id}/decline").status_code == 404
    assert client.get(f"/agenda/assignments/{assignment.id}/log").status_code == 404
    db.session.refresh(assignment)
    assert assignment.state == AssignmentState.offered


def test_anonymous_is_sent_to_login(client):
    """Without logging in, the agenda redirects to the login page."""
    response = client.get("/agenda")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


# --- accepting and declining -------------------------------------------------------


def test_accept_confirms_and_tells_the_school(client, world):
    """Accepting confirms the request and queues emails to the requester and the lead."""
    assignment = world.booking()
    login(client, world.mediator.user)

    response = client.post(f"/agenda/assignments/{assignment.id}/accept")

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/agenda")
    db.session.expire_all()
    assert assignment.state == AssignmentState.accepted
    assert assignment.request.state == RequestState.confirmed
    recipients = set(db.session.scalars(sa.select(OutboxMessage.recipient_id)))
    assert {world.teacher.id, world.lead.id} <= recipients


def test_accept_reads_what_its_mails_need_at_once(client, world, count_queries):
    """The mails and invitations of an acceptance read the request's school, site,
    requester, type, language, the mediator's account and the coordinator in one
    statement, not one lazy load each."""
    assignment = world.booking()
    login(client, world.mediator.user)
    db.session.commit()
    db.session.expire_all()
    with count_queries() as counter:
        response = client.post(f"/agenda/assignments/{assignment.id}/accept")
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) >= 3
    # One lazy load each would be 5 statements more (21 on SQLite, 18 on PostgreSQL);
    # SQLite also counts the BEGIN IMMEDIATE that starts each of its transactions.
    assert counter.count <= (16 if db.engine.dialect.name == "sqlite" else 13)


def test_accept_goes_back_to_the_request_page(client, world):
    """Accepting from the request page comes back to it; a foreign `next` is ignored."""
    assignment = world.booking()
    login(client, world.mediator.user)
    page = f"/requests/{assignment.request_id}"

    response = client.post(f"/agenda/assignments/{assignment.id}/accept", data={"next": page})

    assert response.headers["Location"].endswith(page)
    other = world.booking(start=now() + timedelta(days=6))
    response = client.post(f"/agenda/assignments/{other.id}/accept",
                           data={"next": "https://evil.example/"})
    assert "evil" not in response.headers["Location"]


@pytest.mark.parametrize("gone", [AssignmentState.cancelled, AssignmentState.superseded])
def test_accept_after_cancel_is_refused_with_a_message(client, world, gone):
    """Accepting an offer cancelled or superseded meanwhile flashes why, changes nothing."""
    assignment = world.booking()
    assignment.state = gone
    assignment.request.state = (RequestState.cancelled if gone == AssignmentState.cancelled
                                else RequestState.open)
    login(client, world.mediator.user)

    response = client.post(f"/agenda/assignments/{assignment.id}/accept", headers=EN,
                           follow_redirects=True)

    assert response.status_code == 200
    assert "no longer in a state" in response.get_data(as_text=True)
    db.session.expire_all()
    assert assignment.state == gone
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_decline_requires_a_reason(client, world):
    """Declining without a reason re-shows the form (400) and keeps the offer."""
    assignment = world.booking()
    login(client, world.mediator.user)

    response = client.post(f"/agenda/assignments/{assignment.id}/decline",
                           data={"reason": "  "}, headers=EN)

    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert assignment.state == AssignmentState.offered


def test_decline_with_a_proposed_time(client, world):
    """Declining stores the reason and the proposed time (Rome wall clock → UTC)."""
    assignment = world.booking()
    login(client, world.mediator.user)
    day = in_rome(now()).date() + timedelta(days=8)

    response = client.post(f"/agenda/assignments/{assignment.id}/decline", data={
        "reason": "I am at another school that morning",
        "proposed_date": day.isoformat(), "proposed_time": "14:30",
    })

    assert response.status_code == 302
    db.session.expire_all()
    assert assignment.state == AssignmentState.declined
    assert assignment.decline_reason == "I am at another school that morning"
    assert assignment.proposed_start_dt == to_utc(day, time(14, 30))
    assert assignment.request.state == RequestState.open


def test_decline_with_half_a_proposal_or_a_past_one(client, world):
    """A date without a time, or a proposal in the past, is a form error (400)."""
    assignment = world.booking()
    login(client, world.mediator.user)
    url = f"/agenda/assignments/{assignment.id}/decline"
    future = (in_rome(now()).date() + timedelta(days=8)).isoformat()
    past = (in_rome(now()).date() - timedelta(days=2)).isoformat()

    half = client.post(url, data={"reason": "busy", "proposed_date": future}, headers=EN)
    old = client.post(url, data={"reason": "busy", "proposed_date": past,
                                 "proposed_time": "10:00"}, headers=EN)

    assert half.status_code == 400
    assert "both the day and the time" in half.get_data(as_text=True)
    assert old.status_code == 400
    assert "in the past" in old.get_data(as_text=True)
    assert "busy" in old.get_data(as_text=True)  # what was typed is kept
    db.session.expire_all()
    assert assignment.state == AssignmentState.offered


def test_decline_an_answered_offer_redirects(client, world):
    """The decline form of an offer already accepted sends back to the agenda."""
    assignment = world.booking(state=AssignmentState.accepted)
    login(client, world.mediator.user)

    response = client.post(f"/agenda/assignments/{assignment.id}/decline",
                           data={"reason": "changed my mind"})

    assert response.status_code == 302
    db.session.expire_all()
    assert assignment.state == AssignmentState.accepted


def test_another_mediators_assignment_is_404(client, world, factory):
    """Accept, decline and log of another mediator's assignment are 404s."""
    offer = world.booking()
    started = world.booking(start=yesterday_at(10), state=AssignmentState.accepted)
    login(client, factory.mediator(ambiti=[world.ambito]).user)

    assert client.post(f"/agenda/assignments/{offer.id}/accept").status_code == 404
    assert client.get(f"/agenda/assignments/{offer.id}/decline").status_code == 404
    assert client.post(f"/agenda/assignments/{offer.id}/decline",
                       data={"reason": "x"}).status_code == 404
    assert client.get(f"/agenda/assignments/{started.id}/log").status_code == 404
    assert client.post(f"/agenda/assignments/{started.id}/log").status_code == 404
    db.session.expire_all()
    assert offer.state == AssignmentState.offered
    assert started.session_log is None


# --- logging -----------------------------------------------------------------------


def meeting_log_data(start: datetime, **overrides) -> dict:
    local = in_rome(start)
    data = {
        "day": local.date().isoformat(),
        "actual_start": local.strftime("%H:%M"),
        "actual_end": (local + timedelta(minutes=50)).strftime("%H:%M"),
        "pupils_met": "1", "parents_met": "2", "teachers_met": "1",
        "outcome": "held", "summary": "Explained the school timetable and the canteen.",
        "follow_up_needed": "y",
    }
    data.update(overrides)
    return data


def test_log_before_the_start_is_refused(client, world):
    """A session that has not started cannot be logged: 409 with the message, no log."""
    assignment = world.booking(start=now() + timedelta(days=2), state=AssignmentState.accepted)
    login(client, world.mediator.user)
    url = f"/agenda/assignments/{assignment.id}/log"

    page = client.get(url, headers=EN)
    response = client.post(url, data=meeting_log_data(yesterday_at(10)), headers=EN)

    assert page.status_code == 409
    assert response.status_code == 409
    assert "only once it has started" in response.get_data(as_text=True)
    db.session.expire_all()
    assert assignment.request.state == RequestState.confirmed
    assert assignment.session_log is None


def test_log_form_is_prefilled_from_the_assignment(client, world):
    """The log form proposes the booked day, start and end."""
    start = yesterday_at(10)
    assignment = world.booking(start=start, state=AssignmentState.accepted)
    login(client, world.mediator.user)

    html = client.get(f"/agenda/assignments/{assignment.id}/log",
                      headers=EN).get_data(as_text=True)

    assert f'value="{in_rome(start).date().isoformat()}"' in html
    assert 'value="10:00"' in html and 'value="11:00"' in html
    assert "No names" in html


def test_log_after_the_start(client, world):
    """Logging a started session logs the request, counted against macro-action 1."""
    start = yesterday_at(10)
    assignment = world.booking(start=start, state=AssignmentState.accepted)
    login(client, world.mediator.user)

    response = client.post(f"/agenda/assignments/{assignment.id}/log",
                           data=meeting_log_data(start))

    assert response.status_code == 302
    db.session.expire_all()
    log = assignment.session_log
    assert assignment.request.state == RequestState.logged
    assert log.state == LogState.submitted
    assert log.macro_action.number == 1 and log.macro_action.project_id == world.project.id
    assert log.outcome == Outcome.held
    assert (log.pupils_met, log.parents_met, log.teachers_met) == (1, 2, 1)
    assert log.actual_start_dt == start
    assert log.actual_end_dt == start + timedelta(minutes=50)
    assert log.follow_up_needed is True
    # Logged: it leaves the list of sessions to log, and cannot be logged twice.
    assert f"/agenda/assignments/{assignment.id}/log" not in client.get("/agenda").get_data(
        as_text=True)
    assert client.get(f"/agenda/assignments/{assignment.id}/log").status_code == 409


def test_log_errors_keep_what_was_typed(client, world):
    """An end before the start, or a summary too long, re-shows the form (400)."""
    start = yesterday_at(10)
    assignment = world.booking(start=start, state=AssignmentState.accepted)
    login(client, world.mediator.user)
    url = f"/agenda/assignments/{assignment.id}/log"

    backwards = client.post(url, data=meeting_log_data(start, actual_end="09:00"), headers=EN)
    too_long = client.post(url, data=meeting_log_data(start, summary="x" * 1001), headers=EN)

    assert backwards.status_code == 400
    assert "The end must come after the start" in backwards.get_data(as_text=True)
    assert "Explained the school timetable" in backwards.get_data(as_text=True)
    assert too_long.status_code == 400
    db.session.expire_all()
    assert assignment.session_log is None
    assert assignment.request.state == RequestState.confirmed



def test_log_on_a_day_far_from_the_appointment_is_refused_on_the_day(client, world):
    """A session typed three years before the appointment (a day no project of it ran):
    400, the reason next to the Day field, in the person's language, what was typed kept."""
    start = yesterday_at(10)
    world.project.start_date = in_rome(start).date() - timedelta(days=200)
    assignment = world.booking(start=start, state=AssignmentState.accepted)
    login(client, world.mediator.user)
    url = f"/agenda/assignments/{assignment.id}/log"
    long_ago = (in_rome(start).date() - timedelta(days=3 * 365)).isoformat()

    english = client.post(url, data=meeting_log_data(start, day=long_ago), headers=EN)
    italian = client.post(url, data=meeting_log_data(start, day=long_ago),
                          headers={"Accept-Language": "it"})

    assert english.status_code == 400
    html = english.get_data(as_text=True)
    error = html.split('id="day-error"', 1)[1].split("</div>", 1)[0]
    assert "The session must take place within the period of its project" in error
    assert f'value="{long_ago}"' in html
    assert "Explained the school timetable" in html
    italian_error = italian.get_data(as_text=True).split('id="day-error"', 1)[1]
    assert "L'incontro deve svolgersi nel periodo del suo progetto" in italian_error
    db.session.expire_all()
    assert assignment.session_log is None
    assert assignment.request.state == RequestState.confirmed

def test_translation_log_with_a_pdf(client, world, app):
    """A translation is delivered with pages, words and the translated PDF."""
    assignment = world.booking(kind=RequestKind.deadline, state=AssignmentState.accepted,
                               deadline_dt=now() + timedelta(days=5), page_count=3,
                               site=None, pupil_case=None)
    login(client, world.mediator.user)
    assignment_id, teacher_id = assignment.id, world.teacher.id
    url = f"/agenda/assignments/{assignment_id}/log"
    assert "Deliver the translation" in client.get("/agenda", headers=EN).get_data(
        as_text=True)
    db.session.expunge_all()  # in production every HTTP request has its own session

    missing = client.post(url, data={"pages": "3", "words": "900"}, headers=EN)
    response = client.post(url, data={
        "pages": "3", "words": "900", "summary": "School forms",
        "document": (io.BytesIO(b"%PDF-1.4\n%fake pdf\n"), "modulo-tradotto.pdf"),
    }, content_type="multipart/form-data")

    assert missing.status_code == 400
    assert "Attach the translated document" in missing.get_data(as_text=True)
    assert response.status_code == 302
    assignment = db.session.get(Assignment, assignment_id)
    log = assignment.session_log
    assert assignment.request.state == RequestState.logged
    assert (log.pages, log.words) == (3, 900)
    document = log.delivered_document
    assert document.original_name == "modulo-tradotto.pdf"
    assert document.kind == DocumentKind.translation
    assert document.request_id == assignment.request_id
    assert document.content_type == "application/pdf"
    assert teacher_id in set(db.session.scalars(sa.select(OutboxMessage.recipient_id)))


def test_translation_log_refuses_a_fake_file(client, world):
    """A file that is not what its name says is a form error, and nothing is stored."""
    assignment = world.booking(kind=RequestKind.deadline, state=AssignmentState.accepted,
                               deadline_dt=now() + timedelta(days=5), site=None)
    login(client, world.mediator.user)

    response = client.post(f"/agenda/assignments/{assignment.id}/log", data={
        "pages": "1", "document": (io.BytesIO(b"MZ\x90\x00binary"), "virus.pdf"),
    }, content_type="multipart/form-data", headers=EN)

    assert response.status_code == 400
    assert "virus.pdf is not a PDF" in response.get_data(as_text=True)
    db.session.expire_all()
    assert assignment.session_log is None


def test_returned_log_can_be_corrected(client, world):
    """A log sent back shows the coordinator's comment, prefilled, and can be resubmitted."""
    start = yesterday_at(10)
    assignment = world.booking(start=start, state=AssignmentState.accepted,
                               request_state=RequestState.logged)
    macro = db.session.scalar(sa.select(MacroAction).where(
        MacroAction.project_id == world.project.id))
    world.factory.add(SessionLog(
        assignment=assignment, actual_start_dt=start, actual_end_dt=start + timedelta(hours=1),
        outcome=Outcome.held, summary="First version of the summary", macro_action=macro,
        state=LogState.returned, review_comment="Please give the number of parents met",
    ))
    login(client, world.mediator.user)
    assignment_id = assignment.id
    url = f"/agenda/assignments/{assignment_id}/log"

    agenda = client.get("/agenda", headers=EN).get_data(as_text=True)
    page = client.get(url, headers=EN).get_data(as_text=True)
    db.session.expunge_all()  # in production every HTTP request has its own session
    response = client.post(url, data=meeting_log_data(start, parents_met="3",
                                                      summary="Corrected summary"))

    assert "Please give the number of parents met" in agenda
    assert "Correct the log" in agenda
    assert "Please give the number of parents met" in page
    assert "First version of the summary" in page
    assert response.status_code == 302
    log = db.session.get(Assignment, assignment_id).session_log
    assert log.state == LogState.submitted
    assert log.review_comment is None
    assert (log.parents_met, log.summary) == (3, "Corrected summary")


# --- the partial on the request page -----------------------------------------------


def render_actions(app, assignment, user):
    with app.test_request_context(headers=EN):
        return render_template("requests/_mediator_actions.html", req=assignment.request,
                               active=assignment, now=now(), current_user=user,
                               actions=policy.actions(user, assignment.request, now()))


def test_request_actions_partial(app, world, factory):
    """The request page's side offers "Log the session" to the mediator only (the answer
    to an offer is at the top of the page: tests/requests/test_requests_views.py)."""
    offer = world.booking()
    started = world.booking(start=yesterday_at(10), state=AssignmentState.accepted)
    future = world.booking(start=now() + timedelta(days=9), state=AssignmentState.accepted)
    other = factory.mediator(ambiti=[world.ambito]).user

    started_html = render_actions(app, started, world.mediator.user)

    assert render_actions(app, offer, world.mediator.user).strip() == ""
    assert f"/agenda/assignments/{started.id}/log" in started_html
    assert render_actions(app, future, world.mediator.user).strip() == ""
    assert render_actions(app, offer, other).strip() == ""
    assert render_actions(app, offer, world.teacher).strip() == ""
    with app.test_request_context():
        assert render_template(
            "requests/_mediator_actions.html", req=offer.request, active=None, now=now(),
            current_user=world.mediator.user,
            actions=policy.actions(world.mediator.user, offer.request, now())).strip() == ""


# --- cost ------------------------------------------------------------------------


def populate(factory, n):
    """A mediator with ``n`` assignments: offers, upcoming and to log, all different."""
    ambito = factory.ambito()
    mediator = factory.mediator(ambiti=[ambito])
    project = factory.project()
    factory.add(MacroAction(project=project, number=1, title_it="M1", title_en="M1"))
    base = now()
    for i in range(n):
        school = factory.school(ambito)
        case = factory.add(PupilCase(school=school, code=f"C{factory.n()}", class_name="1A",
                                     cycle=Cycle.primaria))
        kind = i % 3
        state = AssignmentState.offered if kind == 0 else AssignmentState.accepted
        if kind == 2:
            start = base - timedelta(days=1, hours=2 * i)
        else:
            start = base + timedelta(days=1, hours=2 * i)
        request = factory.request(
            school=school, project=project, site=school.sites[0], pupil_case=case,
            language=factory.language(f"x{factory.n()}"), type=factory.request_type(),
            state=RequestState.offered if kind == 0 else RequestState.confirmed,
        )
        factory.assignment(request=request, mediator=mediator, start=start,
                           end=start + timedelta(minutes=45), state=state)
    db.session.commit()
    return mediator


def test_agenda_queries_do_not_grow(app, factory, count_queries):
    """/agenda costs the same number of queries with 5 or 100 assignments."""
    counts = []
    for n in (5, 100):
        mediator = populate(factory, n)
        client = app.test_client()
        login(client, mediator.user)
        db.session.expunge_all()
        with count_queries() as counter:
            response = client.get("/agenda")
        assert response.status_code == 200
        assert response.get_data(as_text=True).count("data-assignment=") == n
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
