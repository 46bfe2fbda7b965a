"""The family's answer in a real browser: the QR code of a rendered letter, read from a
screenshot as a phone camera would, opens the family's page on a phone-sized window
without login; the family answers in Arabic (right to left) and in Chinese; the teacher
then sees both answers on the request pages."""

from urllib.parse import urlsplit

import pytest

from mediation.extensions import db
from mediation.requests import letter as letters

from tests.browser import Screenshots, log_in
from tests.conftest import backend
from tests.family.conftest import make_meeting
from tests.family.qr import decode_png

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(backend() != "sqlite", reason="the pages are the same on every database"),
]

PHONE = {"width": 390, "height": 844}


def scanned_link(page, base: str, request_id: int, lang: str) -> str:
    """The link the letter's QR code holds, read from the screen; it is the one printed."""
    response = page.goto(f"{base}/requests/{request_id}/letter?lang={lang}")
    assert response is not None and response.status == 200
    code = page.locator("svg.app-letter-qr-code").first
    code.scroll_into_view_if_needed()
    box = code.bounding_box()
    assert box["width"] >= 70  # 20 mm on the screen: a camera has something to read
    # A margin of white around it, as on paper.
    png = page.screenshot(clip={"x": box["x"] - 20, "y": box["y"] - 20,
                                "width": box["width"] + 40, "height": box["height"] + 40})
    [link] = decode_png(png)
    printed = page.locator(".app-letter-link").first.inner_text().strip()
    assert link == printed
    return link


def test_family_answers_from_the_letters_qr_code(app, booking, factory, live_server, browser,
                                                 request):
    shots = Screenshots(request.node.name)
    arabic = make_meeting(booking, factory, "ar", hour=9, code="LO-2026-AR-001")
    chinese = make_meeting(booking, factory, "zh", hour=14, code="LO-2026-ZH-002")
    ids = {"ar": arabic.request.id, "zh": chinese.request.id}
    db.session.commit()  # no transaction left open: on SQLite it would block the server's

    teacher = browser.new_page()
    log_in(teacher, live_server.url, booking.teacher)
    links = {lang: scanned_link(teacher, live_server.url, ids[lang], lang) for lang in ids}
    shots.take(teacher, "letter-zh")

    family = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    phone = family.new_page()
    for lang, answer, done in (("ar", "لا نستطيع الحضور", "شكرًا لكم"),
                               ("zh", "我们会来", "谢谢")):
        response = phone.goto(live_server.url + urlsplit(links[lang]).path)
        assert response.status == 200
        tag = letters.LANG_TAGS.get(lang, lang)
        half = phone.locator(f'section.app-family-half[lang="{tag}"]')
        assert half.count() == 1
        assert half.evaluate("el => getComputedStyle(el).direction") == (
            "rtl" if lang == "ar" else "ltr")
        assert "LO-2026" not in phone.content()  # never the pupil's code
        shots.take(phone, f"family-{lang}")
        half.get_by_role("button", name=answer).click()
        phone.wait_for_load_state()
        assert done in half.inner_text()
        shots.take(phone, f"answered-{lang}")
        # Nothing overflows the phone's width.
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    for lang, expected in (("ar", "not_coming"), ("zh", "coming")):
        teacher.goto(f"{live_server.url}/requests/{ids[lang]}")
        assert teacher.locator("[data-family-answer]").get_attribute(
            "data-family-answer") == expected
    shots.take(teacher, "request-page")
