"""The dashboard in a real browser: a coordinator opens it, filters, and the totals follow.

The data set and its hand-computed figures are in tests/scenarios/reporting_data.py. Screenshots
of each step are saved under test-output/<test name>/.
"""

import re

import pytest

from tests.browser import log_in
from tests.scenarios import reporting_data

pytestmark = pytest.mark.browser


@pytest.fixture
def data(factory):
    return reporting_data.build(factory)


def total(page, name: str) -> str:
    return page.get_attribute(f'[data-total="{name}"]', "data-value")


def open_dashboard(page, base, data, through_menu=True):
    """Log in as Alpha's coordinator and open the dashboard on the first quarter of 2025
    (on a phone the menu is folded: then by its address)."""
    log_in(page, base, data.coordinator)
    if through_menu:
        page.click("nav a[href='/reporting/']")
    else:
        page.goto(f"{base}/reporting/")
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
    assert page.inner_text('[data-total="hours"] .app-dash-card-value') == "4 h 15 min"
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


def overflow(page) -> int:
    """How many pixels the page is wider than the window (0: no sideways scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_dashboard_fits_a_phone_and_its_axes_read_well(app, data, live_server, browser,
                                                      screenshots):
    page = browser.new_page(locale="it-IT", viewport={"width": 375, "height": 800})
    open_dashboard(page, live_server.url, data, through_menu=False)
    screenshots.take(page, "dashboard-375")
    assert overflow(page) == 0
    # What Chart.js drew on each value axis: whole ticks for counts, 0-100 % for shares,
    # hours in hours and minutes.
    ticks = page.evaluate("""() => Object.fromEntries(
        Array.from(document.querySelectorAll('canvas')).map(canvas => {
          const chart = canvas.chart;
          const axis = chart.options.indexAxis === 'y' ? chart.scales.x : chart.scales.y;
          return [canvas.id, {values: axis.ticks.map(t => t.value),
                              labels: axis.ticks.map(t => t.label), max: axis.max}];
        }))""")
    for chart_id in ("chart-types", "chart-beneficiaries", "chart-requests"):
        assert all(value == int(value) for value in ticks[chart_id]["values"]), ticks[chart_id]
        assert len(set(ticks[chart_id]["labels"])) == len(ticks[chart_id]["labels"])
    utilisation = ticks["chart-utilisation"]
    assert utilisation["max"] >= 1 and utilisation["labels"][0] == "0%"
    assert utilisation["labels"][-1] == "100%"
    hours = ticks["chart-macro-actions"]["labels"]
    assert hours[0] == "0 h" and all(re.fullmatch(r"(\d+ h)?( ?\d+ min)?", label)
                                     for label in hours), hours
