"""The family letter in a real browser: one A4 sheet in every language, every script in
the vendored fonts.

Each letter language is printed to PDF by chromium (``page.pdf(format="A4")``, which
follows the letter's ``@page`` rule: A4 landscape) and its pages are counted, with the
longest texts a real school gives it (a long name and address, a site with a long name,
the longest introduction of each language). The fonts: every text node of the letter is
drawn with a vendored web font (DevTools' CSS.getPlatformFontsForNode: no character falls
back on a font of the machine, where a missing glyph would print as an empty box), the
vendored files are the ones the browser downloaded, and ``document.fonts.check`` agrees.
The PDFs and a screenshot of each printed layout are saved under test-output/<test name>/.
"""

import re
from datetime import UTC, datetime, timedelta

import pytest
from babel.messages import pofile

from mediation import translations
from mediation.extensions import db
from mediation.models import AssignmentState, Mode, RequestState
from mediation.requests import letter as letters

from tests.browser import Screenshots, log_in
from tests.conftest import backend
from tests.requests.test_letter_fonts import LATIN, SCRIPT_FONTS, letter_text

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(backend() != "sqlite", reason="the letter is the same on every database"),
]

#: A Wednesday in September (long names of day and month), from 8:30 in Rome: the letter
#: reads no clock, so a fixed date is no time bomb.
START = datetime(2026, 9, 30, 6, 30, tzinfo=UTC)
LANGUAGES = [code for code in translations.LETTER_LOCALES if code != "it"]
#: The introduction of each kind of meeting (see requests/_letter_half.html).
INTRODUCTIONS = {
    "family_meeting": "We invite you to a meeting with the teachers to talk about how your "
                      "child is doing at school.",
    "reception": "We invite you to a welcome meeting for your child, who is starting at our "
                 "school.",
    "orientation": "We invite you to a meeting about the choice of your child's next school.",
    "referral": "We invite you to a meeting about services that can support your child and "
                "your family.",
    "group_meeting": "We invite you to a meeting for the families of our pupils.",
}
#: How the name of a face drawn may end after its family's ("Titillium Web SemiBold";
#: @fontsource's Noto Sans SC files call themselves "Noto Sans SC Thin" at any weight).
WEIGHTS = {"Thin", "ExtraLight", "Light", "Regular", "Medium", "SemiBold", "Bold",
           "ExtraBold", "Black"}
#: A4 landscape with the letter's 10 mm margins, in CSS pixels (96 per inch).
PAGE = {"width": round(277 / 25.4 * 96), "height": round(190 / 25.4 * 96)}
#: The share of the sheet's height the longest half may fill, leaving room for another
#: browser's slightly different line breaks.
MAX_FILL = 0.95


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", pdf))


def longest_introduction(locale: str) -> str:
    """The kind of meeting whose introduction is the longest in ``locale``."""
    with translations.po_path(locale, translations.LETTERS).open("rb") as f:
        catalog = pofile.read_po(f, locale=locale)
    return max(INTRODUCTIONS, key=lambda code: len(catalog[INTRODUCTIONS[code]].string))


@pytest.fixture
def meetings(booking, factory):
    """One confirmed meeting in person per kind of meeting, at a school with a long name,
    address and telephone, at a site with a long name; {kind: request id}."""
    b = booking
    school = b.school
    school.name = "Istituto Comprensivo Statale «Don Lorenzo Milani» di Sant'Angelo Lodigiano"
    school.municipality = "Sant'Angelo Lodigiano"
    school.address, school.telephone = "Via Giuseppe Garibaldi 125", "+39 0371 402715"
    site = school.sites[0]
    site.name = "Scuola secondaria di primo grado «Giovanni Pascoli»"
    site.address, site.municipality = "Viale della Rimembranza 12", "Sant'Angelo Lodigiano"
    b.teacher.display_name = "Maria Grazia Bianchi Lombardi"
    arabic = factory.language("ar")
    darija = factory.language("ary", name_it="Arabo marocchino", name_en="Moroccan Arabic",
                              parent=arabic)
    ids = {}
    for hours, kind in enumerate(INTRODUCTIONS):
        kind_type = b.meeting if kind == b.meeting.code else factory.request_type(code=kind)
        req = factory.request(school=school, requester=b.teacher, project=b.project,
                              type=kind_type, language=darija,
                              state=RequestState.confirmed, site=site, mode=Mode.in_person)
        start = START + timedelta(hours=2 * hours)  # one mediator: never two at once
        factory.assignment(request=req, mediator=b.mediator, state=AssignmentState.accepted,
                           start=start, end=start + timedelta(hours=1, minutes=30))
        db.session.commit()
        ids[kind] = req.id
    return ids


