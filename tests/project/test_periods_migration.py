"""Issue #18, periods that close: the migration (a51c0e7d2b19) on a database holding the
demo data. Downgraded to the revision before and upgraded again, the demo keeps its
figures (no log is an adjustment), and a period of it can then be closed, its files
frozen and its evidence pack made."""

import io
import zipfile
from datetime import datetime, timedelta
from fnmatch import fnmatch

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from mediation.clock import ROME
from mediation.extensions import db
from mediation.models import ReportingPeriod, Role, SessionLog, User
from mediation.reporting import aggregates, exports, operations, snapshots
from mediation.reporting.filters import ReportFilter

from .test_migrations import empty_database_url, migrated  # noqa: F401  (fixtures)

PREVIOUS = "3b8e61f0c2d4"


def _figures(today):
    admin = db.session.scalar(sa.select(User).where(User.role == Role.admin))
    report = ReportFilter(start=today - timedelta(days=364), end=today)
    return aggregates.totals(report, admin), aggregates.paid(report, admin)


def test_the_demo_upgrades_and_closes_a_period(migrated):  # noqa: F811
    result = migrated.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    today = datetime.now(ROME).date()
    before = _figures(today)
    assert before[0]["sessions"] > 0
    db.session.remove()

    downgrade(revision=PREVIOUS)
    tables = sa.inspect(db.engine).get_table_names()
    assert "reporting_periods" not in tables and "reporting_period_files" not in tables
    assert "adjusted_period_id" not in {
        c["name"] for c in sa.inspect(db.engine).get_columns("session_logs")}
    db.session.remove()

    upgrade()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SessionLog).where(
        SessionLog.adjusted_period_id.is_not(None))) == 0
    assert _figures(today) == before

    # A quarter of the demo closes for the region; its files and pack are as frozen.
    admin = db.session.scalar(sa.select(User).where(User.role == Role.admin))
    first = datetime(today.year, 3 * ((today.month - 1) // 3) + 1, 1).date()
    end = first - timedelta(days=1)
    start = datetime(end.year, end.month - 2, 1).date()
    period = operations.close_period(admin, None, start, end, today)
    db.session.commit()
    stored = db.session.get(ReportingPeriod, period.id)
    frozen = 2 + len(exports.KINDS) * len(exports.FORMATS) * 2
    timesheets = [f.name for f in stored.files[frozen:]]
    assert timesheets and all(fnmatch(name, "timesheet_*.xlsx") for name in timesheets)
    summary = snapshots.file_named(stored, "summary_it.xlsx")
    archive = zipfile.ZipFile(io.BytesIO(snapshots.evidence_pack(stored)))
    assert archive.read("summary_it.xlsx") == summary.content
    assert snapshots.evidence_pack(stored) == snapshots.evidence_pack(stored)
