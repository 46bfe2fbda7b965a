"""The outbox page: who sees which emails, requeueing, CSRF, constant query count."""

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import g

from mediation.extensions import db
from mediation.models import AuditEvent, OutboxMessage, OutboxState, Role, User, utcnow

from tests.conftest import login, make_test_config


def message(factory, user: User, state=OutboxState.pending, **kw) -> OutboxMessage:
    kw.setdefault("attempts", 8 if state == OutboxState.dead else 1)
    kw.setdefault("last_error", "ConnectionRefusedError: [Errno 111] Connection refused")
    return factory.add(OutboxMessage(
        message_id=f"<m{factory.n()}@mediazione.example.org>", template="booking",
        recipient_email=user.email, recipient_id=user.id, locale="it",
        subject=f"Oggetto {factory.n()}", body_text="Testo\n", body_html="<p>Testo</p>",
        state=state, next_attempt_dt=utcnow() + timedelta(minutes=5), **kw,
    ))


@dataclass
class World:
    admin: User
    coordinator: User
    other_coordinator: User
    mine: dict  # name -> OutboxMessage of the coordinator's Ambito
    theirs: dict  # name -> OutboxMessage of the other Ambito


@pytest.fixture
def world(booking, factory) -> World:
    """Messages to people of the booking's Ambito (by school and by Ambito), to the other
    Ambito's people, to the admin, and one already sent."""
    other_ambito = factory.ambito()
    other_school = factory.school(other_ambito)
    other_teacher = factory.user(Role.teacher, school=other_school)
    other_coordinator = factory.user(Role.coordinator, ambito=other_ambito)
    admin = factory.user(Role.admin)
    mine = {
        "teacher": message(factory, booking.teacher),
        "mediator_dead": message(factory, booking.mediator.user, OutboxState.dead),
        "lead_sent": message(factory, booking.lead, OutboxState.sent, sent_dt=utcnow()),
    }
    theirs = {
        "teacher": message(factory, other_teacher),
        "teacher_dead": message(factory, other_teacher, OutboxState.dead),
        "admin": message(factory, admin),
    }
    db.session.commit()
    return World(admin, booking.coordinator, other_coordinator, mine, theirs)


def listed(response) -> set[int]:
    return {int(i) for i in re.findall(r'data-message="(\d+)"', response.text)}


def test_admin_sees_every_pending_and_dead_message(client, world):
    login(client, world.admin)
    response = client.get("/outbox/")
    assert response.status_code == 200
    expected = {m.id for m in (*world.mine.values(), *world.theirs.values())
                if m.state != OutboxState.sent}
    assert listed(response) == expected
    assert world.theirs["teacher"].recipient_email in response.text
    assert "Connection refused" in response.text


def test_coordinator_sees_their_ambito_only(client, world):
    login(client, world.coordinator)
    response = client.get("/outbox/")
    assert response.status_code == 200
    assert listed(response) == {world.mine["teacher"].id, world.mine["mediator_dead"].id}
    assert world.theirs["teacher"].recipient_email not in response.text
    assert 'data-state="pending" data-count="1"' in response.text
    assert 'data-state="dead" data-count="1"' in response.text
    dead_only = client.get("/outbox/?state=dead")
    assert listed(dead_only) == {world.mine["mediator_dead"].id}


@pytest.mark.parametrize("role", ["teacher", "lead", "mediator"])
def test_other_roles_get_404(client, booking, world, role):
    user = booking.mediator.user if role == "mediator" else getattr(booking, role)
    login(client, user)
    assert client.get("/outbox/").status_code == 404
    assert client.post(f"/outbox/{world.mine['teacher'].id}/requeue").status_code == 404
    assert client.post("/outbox/requeue-dead").status_code == 404
    db.session.refresh(world.mine["teacher"])
    assert world.mine["teacher"].attempts == 1


def test_anonymous_is_sent_to_login(client, world):
    response = client.get("/outbox/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_navigation_has_the_page_for_coordinators_only(client, auth, booking, world):
    login(client, world.coordinator)
    assert 'href="/outbox/"' in client.get("/").text
    auth.logout()
    login(client, booking.teacher)
    assert 'href="/outbox/"' not in client.get("/").text


def test_coordinator_requeues_a_dead_message(client, world):
    login(client, world.coordinator)
    dead = world.mine["mediator_dead"]
    response = client.post(f"/outbox/{dead.id}/requeue", data={"state": "dead"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/outbox/?state=dead")
    db.session.refresh(dead)
    assert (dead.state, dead.attempts) == (OutboxState.pending, 0)
    assert dead.next_attempt_dt <= utcnow()
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "outbox.requeued"))
    assert (event.object_type, event.object_id) == ("OutboxMessage", dead.id)
    assert event.actor_id == world.coordinator.id


def test_another_ambitos_message_is_404(client, world):
    login(client, world.coordinator)
    for other in (world.theirs["teacher_dead"], world.theirs["admin"]):
        assert client.post(f"/outbox/{other.id}/requeue").status_code == 404
        db.session.refresh(other)
        assert other.attempts in (1, 8)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "outbox.requeued")) == 0


def test_a_sent_message_cannot_be_requeued(client, world):
    login(client, world.admin)
    sent = world.mine["lead_sent"]
    assert client.post(f"/outbox/{sent.id}/requeue").status_code == 409
    db.session.refresh(sent)
    assert sent.state == OutboxState.sent


