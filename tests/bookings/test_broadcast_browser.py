"""An offer to several mediators in chromium, on 375-px phones (issue #19): the coordinator
ticks three mediators on the offer page and sends it; the three open it from their agenda;
the first to press "Accetta" gets the appointment, the two others read "Già preso", and no
page scrolls sideways."""

import pytest
import sqlalchemy as sa

from mediation.extensions import db
from mediation.models import (
    Assignment,
    AssignmentState,
    BroadcastState,
    MediationRequest,
    OfferBroadcast,
    RequestState,
)

from tests.bookings.test_broadcasts import crew  # noqa: F401  (the fixture)
from tests.browser import log_in
from tests.scenarios.booking import submitted

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 667}


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_three_mediators_one_accepts_the_others_read_already_taken(
        booking, crew, live_server, browser, screenshots):  # noqa: F811
    req = submitted(booking)
    request_id = req.id
    # Read what the test needs now: on SQLite a read later in this thread would begin a
    # transaction holding the write lock the server needs.
    for mediator in crew[:3]:
        mediator.user.locale = "it"  # they read Italian (the fixture has English ones)
    chosen = [(m.id, m.user.email) for m in crew[:3]]
    coordinator_email = booking.coordinator.email
    db.session.commit()

    coordinator = browser.new_context(viewport=PHONE, locale="it-IT").new_page()
    log_in(coordinator, live_server.url, coordinator_email)
    coordinator.goto(f"{live_server.url}/coordination/requests/{request_id}/offer?slot=1")
    for mediator_id, _email in chosen:
        # Bootstrap Italia draws the box on the label: a person clicks the label.
        coordinator.locator(f"label[for=invite-{mediator_id}]").click()
        assert coordinator.locator(f"#invite-{mediator_id}").is_checked()
    screenshots.take(coordinator, "broadcast-offer-375")
    assert fits(coordinator)
    coordinator.locator("[data-action=broadcast]").click()
    coordinator.wait_for_load_state()
    assert "la ottiene il primo che accetta" in coordinator.content()
    assert coordinator.locator(".app-invitation").count() == 3
    db.session.commit()

    pages = []
    for _mediator_id, email in chosen:
        page = browser.new_context(viewport=PHONE, locale="it-IT").new_page()
        log_in(page, live_server.url, email)
        page.goto(f"{live_server.url}/agenda")
        task = page.locator("[data-task=invitation]")
        assert task.count() == 1
        link = task.locator("a[href*='/agenda/invitations/']")
        assert link.inner_text().startswith("Vedi e accetta"), link.inner_text()
        link.click()
        page.wait_for_load_state()
        assert page.locator("[data-action=accept_invitation]").is_visible()
        assert fits(page)
        pages.append(page)
    screenshots.take(pages[0], "invitation-375")
    db.session.commit()  # SQLite: the server's writes need this thread's reads ended

    winner, *others = pages
    winner.locator("[data-action=accept_invitation]").click()
    winner.wait_for_load_state()
    assert "Hai accettato l'appuntamento" in winner.content()
    screenshots.take(winner, "invitation-accepted-375")
    for number, page in enumerate(others):
        page.locator("[data-action=accept_invitation]").click()
        page.wait_for_load_state()
        refusal = page.locator(".app-invitation-refusal")
        assert refusal.is_visible()
        assert refusal.inner_text().startswith("Già preso")
        assert page.locator("[data-action=accept_invitation]").count() == 0
        assert fits(page)
        screenshots.take(page, f"invitation-taken-{number}-375")
        page.goto(f"{live_server.url}/agenda")
        assert page.locator("[data-task=invitation]").count() == 0

    db.session.commit()
    broadcast = db.session.scalar(sa.select(OfferBroadcast))
    assert broadcast.state == BroadcastState.taken
    accepted = db.session.scalars(sa.select(Assignment).where(
        Assignment.request_id == request_id)).all()
    assert [(a.state, a.mediator_id) for a in accepted] == [
        (AssignmentState.accepted, chosen[0][0])]
    assert db.session.get(MediationRequest, request_id).state == RequestState.confirmed
