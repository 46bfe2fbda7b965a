"""Pseudonymous pupil cases: never a name, birth date, address or photo."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .geo import Cycle
from .privacy import ACCOUNT, NOT_PERSONAL, PUPIL, PUPIL_RESTRICTED, personal
from .types import UTCDateTime, enum_column, utcnow


class ItalianLevel(enum.StrEnum):
    a0 = "A0"
    a1 = "A1"
    a2 = "A2"
    b1 = "B1"
    b2 = "B2"


class PupilStatus(enum.StrEnum):
    """Where a pupil stands in a school year."""

    attending = "attending"
    moved_to_next_cycle = "moved_to_next_cycle"
    at_risk = "at_risk"
    left_school = "left_school"


pupil_case_languages = sa.Table(
    "pupil_case_languages",
    db.metadata,
    sa.Column(
        "pupil_case_id", sa.ForeignKey("pupil_cases.id"), primary_key=True, info=NOT_PERSONAL,
    ),
    sa.Column("language_id", sa.ForeignKey("languages.id"), primary_key=True, info=personal(PUPIL)),
)


class PupilCase(db.Model):
    """A pupil, known only by the code the school gave them."""

    __tablename__ = "pupil_cases"
    __table_args__ = (sa.UniqueConstraint("school_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    school_id: Mapped[int] = mapped_column(sa.ForeignKey("schools.id"), info=NOT_PERSONAL)
    code: Mapped[str] = mapped_column(sa.String(20), info=personal(PUPIL))
    class_name: Mapped[str] = mapped_column(sa.String(20), info=personal(PUPIL))
    # The pseudonymous code the school gives the pupil's family (never a name): siblings
    # share it, so that their parents count once among the beneficiaries. Per school, like
    # the pupil's code; None when the school gave none (the pupil case is then the family).
    family_code: Mapped[str | None] = mapped_column(sa.String(20), info=personal(PUPIL))
    cycle: Mapped[Cycle] = mapped_column(enum_column(Cycle, "cycle"), info=NOT_PERSONAL)
    arrival_year: Mapped[int | None] = mapped_column(info=personal(PUPIL))
    # Restricted: shown to leads and coordinators only.
    country_of_origin: Mapped[str | None] = mapped_column(
        sa.String(2), info=personal(PUPIL_RESTRICTED),
    )
    # Risk indicators (restricted like the country).
    high_absences: Mapped[bool] = mapped_column(default=False, info=personal(PUPIL_RESTRICTED))
    repeated_year: Mapped[bool] = mapped_column(default=False, info=personal(PUPIL_RESTRICTED))
    late_enrolment: Mapped[bool] = mapped_column(default=False, info=personal(PUPIL_RESTRICTED))
    italian_level: Mapped[ItalianLevel | None] = mapped_column(
        enum_column(ItalianLevel, "italian_level"),
        info=personal(PUPIL_RESTRICTED),
    )
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, info=NOT_PERSONAL)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id"), info=personal(ACCOUNT),
    )
    # When ``flask privacy purge`` replaced the code and cleared the restricted fields.
    anonymised_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, info=NOT_PERSONAL)

    school: Mapped["School"] = relationship()  # noqa: F821
    home_languages: Mapped[list["Language"]] = relationship(  # noqa: F821
        secondary=pupil_case_languages
    )
    statuses: Mapped[list["PupilCaseStatus"]] = relationship(
        back_populates="pupil_case", cascade="all, delete-orphan"
    )


class PupilCaseStatus(db.Model):
    """A pupil case's status in one school year."""

    __tablename__ = "pupil_case_statuses"
    __table_args__ = (sa.UniqueConstraint("pupil_case_id", "school_year_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    pupil_case_id: Mapped[int] = mapped_column(sa.ForeignKey("pupil_cases.id"), info=NOT_PERSONAL)
    school_year_id: Mapped[int] = mapped_column(
        sa.ForeignKey("school_years.id"), index=True, info=NOT_PERSONAL,
    )
    status: Mapped[PupilStatus] = mapped_column(
        enum_column(PupilStatus, "pupil_status"), info=personal(PUPIL_RESTRICTED),
    )

    pupil_case: Mapped[PupilCase] = relationship(back_populates="statuses")
    school_year: Mapped["SchoolYear"] = relationship()  # noqa: F821
