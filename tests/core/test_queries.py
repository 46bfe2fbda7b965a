"""Pages run a fixed number of queries, however many rows they show."""

from datetime import UTC, datetime, timedelta

import pytest

from mediation.extensions import db
from mediation.models import (
    AssignmentState,
    Cycle,
    PreferredSlot,
    PupilCase,
    RequestState,
    Role,
)

from tests.conftest import login


def populate(factory, school, mediator, n):
    """``n`` open requests and ``n`` accepted assignments at ``school``."""
    project = factory.project()
    start = datetime.now(UTC) + timedelta(days=2)
    for i in range(n):
        case = factory.add(PupilCase(school=school, code=f"C{factory.n()}", class_name="1A",
                                     cycle=Cycle.primaria))
        for state in (RequestState.open, RequestState.confirmed):
            # Distinct languages and types, so that a missing eager load shows up
            # as one query per row instead of hiding in the identity map.
            request = factory.request(school=school, project=project, pupil_case=case,
                                      state=state, site=school.sites[0],
                                      language=factory.language(f"x{factory.n()}"),
                                      type=factory.request_type())
            slot_start = start + timedelta(hours=2 * i + (1 if state == RequestState.open else 0))
            factory.add(PreferredSlot(request=request, position=1, start_dt=slot_start,
                                      end_dt=slot_start + timedelta(minutes=45)))
            if state == RequestState.confirmed:
                factory.assignment(request=request, mediator=mediator, start=slot_start,
                                   end=slot_start + timedelta(minutes=45),
                                   state=AssignmentState.accepted)
    db.session.commit()


@pytest.mark.parametrize("role", ["teacher", "lead", "coordinator", "admin"])
def test_home_page_queries_do_not_grow(app, factory, count_queries, role):
    """Each role's home page costs the same number of queries with 5 or 50 rows."""
    counts = []
    for n in (5, 50):
        ambito = factory.ambito()
        school = factory.school(ambito)
        mediator = factory.mediator(ambiti=[ambito], ambito=ambito)
        populate(factory, school, mediator, n)
        if role in ("teacher", "lead"):
            user = factory.user(Role(role), school=school)
        elif role == "coordinator":
            user = factory.user(Role.coordinator, ambito=ambito)
        else:
            user = factory.user(Role.admin)
        client = app.test_client()
        login(client, user)
        db.session.expunge_all()
        with count_queries() as counter:
            response = client.get("/")
        assert response.status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


@pytest.mark.parametrize("path", ["/ambiti/{ambito}", "/schools/{school}"])
def test_ambito_and_school_pages_do_not_grow(app, factory, count_queries, path):
    """The Ambito and school pages cost the same with 2 or 20 schools and mediators."""
    counts = []
    for n in (2, 20):
        ambito = factory.ambito()
        schools = [factory.school(ambito) for _ in range(n)]
        for _ in range(n):
            factory.mediator(ambiti=[ambito], ambito=ambito,
                             languages=(f"x{factory.n()}", f"y{factory.n()}"))
        for school in schools:
            factory.user(Role.teacher, school=school)
        coordinator = factory.user(Role.coordinator, ambito=ambito)
        db.session.commit()
        client = app.test_client()
        login(client, coordinator)
        url = path.format(ambito=ambito.id, school=schools[0].id)
        db.session.expunge_all()
        with count_queries() as counter:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
