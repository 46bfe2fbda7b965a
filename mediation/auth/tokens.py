"""Signed, expiring, single-use links for password resets and invitations.

A token carries a fingerprint of the account's password hash and session
version: once the link has been used to set a password, the fingerprint changes
and the same link (or any older one) stops working. No table is needed.
"""

import hashlib

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..extensions import db
from ..models import User

RESET = "password-reset"
INVITATION = "invitation"


class InvalidToken(Exception):
    """The link is tampered with, already used, or for an unknown account."""


class ExpiredToken(InvalidToken):
    """The link was genuine but is too old."""


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=purpose)


def _fingerprint(user: User) -> str:
    material = f"{user.id}:{user.email}:{user.password_hash or ''}:{user.session_version}"
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def _max_age(purpose: str) -> int:
    key = "PASSWORD_RESET_MAX_AGE" if purpose == RESET else "INVITATION_MAX_AGE"
    return int(current_app.config[key])


def make_token(user: User, purpose: str) -> str:
    return _serializer(purpose).dumps({"uid": user.id, "fp": _fingerprint(user)})


def load_token(token: str, purpose: str) -> User:
    """Return the user a token is for.

    :raise ExpiredToken: the link is older than its lifetime.
    :raise InvalidToken: the link is tampered with, used, or its account is gone.
    """
    try:
        payload = _serializer(purpose).loads(token, max_age=_max_age(purpose))
    except SignatureExpired as exc:
        raise ExpiredToken() from exc
    except BadSignature as exc:
        raise InvalidToken() from exc
    user = db.session.get(User, payload.get("uid")) if isinstance(payload, dict) else None
    if user is None or not user.active or payload.get("fp") != _fingerprint(user):
        raise InvalidToken()
    return user
