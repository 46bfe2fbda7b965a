"""The coordinator's world: an Ambito with two schools, a project with two macro-actions,
a coordinator, a teacher and request types; ``world.mediator(...)`` and the other
builders add mediators, requests and logs (the coordination, home-page and browser
tests).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest

from mediation.extensions import db
from mediation.models import (
    Action,
    AssignmentState,
    LogState,
    MacroAction,
    Outcome,
    PreferredSlot,
    Project,
    RequestKind,
    RequestState,
    RequestType,
    Role,
    School,
    SessionLog,
    User,
)

from tests.scenarios.booking import rome


def next_week(weekday: int = 0) -> date:
    """A weekday of the week after next (Monday = 0), safely in the future."""
    today = datetime.now(UTC).date()
    monday = today + timedelta(days=14 - today.weekday())
    return monday + timedelta(days=weekday)


@dataclass
class World:
    """An Ambito with a school, a project with macro-actions, people and request types."""

    factory: object
    school: School
    other_school: School
    project: Project
    coordinator: User
    teacher: User
    meeting: RequestType
    translation: RequestType
    macros: list

    def mediator(self, **kw):
        return self.factory.mediator(ambiti=[self.school.ambito], ambito=self.school.ambito,
                                     **kw)

    def request(self, slots=((0, 10),), school=None, **kw):
        """An open meeting request with preferred slots given as (weekday, hour)."""
        kw.setdefault("type", self.meeting)
        req = self.factory.request(school=school or self.school, project=self.project,
                                   requester=kw.pop("requester", self.teacher), **kw)
        if req.type.kind == RequestKind.slot:
            for position, (weekday, hour) in enumerate(slots, start=1):
                day = next_week(weekday)
                self.factory.add(PreferredSlot(request=req, position=position,
                                               start_dt=rome(day, hour),
                                               end_dt=rome(day, hour + 1)))
        return req

    def translation_request(self, **kw):
        return self.request(type=self.translation, duration_minutes=None,
                            deadline_dt=rome(next_week(2), 12), **kw)

    def logged(self, mediator, **kw):
        """A logged request with its accepted assignment and submitted log."""
        req = self.request(state=RequestState.logged, **kw)
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
        assignment = self.factory.assignment(request=req, mediator=mediator, start=start,
                                             end=start + timedelta(hours=1),
                                             state=AssignmentState.accepted)
        return self.factory.add(SessionLog(
            assignment=assignment, actual_start_dt=start, actual_end_dt=start + timedelta(hours=1),
            parents_met=2, outcome=Outcome.held, summary="Talked about the school year",
            macro_action=self.macros[0], action=self.macros[0].actions[0],
            state=LogState.submitted,
        ))


def make_world(factory) -> World:
    ambito = factory.ambito()
    school = factory.school(ambito)
    project = factory.project()
    macros = []
    for number in (1, 2):
        macro = factory.add(MacroAction(project=project, number=number,
                                        title_it=f"Macro {number}", title_en=f"Macro {number}"))
        factory.add(Action(macro_action=macro, code=f"{number}.1", title_it="A", title_en="A"))
        db.session.refresh(macro)
        macros.append(macro)
    return World(
        factory=factory,
        school=school,
        other_school=factory.school(ambito),
        project=project,
        coordinator=factory.user(Role.coordinator, ambito=ambito, display_name="Coordinator"),
        teacher=factory.user(Role.teacher, school=school),
        meeting=factory.request_type(default_action_code="1.1"),
        translation=factory.request_type(kind=RequestKind.deadline,
                                         default_duration_minutes=None),
        macros=macros,
    )


@pytest.fixture
def world(factory) -> World:
    w = make_world(factory)
    db.session.commit()
    return w


def running(world):
    """Make the world's project the one running (rules.Calendar): the factory gives every
    other request a project of its own, from the same day."""
    world.project.start_date += timedelta(days=1)


def free_on_tuesday_afternoons(world: World, display_name: str):
    """A mediator of the world (an Arabic speaker) free on Tuesday afternoons only."""
    mediator = world.mediator(display_name=display_name)
    for availability in mediator.availability:
        if availability.weekday == 1:
            availability.start_time = time(14)
        else:
            db.session.delete(availability)
    return mediator
