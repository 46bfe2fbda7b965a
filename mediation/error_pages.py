"""The HTTP error pages: one handler per error code, and one for every domain error."""

import sqlalchemy as sa
from flask import Flask, current_app, g, render_template
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError

from .errors import DomainError
from .extensions import db, login_manager


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
        # The body was not read, so the form cannot be shown again from here; the
        # browser's Back button usually keeps what was typed.
        db.session.rollback()
        limit = app.config.get("MAX_CONTENT_LENGTH") or 0
        return render_error(
            413,
            _l("Files too large"),
            _l(
                "What you sent is larger than %(size)s MB in all, so it was not saved."
                " Go back to the form with your browser's Back button (what you typed is"
                " usually still there) and attach smaller or fewer files.",
                size=format_decimal(round(limit / (1024 * 1024), 1)),
            ),
        )

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

    @app.errorhandler(sa.exc.OperationalError)
    @app.errorhandler(sa.exc.InterfaceError)
    def database_unavailable(error):
        # The database went away (restarted, network cut): this request fails cleanly and
        # the pool, which pings connections before use, gives the next one a fresh one.
        current_app.logger.warning("database unavailable: %s", error)
        try:
            db.session.rollback()
        except sa.exc.SQLAlchemyError:
            db.session.remove()
        # The page is shown as to a visitor: loading the user would need the database.
        g._login_user = login_manager.anonymous_user()
        body, code = render_error(
            503,
            _l("Service temporarily unavailable"),
            _l("The service could not reach its database. Please try again in a minute."),
        )
        return body, code, {"Retry-After": "30"}

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        return render_error(
            500,
            _l("Something went wrong"),
            _l("An unexpected error occurred. It has been logged; please try again later."),
        )
