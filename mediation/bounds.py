"""Numbers from URLs and forms kept within what the database columns hold.

PostgreSQL refuses to compare an ``integer`` column with 2**63 (an error, so a 500), where
SQLite simply finds nothing. An id or a page number out of range names nothing: a 404.
"""

from flask import abort, request
from werkzeug.routing import IntegerConverter

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
