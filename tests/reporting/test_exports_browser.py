"""The exports in a real browser: a coordinator filters the dashboard, downloads the Excel
files and finds in them the totals the page shows.

The data set is the dashboard's (tests/scenarios/reporting_data.py). Screenshots are saved under
test-output/<test name>/.
"""

from decimal import Decimal

import openpyxl
import pytest

from tests.reporting.test_reporting_browser import open_dashboard, total
from tests.scenarios import reporting_data

pytestmark = pytest.mark.browser


@pytest.fixture
def data(factory):
    return reporting_data.build(factory)


def download(page, selector: str, tmp_path):
    with page.expect_download() as info:
        page.click(selector)
    download = info.value
    assert download.failure() is None
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    return download.suggested_filename, openpyxl.load_workbook(path)


def test_coordinator_downloads_the_filtered_xlsx(app, data, live_server, browser, screenshots,
                                                 tmp_path):
    macro_action_1 = str(data.m1.id)  # read before browsing: see below
    page = browser.new_page(locale="it-IT", accept_downloads=True)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # Alpha's coordinator, first quarter of 2025. From here on the test reads nothing from
    # the database: on SQLite its open read would block the audit event each export writes.
    open_dashboard(page, live_server.url, data)
    # Narrow the filter: macro-action 1 only.
    page.select_option("#filter-macro_action", macro_action_1)
    page.click("#filter-submit")
    page.wait_for_load_state()
    screenshots.take(page, "dashboard-filtered")
    hours, sessions = Decimal(total(page, "hours")), int(total(page, "sessions"))
    assert sessions > 0  # the filter keeps something to compare

    # The links keep the filter.
    summary_link = '[data-export="summary"] a[data-format="xlsx"][data-lang="it"]'
    href = page.get_attribute(summary_link, "href")
    assert f"macro_action={macro_action_1}" in href
    assert "start=2025-01-01" in href and "end=2025-03-31" in href

    # The quarterly summary: its last row is the total of the period.
    name, book = download(page, summary_link, tmp_path)
    assert name == "monitoraggio_2025-01-01_2025-03-31.xlsx"
    table = list(book.worksheets[0].iter_rows(values_only=True))
    period_total = table[-1]
    assert period_total[6] == sessions
    assert isinstance(period_total[7], float)  # a number, not text
    assert Decimal(str(round(period_total[7], 2))) == hours

    # The sessions of the period: one row per session, their hours add up to the page's.
    name, book = download(page, '[data-export="sessions"] a[data-format="xlsx"][data-lang="it"]',
                          tmp_path)
    assert name == "interventi_2025-01-01_2025-03-31.xlsx"
    header, *rows = book.worksheets[0].iter_rows(values_only=True)
    assert len(rows) == sessions
    hours_column = 4  # after the session number, the date, the start and end times
    assert Decimal(str(round(sum(r[hours_column] or 0 for r in rows), 2))) == hours
    screenshots.take(page, "after-downloads")
    assert errors == []
