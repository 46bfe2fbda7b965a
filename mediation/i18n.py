"""Locale and time-zone selection, and localised formatting helpers."""

import functools
import re
from datetime import date, datetime, time, tzinfo
from decimal import Decimal

from babel import Locale, dates
from babel.numbers import (
    NumberPattern,
    get_currency_precision,
    get_currency_symbol,
    parse_pattern,
)
from flask import current_app, has_request_context, request, session
from flask_babel import get_locale, get_timezone, to_user_timezone
from flask_login import current_user
from jinja2 import pass_context


def available_locales() -> tuple[str, ...]:
    return tuple(current_app.config["LANGUAGES"])


def select_locale() -> str:
    """The user's preference, else the one chosen on the page, else the browser's."""
    locales = available_locales()
    if not has_request_context():  # commands: the default, unless force_locale() says
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in locales:
        return current_user.locale
    if session.get("locale") in locales:
        return session["locale"]
    return request.accept_languages.best_match(locales) or current_app.config[
        "BABEL_DEFAULT_LOCALE"
    ]


def select_timezone() -> str:
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


# --- dates and times ---------------------------------------------------------
# Every date and time a person reads is written by the functions below (the templates'
# filters in mediation/templating.py call them; tests/core/test_dates.py checks that no module
# formats dates with flask_babel or Babel directly). Babel's "en" is American English:
# "1/7/27", "Jan 7, 2027", "2:00 PM". People working in Italy read the day before the
# month and a 24-hour clock, so English pages, emails and calendars use the CLDR data of
# British English: "07/01/2027", "7 Jan 2027", "14:00". Italian is Italian.

#: The CLDR locale whose date and time patterns each interface language uses.
DATE_LOCALES = {"en": "en_GB"}


def date_locale(locale: Locale | str | None = None) -> Locale:
    """The locale that writes dates and times for ``locale`` (default: the current one,
    forced ones included, as emails are rendered)."""
    if locale is None:
        locale = get_locale()
        if locale is None:
            locale = current_app.config["BABEL_DEFAULT_LOCALE"]
    return _date_locale(str(locale))


@functools.cache
def _date_locale(name: str) -> Locale:
    return Locale.parse(DATE_LOCALES.get(name, name))


def format_date(value: date | datetime | None = None, fmt: str = "medium", *,
                locale: Locale | str | None = None, rebase: bool = True) -> str:
    """The day of ``value`` (a datetime is first moved to Europe/Rome): ``fmt`` is short,
    medium, long, full or a CLDR pattern ("EEE d MMM")."""
    if value is None:
        value = datetime.now(get_timezone())
    elif rebase and isinstance(value, datetime):
        value = to_user_timezone(value)
    return dates.format_date(value, fmt, locale=date_locale(locale))


def format_datetime(value: datetime | None = None, fmt: str = "medium", *,
                    locale: Locale | str | None = None, tzinfo: tzinfo | None = None) -> str:
    """Day and time of ``value`` in Europe/Rome (naive values are UTC)."""
    return dates.format_datetime(value, fmt, tzinfo=tzinfo or get_timezone(),
                                 locale=date_locale(locale))


def format_time(value: time | datetime | None = None, fmt: str = "short", *,
                locale: Locale | str | None = None, tzinfo: tzinfo | None = None,
                rebase: bool = True) -> str:
    """The time of ``value``, on a 24-hour clock in both languages. A datetime is moved to
    Europe/Rome (naive ones are UTC); ``rebase=False`` writes a wall-clock ``time`` (an
    availability range) as it is."""
    if not rebase:
        return dates.format_time(value, fmt, locale=date_locale(locale))
    return dates.format_time(value, fmt, tzinfo=tzinfo or get_timezone(),
                             locale=date_locale(locale))


# --- numbers ------------------------------------------------------------------
# Babel's formatters parse the locale, look each symbol up and run a general pattern
# engine on every call (~30-50 µs); the dashboard formats about 150 numbers a page.
# ``NumberFormat`` does the same work for the patterns the pages use (grouping by three,
# no exponent nor significant digits) with the pattern and symbols read once per locale,
# and hands anything else to Babel. tests/core/test_i18n.py checks it against Babel.

_QUANTA = [Decimal(1).scaleb(-places) for places in range(16)]
_formats: dict[tuple, "NumberFormat"] = {}


