"""Changes to a school's own data: its contact details (address and telephone).

The school's lead keeps them up to date; the Ambito's coordinator and the admin may too.
They are printed on the family letter. Each change is audited with the old and new values
(a school's public contact details, not personal data).
"""

import re

from flask_babel import lazy_gettext as _l

from ..audit import record
from ..errors import InvalidInput, NotAllowed
from ..models import Role, School, User

ADDRESS_MAX = 200
TELEPHONE_MAX = 30
#: Digits, spaces and the signs people write in a number (+39 0371 123456, 0371/123456).
TELEPHONE = re.compile(r"\+?\(?[0-9][0-9 ./()-]*[0-9]")
TELEPHONE_MIN_DIGITS = 6


def is_telephone(number: str) -> bool:
    """Whether ``number`` (already stripped) reads as a telephone number: at most
    ``TELEPHONE_MAX`` characters, digits and the signs people write, at least
    ``TELEPHONE_MIN_DIGITS`` digits. The one check of a number anyone types (a school's
    switchboard, the number to call for a meeting by phone)."""
    return (len(number) <= TELEPHONE_MAX and TELEPHONE.fullmatch(number) is not None
            and sum(c.isdigit() for c in number) >= TELEPHONE_MIN_DIGITS)


def clean_telephone(value: str | None) -> str | None:
    """A typed number as stored: inner spaces collapsed, None when empty."""
    return _clean(value)


def may_edit_contact(actor: User, school: School) -> bool:
    """The school's lead, the coordinator of its Ambito, the admin."""
    if actor.role == Role.lead:
        return actor.school_id == school.id
    if actor.role == Role.coordinator:
        return actor.ambito_id == school.ambito_id
    return actor.role == Role.admin


def _clean(value: str | None) -> str | None:
    value = " ".join((value or "").split())
    return value or None


def update_contact(actor: User, school: School, *, address: str | None,
                   telephone: str | None) -> dict:
    """Set the school's address and telephone (empty clears them); returns the changes
    ({name: [old, new]}), audited.

    :raise NotAllowed: the actor may not edit this school.
    :raise InvalidInput: too long, or a telephone number that is not one.
    """
    if not may_edit_contact(actor, school):
        raise NotAllowed()
    new = {"address": _clean(address), "telephone": _clean(telephone)}
    if new["address"] is not None and len(new["address"]) > ADDRESS_MAX:
        raise InvalidInput(_l("At most %(max)d characters.", max=ADDRESS_MAX), field="address")
    number = new["telephone"]
    if number is not None and not is_telephone(number):
        raise InvalidInput(_l("Write a telephone number, e.g. 0371 123456."), field="telephone")
    changes = {}
    for name, value in new.items():
        old = getattr(school, name)
        if old != value:
            changes[name] = [old, value]
            setattr(school, name, value)
    if changes:
        record("school.contact_changed", school, actor, changes=changes)
    return changes
