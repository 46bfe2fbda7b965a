"""The never-break rules that live in the schema hold on every database."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from mediation.extensions import db
from mediation.models import (
    Assignment,
    AssignmentState,
    MediationRequest,
    Project,
    Role,
    School,
    User,
)
from mediation.models.constraints import is_overlap_violation


def at(hour, minute=0, day=1):
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


def raw_insert(request_id, mediator_id, start, end, state="offered", deadline=None):
    """Insert an assignment with plain SQL, bypassing the ORM and any Python check."""
    db.session.execute(
        sa.insert(Assignment.__table__).values(
            # The request's project and school (or any, for a request that does not exist).
            project_id=sa.func.coalesce(
                sa.select(MediationRequest.project_id)
                .where(MediationRequest.id == request_id).scalar_subquery(),
                sa.select(sa.func.min(Project.id)).scalar_subquery()),
            school_id=sa.func.coalesce(
                sa.select(MediationRequest.school_id)
                .where(MediationRequest.id == request_id).scalar_subquery(),
                sa.select(sa.func.min(School.id)).scalar_subquery()),
            request_id=request_id, mediator_id=mediator_id, state=state, start_dt=start,
            end_dt=end, deadline_dt=deadline, offered_dt=at(8), sequence=0,
        )
    )
    db.session.flush()


@pytest.fixture
def booked(factory):
    """A mediator holding one offered assignment, 9:00-10:00 on 1 December."""
    mediator = factory.mediator()
    first = factory.assignment(mediator=mediator, start=at(9), end=at(10))
    db.session.commit()
    return mediator, first


def test_raw_overlapping_insert_fails(factory, booked):
    """An overlapping active assignment is refused by the database itself."""
    mediator, _ = booked
    other = factory.request()
    with pytest.raises(IntegrityError) as excinfo:
        raw_insert(other.id, mediator.id, at(9, 30), at(10, 30))
    assert is_overlap_violation(excinfo.value)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 1


@pytest.mark.parametrize(
    ("start", "end"),
    [(at(8), at(11)), (at(9, 15), at(9, 45)), (at(8, 30), at(9, 1)), (at(9), at(10))],
    ids=["covers", "inside", "overlaps-start", "identical"],
)
def test_every_kind_of_overlap_fails(factory, booked, start, end):
    """Covering, inner, partial and identical ranges all collide."""
    mediator, _ = booked
    other = factory.request()
    with pytest.raises(IntegrityError):
        raw_insert(other.id, mediator.id, start, end, state="accepted")
    db.session.rollback()


def test_back_to_back_slots_are_allowed(factory, booked):
    """Ranges are half-open: 8-9 and 10-11 touch 9-10 without overlapping."""
    mediator, _ = booked
    raw_insert(factory.request().id, mediator.id, at(10), at(11))
    raw_insert(factory.request().id, mediator.id, at(8), at(9))
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 3


def test_inactive_assignments_do_not_block(factory, booked):
    """Declined, cancelled and superseded assignments free the time."""
    mediator, first = booked
    for state in ("declined", "cancelled", "superseded"):
        raw_insert(factory.request().id, mediator.id, at(9), at(10), state=state)
    first.state = AssignmentState.cancelled
    db.session.flush()
    raw_insert(factory.request().id, mediator.id, at(9), at(10))
    db.session.commit()


def test_other_mediators_are_independent(factory, booked):
    """Two mediators can work at the same time."""
    raw_insert(factory.request().id, factory.mediator().id, at(9), at(10))
    db.session.commit()


def test_reactivating_into_an_overlap_fails(factory, booked):
    """Turning a declined assignment active again is checked too (UPDATE)."""
    mediator, _ = booked
    later = factory.assignment(mediator=mediator, start=at(9, 30), end=at(10, 30),
                               state=AssignmentState.declined)
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(
            sa.update(Assignment.__table__).where(Assignment.id == later.id)
            .values(state="offered")
        )
        db.session.flush()
    db.session.rollback()


def test_moving_into_an_overlap_fails(factory, booked):
    """Moving an assignment's time onto another one is refused."""
    mediator, _ = booked
    later = factory.assignment(mediator=mediator, start=at(11), end=at(12))
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(
            sa.update(Assignment.__table__).where(Assignment.id == later.id)
            .values(start_dt=at(9, 59))
        )
        db.session.flush()
    db.session.rollback()


def test_translations_take_no_part(factory, booked):
    """A deadline-only assignment never collides with meetings."""
    mediator, _ = booked
    raw_insert(factory.request().id, mediator.id, None, None, deadline=at(9, 30))
    raw_insert(factory.request().id, mediator.id, None, None, deadline=at(9, 30))
    db.session.commit()


