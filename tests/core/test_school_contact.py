"""The school's address and telephone: who edits them, how bad input is refused, the audit
trail. The family letter prints them (tests/requests/test_letter.py)."""

import re

import pytest
import sqlalchemy as sa

from mediation.extensions import db
from mediation.models import AuditEvent, Role, School

from tests.conftest import Auth, login

EN = {"Accept-Language": "en"}


def url(school) -> str:
    return f"/schools/{school.id}/contact"


def events(school) -> list[AuditEvent]:
    return list(db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.object_type == "School",
                                    AuditEvent.object_id == school.id,
                                    AuditEvent.action == "school.contact_changed")
        .order_by(AuditEvent.id)))


def reload(school) -> School:
    db.session.expire_all()
    return db.session.get(School, school.id)


def test_the_lead_fills_in_the_school_contact(client, booking):
    school = booking.school
    login(client, booking.lead)
    page = client.get(f"/schools/{school.id}", headers=EN).text
    assert "Not given" in page
    assert f'href="{url(school)}"' in page
    form = client.get(url(school), headers=EN)
    assert form.status_code == 200
    assert 'type="tel"' in form.text

    response = client.post(url(school), headers=EN, data={
        "address": "  Via Dante   Alighieri 7 ", "telephone": "0371 402715"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/schools/{school.id}")
    school = reload(school)
    assert (school.address, school.telephone) == ("Via Dante Alighieri 7", "0371 402715")
    [event] = events(school)
    assert event.actor_id == booking.lead.id
    assert event.data["changes"] == {"address": [None, "Via Dante Alighieri 7"],
                                     "telephone": [None, "0371 402715"]}
    page = client.get(f"/schools/{school.id}", headers=EN).text
    assert "Contact details saved." in page
    assert "Via Dante Alighieri 7" in page and 'href="tel:0371402715"' in page

    # The same values again: nothing changes, no event. Emptied: cleared, audited.
    client.post(url(school), data={"address": "Via Dante Alighieri 7",
                                   "telephone": "0371 402715"})
    assert len(events(school)) == 1
    client.post(url(school), data={"address": "Via Dante Alighieri 7", "telephone": " "})
    school = reload(school)
    assert school.telephone is None
    assert events(school)[-1].data["changes"] == {"telephone": ["0371 402715", None]}


@pytest.mark.parametrize(("telephone", "ok"), [
    ("+39 0371 402715", True), ("0371/402715", True), ("(0371) 40.27.15", True),
    ("call us", False), ("0371", False), ("0371 402715 int. 2", False), ("9" * 31, False),
])
def test_telephone_numbers(client, booking, telephone, ok):
    login(client, booking.lead)
    response = client.post(url(booking.school), headers=EN,
                           data={"address": "Via Roma 1", "telephone": telephone})
    school = reload(booking.school)
    if ok:
        assert response.status_code == 302
        assert school.telephone == telephone
        return
    # Refused next to the field, with what was typed kept; nothing saved.
    assert response.status_code == 400
    error = re.search(r'id="telephone-error"[^>]*>(.*?)</div>', response.text, re.S)
    assert error, response.text
    assert "telephone number" in error.group(1) or "characters" in error.group(1)
    assert f'value="{telephone}"' in response.text and 'value="Via Roma 1"' in response.text
    assert (school.address, school.telephone) == (None, None)
    assert events(school) == []


def test_a_too_long_address_is_refused(client, booking):
    login(client, booking.lead)
    response = client.post(url(booking.school), headers=EN,
                           data={"address": "Via " + "x" * 200, "telephone": ""})
    assert response.status_code == 400
    assert re.search(r'id="address-error"', response.text)
    assert reload(booking.school).address is None


def test_who_may_edit_the_contact(client, factory, booking):
    b = booking
    other_school = factory.school(b.school.ambito)
    allowed = [b.lead, b.coordinator, factory.user(Role.admin)]
    refused = [
        b.teacher,  # sees the school page, does not edit it
        b.mediator.user,
        factory.user(Role.lead, school=other_school),  # another school's lead
        factory.user(Role.coordinator),  # another Ambito's coordinator
    ]
    auth = Auth(client)
    for user in allowed:
        auth.logout()
        login(client, user)
        assert client.get(url(b.school)).status_code == 200, user.role
        assert f'href="{url(b.school)}"' in client.get(f"/schools/{b.school.id}").text
    for user in refused:
        auth.logout()
        login(client, user)
        assert client.get(url(b.school)).status_code == 404, user.role
        response = client.post(url(b.school), data={"address": "Via X 1", "telephone": ""})
        assert response.status_code == 404, user.role
    assert reload(b.school).address is None
    auth.logout()
    login(client, b.teacher)
    assert f'href="{url(b.school)}"' not in client.get(f"/schools/{b.school.id}").text
    # The coordinator's edit is audited as theirs.
    auth.logout()
    login(client, b.coordinator)
    client.post(url(b.school), data={"address": "Via Roma 2", "telephone": "0331 123456"})
    assert events(reload(b.school))[-1].actor_id == b.coordinator.id
