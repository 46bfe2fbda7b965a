"""Offers to several mediators at once, the first to accept wins (issue #19): the
operations, the emails, the tiers of ``flask broadcasts send``, the pages, the policy,
and simultaneous acceptances on the suite's database (PostgreSQL in CI)."""

import re
import threading
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from mediation import broadcasts
from mediation.bookings import matching, policy
from mediation.bookings import operations as ops
from mediation.errors import DomainError, InvalidInput, NotAllowed
from mediation.extensions import db
from mediation.models import (
    ACTIVE_ASSIGNMENT_STATES,
    Assignment,
    AssignmentState,
    AuditEvent,
    BroadcastInvitation,
    BroadcastState,
    InvitationState,
    OfferBroadcast,
    OutboxMessage,
    RequestState,
    Role,
    utcnow,
)

from tests.conftest import csrf_token, login
from tests.scenarios.booking import submitted

N = 4


def mails(kind_text: str | None = None, template: str = "broadcast"):
    query = sa.select(OutboxMessage).where(OutboxMessage.template == template)
    return [m for m in db.session.scalars(query.order_by(OutboxMessage.id))
            if kind_text is None or kind_text in m.subject]


@pytest.fixture
def crew(booking):
    """The booking's mediator and N-1 others of the Ambito, all speaking the language."""
    ambito = booking.school.ambito
    others = [booking.factory.mediator(ambiti=[ambito], ambito=ambito, locale="en")
              for _ in range(N - 1)]
    db.session.commit()
    return [booking.mediator, *others]


def sent_to(booking, crew, tiers=None, delay=timedelta(0)):
    req = submitted(booking)
    slot = req.slots[0]
    done = ops.broadcast_offer(booking.coordinator, req, tiers or [crew], slot.start_dt,
                               slot.end_dt, delay)
    db.session.commit()
    return req, done


def invitation_of(broadcast, mediator) -> BroadcastInvitation:
    return next(i for i in broadcast.invitations if i.mediator_id == mediator.id)


def test_each_invited_mediator_is_emailed_and_nothing_is_booked(booking, crew):
    req, done = sent_to(booking, crew)
    assert req.state == RequestState.open
    assert {i.state for i in done.invitations} == {InvitationState.sent}
    invited = mails("Offer to several")  # the English ones
    assert len(mails()) == N
    assert {m.recipient_id for m in mails()} == {m.user_id for m in crew}
    italian = [m for m in mails() if m.locale == "it"]
    assert italian and all("Offerta a più" in m.subject for m in italian), italian
    assert invited and all("/agenda/invitations/" in m.body_text for m in invited)
    # Nothing booked: no assignment, and each invited mediator is still free then.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 0
    slot = req.slots[0]
    other = submitted(booking)
    ranked = matching.rank(other, booking.coordinator, slot.start_dt, slot.end_dt)
    assert {r.mediator.id for r in ranked if r.available} >= {m.id for m in crew}
    ops.offer(booking.coordinator, other, crew[1], slot.start_dt, slot.end_dt)
    db.session.commit()


def test_first_to_accept_wins_the_others_are_told(app, booking, crew):
    req, done = sent_to(booking, crew)
    winner, loser = crew[2], crew[1]
    assignment = ops.accept_invitation(winner.user, invitation_of(done, winner))
    db.session.commit()
    assert req.state == RequestState.confirmed
    assert assignment.state == AssignmentState.accepted
    assert assignment.mediator_id == winner.id and assignment.start_dt == req.slots[0].start_dt
    assert done.state == BroadcastState.taken
    states = Counter(i.state for i in done.invitations)
    assert states == {InvitationState.accepted: 1, InvitationState.withdrawn: N - 1}
    taken = [m for m in mails() if m.subject.startswith(("Already taken", "Già preso"))]
    assert {m.recipient_id for m in taken} == {m.user_id for m in crew if m is not winner}
    confirmed = mails(template="booking")
    assert {m.recipient_id for m in confirmed} >= {winner.user_id, booking.teacher.id}
    # The one who comes second reads that it is taken, in the operation and on the page.
    with pytest.raises(ops.InvitationClosed) as refused:
        ops.accept_invitation(loser.user, invitation_of(done, loser))
    assert refused.value.code == "taken"
    db.session.rollback()
    client = app.test_client()
    login(client, loser.user)
    page = client.get(f"/agenda/invitations/{invitation_of(done, loser).id}")
    assert page.status_code == 200 and "Already taken" in page.text
    assert 'data-action="accept_invitation"' not in page.text
    answer = client.post(f"/agenda/invitations/{invitation_of(done, loser).id}/accept")
    assert answer.status_code == 409 and "Already taken" in answer.text


