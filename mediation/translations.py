"""Message catalogs: extraction, update and compilation (``flask translate ...``).

Source strings are English, so the ``en`` catalog is filled with the source
strings by :func:`update`; the ``it`` catalog is translated by people.
"""

from pathlib import Path

from babel.messages import frontend, pofile

from . import PROJECT_ROOT

TRANSLATIONS = PROJECT_ROOT / "translations"
TEMPLATE = TRANSLATIONS / "messages.pot"
LOCALES = ("it", "en")
KEYWORDS = ["_l", "lazy_gettext", "lazy_pgettext:1c,2", "lazy_ngettext:1,2"]


def _babel(*args: str) -> None:
    frontend.CommandLineInterface().run(["pybabel", "-q", *args])


def extract(output: Path = TEMPLATE) -> Path:
    """Collect every translatable string of the code and the templates."""
    args = ["extract", "-F", str(PROJECT_ROOT / "babel.cfg"), "-o", str(output)]
    for keyword in KEYWORDS:
        args += ["-k", keyword]
    args += ["--no-location", "--sort-output", "--omit-header", str(PROJECT_ROOT)]
    _babel(*args)
    return output


def po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


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


def _tidy(locale: str, fill_from_source: bool) -> None:
    """Clear the header's fuzzy flag (compile skips fuzzy catalogs); fill ``en``."""
    path = po_path(locale)
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
    """Compile every catalog to the ``.mo`` files the application reads."""
    _babel("compile", "-d", str(TRANSLATIONS), "--statistics")
