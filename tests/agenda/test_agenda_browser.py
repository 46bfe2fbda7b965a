"""The mediator on a 375 x 667 phone: what needs them is on the first screen, and none of
their pages scrolls sideways. Screenshots are saved under test-output/<test name>/."""

import pytest

from tests.agenda.test_agenda_views import week, what_needs_the_mediator  # noqa: F401 (fixture)
from tests.browser import log_in

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 667}


def box(page, selector: str) -> dict:
    found = page.locator(selector)
    assert found.count() == 1, selector
    return found.bounding_box()


def scroll_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def assert_week_nav_on_one_line(page):
    """Previous / this week / next sit on one line, inside the screen."""
    links = page.locator("[data-week-nav] a")
    edges = [links.nth(i).bounding_box() for i in range(links.count())]
    assert len(edges) == 3, edges
    assert len({round(edge["y"]) for edge in edges}) == 1, edges
    assert edges[-1]["x"] + edges[-1]["width"] <= PHONE["width"], edges


def test_first_screen_shows_the_overdue_task_and_the_offer(
        app, world, week, live_server, browser, screenshots):  # noqa: F811 (fixture)
    booked = what_needs_the_mediator(world, week)
    # Read before logging in: a read afterwards would hold SQLite's lock against the server.
    old, offer = booked["old"].id, booked["offer"].id
    page = browser.new_page(viewport=PHONE, locale="it-IT")
    log_in(page, live_server.url, world.mediator.user)

    page.goto(f"{live_server.url}/agenda")
    screenshots.take(page, "agenda-it")
    page.screenshot(path=str(screenshots.folder / "agenda-it-first-screen.png"))

    assert scroll_width(page) <= PHONE["width"]
    # The oldest session to log is at the top, its button on the first screen...
    first = page.locator("[data-task]").first
    assert first.get_attribute("id") == f"task-{old}"
    log_button = box(page, f"#task-{old} a[href$='/{old}/log']")
    assert log_button["y"] + log_button["height"] <= PHONE["height"], log_button
    # ...and so is the offer with its time and its answer buttons.
    accept = box(page, f"#task-{offer} form[action$='/{offer}/accept'] button")
    assert accept["y"] + accept["height"] <= PHONE["height"], accept

    assert_week_nav_on_one_line(page)
    # Cards have the same margin on both sides.
    for card in page.locator("[data-assignment] .card, li.card[data-assignment]").all():
        edge = card.bounding_box()
        right_margin = PHONE["width"] - (edge["x"] + edge["width"])
        assert abs(edge["x"] - right_margin) <= 1, (edge, right_margin)


@pytest.mark.parametrize("locale", ["it-IT", "en-GB"])
def test_mediator_pages_do_not_scroll_sideways(
        app, world, week, live_server, browser, screenshots, locale):  # noqa: F811 (fixture)
    booked = what_needs_the_mediator(world, week)
    pages = {
        "agenda": "/agenda",
        "agenda-week": f"/agenda?week={week.today.isoformat()}",
        "log": f"/agenda/assignments/{booked['old'].id}/log",
        "decline": f"/agenda/assignments/{booked['offer'].id}/decline",
        "my-week": "/mediators/me/week",
        "availability": "/mediators/me/availability",
        "absences": "/mediators/me/absences",
    }
    page = browser.new_page(viewport=PHONE, locale=locale)
    page.set_extra_http_headers({"Accept-Language": locale})
    log_in(page, live_server.url, world.mediator.user)
    wide = {}
    for name, path in pages.items():
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        screenshots.take(page, name)
        if scroll_width(page) > PHONE["width"]:
            wide[name] = scroll_width(page)
        if name in ("agenda", "agenda-week", "my-week"):
            assert_week_nav_on_one_line(page)
    assert wide == {}
