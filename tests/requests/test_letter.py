"""The invitation letter for the family: its catalogs, its languages, who may print it."""

import html
import re
from datetime import UTC, datetime

import pytest
from babel.dates import format_date, format_time
from babel.messages import mofile, pofile

from mediation import translations
from mediation.clock import ROME
from mediation.extensions import db
from mediation.i18n import date_locale
from mediation.models import (
    AssignmentState,
    Cycle,
    Language,
    Mode,
    PupilCase,
    RequestState,
    Role,
)
from mediation.requests import letter as letters
from mediation.seed import LANGUAGES

from tests.conftest import Auth, login

EN = {"Accept-Language": "en"}
START = datetime(2026, 12, 1, 15, 30, tzinfo=UTC)  # 16:30 in Rome
END = datetime(2026, 12, 1, 16, 30, tzinfo=UTC)
PUPIL_CODE = "LO-2026-SECRET-017"
NOTE = "The father works nights; call after 10"
SCHOOL_ADDRESS = "Via Dante Alighieri 7"
SCHOOL_TELEPHONE = "0371 402715"
FAMILY_LOCALES = [code for code in translations.LETTER_LOCALES if code != "it"]
RTL = {"ar", "ur", "fa", "ps"}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
HALF = re.compile(
    r'<section class="app-letter-half" lang="([^"]+)" dir="(\w+)"[^>]*>(.*?)</section>', re.S)


# --- the catalogs ------------------------------------------------------------


def read_po(locale):
    with translations.po_path(locale, translations.LETTERS).open("rb") as f:
        return pofile.read_po(f, locale=locale)


def read_mo(locale):
    path = translations.po_path(locale, translations.LETTERS).with_suffix(".mo")
    with path.open("rb") as f:
        return mofile.read_mo(f)


@pytest.fixture(scope="module")
def letter_msgids(tmp_path_factory) -> set[str]:
    pot = translations.extract_letters(tmp_path_factory.mktemp("letters") / "letters.pot")
    with pot.open("rb") as f:
        return {m.id for m in pofile.read_po(f) if m.id}


def test_letter_template_has_strings(letter_msgids):
    """The extraction finds the letter's words (and only the letter's: see below)."""
    assert "Invitation to a meeting at school" in letter_msgids
    assert "A linguistic-cultural mediator who speaks %(language)s will be present." in (
        letter_msgids)
    assert len(letter_msgids) >= 20


def test_letter_strings_stay_out_of_the_interface_catalog(letter_msgids):
    """The letters domain is separate: its words are not in the interface's catalog."""
    with translations.po_path("it").open("rb") as f:
        interface = {m.id for m in pofile.read_po(f, locale="it") if m.id}
    assert not letter_msgids & interface


@pytest.mark.parametrize("locale", translations.LETTER_LOCALES)
def test_letters_catalog_is_complete(letter_msgids, locale):
    """Every string of the letter is translated, not fuzzy, with the same placeholders."""
    catalog = read_po(locale)
    ids = {m.id for m in catalog if m.id}
    assert ids == letter_msgids, f"run `flask translate update`: {sorted(ids ^ letter_msgids)}"
    assert not catalog.fuzzy
    for message in catalog:
        if not message.id:
            continue
        assert message.string, f"untranslated in {locale}: {message.id}"
        assert not message.fuzzy, f"fuzzy in {locale}: {message.id}"
        assert sorted(PLACEHOLDER.findall(message.string)) == sorted(
            PLACEHOLDER.findall(message.id)), f"placeholders changed in {locale}: {message.id}"
        if locale != "en":
            assert message.string != message.id, f"English left in {locale}: {message.id}"


@pytest.mark.parametrize("locale", translations.LETTER_LOCALES)
def test_letters_mo_matches_po(locale):
    """The compiled catalog says what the .po says (run `flask translate compile`)."""
    def entries(catalog):
        return {m.id: m.string for m in catalog if m.id}

    assert entries(read_mo(locale)) == entries(read_po(locale))


