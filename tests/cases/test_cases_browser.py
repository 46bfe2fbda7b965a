"""The pupils at risk on a phone: the list fits a 375-px screen, its buttons on screen.

The pupils come from tests/cases/test_cases.py (Pathways). Screenshots are saved under
test-output/<test name>/.
"""

from datetime import timedelta

import pytest

from mediation.extensions import db
from mediation.models import ItalianLevel

from tests.conftest import PASSWORD
from tests.scenarios.booking import now

pytestmark = pytest.mark.browser


def test_at_risk_list_fits_a_phone(app, world, live_server, browser, screenshots):
    two = {"high_absences": True, "repeated_year": True}
    # Long names and codes, as real schools have them.
    school = world.factory.school(world.ambito, name="Istituto Comprensivo Statale di "
                                  "Sant'Angelo Lodigiano «Collodi»")
    for i in range(4):
        case = world.case(f"SANGELO-2025-01{i}", school=school, class_name=f"{i + 1}B",
                          italian_level=ItalianLevel.a1 if i % 2 else None, **two)
        if i:
            world.session(case, now() - timedelta(days=60 * i))
    email = world.coordinator.email
    # End this thread's transaction: on SQLite it would hold the lock the login needs.
    db.session.commit()
    page = browser.new_page(locale="it-IT", viewport={"width": 375, "height": 800})
    page.goto(f"{live_server.url}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/cases/at-risk")
    screenshots.take(page, "at-risk-375")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") == 0
    buttons = page.locator(".app-at-risk-item a.btn")
    assert buttons.count() == 5  # K7Q and the four above
    for index in range(buttons.count()):
        box = buttons.nth(index).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375, box
    assert buttons.first.inner_text().startswith("Chiedi al referente della scuola")
    # The most urgent first: three indicators (K7Q, and the A1 ones) before two.
    codes = page.locator(".app-at-risk-item").evaluate_all(
        "items => items.map(item => item.dataset.case)")
    assert codes[:3] == ["K7Q", "SANGELO-2025-013", "SANGELO-2025-011"]
