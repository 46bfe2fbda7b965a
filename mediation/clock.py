"""Time in Europe/Rome: the conversions, and the bounds of a day, a week and a month.

Times are stored in UTC (``models/types.UTCDateTime``) and meetings are booked, shown and
counted on Rome's calendar. Every conversion between the two, and every "where does this
day, week or month begin and end", is computed here. A day is 23 or 25 hours long when the
clocks change, so the bounds are always taken at Rome's midnights, never by adding hours.
Dates and times as people read them are written by ``i18n.py``.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ROME = ZoneInfo("Europe/Rome")

_DAY = timedelta(days=1)


def to_utc(day: date, at: time) -> datetime:
    """A wall-clock time in Rome as an aware UTC datetime."""
    return datetime.combine(day, at, tzinfo=ROME).astimezone(UTC)


def in_rome(moment: datetime) -> datetime:
    return moment.astimezone(ROME)


# --- days ---------------------------------------------------------------------------


def rome_midnight(day: date) -> datetime:
    """The first instant of a Europe/Rome calendar day, aware (in Rome)."""
    return datetime.combine(day, time.min, tzinfo=ROME)


def day_start(day: date) -> datetime:
    """The first instant of a Europe/Rome calendar day, in UTC."""
    return to_utc(day, time.min)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants at which a Europe/Rome day starts and ends (23 or 25 hours at DST)."""
    return day_start(day), day_start(day + _DAY)


def days_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """The UTC instants at which the Europe/Rome days ``first`` to ``last`` (both included)
    start and end."""
    return day_start(first), day_start(last + _DAY)


# --- weeks and months -------------------------------------------------------------


def week_start(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def week_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants at which ``day``'s week (Monday to Sunday, in Rome) starts and ends."""
    monday = week_start(day)
    return days_bounds(monday, monday + timedelta(days=6))


def month_start(day: date) -> date:
    """The first day of ``day``'s month."""
    return date(day.year, day.month, 1)


def next_month(day: date) -> date:
    """The first day of the month after ``day``'s."""
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


# --- the day, week and month of a moment, aware in Rome -----------------------------


def day_of(moment: datetime) -> tuple[datetime, datetime]:
    """The first instant of ``moment``'s day in Rome and of the next day (aware, in Rome)."""
    day = in_rome(moment).date()
    return rome_midnight(day), rome_midnight(day + _DAY)


def week_of(moment: datetime) -> tuple[datetime, datetime]:
    """The first instant of ``moment``'s week in Rome (a Monday) and of the next week."""
    monday = week_start(in_rome(moment).date())
    return rome_midnight(monday), rome_midnight(monday + timedelta(days=7))


def month_of(moment: datetime) -> tuple[datetime, datetime]:
    """The first instant of ``moment``'s month in Rome and of the next month."""
    day = in_rome(moment).date()
    return rome_midnight(month_start(day)), rome_midnight(next_month(day))
