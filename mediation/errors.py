"""The domain errors: what an operation raises when it refuses, whatever the package.

Plain exceptions, importable without the Flask application; the HTTP error pages that show
them are in ``error_pages.py``.
"""

from flask_babel import lazy_gettext as _l


class DomainError(Exception):
    """A refused operation; ``message`` is shown to the user, ``field`` names the form field."""

    status_code = 409
    default_message = _l("This action is not possible.")

    def __init__(self, message=None, field: str | None = None):
        self.message = message or self.default_message
        self.field = field
        super().__init__(str(self.message))


class NotAllowed(DomainError):
    status_code = 404
    default_message = _l("This page does not exist or you cannot see it.")


class Conflict(DomainError):
    status_code = 409
    default_message = _l("Someone changed this in the meantime. Please reload and try again.")


class NullCharacter(DomainError):
    """A NUL character in a form or a URL: nobody types one, and PostgreSQL cannot store it."""

    status_code = 400
    default_message = _l("The form contains a character that cannot be saved (a null"
                         " character). Remove it and try again.")


class InvalidTransition(DomainError):
    status_code = 409
    default_message = _l("This request is no longer in a state that allows this.")


class SlotTaken(DomainError):
    status_code = 409
    default_message = _l(
        "The mediator has just been booked at an overlapping time by someone else."
        " Choose another mediator or another time."
    )


class InvalidInput(DomainError):
    status_code = 400
