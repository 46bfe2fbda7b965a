"""Domain errors raised by operations, and the HTTP error pages."""

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError

from .extensions import db


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


def register_error_handlers(app: Flask) -> None:
    def render_error(code: int, title, message):
        return render_template("errors/error.html", code=code, title=title, message=message), code

    @app.errorhandler(403)
    def forbidden(error):
        return render_error(
            403, _l("Access denied"), _l("You do not have permission to do this.")
        )

    @app.errorhandler(404)
    def not_found(error):
        return render_error(
            404,
            _l("Page not found"),
            _l("The page you asked for does not exist, or you cannot see it."),
        )

    @app.errorhandler(405)
    def method_not_allowed(error):
        return render_error(405, _l("Not allowed"), _l("This action cannot be done this way."))

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(
            400,
            _l("The form has expired"),
            _l(
                "The page was open for too long or was sent twice."
                " Go back, reload it and try again."
            ),
        )

    @app.errorhandler(413)
    def too_large(error):
        return render_error(413, _l("File too large"), _l("The file you sent is too large."))

    @app.errorhandler(OverflowError)
    def date_out_of_range(error):
        # A date like 0001-01-01 or 9999-12-31 typed in a form or a URL: date arithmetic
        # overflows. Forms bound their years; this is the net under the rest.
        db.session.rollback()
        return render_error(400, _l("Date out of range"),
                            _l("This date is too far in the past or in the future."))

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        return render_error(error.status_code, _l("Not possible"), error.message)

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        return render_error(
            500,
            _l("Something went wrong"),
            _l("An unexpected error occurred. It has been logged; please try again later."),
        )
