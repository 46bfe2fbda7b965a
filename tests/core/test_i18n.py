"""Catalogs are complete and current, and both languages really appear."""

from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages import mofile, pofile

from mediation import translations

from tests.conftest import login


def read_po(locale):
    with translations.po_path(locale).open("rb") as f:
        return pofile.read_po(f, locale=locale)


def message_keys(catalog):
    return {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in catalog if m.id}


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> set:
    pot = translations.extract(tmp_path_factory.mktemp("i18n") / "messages.pot")
    with pot.open("rb") as f:
        return message_keys(pofile.read_po(f))


@pytest.mark.parametrize("locale", translations.LOCALES)
def test_catalog_is_not_stale(extracted, locale):
    """Every string of the code is in the catalog, and nothing obsolete is left."""
    catalog = message_keys(read_po(locale))
    missing = extracted - catalog
    obsolete = catalog - extracted
    assert not missing, f"run `flask translate update`: {sorted(missing, key=str)[:10]}"
    assert not obsolete, f"run `flask translate update`: {sorted(obsolete, key=str)[:10]}"


@pytest.mark.parametrize("locale", translations.LOCALES)
def test_catalog_is_fully_translated(locale):
    """No entry is untranslated or fuzzy."""
    catalog = read_po(locale)
    untranslated = [m.id for m in catalog if m.id and not all(
        m.string if isinstance(m.string, tuple) else [m.string])]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not untranslated, f"untranslated in {locale}: {untranslated[:10]}"
    assert not fuzzy, f"fuzzy in {locale}: {fuzzy[:10]}"


@pytest.mark.parametrize("locale", translations.LOCALES)
def test_compiled_catalog_matches(locale):
    """The committed .mo says what the .po says (run `flask translate compile`)."""
    mo_path = Path(translations.po_path(locale)).with_suffix(".mo")
    def entries(catalog):
        def norm(value):
            return tuple(value) if isinstance(value, list | tuple) else value

        def text(value):  # read_mo gives the context as bytes
            return value.decode() if isinstance(value, bytes) else value

        return {(text(m.context), norm(m.id)): norm(m.string) for m in catalog if m.id}

    with mo_path.open("rb") as f:
        compiled = entries(mofile.read_mo(f))
    assert compiled == entries(read_po(locale))


def test_italian_is_the_default(client):
    """Without any preference the interface is Italian."""
    response = client.get("/login")
    assert '<html lang="it"' in response.text
    assert "Accedi" in response.text


def test_browser_language_is_used(client):
    """An English browser gets English pages."""
    response = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert '<html lang="en"' in response.text
    assert "Log in" in response.text
    assert "Accedi" not in response.text


def test_switcher_changes_the_language(client):
    """The switcher in the header changes the language for the rest of the visit."""
    response = client.post("/locale", data={"locale": "en", "next": "/login"})
    assert response.headers["Location"] == "/login"
    assert "Forgot your password?" in client.get("/login").text
    client.post("/locale", data={"locale": "it", "next": "/login"})
    assert "Password dimenticata?" in client.get("/login").text


def test_switcher_is_saved_on_the_account(client, factory):
    """A logged-in user's choice is remembered on their account, for pages and emails."""
    from mediation.models import Role

    user = factory.user(Role.teacher)
    login(client, user)
    client.post("/locale", data={"locale": "en", "next": "/"})
    assert user.locale == "en"
    assert "Latest requests" in client.get("/", headers={"Accept-Language": "it"}).text


def test_dates_are_localised(app):
    """Dates are written the Italian or the English way, in Europe/Rome time."""
    from datetime import UTC, datetime

    from flask_babel import force_locale

    from mediation.templating import localised_datetime

    moment = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)  # 9:30 in Rome
    with app.test_request_context(), force_locale("it"):
        assert localised_datetime(moment, "long").startswith("2 marzo 2026")
        assert "09:30" in localised_datetime(moment, "short")
    with app.test_request_context(), force_locale("en"):  # day first, as in Italy
        assert localised_datetime(moment, "long").startswith("2 March 2026")
        assert localised_datetime(moment, "short") == "02/03/2026, 09:30"


