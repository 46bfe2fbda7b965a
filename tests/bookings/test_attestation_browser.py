"""The teacher confirms a logged session from the request page in chromium, arriving by the
email's link (#attestation): on a 375-px phone the box is in view, "Confermo" is one
button, "Contesto" opens the reason field, and the page does not scroll sideways."""

import pytest
import sqlalchemy as sa

from mediation.extensions import db
from mediation.models import AttestationOutcome, OutboxMessage, SessionAttestation

from tests.bookings.test_attestation import logged
from tests.browser import log_in

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 667}


def test_the_teacher_confirms_from_the_emails_link(booking, live_server, browser,
                                                   screenshots):
    log = logged(booking)
    log_id = log.id
    mail = db.session.scalar(sa.select(OutboxMessage).where(
        OutboxMessage.template == "attestation"))
    link = next(word for word in mail.body_text.split() if "#attestation" in word)
    path = link[link.index("/requests/"):]
    page = browser.new_page(viewport=PHONE, locale="it-IT")
    log_in(page, live_server.url, booking.teacher)
    page.goto(live_server.url + path)
    screenshots.take(page, "attestation-375")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    box = page.locator("#attestation")
    assert box.is_visible()
    assert box.locator("button[type=submit]").first.inner_text().strip() == "Confermo"
    # "Contesto" opens the reason field; nothing is sent until its own button.
    assert not page.locator("#reason").is_visible()
    box.locator("summary").click()
    assert page.locator("#reason").is_visible()
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(SessionAttestation.id))) == 0
    db.session.commit()  # SQLite: the server's write needs this thread's read ended

    box.locator("button[type=submit]", has_text="Confermo").click()
    page.wait_for_load_state()
    assert "hai confermato che l'incontro si è svolto" in page.content()
    assert page.locator("[data-attestation=attested]").count() == 1
    assert page.locator("#attestation").count() == 0
    db.session.commit()
    attestation = db.session.scalar(sa.select(SessionAttestation))
    assert (attestation.session_log_id, attestation.outcome, attestation.by_id) == (
        log_id, AttestationOutcome.attested, booking.teacher.id)
