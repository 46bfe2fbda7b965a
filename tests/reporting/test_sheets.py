"""Issue #18, figures an auditor signs: a mediator's monthly timesheet and the cooperative
statement of a month and Ambito, reconciled to the cent with the dashboard. Every expected
figure below is computed by hand from this table.

Ambiti Alpha (schools A1, A2) and Beta (B1); project P (2025); March 2025. Mediator
``med`` (cooperative "Cooperativa Alfa", serving Alpha and Beta): € 20/h, then € 25/h from
15 March 2025 (mid-month); ``med2`` ("Cooperativa Beta", Alpha): € 30/h. P's translations:
€ 12.50 a page.

====  ====  ======  ==========================  ==============  =======  ======  ========
name  who   school  when (Europe/Rome)          outcome         paid     rate    cost
====  ====  ======  ==========================  ==============  =======  ======  ========
S0    med   A1      2025-03-01 00:15-00:45      held            30 min   20      10.00
S1    med   A1      2025-03-10 10:00-11:30      held            90 min   20      30.00
S2    med   A1      2025-03-12 09:00-10:00      family absent   60 min   20      20.00
S3    med   A2      2025-03-20 14:00-15:20      held            80 min   25      33.333…
S4    med   A2      2025-03-25 10:00-10:45      cancelled late  45 min   25      18.75
T1    med   A2      translation due 03-18 12:00 held            3 pages  12.50   37.50
S8    med   B1      2025-03-14 10:00-11:00      held            60 min   20      20.00
S5    med2  A1      2025-03-05 09:00-10:10      held            70 min   30      35.00
S9    med   A1      2025-04-01 00:30-01:00      held            (April: in no sheet of March)
X1    med   A1      2025-03-21 09:00-10:00      held, submitted (not approved: in none)
====  ====  ======  ==========================  ==============  =======  ======  ========

S0 starts at 23:15 UTC on 28 February: its Rome day is 1 March. S9 is 22:30 UTC on 31
March: April in Rome.

med's timesheet, Alpha (the coordinator's): S0-S4, T1. Delivered (held) S0, S1, S3:
30 + 90 + 80 = 200 min (12,000 s) = 3 h 20 min; paid 30 + 90 + 60 + 80 + 45 = 305 min
(18,300 s) = 5 h 5 min; amount 10 + 30 + 20 + 33.333… + 18.75 + 37.50 = 149.583… =
€ 149.58. By rate: € 20/h 180 min € 60.00; € 25/h 125 min € 52.08 (52.0833…); 3 pages at
€ 12.50 € 37.50. Beta's coordinator: S8 only, € 20.00. The admin, every Ambito: € 169.58.

Statement, March, Alpha: Cooperativa Alfa (med) € 149.58; Cooperativa Beta (med2) 70 min
€ 35.00; total 149.583… + 35 = € 184.58, delivered 200 + 70 = 270 min (16,200 s), paid
305 + 70 = 375 min (22,500 s): the dashboard's figures for March and Alpha.
"""

import io
from datetime import date, datetime, time
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from mediation.clock import to_utc
from mediation.extensions import db
from mediation.mediators import operations as mediator_operations
from mediation.models import (
    Assignment,
    AssignmentState,
    AttestationOutcome,
    LogState,
    MacroAction,
    MediationRequest,
    Outcome,
    RequestKind,
    RequestState,
    Role,
    SessionAttestation,
    SessionLog,
)
from mediation.reporting import aggregates, sheets, tariffs

from tests.conftest import login

D = Decimal
MARCH = date(2025, 3, 1)


def rome(day: date, hour: int, minute: int = 0) -> datetime:
    return to_utc(day, time(hour, minute))


class World:
    pass


