"""What the work costs over time: each mediator's hourly rate and each project's tariff
per translated page, both with the date from which they apply (Europe/Rome).

A rate or tariff is never edited nor deleted: a new one is added from a later day (an
audited act, ``mediators.operations.add_rate`` / ``reporting.tariffs.add_tariff``). A
session costs the rate valid on the day it counts (its start), a translation the tariff
of its project valid on its deadline's day: each approved or pending log keeps the id of
the row that applies (``SessionLog.rate_id`` / ``tariff_id``), set whenever the log is
written and reassigned when a rate or tariff is added for a day already past.
"""

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .privacy import BOOKING, NOT_PERSONAL, STAFF, personal
from .types import UTCDateTime, utcnow

#: The day from which the first rate of a mediator applies: before any session the
#: service can hold (the reporting periods start in 2000).
EARLIEST = date(2000, 1, 1)


class MediatorRate(db.Model):
    """A mediator's hourly rate from a day on (until the next one's day)."""

    __tablename__ = "mediator_rates"
    __table_args__ = (
        sa.UniqueConstraint("mediator_id", "valid_from", name="uq_mediator_rates_day"),
        sa.CheckConstraint("hourly_cost >= 0", name="cost_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    mediator_id: Mapped[int] = mapped_column(
        sa.ForeignKey("mediator_profiles.id"), info=personal(STAFF),
    )
    hourly_cost: Mapped[Decimal] = mapped_column(sa.Numeric(8, 2), info=personal(STAFF))
    # The first day it applies (Europe/Rome), and that day's first instant in UTC (what
    # the logs' counted_dt is compared with: the same in SQLite and PostgreSQL).
    valid_from: Mapped[date] = mapped_column(info=NOT_PERSONAL)
    valid_from_dt: Mapped[datetime] = mapped_column(UTCDateTime, info=NOT_PERSONAL)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id"), info=personal(BOOKING),
    )
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, info=NOT_PERSONAL)

    mediator: Mapped["MediatorProfile"] = relationship(back_populates="rates")  # noqa: F821
    created_by: Mapped["User | None"] = relationship()  # noqa: F821


class TranslationTariff(db.Model):
    """A project's price per translated page from a day on (until the next one's day)."""

    __tablename__ = "translation_tariffs"
    __table_args__ = (
        sa.UniqueConstraint("project_id", "valid_from", name="uq_translation_tariffs_day"),
        sa.CheckConstraint("page_cost >= 0", name="cost_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id"), info=NOT_PERSONAL)
    page_cost: Mapped[Decimal] = mapped_column(sa.Numeric(8, 2), info=NOT_PERSONAL)
    valid_from: Mapped[date] = mapped_column(info=NOT_PERSONAL)
    valid_from_dt: Mapped[datetime] = mapped_column(UTCDateTime, info=NOT_PERSONAL)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id"), info=personal(BOOKING),
    )
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, info=NOT_PERSONAL)

    project: Mapped["Project"] = relationship(back_populates="tariffs")  # noqa: F821
    created_by: Mapped["User | None"] = relationship()  # noqa: F821


def day_start(day: date) -> datetime:
    """The first instant of a Europe/Rome day, aware (what ``valid_from_dt`` holds)."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo("Europe/Rome"))


def first_rate(hourly_cost: Decimal) -> MediatorRate:
    """A new mediator's rate, valid from :data:`EARLIEST` (every session of theirs)."""
    return MediatorRate(hourly_cost=hourly_cost, valid_from=EARLIEST,
                        valid_from_dt=day_start(EARLIEST))


def rate_valid_at(mediator_id, when) -> sa.ScalarSelect:
    """The id of the mediator's rate valid at ``when`` (SQL values or columns)."""
    return (sa.select(MediatorRate.id)
            .where(MediatorRate.mediator_id == mediator_id, MediatorRate.valid_from_dt <= when)
            .order_by(MediatorRate.valid_from_dt.desc()).limit(1).scalar_subquery())


def tariff_valid_at(project_id, when) -> sa.ScalarSelect:
    """The id of the project's translation tariff valid at ``when``."""
    return (sa.select(TranslationTariff.id)
            .where(TranslationTariff.project_id == project_id,
                   TranslationTariff.valid_from_dt <= when)
            .order_by(TranslationTariff.valid_from_dt.desc()).limit(1).scalar_subquery())


def reassign_rates(mediator_id: int, from_dt: datetime) -> None:
    """Give the mediator's logs (with a start) that count from ``from_dt`` on the rate
    valid when they count, in SQL (a rate just added for a day already past): the
    triggers move them to their new totals. Logs in memory are set again when written."""
    from .bookings import SessionLog

    db.session.execute(
        sa.update(SessionLog)
        .where(SessionLog.mediator_id == mediator_id, SessionLog.actual_start_dt.is_not(None),
               SessionLog.counted_dt >= from_dt)
        .values(rate_id=rate_valid_at(SessionLog.mediator_id, SessionLog.counted_dt)),
        execution_options={"synchronize_session": False})


def reassign_tariffs(project_id: int, from_dt: datetime) -> None:
    """Give the project's translations (logs without a start) that count from
    ``from_dt`` on the tariff valid on their deadline, in SQL."""
    from .bookings import SessionLog

    db.session.execute(
        sa.update(SessionLog)
        .where(SessionLog.project_id == project_id, SessionLog.actual_start_dt.is_(None),
               SessionLog.counted_dt >= from_dt)
        .values(tariff_id=tariff_valid_at(SessionLog.project_id, SessionLog.counted_dt)),
        execution_options={"synchronize_session": False})