def test_who_no_longer_fits_is_refused_and_the_offer_stays_open(booking, crew):
    req, done = sent_to(booking, crew)
    busy = crew[0]
    slot = req.slots[0]
    # Booked meanwhile at that very time, for another school request.
    ops.offer(booking.coordinator, submitted(booking), busy, slot.start_dt, slot.end_dt)
    db.session.commit()
    with pytest.raises(InvalidInput) as refused:
        ops.accept_invitation(busy.user, invitation_of(done, busy))
    assert refused.value.field == "invitation"
    assert str(matching.REASONS["busy"]) in str(refused.value.message)
    db.session.rollback()
    assert done.state == BroadcastState.open and req.state == RequestState.open
    ops.accept_invitation(crew[1].user, invitation_of(done, crew[1]))
    db.session.commit()
    assert req.state == RequestState.confirmed


def test_the_weekly_cap_holds_at_acceptance(booking, crew):
    req, done = sent_to(booking, crew)
    capped = crew[3]
    capped.weekly_hour_cap = 0
    db.session.commit()
    with pytest.raises(InvalidInput) as refused:
        ops.accept_invitation(capped.user, invitation_of(done, capped))
    assert str(matching.REASONS["over_cap"]) in str(refused.value.message)


def test_tiers_go_out_after_the_delay_once(booking, crew):
    req, done = sent_to(booking, crew, tiers=[crew[:2], crew[2:]],
                        delay=timedelta(hours=2))
    assert len(mails()) == 2
    later = [invitation_of(done, m) for m in crew[2:]]
    assert {i.state for i in later} == {InvitationState.waiting}
    # A mediator of a tier not sent yet cannot see nor accept it.
    with pytest.raises(NotAllowed):
        ops.accept_invitation(crew[3].user, later[1])
    db.session.rollback()
    assert broadcasts.send_due(utcnow()) == 0
    due = utcnow() + timedelta(hours=2, minutes=1)
    assert broadcasts.send_due(due) == 2
    assert broadcasts.send_due(due) == 0
    assert len(mails()) == 4
    db.session.expire_all()
    assert {i.state for i in later} == {InvitationState.sent}
    assert done.next_tier_dt is None


def test_no_tier_after_an_acceptance(booking, crew):
    req, done = sent_to(booking, crew, tiers=[crew[:2], crew[2:]],
                        delay=timedelta(hours=1))
    ops.accept_invitation(crew[0].user, invitation_of(done, crew[0]))
    db.session.commit()
    assert broadcasts.send_due(utcnow() + timedelta(hours=3)) == 0
    assert {invitation_of(done, m).state for m in crew[2:]} == {InvitationState.withdrawn}
    # Those never asked are not told either.
    assert {m.recipient_id for m in mails("Already taken")} <= {crew[1].user_id}


def test_cancelling_or_offering_to_one_withdraws_the_broadcast(booking, crew):
    req, done = sent_to(booking, crew)
    ops.cancel_request(booking.teacher, req, "duplicate")
    db.session.commit()
    assert done.state == BroadcastState.withdrawn
    assert {i.state for i in done.invitations} == {InvitationState.withdrawn}
    assert len(mails("Offer withdrawn")) + len(mails("Offerta ritirata")) == N
    with pytest.raises(ops.InvitationClosed):
        ops.accept_invitation(crew[0].user, invitation_of(done, crew[0]))
    db.session.rollback()
    req2, done2 = sent_to(booking, crew)
    slot = req2.slots[0]
    ops.offer(booking.coordinator, req2, crew[0], slot.start_dt, slot.end_dt)
    db.session.commit()
    assert done2.state == BroadcastState.withdrawn


