"""The dashboard in a real browser: a coordinator opens it, filters, and the totals follow.

The data set and its hand-computed figures are in tests/reporting_data.py. Screenshots
of each step are saved under test-output/<test name>/.
"""

import pytest

from mediation.extensions import db

from . import reporting_data
from .conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def data(factory):
    return reporting_data.build(factory)


def log_in(page, base, user):
    email = user.email
    # End this thread's transaction: on SQLite it would hold the write lock the login needs.
    db.session.commit()
    page.context.clear_cookies()
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, page.content()[:2000]


def total(page, name: str) -> str:
    return page.get_attribute(f'[data-total="{name}"]', "data-value")


def open_dashboard(page, base, data):
    """Log in as Alpha's coordinator and open the dashboard on the first quarter of 2025."""
    log_in(page, base, data.coordinator)
    page.click("nav a[href='/reporting/']")
    page.wait_for_load_state()
    page.fill("#filter-start", reporting_data.Q1[0].isoformat())
    page.fill("#filter-end", reporting_data.Q1[1].isoformat())
    page.click("#filter-submit")
    page.wait_for_load_state()


def test_coordinator_filters_the_dashboard(app, data, live_server, browser, screenshots):
    macro_action_2 = str(data.m2.id)
    page = browser.new_page(locale="it-IT")
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error"
            and not message.location.get("url", "").endswith("/favicon.ico")
            and errors.append(message.text))
    open_dashboard(page, live_server.url, data)
    screenshots.take(page, "dashboard-q1")
    # S1..S6 of Alpha (see reporting_data): 4.25 hours, 6 sessions, € 100.
    assert (total(page, "hours"), total(page, "sessions"), total(page, "cost")) == (
        "4.25", "6", "100.00")
    assert page.inner_text('[data-total="hours"] .app-dash-card-value') == "4,25"
    # The charts were drawn by dashboard.js from the JSON island.
    drawn = page.evaluate(
        "Array.from(document.querySelectorAll('canvas')).map(c => !!c.chart && c.width > 0)")
    assert drawn and all(drawn)

    # Only macro-action 2: S4 (1 hour) and the translation S5 (no hours).
    page.select_option("#filter-macro_action", macro_action_2)
    page.click("#filter-submit")
    page.wait_for_load_state()
    screenshots.take(page, "dashboard-macro-action-2")
    assert (total(page, "hours"), total(page, "sessions")) == ("1.00", "2")
    assert "macro_action=" in page.url
    assert page.inner_text('[data-filter="macro_action"]').startswith("P · 2.")

    # Printing hides the filters and keeps the tables.
    page.emulate_media(media="print")
    assert not page.is_visible("form.app-dash-filters")
    assert page.is_visible("#table-months")
    page.emulate_media(media="screen")
    assert errors == []
