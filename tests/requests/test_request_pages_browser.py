"""The request's pages on a 375-px phone, in chromium: the offer a mediator opens from the
email shows its time and the answer buttons without scrolling; the request form warns about
a closed day as soon as it is picked and lists the chosen files."""

import re
from datetime import timedelta

import pytest

from mediation.extensions import db
from mediation.models import AssignmentState, Closure, RequestState

from tests.browser import log_in
from tests.requests.test_request_pages import Scene
from tests.scenarios.booking import school_day, weekday_after

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 667}


def bottom(page, selector) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return box["y"] + box["height"]


def test_offer_time_and_answer_above_the_fold_on_a_phone(booking, live_server, browser,
                                                         screenshots):
    """On a 375x667 screen the offered time, Accept and Decline are visible without scrolling,
    the page does not scroll sideways, and accepting brings back the page with the
    appointment on top."""
    # Names as long as the demo's: the title and the place take two lines each.
    booking.meeting.name_it = "Accoglienza e inserimento di un alunno neoarrivato"
    booking.school.name = "Istituto Comprensivo di Sant'Angelo Lodigiano"
    site = booking.school.sites[0]
    site.name, site.address = "Scuola secondaria di I grado Ognissanti", "Viale della Resistenza 2"
    scene = Scene(booking, state=AssignmentState.offered)
    request_id = scene.request.id
    page = browser.new_page(viewport=PHONE, locale="it-IT")
    log_in(page, live_server.url, booking.mediator.user)
    page.goto(f"{live_server.url}/requests/{request_id}")
    screenshots.take(page, "offer-375")

    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    offered = page.locator("#answer .app-offered-time").inner_text()
    assert re.search(r"\d{2}:\d{2}–15:00", offered), offered
    for selector in ("#answer .app-offered-time", "#answer button[type=submit]",
                     "#answer a[href*='/decline']"):
        assert bottom(page, selector) <= PHONE["height"], selector
    assert page.locator("#answer button[type=submit]").inner_text().strip() == "Accetta"
    assert page.locator("#answer a[href*='/decline']").inner_text().strip() == "Rifiuta"

    page.click("#answer button[type=submit]")
    page.wait_for_load_state()
    screenshots.take(page, "accepted-375")
    assert page.url.endswith(f"/requests/{request_id}")
    card = page.locator(".app-appointment")
    assert "Appuntamento confermato" in card.inner_text()
    assert offered.strip() in card.inner_text()
    assert bottom(page, ".app-appointment .h4") <= PHONE["height"]
    db.session.expire_all()
    assert scene.request.state == RequestState.confirmed
    db.session.commit()


def test_request_form_warns_about_a_closed_day_at_once(booking, live_server, browser,
                                                        screenshots, tmp_path):
    """Picking a closure day, or a Saturday, shows why next to the day before sending; the
    translation form lists the chosen files by name under its translated button."""
    closed = school_day(10)
    booking.factory.add(Closure(school=booking.school, name="Ponte", start_date=closed,
                                end_date=closed))
    meeting, translation = booking.meeting.code, booking.translation.code
    page = browser.new_page(viewport=PHONE, locale="it-IT")
    log_in(page, live_server.url, booking.teacher)
    page.goto(f"{live_server.url}/requests/new/{meeting}")

    page.fill("#slot_1_date", closed.isoformat())
    page.fill("#slot_2_date", (closed + timedelta(days=(5 - closed.weekday()))).isoformat())
    page.fill("#slot_3_date", weekday_after(closed).isoformat())
    screenshots.take(page, "closures-375")
    assert page.locator("#slot_1_date-check").inner_text() == (
        "La scuola è chiusa quel giorno (Ponte).")
    assert "fine settimana" in page.locator("#slot_2_date-check").inner_text()
    assert page.locator("#slot_3_date-check").inner_text() == ""
    assert "Ponte" in page.locator(".app-booking-window").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.goto(f"{live_server.url}/requests/new/{translation}")
    assert page.locator("label[for=documents]").inner_text().strip() == "Scegli i file"
    first, second = tmp_path / "modulo.pdf", tmp_path / "pagella.pdf"
    first.write_bytes(b"%PDF-1.4\n")
    second.write_bytes(b"%PDF-1.4\n")
    page.set_input_files("#documents", [str(first), str(second)])
    names = page.locator("#documents-list .upload-file p").all_inner_texts()
    assert [name.split()[0] for name in names] == ["modulo.pdf", "pagella.pdf"]
    screenshots.take(page, "upload-375")
