"""The password policy, applied wherever a password is set.

A password must have at least ``PASSWORD_MIN_LENGTH`` characters (12), must not be
one of the 20,000 most common passwords, and must not contain the account's email
or name.

``common-passwords.txt.gz`` is the list Django ships in
``django/contrib/auth/common-passwords.txt.gz`` (taken from the Django 5.2.19 wheel on
PyPI; BSD-3-Clause, Copyright (c) Django Software Foundation and individual
contributors): 20,000 passwords most seen in public breaches, compiled by Royce
Williams, lowercased and deduplicated (19,640 lines).
"""

import gzip
import re
from functools import cache
from pathlib import Path

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

COMMON_PASSWORDS = Path(__file__).with_name("common-passwords.txt.gz")
DEFAULT_MIN_LENGTH = 12
MAX_LENGTH = 200


@cache
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def min_length() -> int:
    if has_app_context():
        return int(current_app.config.get("PASSWORD_MIN_LENGTH", DEFAULT_MIN_LENGTH))
    return DEFAULT_MIN_LENGTH


def _squash(text: str) -> str:
    """Lowercase, without spaces and punctuation: "Maria.Rossi" and "maria rossi" match."""
    return re.sub(r"[\W_]+", "", text.casefold())


def password_problem(password: str, email: str | None = None, name: str | None = None):
    """The reason ``password`` is refused (a translatable message), or None if it is fine."""
    if len(password) < min_length():
        return _l("Use at least %(count)d characters.", count=min_length())
    if len(password) > MAX_LENGTH:
        return _l("Use at most %(count)d characters.", count=MAX_LENGTH)
    lowered = password.strip().casefold()
    if (lowered in common_passwords() or _squash(password) in common_passwords()
            or len(set(lowered)) < 4):
        return _l("This password is too common or too easy to guess: choose another one.")
    squashed = _squash(password)
    personal = []
    if email:
        local, _, domain = email.casefold().partition("@")
        personal += [email, local, *re.split(r"[._+-]+", local)]
    if name:
        personal += [name, *name.split()]
    for part in map(_squash, personal):
        if len(part) >= 4 and part in squashed:
            return _l("The password must not contain your email or your name.")
    return None
