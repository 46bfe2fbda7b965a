"""Issue #18, "Periods that close": closing freezes a period's page and exports byte for
byte; a late approval of one of its sessions counts as an adjustment of the next open
period; reopening is the admin's, with a reason; another Ambito's period is a 404."""

import hashlib
import io
import re
import zipfile
from datetime import datetime, timedelta
from decimal import Decimal

import openpyxl
import pytest
import sqlalchemy as sa

from mediation.bookings import operations as bookings
from mediation.clock import ROME
from mediation.errors import InvalidInput, NotAllowed
from mediation.extensions import db
from mediation.mediators import operations as mediators
from mediation.models import AuditEvent, ReportingPeriod, Role
from mediation.reporting import operations, periods, snapshots
from mediation.reporting.filters import ReportFilter

from tests.conftest import login
from tests.scenarios.coordination import world  # noqa: F401  (fixture)

FIGURES = re.compile(rb"<section class=\"app-period-figures\".*?</section>", re.S)


def _today():
    return datetime.now(ROME).date()


def _days(log):
    """A period holding the log's day and ending yesterday (Europe/Rome)."""
    day = log.actual_start_dt.astimezone(ROME).date()
    return day - timedelta(days=5), _today() - timedelta(days=1)


def _snapshot(client, period_id):
    """Everything the period's page and downloads serve, as bytes."""
    page = client.get(f"/reporting/periods/{period_id}")
    assert page.status_code == 200
    served = {"page": FIGURES.search(page.data).group(0)}
    period = db.session.get(ReportingPeriod, period_id)
    for name in [f.name for f in period.files]:
        response = client.get(f"/reporting/periods/{period_id}/files/{name}")
        assert response.status_code == 200, name
        served[name] = response.data
    served["pack"] = client.get(f"/reporting/periods/{period_id}/evidence.zip").data
    return served


def test_a_closed_period_serves_the_same_bytes_after_a_late_change(client, world):  # noqa: F811
    counted = world.logged(world.mediator())
    late = world.logged(world.mediator())
    db.session.commit()
    bookings.approve_log(world.coordinator, counted)
    db.session.commit()
    start, end = _days(counted)

    login(client, world.coordinator)
    assert b"data-adjustment-of" not in client.get("/coordination/logs").data
    response = client.post("/reporting/periods", data={
        "scope": str(world.school.ambito_id), "start": start.isoformat(),
        "end": end.isoformat(), "confirm": "y"})
    assert response.status_code == 302, response.data
    period = db.session.scalar(sa.select(ReportingPeriod))
    assert period.ambito_id == world.school.ambito_id and period.closed
    names = {f.name for f in period.files}
    assert {"figures_it.html", "figures_en.html", "sessions_it.csv", "sessions_en.xlsx",
            "summary_it.xlsx", "beneficiaries_en.csv"} <= names
    before = _snapshot(client, period.id)
    assert b"1 h" in before["page"] or b"1 h" in before["page"].replace(b"\xc2\xa0", b" ")

    # The log still to approve says, before it is approved, what its approval will do.
    page = client.get("/coordination/logs", headers={"Accept-Language": "en"})
    card = re.search(rf'id="log-{late.id}".*?</li>'.encode(), page.data, re.S).group(0)
    assert f'data-adjustment-of="{period.id}"'.encode() in card
    assert b"counts it as an adjustment of that period" in card

    # A late approval of a session of the closed days: an adjustment, counted today.
    bookings.approve_log(world.coordinator, late)
    db.session.commit()
    assert late.adjusted_period_id == period.id
    event = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "session.approved").order_by(AuditEvent.id.desc())).first()
    assert event.data["adjusted_period_id"] == period.id

    # And a new rate for the closed days: the live figures of those days change.
    day = counted.actual_start_dt.astimezone(ROME).date()
    mediators.add_rate(world.coordinator, counted.assignment.mediator, Decimal("97.50"), day)
    db.session.commit()
    scope = periods.scope_for(period.ambito_id, world.coordinator)
    report = ReportFilter(start=start, end=end, ambito_id=period.ambito_id)
    live = snapshots.export_bytes("sessions", "csv", report, scope, "it")
    assert live != before["sessions_it.csv"] and b"97,5" in live

    after = _snapshot(client, period.id)
    assert after == before

    # The pack: the listed files and a manifest of their SHA-256, reproducible.
    archive = zipfile.ZipFile(io.BytesIO(after["pack"]))
    # The timesheet of the mediator of the session counted, for its month (the other
    # month the period may touch has no session of theirs: no sheet).
    mediator = counted.assignment.mediator
    timesheet = snapshots.timesheet_name(day.replace(day=1), mediator.id)
    assert archive.namelist() == [*snapshots.PACK_FILES[:3], timesheet, snapshots.MANIFEST]
    sheet = openpyxl.load_workbook(io.BytesIO(archive.read(timesheet)))
    cells = {str(cell.value) for ws in sheet for row in ws.iter_rows() for cell in row}
    assert mediator.user.display_name in cells
    manifest = archive.read(snapshots.MANIFEST).decode().splitlines()
    for line in manifest:
        digest, name = line.split("  ")
        assert hashlib.sha256(archive.read(name)).hexdigest() == digest
        assert archive.read(name) == after[name]

    # The live dashboard of the closed days leaves the adjustment out; the dashboard of
    # today shows it apart, labelled.
    closed_days = client.get(f"/reporting/?start={start}&end={end}")
    assert b'id="table-adjustments"' not in closed_days.data
    today = client.get(f"/reporting/?start={_today()}&end={_today()}")
    assert b'id="table-adjustments"' in today.data
    assert f'data-adjusted-period="{period.id}"'.encode() in today.data
    export = client.get(f"/reporting/export/adjustments.csv?start={_today()}&end={_today()}")
    rows = export.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert len(rows) == 2 and rows[1].startswith(f"{late.id};")
    assert start.isoformat() in rows[1] and end.isoformat() in rows[1]
    # The live sessions export of the closed days leaves the adjustment out too.
    sessions = client.get(f"/reporting/export/sessions.csv?start={start}&end={end}")
    ids = [line.split(";")[0] for line in sessions.get_data(as_text=True).splitlines()[1:]]
    assert ids == [str(counted.id)]


