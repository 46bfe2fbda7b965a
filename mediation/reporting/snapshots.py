"""What a period freezes when it closes, and its evidence pack.

At closing, every part of :data:`SNAPSHOT_PARTS` renders its files for the period's scope
and days, in the closing transaction: the figures as the period's page shows them (an HTML
fragment per language) and every export the reporting page offers (each kind, format and
language). Each is stored with its SHA-256 (``PeriodFile``); the period's page and
downloads serve these bytes, never a new computation, so they are the same byte for byte
however the data change later.

The evidence pack is a ZIP of the stored files named by :data:`PACK_FILES` and a manifest
of their SHA-256 (``SHA256SUMS.txt``, the format ``sha256sum -c`` reads). Its entries have
a fixed date (the period's closing, in Europe/Rome) and a fixed order: the pack is
reproducible byte for byte from the stored files.

The pack holds the quarterly summary, the sessions export (which carries each session's
attestation by the school) and the monthly timesheets. Adding a part: a function
``(period, report, scope) -> iterable of (name, mimetype, bytes)`` appended to
:data:`SNAPSHOT_PARTS`, and its file names (``fnmatch`` patterns) to :data:`PACK_FILES`.
"""

import hashlib
import io
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date, timedelta
from fnmatch import fnmatch

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale

from ..clock import ROME, month_start, next_month
from ..extensions import db
from ..models import MediatorProfile, PeriodFile, ReportingPeriod, SessionLog
from ..scoping import Scope
from . import aggregates, display, exports, sheets, spreadsheets
from .filters import ReportFilter, counted_sessions
from .periods import adjustments

CSV_MIMETYPE = "text/csv"
HTML_MIMETYPE = "text/html"
ZIP_MIMETYPE = "application/zip"
MANIFEST = "SHA256SUMS.txt"

File = tuple[str, str, bytes]  # name, mimetype, content
Part = Callable[[ReportingPeriod, ReportFilter, Scope], Iterable[File]]


def figures_name(locale: str) -> str:
    return f"figures_{locale}.html"


def export_name(kind: str, locale: str, fmt: str) -> str:
    return f"{kind}_{locale}.{fmt}"


def _figures(period: ReportingPeriod, report: ReportFilter, scope: Scope) -> Iterable[File]:
    """The period's figures as its page shows them, in each language."""
    figures = aggregates.dashboard(report, scope, today=period.end_date)
    adjustments_in = adjustments(report, scope)
    for locale in exports.LOCALES:
        with force_locale(locale):
            # The template alone, without the context of a request (none may exist: the
            # CLI, a test): the fragment depends on nothing but these values.
            html = current_app.jinja_env.get_template("reporting/_period_figures.html").render(
                figures=figures, adjustments=adjustments_in, report=report, locale=locale,
                display=display)
        yield figures_name(locale), HTML_MIMETYPE, html.encode()


def export_bytes(kind: str, fmt: str, report: ReportFilter, scope: Scope,
                 locale: str) -> bytes:
    """An export as the reporting page's download would send it now."""
    table = exports.table(kind, report, scope, locale)
    if fmt == "csv":
        return "".join(spreadsheets.csv_chunks(table)).encode()
    target = io.BytesIO()
    spreadsheets.write_xlsx(table, target)
    return target.getvalue()


def _exports(period: ReportingPeriod, report: ReportFilter, scope: Scope) -> Iterable[File]:
    """Every export of the reporting page, in each format and language."""
    for kind in exports.KINDS:
        for fmt in exports.FORMATS:
            for locale in exports.LOCALES:
                mimetype = CSV_MIMETYPE if fmt == "csv" else spreadsheets.XLSX_MIMETYPE
                yield (export_name(kind, locale, fmt), mimetype,
                       export_bytes(kind, fmt, report, scope, locale))


def timesheet_name(month: date, mediator_id: int) -> str:
    return f"timesheet_{month:%Y-%m}_{mediator_id}.xlsx"