NUMBERS = [
    0, 1, -1, 7, 999, 1000, -1000, 1234567, -1234567, 10**12,
    0.5, -0.5, 2.675, 1e-7, 1234.5678, -98765.4321,
    Decimal("0"), Decimal("-0"), Decimal("0.00"), Decimal("1234.5"), Decimal("-1234.56"),
    Decimal("0.0004"), Decimal("-0.0004"), Decimal("0.0005"), Decimal("0.0015"),
    Decimal("0.0025"), Decimal("2.0035"), Decimal("99.9995"), Decimal("999999.9995"),
    Decimal("0.12345"), Decimal("0.00049"), Decimal("0.995"), Decimal("-0.995"),
    Decimal("0.1234"), Decimal("1E+3"), Decimal("123456789.123456"), Decimal("5E-10"),
]


@pytest.mark.parametrize("locale", ["it", "en"])
@pytest.mark.parametrize("number", NUMBERS, ids=repr)
def test_numbers_are_written_as_babel_writes_them(locale, number):
    """The fast number, percent and euro formats give Babel's text, digit for digit
    (grouping, decimal symbol, sign, rounding half to even)."""
    from babel import Locale
    from babel import numbers as babel_numbers

    from mediation.i18n import format_currency, format_number, format_percent

    language = Locale.parse(locale)
    assert format_number(number, language) == babel_numbers.format_decimal(
        number, locale=language)
    assert format_percent(number, "#,##0.0%", language) == babel_numbers.format_percent(
        number, "#,##0.0%", locale=language)
    assert format_percent(number, locale=language) == babel_numbers.format_percent(
        number, locale=language)
    assert format_currency(number, "EUR", language) == babel_numbers.format_currency(
        number, "EUR", locale=language)


def test_numbers_fall_back_to_babel(app):
    """A pattern the fast path does not handle (here Indian grouping, an exponent, the
    Swiss apostrophe that Babel strips) is still written by Babel."""
    from babel import Locale
    from babel import numbers as babel_numbers

    from mediation.i18n import number_format

    for locale, pattern, number in [("en_IN", None, 12345678), ("it", "0.###E0", 12345),
                                    ("de_CH", None, -1234567.891)]:
        language = Locale.parse(locale)
        written = number_format(language, pattern)
        assert not written.fast
        assert written(number) == babel_numbers.format_decimal(number, pattern, locale=language)


def test_number_filters_follow_the_locale_of_the_render(app):
    """The templates' filters write numbers in the page's language, and in the
    recipient's under force_locale (emails)."""
    from flask import render_template_string
    from flask_babel import force_locale

    template = "{{ 1234567.891|format_number }} {{ -1234.5|format_currency('EUR') }}"
    with app.test_request_context(), force_locale("it"):
        assert render_template_string(template) == "1.234.567,891 -1.234,50\xa0€"
        with force_locale("en"):
            assert render_template_string(template) == "1,234,567.891 -€1,234.50"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert render_template_string(template) == "1,234,567.891 -€1,234.50"
    # Outside a template's context (a macro imported without it), the request's locale.
    with app.test_request_context(), force_locale("it"):
        assert app.jinja_env.from_string("{{ 0.5|format_number }}").render() == "0,5"


def test_template_strings_follow_the_locale_of_the_render(app):
    """The templates' gettext functions translate into the render's language, also when
    an email is rendered in another language in the middle of a request."""
    from flask import render_template_string
    from flask_babel import force_locale

    template = ("{{ _('Log in') }}|{{ pgettext('request state', 'Cancelled') }}|"
                "{{ ngettext('%(num)d request', '%(num)d requests', 2) }}")
    with app.test_request_context(), force_locale("it"):
        assert render_template_string(template) == "Accedi|Annullata|2 richieste"
        with force_locale("en"):
            assert render_template_string(template) == "Log in|Cancelled|2 requests"
        assert render_template_string(template) == "Accedi|Annullata|2 richieste"
        # Without the render's locale in the context: flask_babel's.
        assert app.jinja_env.from_string("{{ _('Log in') }}").render() == "Accedi"