def test_bad_broadcasts_are_refused(booking, crew):
    req = submitted(booking)
    slot = req.slots[0]
    for tiers, delay, field in (([crew[:1]], timedelta(0), "mediators"),
                                ([crew[:2], crew[2:]], timedelta(0), "delay_hours"),
                                ([crew[:2], crew[1:2]], timedelta(hours=1), "mediators")):
        with pytest.raises(InvalidInput) as refused:
            ops.broadcast_offer(booking.coordinator, req, tiers, slot.start_dt, slot.end_dt,
                                delay)
        assert refused.value.field == field
        db.session.rollback()
    ops.broadcast_offer(booking.coordinator, req, [crew], slot.start_dt, slot.end_dt)
    db.session.commit()
    # One open broadcast per request.
    with pytest.raises(DomainError):
        ops.broadcast_offer(booking.coordinator, req, [crew], slot.start_dt, slot.end_dt)


def test_the_database_refuses_two_acceptances(booking, crew):
    """Whatever the code does: one open broadcast per request, one accepted invitation
    per broadcast."""
    req, done = sent_to(booking, crew)
    for invitation in done.invitations[:2]:
        invitation.state = InvitationState.accepted
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()
    db.session.add(OfferBroadcast(request=req, created_by=booking.coordinator))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


# --- the pages --------------------------------------------------------------------


def test_coordinator_sends_the_top_of_the_ranking_from_the_offer_page(app, booking, crew):
    req = submitted(booking)
    client = app.test_client()
    login(client, booking.coordinator)
    page = client.get(f"/coordination/requests/{req.id}/offer?slot=1")
    assert 'data-action="broadcast"' in page.text and 'name="invite"' in page.text
    done = client.post(f"/coordination/requests/{req.id}/broadcast",
                       data={"slot": "1", "top": "2", "second_tier": "1", "delay_hours": "3"})
    assert done.status_code == 302
    broadcast = db.session.scalar(sa.select(OfferBroadcast))
    tiers = Counter(i.tier for i in broadcast.invitations)
    assert tiers == {1: 2, 2: 1}
    page = client.get(f"/coordination/requests/{req.id}/offer?slot=1")
    assert "app-broadcast-status" in page.text
    assert 'data-action="broadcast"' not in page.text
    assert client.post(f"/coordination/requests/{req.id}/broadcast/withdraw").status_code == 302
    db.session.expire_all()
    assert broadcast.state == BroadcastState.withdrawn


def test_coordinator_sends_a_chosen_set(app, booking, crew):
    req = submitted(booking)
    client = app.test_client()
    login(client, booking.coordinator)
    chosen = [crew[1].id, crew[3].id]
    done = client.post(f"/coordination/requests/{req.id}/broadcast",
                       data={"slot": "1", "invite": [str(i) for i in chosen]})
    assert done.status_code == 302
    broadcast = db.session.scalar(sa.select(OfferBroadcast))
    assert sorted(i.mediator_id for i in broadcast.invitations) == sorted(chosen)
    # One chosen alone is not several: refused with a message, nothing sent.
    req2 = submitted(booking)
    refused = client.post(f"/coordination/requests/{req2.id}/broadcast",
                          data={"slot": "1", "invite": str(crew[0].id)},
                          headers={"Accept-Language": "en"})
    assert refused.status_code == 400 and "at least two mediators" in refused.text


def test_the_agenda_lists_the_invitations_in_a_fixed_number_of_queries(app, booking, crew,
                                                                       count_queries):
    mediator = crew[1]
    client = app.test_client()
    login(client, mediator.user)

    def queries_for_agenda():
        with count_queries() as counted:
            page = client.get("/agenda")
        assert page.status_code == 200
        return counted.count, page.text.count('data-task="invitation"')

    sent_to(booking, crew)
    one = queries_for_agenda()
    for _ in range(3):
        sent_to(booking, crew)
    four = queries_for_agenda()
    assert (one[1], four[1]) == (1, 4)
    assert one[0] == four[0]