@pytest.mark.parametrize("locale", FAMILY_LOCALES)
def test_letters_catalog_says_it_awaits_review_or_who_reviewed_it(locale):
    """Each family-language catalog records its review status in its header comment."""
    assert "Reviewed by:" in read_po(locale).header_comment


# --- which language ----------------------------------------------------------


def _languages() -> dict[str, Language]:
    """The demo data's languages as (unsaved) rows, with their parents."""
    rows: dict[str, Language] = {}
    for code, name_it, name_en, parent in LANGUAGES:
        rows[code] = Language(code=code, name_it=name_it, name_en=name_en,
                              parent=rows.get(parent) if parent else None)
    return rows


def test_every_demo_language_has_a_written_language_with_a_letter():
    """Every language of the demo data maps to a language the letter is printed in."""
    supported = set(letters.family_languages())
    for code, language in _languages().items():
        assert letters.written_language(language) in supported, code


@pytest.mark.parametrize(("spoken", "written"), [
    ("ary", "ar"), ("arz", "ar"), ("cmn", "zh"), ("wuu-x-wenzhou", "zh"), ("prs", "fa"),
    ("wo", "fr"), ("tw", "en"), ("yo", "en"), ("ig", "en"), ("ar", "ar"), ("ta", "ta"),
])
def test_written_language(spoken, written):
    assert letters.written_language(_languages()[spoken]) == written


def test_a_variety_follows_its_parent():
    """A variety not listed goes to its parent's written language."""
    arabic = Language(code="ar", name_it="Arabo", name_en="Arabic")
    tunisian = Language(code="aeb", name_it="Arabo tunisino", name_en="Tunisian Arabic",
                        parent=arabic)
    assert letters.written_language(tunisian) == "ar"


def test_right_to_left_languages():
    assert {code for code in FAMILY_LOCALES if letters.is_rtl(code)} == RTL


def test_english_dates_put_the_day_first_on_a_24_hour_clock(client, booking, meeting):
    login(client, booking.teacher)
    _, (_, _, english) = halves(client.get(url(meeting, lang="en")).text)
    assert "Tuesday, 1 December 2026" in english
    assert "from 16:30 to 17:30" in english
    assert "PM" not in english


def test_dates_fall_back_to_numbers_without_locale_data():
    assert letters._when(START, "xx-unknown") == ("01/12/2026", "16:30")
    assert letters._when(START, "it") == ("martedì 1 dicembre 2026", "16:30")


# --- the page ----------------------------------------------------------------


@pytest.fixture
def meeting(booking, factory):
    """A confirmed family meeting in Arabic, with a pupil code and a note (never printed),
    at a school whose address and telephone are filled in."""
    b = booking
    b.school.address, b.school.telephone = SCHOOL_ADDRESS, SCHOOL_TELEPHONE
    case = factory.add(PupilCase(school=b.school, code=PUPIL_CODE, class_name="2A",
                                 cycle=Cycle.primaria))
    arabic = factory.language("ar")  # the mediator's, made by the booking fixture
    arabic.name_it, arabic.name_en = "Arabo", "Arabic"
    req = factory.request(
        school=b.school, requester=b.teacher, type=b.meeting, project=b.project,
        language=arabic,
        state=RequestState.confirmed, site=b.school.sites[0], mode=Mode.in_person,
        pupil_case=case, notes=NOTE, expected_parents=2,
    )
    factory.assignment(request=req, mediator=b.mediator, state=AssignmentState.accepted,
                       start=START, end=END)
    db.session.commit()
    return req


def halves(page: str) -> list[tuple[str, str, str]]:
    """(lang, dir, text) of each half of the letter, in order."""
    return [(lang, direction, html.unescape(re.sub(r"<[^>]+>", " ", body)))
            for lang, direction, body in HALF.findall(page)]