@pytest.fixture
def world(factory) -> World:
    w = World()
    w.alpha = factory.ambito(code="ALPHA", name="Ambito Alpha")
    w.beta = factory.ambito(code="BETA", name="Ambito Beta")
    w.gamma = factory.ambito(code="GAMMA", name="Ambito Gamma")
    w.a1 = factory.school(w.alpha, name="IC Alpha Uno")
    w.a2 = factory.school(w.alpha, name="IC Alpha Due")
    w.b1 = factory.school(w.beta, name="IC Beta Uno")
    w.project = factory.project(code="P", title="Progetto P", start_date=date(2025, 1, 1),
                                end_date=date(2025, 12, 31))
    w.m1 = factory.add(MacroAction(project=w.project, number=1, title_it="Macro uno",
                                   title_en="Macro one"))
    meeting = factory.request_type(code="meeting", position=1)
    translation = factory.request_type(code="translation", kind=RequestKind.deadline,
                                       default_duration_minutes=None, position=2)
    w.med = factory.mediator(ambiti=[w.alpha, w.beta], display_name="Med Uno")
    w.med.employer = "Cooperativa Alfa"
    w.med.rates[0].hourly_cost = D("20")
    w.med2 = factory.mediator(ambiti=[w.alpha], display_name="Med Due")
    w.med2.employer = "Cooperativa Beta"
    w.med2.rates[0].hourly_cost = D("30")
    w.coordinator = factory.user(Role.coordinator, ambito=w.alpha)
    w.coordinator_beta = factory.user(Role.coordinator, ambito=w.beta)
    w.coordinator_gamma = factory.user(Role.coordinator, ambito=w.gamma)
    w.admin = factory.user(Role.admin)
    w.teacher = factory.user(Role.teacher, school=w.a1)
    w.logs = {}

    def session(name, mediator, school, start, end, outcome=Outcome.held, *, deadline=None,
                pages=None, state=LogState.approved):
        request = factory.add(MediationRequest(
            project=w.project, school=school, requester=w.teacher,
            type=translation if deadline else meeting, language=factory.language(),
            state=RequestState.closed, duration_minutes=None if deadline else 60,
            deadline_dt=deadline, created_dt=rome(date(2025, 2, 1), 9)))
        assignment = factory.add(Assignment(
            request=request, mediator=mediator, state=AssignmentState.accepted,
            start_dt=start, end_dt=end, deadline_dt=deadline,
            offered_dt=rome(date(2025, 2, 1), 10)))
        w.logs[name] = factory.add(SessionLog(
            assignment=assignment, actual_start_dt=start, actual_end_dt=end,
            pupils_met=1 if outcome == Outcome.held else 0, parents_met=0, teachers_met=0,
            outcome=outcome, macro_action=w.m1, state=state, pages=pages,
            words=pages and 900))

    w.session = session  # more sessions, for the tests that need them
    d = date
    session("S0", w.med, w.a1, rome(d(2025, 3, 1), 0, 15), rome(d(2025, 3, 1), 0, 45))
    session("S1", w.med, w.a1, rome(d(2025, 3, 10), 10), rome(d(2025, 3, 10), 11, 30))
    session("S2", w.med, w.a1, rome(d(2025, 3, 12), 9), rome(d(2025, 3, 12), 10),
            Outcome.family_absent)
    session("S3", w.med, w.a2, rome(d(2025, 3, 20), 14), rome(d(2025, 3, 20), 15, 20))
    session("S4", w.med, w.a2, rome(d(2025, 3, 25), 10), rome(d(2025, 3, 25), 10, 45),
            Outcome.cancelled_late)
    session("T1", w.med, w.a2, None, None, deadline=rome(d(2025, 3, 18), 12), pages=3)
    session("S8", w.med, w.b1, rome(d(2025, 3, 14), 10), rome(d(2025, 3, 14), 11))
    session("S5", w.med2, w.a1, rome(d(2025, 3, 5), 9), rome(d(2025, 3, 5), 10, 10))
    session("S9", w.med, w.a1, rome(d(2025, 4, 1), 0, 30), rome(d(2025, 4, 1), 1))
    session("X1", w.med, w.a1, rome(d(2025, 3, 21), 9), rome(d(2025, 3, 21), 10),
            state=LogState.submitted)
    db.session.commit()
    tariffs.add_tariff(w.admin, w.project, D("12.50"), d(2025, 1, 1))
    mediator_operations.add_rate(w.coordinator, w.med, D("25"), d(2025, 3, 15))
    db.session.commit()
    return w


