"""How the dashboard writes its figures for a person: durations in hours and minutes,
macro-actions by their names (also in the charts, whose labels must stay short).

The exports keep plain numbers (hours and minutes as columns); this is for the page.
"""

import textwrap
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from flask_babel import ngettext

from ..i18n import format_number

#: A chart's category label: at most this many characters a line, and this many lines.
LABEL_WIDTH = 32
LABEL_LINES = 3
#: A legend entry (one line) or a table's column heading: at most this many characters.
SHORT_LABEL = 48


def minutes(seconds) -> int:
    """Whole minutes, rounded half up once from the exact seconds."""
    return int((Decimal(str(seconds or 0)) / 60).quantize(Decimal(1), ROUND_HALF_UP))


def hours_minutes(seconds) -> str:
    """A duration as a person reads it: "12 h 30 min", "45 min", "3 h", "0 h"; hours
    grouped as the locale does ("1.234 h" in Italian, "1,234 h" in English)."""
    total = minutes(seconds)
    whole, rest = divmod(total, 60)
    if not whole and rest:
        return _("%(minutes)s min", minutes=rest)
    if not rest:
        return _("%(hours)s h", hours=format_number(whole))
    return _("%(hours)s h %(minutes)s min", hours=format_number(whole), minutes=rest)


def age(seconds) -> str:
    """How long something has waited: in hours and minutes under a day, otherwise in
    whole days ("54 days": the hours do not matter then; the page's data-value keeps the
    exact seconds)."""
    days = int(Decimal(str(seconds or 0)) // 86400)
    if days < 1:
        return hours_minutes(seconds)
    # flask_babel's ngettext sets ``num`` to the count itself: format it with the locale.
    return ngettext("%(days)s day", "%(days)s days", days, days=format_number(days))


def duration_patterns() -> dict[str, str]:
    """The same three patterns for dashboard.js (chart ticks and tooltips), with
    ``{h}`` and ``{m}`` where the numbers go."""
    return {
        "hm": _("%(hours)s h %(minutes)s min", hours="{h}", minutes="{m}"),
        "h": _("%(hours)s h", hours="{h}"),
        "m": _("%(minutes)s min", minutes="{m}"),
    }


def macro_title(row: dict, locale: str) -> str:
    return row["title_it"] if locale == "it" else row["title_en"]


def macro_name(row: dict, locale: str, with_project: bool = False) -> str:
    """"1. Qualificazione del sistema scolastico…", with the project's code in front
    when the rows span several projects (their macro-actions share numbers)."""
    name = f"{row['number']}. {macro_title(row, locale)}"
    return f"{row['project_code']} · {name}" if with_project else name


def short(text: str, width: int = SHORT_LABEL) -> str:
    """``text`` cut at a word to at most ``width`` characters, with an ellipsis."""
    return textwrap.shorten(text, width=width, placeholder=" …")


def wrapped(text: str, width: int = LABEL_WIDTH, lines: int = LABEL_LINES) -> list[str]:
    """``text`` as at most ``lines`` lines of ``width`` characters (Chart.js draws a
    list as lines), the last one cut with an ellipsis if needed."""
    return textwrap.wrap(text, width=width, max_lines=lines, placeholder=" …") or [""]
