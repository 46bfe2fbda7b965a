"""Double booking is impossible, even when many coordinators click at the same moment.

Runs on whichever database the suite runs on: file-backed SQLite by default,
PostgreSQL when MEDIATION_TEST_DATABASE_URL is set (CI runs both).
"""

import threading
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from mediation.bookings import operations as ops
from mediation.extensions import db
from mediation.models import (
    ACTIVE_ASSIGNMENT_STATES,
    Assignment,
    MediationRequest,
    MediatorProfile,
    RequestState,
    User,
)

from .booking_helpers import rome, school_day

ATTEMPTS = 50

# Under pytest-xdist these tests run one after another in one worker: each holds 50
# connections at once, and two at a time would pass PostgreSQL's max_connections (100).
pytestmark = pytest.mark.xdist_group("concurrency")


@pytest.fixture
def app_config(app_config):
    # One connection per thread, so that the attempts really are simultaneous.
    app_config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_size": ATTEMPTS + 5, "max_overflow": 0}
    return app_config


def run_together(app, attempt, count):
    """Run ``attempt(i)`` in ``count`` threads released at once; return the outcomes."""
    # End this thread's transaction: on SQLite, where every transaction takes the
    # write lock up front, an open one here would block every attempt.
    db.session.rollback()
    barrier = threading.Barrier(count)
    outcomes = [None] * count

    def worker(i):
        with app.app_context():
            barrier.wait(timeout=60)
            try:
                outcomes[i] = attempt(i)
            except Exception as error:  # anything unexpected is a failure of the test
                outcomes[i] = f"error: {type(error).__name__}: {error}"
                db.session.rollback()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def overlapping_active_pairs(mediator_id):
    a, b = sa.orm.aliased(Assignment), sa.orm.aliased(Assignment)
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(a).join(b, sa.and_(
            a.mediator_id == b.mediator_id, a.id < b.id,
            a.start_dt < b.end_dt, b.start_dt < a.end_dt,
        )).where(a.mediator_id == mediator_id, a.state.in_(ACTIVE_ASSIGNMENT_STATES),
                 b.state.in_(ACTIVE_ASSIGNMENT_STATES))
    )


@pytest.fixture
def crowd(booking):
    """``ATTEMPTS`` open requests at overlapping times, by different teachers."""
    day = school_day()
    ids = []
    for i in range(ATTEMPTS):
        start = rome(day, 10, i % 30)  # all overlap 10:29-11:00
        data = booking.slot_input(day=day)
        data.slots[0].start, data.slots[0].end = start, start + timedelta(minutes=60)
        ids.append(ops.submit_request(booking.teacher, data).id)
    db.session.commit()
    return booking, ids


def test_fifty_simultaneous_offers_book_once(app, crowd):
    """50 coordinators offering overlapping slots of one mediator: exactly one wins."""
    booking, request_ids = crowd
    coordinator_id, mediator_id = booking.coordinator.id, booking.mediator.id

    def attempt(i):
        actor = db.session.get(User, coordinator_id)
        request = db.session.get(MediationRequest, request_ids[i])
        mediator = db.session.get(MediatorProfile, mediator_id)
        slot = request.slots[0]
        try:
            ops.offer(actor, request, mediator, slot.start_dt, slot.end_dt)
            db.session.commit()
            return "booked"
        except ops.SlotTaken:
            db.session.rollback()
            return "taken"

    outcomes = Counter(run_together(app, attempt, ATTEMPTS))
    assert outcomes == {"booked": 1, "taken": ATTEMPTS - 1}, outcomes
    db.session.expire_all()
    assert overlapping_active_pairs(mediator_id) == 0
    states = Counter(db.session.scalars(
        sa.select(MediationRequest.state).where(MediationRequest.id.in_(request_ids))))
    assert states == {RequestState.offered: 1, RequestState.open: ATTEMPTS - 1}


def test_one_request_offered_twice_at_once(app, booking):
    """Two coordinators offering the same request to two mediators: one offer stands."""
    request = ops.submit_request(booking.teacher, booking.slot_input())
    other = booking.factory.mediator(ambiti=[booking.school.ambito])
    db.session.commit()
    ids = (booking.coordinator.id, request.id, [booking.mediator.id, other.id])

    def attempt(i):
        actor = db.session.get(User, ids[0])
        req = db.session.get(MediationRequest, ids[1])
        mediator = db.session.get(MediatorProfile, ids[2][i])
        try:
            ops.offer(actor, req, mediator, req.slots[0].start_dt, req.slots[0].end_dt)
            db.session.commit()
            return "booked"
        except (ops.SlotTaken, ops.InvalidTransition):
            db.session.rollback()
            return "refused"

    outcomes = Counter(run_together(app, attempt, 2))
    assert outcomes == {"booked": 1, "refused": 1}, outcomes
    db.session.expire_all()
    active = db.session.scalar(sa.select(sa.func.count()).select_from(Assignment).where(
        Assignment.request_id == ids[1], Assignment.state.in_(ACTIVE_ASSIGNMENT_STATES)))
    assert active == 1


def test_fifty_coordinators_clicking_offer_at_once(app, crowd):
    """Through the offer page: one 302, 49 answers 409 with a message, no 500, no overlap."""
    from .conftest import Auth

    booking, request_ids = crowd
    mediator_id = booking.mediator.id
    clients = []
    for _ in range(ATTEMPTS):
        client = app.test_client()
        Auth(client).login(booking.coordinator)
        clients.append(client)

    def attempt(i):
        response = clients[i].post(
            f"/coordination/requests/{request_ids[i]}/offer",
            data={"slot": "1", "mediator_id": str(mediator_id)},
            headers={"Accept-Language": "en"},
        )
        if response.status_code == 409:
            assert "booked at an overlapping time" in response.text
        return response.status_code

    outcomes = Counter(run_together(app, attempt, ATTEMPTS))
    assert outcomes == {302: 1, 409: ATTEMPTS - 1}, outcomes
    db.session.expire_all()
    assert overlapping_active_pairs(mediator_id) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 1
