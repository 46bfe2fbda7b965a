"""Pupil pathways: an Ambito with a school, its people, four school years and the pupil
case K7Q, plus another Ambito's school; ``world.case``, ``world.request`` and
``world.session`` add a pupil, a request and an approved session (the cases tests).
"""

from datetime import UTC, date, datetime, timedelta

import pytest

from mediation.extensions import db
from mediation.models import (
    AssignmentState,
    Cycle,
    ItalianLevel,
    LogState,
    MacroAction,
    MediationRequest,
    Outcome,
    PupilCase,
    PupilCaseStatus,
    PupilStatus,
    RequestState,
    Role,
    SchoolYear,
    SessionLog,
)


class Pathways:
    """An Ambito with a school, its people, school years, and a pupil case K7Q."""

    def __init__(self, factory):
        self.factory = factory
        self.ambito = factory.ambito(name="Ambito di Lodi")
        self.school = factory.school(self.ambito, name="IC Lodi Uno")
        self.lead = factory.user(Role.lead, school=self.school)
        self.teacher = factory.user(Role.teacher, school=self.school)
        self.coordinator = factory.user(Role.coordinator, ambito=self.ambito)
        self.admin = factory.user(Role.admin)
        self.mediator = factory.mediator(ambiti=[self.ambito], display_name="Amina Mediatrice")
        self.project = factory.project(start_date=date(2020, 1, 1), end_date=date(2035, 6, 30))
        self.macro = factory.add(MacroAction(project=self.project, number=1, title_it="M1",
                                             title_en="M1"))
        self.meeting = factory.request_type(code="family_meeting", name_en="Family meeting",
                                            concerns_pupil=True)
        self.orientation = factory.request_type(code="orientation", name_en="Orientation",
                                                concerns_pupil=True)
        self.arabic = factory.language("ar")  # (the mediator's language)
        self.arabic.name_en, self.arabic.name_it = "Arabic", "Arabo"
        self.other_ambito = factory.ambito(name="Ambito di Legnano")
        self.other_school = factory.school(self.other_ambito, name="IC Legnano")
        self.other_teacher = factory.user(Role.teacher, school=self.other_school)
        today = datetime.now(UTC).date()
        y = today.year if today.month >= 9 else today.year - 1
        self.older = factory.add(SchoolYear(label=f"{y - 2}/{y - 1}",
                                            start_date=date(y - 2, 9, 1),
                                            end_date=date(y - 1, 6, 30)))
        self.previous = factory.add(SchoolYear(label=f"{y - 1}/{y}", start_date=date(y - 1, 9, 1),
                                               end_date=date(y, 6, 30)))
        self.current = factory.add(SchoolYear(label=f"{y}/{y + 1}", start_date=date(y, 9, 1),
                                              end_date=date(y + 1, 6, 30)))
        self.next = factory.add(SchoolYear(label=f"{y + 1}/{y + 2}",
                                           start_date=date(y + 1, 9, 1),
                                           end_date=date(y + 2, 6, 30)))
        self.k7q = self.case("K7Q", class_name="2B", arrival_year=2024, country_of_origin="MA",
                             high_absences=True, repeated_year=True,
                             italian_level=ItalianLevel.a0, status=PupilStatus.at_risk)
        self.k7q.home_languages.append(self.arabic)
        db.session.flush()

    def case(self, code, school=None, class_name="2B", cycle=Cycle.primaria, status=None,
             year=None, **kw) -> PupilCase:
        case = self.factory.add(PupilCase(school=school or self.school, code=code,
                                          class_name=class_name, cycle=cycle, **kw))
        if status is not None:
            self.factory.add(PupilCaseStatus(pupil_case=case, school_year=year or self.current,
                                             status=status))
        return case

    def request(self, case, rtype=None, state=RequestState.open, created=None,
                ) -> MediationRequest:
        school = case.school
        requester = self.teacher if school.id == self.school.id else self.other_teacher
        kw = {"created_dt": created} if created else {}
        return self.factory.request(school=school, project=self.project, requester=requester,
                                    type=rtype or self.meeting, language=self.arabic,
                                    pupil_case=case, state=state, **kw)

    def session(self, case, when, follow_up=False, outcome=Outcome.held, rtype=None,
                mediator=None, state=RequestState.closed) -> SessionLog:
        req = self.request(case, rtype, state=state, created=when - timedelta(days=1))
        assignment = self.factory.assignment(
            request=req, mediator=mediator or self.mediator, start=when,
            end=when + timedelta(hours=1), state=AssignmentState.accepted)
        return self.factory.add(SessionLog(
            assignment=assignment, actual_start_dt=when, actual_end_dt=when + timedelta(hours=1),
            outcome=outcome, follow_up_needed=follow_up, macro_action=self.macro,
            state=LogState.approved, summary="Incontro con la famiglia"))


@pytest.fixture
def world(factory):
    return Pathways(factory)
