"""Double booking is impossible, even when many coordinators click at the same moment.

Runs on whichever database the suite runs on: file-backed SQLite by default,
PostgreSQL when MEDIATION_TEST_DATABASE_URL is set (CI runs both).
"""

import threading
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from mediation.bookings import matching
from mediation.bookings import operations as ops
from mediation.clock import in_rome
from mediation.errors import InvalidInput, InvalidTransition, SlotTaken
from mediation.extensions import db
from mediation.mediators import operations as mediator_ops
from mediation.models import (
    ACTIVE_ASSIGNMENT_STATES,
    Assignment,
    MediationRequest,
    MediatorProfile,
    RequestState,
    Role,
    User,
)

from tests.conftest import login
from tests.scenarios.booking import rome, school_day

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


def logged_in_clients(app, user, count):
    """``count`` test clients, each with a session of its own as ``user``."""
    clients = []
    for _ in range(count):
        client = app.test_client()
        login(client, user)
        clients.append(client)
    return clients


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
    mediator_id = booking.mediator.id
    attempt = _offer_attempt(booking.coordinator.id, mediator_id, request_ids)
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
        except (SlotTaken, InvalidTransition):
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
    booking, request_ids = crowd
    mediator_id = booking.mediator.id
    clients = logged_in_clients(app, booking.coordinator, ATTEMPTS)

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


# --- the rules checked in Python: weekly cap, travel buffer (serialised per mediator) ---


def _offer_attempt(coordinator_id, mediator_id, request_ids):
    """An attempt offering request ``request_ids[i]`` (its first slot) to the mediator."""

    def attempt(i):
        actor = db.session.get(User, coordinator_id)
        request = db.session.get(MediationRequest, request_ids[i])
        mediator = db.session.get(MediatorProfile, mediator_id)
        slot = request.slots[0]
        try:
            ops.offer(actor, request, mediator, slot.start_dt, slot.end_dt)
            db.session.commit()
            return "booked"
        except SlotTaken:
            db.session.rollback()
            return "taken"
        except InvalidInput as error:
            db.session.rollback()
            return _refusal(error)

    return attempt


def _refusal(error) -> str:
    """The matching reason a refusal names ("over_cap", "travel"...), or its message."""
    message = str(error.message)
    for code, label in matching.REASONS.items():
        if str(label) in message:
            return code
    return message


def _active(mediator_id) -> list[Assignment]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Assignment).where(
        Assignment.mediator_id == mediator_id,
        Assignment.state.in_(ACTIVE_ASSIGNMENT_STATES)).order_by(Assignment.start_dt)))


def _too_close_pairs(mediator_id) -> int:
    """Active assignments of the mediator at two places closer than the travel buffer."""
    buffer = matching.travel_buffer()
    booked = _active(mediator_id)
    return sum(
        1 for i, a in enumerate(booked) for b in booked[i + 1:]
        if a.start_dt < b.end_dt + buffer and b.start_dt < a.end_dt + buffer
        and (a.request.school_id, a.request.site_id) != (b.request.school_id, b.request.site_id)
    )


CAP_ATTEMPTS = 8


def test_simultaneous_offers_keep_the_weekly_cap(app, booking):
    """Eight one-hour offers of one mediator, none overlapping, at once, with a cap of
    three hours: three stand, the others are refused with the reason, nothing fails."""
    booking.mediator.weekly_hour_cap = 3
    day = school_day()
    ids = [ops.submit_request(booking.teacher, booking.slot_input(day=day, hour=8 + i)).id
           for i in range(CAP_ATTEMPTS)]
    db.session.commit()
    mediator_id = booking.mediator.id

    outcomes = Counter(run_together(
        app, _offer_attempt(booking.coordinator.id, mediator_id, ids), CAP_ATTEMPTS))
    assert outcomes == {"booked": 3, "over_cap": CAP_ATTEMPTS - 3}, outcomes
    hours = sum((a.end_dt - a.start_dt).total_seconds() for a in _active(mediator_id)) / 3600
    assert hours == 3


@pytest.fixture
def two_schools(booking):
    """A second school of the same Ambito in another town, with its own teacher."""
    other = booking.factory.school(booking.school.ambito, municipality="Codogno")
    teacher = booking.factory.user(Role.teacher, school=other)
    db.session.commit()
    return other, teacher


def _request_at(booking, teacher, school, day, hour, minute=0):
    start = rome(day, hour, minute)
    data = booking.slot_input(day=day, site_id=school.sites[0].id)
    data.slots[0].start, data.slots[0].end = start, start + timedelta(minutes=60)
    return ops.submit_request(teacher, data)


