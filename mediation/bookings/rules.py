"""Calendar rules: when a meeting may be booked, and which project it counts against."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from ..clock import in_rome
from ..extensions import db
from ..models import Closure, Project, School

MIN_DURATION = timedelta(minutes=15)


@dataclass
class Calendar:
    """Projects and closures loaded once, to check many slots without more queries."""

    projects: list[Project]
    closures: list[Closure]

    @classmethod
    def load(cls, school: School, first: date, last: date) -> "Calendar":
        projects = db.session.scalars(
            sa.select(Project).options(selectinload(Project.extensions))
            .order_by(Project.start_date.desc(), Project.id.desc())
        ).all()
        closures = db.session.scalars(
            sa.select(Closure).where(
                sa.or_(Closure.school_id.is_(None), Closure.school_id == school.id),
                Closure.start_date <= last,
                Closure.end_date >= first,
            )
        ).all()
        return cls(list(projects), list(closures))

    def project_on(self, day: date) -> Project | None:
        """The project running on ``day`` (if several overlap, the one that started last;
        of two that started the same day, the one created last)."""
        for project in self.projects:
            if project.covers(day):
                return project
        return None

    def closure_on(self, day: date) -> Closure | None:
        for closure in self.closures:
            if closure.start_date <= day <= closure.end_date:
                return closure
        return None


def slot_problem(start: datetime, end: datetime, calendar: Calendar, now: datetime):
    """Why a meeting cannot take place then, as a message for the person, or None."""
    if end - start < MIN_DURATION:
        return _l("A meeting lasts at least 15 minutes.")
    if start < now:
        return _l("This time is in the past.")
    local_start, local_end = in_rome(start), in_rome(end)
    if local_start.date() != local_end.date():
        return _l("A meeting must start and end on the same day.")
    day = local_start.date()
    if day.weekday() >= 5:
        return _l("Schools are closed at the weekend: choose a day from Monday to Friday.")
    closure = calendar.closure_on(day)
    if closure is not None:
        return _l("The school is closed on that day (%(name)s).", name=closure.name)
    if calendar.project_on(day) is None:
        return _l("No project is running on that day, so no mediation can be booked.")
    return None


def booking_problem(start: datetime, end: datetime, calendar: Calendar, now: datetime,
                    project_id: int):
    """Why a meeting of the request of project ``project_id`` cannot be booked then (the
    calendar's rules, and the time must count against the request's project), or None."""
    problem = slot_problem(start, end, calendar, now)
    if problem is not None:
        return problem
    if calendar.project_on(in_rome(start).date()).id != project_id:
        return _l("This time falls in another project than the request's.")
    return None


def deadline_problem(deadline: datetime, calendar: Calendar, now: datetime):
    """Why a translation cannot be due then, or None."""
    if deadline <= now:
        return _l("The deadline must be in the future.")
    if calendar.project_on(in_rome(deadline).date()) is None:
        return _l("No project is running on that day, so no translation can be booked.")
    return None
