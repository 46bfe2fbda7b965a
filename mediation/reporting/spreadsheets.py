"""Writing a table as a spreadsheet: CSV (streamed as it is written) or XLSX (openpyxl,
write-only). What a table holds (its columns, rows and labels) is defined elsewhere (the
funder's exports: :mod:`.exports`); this module only writes it.

The CSV follows what Excel expects in the table's language: Italian uses ``;`` between
fields and a decimal comma, English ``,`` and a decimal point. Both start with a UTF-8
byte-order mark (Excel needs it to read accents) and write dates as ``YYYY-MM-DD`` and times
as ``HH:MM``: ISO 8601 is the one way to write a date that every spreadsheet reads as the
same day whatever its regional settings (an English Excel set to US dates would swap the
day and month of ``04/12/2026``), then shows in the user's own date format. The XLSX
holds real dates, shown ``DD/MM/YYYY`` in both languages (:data:`NUMBER_FORMATS`).

Hours are written unrounded (10 decimals in the CSV, the float in the XLSX, shown with
two decimals), minutes as integers: see :mod:`.exports` on why figures are exact. A text
that a spreadsheet would read as a formula is never written as one
(:data:`FORMULA_STARTS`).
"""

import csv
import enum
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import force_locale
from flask_babel import gettext as _

#: Data rows per XLSX sheet: Excel stops at 1,048,576 rows, the header included.
SHEET_ROWS = 1_048_575


# -- what is written


class Kind(enum.StrEnum):
    """How a column's values are written."""

    integer = "integer"
    hours = "hours"  # a float, unrounded (two decimals shown in the XLSX)
    money = "money"  # euros, a Decimal, unrounded (two decimals shown in the XLSX)
    minutes = "minutes"  # an int (a float only for a session logged to the second)
    date = "date"
    time = "time"
    text = "text"


@dataclass(frozen=True)
class Column:
    header: str
    kind: Kind
    width: int = 12


@dataclass
class Table:
    """A table to write: its localised title, columns and file name, its rows (lazy, read
    as they are written) and the filter it was made with."""

    kind: str
    locale: str
    title: str
    filename: str  # without the extension
    columns: list[Column]
    rows: Iterable[tuple]
    #: (label, value) pairs describing the filter, for the XLSX's second sheet.
    filter_rows: list[tuple[str, object]]


# -- CSV


#: What makes a spreadsheet read a cell as a formula ("CSV injection"): a text value that
#: starts with one of these is written with a leading apostrophe in a CSV, and as text
#: (never a formula) in a workbook.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(value) -> str:
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv_formatters(locale: str) -> dict[Kind, Callable]:
    def decimal(value, places: int) -> str:
        """Up to ``places`` decimals (at least two), in the locale's notation."""
        text = f"{value:.{places}f}".rstrip("0")
        whole, _, fraction = text.partition(".")
        text = f"{whole}.{fraction.ljust(2, '0')}"
        return text.replace(".", ",") if locale == "it" else text

    def hours(value):
        # 10 decimals, as good as the XLSX's float for any sum: rounded to 0.01 a column
        # of them would not add up to the total (the Minutes column is the exact one).
        return "" if value is None else decimal(value, 10)

    def minutes(value):
        if value is None:
            return ""
        return str(value) if isinstance(value, int) else decimal(value, 10)

    def plain(value):
        return "" if value is None else value

    return {
        Kind.integer: plain,
        Kind.text: _csv_text,
        Kind.hours: hours,
        Kind.money: hours,  # 10 decimals too: a column of them adds up to its total
        Kind.minutes: minutes,
        Kind.date: lambda value: value.isoformat() if value is not None else "",
        Kind.time: lambda value: value.strftime("%H:%M") if value is not None else "",
    }


def csv_delimiter(locale: str) -> str:
    return ";" if locale == "it" else ","


