"""Reporting periods that close (issue #18): a scope's period whose figures and exports
are frozen as they were when it closed.

A period belongs to one Ambito, or to the region (``ambito_id`` NULL, closed by the
admin). Closing stores every artefact the reporting page offers for that scope and
period (``PeriodFile``: the figures as the page shows them, each export in each format
and language) with its SHA-256; the period's page and downloads serve these bytes,
never a new computation. Reopening (the admin, with a reason) keeps the row and its
files for history, marked ``reopened``: closing the same days again makes a new row.
Two closed periods of one scope never share a day (``reporting.operations.close_period``
checks it under a lock that serialises every closing).
"""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .privacy import AUDIT, BOOKING, NOT_PERSONAL, personal
from .types import UTCDateTime, utcnow


class ReportingPeriod(db.Model):
    """A scope's closed (or once closed, now reopened) range of Europe/Rome days."""

    __tablename__ = "reporting_periods"
    __table_args__ = (
        sa.CheckConstraint("start_date <= end_date", name="range_ordered"),
        sa.CheckConstraint(
            "(reopened_at IS NULL AND reopened_by_id IS NULL AND reopen_reason IS NULL)"
            " OR (reopened_at IS NOT NULL AND reopen_reason IS NOT NULL)",
            name="reopened_with_reason"),
        sa.Index("ix_reporting_periods_scope", "ambito_id", "start_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    # None: the region (every Ambito), closed by the admin.
    ambito_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ambiti.id"),
                                                  info=NOT_PERSONAL)
    start_date: Mapped[date] = mapped_column(info=NOT_PERSONAL)  # first day, included
    end_date: Mapped[date] = mapped_column(info=NOT_PERSONAL)  # last day, included
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow,
                                                info=NOT_PERSONAL)
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"),
                                                     info=personal(AUDIT))
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime, info=NOT_PERSONAL)
    reopened_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"),
                                                       info=personal(AUDIT))
    reopen_reason: Mapped[str | None] = mapped_column(sa.String(500), info=personal(AUDIT))

    ambito: Mapped["Ambito | None"] = relationship()  # noqa: F821
    closed_by: Mapped["User | None"] = relationship(  # noqa: F821
        foreign_keys="ReportingPeriod.closed_by_id")
    reopened_by: Mapped["User | None"] = relationship(  # noqa: F821
        foreign_keys="ReportingPeriod.reopened_by_id")
    files: Mapped[list["PeriodFile"]] = relationship(
        back_populates="period", order_by="PeriodFile.position",
        cascade="all, delete-orphan")

    @property
    def closed(self) -> bool:
        """Closed now (not reopened since)."""
        return self.reopened_at is None


class PeriodFile(db.Model):
    """One artefact frozen when its period closed: its bytes and their SHA-256."""

    __tablename__ = "reporting_period_files"
    __table_args__ = (
        sa.UniqueConstraint("period_id", "name", name="uq_reporting_period_files_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    period_id: Mapped[int] = mapped_column(sa.ForeignKey("reporting_periods.id"),
                                           info=NOT_PERSONAL)
    position: Mapped[int] = mapped_column(info=NOT_PERSONAL)
    # The file's name in downloads and in the evidence pack (e.g. sessions_it.csv).
    name: Mapped[str] = mapped_column(sa.String(120), info=NOT_PERSONAL)
    mimetype: Mapped[str] = mapped_column(sa.String(120), info=NOT_PERSONAL)
    # The exports name mediators and pupils' pseudonymous codes, as the live ones do.
    content: Mapped[bytes] = mapped_column(sa.LargeBinary, info=personal(BOOKING))
    sha256: Mapped[str] = mapped_column(sa.String(64), info=NOT_PERSONAL)

    period: Mapped[ReportingPeriod] = relationship(back_populates="files")
