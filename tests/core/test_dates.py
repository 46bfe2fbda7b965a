"""Dates and times read the same way in Italy whatever the interface language.

Babel's English is American ("1/7/27", "Jan 7, 2027", "2:00 PM"); the service writes
English dates the day before the month and times on a 24-hour clock ("7 Jan 2027",
"07/01/2027", "14:00"), in its pages, emails and calendars (mediation/i18n.py). Italian
is unchanged. The browser test of every page of every role (tests/core/test_layout_browser.py)
looks for American dates in the English pages with :func:`american_dates`.
"""

import ast
import re
from datetime import UTC, datetime, time

import pytest
from flask import render_template_string
from flask_babel import force_locale

from mediation import PROJECT_ROOT, calendars
from mediation.extensions import db
from mediation.i18n import date_locale, format_date, format_datetime, format_time
from mediation.outbox import queue_email

from tests.conftest import login
from tests.outbox.test_email_templates import cases, scene  # noqa: F401  (scene is a fixture)

#: What an American date or time looks like.
AMERICAN = [
    (re.compile(r"\d\s?(?:AM|PM|a\.m\.|p\.m\.)(?!\w)"), "12-hour clock"),
    # An English month's name (not an Italian street's: "Via IV Novembre 15, 20010 Arluno"
    # is an address, with a postcode after the comma).
    (re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)(?:[a-z]*(?<!embre)"
                r"(?<!aio)(?<!ile)(?<!ugno)(?<!glio)(?<!osto))\.? \d{1,2}, \d{4}(?!\d)"),
     "month before the day"),
]
NUMERIC_DATE = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})/(\d{2,4})(?![\d/])")


def american_dates(text: str) -> list[str]:
    """The dates and times of English ``text`` written the American way: a 12-hour clock,
    the month before the day, a numeric date other than dd/mm/yyyy."""
    found = [f"{what}: {match.group(0)!r}" for pattern, what in AMERICAN
             for match in pattern.finditer(text)]
    found += [f"numeric date not dd/mm/yyyy: {match.group(0)!r}"
              for match in NUMERIC_DATE.finditer(text)
              if not re.fullmatch(r"\d{2}/\d{2}/\d{4}", match.group(0))
              or int(match.group(2)) > 12]
    return found


def test_american_dates_are_recognised():
    """Check of the check."""
    assert american_dates("Thursday, 7 January 2027, 14:00 · 07/01/2027, 14:00") == []
    assert len(american_dates("1/7/27, 2:00\u202fPM")) == 2
    assert len(american_dates("Jan 7, 2027 at 9:30 AM")) == 2
    assert american_dates("12/31/2026") and american_dates("7/1/2027")
    assert american_dates("Via IV Novembre 15, 20010 Arluno (MI)") == []
    assert american_dates("November 15, 2001") and american_dates("Nov 15, 2001")


MOMENT = datetime(2027, 1, 7, 13, 0, tzinfo=UTC)  # 14:00 in Rome


@pytest.mark.parametrize(("locale", "expected"), [
    ("en", {"short": "07/01/2027", "medium": "7 Jan 2027", "long": "7 January 2027",
            "full": "Thursday, 7 January 2027", "time": "14:00",
            "datetime": "07/01/2027, 14:00"}),
    ("it", {"short": "07/01/27", "medium": "7 gen 2027", "long": "7 gennaio 2027",
            "full": "giovedì 7 gennaio 2027", "time": "14:00",
            "datetime": "07/01/27, 14:00"}),
])
def test_formats_in_each_language(app, locale, expected):
    """English: day, month, year and a 24-hour clock; Italian as Babel writes it. A UTC
    moment is written in Rome's time."""
    with app.test_request_context(), force_locale(locale):
        for width in ("short", "medium", "long", "full"):
            assert format_date(MOMENT, width) == expected[width]
            assert format_date(MOMENT.date(), width) == expected[width]
        assert format_time(MOMENT) == expected["time"]
        assert format_time(time(14), rebase=False) == expected["time"]  # a wall-clock time
        assert format_datetime(MOMENT, "short") == expected["datetime"]
        assert format_datetime(MOMENT.replace(tzinfo=None), "short") == expected["datetime"]
        # The templates' filters write the same.
        page = render_template_string(
            "{{ m|date }}|{{ m|date('full') }}|{{ m|datetime('short') }}|{{ m|day_and_time }}",
            m=MOMENT)
        assert page == (f"{expected['medium']}|{expected['full']}|{expected['datetime']}|"
                        f"{expected['full']}, {expected['time']}")