def _timesheets(period: ReportingPeriod, report: ReportFilter,
                scope: Scope) -> Iterable[File]:
    """The monthly timesheet (XLSX, Italian) of every mediator with a session counted in
    the period, for each month the period touches (its days only), as the timesheet
    page's download gives them."""
    mediator_ids = db.session.scalars(
        counted_sessions(report, scope, SessionLog.mediator_id).distinct()
        .order_by(SessionLog.mediator_id)).all()
    mediators = {m.id: m for m in db.session.scalars(
        sa.select(MediatorProfile).where(MediatorProfile.id.in_(mediator_ids)))}
    month = month_start(period.start_date)
    while month <= period.end_date:
        days = replace(report, start=max(month, period.start_date),
                       end=min(next_month(month) - timedelta(days=1), period.end_date))
        for mediator_id in mediator_ids:
            mediator = mediators[mediator_id]
            with force_locale("it"):
                sheet = sheets.timesheet(replace(days, mediator_id=mediator_id), scope, "it")
                if not (sheet["sessions"] or sheet["translations"]):
                    continue
                table = sheets.timesheet_table(
                    sheet, sheets.timesheet_heading(mediator, month, period.ambito_id, sheet),
                    "it", timesheet_name(month, mediator_id).removesuffix(".xlsx"))
            target = io.BytesIO()
            spreadsheets.write_xlsx(table, target)
            yield timesheet_name(month, mediator_id), spreadsheets.XLSX_MIMETYPE, \
                target.getvalue()
        month = next_month(month)


#: The parts frozen at closing, in order (the files keep it).
SNAPSHOT_PARTS: list[Part] = [_figures, _exports, _timesheets]

#: The stored files the evidence pack holds (``fnmatch`` patterns over their names), in
#: order: the quarterly summary (XLSX), the sessions export (CSV and XLSX, Italian: each
#: session with the school's attestation, who gave it and when, or pending) and the
#: mediators' monthly timesheets.
PACK_FILES: list[str] = [
    export_name("summary", "it", "xlsx"),
    export_name("sessions", "it", "csv"),
    export_name("sessions", "it", "xlsx"),
    "timesheet_*.xlsx",
]


def freeze(period: ReportingPeriod, scope: Scope) -> None:
    """Render every part for the period and store its files (in the caller's
    transaction)."""
    report = ReportFilter(start=period.start_date, end=period.end_date,
                          ambito_id=period.ambito_id)
    position = 0
    for part in SNAPSHOT_PARTS:
        for name, mimetype, content in part(period, report, scope):
            period.files.append(PeriodFile(
                position=position, name=name, mimetype=mimetype, content=content,
                sha256=hashlib.sha256(content).hexdigest()))
            position += 1


def file_named(period: ReportingPeriod, name: str) -> PeriodFile | None:
    return next((f for f in period.files if f.name == name), None)


def pack_files(period: ReportingPeriod) -> list[PeriodFile]:
    """The stored files of the pack, in the order of :data:`PACK_FILES`."""
    chosen: list[PeriodFile] = []
    for pattern in PACK_FILES:
        chosen += [f for f in period.files if fnmatch(f.name, pattern) and f not in chosen]
    return chosen


def pack_name(period: ReportingPeriod) -> str:
    scope = f"ambito{period.ambito_id}" if period.ambito_id is not None else "region"
    return f"evidence_{scope}_{period.start_date.isoformat()}_{period.end_date.isoformat()}.zip"


def evidence_pack(period: ReportingPeriod) -> bytes:
    """The ZIP of the pack's files and their SHA-256 manifest (reproducible)."""
    files = pack_files(period)
    stamp = period.closed_at.astimezone(ROME).timetuple()[:6]
    manifest = "".join(f"{f.sha256}  {f.name}\n" for f in files).encode()
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in [*((f.name, f.content) for f in files), (MANIFEST, manifest)]:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    return target.getvalue()
