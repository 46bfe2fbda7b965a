"""The invitation letter for the family: Italian beside the family's written language.

The letter's text is its own Babel domain, ``letters`` (translations/<lang>/LC_MESSAGES/
letters.po), so the interface's catalogs stay as they are. Each half of the letter is
rendered with the catalog and the CLDR data of its language, whatever the teacher's
interface language is. The letter never shows the pupil's code nor the request's notes.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.support import Translations
from flask import abort

from ..clock import ROME
from ..core.operations import may_edit_contact
from ..i18n import format_date, format_time
from ..models import (
    Assignment,
    AssignmentState,
    Language,
    MediationRequest,
    RequestKind,
    Role,
    User,
)
from ..translations import LETTER_LOCALES, LETTERS, TRANSLATIONS

#: The written language a family reads, for the languages it speaks but that a school
#: seldom writes in: varieties go to their written form, languages mostly oral for school
#: letters to the family's second language (see ``demo.FAMILY_PROFILES``). A variety not
#: listed here goes to its parent language (``Language.parent``).
WRITTEN_LANGUAGE = {
    "ary": "ar", "arz": "ar",  # Moroccan, Egyptian Arabic: written in Arabic
    "cmn": "zh", "wuu-x-wenzhou": "zh",  # Mandarin, Wenzhounese: simplified Chinese
    "prs": "fa",  # Dari: Persian
    "wo": "fr",  # Wolof (Senegal): French
    "tw": "en", "yo": "en", "ig": "en",  # Twi (Ghana), Yoruba, Igbo (Nigeria): English
}

#: The value of the ``lang`` attribute when it says more than the catalog's code.
LANG_TAGS = {"zh": "zh-Hans"}

#: Italian is the letter's reference text and its left half.
ITALIAN = "it"


def written_language(language: Language) -> str:
    """The code of the language in which a family speaking ``language`` reads a letter."""
    current = language
    for _ in range(5):  # a variety of a variety at most; never loop
        if current.code in WRITTEN_LANGUAGE:
            return WRITTEN_LANGUAGE[current.code]
        if current.parent is None:
            break
        current = current.parent
    return current.code


@cache
def _catalog(code: str) -> Translations | None:
    if code not in LETTER_LOCALES:
        return None
    translations = Translations.load(str(TRANSLATIONS), [code], domain=LETTERS)
    return translations if isinstance(translations, Translations) else None


def family_languages() -> list[str]:
    """The codes of the families' languages a letter can be printed in (not Italian)."""
    return [code for code in LETTER_LOCALES if code != ITALIAN and _catalog(code) is not None]


def _locale(code: str) -> Locale | None:
    try:
        return Locale.parse(code)
    except (UnknownLocaleError, ValueError):
        return None


def is_rtl(code: str) -> bool:
    locale = _locale(code)
    return locale is not None and locale.character_order == "right-to-left"


def language_name(language: Language, in_code: str) -> str:
    """The name of ``language`` (what the mediator speaks) written in language ``in_code``."""
    if in_code == ITALIAN:
        name = language.name_it
        return name[:1].lower() + name[1:]
    locale = _locale(in_code)
    if locale is not None:
        aliases = get_global("language_aliases")
        candidates = [language.code.replace("-", "_"), aliases.get(language.code),
                      language.code.split("-")[0]]
        if language.parent is not None:
            candidates.append(language.parent.code)
        for candidate in candidates:
            if candidate and locale.languages.get(candidate):
                return locale.languages[candidate]
    return language.name_en


def display_name(code: str, in_code: str) -> str:
    """A written language's name, for the teacher's interface (``in_code``)."""
    locale = _locale(in_code)
    if locale is not None:
        aliases = get_global("language_aliases")
        for candidate in (code, aliases.get(code)):
            if candidate and locale.languages.get(candidate):
                return locale.languages[candidate]
    return code


@dataclass
class Half:
    """One half of the letter, in one language: what its template needs."""

    code: str
    lang: str
    dir: str
    translations: Translations
    date: str
    start: str
    end: str
    language: str  # the language the mediator speaks, named in this half's language

    def text(self, message: str, **values) -> str:
        """``L_("...")`` in the letter template: the message in this half's language."""
        translated = self.translations.gettext(message)
        return translated % values if values else translated


#: The letter's times, in every language: the 24-hour clock of the Italian half and of
#: every clock in Italy (Tagalog or Bengali would otherwise write "4:30 PM" beside 16:30).
LETTER_TIME = "HH:mm"


def _when(moment: datetime, code: str) -> tuple[str, str]:
    """The date ("full", the way language ``code`` writes it) and the time (24-hour) in
    Rome; numbers only when Babel has no data for the language."""
    local = moment.astimezone(ROME)
    try:
        return (format_date(local.date(), "full", locale=code),
                format_time(local, LETTER_TIME, tzinfo=ROME, locale=code))
    except (UnknownLocaleError, ValueError, KeyError):
        return local.strftime("%d/%m/%Y"), local.strftime("%H:%M")