def test_closing_refuses_unended_and_overlapping_periods(world):  # noqa: F811
    today = _today()
    ambito = world.school.ambito
    with pytest.raises(InvalidInput):
        operations.close_period(world.coordinator, ambito, today - timedelta(days=3), today,
                                today)
    operations.close_period(world.coordinator, ambito, today - timedelta(days=30),
                            today - timedelta(days=10), today)
    db.session.commit()
    with pytest.raises(InvalidInput):
        operations.close_period(world.coordinator, ambito, today - timedelta(days=12),
                                today - timedelta(days=2), today)
    db.session.rollback()
    # The region is another scope: the admin may close the same days for it.
    admin = world.factory.user(Role.admin)
    operations.close_period(admin, None, today - timedelta(days=12),
                            today - timedelta(days=2), today)
    db.session.commit()
    # A coordinator closes no other Ambito's period, nor the region's.
    other = world.factory.ambito()
    with pytest.raises(NotAllowed):
        operations.close_period(world.coordinator, other, today - timedelta(days=50),
                                today - timedelta(days=40), today)
    with pytest.raises(NotAllowed):
        operations.close_period(world.coordinator, None, today - timedelta(days=50),
                                today - timedelta(days=40), today)


def test_reopening_is_the_admins_with_a_reason(client, world):  # noqa: F811
    today = _today()
    period = operations.close_period(world.coordinator, world.school.ambito,
                                     today - timedelta(days=30), today - timedelta(days=10),
                                     today)
    admin = world.factory.user(Role.admin)
    db.session.commit()
    login(client, world.coordinator)
    assert client.post(f"/reporting/periods/{period.id}/reopen",
                       data={"reason": "x"}).status_code in (403, 404)
    login(client, admin)
    response = client.post(f"/reporting/periods/{period.id}/reopen", data={"reason": " "})
    assert response.status_code == 400
    response = client.post(f"/reporting/periods/{period.id}/reopen",
                           data={"reason": "Wrong claim dates"})
    assert response.status_code == 302
    db.session.refresh(period)
    assert not period.closed and period.reopen_reason == "Wrong claim dates"
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.action == "period.reopened", AuditEvent.object_id == period.id)) == 1
    # Kept for history; the same days can be closed again.
    assert client.get(f"/reporting/periods/{period.id}").status_code == 200
    operations.close_period(admin, world.school.ambito, period.start_date, period.end_date,
                            today)
    db.session.commit()


def test_another_ambitos_period_is_a_404(client, world):  # noqa: F811
    today = _today()
    period = operations.close_period(world.coordinator, world.school.ambito,
                                     today - timedelta(days=30), today - timedelta(days=10),
                                     today)
    other = world.factory.user(Role.coordinator, ambito=world.factory.ambito())
    db.session.commit()
    login(client, other)
    assert client.get(f"/reporting/periods/{period.id}").status_code == 404
    assert client.get(f"/reporting/periods/{period.id}/files/sessions_it.csv").status_code == 404
    assert client.get(f"/reporting/periods/{period.id}/evidence.zip").status_code == 404
    assert b'data-period="' not in client.get("/reporting/periods").data
    login(client, world.coordinator)
    page = client.get("/reporting/periods")
    assert page.status_code == 200 and f'data-period="{period.id}"'.encode() in page.data
    assert client.get("/reporting/").data.count(b'id="periods-link"') == 1


def test_the_periods_page_keeps_what_was_typed(client, world):  # noqa: F811
    login(client, world.coordinator)
    today = _today()
    response = client.post("/reporting/periods", data={
        "scope": str(world.school.ambito_id), "start": (today - timedelta(days=3)).isoformat(),
        "end": today.isoformat()})
    assert response.status_code == 400
    assert today.isoformat().encode() in response.data
    assert db.session.scalar(sa.select(sa.func.count(ReportingPeriod.id))) == 0


def test_a_coordinator_sees_the_regions_periods_without_their_files(client, world):  # noqa: F811
    """The admin closes days for the whole region: the coordinator's periods page says
    their Ambito's days are closed too, and links none of the region's files (they
    cover every Ambito)."""
    today = _today()
    admin = world.factory.user(Role.admin)
    region = operations.close_period(admin, None, today - timedelta(days=30),
                                     today - timedelta(days=10), today)
    db.session.commit()
    login(client, world.coordinator)
    page = client.get("/reporting/periods", headers={"Accept-Language": "en"})
    assert f'data-region-period="{region.id}"'.encode() in page.data
    assert b"Closed for the whole region" in page.data
    assert f"/reporting/periods/{region.id}".encode() not in page.data
    assert client.get(f"/reporting/periods/{region.id}").status_code == 404
    assert client.get(f"/reporting/periods/{region.id}/evidence.zip").status_code == 404
    login(client, admin)  # the admin has it in the table, with its link
    page = client.get("/reporting/periods")
    assert b'data-region-period="' not in page.data
    assert f'data-period="{region.id}"'.encode() in page.data
