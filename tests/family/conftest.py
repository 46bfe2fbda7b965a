"""The family's answer to the invitation letter (issue #19): a confirmed meeting a week
ahead, in Arabic, with a pupil code and a note that the family's page must never show."""

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest

from mediation.extensions import db
from mediation.models import (
    AssignmentState,
    Cycle,
    MediationRequest,
    Mode,
    PupilCase,
    RequestState,
)

from tests.scenarios.booking import rome, school_day

PUPIL_CODE = "LO-2026-SECRET-017"
NOTE = "The father works nights; call after 10"
LINK = re.compile(r'<bdi dir="ltr" class="app-letter-link">([^<]+)</bdi>')


@dataclass
class Meeting:
    request: MediationRequest
    assignment: object

    @property
    def end(self):
        return self.assignment.end_dt


def make_meeting(booking, factory, language="ar", hour=10, day=None,
                 code=PUPIL_CODE) -> Meeting:
    b = booking
    case = factory.add(PupilCase(school=b.school, code=code, class_name="2A",
                                 cycle=Cycle.primaria))
    lang = factory.language(language)
    req = factory.request(school=b.school, requester=b.teacher, type=b.meeting,
                          project=b.project, language=lang, state=RequestState.confirmed,
                          site=b.school.sites[0], mode=Mode.in_person, pupil_case=case,
                          notes=NOTE, expected_parents=2)
    start = rome(day or school_day(), hour)
    assignment = factory.assignment(request=req, mediator=b.mediator,
                                    state=AssignmentState.accepted, start=start,
                                    end=start + timedelta(hours=1))
    db.session.commit()
    return Meeting(req, assignment)


@pytest.fixture
def meeting(booking, factory) -> Meeting:
    return make_meeting(booking, factory)


def letter_link(client, request_id: int, lang: str = "ar") -> str:
    """The family's link printed on the letter of ``request_id`` (the client is logged in)."""
    response = client.get(f"/requests/{request_id}/letter?lang={lang}")
    assert response.status_code == 200
    links = set(LINK.findall(response.get_data(as_text=True)))
    assert len(links) == 1, links  # the same link in both halves
    return links.pop()
