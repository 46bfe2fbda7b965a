"""Locale and time-zone selection, and localised formatting helpers."""

from flask import current_app, has_request_context, request, session
from flask_login import current_user


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
