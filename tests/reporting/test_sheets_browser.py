"""The timesheet and the cooperative statement in a real browser: printed to PDF on A4
(the page's ``@page`` rule), their totals shown as printed and equal to the dashboard's,
accessible (axe-core) and fitting a phone and a laptop, in Italian and English.

The data set and its hand-computed figures: tests/reporting/test_sheets.py. The PDFs and
screenshots are saved under test-output/<test name>/.
"""

import re
from datetime import date
from decimal import Decimal

import pytest

from mediation.extensions import db
from mediation.reporting import aggregates, sheets

from tests.browser import log_in
from tests.conftest import backend
from tests.core.test_accessibility_browser import run_axe
from tests.core.test_layout_browser import LAPTOP, MEASURE, PHONE, problems_at
from tests.reporting.test_sheets import MARCH, rome, world  # noqa: F401  (a fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(backend() != "sqlite", reason="the pages are the same on every database"),
]

#: A4 portrait less the sheet's 12 mm margins, in CSS pixels (96 per inch).
PRINTED = {"width": round(186 / 25.4 * 96), "height": round(273 / 25.4 * 96)}


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", pdf))


def printed(page) -> dict:
    """Laid out for print on the sheet's width: the totals and signatures as printed, and
    what the print hides."""
    page.emulate_media(media="print")
    page.set_viewport_size(PRINTED)
    return page.evaluate("""() => {
        const shown = (sel) => {
            const el = document.querySelector(sel);
            return !!el && el.getClientRects().length > 0
                && getComputedStyle(el).display !== 'none';
        };
        return {
            amount: document.querySelector('[data-total="amount"] dd').innerText.trim(),
            paid: document.querySelector('[data-total="paid"] dd').innerText.trim(),
            delivered: document.querySelector('[data-total="delivered"] dd').innerText.trim(),
            signatures: document.querySelectorAll('.app-sheet-signature').length,
            signatures_shown: shown('.app-sheet-signatures'),
            header_shown: shown('.it-header-wrapper'),
            tools_shown: shown('.app-sheet-tools'),
            scroll: document.documentElement.scrollWidth,
            client: document.documentElement.clientWidth,
        };
    }""")


def test_the_timesheet_prints_on_one_a4_sheet_with_the_dashboards_totals(
        app, world, live_server, browser, screenshots):  # noqa: F811
    w = world
    report = sheets.month_filter(MARCH, w.alpha.id, w.med.id)
    cost = aggregates.totals(report, w.coordinator)["cost"]
    assert cost == aggregates.euros(sum(
        row.cost for row in sheets.timesheet(report, w.coordinator, "it")["sessions"]
        + sheets.timesheet(report, w.coordinator, "it")["translations"]))
    med_id, alpha_id = w.med.id, w.alpha.id
    page = browser.new_page(locale="it-IT")
    log_in(page, live_server.url, w.coordinator)
    # From the mediator's pages, as a coordinator reaches it.
    page.goto(f"{live_server.url}/mediators/{med_id}/week")
    page.click("nav a:has-text('Foglio presenze')")
    page.wait_for_load_state()
    assert re.search(rf"/reporting/timesheets/{med_id}$", page.url), page.url
    page.fill("#sheet-month", "2025-03")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert "month=2025-03" in page.url
    screenshots.take(page, "timesheet")
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    (screenshots.folder / "timesheet.pdf").write_bytes(pdf)
    laid_out = printed(page)
    screenshots.take(page, "timesheet-printed")
    assert page_count(pdf) == 1
    # What the dashboard says for the same month, Ambito and mediator, as the page writes it.
    assert laid_out["amount"].replace("\xa0", " ") == "149,58 €"
    assert cost == Decimal("149.58")
    assert (laid_out["delivered"], laid_out["paid"]) == ("3 h 20 min", "5 h 5 min")
    assert laid_out["signatures"] == 2 and laid_out["signatures_shown"]
    assert not laid_out["header_shown"] and not laid_out["tools_shown"]
    assert laid_out["scroll"] <= laid_out["client"], laid_out

    # The statement of the month and Alpha: its total is the dashboard's cost.
    page.emulate_media(media="screen")
    page.set_viewport_size({"width": LAPTOP, "height": 800})
    page.goto(f"{live_server.url}/reporting/statement?month=2025-03")
    statement_total = page.get_attribute('[data-total="statement"]', "data-value")
    page.click("a:has-text('Apri il cruscotto')")
    page.wait_for_load_state()
    assert page.get_attribute('[data-total="cost"]', "data-value") == statement_total == "184.58"
    assert f"ambito={alpha_id}" not in page.url  # a coordinator's is their own Ambito
    pdf = browser_pdf(page, f"{live_server.url}/reporting/statement?month=2025-03")
    (screenshots.folder / "statement.pdf").write_bytes(pdf)
    page.emulate_media(media="print")
    page.set_viewport_size(PRINTED)
    screenshots.take(page, "statement-printed")
    assert page_count(pdf) == 1


