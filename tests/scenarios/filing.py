"""A school filing requests: a teacher and a lead, a current project, a meeting and a
translation type, Arabic and Moroccan Arabic, a pupil case (the requests and uploads
tests). ``world.meeting_form()`` is a valid meeting form, ``world.request()`` files one.
"""

from datetime import datetime, timedelta

import pytest

from mediation.clock import ROME
from mediation.models import (
    Cycle,
    MediationRequest,
    PupilCase,
    RequestKind,
    Role,
)


def school_day(weeks: int = 1, weekday: int = 0):
    """A weekday (0 = Monday) ``weeks`` weeks from now, in Rome; never today."""
    today = datetime.now(ROME).date()
    next_monday = today + timedelta(days=7 - today.weekday())
    return next_monday + timedelta(weeks=weeks - 1, days=weekday)


class World:
    """A school with a teacher and a lead, a current project, a meeting type and a language."""

    def __init__(self, factory, requires_approval=False, again=False):
        """``again``: a second world in the same database, whose codes must stay unique: the
        languages are the first world's, the meeting type has a code of its own and there is no
        translation type."""
        self.factory = factory
        self.ambito = factory.ambito()
        self.school = factory.school(self.ambito, requires_lead_approval=requires_approval)
        self.site = self.school.sites[0]
        self.project = factory.project()
        self.teacher = factory.user(Role.teacher, school=self.school)
        self.lead = factory.user(Role.lead, school=self.school)
        self.arabic = factory.language("ar", name_it="Arabo", name_en="Arabic")
        self.darija = factory.language("ar-MA", name_it="Arabo marocchino",
                                       name_en="Moroccan Arabic", parent_id=self.arabic.id)
        if again:
            self.meeting = factory.request_type(concerns_pupil=True)
            self.translation = None
        else:
            self.meeting = factory.request_type(code="family_meeting", concerns_pupil=True,
                                                default_duration_minutes=60)
            self.translation = factory.request_type(
                code="translation", kind=RequestKind.deadline, default_duration_minutes=None,
                name_en="Translation of documents")
        self.case = factory.add(PupilCase(school=self.school, code="2026-001", class_name="3B",
                                          cycle=Cycle.primaria))

    def meeting_form(self, **overrides) -> dict:
        data = {
            "language": str(self.darija.id),
            "pupil_case": str(self.case.id),
            "expected_pupils": "1",
            "expected_parents": "2",
            "expected_teachers": "1",
            "mode": "in_person",
            "site": str(self.site.id),
            "duration": "60",
            "slot_1_date": school_day(1, 0).isoformat(),
            "slot_1_time": "09:00",
            "slot_2_date": school_day(1, 2).isoformat(),
            "slot_2_time": "14:30",
            "slot_3_date": "",
            "slot_3_time": "",
            "urgency": "normal",
            "notes": "Bring the enrolment form",
        }
        data.update(overrides)
        return data

    def request(self, **kw) -> MediationRequest:
        kw.setdefault("project", self.project)
        kw.setdefault("requester", self.teacher)
        kw.setdefault("type", self.meeting)
        kw.setdefault("language", self.arabic)
        return self.factory.request(school=self.school, **kw)


@pytest.fixture
def world(factory):
    return World(factory)