def open_letter(page, base: str, request_id: int, locale: str) -> None:
    response = page.goto(f"{base}/requests/{request_id}/letter?lang={locale}")
    assert response is not None and response.status == 200
    page.evaluate("async () => { await document.fonts.ready; }")


def printed_height(page, size: dict) -> tuple[int, list[str]]:
    """Laid out as printed on a sheet of ``size``: the bottom of the longest half, and any
    line of text that leaves its half's column (Urdu's Nastaliq did)."""
    page.emulate_media(media="print")
    page.set_viewport_size(size)
    try:
        return page.evaluate("""() => {
            const halves = [...document.querySelectorAll('.app-letter-half')];
            const bottom = Math.max(...halves.map(
                h => h.lastElementChild.getBoundingClientRect().bottom));
            const outside = [];
            for (const half of halves) {
                const box = half.getBoundingClientRect();
                const style = getComputedStyle(half);
                const left = box.left + parseFloat(style.paddingLeft) - 1;
                const right = box.right - parseFloat(style.paddingRight) + 1;
                const walker = document.createTreeWalker(half, NodeFilter.SHOW_TEXT);
                while (walker.nextNode()) {
                    const node = walker.currentNode;
                    if (!node.data.trim()) continue;
                    const range = document.createRange();
                    range.selectNodeContents(node);
                    for (const r of range.getClientRects()) {
                        if (r.width && (r.left < left || r.right > right)) {
                            outside.push(half.lang + ': ' + node.data.trim().slice(0, 40));
                        }
                    }
                }
            }
            return [Math.ceil(bottom), outside];
        }""")
    finally:
        page.emulate_media(media="null")
        page.set_viewport_size({"width": 1280, "height": 720})


def test_every_letter_prints_on_one_a4_sheet(app, booking, meetings, live_server, browser,
                                             request):
    shots = Screenshots(request.node.name)
    page = browser.new_page()
    log_in(page, live_server.url, booking.teacher)
    fills = {}
    for locale in ["it", *LANGUAGES]:
        kind = longest_introduction(locale)
        open_letter(page, live_server.url, meetings[kind], locale)
        pdf = page.pdf(format="A4")
        (shots.folder / f"{locale}.pdf").write_bytes(pdf)
        assert page_count(pdf) == 1, f"{locale}: {page_count(pdf)} pages"
        width, height = (float(v) for v in re.search(
            rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf).groups())
        assert abs(width - 842) < 2 and abs(height - 595) < 2, (locale, width, height)  # landscape

        bottom, outside = printed_height(page, PAGE)
        assert outside == [], outside
        fills[locale] = bottom / PAGE["height"]
        # A browser that ignores the @page size prints on a portrait sheet: one page too.
        portrait = {"width": PAGE["height"], "height": PAGE["width"]}
        bottom, outside = printed_height(page, portrait)
        assert outside == [], outside
        assert bottom <= portrait["height"], f"{locale}: {bottom}px on a portrait sheet"
        page.emulate_media(media="print")
        page.set_viewport_size(PAGE)
        page.screenshot(path=str(shots.folder / f"{locale}.png"))
        page.emulate_media(media="null")
    print("share of the sheet's height filled:",
          ", ".join(f"{k} {v:.0%}" for k, v in sorted(fills.items(), key=lambda kv: -kv[1])))
    assert max(fills.values()) <= MAX_FILL, fills
    # Not vacuous: the family's half is the longer one in the scripts that need more room.
    assert fills["ur"] > fills["it"]