# --- the policy, the operation and the pages agree ---------------------------------

ROLES = ("coordinator", "admin", "other_coordinator", "invited", "waiting_tier",
         "not_invited", "teacher")
SCENARIOS = ("open", "broadcasting", "declined", "taken", "withdrawn", "offered", "cancelled")
EXPECTED = {
    "broadcast": {("open", "coordinator"), ("open", "admin"), ("withdrawn", "coordinator"),
                  ("withdrawn", "admin")},
    "accept_invitation": {("broadcasting", "invited")},
    # Declined: neither accepted nor declined again (the others still may).
    "decline_invitation": {("broadcasting", "invited")},
}


def _scene(booking, crew, scenario):
    factory = booking.factory
    users = {"coordinator": booking.coordinator, "admin": factory.user(Role.admin),
             "other_coordinator": factory.user(Role.coordinator), "invited": crew[0].user,
             "waiting_tier": crew[3].user,
             "not_invited": factory.mediator(ambiti=[booking.school.ambito]).user,
             "teacher": booking.teacher}
    req = submitted(booking)
    slot = req.slots[0]
    broadcast = None
    if scenario != "open":
        broadcast = ops.broadcast_offer(booking.coordinator, req, [crew[:3], crew[3:]],
                                        slot.start_dt, slot.end_dt, timedelta(hours=1))
    if scenario == "taken":
        ops.accept_invitation(crew[1].user, invitation_of(broadcast, crew[1]))
    elif scenario == "declined":
        ops.decline_invitation(crew[0].user, invitation_of(broadcast, crew[0]))
    elif scenario == "withdrawn":
        ops.withdraw_broadcast(booking.coordinator, req)
    elif scenario == "offered":
        ops.offer(booking.coordinator, req, crew[2], slot.start_dt, slot.end_dt)
    elif scenario == "cancelled":
        ops.cancel_request(booking.teacher, req, "duplicate")
    db.session.commit()
    return users, req, broadcast


def _accepts(run) -> bool:
    savepoint = db.session.begin_nested()
    try:
        run()
        return True
    except DomainError:
        return False
    finally:
        savepoint.rollback()
        db.session.expire_all()


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_broadcast_policy_operation_and_pages_agree(app, booking, crew, scenario):
    users, req, broadcast = _scene(booking, crew, scenario)
    slot = req.slots[0]
    spare = [booking.factory.mediator(ambiti=[booking.school.ambito]) for _ in range(2)]
    db.session.commit()
    for role, user in users.items():
        client = app.test_client()
        login(client, user)
        mine = None
        if broadcast is not None:
            mine = next((i for i in broadcast.invitations if i.mediator.user_id == user.id),
                        None)
        policy_says = {
            "broadcast": policy.can_broadcast(user, req),
            "accept_invitation": mine is not None and policy.can_accept_invitation(user, mine),
            "decline_invitation": mine is not None and policy.can_decline_invitation(user,
                                                                                     mine),
        }
        operation = {
            "broadcast": _accepts(lambda u=user: ops.broadcast_offer(
                u, req, [spare], slot.start_dt, slot.end_dt)),
            "accept_invitation": mine is not None and _accepts(
                lambda u=user, m=mine: ops.accept_invitation(u, m)),
            "decline_invitation": mine is not None and _accepts(
                lambda u=user, m=mine: ops.decline_invitation(u, m)),
        }
        offer_page = client.get(f"/coordination/requests/{req.id}/offer?slot=1")
        page = {"broadcast": offer_page.status_code == 200
                and 'data-action="broadcast"' in offer_page.text}
        if mine is not None:
            shown = client.get(f"/agenda/invitations/{mine.id}")
            assert shown.status_code in (200, 403, 404)
            page["accept_invitation"] = 'data-action="accept_invitation"' in shown.text
            page["decline_invitation"] = 'data-action="decline_invitation"' in shown.text
        else:
            page["accept_invitation"] = page["decline_invitation"] = False
        for action in EXPECTED:
            expected = (scenario, role) in EXPECTED[action]
            assert policy_says[action] == expected, (role, action, "policy")
            assert operation[action] == expected, (role, action, "operation")
            assert page[action] == expected, (role, action, "page")
        if role == "waiting_tier" and mine is not None:
            assert client.get(f"/agenda/invitations/{mine.id}").status_code == 404


