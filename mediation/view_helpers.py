"""What every view does with a refused operation, written once.

Operations raise domain errors (``mediation/errors.py``); a view either puts the message
next to the field it names, keeping what the person typed (:func:`show_error`), or,
when the action itself is refused (someone changed the request meanwhile), rolls back
and goes back with the message (:func:`refused`).
"""

from flask import flash, redirect

from .extensions import db


def show_error(form, error, aliases: dict[str, str] | None = None,
               fallback: str | None = None) -> None:
    """Put a domain error next to the form field it names, or above the form.

    ``error.field`` is the operation's name for the input; ``aliases`` maps it to the
    form's field where the two differ (the operation's ``actual_date`` is the form's
    ``day``). Without such a field, the message goes on ``fallback`` if given, else
    above the form.
    """
    name = error.field or ""
    name = (aliases or {}).get(name, name)
    field = form._fields.get(name) or (form._fields.get(fallback) if fallback else None)
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


def refused(error, target: str):
    """Roll back, flash why the action was refused, and go to ``target``."""
    db.session.rollback()
    flash(error.message, "danger")
    return redirect(target)