def url(req, **args) -> str:
    query = "&".join(f"{k}={v}" for k, v in args.items())
    return f"/requests/{req.id}/letter" + (f"?{query}" if query else "")


def _translated(locale: str) -> dict[str, str]:
    return {m.id: m.string for m in read_po(locale) if m.id}


#: The letter strings a family meeting in person shows (the other intros and modes aside).
NOT_SHOWN = {
    "We invite you to a welcome meeting for your child, who is starting at our school.",
    "We invite you to a meeting about the choice of your child's next school.",
    "We invite you to a meeting about services that can support your child and your family.",
    "We invite you to a meeting for the families of our pupils.",
    "We invite you to a meeting at school.",
    "By telephone: the school will call you.",
    "By video call: the school will send you the link.",
    # The family's answer page (templates/family/answer.html, tests/family), not the letter.
    "Thank you: the school has received your answer.", "We cannot come",
    "We need another day", "We will come", "Will you come to the meeting?",
    "You can change your answer until the meeting.", "Your answer:",
}


@pytest.mark.parametrize("locale", FAMILY_LOCALES)
def test_letter_in_every_family_language(client, booking, meeting, locale):
    """Italian on the left, the family's language on the right: declared, translated, dated."""
    login(client, booking.teacher)
    response = client.get(url(meeting, lang=locale))
    assert response.status_code == 200
    (it_lang, it_dir, italian), (lang, direction, family) = halves(response.text)
    assert (it_lang, it_dir) == ("it", "ltr")
    assert lang == letters.LANG_TAGS.get(locale, locale)
    assert direction == ("rtl" if locale in RTL else "ltr")
    assert f'lang="{lang}" dir="{direction}"' in response.text

    strings = _translated(locale)
    for msgid, text in strings.items():
        if msgid in NOT_SHOWN or PLACEHOLDER.search(msgid):
            continue
        assert text in family, f"{locale}: {msgid!r} missing"
        if locale != "en":
            assert msgid not in family, f"{locale}: English left: {msgid!r}"
    for msgid, text in _translated("it").items():  # no Italian sentence in the other half
        if len(text) > 25 and msgid not in NOT_SHOWN and not PLACEHOLDER.search(msgid):
            assert text not in family, f"{locale}: Italian left: {text!r}"
            assert text in italian

    local = START.astimezone(ROME)
    cldr = date_locale(locale)  # English: day before month, 24-hour clock
    assert format_date(local.date(), "full", locale=cldr) in family
    times = strings["from %(start)s to %(end)s"] % {
        "start": format_time(START, letters.LETTER_TIME, tzinfo=ROME, locale=cldr),
        "end": format_time(END, letters.LETTER_TIME, tzinfo=ROME, locale=cldr),
    }
    assert times in family
    assert not re.search(r"\d\s?(AM|PM|am|pm)\b", family), locale  # 24-hour in every half
    mediator = strings["A linguistic-cultural mediator who speaks %(language)s will be present."]
    assert mediator.split("%(language)s")[0].strip() in family
    assert "martedì 1 dicembre 2026" in italian and "dalle 16:30 alle 17:30" in italian
    assert booking.school.sites[0].address in family  # the place, as written in Italy


def test_letter_never_shows_the_pupil_code_nor_notes(client, booking, meeting):
    login(client, booking.teacher)
    page = ""
    for locale in ("ar", "fr", "it"):
        page = client.get(url(meeting, lang=locale)).text
        assert PUPIL_CODE not in page
        assert NOTE not in page
        # Nor the class; the family's answer link is left out first: its random token
        # may hold the two characters (about one letter in a hundred did).
        text = re.sub(r"<[^>]+>", " ", page)
        assert "2A" not in re.sub(r"/f/[\w-]+", " ", text)
    assert "app-letter-blank" in page  # the line where the teacher writes the name