# --- simultaneous acceptances ---------------------------------------------------------

RACERS = 6


@pytest.fixture
def app_config(app_config):
    app_config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_size": RACERS + 5, "max_overflow": 0}
    return app_config


@pytest.mark.xdist_group("concurrency")
def test_simultaneous_acceptances_over_http_one_wins(app, booking):
    """RACERS invited mediators press Accept at the same moment: one 302, the others a
    409 saying it is already taken; one assignment, one set of confirmations."""
    ambito = booking.school.ambito
    racers = [booking.mediator] + [booking.factory.mediator(ambiti=[ambito], locale="en")
                                   for _ in range(RACERS - 1)]
    for mediator in racers:
        mediator.user.locale = "en"
    db.session.commit()
    req, done = sent_to(booking, racers)
    targets = [invitation_of(done, m).id for m in racers]
    clients = []
    for mediator in racers:
        client = app.test_client()
        login(client, mediator.user)
        clients.append(client)
    db.session.rollback()
    barrier = threading.Barrier(RACERS)
    outcomes = [None] * RACERS

    def run(i):
        with app.app_context():
            barrier.wait(timeout=60)
            try:
                response = clients[i].post(f"/agenda/invitations/{targets[i]}/accept",
                                           headers={"Accept-Language": "en"})
                outcomes[i] = (response.status_code,
                               "Already taken" in response.text)
            except Exception as error:  # noqa: BLE001 - a failure of the test
                outcomes[i] = f"error: {error!r}"

    threads = [threading.Thread(target=run, args=(i,)) for i in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert Counter(outcomes) == {(302, False): 1, (409, True): RACERS - 1}, outcomes
    db.session.expire_all()
    active = db.session.scalars(sa.select(Assignment).where(
        Assignment.request_id == req.id, Assignment.state.in_(ACTIVE_ASSIGNMENT_STATES))).all()
    assert len(active) == 1
    assert db.session.get(OfferBroadcast, done.id).state == BroadcastState.taken
    confirmations = [m for m in mails(template="booking")
                     if m.recipient_id == booking.teacher.id]
    assert len(confirmations) == 1


# --- what a cancellation frees ----------------------------------------------------------


def _confirmed(booking, mediator, hour=10, day=None):
    req = submitted(booking, hour=hour, **({"day": day} if day else {}))
    slot = req.slots[0]
    assignment = ops.offer(booking.coordinator, req, mediator, slot.start_dt, slot.end_dt)
    ops.accept(mediator.user, assignment)
    db.session.commit()
    return req


def test_a_cancelled_meeting_shows_what_its_freed_time_could_serve(app, booking, crew,
                                                                     count_queries):
    mediator = booking.mediator
    cancelled = _confirmed(booking, mediator)
    waiting = submitted(booking)  # same time, same language: the freed time serves it
    later = submitted(booking, hour=14)  # another time: not served by this one
    other_language = submitted(booking, language_id=booking.factory.language("sq").id)
    ops.cancel_request(booking.teacher, cancelled, "duplicate")
    db.session.commit()
    client = app.test_client()
    login(client, booking.coordinator)

    def served(html):
        return {int(i) for i in re.findall(r'data-could-serve="(\d+)"', html)}

    page = client.get(f"/requests/{cancelled.id}")
    assert "freed-times" in page.text
    assert served(page.text) == {waiting.id}
    assert later.id not in served(page.text) and other_language.id not in served(page.text)
    db.session.commit()  # each measure begins its own transaction
    with count_queries() as one:
        queue = client.get("/coordination/requests")
    assert served(queue.text) == {waiting.id}
    # More cancellations and more requests: the same number of queries.
    for hour in (8, 12, 15):
        freed = _confirmed(booking, crew[1], hour=hour)
        submitted(booking, hour=hour)
        submitted(booking, hour=hour)
        ops.cancel_request(booking.teacher, freed, "duplicate")
    db.session.commit()
    with count_queries() as many:
        queue = client.get("/coordination/requests")
    assert len(served(queue.text)) == 7
    assert many.count == one.count
    # The school does not see it; once the mediator is booked again then, it is gone.
    teacher = app.test_client()
    login(teacher, booking.teacher)
    assert "freed-times" not in teacher.get(f"/requests/{cancelled.id}").text
    slot = waiting.slots[0]
    ops.offer(booking.coordinator, submitted(booking), mediator, slot.start_dt, slot.end_dt)
    db.session.commit()
    assert "freed-times" not in client.get(f"/requests/{cancelled.id}").text


def test_the_request_history_names_the_broadcast(app, booking, crew):
    req, done = sent_to(booking, crew, tiers=[crew[:2], crew[2:]], delay=timedelta(hours=1))
    broadcasts.send_due(utcnow() + timedelta(hours=2))
    ops.accept_invitation(crew[2].user, invitation_of(done, crew[2]))
    db.session.commit()
    client = app.test_client()
    login(client, booking.coordinator)
    page = client.get(f"/requests/{req.id}", headers={"Accept-Language": "en"}).text
    for label in ("Offered to several mediators at once", "Offered to more mediators",
                  "Accepted by the mediator"):
        assert label in page, label
    assert "broadcast." not in page


def test_the_command_sends_a_due_tier_once(booking, crew, runner):
    req, done = sent_to(booking, crew, tiers=[crew[:2], crew[2:]], delay=timedelta(hours=4))
    result = runner.invoke(args=["broadcasts", "send"])
    assert result.exit_code == 0 and "mediators asked: 0" in result.output, result.output
    done.next_tier_dt = utcnow() - timedelta(minutes=1)  # four hours later
    db.session.commit()
    result = runner.invoke(args=["broadcasts", "send"])
    assert "mediators asked: 2" in result.output, result.output
    assert "mediators asked: 0" in runner.invoke(args=["broadcasts", "send"]).output
    assert len(mails()) == 4


@pytest.mark.xdist_group("concurrency")
def test_a_tier_and_an_acceptance_at_once_stay_consistent(app, booking, crew):
    """``flask broadcasts send`` twice and an acceptance, at the same moment: the tier goes
    out at most once, and never after the acceptance committed."""
    from tests.bookings.test_concurrency import run_together

    req, done = sent_to(booking, crew, tiers=[crew[:2], crew[2:]], delay=timedelta(hours=1))
    ids = (done.id, invitation_of(done, crew[0]).id, crew[0].user_id)
    later = utcnow() + timedelta(hours=2)

    def attempt(i):
        if i < 2:
            return f"asked {broadcasts.send_due(later)}"
        from mediation.models import User
        invitation = db.session.get(BroadcastInvitation, ids[1])
        ops.accept_invitation(db.session.get(User, ids[2]), invitation)
        db.session.commit()
        return "accepted"

    outcomes = Counter(run_together(app, attempt, 3))
    assert outcomes["accepted"] == 1, outcomes
    db.session.expire_all()
    states = Counter(i.state for i in db.session.get(OfferBroadcast, ids[0]).invitations)
    sent_late = {m.recipient_id for m in mails("Offer to several")} & {
        m.user_id for m in crew[2:]}
    if outcomes["asked 2"] == 1:  # the tier went out first: its two were then told
        assert outcomes["asked 0"] == 1
        assert len(sent_late) == 2
        assert len([m for m in mails() if m.subject.startswith("Already taken")]) == 3
    else:  # the acceptance came first: the tier never went out
        assert outcomes == {"accepted": 1, "asked 0": 2}, outcomes
        assert not sent_late
    assert states == {InvitationState.accepted: 1, InvitationState.withdrawn: N - 1}


# --- declining an invitation; the coordinators told who took it -----------------------


def coordinator_mails(subject_part: str):
    return [m for m in mails(template="booking") if subject_part in m.subject]


def test_a_declined_invitation_cannot_be_accepted_and_the_others_still_can(app, booking,
                                                                           crew):
    req, done = sent_to(booking, crew)
    mine = invitation_of(done, crew[1])
    ops.decline_invitation(crew[1].user, mine)
    db.session.commit()
    assert mine.declined and mine.state == InvitationState.withdrawn
    assert done.state == BroadcastState.open and req.state == RequestState.open
    assert policy.invitation_refusal(mine) == "declined"
    with pytest.raises(ops.InvitationClosed) as refused:
        ops.accept_invitation(crew[1].user, mine)
    assert refused.value.code == "declined"
    db.session.rollback()
    assert ops.accept_invitation(crew[2].user, invitation_of(done, crew[2])).mediator_id \
        == crew[2].id
    db.session.commit()
    # The one who declined is not told "already taken": they said no.
    taken = [m for m in mails() if m.subject.startswith(("Already taken", "Già preso"))]
    assert crew[1].user_id not in {m.recipient_id for m in taken}
    events = [e.action for e in db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.object_id == req.id, AuditEvent.action == "broadcast.declined"))]
    assert events == ["broadcast.declined"]