def test_requeue_all_dead_stays_in_scope(client, auth, world):
    login(client, world.coordinator)
    response = client.post("/outbox/requeue-dead")
    assert response.status_code == 302
    db.session.expire_all()
    assert world.mine["mediator_dead"].state == OutboxState.pending
    assert world.theirs["teacher_dead"].state == OutboxState.dead
    auth.logout()
    login(client, world.admin)
    client.post("/outbox/requeue-dead")
    db.session.expire_all()
    assert world.theirs["teacher_dead"].state == OutboxState.pending
    assert world.theirs["teacher_dead"].attempts == 0


def test_page_queries_do_not_grow(app, factory, count_queries):
    """The page costs the same with 3 or 40 messages (a full page, then pagination)."""
    counts = []
    for n in (3, 40):
        ambito = factory.ambito()
        school = factory.school(ambito)
        coordinator = factory.user(Role.coordinator, ambito=ambito)
        for i in range(n):
            recipient = factory.user(Role.teacher, school=school)
            message(factory, recipient, OutboxState.dead if i % 2 else OutboxState.pending)
        db.session.commit()
        client = app.test_client()
        login(client, coordinator)
        db.session.expunge_all()
        with count_queries() as counter:
            response = client.get("/outbox/")
        assert response.status_code == 200
        assert len(listed(response)) == min(n, app.config["PER_PAGE"])
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
    second = client.get("/outbox/?page=2")
    assert len(listed(second)) == 40 - app.config["PER_PAGE"]


class TestCsrf:
    @pytest.fixture
    def app_config(self, tmp_path):
        return make_test_config(tmp_path, WTF_CSRF_ENABLED=True)

    def test_requeue_needs_the_pages_token(self, app, world):
        client = app.test_client()
        page = client.get("/login").text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        client.post("/login", data={"email": world.admin.email,
                                    "password": "correct horse battery", "csrf_token": token})
        dead = world.mine["mediator_dead"]
        assert client.post(f"/outbox/{dead.id}/requeue").status_code == 400
        assert client.post("/outbox/requeue-dead").status_code == 400
        db.session.refresh(dead)
        assert dead.state == OutboxState.dead
        # Requests share the test's app context, where Flask-WTF caches the token of the
        # session before the login; a browser's next request would not see it.
        g.pop("csrf_token", None)
        page = client.get("/outbox/").text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        response = client.post(f"/outbox/{dead.id}/requeue", data={"csrf_token": token})
        assert response.status_code == 302
        db.session.refresh(dead)
        assert dead.state == OutboxState.pending


def requeue_button(response, message_id: int) -> bool:
    return f'action="/outbox/{message_id}/requeue"' in response.text


def test_a_message_being_sent_cannot_be_requeued(client, world):
    """A message a worker has claimed (lease not run out) has no Requeue button, and the
    POST is refused with a message, changing nothing; once the lease has run out (the
    worker died), or after the attempt failed, it can be requeued again."""
    from mediation.outbox import worker as outbox_worker

    dead = world.mine["mediator_dead"]
    leased = world.mine["teacher"]
    leased.next_attempt_dt = utcnow() - timedelta(seconds=1)
    db.session.commit()
    claimed = outbox_worker.claim_next()  # what a worker does before talking to the SMTP server
    assert claimed.id == leased.id
    db.session.refresh(leased)
    lease_until, attempts = leased.next_attempt_dt, leased.attempts

    login(client, world.coordinator)
    page = client.get("/outbox/")
    assert requeue_button(page, dead.id)
    assert not requeue_button(page, leased.id)
    row = re.search(rf'<tr id="message-{leased.id}".*?</tr>', page.text, re.S).group(0)
    assert "Invio in corso" in row

    response = client.post(f"/outbox/{leased.id}/requeue", follow_redirects=True)
    assert response.status_code == 200
    assert "in corso di invio proprio ora: non si può rimettere in coda" in response.text
    db.session.expire_all()
    assert (leased.state, leased.attempts, leased.next_attempt_dt) == (
        OutboxState.pending, attempts, lease_until)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "outbox.requeued")) == 0

    # The attempt failed: waiting for its next attempt, it may be requeued.
    outbox_worker.record_failure(claimed, "SMTPServerDisconnected: gone")
    assert requeue_button(client.get("/outbox/"), leased.id)
    # Claimed again, and the worker dies: once the lease has run out it may be requeued.
    db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == leased.id)
                       .values(next_attempt_dt=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert outbox_worker.claim_next().id == leased.id
    assert not requeue_button(client.get("/outbox/"), leased.id)
    db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == leased.id)
                       .values(leased_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert requeue_button(client.get("/outbox/"), leased.id)
    response = client.post(f"/outbox/{leased.id}/requeue")
    assert response.status_code == 302
    db.session.expire_all()
    assert (leased.state, leased.attempts, leased.leased_until) == (OutboxState.pending, 0, None)


def test_the_refusal_is_translated(client, world):
    from mediation.outbox import worker as outbox_worker

    world.admin.locale = "en"
    leased = world.theirs["admin"]
    leased.next_attempt_dt = utcnow() - timedelta(hours=1)
    db.session.commit()
    assert outbox_worker.claim_next().id == leased.id
    login(client, world.admin)
    assert "Being sent" in client.get("/outbox/").text
    response = client.post(f"/outbox/{leased.id}/requeue", follow_redirects=True)
    assert "A worker is sending this email right now: it cannot be requeued." in response.text