def test_the_letter_languages_keep_their_own_data(app):
    """Only English is written the British way; other languages keep their CLDR data."""
    assert str(date_locale("en")) == "en_GB"
    assert str(date_locale("it")) == "it"
    assert str(date_locale("ar")) == "ar"
    with app.test_request_context(), force_locale("en"):
        assert str(date_locale()) == "en_GB"


def test_english_pages_write_dates_day_first(app, client, booking, scene):  # noqa: F811
    """The request's page and the home page of its teacher, in English: the appointment
    (Tuesday 1 December 2026, 10:00 in Rome) reads day first, on a 24-hour clock."""
    booking.teacher.locale = "en"
    db.session.commit()
    login(client, booking.teacher)
    detail = client.get(f"/requests/{scene['request'].id}").text
    assert "Tuesday, 1 December 2026, 10:00" in detail
    home = client.get("/").text
    for page in (detail, home):
        assert american_dates(re.sub(r"<[^>]+>", " ", page)) == []
    booking.teacher.locale = "it"
    db.session.commit()
    assert "martedì 1 dicembre 2026, 10:00" in client.get(f"/requests/{scene['request'].id}").text


@pytest.mark.parametrize(("template", "kind"), list(cases()))
def test_english_emails_write_dates_day_first(app, booking, scene, template, kind):  # noqa: F811
    """Every email, in English: no American date nor time, in its text and HTML parts."""
    user = booking.teacher
    user.locale = "en"
    context = dict(scene, kind=kind) if kind else dict(scene)
    message = queue_email(template, user, **context)
    for part in (message.subject, message.body_text, message.body_html or ""):
        assert american_dates(re.sub(r"<[^>]+>", " ", part)) == [], (template, kind)
    if template == "proposal":  # the time proposed to the school, two days later
        assert "Thursday, 3 December 2026, 10:00" in message.body_text
    elif "10:00" in message.body_text:  # the emails that say when the appointment is
        assert "Tuesday, 1 December 2026, 10:00" in message.body_text


def test_an_english_booking_email_shows_the_appointment_day_first(app, booking, scene):  # noqa: F811
    """The confirmation of an appointment, in English, says when it is the European way."""
    booking.teacher.locale = "en"
    message = queue_email("booking", booking.teacher, **dict(scene, kind="confirmed"))
    assert "Tuesday, 1 December 2026, 10:00" in message.body_text
    assert "Tuesday, 1 December 2026, 10:00" in message.body_html


def test_english_calendar_text_has_no_american_time(app, booking, scene):  # noqa: F811
    """The invitation's words in English carry no 12-hour time (times are iCalendar's)."""
    with app.test_request_context(), force_locale("en"):
        text = calendars.invitation(scene["assignment"]).decode()
    assert "DTSTART;TZID=Europe/Rome:20261201T100000" in text
    words = "\n".join(line for line in text.splitlines()
                      if line.startswith(("SUMMARY", "DESCRIPTION", "LOCATION")))
    assert words and american_dates(words) == []


#: Where dates may be formatted with Babel directly: the one home of the formats.
FORMATTERS = {"format_date", "format_datetime", "format_time", "format_skeleton",
              "format_interval"}


def test_no_module_formats_dates_by_itself():
    """Every date and time goes through mediation/i18n.py: a module importing Babel's or
    flask_babel's date formatters would write American English again."""
    offenders = []
    for path in sorted((PROJECT_ROOT / "mediation").rglob("*.py")):
        if path.name == "i18n.py" and path.parent.name == "mediation":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module in ("flask_babel",
                                                                    "babel.dates"):
                names = {alias.name for alias in node.names} & FORMATTERS
                if names:
                    offenders.append(f"{path.relative_to(PROJECT_ROOT)}: {sorted(names)}")
            elif isinstance(node, ast.Attribute) and node.attr in FORMATTERS and isinstance(
                    node.value, ast.Name) and node.value.id in ("dates", "flask_babel"):
                offenders.append(f"{path.relative_to(PROJECT_ROOT)}: {node.value.id}.{node.attr}")
    assert offenders == []