def alpha_sheet(w, user=None, locale="it"):
    user = user or w.coordinator
    return sheets.timesheet(sheets.month_filter(MARCH, w.alpha.id, w.med.id), user, locale)


# --- the timesheet -------------------------------------------------------------


def test_the_timesheet_lists_the_months_sessions_and_its_totals_are_the_dashboards(world):
    w = world
    sheet = alpha_sheet(w)
    names = {log.id: name for name, log in w.logs.items()}
    assert [names[row.log_id] for row in sheet["sessions"]] == ["S0", "S1", "S2", "S3", "S4"]
    assert [names[row.log_id] for row in sheet["translations"]] == ["T1"]
    assert [row.day for row in sheet["sessions"]][0] == date(2025, 3, 1)  # Rome's day
    assert [(row.held, row.seconds, row.delivered_seconds) for row in sheet["sessions"]] == [
        (True, 1800, 1800), (True, 5400, 5400), (False, 3600, 0), (True, 4800, 4800),
        (False, 2700, 0)]
    assert [row.amount for row in sheet["sessions"]] == [
        D("10.00"), D("30.00"), D("20.00"), D("33.33"), D("18.75")]
    assert sheet["translations"][0].amount == D("37.50")
    assert sheet["translated_pages"] == 3
    assert sheet["projects"] == ["P"]
    totals = sheet["totals"]
    assert (totals["delivered_seconds"], totals["paid_seconds"], totals["cost"]) == (
        12000, 18300, D("149.58"))
    assert (totals["delivered_hours"], totals["paid_hours"]) == (D("3.33"), D("5.08"))
    # Rows not rounded then added: their exact sum is the total, to the cent.
    exact = sum(row.cost for row in (*sheet["sessions"], *sheet["translations"]))
    assert aggregates.euros(exact) == totals["cost"]
    # The dashboard's own figures for the same filter (month, Ambito, mediator).
    report = sheets.month_filter(MARCH, w.alpha.id, w.med.id)
    assert aggregates.totals(report, w.coordinator)["cost"] == D("149.58")
    assert aggregates.paid(report, w.coordinator)["seconds"] == 18300
    # The amounts by rate: the rate change mid-month, and the page tariff.
    assert [(p["hourly_cost"], p["page_cost"], p["paid_seconds"], p["pages"], p["amount"])
            for p in sheet["prices"]] == [
        (D("20.00"), None, 10800, 0, D("60.00")),
        (D("25.00"), None, 7500, 0, D("52.08")),
        (None, D("12.50"), 0, 3, D("37.50")),
    ]


def test_attested_by_names_who_attested_or_disputed(world, factory):
    """The "attested by" column: the name of who attested the session at the school; a
    disputed session says so; a pending one is empty (never an invented name)."""
    w = world
    lead = factory.user(Role.lead, school=w.a1, display_name="Preside Uno")
    for name, outcome, by in (("S1", AttestationOutcome.attested, w.teacher),
                              ("S2", AttestationOutcome.disputed, lead)):
        factory.add(SessionAttestation(log=w.logs[name], outcome=outcome, by=by,
                                       reason="Non si è svolto" if by is lead else None,
                                       at=w.logs[name].actual_end_dt))
    db.session.commit()
    rows = {row.log_id: row.attested_by
            for row in (*alpha_sheet(w)["sessions"], *alpha_sheet(w)["translations"])}
    assert rows.pop(w.logs["S1"].id) == w.teacher.display_name
    assert rows.pop(w.logs["S2"].id) == "Contestata da Preside Uno"
    assert set(rows.values()) == {None}  # S0, S3, S4, T1: pending


def test_each_reader_sees_the_sessions_of_their_scope(world):
    w = world
    beta = sheets.timesheet(sheets.month_filter(MARCH, w.beta.id, w.med.id),
                            w.coordinator_beta, "it")
    assert [row.log_id for row in beta["sessions"]] == [w.logs["S8"].id]
    assert beta["totals"]["cost"] == D("20.00")
    everything = sheets.timesheet(sheets.month_filter(MARCH, None, w.med.id), w.admin, "it")
    assert everything["totals"]["cost"] == D("169.58")
    own = sheets.timesheet(sheets.month_filter(MARCH, None, w.med.id), w.med.user, "it")
    assert own["totals"]["cost"] == D("169.58")
    assert len(own["sessions"]) == 6


