"""Grants (projects), their macro-actions and budget, and the school calendar."""

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .privacy import NOT_PERSONAL


class Project(db.Model):
    """A grant that mediation hours count against, e.g. Lab'Impact (FAMI 2014-2020)."""

    __tablename__ = "projects"
    __table_args__ = (sa.CheckConstraint("start_date <= end_date", name="period_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True, info=NOT_PERSONAL)
    title: Mapped[str] = mapped_column(sa.String(200), info=NOT_PERSONAL)
    fund: Mapped[str] = mapped_column(sa.String(200), info=NOT_PERSONAL)
    lead_partner: Mapped[str] = mapped_column(sa.String(200), info=NOT_PERSONAL)
    start_date: Mapped[date] = mapped_column(info=NOT_PERSONAL)
    # The end date first granted; extensions move the effective end.
    end_date: Mapped[date] = mapped_column(info=NOT_PERSONAL)

    extensions: Mapped[list["ProjectExtension"]] = relationship(
        back_populates="project", order_by="ProjectExtension.new_end_date",
        cascade="all, delete-orphan",
    )
    budget_lines: Mapped[list["BudgetLine"]] = relationship(
        back_populates="project", order_by="BudgetLine.position", cascade="all, delete-orphan"
    )
    macro_actions: Mapped[list["MacroAction"]] = relationship(
        back_populates="project", order_by="MacroAction.number", cascade="all, delete-orphan"
    )
    # The price of a translated page over time (models/rates.py).
    tariffs: Mapped[list["TranslationTariff"]] = relationship(  # noqa: F821
        back_populates="project", order_by="TranslationTariff.valid_from",
        cascade="all, delete-orphan",
    )

    @property
    def effective_end_date(self) -> date:
        return max([self.end_date, *(e.new_end_date for e in self.extensions)])

    @property
    def total_budget(self) -> Decimal:
        return sum((line.amount for line in self.budget_lines), Decimal(0))

    def covers(self, day: date) -> bool:
        return self.start_date <= day <= self.effective_end_date


class ProjectExtension(db.Model):
    """An extension (proroga) of a project's end date."""

    __tablename__ = "project_extensions"

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("projects.id"), index=True, info=NOT_PERSONAL,
    )
    new_end_date: Mapped[date] = mapped_column(info=NOT_PERSONAL)
    note: Mapped[str | None] = mapped_column(sa.String(200), info=NOT_PERSONAL)

    project: Mapped[Project] = relationship(back_populates="extensions")


class BudgetLine(db.Model):
    """An amount granted to a project (initial grant, additional funding...)."""

    __tablename__ = "budget_lines"

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("projects.id"), index=True, info=NOT_PERSONAL,
    )
    label: Mapped[str] = mapped_column(sa.String(200), info=NOT_PERSONAL)
    amount: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2), info=NOT_PERSONAL)
    position: Mapped[int] = mapped_column(default=0, info=NOT_PERSONAL)

    project: Mapped[Project] = relationship(back_populates="budget_lines")


class MacroAction(db.Model):
    """One of a project's macro-actions (macroazioni)."""

    __tablename__ = "macro_actions"
    __table_args__ = (sa.UniqueConstraint("project_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id"), info=NOT_PERSONAL)
    number: Mapped[int] = mapped_column(info=NOT_PERSONAL)
    title_it: Mapped[str] = mapped_column(sa.String(300), info=NOT_PERSONAL)
    title_en: Mapped[str] = mapped_column(sa.String(300), info=NOT_PERSONAL)

    project: Mapped[Project] = relationship(back_populates="macro_actions")
    actions: Mapped[list["Action"]] = relationship(
        back_populates="macro_action", order_by="Action.code", cascade="all, delete-orphan"
    )

    def title(self, locale: str) -> str:
        return self.title_it if locale == "it" else self.title_en


class Action(db.Model):
    """An action inside a macro-action, e.g. 1.2 "school-family mediation"."""

    __tablename__ = "actions"
    __table_args__ = (sa.UniqueConstraint("macro_action_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    macro_action_id: Mapped[int] = mapped_column(
        sa.ForeignKey("macro_actions.id"), info=NOT_PERSONAL,
    )
    code: Mapped[str] = mapped_column(sa.String(20), info=NOT_PERSONAL)
    title_it: Mapped[str] = mapped_column(sa.String(300), info=NOT_PERSONAL)
    title_en: Mapped[str] = mapped_column(sa.String(300), info=NOT_PERSONAL)

    macro_action: Mapped[MacroAction] = relationship(back_populates="actions")

    def title(self, locale: str) -> str:
        return self.title_it if locale == "it" else self.title_en


class PlannedHours(db.Model):
    """Hours of mediation planned for an Ambito under a macro-action."""

    __tablename__ = "planned_hours"
    __table_args__ = (
        sa.UniqueConstraint("ambito_id", "macro_action_id"),
        sa.CheckConstraint("hours >= 0", name="hours_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    ambito_id: Mapped[int] = mapped_column(sa.ForeignKey("ambiti.id"), info=NOT_PERSONAL)
    macro_action_id: Mapped[int] = mapped_column(
        sa.ForeignKey("macro_actions.id"), index=True, info=NOT_PERSONAL,
    )
    hours: Mapped[Decimal] = mapped_column(sa.Numeric(8, 1), info=NOT_PERSONAL)

    ambito: Mapped["Ambito"] = relationship()  # noqa: F821
    macro_action: Mapped[MacroAction] = relationship()


class SchoolYear(db.Model):
    """A school year of the regional calendar, from the first to the last day of lessons."""

    __tablename__ = "school_years"
    __table_args__ = (sa.CheckConstraint("start_date < end_date", name="period_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    label: Mapped[str] = mapped_column(sa.String(9), unique=True, info=NOT_PERSONAL)  # "2026/2027"
    start_date: Mapped[date] = mapped_column(info=NOT_PERSONAL)
    end_date: Mapped[date] = mapped_column(info=NOT_PERSONAL)


class Closure(db.Model):
    """Days without lessons: regional holidays (no school) or a school's own closures."""

    __tablename__ = "closures"
    __table_args__ = (sa.CheckConstraint("start_date <= end_date", name="period_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    school_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("schools.id"), index=True, info=NOT_PERSONAL,
    )
    name: Mapped[str] = mapped_column(sa.String(120), info=NOT_PERSONAL)
    start_date: Mapped[date] = mapped_column(index=True, info=NOT_PERSONAL)
    end_date: Mapped[date] = mapped_column(info=NOT_PERSONAL)

    school: Mapped["School | None"] = relationship()  # noqa: F821
