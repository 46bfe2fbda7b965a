"""Users, their roles and scopes, and mediators' profiles."""

import enum
from datetime import datetime, time
from decimal import Decimal

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .privacy import ACCOUNT, AUDIT, NOT_PERSONAL, STAFF, personal
from .types import UTCDateTime, enum_column, utcnow


class Role(enum.StrEnum):
    """A user's role; each comes with one kind of scope (see ``User``)."""

    teacher = "teacher"
    lead = "lead"  # the school's referente intercultura
    mediator = "mediator"
    coordinator = "coordinator"
    admin = "admin"


SCHOOL_ROLES = (Role.teacher, Role.lead)


class User(UserMixin, db.Model):
    """A person who logs in.

    Teachers and leads are scoped to a school, coordinators to an Ambito, a
    mediator to their own profile (``ambito_id`` is the Ambito that manages
    them), the admin to everything.
    """

    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint("email = lower(email)", name="email_lowercase"),
        sa.CheckConstraint(
            "(role IN ('teacher', 'lead') AND school_id IS NOT NULL AND ambito_id IS NULL)"
            " OR (role = 'coordinator' AND ambito_id IS NOT NULL AND school_id IS NULL)"
            " OR (role = 'mediator' AND school_id IS NULL)"
            " OR (role = 'admin' AND school_id IS NULL AND ambito_id IS NULL)",
            name="scope_matches_role",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True, info=personal(ACCOUNT))
    display_name: Mapped[str] = mapped_column(sa.String(120), info=personal(ACCOUNT))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255), info=personal(ACCOUNT))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"), info=NOT_PERSONAL)
    school_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("schools.id"), index=True, info=NOT_PERSONAL,
    )
    ambito_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("ambiti.id"), index=True, info=NOT_PERSONAL,
    )
    locale: Mapped[str | None] = mapped_column(sa.String(10), info=personal(ACCOUNT))
    active: Mapped[bool] = mapped_column(default=True, info=NOT_PERSONAL)
    # Part of the login cookie: bumping it ends every session of the user.
    session_version: Mapped[int] = mapped_column(default=1, info=NOT_PERSONAL)
    # The secret in the URL of the user's private iCalendar feed (None: no feed yet).
    calendar_token: Mapped[str | None] = mapped_column(
        sa.String(64), unique=True, index=True, info=personal(ACCOUNT),
    )
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, info=NOT_PERSONAL)
    last_login_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, info=personal(AUDIT))

    school: Mapped["School | None"] = relationship()  # noqa: F821
    ambito: Mapped["Ambito | None"] = relationship()  # noqa: F821
    mediator_profile: Mapped["MediatorProfile | None"] = relationship(back_populates="user")

    @property
    def is_active(self) -> bool:
        return self.active

    #: The token of the server-side session this object was loaded for or logged in with
    #: (mediation/auth/session.py); not a column.
    session_token = None

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token or ''}"

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


mediator_ambiti = sa.Table(
    "mediator_ambiti",
    db.metadata,
    sa.Column(
        "mediator_id", sa.ForeignKey("mediator_profiles.id"), primary_key=True, info=NOT_PERSONAL,
    ),
    sa.Column("ambito_id", sa.ForeignKey("ambiti.id"), primary_key=True, info=NOT_PERSONAL),
)


class MediatorMunicipality(db.Model):
    """A municipality a mediator is glad to travel to (beyond the Ambiti they serve)."""

    __tablename__ = "mediator_municipalities"

    mediator_id: Mapped[int] = mapped_column(
        sa.ForeignKey("mediator_profiles.id"), primary_key=True,
        info=NOT_PERSONAL,
    )
    municipality: Mapped[str] = mapped_column(
        sa.String(100), primary_key=True, info=personal(STAFF),
    )


