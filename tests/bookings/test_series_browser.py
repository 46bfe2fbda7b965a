"""The teacher moves one week of a weekly series from a 375-px phone: the series page lists
the weeks without scrolling sideways, "Sposta questa settimana" opens the form, a refused
time keeps what was typed next to its message, and the moved week shows its new time
while the other weeks keep theirs."""

import pytest

from mediation.clock import in_rome
from mediation.extensions import db
from mediation.models import RequestState

from tests.bookings.test_series_weeks import confirmed_series, snapshot
from tests.browser import log_in
from tests.core.test_accessibility_browser import run_axe
from tests.scenarios.booking import weekday_after

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 667}


def test_the_teacher_moves_one_week_from_a_phone(booking, live_server, browser, screenshots):
    series = confirmed_series(booking, weeks=3)
    weeks = sorted(series.requests, key=lambda r: r.series_position)
    second = weeks[1]
    others_before = [snapshot(w) for w in (weeks[0], weeks[2])]
    new_day = weekday_after(in_rome(second.slots[0].start_dt).date())
    series_id, second_id = series.id, second.id
    db.session.commit()  # SQLite: the server's writes need this thread's read ended

    page = browser.new_page(viewport=PHONE, locale="it-IT")
    log_in(page, live_server.url, booking.teacher)
    page.goto(f"{live_server.url}/requests/series/{series_id}")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshots.take(page, "series-375")
    assert run_axe(page) == []  # with every <details> opened
    page.reload()
    card = page.locator(f"#week-{second_id}")
    move = card.locator("details[data-action=move]")
    assert not move.locator("textarea").is_visible()
    move.locator("summary").click()
    # No reason: refused, the day and time typed are kept, the message is by the field.
    move.locator("input[type=date]").fill(new_day.isoformat())
    move.locator("input[type=time]").fill("11:00")
    move.locator("button[type=submit]").click()
    page.wait_for_load_state()
    card = page.locator(f"#week-{second_id}")
    move = card.locator("details[data-action=move]")
    assert move.evaluate("d => d.open")
    assert "Indica perché questa settimana viene spostata." in move.inner_text()
    assert move.locator("input[type=date]").input_value() == new_day.isoformat()
    assert move.locator("input[type=time]").input_value() == "11:00"
    move.locator("textarea").fill("La famiglia lavora quel giorno")
    move.locator("button[type=submit]").click()
    page.wait_for_load_state()
    screenshots.take(page, "series-moved-375")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    moved = page.locator(f"#week-{second_id} [data-week-time]").get_attribute("datetime")
    db.session.expire_all()
    second = db.session.get(type(second), second_id)
    assert moved == second.slots[0].start_dt.isoformat()
    assert in_rome(second.slots[0].start_dt).date() == new_day
    assert in_rome(second.slots[0].start_dt).hour == 11
    assert second.state == RequestState.offered  # its mediator confirms the new time
    assert [snapshot(w) for w in (weeks[0], weeks[2])] == others_before
