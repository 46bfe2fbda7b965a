"""One school in one Ambito with its lead, a teacher, a mediator, a project with
macro-action 1 and a pupil case with risk indicators: the mediator's pages (the agenda
tests), and the uploads. ``world.booking(...)`` files a request of the school and offers it
to the mediator (or has it accepted).
"""

from datetime import timedelta

import pytest

from mediation.models import (
    Assignment,
    AssignmentState,
    Cycle,
    ItalianLevel,
    MacroAction,
    PupilCase,
    RequestKind,
    RequestState,
    Role,
)

from tests.scenarios.booking import now


class World:
    """One school in one Ambito, its lead, a mediator and a project with macro-action 1."""

    def __init__(self, factory):
        self.factory = factory
        self.ambito = factory.ambito()
        self.school = factory.school(self.ambito)
        self.site = self.school.sites[0]
        self.lead = factory.user(Role.lead, school=self.school)
        self.teacher = factory.user(Role.teacher, school=self.school)
        self.mediator = factory.mediator(ambiti=[self.ambito])
        self.project = factory.project()
        factory.add(MacroAction(project=self.project, number=1, title_it="Qualificazione",
                                title_en="Qualification of the school system"))
        self.case = factory.add(PupilCase(
            school=self.school, code="K7Q", class_name="2B", cycle=Cycle.primaria,
            country_of_origin="MA", high_absences=True, repeated_year=True,
            late_enrolment=True, italian_level=ItalianLevel.a0,
        ))

    def booking(self, start=None, state=AssignmentState.offered, request_state=None,
                kind=RequestKind.slot, mediator=None, **request_kw) -> Assignment:
        """A request of the school with an assignment to the mediator."""
        if request_state is None:
            request_state = {AssignmentState.offered: RequestState.offered,
                             AssignmentState.accepted: RequestState.confirmed}[state]
        request_kw.setdefault("site", self.site)
        request_kw.setdefault("pupil_case", self.case)
        request_kw.setdefault("type", self.factory.request_type(kind=kind))
        request = self.factory.request(school=self.school, project=self.project,
                                       requester=self.teacher, state=request_state,
                                       **request_kw)
        mediator = mediator or self.mediator
        if kind == RequestKind.deadline:
            return self.factory.add(Assignment(
                request=request, mediator=mediator, state=state,
                deadline_dt=request.deadline_dt,
            ))
        start = start or now() + timedelta(days=3)
        return self.factory.assignment(request=request, mediator=mediator, start=start,
                                       end=start + timedelta(hours=1), state=state)


@pytest.fixture
def world(factory):
    return World(factory)