def test_declining_from_the_invitation_page(app, booking, crew):
    _, done = sent_to(booking, crew)
    mine = invitation_of(done, crew[0])
    client = app.test_client()
    login(client, crew[0].user)
    page = client.get(f"/agenda/invitations/{mine.id}")
    assert 'data-action="decline_invitation"' in page.text
    answer = client.post(f"/agenda/invitations/{mine.id}/decline",
                         data={"csrf_token": csrf_token(page.text)})
    assert answer.status_code == 302
    db.session.expire_all()
    assert mine.declined
    again = client.get(f"/agenda/invitations/{mine.id}")
    assert 'data-action="decline_invitation"' not in again.text
    assert 'data-action="accept_invitation"' not in again.text
    # Another mediator's invitation is a 404.
    other = invitation_of(done, crew[1])
    token = csrf_token(again.text)
    assert client.post(f"/agenda/invitations/{other.id}/decline",
                       data={"csrf_token": token}).status_code == 404


def test_the_coordinators_are_told_once_when_everyone_declined(booking, crew):
    english = booking.factory.user(Role.coordinator, ambito=booking.school.ambito,
                                   locale="en")
    db.session.commit()
    _, done = sent_to(booking, crew, tiers=[crew[:2], crew[2:]], delay=timedelta(hours=1))
    ops.decline_invitation(crew[0].user, invitation_of(done, crew[0]))
    db.session.commit()
    assert coordinator_mails("declined") == []
    ops.decline_invitation(crew[1].user, invitation_of(done, crew[1]))
    db.session.commit()
    told = coordinator_mails("declined") + coordinator_mails("rifiutato")
    assert sorted(m.recipient_id for m in told) == sorted([booking.coordinator.id,
                                                           english.id])
    # The next tier goes out; one of it declining is not everyone any more.
    assert broadcasts.send_due(utcnow() + timedelta(hours=1, minutes=1)) == 2
    ops.decline_invitation(crew[2].user, invitation_of(done, crew[2]))
    db.session.commit()
    assert len(coordinator_mails("declined") + coordinator_mails("rifiutato")) == 2


def test_the_coordinators_read_who_took_the_broadcast_once(booking, crew):
    english = booking.factory.user(Role.coordinator, ambito=booking.school.ambito,
                                   locale="en")
    booking.factory.user(Role.coordinator)  # another Ambito's
    db.session.commit()
    _, done = sent_to(booking, crew)
    winner = crew[3]
    ops.accept_invitation(winner.user, invitation_of(done, winner))
    db.session.commit()
    with pytest.raises(ops.InvitationClosed):
        ops.accept_invitation(crew[0].user, invitation_of(done, crew[0]))
    db.session.rollback()
    told = (coordinator_mails("Offer to several mediators taken")
            + coordinator_mails("Offerta a più mediatori accettata"))
    assert sorted(m.recipient_id for m in told) == sorted([booking.coordinator.id,
                                                           english.id])
    assert all(winner.user.display_name in m.body_text for m in told)
    english_mail = next(m for m in told if m.recipient_id == english.id)
    assert english_mail.subject.startswith("Offer to several mediators taken")