def test_letter_names_the_teacher_and_the_school(client, booking, meeting):
    login(client, booking.teacher)
    (_, _, italian), (_, _, family) = halves(client.get(url(meeting)).text)
    for half in (italian, family):
        assert booking.teacher.display_name in half
        assert booking.school.name in half
    assert "che parla arabo." in italian
    assert "يتحدث العربية" in family


def reply_slip(half_html: str) -> str:
    return half_html.split('class="app-letter-reply"', 1)[1]


def test_letter_prints_the_school_address_and_telephone(client, booking, meeting):
    """Both halves carry the school's address and number, the reply slip the number to call
    (isolated left-to-right, so that an Arabic line keeps its digits in order)."""
    login(client, booking.teacher)
    page = client.get(url(meeting), headers=EN).text
    (_, _, italian), (_, _, family) = halves(page)
    for half in (italian, family):
        assert f"{SCHOOL_ADDRESS}, {booking.school.municipality}" in half
        assert half.count(SCHOOL_TELEPHONE) == 2  # the letterhead and the reply slip
    assert "Telefono:" in italian and "الهاتف:" in family
    for body in (m.group(3) for m in HALF.finditer(page)):
        slip = reply_slip(body)
        assert f'<bdi dir="ltr" class="app-letter-phone">{SCHOOL_TELEPHONE}</bdi>' in slip
        assert "app-letter-blank" not in slip.split("app-letter-phone")[0]
    assert "not filled in" not in page


@pytest.mark.parametrize("user", ["teacher", "lead"])
def test_without_the_school_contact_the_letter_leaves_a_line(client, booking, meeting, user):
    """A school without address and telephone: the municipality alone, no empty label, a
    line to write the number on; the page says so, and links the lead to the form."""
    booking.school.address = booking.school.telephone = None
    db.session.commit()
    login(client, getattr(booking, user))
    page = client.get(url(meeting), headers=EN).text
    (_, _, italian), (_, _, family) = halves(page)
    assert "Telefono" not in italian and "الهاتف" not in family
    assert "None" not in italian + family
    for body in (m.group(3) for m in HALF.finditer(page)):
        assert "app-letter-phone" not in body
        assert "app-letter-blank" in reply_slip(body)
        school = re.search(r'<p class="app-letter-school">(.*?)</p>', body, re.S).group(1)
        assert re.sub(r"<[^>]+>", " ", school).split() == [
            *booking.school.name.split(), booking.school.municipality]
    assert "address or telephone number is not filled in" in page
    link = f'href="/schools/{booking.school.id}/contact"'
    if user == "lead":
        assert link in page
    else:
        assert link not in page and "The school's lead can fill them in" in page


def test_default_is_the_request_language(client, booking, meeting):
    login(client, booking.teacher)
    page = client.get(url(meeting), headers=EN).text
    assert [h[0] for h in halves(page)] == ["it", "ar"]
    assert '<option value="ar" selected>' in page
    assert "written language closest" not in page  # Arabic is written as such


@pytest.mark.parametrize(("spoken", "written", "note"), [
    ("ary", "ar", "Printed in Arabic, the written language closest to Moroccan Arabic."),
    ("wo", "fr", "Printed in French, the written language closest to Wolof."),
    ("yo", "en", "Printed in English, the written language closest to Yoruba."),
])
def test_spoken_languages_get_their_written_one(client, factory, booking, meeting,
                                                spoken, written, note):
    arabic = factory.language("ar")
    names = {"ary": "Moroccan Arabic", "wo": "Wolof", "yo": "Yoruba"}
    meeting.language = factory.language(spoken, name_it=names[spoken], name_en=names[spoken],
                                        parent=arabic if spoken == "ary" else None)
    db.session.commit()
    login(client, booking.teacher)
    page = client.get(url(meeting), headers=EN).text
    assert [h[0] for h in halves(page)] == ["it", written]
    assert note in page


