"""The demo's volumes, read back from the database: what ``flask demo`` prints and what
tests/project/test_demo.py checks for plausibility.

Definitions follow the dashboard's (mediation/reporting/aggregates.py): a session is an
approved log, counted on the day it started (a translation on its deadline); hours are
its actual end − start; cost is hours × the mediator's hourly cost, or a translation's
pages × its project's tariff per page; utilisation is the
hours of a mediator's accepted appointments in the period ÷ (weekly cap × days ÷ 7).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from statistics import median

import sqlalchemy as sa

from ..clock import ROME, days_bounds
from ..extensions import db
from ..models import (
    Ambito,
    Assignment,
    AssignmentState,
    BudgetLine,
    LogState,
    MediatorProfile,
    MediatorRate,
    Project,
    School,
    SessionLog,
    TranslationTariff,
    User,
)


@dataclass
class Volumes:
    start: date  # the last twelve months: first day, included
    end: date  # today
    #: Ambito name: (sessions, hours) in the period.
    ambiti: dict[str, tuple[int, float]] = field(default_factory=dict)
    #: Project code: (title, budget, spent to date, spent share, elapsed share).
    projects: dict[str, tuple[str, Decimal, Decimal, float, float]] = field(
        default_factory=dict)
    #: Mediator name: utilisation in the period.
    utilisation: dict[str, float] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """The volumes as ``flask demo`` prints them."""
        out = [f"Demo volumes, last twelve months ({self.start:%d/%m/%Y} - {self.end:%d/%m/%Y}):"]
        for name, (sessions, hours) in self.ambiti.items():
            out.append(f"  {name:<28} {sessions:>5} sessions {hours:>9,.1f} hours")
        for code, (title, budget, spent, share, elapsed) in self.projects.items():
            out.append(f"  {title} ({code}): budget {budget:,.2f} EUR, spent {spent:,.2f} EUR"
                       f" = {share:.1%}, with {elapsed:.1%} of its time gone by")
        if self.utilisation:
            values = sorted(self.utilisation.values())
            out.append(f"  Mediators' utilisation: {values[0]:.0%} to {values[-1]:.0%}"
                       f" (median {median(values):.0%}) of their weekly hours")
        return out


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def demo_volumes(today: date | None = None) -> Volumes:
    today = today or datetime.now(ROME).date()
    start = today - timedelta(days=364)
    volumes = Volumes(start, today)
    begin, stop = days_bounds(start, today)

    sessions = db.session.execute(
        sa.select(Ambito.name, SessionLog.project_id, SessionLog.counted_dt,
                  SessionLog.actual_start_dt, SessionLog.actual_end_dt,
                  MediatorRate.hourly_cost, SessionLog.pages, TranslationTariff.page_cost)
        .join(School, School.id == SessionLog.school_id)
        .join(Ambito, Ambito.id == School.ambito_id)
        .outerjoin(MediatorRate, MediatorRate.id == SessionLog.rate_id)
        .outerjoin(TranslationTariff, TranslationTariff.id == SessionLog.tariff_id)
        .where(SessionLog.state == LogState.approved, SessionLog.counted_dt < stop)
    ).all()
    per_ambito: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    spent: dict[int, Decimal] = defaultdict(Decimal)
    for name in db.session.scalars(sa.select(Ambito.name).order_by(Ambito.name)):
        per_ambito[name]  # every Ambito, even without sessions
    for name, project_id, counted, first, last, cost, pages, page_cost in sessions:
        seconds = (last - first).total_seconds() if first is not None else 0
        spent[project_id] += Decimal(int(seconds)) * (cost or 0) / 3600
        spent[project_id] += (pages or 0) * (page_cost or 0)
        if _aware(counted) >= begin:
            per_ambito[name][0] += 1
            per_ambito[name][1] += seconds / 3600
    volumes.ambiti = {name: (int(n), hours) for name, (n, hours) in per_ambito.items()}

    budgets = dict(db.session.execute(
        sa.select(BudgetLine.project_id, sa.func.sum(BudgetLine.amount))
        .group_by(BudgetLine.project_id)).all())
    for project in db.session.scalars(sa.select(Project).order_by(Project.start_date)):
        budget = Decimal(budgets.get(project.id) or 0)
        end = project.effective_end_date
        whole = (end - project.start_date).days + 1
        gone = min(max((today - project.start_date).days + 1, 0), whole)
        used = spent.get(project.id, Decimal(0)).quantize(Decimal("0.01"))
        volumes.projects[project.code] = (
            project.title, budget, used, float(used / budget) if budget else 0.0,
            gone / whole)

    booked = defaultdict(float)
    for mediator_id, first, last in db.session.execute(
        sa.select(Assignment.mediator_id, Assignment.start_dt, Assignment.end_dt)
        .where(Assignment.state == AssignmentState.accepted, Assignment.start_dt >= begin,
               Assignment.start_dt < stop)
    ):
        booked[mediator_id] += (last - first).total_seconds() / 3600
    days = (today - start).days + 1
    for mediator_id, name, cap in db.session.execute(
        sa.select(MediatorProfile.id, User.display_name, MediatorProfile.weekly_hour_cap)
        .join(User, User.id == MediatorProfile.user_id).order_by(User.display_name)
    ):
        if cap:
            volumes.utilisation[name] = booked[mediator_id] / (float(cap) * days / 7)
    return volumes
