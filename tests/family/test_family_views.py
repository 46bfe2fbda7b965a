"""The family's page (/f/<token>), opened from the letter's QR code or link, without login:
what it shows, the answers, when it stops working, what a guess gets, the rate limit; the
answer on the request page and in the coordinator's queue; the emails it sends."""

import re
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from mediation.bookings import operations as booking_ops
from mediation.config import DefaultConfig
from mediation.extensions import db
from mediation.family import operations as family_operations
from mediation.models import (
    AssignmentState,
    AuditEvent,
    FamilyAnswer,
    FamilyInvitation,
    OutboxMessage,
    Role,
)

from tests.conftest import login
from tests.family.conftest import NOTE, PUPIL_CODE, letter_link, make_meeting
from tests.family.qr import SVG, decode_svg


def path_of(link: str) -> str:
    return urlsplit(link).path


def family_link(client, booking, meeting, lang="ar") -> str:
    """The letter's link, printed for the teacher, then the teacher logged out: the family
    has no account."""
    login(client, booking.teacher)
    link = letter_link(client, meeting.request.id, lang)
    client.post("/logout")
    client.get("/login")  # shows (and so drops) the logout's message
    return path_of(link)


def answer(client, path: str, value: str):
    return client.post(path, data={"answer": value})


def invitation_of(meeting) -> FamilyInvitation:
    db.session.expire_all()
    return db.session.scalar(sa.select(FamilyInvitation).where(
        FamilyInvitation.assignment_id == meeting.assignment.id))


def mails(kind_words: str) -> list[OutboxMessage]:
    return [m for m in db.session.scalars(sa.select(OutboxMessage)) if kind_words in m.subject]


# --- the letter carries the link, as text and as a QR code -------------------------------


def test_the_letter_prints_a_qr_code_that_reads_as_its_link(client, booking, meeting, app):
    login(client, booking.teacher)
    link = letter_link(client, meeting.request.id)
    assert link.startswith(app.config["EXTERNAL_URL"].rstrip("/") + "/f/")
    page = client.get(f"/requests/{meeting.request.id}/letter?lang=ar").get_data(as_text=True)
    codes = SVG.findall(page)
    assert len(codes) == 2  # one in each half
    assert decode_svg(codes[0]) == [link]
    # Printed again, the same link: one invitation per meeting.
    assert letter_link(client, meeting.request.id, "zh") == link
    assert db.session.scalar(sa.select(sa.func.count(FamilyInvitation.id))) == 1
    # The token itself is not stored: only its hash.
    invitation = invitation_of(meeting)
    token = path_of(link).rsplit("/", 1)[1]
    assert token not in (invitation.token_hash, invitation.nonce)


# --- the page ---------------------------------------------------------------------------


def test_the_page_shows_the_meeting_in_the_familys_language_and_italian(client, booking,
                                                                         meeting):
    path = family_link(client, booking, meeting)
    response = client.get(path)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert '<section class="app-letter-half app-family-half" lang="ar" dir="rtl"' in text
    assert 'lang="it" dir="ltr"' in text
    assert "هل ستحضرون اللقاء؟" in text and "Verrete all&#39;incontro?" in text
    assert "Plesso" in text  # the place, as the letter shows it
    assert PUPIL_CODE not in text and NOTE not in text
    assert booking.teacher.email not in text and booking.mediator.user.email not in text
    assert 'name="robots" content="noindex' in text


def test_answers_latest_wins_and_the_request_page_shows_it(client, booking, meeting):
    path = family_link(client, booking, meeting)
    response = answer(client, path, "coming")
    assert response.status_code == 303
    assert invitation_of(meeting).answer == FamilyAnswer.coming
    assert "تلقّت المدرسة ردّكم" in client.get(response.headers["Location"]).get_data(
        as_text=True)
    assert mails("family") == []  # "we will come" bothers nobody

    answer(client, path, "another_day")
    invitation = invitation_of(meeting)
    assert invitation.answer == FamilyAnswer.another_day
    assert invitation.answered_at is not None
    events = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "family.answered")).all()
    assert [e.data["answer"] for e in events] == ["coming", "another_day"]
    assert all(e.actor_id is None for e in events)

    login(client, booking.teacher)
    page = client.get(f"/requests/{meeting.request.id}").get_data(as_text=True)
    assert 'data-family-answer="another_day"' in page
    assert "alla famiglia serve un altro giorno" in page


@pytest.mark.parametrize("value, subject", [("not_coming", "La famiglia non può venire"),
                                            ("another_day", "La famiglia chiede un altro giorno")])
def test_cannot_come_or_another_day_tells_the_requester_and_the_coordinators(
        client, booking, factory, meeting, value, subject):
    other_coordinator = factory.user(Role.coordinator, ambito=booking.school.ambito)
    elsewhere = factory.user(Role.coordinator, ambito=factory.ambito())
    db.session.commit()
    path = family_link(client, booking, meeting)
    answer(client, path, value)
    sent = mails(subject)
    assert sorted(m.recipient_id for m in sent) == sorted(
        [booking.teacher.id, booking.coordinator.id, other_coordinator.id])
    assert elsewhere.id not in {m.recipient_id for m in sent}
    # The same answer again tells no one twice.
    answer(client, path, value)
    assert len(mails(subject)) == 3