def browser_pdf(page, url: str) -> bytes:
    """``url`` printed to PDF (print media: a page emulating the screen prints as one)."""
    page.goto(url)
    page.emulate_media(media="print")
    return page.pdf(prefer_css_page_size=True, print_background=True)


def test_a_long_month_prints_on_two_sheets_with_its_totals_together(
        app, world, live_server, browser, screenshots):  # noqa: F811
    """Forty more sessions: the table goes on to a second sheet, the totals and the
    signature boxes are not cut across two."""
    w = world
    added = 0
    for day in range(2, 31):
        for hour in (7, 16):
            if added < 40:
                w.session(f"L{day}-{hour}", w.med, w.a1, rome(date(2025, 3, day), hour),
                          rome(date(2025, 3, day), hour, 45))
                added += 1
    db.session.commit()
    med_id = w.med.id
    page = browser.new_page(locale="it-IT")
    log_in(page, live_server.url, w.coordinator)
    pdf = browser_pdf(page, f"{live_server.url}/reporting/timesheets/{med_id}?month=2025-03")
    (screenshots.folder / "timesheet-long.pdf").write_bytes(pdf)
    assert page_count(pdf) == 2
    page.emulate_media(media="print")
    page.set_viewport_size(PRINTED)
    boxes = page.evaluate("""() => ['#totals-title', '.app-sheet-signatures'].map(sel => {
        const r = document.querySelector(sel).closest('section').getBoundingClientRect();
        return [r.top, r.bottom]; })""")
    for top, bottom in boxes:  # Not across the fold between the two sheets.
        assert bottom - top < PRINTED["height"]


@pytest.mark.parametrize("locale", ["it", "en"])
def test_the_sheets_are_accessible_and_fit_a_phone_and_a_laptop(
        app, world, live_server, browser, screenshots, locale):  # noqa: F811
    w = world
    for user in (w.coordinator, w.admin, w.med.user):
        user.locale = locale
    users = [(w.coordinator.email, [f"/reporting/timesheets/{w.med.id}?month=2025-03",
                                    "/reporting/statement?month=2025-03",
                                    "/reporting/statement?month=2025-13"]),
             (w.admin.email, [f"/reporting/statement?month=2025-03&ambito={w.alpha.id}"]),
             (w.med.user.email, [f"/reporting/timesheets/{w.med.id}?month=2025-03",
                                 "/agenda"])]
    db.session.commit()
    found = {}
    context = browser.new_context(locale=locale, viewport={"width": LAPTOP, "height": 800})
    page = context.new_page()
    for email, paths in users:
        log_in(page, live_server.url, email)
        for path in paths:
            response = page.goto(live_server.url + path)
            assert response is not None and response.status == 200, path
            problems = run_axe(page)
            for width in (PHONE, LAPTOP):
                page.set_viewport_size({"width": width, "height": 800})
                problems += problems_at(page.evaluate(MEASURE, width), width, locale)
            if problems:
                found[f"{email} {path}"] = problems
            if "timesheets" in path:
                screenshots.take(page, f"timesheet-{locale}")
    context.close()
    assert not found, found
