"""The coordinator's queue and offer page in a real browser, on a phone (375 px) and on the
most common laptop (1366 px): nothing scrolls sideways, the queue's order control shows
its whole label, the mediators who cannot take a request are readable (WCAG AA contrast),
and a time proposed from the dead-end page reaches the teacher, who accepts it.

Screenshots of each step are saved under test-output/<test name>/.
"""


import pytest

from mediation.extensions import db
from mediation.models import Urgency

from tests.browser import log_in
from tests.core.test_accessibility_browser import run_axe
from tests.scenarios.coordination import free_on_tuesday_afternoons, make_world, running

pytestmark = pytest.mark.browser

WIDTHS = (375, 1366)

#: The WCAG 2.1 contrast ratio of every piece of text under ``root`` against the first
#: opaque background behind it: [ratio, text].
CONTRASTS = """(root) => {
    const channel = v => {
        v /= 255;
        return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    };
    const luminance = c => {
        const [r, g, b] = c.match(/[\\d.]+/g).map(Number);
        return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    };
    const background = el => {
        for (; el; el = el.parentElement) {
            const c = getComputedStyle(el).backgroundColor;
            if (!/rgba\\(.*, 0\\)$/.test(c) && c !== 'transparent') return c;
        }
        return 'rgb(255, 255, 255)';
    };
    const found = [];
    for (const el of document.querySelectorAll(root + ' *')) {
        const text = [...el.childNodes].filter(n => n.nodeType === 3 && n.textContent.trim())
            .map(n => n.textContent.trim()).join(' ');
        if (!text || el.closest('.visually-hidden')) continue;
        const [a, b] = [luminance(getComputedStyle(el).color), luminance(background(el))];
        found.push([(Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05), text]);
    }
    return found;
}"""

#: How wide the selected option's label is, and how wide the select leaves it.
SELECT_FIT = """(selector) => {
    const select = document.querySelector(selector);
    const style = getComputedStyle(select);
    const context = document.createElement('canvas').getContext('2d');
    context.font = style.font;
    const label = select.options[select.selectedIndex].text;
    return [context.measureText(label).width,
            select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight),
            label];
}"""


def overflow(page) -> int:
    """How many pixels the page scrolls sideways."""
    return page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth")


@pytest.fixture
def dead_end(factory):
    """An Arabic family meeting on a Monday at 18:00, after the hours of the only two
    Arabic speakers (one of whom is free on Tuesday afternoons only); a Romanian speaker
    who is counted; an urgent request and an old one in the queue."""
    world = make_world(factory)
    running(world)
    world.coordinator.locale = "it"
    free_on_tuesday_afternoons(world, "Amal D'Angelo")
    world.mediator(display_name="Badr Mansour")
    world.mediator(display_name="Gabi Popescu", languages=("ro",))
    req = world.request(slots=((0, 18),))
    world.request(slots=((2, 10),), urgency=Urgency.urgent)
    db.session.flush()
    ids = {"request": req.id, "coordinator": world.coordinator.email,
           "teacher": world.teacher.email}
    # Committed, and nothing read after it: the server needs SQLite's write lock.
    db.session.commit()
    return ids


def test_queue_and_offer_page_fit_and_read_well(app, dead_end, live_server, browser,
                                                screenshots):
    offer_path = f"/coordination/requests/{dead_end['request']}/offer"
    for width in WIDTHS:
        page = browser.new_page(viewport={"width": width, "height": 900}, locale="it-IT")
        log_in(page, live_server.url, dead_end["coordinator"])

        page.goto(live_server.url + "/coordination/requests")
        screenshots.take(page, f"queue-{width}")
        assert overflow(page) <= 0, f"the queue scrolls sideways at {width} px"
        # The default order, urgent first, is named in full in its control.
        text, room, label = page.evaluate(SELECT_FIT, "#sort")
        assert label == "Prima le urgenti, poi le più vecchie"
        assert text <= room, f"the order control cuts '{label}' at {width} px"
        urgent_first = page.locator(".app-queue-item").first.inner_text()
        assert "Urgente" in urgent_first

        page.goto(live_server.url + offer_path)
        page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
        screenshots.take(page, f"offer-{width}")
        assert overflow(page) <= 0, f"the offer page scrolls sideways at {width} px"
        assert page.locator(".app-free-times .app-free-time").count() > 0
        assert page.locator(".app-free-times button", has_text="Suggerisci alla scuola").count()
        assert page.locator(".app-free-times button", has_text="Segna come non coperta").count()
        # Who cannot take it is readable on the lavender cards; who does not speak Arabic
        # is counted, not listed.
        assert page.locator(".app-candidate-unavailable").count() == 2
        assert "Gabi Popescu" not in page.content()
        contrasts = page.evaluate(CONTRASTS, ".app-candidate-unavailable")
        assert contrasts and all(ratio >= 4.5 for ratio, _ in contrasts), contrasts
        page.close()


def test_a_proposed_time_reaches_the_teacher(app, dead_end, live_server, browser,
                                             screenshots):
    """From the dead-end page the coordinator proposes Amal's first free time; the teacher
    sees it on the request page (accessible), accepts it, and the coordinator is offered
    to book it in one click."""
    base = live_server.url
    coordinator = browser.new_page(viewport={"width": 375, "height": 900}, locale="it-IT")
    log_in(coordinator, base, dead_end["coordinator"])
    coordinator.goto(base + f"/coordination/requests/{dead_end['request']}/offer")
    first = coordinator.locator(".app-free-mediator", has_text="Amal D'Angelo").locator(
        ".app-free-time").first
    when = first.locator("time").inner_text()
    first.locator("button", has_text="Suggerisci alla scuola").click()
    coordinator.wait_for_load_state()
    assert "L'orario è stato suggerito alla scuola" in coordinator.content()
    screenshots.take(coordinator, "proposed")

    teacher = browser.new_page(viewport={"width": 375, "height": 900}, locale="it-IT")
    log_in(teacher, base, dead_end["teacher"])
    teacher.goto(base + f"/requests/{dead_end['request']}")
    box = teacher.locator(".app-time-proposals")
    assert when in box.inner_text() and "Amal D'Angelo" in box.inner_text()
    assert overflow(teacher) <= 0
    screenshots.take(teacher, "teacher-sees-the-time")
    assert run_axe(teacher) == []
    box.locator("button", has_text="Accetta questo orario").click()
    teacher.wait_for_load_state()
    assert "Hai accettato" in teacher.locator(".app-time-proposals").inner_text()
    screenshots.take(teacher, "teacher-accepted")

    coordinator.reload()
    accepted = coordinator.locator(".app-school-proposal")
    assert "La scuola ha accettato" in accepted.inner_text()
    accepted.locator("button").click()
    coordinator.wait_for_load_state()
    assert "La richiesta è stata proposta a Amal D'Angelo" in coordinator.inner_text("main")
    screenshots.take(coordinator, "offered")
