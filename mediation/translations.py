"""Message catalogs: extraction, update and compilation (``flask translate ...``).

Source strings are English, so the ``en`` catalog is filled with the source
strings by :func:`update`; the ``it`` catalog is translated by people.

Two domains: ``messages`` (the interface, in :data:`LOCALES`) and ``letters``
(the invitation letter printed for families, extracted only from the letter
template with the ``L_`` keyword, in :data:`LETTER_LOCALES`: Italian, the
reference text, and every written language of the families).
"""

from pathlib import Path

from babel.messages import frontend, pofile

from . import PROJECT_ROOT

TRANSLATIONS = PROJECT_ROOT / "translations"
TEMPLATE = TRANSLATIONS / "messages.pot"
LOCALES = ("it", "en")
KEYWORDS = ["_l", "lazy_gettext", "lazy_pgettext:1c,2", "lazy_ngettext:1,2"]

LETTERS = "letters"
LETTERS_TEMPLATE = TRANSLATIONS / "letters.pot"
LETTERS_MAPPING = TRANSLATIONS / "letters.cfg"
#: The keyword marking the letter's strings in its template (no default keywords).
LETTERS_KEYWORD = "L_"
#: Italian first (the reference text), then the written languages of the families.
LETTER_LOCALES = (
    "it", "ar", "sq", "ro", "zh", "ur", "pa", "hi", "bn", "si", "ta", "uk", "ru", "es", "pt",
    "fr", "en", "ti", "am", "so", "ps", "fa", "tl", "ml", "tr", "ku",
)


def _babel(*args: str) -> None:
    frontend.CommandLineInterface().run(["pybabel", "-q", *args])


def extract(output: Path = TEMPLATE) -> Path:
    """Collect every translatable string of the code and the templates.

    Writing the project's own template also rewrites the letters' one.
    """
    args = ["extract", "-F", str(PROJECT_ROOT / "babel.cfg"), "-o", str(output)]
    for keyword in KEYWORDS:
        args += ["-k", keyword]
    args += ["--no-location", "--sort-output", "--omit-header", str(PROJECT_ROOT)]
    _babel(*args)
    if output == TEMPLATE:
        extract_letters()
    return output


def extract_letters(output: Path | None = None) -> Path:
    """Collect the strings of the letter template(s): ``L_("...")`` only."""
    output = output or LETTERS_TEMPLATE
    _babel(
        "extract", "-F", str(LETTERS_MAPPING), "-o", str(output), "--no-default-keywords",
        "-k", LETTERS_KEYWORD, "--no-location", "--sort-output", "--omit-header",
        str(PROJECT_ROOT),
    )
    return output


def po_path(locale: str, domain: str = "messages") -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / f"{domain}.po"


def update() -> None:
    """Merge the template into each catalog (creating it if needed); fill ``en``."""
    extract()
    for locale in LOCALES:
        if po_path(locale).exists():
            _babel(
                "update", "-i", str(TEMPLATE), "-d", str(TRANSLATIONS), "-l", locale,
                "--no-fuzzy-matching",
            )
        else:
            _babel("init", "-i", str(TEMPLATE), "-d", str(TRANSLATIONS), "-l", locale)
        _tidy(locale, fill_from_source=locale == "en")
    update_letters(extracted=True)


def update_letters(extracted: bool = False) -> None:
    """Merge the letters' template into each letters catalog (creating missing ones)."""
    if not extracted:
        extract_letters()
    for locale in LETTER_LOCALES:
        common = ["-i", str(LETTERS_TEMPLATE), "-d", str(TRANSLATIONS), "-l", locale,
                  "-D", LETTERS]
        if po_path(locale, LETTERS).exists():
            _babel("update", *common, "--no-fuzzy-matching")
        else:
            _babel("init", *common)
        _tidy(locale, fill_from_source=locale == "en", domain=LETTERS)


def _tidy(locale: str, fill_from_source: bool, domain: str = "messages") -> None:
    """Clear the header's fuzzy flag (compile skips fuzzy catalogs); fill ``en``."""
    path = po_path(locale, domain)
    with path.open("rb") as f:
        catalog = pofile.read_po(f, locale=locale)
    catalog.fuzzy = False
    catalog.project, catalog.version = "mediation", "1"
    catalog.msgid_bugs_address = ""
    catalog.copyright_holder = ""
    for message in catalog:
        if not message.id or not fill_from_source:
            continue
        message.string = tuple(message.id) if isinstance(message.id, tuple) else message.id
        message.flags.discard("fuzzy")
    with path.open("wb") as f:
        pofile.write_po(f, catalog, sort_output=True, no_location=True)


def compile_catalogs() -> None:
    """Compile every catalog (both domains) to the ``.mo`` files the application reads."""
    _babel("compile", "-d", str(TRANSLATIONS), "--statistics")
    _babel("compile", "-d", str(TRANSLATIONS), "-D", LETTERS, "--statistics")