def test_the_coordinators_queue_shows_the_answer(client, booking, meeting):
    path = family_link(client, booking, meeting)
    answer(client, path, "not_coming")
    login(client, booking.coordinator)
    page = client.get("/coordination/requests?status=all").get_data(as_text=True)
    assert 'data-family-answer="not_coming"' in page


def test_a_mediator_does_not_see_the_answer(client, booking, meeting):
    path = family_link(client, booking, meeting)
    answer(client, path, "not_coming")
    login(client, booking.mediator.user)
    page = client.get(f"/requests/{meeting.request.id}").get_data(as_text=True)
    assert "data-family-answer" not in page


# --- when the link stops working: the same 404 as a guess ------------------------------


def same_page(text: str, path: str) -> str:
    """The page, less what differs on every request: the CSRF token, the path itself."""
    text = re.sub(r'name="csrf_token" value="[^"]*"', "", text)
    return text.replace(path, "/f/PATH")


def not_found_page(client) -> str:
    path = "/f/" + secrets.token_urlsafe(16)[:22]
    response = client.get(path)
    assert response.status_code == 404
    return same_page(response.get_data(as_text=True), path)


def test_a_guess_or_a_malformed_token_is_the_ordinary_404(client, booking, meeting):
    family_link(client, booking, meeting)
    guessed = not_found_page(client)
    for path in ("/f/x", "/f/" + "A" * 22, "/f/" + "A" * 200, "/f/a.b"):
        response = client.get(path)
        assert response.status_code == 404, path
    assert answer(client, "/f/" + "B" * 22, "coming").status_code == 404
    assert "Plesso" not in guessed and PUPIL_CODE not in guessed
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.action == "family.answered")) == 0


def test_the_link_stops_after_the_meeting(client, booking, meeting):
    path = family_link(client, booking, meeting)
    guessed = not_found_page(client)
    with freeze_time(meeting.end - timedelta(minutes=1)):
        assert client.get(path).status_code == 200
    with freeze_time(meeting.end + timedelta(seconds=1)):
        response = client.get(path)
        assert response.status_code == 404
        assert same_page(response.get_data(as_text=True), path) == guessed
        assert answer(client, path, "coming").status_code == 404
    assert invitation_of(meeting).answer is None


def test_the_link_stops_when_the_request_is_cancelled(client, booking, meeting):
    path = family_link(client, booking, meeting)
    booking_ops.cancel_request(booking.teacher, meeting.request, "no_longer_needed")
    db.session.commit()
    assert client.get(path).status_code == 404
    assert answer(client, path, "not_coming").status_code == 404


def test_a_token_answers_only_for_its_own_meeting(client, booking, factory, meeting):
    other = make_meeting(booking, factory, hour=14, code="LO-2026-OTHER-018")
    path = family_link(client, booking, meeting)
    other_path = family_link(client, booking, other)
    assert path != other_path
    answer(client, path, "not_coming")
    assert invitation_of(meeting).answer == FamilyAnswer.not_coming
    assert invitation_of(other).answer is None
    # The meeting moved to another assignment (another time): the old letter's link is
    # closed; the new letter carries a new one.
    meeting.assignment.state = AssignmentState.superseded
    factory.assignment(request=meeting.request, mediator=booking.mediator,
                       state=AssignmentState.accepted,
                       start=meeting.assignment.start_dt + timedelta(days=1),
                       end=meeting.assignment.end_dt + timedelta(days=1))
    db.session.commit()
    assert client.get(path).status_code == 404
    new_path = family_link(client, booking, meeting)
    assert new_path != path and client.get(new_path).status_code == 200


def test_an_unknown_answer_is_refused(client, booking, meeting):
    path = family_link(client, booking, meeting)
    assert answer(client, path, "maybe").status_code == 400
    assert invitation_of(meeting).answer is None


# --- the rate limit ------------------------------------------------------------------


@pytest.fixture
def production_limit(app_config):
    app_config["RATELIMIT_FAMILY_LINK"] = DefaultConfig.RATELIMIT_FAMILY_LINK


def test_the_link_is_rate_limited(production_limit, client, booking, meeting):
    path = family_link(client, booking, meeting)
    allowed = int(DefaultConfig.RATELIMIT_FAMILY_LINK.split()[0])
    statuses = [client.get("/f/" + secrets.token_urlsafe(16)[:22]).status_code
                for _ in range(allowed)]
    assert set(statuses) == {404}
    throttled = client.get(path)  # even the right link, from that address, for a while
    assert throttled.status_code == 429
    assert "Troppi tentativi" in throttled.get_data(as_text=True)
    assert "Plesso" not in throttled.get_data(as_text=True)



@pytest.fixture
def csrf_on(app_config):
    app_config["WTF_CSRF_ENABLED"] = True


def test_the_answer_needs_no_session_nor_cookie(csrf_on, app, booking, meeting):
    """The token in the address is the secret: a phone that keeps no cookie answers too;
    the page is not cached and sends no referrer."""
    with app.test_request_context():
        _, token = family_operations.issue(meeting.assignment)
        db.session.commit()
    client = app.test_client(use_cookies=False)
    page = client.get(f"/f/{token}")
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert client.post(f"/f/{token}", data={"answer": "coming"}).status_code == 303
    assert invitation_of(meeting).answer == FamilyAnswer.coming
    # Elsewhere the CSRF protection stands.
    assert client.post("/login", data={"email": "x@example.org", "password": "x"}
                       ).status_code == 400
