"""Building blocks for booking tests: a small Ambito ready to book (the `booking` fixture
every test has), the times tests use, and requests filed, offered and shown in emails."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest

from mediation.bookings import operations as ops
from mediation.bookings.operations import RequestInput, SlotInput
from mediation.clock import to_utc
from mediation.extensions import db
from mediation.models import (
    Action,
    AssignmentState,
    BroadcastInvitation,
    BroadcastState,
    InvitationState,
    LogState,
    MacroAction,
    MediatorProfile,
    Mode,
    OfferBroadcast,
    Outcome,
    Project,
    RequestKind,
    RequestState,
    RequestType,
    Role,
    School,
    SessionLog,
    TimeProposal,
    User,
)


def now() -> datetime:
    """This second, in UTC."""
    return datetime.now(UTC).replace(microsecond=0)


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


def submitted(booking: Booking, actor=None, **overrides):
    """A request of the booking's school filed by its teacher (or ``actor``), from
    ``booking.slot_input(**overrides)``. Committed."""
    request = ops.submit_request(actor or booking.teacher, booking.slot_input(**overrides))
    db.session.commit()
    return request


def offered(booking: Booking, request=None, mediator=None):
    """``request`` (a new one by default) offered at its first slot by the coordinator to
    ``mediator`` (the booking's by default). Committed."""
    request = request or submitted(booking)
    slot = request.slots[0]
    assignment = ops.offer(booking.coordinator, request, mediator or booking.mediator,
                           slot.start_dt, slot.end_dt)
    db.session.commit()
    return assignment


def email_scene(booking: Booking, start: datetime, *, rejection_reason: str,
                decline_reason: str, end_reason: str, review_comment: str,
                **assignment) -> dict:
    """What the emails show, for the school of ``booking``: a confirmed request, its accepted
    assignment at ``start``, a returned log and a time proposal two days later, with the free
    texts given. Committed."""
    f = booking.factory
    request = f.request(school=booking.school, requester=booking.teacher,
                        project=booking.project, type=booking.meeting,
                        language=booking.mediator.languages[0].language,
                        site=booking.school.sites[0], state=RequestState.confirmed,
                        rejection_reason=rejection_reason)
    assignment = f.assignment(request=request, mediator=booking.mediator, start=start,
                              end=start + timedelta(hours=1), state=AssignmentState.accepted,
                              offered_by=booking.coordinator, decline_reason=decline_reason,
                              end_reason=end_reason, **assignment)
    log = f.add(SessionLog(assignment=assignment, outcome=Outcome.held,
                           macro_action_id=booking.project.macro_actions[0].id,
                           actual_start_dt=start, actual_end_dt=start + timedelta(hours=1),
                           state=LogState.returned, review_comment=review_comment))
    proposal = f.add(TimeProposal(request=request, mediator=booking.mediator,
                                  start_dt=start + timedelta(days=2),
                                  end_dt=start + timedelta(days=2, hours=1),
                                  proposed_by=booking.coordinator, answered_by=booking.teacher))
    # It had been offered to several mediators at once: this one took it.
    broadcast = f.add(OfferBroadcast(request=request, start_dt=start,
                                     end_dt=start + timedelta(hours=1),
                                     created_by=booking.coordinator,
                                     state=BroadcastState.taken))
    invitation = f.add(BroadcastInvitation(broadcast=broadcast, mediator=booking.mediator,
                                           state=InvitationState.accepted,
                                           sent_dt=start - timedelta(days=3)))
    db.session.commit()
    return {"request": request, "assignment": assignment, "log": log,
            "inviter": booking.coordinator, "token": "t0k3n", "proposal": proposal,
            "broadcast": broadcast, "invitation": invitation}