def drawn_with(cdp, selector: str) -> dict[tuple[str, bool], int]:
    """{(name of the face, whether it is a web font): glyphs} that drew the text of the
    elements ``selector`` matches (DevTools' CSS.getPlatformFontsForNode)."""
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    try:
        root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        used: dict[tuple[str, bool], int] = {}
        for node in cdp.send("DOM.querySelectorAll",
                             {"nodeId": root, "selector": selector})["nodeIds"]:
            for font in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]:
                key = (font["familyName"], font["isCustomFont"])
                used[key] = used.get(key, 0) + font["glyphCount"]
        return used
    finally:
        cdp.send("CSS.disable")
        cdp.send("DOM.disable")


def assert_vendored(used: dict, expected: set[str], what: str) -> set[str]:
    """No glyph drawn by a font of the machine; every face one of ``expected``."""
    system = {name: n for (name, custom), n in used.items() if not custom}
    assert system == {}, f"{what}: glyphs drawn by the machine's fonts: {system}"
    families = {next((f for f in expected
                      if name == f or name.removeprefix(f + " ") in WEIGHTS), name)
                for name, _ in used}
    assert families <= expected, f"{what}: {families}"
    return families


def test_every_script_is_drawn_with_the_vendored_fonts(app, booking, meetings, live_server,
                                                       browser):
    page = browser.new_page()
    log_in(page, live_server.url, booking.teacher)
    cdp = page.context.new_cdp_session(page)
    for locale in LANGUAGES:
        open_letter(page, live_server.url, meetings["referral"], locale)
        half = f'section.app-letter-half[lang="{letters.LANG_TAGS.get(locale, locale)}"]'
        assert page.locator(half).count() == 1, locale
        script = SCRIPT_FONTS.get(locale)
        expected = {*LATIN, script} - {None}

        # The letter as printed: a character no vendored font has would be drawn by a
        # font of the machine (on another machine, an empty box).
        families = assert_vendored(drawn_with(cdp, f"{half}, {half} *"), expected, locale)
        if script:
            assert script in families, f"{locale}: {families}"

        # The vendored files are the ones the browser loaded, and the font set agrees.
        if script:
            state = page.evaluate("""([selector, family]) => {
                // Its own script's text: Latin is Titillium Web's, whatever the family has.
                const text = document.querySelector(selector).innerText
                    .replace(/[\u0000-\u024F\u2000-\u206F]/g, '');
                const faces = [...document.fonts].filter(
                    f => f.family.replace(/"/g, '') === family);
                return {
                    check: document.fonts.check(`16px "${family}"`, text),
                    loaded: faces.filter(f => f.status === 'loaded').length,
                    files: performance.getEntriesByType('resource').map(e => e.name)
                        .filter(name => name.includes('/static/vendor/fonts/')),
                };
            }""", [half, script])
            assert state["check"], f"{locale}: {script} not ready for the letter's text"
            assert state["loaded"] >= 1, f"{locale}: no face of {script} loaded"
            folder = "-".join(script.lower().split())
            assert any(f"/static/vendor/fonts/{folder}-5." in name for name in state["files"]), (
                locale, state["files"])

        # Every character the letter can print in this language (other dates, other
        # kinds of meeting, other languages' names), set in the half: vendored glyphs too.
        page.evaluate("""([selector, text]) => {
            const probe = document.createElement('p');
            probe.className = 'app-test-probe';
            probe.textContent = text;
            document.querySelector(selector).append(probe);
        }""", [half, "".join(sorted(letter_text(locale)))])
        page.evaluate("async () => { await document.fonts.ready; }")
        assert_vendored(drawn_with(cdp, f"{half} .app-test-probe"), expected,
                        f"{locale} (every character)")


def test_chinese_downloads_only_the_slices_its_text_uses(app, booking, meetings, live_server,
                                                        browser):
    """Noto Sans SC is split by unicode-range: the letter loads a few of the vendored
    slices, not all of them."""
    page = browser.new_page()
    log_in(page, live_server.url, booking.teacher)
    open_letter(page, live_server.url, meetings["family_meeting"], "zh")
    state = page.evaluate("""() => ({
        faces: [...document.fonts].filter(f => f.family.replace(/"/g, '') === 'Noto Sans SC')
            .map(f => f.status),
        files: performance.getEntriesByType('resource').map(e => e.name)
            .filter(name => name.includes('/noto-sans-sc-')),
    })""")
    loaded = state["faces"].count("loaded")
    assert 0 < loaded < len(state["faces"]) / 2, state["faces"]
    assert len(state["files"]) == loaded