class NumberFormat:
    """One Babel number pattern in one locale, applied as ``NumberPattern.apply`` does."""

    def __init__(self, locale: Locale, pattern: NumberPattern, currency: str | None = None):
        self.locale = locale
        self.pattern = pattern
        self.currency = currency
        symbols = locale.number_symbols["latn"]
        self.frac_prec = ((get_currency_precision(currency),) * 2 if currency
                          else pattern.frac_prec)
        self.fast = (not pattern.exp_prec and "@" not in pattern.pattern
                     and pattern.grouping == (3, 3) and pattern.int_prec[0] <= 1
                     and self.frac_prec[1] < len(_QUANTA) and "¤¤¤" not in pattern.pattern
                     # Babel drops quotes from its result, the group symbol's included
                     and "'" not in symbols["group"] + symbols["decimal"])
        self.decimal = symbols["decimal"]
        self.group = symbols["group"]

        def affix(text: str) -> str:
            if currency:
                text = text.replace("¤¤", currency.upper())
                text = text.replace("¤", get_currency_symbol(currency, locale))
            return re.sub(r"'([^']*)'", lambda m: m.group(1) or "'", text)

        self.prefix = tuple(affix(text) for text in pattern.prefix)
        self.suffix = tuple(affix(text) for text in pattern.suffix)

    def __call__(self, number) -> str:
        if not self.fast:
            return self.pattern.apply(number, self.locale, currency=self.currency)
        value = number if isinstance(number, Decimal) else Decimal(str(number))
        if self.pattern.scale:
            value = value.scaleb(self.pattern.scale)
        negative = int(value.is_signed())
        value = abs(value).normalize()
        if value.is_infinite() or value.is_nan():
            return self.pattern.apply(number, self.locale, currency=self.currency)
        low, high = self.frac_prec
        whole, _, fraction = f"{value.quantize(_QUANTA[high]):,f}".partition(".")
        if "," in whole:
            whole = whole.replace(",", self.group)
        fraction = fraction.ljust(low, "0")
        if high == 0 or (low == 0 and not fraction.strip("0")):
            fraction = ""
        else:
            fraction = self.decimal + fraction[:low] + fraction[low:].rstrip("0")
        return self.prefix[negative] + whole + fraction + self.suffix[negative]


def number_format(locale: Locale, pattern: str | None = None, *,
                  currency: str | None = None) -> NumberFormat:
    """The cached :class:`NumberFormat` of ``pattern`` (default: the locale's decimal
    pattern; with ``currency``, its standard currency pattern) in ``locale``."""
    key = (locale, pattern, currency)
    found = _formats.get(key)
    if found is None:
        if pattern is not None:
            parsed = parse_pattern(pattern)
        elif currency is not None:
            parsed = locale.currency_formats["standard"]
        else:
            parsed = locale.decimal_formats[None]
        found = _formats[key] = NumberFormat(locale, parsed, currency)
    return found


def _template_locale(context) -> Locale:
    """The locale of the template being rendered (``current_locale``, set by the context
    processor in the locale of the render, emails included), else the request's."""
    name = context.get("current_locale")
    return _locale_named(name) if name else get_locale()


@functools.cache
def _locale_named(name: str) -> Locale:
    return Locale.parse(name)


def format_number(number, locale: Locale | None = None) -> str:
    """``number`` as ``flask_babel.format_decimal`` writes it (the locale's pattern)."""
    return number_format(locale or get_locale())(number)


def format_percent(number, pattern: str | None = None, locale: Locale | None = None) -> str:
    """``number`` (0.5 is 50 %) as ``flask_babel.format_percent`` writes it."""
    locale = locale or get_locale()
    return number_format(locale, pattern or locale.percent_formats[None].pattern)(number)


def format_currency(number, currency: str, locale: Locale | None = None) -> str:
    """``number`` as ``flask_babel.format_currency(number, currency)`` writes it."""
    return number_format(locale or get_locale(), currency=currency)(number)


@pass_context
def number_filter(context, number) -> str:
    """The ``format_number`` filter of the templates."""
    return number_format(_template_locale(context))(number)


@pass_context
def currency_filter(context, number, currency: str) -> str:
    """The ``format_currency`` filter of the templates."""
    return number_format(_template_locale(context), currency=currency)(number)