def test_simultaneous_offers_keep_the_travel_buffer(app, booking, two_schools):
    """10:00-11:00 at one school and 11:10-12:10 at another, offered at once to one
    mediator: too close to travel between, so only one stands."""
    other, other_teacher = two_schools
    day = school_day()
    ids = [_request_at(booking, booking.teacher, booking.school, day, 10).id,
           _request_at(booking, other_teacher, other, day, 11, 10).id]
    db.session.commit()
    mediator_id = booking.mediator.id

    outcomes = Counter(run_together(
        app, _offer_attempt(booking.coordinator.id, mediator_id, ids), 2))
    assert outcomes == {"booked": 1, "travel": 1}, outcomes
    assert len(_active(mediator_id)) == 1
    assert _too_close_pairs(mediator_id) == 0


def test_reassign_and_offer_at_once_keep_the_travel_buffer(app, booking, two_schools):
    """A request reassigned to the mediator while another coordinator offers them a
    meeting too close to it at another school: only one of the two stands."""
    other, other_teacher = two_schools
    day = school_day()
    first = _request_at(booking, booking.teacher, booking.school, day, 10)
    second = _request_at(booking, other_teacher, other, day, 11, 10)
    holder = booking.factory.mediator(ambiti=[booking.school.ambito])
    db.session.flush()
    ops.offer(booking.coordinator, first, holder, first.slots[0].start_dt,
              first.slots[0].end_dt)
    db.session.commit()
    coordinator_id, mediator_id = booking.coordinator.id, booking.mediator.id
    ids = (first.id, second.id)

    def attempt(i):
        actor = db.session.get(User, coordinator_id)
        request = db.session.get(MediationRequest, ids[i])
        mediator = db.session.get(MediatorProfile, mediator_id)
        slot = request.slots[0]
        try:
            if i == 0:
                ops.reassign(actor, request, mediator, "Closer to home", slot.start_dt,
                             slot.end_dt)
            else:
                ops.offer(actor, request, mediator, slot.start_dt, slot.end_dt)
            db.session.commit()
            return "booked"
        except InvalidInput as error:
            db.session.rollback()
            return _refusal(error)

    outcomes = Counter(run_together(app, attempt, 2))
    assert outcomes == {"booked": 1, "travel": 1}, outcomes
    assert len(_active(mediator_id)) == 1
    assert _too_close_pairs(mediator_id) == 0


def test_series_and_offer_at_once_keep_the_weekly_cap(app, booking, two_schools):
    """A weekly series offered to the mediator while a single meeting of its first
    week is offered to them too, with room for only one of the two that week."""
    other, other_teacher = two_schools
    day = school_day()
    booking.mediator.weekly_hour_cap = 1
    series = ops.submit_series(booking.teacher, booking.slot_input(day=day, hour=9), 3)
    single = _request_at(booking, other_teacher, other, day, 14)
    db.session.commit()
    coordinator_id, mediator_id = booking.coordinator.id, booking.mediator.id
    first_week = min(series.requests, key=lambda r: r.series_position).id
    single_id = single.id

    def attempt(i):
        actor = db.session.get(User, coordinator_id)
        mediator = db.session.get(MediatorProfile, mediator_id)
        try:
            if i == 0:
                ops.offer_series(actor, db.session.get(MediationRequest, first_week), mediator)
            else:
                request = db.session.get(MediationRequest, single_id)
                slot = request.slots[0]
                ops.offer(actor, request, mediator, slot.start_dt, slot.end_dt)
            db.session.commit()
            return f"{i}: booked"
        except ops.SeriesConflict:
            db.session.rollback()
            return f"{i}: refused"
        except InvalidInput as error:
            db.session.rollback()
            return f"{i}: {_refusal(error)}"

    outcomes = set(run_together(app, attempt, 2))
    assert outcomes in ({"0: booked", "1: over_cap"}, {"0: refused", "1: booked"}), outcomes
    week_hours = sum((a.end_dt - a.start_dt).total_seconds() for a in _active(mediator_id)
                     if in_rome(a.start_dt).date() == day) / 3600
    assert week_hours == 1