def test_the_teacher_chooses_another_language(client, booking, meeting):
    login(client, booking.teacher)
    assert [h[0] for h in halves(client.get(url(meeting, lang="fr")).text)] == ["it", "fr"]
    page = client.get(url(meeting, lang="it")).text
    assert [h[0] for h in halves(page)] == ["it"]
    assert '<option value="it" selected>' in page
    # Not a language with a letter: the request's own.
    assert [h[0] for h in halves(client.get(url(meeting, lang="xx")).text)] == ["it", "ar"]
    assert [h[0] for h in halves(client.get(url(meeting, lang="../it")).text)] == ["it", "ar"]


def test_a_language_without_catalog_gives_an_italian_letter(client, factory, booking, meeting):
    meeting.language = factory.language("de", name_it="Tedesco", name_en="German")
    db.session.commit()
    login(client, booking.teacher)
    page = client.get(url(meeting), headers=EN).text
    assert [h[0] for h in halves(page)] == ["it"]
    assert "There is no invitation letter in German yet" in page
    assert "app-letter-two" not in page


@pytest.mark.parametrize(("code", "intro"), [
    ("reception", "Vi invitiamo a un incontro di accoglienza"),
    ("orientation", "Vi invitiamo a un incontro sulla scelta della prossima scuola"),
    ("referral", "Vi invitiamo a un incontro sui servizi"),
    ("group_meeting", "Vi invitiamo a un incontro per le famiglie dei nostri alunni."),
    ("something_else", "Vi invitiamo a un incontro a scuola."),
])
def test_each_kind_of_meeting_has_its_words(client, factory, booking, meeting, code, intro):
    meeting.type = factory.request_type(code=code)
    db.session.commit()
    login(client, booking.teacher)
    (_, _, italian), _ = halves(client.get(url(meeting)).text)
    assert intro in italian
    assert "andamento scolastico" not in italian


@pytest.mark.parametrize(("mode", "words"), [
    (Mode.phone, "Al telefono: la scuola vi chiamerà."),
    (Mode.video, "In videochiamata: la scuola vi invierà il link."),
])
def test_phone_and_video_meetings(client, booking, meeting, mode, words):
    meeting.mode = mode
    db.session.commit()
    login(client, booking.teacher)
    (_, _, italian), _ = halves(client.get(url(meeting)).text)
    assert words in italian
    assert booking.school.sites[0].address not in italian


def test_page_is_printable_without_inline_script(client, booking, meeting):
    login(client, booking.teacher)
    page = client.get(url(meeting)).text
    assert "css/letter.css" in page and "js/letter.js" in page
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)
    assert not re.search(r"\son[a-z]+=", page)
    css = client.get("/static/css/letter.css")
    assert b"@media print" in css.data and b"@page" in css.data and b"landscape" in css.data
    css.close()


# --- who may print it --------------------------------------------------------


def test_who_may_print_it(client, factory, booking, meeting):
    b = booking
    allowed = [b.teacher, b.lead, b.coordinator, factory.user(Role.admin), b.mediator.user,
               factory.user(Role.teacher, school=b.school)]  # a colleague of the requester
    auth = Auth(client)
    for user in allowed:
        auth.logout()
        login(client, user)
        assert client.get(url(meeting)).status_code == 200, user.role
    other_school = factory.school(b.school.ambito)
    refused = [
        factory.user(Role.teacher, school=other_school),  # another school's teacher
        factory.user(Role.lead, school=other_school),
        factory.user(Role.coordinator),  # another Ambito's coordinator
        factory.mediator(ambiti=[b.school.ambito]).user,  # a mediator not on it
    ]
    for user in refused:
        auth.logout()
        login(client, user)
        assert client.get(url(meeting)).status_code == 404, user.role


