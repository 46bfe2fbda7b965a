"""Input from URLs and forms kept within what the database columns hold.

PostgreSQL refuses to compare an ``integer`` column with 2**63 (an error, so a 500), where
SQLite simply finds nothing. An id or a page number out of range names nothing: a 404.
"""

from flask import abort, request
from werkzeug.routing import IntegerConverter

from .errors import NullCharacter

#: The largest id a column holds (PostgreSQL ``integer``).
MAX_ID = 2**31 - 1
#: Far more pages than any list has; beyond it the OFFSET would overflow.
MAX_PAGE = 1_000_000


def valid_id(value: int | None) -> bool:
    return value is not None and 1 <= value <= MAX_ID


class IdConverter(IntegerConverter):
    """``<int:...>`` in a URL: at most ``MAX_ID`` (a larger number does not match: 404)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def page_arg() -> int:
    """The ``page`` query argument: 1 by default, a 404 when out of range."""
    page = request.args.get("page", 1, type=int)
    if not 1 <= page <= MAX_PAGE:
        abort(404)
    return page


def refuse_null_characters() -> None:
    """Before every request: a NUL in the URL's path or in a form is refused (400).

    PostgreSQL refuses to store or compare text holding one (an error, so a 500). The query
    string is left to the views: its filters keep only listed options or parsed values, and
    ``next`` is checked by ``safe_next``.
    """
    values = [v for v in (request.view_args or {}).values() if isinstance(v, str)]
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        values += [v for _key, vs in request.form.lists() for v in vs]
        values += [f.filename or "" for _key, fs in request.files.lists() for f in fs]
    if any("\x00" in value for value in values):
        raise NullCharacter()