def test_absence_added_while_offered(app, booking, monkeypatch):
    """The mediator records an absence while a coordinator offers them that day: either
    the offer is refused, or the absence reports the offer to reassign.

    The absence waits for the offer to have read the absences, and the offer then
    waits (up to two seconds) for the absence to be written: without the lock both
    would miss each other."""
    day = school_day()
    request_id = ops.submit_request(booking.teacher, booking.slot_input(day=day)).id
    db.session.commit()
    coordinator_id, mediator_id = booking.coordinator.id, booking.mediator.id
    mediator_user_id = booking.mediator.user_id
    absences_read, absence_written = threading.Event(), threading.Event()
    read_absences = matching._Pool.absences

    def absences_then_wait(pool, start, end):
        found = read_absences(pool, start, end)
        absences_read.set()
        absence_written.wait(timeout=2)
        return found

    monkeypatch.setattr(matching._Pool, "absences", absences_then_wait)

    def attempt(i):
        mediator = db.session.get(MediatorProfile, mediator_id)
        try:
            if i == 0:
                absences_read.wait(timeout=2)
                conflicts = mediator_ops.add_absence(
                    db.session.get(User, mediator_user_id), mediator,
                    rome(day, 0), rome(day + timedelta(days=1), 0))
                db.session.commit()
                return f"absent, {len(conflicts)} to reassign"
            request = db.session.get(MediationRequest, request_id)
            slot = request.slots[0]
            ops.offer(db.session.get(User, coordinator_id), request, mediator,
                      slot.start_dt, slot.end_dt)
            db.session.commit()
            return "booked"
        except InvalidInput as error:
            db.session.rollback()
            return _refusal(error)
        finally:
            if i == 0:
                absence_written.set()

    outcomes = set(run_together(app, attempt, 2))
    assert outcomes in ({"absent, 0 to reassign", "absent"},
                        {"absent, 1 to reassign", "booked"}), outcomes


def test_coordinators_racing_over_the_cap_through_the_page(app, booking):
    """Through the offer page: the coordinator who loses the race over the weekly cap
    gets the page back (400) with the reason, in their language, and the time they chose kept."""
    booking.mediator.weekly_hour_cap = 1
    day = school_day()
    ids = [ops.submit_request(booking.teacher, booking.slot_input(day=day, hour=9 + 2 * i)).id
           for i in range(2)]
    db.session.commit()
    mediator_id, name = booking.mediator.id, booking.mediator.user.display_name
    clients = logged_in_clients(app, booking.coordinator, 2)

    def attempt(i):
        response = clients[i].post(
            f"/coordination/requests/{ids[i]}/offer",
            data={"slot": "1", "mediator_id": str(mediator_id)},
            headers={"Accept-Language": "en"},
        )
        if response.status_code == 400:
            assert f"{name} cannot take it: over their weekly hours." in response.text
            # The time chosen is still the one shown, and the mediators ranked for it.
            assert 'offer?slot=1" aria-current="true"' in response.text
        return response.status_code

    outcomes = Counter(run_together(app, attempt, 2))
    assert outcomes == {302: 1, 400: 1}, outcomes
    assert len(_active(mediator_id)) == 1


def test_moving_a_week_and_an_offer_at_once_keep_the_weekly_cap(app, booking):
    """A school moves the first week of a series into the second week's week while a
    coordinator offers the same mediator a meeting that week, with room for only one of
    the two under the mediator's weekly cap: one stands, the other is refused with the
    reason (the move checks the mediator under the same booking lock as the offer)."""
    from tests.bookings.test_series_weeks import confirmed_series

    booking.mediator.weekly_hour_cap = 2
    series = confirmed_series(booking, weeks=2)
    first, second = sorted(series.requests, key=lambda r: r.series_position)
    day = in_rome(second.slots[0].start_dt).date()
    single = ops.submit_request(booking.teacher, booking.slot_input(day=day, hour=16))
    db.session.commit()
    ids = (first.id, single.id)
    teacher_id, coordinator_id = booking.teacher.id, booking.coordinator.id
    mediator_id = booking.mediator.id

    def attempt(i):
        request = db.session.get(MediationRequest, ids[i])
        try:
            if i == 0:
                ops.move_week(db.session.get(User, teacher_id), request, rome(day, 14),
                              rome(day, 15), "The family works that morning")
            else:
                slot = request.slots[0]
                ops.offer(db.session.get(User, coordinator_id), request,
                          db.session.get(MediatorProfile, mediator_id), slot.start_dt,
                          slot.end_dt)
            db.session.commit()
            return f"{i}: booked"
        except InvalidInput as error:
            db.session.rollback()
            return f"{i}: {_refusal(error)}"

    outcomes = set(run_together(app, attempt, 2))
    assert outcomes in ({"0: booked", "1: over_cap"}, {"0: over_cap", "1: booked"}), outcomes
    that_week = [a for a in _active(mediator_id)
                 if in_rome(a.start_dt).isocalendar()[:2] == day.isocalendar()[:2]]
    assert sum((a.end_dt - a.start_dt).total_seconds() for a in that_week) == 2 * 3600
