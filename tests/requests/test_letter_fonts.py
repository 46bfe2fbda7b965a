"""The letter's vendored fonts (css/letter-fonts.css, static/vendor/fonts/): every file is
there with its licence, nothing is dead weight, only the letter loads them, and every
character the letter can print in a script falls in the unicode-range of that script's
faces. The browser test (tests/requests/test_letter_browser.py) checks that the glyphs are drawn.
"""

import re
from datetime import date, datetime, timedelta

import pytest
from babel import Locale
from babel.dates import format_date, format_time
from babel.messages import pofile

from mediation import PROJECT_ROOT, translations
from mediation.i18n import date_locale
from mediation.models import Language
from mediation.requests import letter as letters
from mediation.seed import LANGUAGES

STATIC = PROJECT_ROOT / "mediation" / "static"
CSS = STATIC / "css" / "letter-fonts.css"
FONTS = STATIC / "vendor" / "fonts"
#: What the fonts may weigh on disk, all together (Chinese is most of it).
BUDGET_BYTES = 2_000_000
#: The vendored family that draws each script (css/letter-fonts.css); Latin letters and
#: digits are Titillium Web's (Bootstrap Italia's) in every half, and what it lacks is the
#: vendored Noto Sans's (Cyrillic, the Ukrainian apostrophe).
SCRIPT_FONTS = {
    "ar": "Noto Sans Arabic", "fa": "Noto Sans Arabic", "ps": "Noto Sans Arabic",
    "ur": "Noto Nastaliq Urdu", "zh": "Noto Sans SC", "hi": "Noto Sans Devanagari",
    "pa": "Noto Sans Gurmukhi", "bn": "Noto Sans Bengali", "si": "Noto Sans Sinhala",
    "ta": "Noto Sans Tamil", "ml": "Noto Sans Malayalam", "ti": "Noto Sans Ethiopic",
    "am": "Noto Sans Ethiopic", "uk": "Noto Sans", "ru": "Noto Sans",
}
LATIN = ("Titillium Web", "Noto Sans")
#: What Titillium Web (latin and latin-ext) is taken to draw; the browser test checks it.
TITILLIUM = [(0x0020, 0x007E), (0x00A0, 0x024F), (0x2013, 0x2014), (0x2018, 0x201E),
             (0x2026, 0x2026), (0x20AC, 0x20AC)]


def faces() -> list[tuple[str, str, list[tuple[int, int]]]]:
    """(family, url, unicode ranges) of each @font-face."""
    found = []
    for body in re.findall(r"@font-face\s*\{(.*?)\}", CSS.read_text(encoding="utf-8"), re.S):
        family = re.search(r'font-family:\s*"([^"]+)"', body).group(1)
        url = re.search(r'url\("([^"]+)"\)', body).group(1)
        ranges = []
        for part in re.search(r"unicode-range:\s*([^;]+);", body).group(1).split(","):
            first, _, last = part.strip().removeprefix("U+").partition("-")
            ranges.append((int(first, 16), int(last or first, 16)))
        found.append((family, url, ranges))
    return found


def test_every_face_is_a_vendored_woff2_with_its_licence():
    used = set()
    for _, url, _ in faces():
        path = (CSS.parent / url).resolve()
        assert path.is_file(), url
        assert path.suffix == ".woff2" and path.read_bytes()[:4] == b"wOF2", url
        assert "-400-normal" in path.name, url  # one weight
        used.add(path)
    folders = {path.parent for path in used}
    for folder in folders:
        assert re.fullmatch(r"noto-[a-z-]+-\d+\.\d+\.\d+", folder.name), folder.name
        assert "SIL Open Font License" in (folder / "LICENSE").read_text(encoding="utf-8")
        assert "npm pack @fontsource/" in (folder / "VERSION").read_text(encoding="utf-8")
    vendored = set(FONTS.rglob("*.woff2"))
    assert vendored == used, f"not used by the letter: {sorted(vendored - used)}"
    total = sum(path.stat().st_size for path in FONTS.rglob("*") if path.is_file())
    assert total < BUDGET_BYTES, total


def test_only_the_letter_loads_its_fonts():
    """The letter, and the family's answer page its QR code opens (the same words, on a
    phone that may have no font for the family's script)."""
    templates = PROJECT_ROOT / "templates"
    loading = {path.relative_to(templates).as_posix() for path in templates.rglob("*.html")
               if "letter-fonts.css" in path.read_text(encoding="utf-8")}
    assert loading == {"requests/letter.html", "family/answer.html"}


def letter_text(locale: str) -> set[str]:
    """Every character the letter in ``locale`` can print from data it does not get from
    the school: its catalog, the dates and times of a year, the names of the languages."""
    chars = set()
    with translations.po_path(locale, translations.LETTERS).open("rb") as f:
        for message in pofile.read_po(f, locale=locale):
            if message.id:
                chars |= set(message.string)
    dates = date_locale(locale)  # English as written in Europe, as the letter does
    day = date(2026, 1, 1)
    for offset in range(366):
        chars |= set(format_date(day + timedelta(offset), "full", locale=dates))
    for hour in range(24):
        chars |= set(format_time(datetime(2026, 1, 1, hour, 30), letters.LETTER_TIME,
                                  locale=dates))
    rows: dict[str, Language] = {}
    for code, name_it, name_en, parent in LANGUAGES:
        rows[code] = Language(code=code, name_it=name_it, name_en=name_en,
                              parent=rows.get(parent) if parent else None)
        chars |= set(letters.language_name(rows[code], locale))
    if locale == "zh":  # any language a coordinator may add: the slices hold all their names
        for name in Locale("zh").languages.values():
            chars |= set(name)
    return {c for c in chars if c.isprintable() and not c.isspace()}


@pytest.mark.parametrize("locale", [c for c in translations.LETTER_LOCALES])
def test_the_fonts_cover_what_the_letter_prints(locale):
    """Every character falls in a vendored face of the half's fonts (or Titillium Web's)."""
    families = {SCRIPT_FONTS.get(locale), *LATIN}
    covered = [r for family, _, rs in faces() if family in families for r in rs] + TITILLIUM
    if locale in SCRIPT_FONTS:
        assert any(family == SCRIPT_FONTS[locale] for family, _, _ in faces())
    missing = sorted(c for c in letter_text(locale)
                     if not any(first <= ord(c) <= last for first, last in covered))
    assert missing == [], f"{locale}: {[f'{c} U+{ord(c):04X}' for c in missing]}"


def test_chinese_keeps_only_some_of_its_slices():
    """Noto Sans SC comes in about a hundred unicode-range slices: the letter keeps the
    ones its text needs (the test above), not all of them."""
    slices = [url for family, url, _ in faces() if family == "Noto Sans SC"]
    assert 10 < len(slices) < 50