def test_mediator_who_declined_may_not_print_it(client, factory, booking, meeting):
    other = factory.mediator(ambiti=[booking.school.ambito])
    factory.assignment(request=meeting, mediator=other, state=AssignmentState.declined,
                       start=START, end=END)
    db.session.commit()
    login(client, other.user)
    assert client.get(f"/requests/{meeting.id}").status_code == 200  # sees the request
    assert client.get(url(meeting)).status_code == 404


def test_no_letter_for_a_translation(client, factory, booking):
    req = factory.request(school=booking.school, requester=booking.teacher,
                          type=booking.translation, project=booking.project)
    db.session.commit()
    login(client, booking.teacher)
    assert client.get(url(req)).status_code == 404
    assert "/letter" not in client.get(f"/requests/{req.id}").text


def test_the_request_page_links_to_the_letter(client, booking, meeting):
    login(client, booking.teacher)
    page = client.get(f"/requests/{meeting.id}").text
    assert f'href="/requests/{meeting.id}/letter"' in page


def test_without_a_confirmed_time_the_link_is_disabled(client, factory, booking, meeting):
    for assignment in meeting.assignments:
        assignment.state = AssignmentState.offered
    meeting.state = RequestState.offered
    db.session.commit()
    login(client, booking.teacher)
    page = client.get(f"/requests/{meeting.id}", headers=EN).text
    assert f'href="/requests/{meeting.id}/letter"' not in page
    assert 'aria-disabled="true"' in page
    assert "Available once a mediator has accepted a time." in page
    letter_page = client.get(url(meeting), headers=EN)
    assert letter_page.status_code == 200
    assert "once a mediator has accepted a time" in letter_page.text
    assert not halves(letter_page.text)


def test_a_cancelled_request_shows_no_link(client, booking, meeting):
    for assignment in meeting.assignments:
        assignment.state = AssignmentState.cancelled
    meeting.state = RequestState.cancelled
    db.session.commit()
    login(client, booking.teacher)
    page = client.get(f"/requests/{meeting.id}", headers=EN).text
    assert "/letter" not in page
    assert "Print the invitation for the family" not in page


# --- `flask translate update|compile` for the letters domain ------------------


def test_translate_update_and_compile_handle_the_letters(tmp_path, monkeypatch):
    """update_letters() merges the template into every letters catalog (creating a new
    language's), keeps the translations and review notes; compile writes both domains."""
    import shutil

    copy = tmp_path / "translations"
    shutil.copytree(translations.TRANSLATIONS, copy)
    monkeypatch.setattr(translations, "TRANSLATIONS", copy)
    monkeypatch.setattr(translations, "LETTERS_TEMPLATE", copy / "letters.pot")
    monkeypatch.setattr(translations, "LETTER_LOCALES", (*translations.LETTER_LOCALES, "de"))
    messages_before = (copy / "it" / "LC_MESSAGES" / "messages.po").read_bytes()
    arabic_before = read_po("ar")

    translations.update_letters()
    assert (copy / "letters.pot").exists()
    arabic = read_po("ar")
    assert {m.id: m.string for m in arabic if m.id} == {
        m.id: m.string for m in arabic_before if m.id}
    assert arabic.header_comment == arabic_before.header_comment
    english = read_po("en")
    assert all(m.string == m.id for m in english if m.id)
    german = read_po("de")  # a new language: every entry waits for its translator
    assert german.fuzzy is False
    assert [m.id for m in german if m.id and m.string] == []
    assert (copy / "it" / "LC_MESSAGES" / "messages.po").read_bytes() == messages_before

    (copy / "ar" / "LC_MESSAGES" / "letters.mo").unlink()
    (copy / "it" / "LC_MESSAGES" / "messages.mo").unlink()
    translations.compile_catalogs()
    assert {m.id: m.string for m in read_mo("ar") if m.id} == {
        m.id: m.string for m in arabic if m.id}
    assert (copy / "it" / "LC_MESSAGES" / "messages.mo").exists()
