"""Changes to a pupil case: its risk indicators, its family's code and its status per
school year.

Only the lead of the case's school makes them; each change is audited (old and new
values: booleans, a level code, a status code; never free text about the pupil).
"""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from ..audit import record
from ..bookings.operations import normal_code
from ..errors import Conflict, InvalidInput, NotAllowed
from ..extensions import db
from ..models import (
    ItalianLevel,
    PupilCase,
    PupilCaseStatus,
    PupilStatus,
    Role,
    SchoolYear,
    User,
    utcnow,
)
from .queries import today

INDICATORS = ("high_absences", "repeated_year", "late_enrolment", "italian_level")


def may_edit(actor: User, case: PupilCase) -> bool:
    """A pupil's case is kept by the lead of its school (others may only read it)."""
    return actor.role == Role.lead and actor.school_id == case.school_id


def _require_lead(actor: User, case: PupilCase) -> None:
    if not may_edit(actor, case):
        raise NotAllowed()


def _code(value):
    return value.value if isinstance(value, ItalianLevel | PupilStatus) else value


def update_indicators(actor: User, case: PupilCase, *, high_absences: bool,
                      repeated_year: bool, late_enrolment: bool,
                      italian_level: ItalianLevel | None) -> dict:
    """Set the four risk indicators; returns the changes ({name: [old, new]}), audited.

    :raise NotAllowed: the actor is not the lead of the case's school.
    """
    _require_lead(actor, case)
    if italian_level is not None and not isinstance(italian_level, ItalianLevel):
        raise InvalidInput(_l("Choose a level from the list."), field="italian_level")
    new = {"high_absences": bool(high_absences), "repeated_year": bool(repeated_year),
           "late_enrolment": bool(late_enrolment), "italian_level": italian_level}
    changes = {}
    for name in INDICATORS:
        old = getattr(case, name)
        if old != new[name]:
            changes[name] = [_code(old), _code(new[name])]
            setattr(case, name, new[name])
    if changes:
        record("pupil_case.indicators_updated", case, actor, changes=changes)
    return changes


def set_family_code(actor: User, case: PupilCase, family_code: str | None) -> bool:
    """Give the pupil's family a code (siblings share it: their parents then count once
    among the beneficiaries), change it or take it away (None); whether it changed.
    Audited without the codes (only that it was set or cleared).

    :raise NotAllowed: the actor is not the lead of the case's school.
    """
    _require_lead(actor, case)
    new = normal_code(family_code)
    if new == case.family_code:
        return False
    case.family_code = new
    record("pupil_case.family_code_set", case, actor, cleared=new is None)
    return True


def set_status(actor: User, case: PupilCase, school_year: SchoolYear,
               status: PupilStatus) -> PupilCaseStatus:
    """Set the case's status in a school year that has started, audited.

    :raise NotAllowed: the actor is not the lead of the case's school.
    :raise InvalidInput: the school year has not started yet.
    :raise Conflict: someone else set this year's status at the same moment.
    """
    _require_lead(actor, case)
    if not isinstance(status, PupilStatus):
        raise InvalidInput(_l("Choose a status from the list."), field="status")
    if school_year.start_date > today(utcnow()):
        raise InvalidInput(_l("This school year has not started yet."), field="school_year")
    row = db.session.scalar(
        sa.select(PupilCaseStatus).where(PupilCaseStatus.pupil_case_id == case.id,
                                         PupilCaseStatus.school_year_id == school_year.id)
    )
    old = row.status if row is not None else None
    if row is not None and old == status:
        return row
    if row is None:
        row = PupilCaseStatus(pupil_case_id=case.id, school_year_id=school_year.id,
                              status=status)
        try:
            with db.session.begin_nested():
                db.session.add(row)
        except IntegrityError:
            raise Conflict() from None
    else:
        row.status = status
    db.session.expire(case, ["statuses"])
    record("pupil_case.status_set", case, actor, school_year_id=school_year.id,
           old=_code(old), new=status.value)
    return row
