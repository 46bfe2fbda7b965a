"""The family's link: issuing it with the letter, finding it, recording the answer.

The token in the letter's link is ``HMAC-SHA256(SECRET_KEY, "family-answer:" + nonce)``
(base64url, 132 bits); the database keeps the nonce and the token's SHA-256 only, so that
a copy of the database opens no link, and the letter printed again carries the same link.
"""

import base64
import hashlib
import hmac
import re
import secrets
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from ..audit import record
from ..bookings import notifications, policy
from ..errors import NotAllowed
from ..extensions import db
from ..models import (
    NEEDS_ACTION,
    Assignment,
    AssignmentState,
    FamilyAnswer,
    FamilyInvitation,
    MediationRequest,
)

#: The shape of a token: anything else is not looked up.
TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")


class LinkClosed(NotAllowed):
    """The link is unknown, or its meeting is over, moved or cancelled: a 404 like any
    unknown page, that tells nothing of which."""


def _token(nonce: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(secret, f"family-answer:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:22]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(assignment: Assignment) -> tuple[FamilyInvitation, str]:
    """The invitation of ``assignment``'s meeting and its token, created the first time
    its letter is printed."""
    invitation = db.session.scalar(
        sa.select(FamilyInvitation).where(FamilyInvitation.assignment_id == assignment.id))
    if invitation is None:
        nonce = secrets.token_hex(16)
        invitation = FamilyInvitation(assignment=assignment, request=assignment.request,
                                      nonce=nonce, token_hash=_hash(_token(nonce)))
        db.session.add(invitation)
        db.session.flush()
    return invitation, _token(invitation.nonce)


def find(token: str, now: datetime) -> FamilyInvitation:
    """The invitation whose link holds ``token``, if it answers now; else LinkClosed."""
    if not TOKEN.fullmatch(token or ""):
        raise LinkClosed()
    invitation = db.session.scalar(
        sa.select(FamilyInvitation).where(FamilyInvitation.token_hash == _hash(token)))
    if invitation is None or not policy.family_answer_open(invitation, now):
        raise LinkClosed()
    return invitation


def answer(token: str, value: FamilyAnswer, now: datetime) -> FamilyInvitation:
    """Record the family's answer (the latest wins, with its time). "We cannot come" and
    "we need another day" tell the requester and the Ambito's coordinators at once, when
    the answer changes to one of them."""
    invitation = find(token, now)
    # The row locked: two answers at once are recorded one after the other.
    db.session.execute(sa.select(FamilyInvitation.id).where(
        FamilyInvitation.id == invitation.id).with_for_update())
    previous = invitation.answer
    invitation.answer = value
    invitation.answered_at = now
    record("family.answered", invitation.request, None, answer=value.value,
           assignment_id=invitation.assignment_id)
    if value in NEEDS_ACTION and value != previous:
        notifications.family_answered(invitation)
    return invitation


def latest_answers(request_ids) -> dict[int, FamilyInvitation]:
    """{request id: its current meeting's invitation} for the requests given, in one
    query: the invitation of each request's accepted assignment."""
    ids = list(request_ids)
    if not ids:
        return {}
    rows = db.session.scalars(
        sa.select(FamilyInvitation)
        .join(Assignment, Assignment.id == FamilyInvitation.assignment_id)
        .join(MediationRequest, MediationRequest.id == FamilyInvitation.request_id)
        .where(FamilyInvitation.request_id.in_(ids),
               Assignment.state == AssignmentState.accepted)
    )
    return {row.request_id: row for row in rows}