class MediatorProfile(db.Model):
    """What a coordinator needs to know to offer work to a mediator."""

    __tablename__ = "mediator_profiles"

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id"), unique=True, info=personal(STAFF),
    )
    employer: Mapped[str] = mapped_column(sa.String(200), info=personal(STAFF))
    weekly_hour_cap: Mapped[Decimal] = mapped_column(
        sa.Numeric(5, 2), default=Decimal(20), info=personal(STAFF),
    )

    user: Mapped[User] = relationship(back_populates="mediator_profile")
    languages: Mapped[list["MediatorLanguage"]] = relationship(
        back_populates="mediator", cascade="all, delete-orphan"
    )
    ambiti: Mapped[list["Ambito"]] = relationship(secondary=mediator_ambiti)  # noqa: F821
    # The hourly rates over time (models/rates.py): the one source of what an hour costs.
    rates: Mapped[list["MediatorRate"]] = relationship(  # noqa: F821
        back_populates="mediator", order_by="MediatorRate.valid_from",
        cascade="all, delete-orphan",
    )
    availability: Mapped[list["AvailabilityRange"]] = relationship(
        back_populates="mediator",
        cascade="all, delete-orphan",
        order_by="(AvailabilityRange.weekday, AvailabilityRange.start_time)",
    )
    absences: Mapped[list["Absence"]] = relationship(
        back_populates="mediator", cascade="all, delete-orphan", order_by="Absence.start_dt"
    )
    municipalities: Mapped[list[MediatorMunicipality]] = relationship(
        cascade="all, delete-orphan", order_by="MediatorMunicipality.municipality"
    )


class LanguageLevel(enum.StrEnum):
    """How well a mediator speaks a language."""

    native = "native"
    c2 = "c2"
    c1 = "c1"
    b2 = "b2"


class MediatorLanguage(db.Model):
    """A language a mediator works in, with their level."""

    __tablename__ = "mediator_languages"

    mediator_id: Mapped[int] = mapped_column(
        sa.ForeignKey("mediator_profiles.id"), primary_key=True,
        info=NOT_PERSONAL,
    )
    language_id: Mapped[int] = mapped_column(
        sa.ForeignKey("languages.id"), primary_key=True, info=NOT_PERSONAL,
    )
    level: Mapped[LanguageLevel] = mapped_column(
        enum_column(LanguageLevel, "language_level"), info=personal(STAFF),
    )

    mediator: Mapped[MediatorProfile] = relationship(back_populates="languages")
    language: Mapped["Language"] = relationship()  # noqa: F821


class AvailabilityRange(db.Model):
    """A weekly range in which a mediator works.

    Wall-clock times in Europe/Rome: a weekly pattern must not shift by an hour
    when daylight saving time changes, so it is the one place not kept in UTC.
    """

    __tablename__ = "availability_ranges"
    __table_args__ = (
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_valid"),
        sa.CheckConstraint("start_time < end_time", name="range_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    mediator_id: Mapped[int] = mapped_column(
        sa.ForeignKey("mediator_profiles.id"), index=True,
        info=NOT_PERSONAL,
    )
    weekday: Mapped[int] = mapped_column(info=personal(STAFF))  # 0 = Monday, as datetime.weekday()
    start_time: Mapped[time] = mapped_column(info=personal(STAFF))
    end_time: Mapped[time] = mapped_column(info=personal(STAFF))

    mediator: Mapped[MediatorProfile] = relationship(back_populates="availability")


class Absence(db.Model):
    """A period in which a mediator cannot be booked."""

    __tablename__ = "absences"
    __table_args__ = (sa.CheckConstraint("start_dt < end_dt", name="range_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    mediator_id: Mapped[int] = mapped_column(
        sa.ForeignKey("mediator_profiles.id"), index=True,
        info=NOT_PERSONAL,
    )
    start_dt: Mapped[datetime] = mapped_column(UTCDateTime, info=personal(STAFF))
    end_dt: Mapped[datetime] = mapped_column(UTCDateTime, info=personal(STAFF))
    reason: Mapped[str | None] = mapped_column(sa.String(200), info=personal(STAFF))

    mediator: Mapped[MediatorProfile] = relationship(back_populates="absences")
