"""The download of an export: the filter from the query string, the audit event, and the
response (CSV streamed as it is written; XLSX written to a temporary file, then sent).

Called by the ``reporting.export`` route (``/reporting/export/<kind>.<fmt>``, in
:mod:`views`), which only coordinators and the admin reach.
"""

import os

from flask import Response, abort, request, stream_with_context

from .. import audit
from ..extensions import db
from ..models import User
from ..scoping import scope_of
from . import exports, spreadsheets
from .filters import OutOfScope, default_period, parse_filter


def export_locale(args) -> str:
    """``?lang=en`` for English headers; Italian otherwise."""
    value = args.get("lang")
    return value if value in exports.LOCALES else exports.DEFAULT_LOCALE


def export_response(kind: str, fmt: str, user: User) -> Response:
    """The download of export ``kind`` as ``fmt`` for the filter in the query string (the
    dashboard's, with the same default period); 404 for an unknown kind or format, or a
    filter outside the user's scope."""
    if kind not in exports.KINDS or fmt not in exports.FORMATS:
        abort(404)
    start, end = default_period()
    try:
        report, _errors = parse_filter(request.args, user, start, end)
    except OutOfScope:
        abort(404)
    locale = export_locale(request.args)
    # Plain values, read before the commit below expires the user: a CSV's rows are read
    # after this view has returned, when the request's session is closed.
    scope = scope_of(user)
    # Ids and dates only: what was exported, by whom (the event's actor), never its content.
    audit.record(
        "report.exported", None, user, kind=kind, format=fmt, locale=locale,
        start=report.start.isoformat(), end=report.end.isoformat(),
        ambito_id=report.ambito_id, school_id=report.school_id,
        macro_action_id=report.macro_action_id, language_id=report.language_id,
        type_id=report.type_id,
    )
    db.session.commit()
    export = exports.table(kind, report, scope, locale)
    filename = f"{export.filename}.{fmt}"
    if fmt == "csv":
        response = Response(stream_with_context(spreadsheets.csv_chunks(export)),
                            mimetype="text/csv")
    else:
        # A workbook is a zip archive: written whole to a temporary file, then sent.
        handle = spreadsheets.xlsx_file(export)
        response = Response(spreadsheets.file_chunks(handle), mimetype=spreadsheets.XLSX_MIMETYPE)
        response.call_on_close(handle.close)
        response.content_length = os.fstat(handle.fileno()).st_size
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