def test_the_timesheet_page_and_who_may_open_it(client, world):
    w = world
    url = f"/reporting/timesheets/{w.med.id}?month=2025-03"
    login(client, w.coordinator)
    page = client.get(url)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Foglio presenze" in text and "Cooperativa Alfa" in text
    assert 'data-total="amount" data-value="149.58"' in text
    assert "149,58" in text and "5 h 5 min" in text and "3 h 20 min" in text
    assert "Firma del lavoratore" in text and "Firma del supervisore" in text
    assert client.get(f"/reporting/timesheets/{w.med.id}?month=2025-3x").status_code == 200
    for other in (w.coordinator_gamma, w.teacher, w.med2.user):
        login(client, other)
        assert client.get(url).status_code == 404, other.role
        assert client.get(url.replace("?", ".xlsx?")).status_code == 404, other.role
    login(client, w.med.user)
    assert client.get(url).status_code == 200
    assert client.get(f"/reporting/timesheets/{w.med2.id}?month=2025-03").status_code == 404
    login(client, w.admin)
    assert 'data-value="169.58"' in client.get(url).get_data(as_text=True)
    assert 'data-value="20.00"' in client.get(
        f"{url}&ambito={w.beta.id}").get_data(as_text=True)
    assert client.get(f"{url}&ambito=999999").status_code == 404


def test_a_mediator_who_left_the_ambito_keeps_their_timesheets(client, world):
    """Med Due no longer serves Alpha: Alpha's coordinator still opens (and downloads)
    the March sheet of the session Med Due held there; Gamma's coordinator, where Med Due
    never worked nor serves, still gets a 404."""
    w = world
    w.med2.ambiti = [w.beta]
    db.session.commit()
    url = f"/reporting/timesheets/{w.med2.id}?month=2025-03"
    login(client, w.coordinator)
    assert client.get(f"/mediators/{w.med2.id}").status_code == 404  # no longer theirs
    page = client.get(url)
    assert page.status_code == 200
    assert 'data-total="amount" data-value="35.00"' in page.get_data(as_text=True)
    assert client.get(url.replace("?", ".xlsx?")).status_code == 200
    login(client, w.coordinator_gamma)
    assert client.get(url).status_code == 404


def test_a_bad_month_is_said_next_to_the_field_and_kept(client, world):
    login(client, world.coordinator)
    text = client.get(f"/reporting/timesheets/{world.med.id}?month=2025-13").get_data(
        as_text=True)
    assert 'value="2025-13"' in text and 'aria-invalid="true"' in text
    assert "Scrivi il mese come AAAA-MM." in text


def test_the_timesheet_workbook_has_the_same_content(client, world):
    w = world
    login(client, w.coordinator)
    response = client.get(f"/reporting/timesheets/{w.med.id}.xlsx?month=2025-03")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith('.xlsx"')
    book = load_workbook(io.BytesIO(response.data))
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:6] == ("Data", "Scuola", "Ora di inizio", "Ora di fine", "Ore erogate",
                           "Ore pagate")
    assert len([r for r in rows[1:] if isinstance(r[0], datetime)]) == 6
    [total] = [r for r in rows if r[0] == "Totale"]
    assert round(total[4], 2) == 3.33 and round(total[5], 2) == 5.08
    assert total[6] == 3 and total[12] == 149.58
    # The hours and amounts of the rows add up to the totals.
    assert round(sum(r[5] or 0 for r in rows[1:7]), 6) == round(18300 / 3600, 6)
    assert round(sum(r[12] for r in rows[1:7]), 2) == 149.58
    assert cell_format(sheet, 2, 5) == "0.00"
    assert any(r[0] == "Firma del lavoratore" for r in rows)
    heading = dict(book.worksheets[1].iter_rows(values_only=True))
    assert heading["Mediatore"] == "Med Uno" and heading["Cooperativa"] == "Cooperativa Alfa"
    english = load_workbook(io.BytesIO(client.get(
        f"/reporting/timesheets/{w.med.id}.xlsx?month=2025-03&lang=en").data))
    assert next(english.worksheets[0].iter_rows(values_only=True))[4] == "Hours delivered"