def test_assignment_needs_a_range_or_a_deadline(factory, booked):
    """A time range must be positive, or absent with a deadline instead."""
    mediator, _ = booked
    with pytest.raises(IntegrityError):
        raw_insert(factory.request().id, mediator.id, at(12), at(11))
    db.session.rollback()
    with pytest.raises(IntegrityError):
        raw_insert(factory.request().id, mediator.id, None, None)
    db.session.rollback()


def test_one_active_assignment_per_request(factory, booked):
    """A request cannot be offered to two mediators at once."""
    _, first = booked
    with pytest.raises(IntegrityError):
        raw_insert(first.request_id, factory.mediator().id, at(14), at(15))
    db.session.rollback()
    # Once the first is declined, the request can be offered again.
    first.state = AssignmentState.declined
    db.session.flush()
    raw_insert(first.request_id, factory.mediator().id, at(14), at(15))
    db.session.commit()


def test_foreign_keys_are_enforced(factory, booked):
    """Foreign keys hold on SQLite too."""
    mediator, _ = booked
    with pytest.raises(IntegrityError):
        raw_insert(999_999, mediator.id, at(14), at(15))
    db.session.rollback()


def test_user_scope_must_match_role(factory):
    """A teacher without a school, or a coordinator with one, cannot exist."""
    school = factory.school()
    with pytest.raises(IntegrityError):
        factory.add(User(email="t@example.org", display_name="T", role=Role.teacher))
    db.session.rollback()
    with pytest.raises(IntegrityError):
        factory.add(User(email="c@example.org", display_name="C", role=Role.coordinator,
                         school_id=school.id, ambito_id=school.ambito_id))
    db.session.rollback()


def test_emails_are_stored_lowercase(factory):
    """The schema refuses a mixed-case email, so uniqueness is case-insensitive."""
    with pytest.raises(IntegrityError):
        factory.user(Role.admin, email="Mixed@Example.org")
    db.session.rollback()


def test_datetimes_come_back_in_utc(factory, booked):
    """Aware datetimes round-trip as UTC whatever the zone they were given in."""
    from zoneinfo import ZoneInfo

    mediator, _ = booked
    rome = datetime(2026, 7, 1, 11, 0, tzinfo=ZoneInfo("Europe/Rome"))
    a = factory.assignment(mediator=mediator, start=rome, end=rome.replace(hour=12))
    db.session.commit()
    db.session.expire_all()
    loaded = db.session.get(Assignment, a.id)
    assert loaded.start_dt == datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
    assert loaded.start_dt.utcoffset().total_seconds() == 0


def test_first_offer_is_kept_by_the_database(factory):
    """A request's first_offered_dt is its assignments' earliest offered_dt, set by a
    trigger whoever inserts them (here plain SQL, bypassing the ORM)."""
    request = factory.request()
    db.session.commit()
    first_offer = sa.select(MediationRequest.first_offered_dt).where(
        MediationRequest.id == request.id)
    assert db.session.scalar(first_offer) is None

    def offer(offered_dt, start_hour):
        db.session.execute(sa.insert(Assignment.__table__).values(
            request_id=request.id, project_id=request.project_id,
            school_id=request.school_id, mediator_id=factory.mediator().id, state="declined",
            start_dt=at(start_hour), end_dt=at(start_hour + 1), offered_dt=offered_dt,
            sequence=0))
        db.session.flush()

    offer(at(10), 14)
    assert db.session.scalar(first_offer) == at(10)
    offer(at(11), 15)  # a later offer leaves the first one
    assert db.session.scalar(first_offer) == at(10)
    offer(at(9, 30), 16)  # an offer dated earlier (imported history) becomes the first
    assert db.session.scalar(first_offer) == at(9, 30)
    db.session.commit()


def test_assignments_copy_their_request_project_and_school(factory):
    """A new assignment carries its request's project and school; moving the request
    moves its assignments too (reporting reads the copies)."""
    assignment = factory.assignment()
    db.session.commit()
    request = assignment.request
    assert (assignment.project_id, assignment.school_id) == (request.project_id,
                                                             request.school_id)
    other_project, other_school = factory.project(), factory.school()
    request.project, request.school = other_project, other_school
    db.session.commit()
    assert db.session.execute(sa.select(Assignment.project_id, Assignment.school_id).where(
        Assignment.id == assignment.id)).one() == (other_project.id, other_school.id)


def test_an_assignment_without_project_is_refused(factory, booked):
    """The copies are NOT NULL with a foreign key: plain SQL cannot leave them out."""
    _mediator, first = booked
    with pytest.raises(IntegrityError):
        db.session.execute(sa.insert(Assignment.__table__).values(
            request_id=first.request_id, school_id=first.school_id,
            mediator_id=factory.mediator().id, state="declined", start_dt=at(14),
            end_dt=at(15), offered_dt=at(8), sequence=0))
        db.session.flush()
    db.session.rollback()
