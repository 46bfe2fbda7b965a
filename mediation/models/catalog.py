"""Reference data: languages and request types."""

import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .privacy import NOT_PERSONAL
from .types import enum_column


class Language(db.Model):
    """A language or a variety of one (``parent``), by BCP-47 code."""

    __tablename__ = "languages"

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True, info=NOT_PERSONAL)
    name_it: Mapped[str] = mapped_column(sa.String(80), info=NOT_PERSONAL)
    name_en: Mapped[str] = mapped_column(sa.String(80), info=NOT_PERSONAL)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("languages.id"), info=NOT_PERSONAL)

    parent: Mapped["Language | None"] = relationship(remote_side=[id])

    def name(self, locale: str) -> str:
        return self.name_it if locale == "it" else self.name_en


def with_varieties(language_id) -> sa.Select:
    """The ids of a language and of its varieties (``SELECT id``): a filter by "Chinese"
    includes Mandarin and Wenzhounese. Varieties have no varieties of their own."""
    return sa.select(Language.id).where(
        sa.or_(Language.id == language_id, Language.parent_id == language_id))


class RequestKind(enum.StrEnum):
    """Whether a request is a meeting at a time, or work due by a deadline."""

    slot = "slot"
    deadline = "deadline"


class RequestType(db.Model):
    """What a school can ask for, and which macro-action it counts against by default."""

    __tablename__ = "request_types"

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True, info=NOT_PERSONAL)
    name_it: Mapped[str] = mapped_column(sa.String(120), info=NOT_PERSONAL)
    name_en: Mapped[str] = mapped_column(sa.String(120), info=NOT_PERSONAL)
    kind: Mapped[RequestKind] = mapped_column(
        enum_column(RequestKind, "request_kind"), info=NOT_PERSONAL,
    )
    concerns_pupil: Mapped[bool] = mapped_column(default=False, info=NOT_PERSONAL)
    default_duration_minutes: Mapped[int | None] = mapped_column(info=NOT_PERSONAL)
    # Macro-actions belong to a project; the default is resolved by number and
    # action code against the project running on the request's date.
    default_macro_action_number: Mapped[int] = mapped_column(default=1, info=NOT_PERSONAL)
    default_action_code: Mapped[str | None] = mapped_column(sa.String(20), info=NOT_PERSONAL)
    position: Mapped[int] = mapped_column(default=0, info=NOT_PERSONAL)
    active: Mapped[bool] = mapped_column(default=True, info=NOT_PERSONAL)

    def name(self, locale: str) -> str:
        return self.name_it if locale == "it" else self.name_en
