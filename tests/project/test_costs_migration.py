"""Issue #18: the migration to rates, tariffs and paid/held totals (3b8d1f6a2c47), on a
database holding the demo data: each mediator's hourly cost becomes their rate from
2000-01-01, every session with a start keeps it, the totals are rebuilt, and the figures
are the same as before (the demo's no-shows aside, nothing it counted changes cost)."""

from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from mediation.clock import ROME
from mediation.extensions import db
from mediation.models import (
    ApprovedSessionTotal,
    MediatorRate,
    Role,
    SessionLog,
    TranslationTariff,
    User,
)
from mediation.models.rates import EARLIEST, day_start
from mediation.models.totals import REBUILD
from mediation.reporting import aggregates
from mediation.reporting.filters import ReportFilter

from .test_migrations import empty_database_url, migrated  # noqa: F401  (fixtures)

PREVIOUS = "75299fa49fcf"


def _figures(today):
    admin = db.session.scalar(sa.select(User).where(User.role == Role.admin))
    report = ReportFilter(start=today - timedelta(days=364), end=today)
    return (aggregates.totals(report, admin), aggregates.budget(report, admin, today),
            aggregates.paid(report, admin))


def _totals():
    columns = [column for column in ApprovedSessionTotal.__table__.columns]
    return sorted(tuple(row) for row in db.session.execute(
        sa.select(*columns).where(ApprovedSessionTotal.sessions > 0)))


def test_the_demo_keeps_its_costs_through_the_migration(migrated):  # noqa: F811
    result = migrated.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    today = datetime.now(ROME).date()
    costs = dict(db.session.execute(sa.select(MediatorRate.mediator_id,
                                              MediatorRate.hourly_cost)).all())
    assert costs and len(costs) == db.session.scalar(sa.select(sa.func.count(MediatorRate.id)))
    # The schema before the migration had no translation tariffs, and the migration gives
    # none: the demo's translations are unpriced first, as the migration leaves them.
    db.session.execute(sa.update(SessionLog).where(SessionLog.tariff_id.is_not(None))
                       .values(tariff_id=None))
    db.session.execute(sa.delete(TranslationTariff))
    db.session.commit()
    before = _figures(today)
    assert before[0]["cost"] > 0
    db.session.remove()

    downgrade(revision=PREVIOUS)
    restored = db.session.execute(sa.text("SELECT id, hourly_cost FROM mediator_profiles"))
    assert {mediator_id: Decimal(str(cost)).quantize(Decimal("0.01"))
            for mediator_id, cost in restored} == costs
    db.session.remove()

    upgrade()
    rates = db.session.execute(sa.select(MediatorRate.mediator_id, MediatorRate.hourly_cost,
                                         MediatorRate.valid_from,
                                         MediatorRate.valid_from_dt)).all()
    assert {row.mediator_id: row.hourly_cost for row in rates} == costs
    assert {(row.valid_from, row.valid_from_dt) for row in rates} == {
        (EARLIEST, day_start(EARLIEST))}
    # Every session with a start keeps its mediator's rate; translations none (no tariff).
    unpriced = db.session.scalar(sa.select(sa.func.count()).select_from(SessionLog).where(
        SessionLog.actual_start_dt.is_not(None), SessionLog.rate_id.is_(None)))
    assert unpriced == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SessionLog).where(
        sa.or_(SessionLog.tariff_id.is_not(None),
               sa.and_(SessionLog.actual_start_dt.is_(None),
                       SessionLog.rate_id.is_not(None))))) == 0
    # The totals are those a rebuild gives, and the figures are unchanged.
    kept = _totals()
    db.session.execute(sa.delete(ApprovedSessionTotal))
    db.session.execute(sa.text(REBUILD[db.session.get_bind().dialect.name]))
    assert _totals() == kept
    db.session.rollback()
    assert _figures(today) == before
