"""Issue #18: a school gives a family a pseudonymous code on the request form, validated
like a pupil code (letters, digits, - / . _; at most 20; stored in capitals)."""

import sqlalchemy as sa

from mediation.extensions import db
from mediation.models import MediationRequest, PupilCase

from tests.conftest import login
from tests.requests.test_requests_views import EN, error_for
from tests.scenarios.filing import World


def only_request() -> MediationRequest:
    return db.session.scalars(sa.select(MediationRequest)).one()


def test_a_new_pupil_code_comes_with_the_family_code(client, factory):
    world = World(factory)
    login(client, world.teacher)
    data = world.meeting_form(pupil_case="new", case_code="2026-077", case_class="1A",
                              case_cycle="primaria", case_home_language="0",
                              case_family_code="f-2026-004")
    response = client.post("/requests/new/family_meeting", data=data)
    assert response.status_code == 302
    case = db.session.get(PupilCase, only_request().pupil_case_id)
    assert (case.code, case.family_code) == ("2026-077", "F-2026-004")
    # The family of a pupil's meeting is the pupil case's: the request carries none.
    assert only_request().family_code is None


def test_a_meeting_naming_no_pupil_carries_the_family_code(client, factory):
    world = World(factory)
    factory.request_type(code="group_meeting", concerns_pupil=False)
    db.session.commit()
    login(client, world.teacher)
    page = client.get("/requests/new/group_meeting", headers=EN).get_data(as_text=True)
    assert 'name="family_code"' in page and 'name="pupil_case"' not in page
    assert 'name="family_code"' not in client.get("/requests/new/family_meeting",
                                                  headers=EN).get_data(as_text=True)
    data = world.meeting_form(family_code=" f-1 ")
    del data["pupil_case"]
    response = client.post("/requests/new/group_meeting", data=data)
    assert response.status_code == 302
    assert only_request().family_code == "F-1"


def test_a_family_code_is_never_a_name(client, factory):
    world = World(factory)
    factory.request_type(code="group_meeting", concerns_pupil=False)
    db.session.commit()
    login(client, world.teacher)
    data = world.meeting_form(family_code="Rossi Mario")
    del data["pupil_case"]
    response = client.post("/requests/new/group_meeting", data=data, headers=EN)
    assert response.status_code == 400
    assert "letters, digits" in error_for(response.get_data(as_text=True), "family_code")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MediationRequest)) == 0
