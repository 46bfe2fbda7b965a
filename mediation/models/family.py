"""The family's answer to an invitation letter (issue #19, "Fewer empty chairs").

One row per meeting (an accepted assignment with a time) whose letter was printed: the
letter carries a link holding a token; the row keeps only the token's SHA-256 (the token
itself is derived from the application's secret and the row's nonce, so that the letter
can be printed again with the same link), the family's latest answer and when it came.
No address or device data: who answered is "the family", the audit trail keeps each answer.
"""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .privacy import NOT_PERSONAL
from .types import UTCDateTime, enum_column, utcnow


class FamilyAnswer(enum.StrEnum):
    """What the family answers: "we will come", "we cannot come", "we need another day"."""

    coming = "coming"
    not_coming = "not_coming"
    another_day = "another_day"


#: The answers that ask the school and the coordinator to move or cancel the meeting.
NEEDS_ACTION = frozenset({FamilyAnswer.not_coming, FamilyAnswer.another_day})


class FamilyInvitation(db.Model):
    __tablename__ = "family_invitations"

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    assignment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assignments.id"), unique=True, info=NOT_PERSONAL)
    request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("mediation_requests.id"), index=True, info=NOT_PERSONAL)
    # Random, never shown: with the application's secret it derives the token.
    nonce: Mapped[str] = mapped_column(sa.String(32), info=NOT_PERSONAL)
    # SHA-256 (hex) of the token in the letter's link: the only way in.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True, info=NOT_PERSONAL)
    answer: Mapped[FamilyAnswer | None] = mapped_column(
        enum_column(FamilyAnswer, "family_answer"), info=NOT_PERSONAL)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, info=NOT_PERSONAL)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow,
                                                 info=NOT_PERSONAL)

    assignment: Mapped["Assignment"] = relationship()  # noqa: F821
    request: Mapped["MediationRequest"] = relationship()  # noqa: F821