def csv_chunks(export: Table, chunk_size: int = 64 * 1024) -> Iterator[str]:
    """The CSV text of ``export`` in pieces of about ``chunk_size`` characters, starting with
    a byte-order mark; rows are formatted as they arrive from the database."""
    formatters = _csv_formatters(export.locale)
    formats = [formatters[column.kind] for column in export.columns]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=csv_delimiter(export.locale), lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow([column.header for column in export.columns])
    for row in export.rows:
        writer.writerow([fmt(value) for fmt, value in zip(formats, row, strict=True)])
        if buffer.tell() >= chunk_size:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


# -- XLSX


#: How the XLSX shows its cells (the values are real dates, times and numbers). Dates are
#: ``DD/MM/YYYY`` in both languages, as the README says: the service and its paperwork
#: are Italian, day first, and an English-speaking coordinator in Italy reads numeric
#: dates that way (the English pages name the month: "December 4, 2026"). A fixed format,
#: not Excel's regional short date, so that the file shows the same day order on every
#: computer.
NUMBER_FORMATS = {
    "it": {Kind.date: "DD/MM/YYYY", Kind.time: "HH:MM", Kind.hours: "0.00", Kind.money: "0.00",
           "datetime": "DD/MM/YYYY HH:MM"},
    "en": {Kind.date: "DD/MM/YYYY", Kind.time: "HH:MM", Kind.hours: "0.00", Kind.money: "0.00",
           "datetime": "DD/MM/YYYY HH:MM"},
}


def write_xlsx(export: Table, target) -> int:
    """Write ``export`` as an XLSX workbook to ``target`` (a path or a binary file): the
    table on the first sheet (more sheets past Excel's row limit), numbers as numbers,
    dates and times as Excel dates and times, then a sheet describing the filter.
    Returns the number of data rows."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    formats = NUMBER_FORMATS[export.locale]
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)

    def new_sheet(number: int):
        title = export.title[:31] if number == 1 else f"{export.title[:26]} ({number})"
        sheet = workbook.create_sheet(title)
        for i, column in enumerate(export.columns, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = max(
                column.width, min(len(column.header) + 2, 40))
        sheet.freeze_panes = "A2"
        header = []
        for column in export.columns:
            cell = WriteOnlyCell(sheet, value=column.header)
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        return sheet

    # A formatted cell only where a format is needed: plain values are much cheaper.
    styled = [formats.get(column.kind) for column in export.columns]
    texts = [column.kind == Kind.text for column in export.columns]
    rows = 0
    sheets = 1
    sheet = new_sheet(sheets)
    for row in export.rows:
        if rows and rows % SHEET_ROWS == 0:
            sheets += 1
            sheet = new_sheet(sheets)
        values = []
        for number_format, text, value in zip(styled, texts, row, strict=True):
            if text and value is not None and str(value).startswith("="):
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"  # openpyxl would store it as a formula
                values.append(cell)
            elif number_format is None or value is None:
                values.append(value)
            else:
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = number_format
                values.append(cell)
        sheet.append(values)
        rows += 1

    info = workbook.create_sheet(_filters_title(export.locale))
    info.column_dimensions["A"].width = 22
    info.column_dimensions["B"].width = 40
    for label, value in export.filter_rows:
        if isinstance(value, datetime):
            cell = WriteOnlyCell(info, value=value)
            cell.number_format = formats["datetime"]
            value = cell
        elif isinstance(value, date):
            cell = WriteOnlyCell(info, value=value)
            cell.number_format = formats[Kind.date]
            value = cell
        info.append([label, value])
    workbook.save(target)
    return rows


def _filters_title(locale: str) -> str:
    with force_locale(locale):
        return _("Filters")


XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_file(export: Table):
    """The XLSX workbook of ``export`` in a temporary file (deleted when closed), rewound."""
    handle = tempfile.TemporaryFile()  # noqa: SIM115  (closed by the response that sends it)
    try:
        write_xlsx(export, handle)
    except BaseException:
        handle.close()
        raise
    handle.seek(0)
    return handle


def file_chunks(handle, chunk_size: int = 256 * 1024) -> Iterator[bytes]:
    """The content of an open binary file in pieces; the file is closed at the end."""
    with handle:
        while chunk := handle.read(chunk_size):
            yield chunk
