"""A weekly series through the pages: filed by a teacher, offered whole by the coordinator."""

from datetime import timedelta

import sqlalchemy as sa

from mediation.extensions import db
from mediation.models import Assignment, AssignmentState, MediationRequest, RequestState

from tests.conftest import login
from tests.scenarios.booking import school_day

EN = {"Accept-Language": "en"}


def file_series(client, booking, weeks=3, day=None):
    day = day or school_day(14)
    data = {
        "language": str(booking.mediator.languages[0].language_id),
        "expected_pupils": "1", "expected_parents": "1", "expected_teachers": "1",
        "mode": "in_person", "site": str(booking.school.sites[0].id), "duration": "60",
        "weeks": str(weeks), "slot_1_date": day.isoformat(), "slot_1_time": "10:00",
        "urgency": "normal",
    }
    return client.post(f"/requests/new/{booking.meeting.code}", data=data, headers=EN)


def test_teacher_files_a_weekly_series(client, booking):
    """'Every week for 3 weeks' files three requests a week apart."""
    login(client, booking.teacher)
    response = file_series(client, booking)
    assert response.status_code == 302
    requests = db.session.scalars(sa.select(MediationRequest).order_by(
        MediationRequest.series_position)).all()
    assert [r.series_position for r in requests] == [1, 2, 3]
    gaps = {b.slots[0].start_dt - a.slots[0].start_dt for a, b in zip(requests, requests[1:],
                                                                          strict=False)}
    assert gaps <= {timedelta(days=7), timedelta(days=7, hours=1), timedelta(days=7, hours=-1)}
    page = client.get(response.headers["Location"], headers=EN).text
    assert "Week 1 of a weekly series of 3" in page


def test_series_with_two_times_is_refused(client, booking):
    """A series has one time only; the form says so next to the second choice."""
    login(client, booking.teacher)
    day = school_day(14)
    data = {"language": str(booking.mediator.languages[0].language_id), "mode": "in_person",
            "site": str(booking.school.sites[0].id), "duration": "60", "weeks": "3",
            "expected_pupils": "0", "expected_parents": "1", "expected_teachers": "0",
            "slot_1_date": day.isoformat(), "slot_1_time": "10:00",
            "slot_2_date": (day + timedelta(days=1)).isoformat(), "slot_2_time": "10:00",
            "urgency": "normal"}
    response = client.post(f"/requests/new/{booking.meeting.code}", data=data, headers=EN)
    assert response.status_code == 400
    assert "A weekly series has one time only" in response.text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MediationRequest)) == 0


def test_coordinator_offers_every_week_or_sees_the_conflicts(app, booking):
    """A collision on week 3 is listed by date and nothing is offered; then all weeks go."""
    teacher = app.test_client()
    login(teacher, booking.teacher)
    assert file_series(teacher, booking).status_code == 302
    weeks = db.session.scalars(sa.select(MediationRequest).order_by(
        MediationRequest.series_position)).all()
    third = weeks[2].slots[0]
    other = booking.factory.request(school=booking.school, project=booking.project,
                                    type=booking.meeting, state=RequestState.confirmed,
                                    requester=booking.teacher)
    blocking = booking.factory.assignment(request=other, mediator=booking.mediator,
                                          start=third.start_dt, end=third.end_dt,
                                          state=AssignmentState.accepted)
    db.session.commit()
    coordinator = app.test_client()
    login(coordinator, booking.coordinator)
    url = f"/coordination/requests/{weeks[0].id}/offer-series"
    response = coordinator.post(url, data={"mediator_id": booking.mediator.id}, headers=EN)
    assert response.status_code == 409
    assert "cannot take every week of the series" in response.text
    assert "already booked then" in response.text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 1

    blocking.state = AssignmentState.cancelled
    db.session.commit()
    response = coordinator.post(url, data={"mediator_id": booking.mediator.id}, headers=EN)
    assert response.status_code == 302
    db.session.expire_all()
    assert {w.state for w in weeks} == {RequestState.offered}


def test_other_ambito_cannot_offer_the_series(app, booking):
    """A coordinator of another Ambito gets a 404."""
    teacher = app.test_client()
    login(teacher, booking.teacher)
    file_series(teacher, booking)
    first = db.session.scalar(sa.select(MediationRequest.id).order_by(MediationRequest.id))
    stranger = booking.factory.user(booking.coordinator.role)
    db.session.commit()
    client = app.test_client()
    login(client, stranger)
    response = client.post(f"/coordination/requests/{first}/offer-series",
                           data={"mediator_id": booking.mediator.id})
    assert response.status_code == 404
