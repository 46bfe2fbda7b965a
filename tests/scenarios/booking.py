"""Building blocks for booking tests: a small Ambito ready to book, and times."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest

from mediation.bookings.operations import RequestInput, SlotInput
from mediation.bookings.rules import to_utc
from mediation.extensions import db
from mediation.models import (
    Action,
    MacroAction,
    MediatorProfile,
    Mode,
    Project,
    RequestKind,
    RequestType,
    Role,
    School,
    User,
)


def school_day(days_ahead: int = 7) -> date:
    """A weekday at least ``days_ahead`` days from today."""
    day = datetime.now(UTC).date() + timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def weekday_after(day: date) -> date:
    """The first weekday after ``day`` (a Friday's is the Monday)."""
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def monday_before_summer_time() -> date:
    """The Monday of the next week that ends with the change to summer time in Rome (the
    last Sunday of March), at least a week from today."""
    year = datetime.now(UTC).date().year
    while True:
        sunday = date(year, 3, 31)
        sunday -= timedelta(days=(sunday.weekday() + 1) % 7)
        monday = sunday - timedelta(days=6)
        if monday >= school_day():
            return monday
        year += 1


def rome(day: date, hour: int, minute: int = 0) -> datetime:
    return to_utc(day, time(hour, minute))


@dataclass
class Booking:
    """An Ambito with a school, its people, a project and request types."""

    project: Project
    school: School
    teacher: User
    lead: User
    coordinator: User
    mediator: MediatorProfile
    meeting: RequestType
    translation: RequestType
    factory: object

    def slot_input(self, day: date | None = None, hour: int = 10, minutes: int = 60,
                   **overrides) -> RequestInput:
        day = day or school_day()
        start = rome(day, hour)
        data = dict(type=self.meeting, language_id=self.mediator.languages[0].language_id,
                    site_id=self.school.sites[0].id, mode=Mode.in_person,
                    expected_parents=2,
                    slots=[SlotInput(start, start + timedelta(minutes=minutes))])
        data.update(overrides)
        return RequestInput(**data)


@pytest.fixture
def booking(factory) -> Booking:
    ambito = factory.ambito()
    school = factory.school(ambito)
    project = factory.project()
    for number in (1, 2):
        macro = factory.add(MacroAction(project=project, number=number,
                                        title_it=f"Macro {number}", title_en=f"Macro {number}"))
        factory.add(Action(macro_action=macro, code=f"{number}.1", title_it="A", title_en="A"))
    meeting = factory.request_type(code="family_meeting", default_action_code="1.1")
    translation = factory.request_type(code="translation", kind=RequestKind.deadline,
                                       default_duration_minutes=None)
    b = Booking(
        project=project,
        school=school,
        teacher=factory.user(Role.teacher, school=school),
        lead=factory.user(Role.lead, school=school),
        coordinator=factory.user(Role.coordinator, ambito=ambito),
        mediator=factory.mediator(ambiti=[ambito], ambito=ambito),
        meeting=meeting,
        translation=translation,
        factory=factory,
    )
    db.session.commit()
    return b