def cell_format(sheet, row: int, column: int) -> str:
    return sheet.cell(row=row, column=column).number_format


# --- the cooperative statement ---------------------------------------------------


def test_the_statement_reconciles_with_the_dashboard_to_the_cent(world):
    w = world
    result = sheets.statement(sheets.month_filter(MARCH, w.alpha.id), w.coordinator)
    assert [(c["name"], [m["name"] for m in c["mediators"]], c["amount"])
            for c in result["cooperatives"]] == [
        ("Cooperativa Alfa", ["Med Uno"], D("149.58")),
        ("Cooperativa Beta", ["Med Due"], D("35.00"))]
    [med] = result["cooperatives"][0]["mediators"]
    assert (med["delivered_seconds"], med["paid_seconds"], med["pages"]) == (12000, 18300, 3)
    total = result["total"]
    assert (total["delivered_seconds"], total["paid_seconds"], total["amount"]) == (
        16200, 22500, D("184.58"))
    dashboard = aggregates.dashboard(sheets.month_filter(MARCH, w.alpha.id), w.coordinator)
    assert dashboard["totals"]["cost"] == result["dashboard"]["cost"] == D("184.58")
    assert dashboard["paid"]["seconds"] == 22500
    assert dashboard["totals"]["seconds"] == 16200
    assert result["reconciled"] and result["difference"] == 0


def test_the_statement_page_and_who_may_open_it(client, world):
    w = world
    login(client, w.coordinator)
    text = client.get("/reporting/statement?month=2025-03").get_data(as_text=True)
    assert "Prospetto della cooperativa" in text
    assert 'data-total="statement" data-value="184.58"' in text
    assert 'data-total="dashboard" data-value="184.58"' in text
    assert 'data-reconciled="1"' in text
    assert "Cooperativa Alfa" in text and "Cooperativa Beta" in text
    workbook = load_workbook(io.BytesIO(client.get(
        "/reporting/statement.xlsx?month=2025-03").data))
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    [total] = [r for r in rows if r[0] == "Totale"]
    assert total[7] == pytest.approx(184.5833333, abs=1e-6)
    [difference] = [r for r in rows if r[0] == "Differenza"]
    assert difference[7] == 0
    # The coordinator's own Ambito whatever is asked for.
    assert client.get(f"/reporting/statement?month=2025-03&ambito={w.beta.id}"
                      ).status_code == 200
    for other in (w.med.user, w.teacher):
        login(client, other)
        assert client.get("/reporting/statement?month=2025-03").status_code == 404
        assert client.get("/reporting/statement.xlsx?month=2025-03").status_code == 404
    login(client, w.admin)
    text = client.get(f"/reporting/statement?month=2025-03&ambito={w.beta.id}").get_data(
        as_text=True)
    assert 'data-total="statement" data-value="20.00"' in text
    text = client.get("/reporting/statement?month=2025-03").get_data(as_text=True)
    assert 'data-total="statement" data-value="204.58"' in text
    assert 'data-reconciled="1"' in text


def test_the_sheets_are_linked_from_the_agenda_the_mediators_pages_and_the_dashboard(
        client, world):
    w = world
    timesheet = f'href="/reporting/timesheets/{w.med.id}"'
    login(client, w.med.user)
    assert timesheet in client.get("/agenda").get_data(as_text=True)
    assert timesheet in client.get("/mediators/me/week").get_data(as_text=True)
    login(client, w.coordinator)
    assert timesheet in client.get(f"/mediators/{w.med.id}/week").get_data(as_text=True)
    dashboard = client.get("/reporting/?start=2025-03-01&end=2025-03-31").get_data(
        as_text=True)
    assert 'href="/reporting/statement?month=2025-03"' in dashboard
    statement = client.get("/reporting/statement?month=2025-03").get_data(as_text=True)
    assert f'href="/reporting/timesheets/{w.med.id}?month=2025-03"' in statement