def half(code: str, req: MediationRequest, appointment: Assignment) -> Half:
    translations = _catalog(code)
    if translations is None:
        raise LookupError(f"no letters catalog for {code!r}")
    # mediation.i18n writes English as it is written in Europe (Wednesday, 2 December
    # 2026; 16:30), as everywhere in the service.
    day, start = _when(appointment.start_dt, code)
    _, end = _when(appointment.end_dt or appointment.start_dt, code)
    return Half(
        code=code,
        lang=LANG_TAGS.get(code, code),
        dir="rtl" if is_rtl(code) else "ltr",
        translations=translations,
        date=day,
        start=start,
        end=end,
        language=language_name(req.language, code),
    )


# --- who may print it, and when ----------------------------------------------


def confirmed_appointment(req: MediationRequest) -> Assignment | None:
    """The accepted assignment with a time: a letter needs a confirmed time."""
    if req.type.kind != RequestKind.slot:
        return None
    return next((a for a in req.assignments
                 if a.state == AssignmentState.accepted and a.start_dt is not None), None)


def may_print(req: MediationRequest, user: User) -> bool:
    """Whether ``user`` (who can already see ``req``) may print its letter, time apart.

    The school's teachers (a colleague often hands it over in class) and leads, the
    Ambito's coordinator, the admin; a mediator only while holding the accepted assignment.
    """
    if req.type.kind != RequestKind.slot:
        return False
    if user.role in (Role.teacher, Role.lead, Role.coordinator, Role.admin):
        return True
    if user.role == Role.mediator:
        appointment = confirmed_appointment(req)
        return appointment is not None and appointment.mediator.user_id == user.id
    return False


#: States in which a time may still be confirmed: the request page shows the link disabled.
_WAITING = {"awaiting_approval", "open", "offered"}


def link_state(req: MediationRequest, user: User) -> str:
    """For the request page: "ready", "waiting" (disabled, explained) or "" (no link)."""
    if not may_print(req, user):
        return ""
    if confirmed_appointment(req) is not None:
        return "ready"
    return "waiting" if req.state.value in _WAITING else ""


@dataclass
class Letter:
    """What the letter page shows."""

    req: MediationRequest
    appointment: Assignment | None
    italian: Half | None
    family: Half | None
    spoken: Language
    default_code: str  # the written language of the request's language
    chosen_code: str  # the one shown (default, or the teacher's choice); may have no catalog
    choices: list[str]
    may_edit_contact: bool = False  # the user may fill in the school's address and telephone
    answer_link: str = ""  # the family's link (mediation/family), printed and as a QR code
    answer_qr: str = ""  # the QR code of ``answer_link``: an inline SVG


def add_answer_link(letter: Letter, link: str) -> None:
    """Print the family's link on ``letter``, as text and as a QR code (segno: error
    correction M, a quiet zone of 4 modules, black on white as a phone camera reads it)."""
    import segno
    from markupsafe import Markup

    letter.answer_link = link
    letter.answer_qr = Markup(segno.make(link, error="m").svg_inline(
        scale=1, border=4, omitsize=True, svgclass="app-letter-qr-code", lineclass=None,
        dark="#000", light="#fff"))


def build(req: MediationRequest, user: User, requested: str | None) -> Letter:
    """The letter of ``req`` for ``user``, in ``requested`` (a code) or the family's
    written language; 404 if the user may not print it or it is not a meeting."""
    if not may_print(req, user):
        abort(404)
    appointment = confirmed_appointment(req)
    choices = family_languages()
    default = written_language(req.language)
    chosen = requested if requested in (*choices, ITALIAN) else default
    italian = family = None
    if appointment is not None:
        italian = half(ITALIAN, req, appointment)
        if chosen != ITALIAN and chosen in choices:
            family = half(chosen, req, appointment)
    return Letter(req=req, appointment=appointment, italian=italian, family=family,
                  spoken=req.language, default_code=default, chosen_code=chosen,
                  choices=choices, may_edit_contact=may_edit_contact(user, req.school))


def interface(letter: Letter, ui_locale: str) -> dict:
    """The page's own words around the letter, in the teacher's language ``ui_locale``."""
    names = {code: display_name(code, ui_locale) for code in letter.choices}
    options = {code: name[:1].upper() + name[1:] for code, name in names.items()}
    chosen = letter.chosen_code
    missing = letter.appointment is not None and letter.family is None and chosen != ITALIAN
    if missing:
        missing_name = display_name(chosen, ui_locale)
        if missing_name == chosen:  # no CLDR name for it: the app's own
            missing_name = letter.spoken.name(ui_locale)
    else:
        missing_name = ""
    # The family speaks a language seldom written (or a variety): say which one it got.
    written_instead = (letter.family is not None and chosen == letter.default_code
                       and letter.spoken.code != chosen)
    school = letter.req.school
    return {
        "contact_missing": not (school.address and school.telephone),
        "choices": sorted(options.items(), key=lambda item: item[1].casefold()),
        "missing_name": missing_name,
        "written_instead": written_instead,
        "written_name": names.get(chosen, chosen) if written_instead else "",
        "spoken_name": language_name(letter.spoken, ui_locale) if written_instead else "",
    }
