"""Issue #18, the cost definitions: a rate history, a translation tariff, delivered against
paid. Every expected figure below is computed by hand from this table.

One Ambito, Alpha (schools A1, A2, A3; requesters t1, t2, t3), one project P (2025; budget
€ 1,000), macro-action M1 (Alpha's plan: 10 h). One mediator, med: € 20/h from the start;
then, entered late (on 10 April) for a past day, € 30/h from 15 February 2025. P's
translations: € 12.50 a page from 1 January 2025. Today: 10 April 2025.

====  ======  ===========================  ============== ======  ======  ====  ======  =======
name  school  when (Europe/Rome)           outcome        hours   rate    pax   paid    cost
====  ======  ===========================  ============== ======  ======  ====  ======  =======
T1    A1      2025-01-20 10:00-11:30        held           1.5     20      1+2+1 1.5 h   30.00
T2    A1      2025-02-10 09:00-10:00        family absent  (0)     20      (0+0+1) 1 h   20.00
T6    A1      2025-02-15 00:30-01:00        held           0.5     30      0+1+0 0.5 h   15.00
T3    A2      2025-02-20 14:00-16:00        held           2       30      0+1+0 2 h     60.00
T4    A3      2025-03-05 10:00-10:45        cancelled late (0)     30      0     0.75 h  22.50
T5    A1      translation due 03-10 12:00   held           —       4 p × 12.50  —       50.00
====  ======  ===========================  ============== ======  ======  ====  ======  =======

T6 starts at 00:30 in Rome on 15 February, 23:30 UTC on the 14th: the Rome day is the
15th, so the new rate applies (a UTC day would give € 20 and € 10). pax = pupils + parents
+ teachers met; T2's teacher, present when the family did not come, is no contact.

Delivered (held: T1, T3, T5, T6): 4 sessions, 1.5 + 2 + 0.5 = 4 h (14,400 s); contacts
4 + 1 + 1 = 6; pupils: C1 (T1) = 1 (T2's C2 was never met); parents: C1's family 2 (T1)
= 2, and T3's and T6's parents (meetings naming no pupil nor family code) 2 not
identified, apart; beneficiaries 3; schools reached A1, A2 = 2 (A3 had
only T4); teachers reached t1, t2 = 2; documents translated 1, 4 pages.
Paid (every approved session): 6 sessions, 4 + 1 + 0.75 = 5.75 h (20,700 s); not held 2
(T2, T4), 1.75 h (6,300 s). Cost 30 + 20 + 15 + 60 + 22.50 + 50 = € 197.50.
Before the late rate: 30 + 20 + 10 + 40 + 15 + 50 = € 165.00; before the tariff too:
€ 115.00.
No-show rate (meetings, translations aside): A1 1 of 3 (T2), A2 0 of 1, A3 1 of 1 (T4);
Alpha 2 of 5 = 0.4.
Budget: cost in Q1 = spent to date = € 197.50 (nothing after today), remaining € 802.50.
Hours against the plan: M1 used 4 h (delivered) of 10 h, 40 %.
"""

import csv
import io
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
import sqlalchemy as sa

from mediation.clock import to_utc
from mediation.errors import InvalidInput, NotAllowed
from mediation.extensions import db
from mediation.mediators import operations as mediator_operations
from mediation.models import (
    ApprovedSessionTotal,
    Assignment,
    AssignmentState,
    AuditEvent,
    BudgetLine,
    LogState,
    MacroAction,
    MediationRequest,
    MediatorRate,
    Outcome,
    PlannedHours,
    PupilCase,
    RequestKind,
    RequestState,
    Role,
    SessionLog,
)
from mediation.models.geo import Cycle
from mediation.models.totals import REBUILD
from mediation.reporting import aggregates, exports, tariffs
from mediation.reporting.filters import ReportFilter

D = Decimal
Q1 = ReportFilter(start=date(2025, 1, 1), end=date(2025, 3, 31))
TODAY = date(2025, 4, 10)


def rome(day: date, hour: int, minute: int = 0) -> datetime:
    return to_utc(day, time(hour, minute))


class World:
    pass


def build(factory, *, late_rate=True, tariff=True) -> World:
    w = World()
    w.alpha = factory.ambito(code="ALPHA", name="Ambito Alpha")
    w.beta = factory.ambito(code="BETA", name="Ambito Beta")
    w.a1 = factory.school(w.alpha, code="ALIC00001A", name="IC Alpha Uno")
    w.a2 = factory.school(w.alpha, code="ALIC00002A", name="IC Alpha Due")
    w.a3 = factory.school(w.alpha, code="ALIC00003A", name="IC Alpha Tre")
    w.project = factory.project(code="P", title="Progetto P", start_date=date(2025, 1, 1),
                                end_date=date(2025, 12, 31))
    factory.add(BudgetLine(project=w.project, label="Iniziale", amount=D("1000.00")))
    w.m1 = factory.add(MacroAction(project=w.project, number=1, title_it="Macro 1",
                                   title_en="Macro 1 en"))
    factory.add(PlannedHours(ambito=w.alpha, macro_action=w.m1, hours=D("10")))
    meeting = factory.request_type(code="meeting", position=1)
    translation = factory.request_type(code="translation", kind=RequestKind.deadline,
                                       default_duration_minutes=None, position=2)
    w.med = factory.mediator(ambiti=[w.alpha], ambito=w.alpha, display_name="Med Uno")
    w.med.rates[0].hourly_cost = D("20")
    w.coordinator = factory.user(Role.coordinator, ambito=w.alpha)
    w.coordinator_beta = factory.user(Role.coordinator, ambito=w.beta)
    w.admin = factory.user(Role.admin)
    requesters = {school: factory.user(Role.teacher, school=school)
                  for school in (w.a1, w.a2, w.a3)}
    cases = {"C1": factory.add(PupilCase(school=w.a1, code="A1-001", class_name="2B",
                                         cycle=Cycle.primaria)),
             "C2": factory.add(PupilCase(school=w.a1, code="A1-002", class_name="3B",
                                         cycle=Cycle.primaria))}
    w.logs = {}

    def session(name, school, start, end, outcome=Outcome.held, *, case=None, met=(0, 0, 0),
                deadline=None, pages=None):
        request = factory.add(MediationRequest(
            project=w.project, school=school, requester=requesters[school],
            type=translation if deadline else meeting, language=factory.language(),
            pupil_case=cases.get(case), state=RequestState.closed,
            duration_minutes=None if deadline else 60, deadline_dt=deadline,
            created_dt=rome(date(2025, 1, 2), 9)))
        assignment = factory.add(Assignment(
            request=request, mediator=w.med, state=AssignmentState.accepted,
            start_dt=start, end_dt=end, deadline_dt=deadline,
            offered_dt=rome(date(2025, 1, 2), 10)))
        w.logs[name] = factory.add(SessionLog(
            assignment=assignment, actual_start_dt=start, actual_end_dt=end,
            pupils_met=met[0], parents_met=met[1], teachers_met=met[2], outcome=outcome,
            macro_action=w.m1, state=LogState.approved, pages=pages, words=pages and 1000))

    d = date
    session("T1", w.a1, rome(d(2025, 1, 20), 10), rome(d(2025, 1, 20), 11, 30), case="C1",
            met=(1, 2, 1))
    session("T2", w.a1, rome(d(2025, 2, 10), 9), rome(d(2025, 2, 10), 10),
            Outcome.family_absent, case="C2", met=(0, 0, 1))
    session("T6", w.a1, rome(d(2025, 2, 15), 0, 30), rome(d(2025, 2, 15), 1), met=(0, 1, 0))
    session("T3", w.a2, rome(d(2025, 2, 20), 14), rome(d(2025, 2, 20), 16), met=(0, 1, 0))
    session("T4", w.a3, rome(d(2025, 3, 5), 10), rome(d(2025, 3, 5), 10, 45),
            Outcome.cancelled_late)
    session("T5", w.a1, None, None, deadline=rome(d(2025, 3, 10), 12), pages=4)
    db.session.commit()
    if tariff:
        tariffs.add_tariff(w.admin, w.project, D("12.50"), d(2025, 1, 1))
        db.session.commit()
    if late_rate:
        mediator_operations.add_rate(w.coordinator, w.med, D("30"), d(2025, 2, 15))
        db.session.commit()
    return w


@pytest.fixture
def world(factory) -> World:
    return build(factory)


# --- the rate history and the tariff ------------------------------------------


def test_cost_uses_the_rate_valid_on_each_sessions_rome_day(world):
    totals = aggregates.totals(Q1, world.coordinator)
    assert totals == {"sessions": 4, "hours": D("4.00"), "seconds": 14400,
                      "cost": D("197.50")}
    # Each log keeps the rate it costs: T6 (23:30 UTC on the 14th) is on the 15th in Rome.
    rates = {name: log.rate.hourly_cost if log.rate else None
             for name, log in world.logs.items()}
    assert rates == {"T1": D("20.00"), "T2": D("20.00"), "T6": D("30.00"),
                     "T3": D("30.00"), "T4": D("30.00"), "T5": None}
    assert world.logs["T5"].tariff.page_cost == D("12.50")


def test_a_rate_or_tariff_entered_late_changes_the_past_sessions_it_covers(factory):
    w = build(factory, late_rate=False, tariff=False)
    assert aggregates.totals(Q1, w.coordinator)["cost"] == D("115.00")
    tariffs.add_tariff(w.admin, w.project, D("12.50"), date(2025, 1, 1))
    db.session.commit()
    assert aggregates.totals(Q1, w.coordinator)["cost"] == D("165.00")
    [project] = aggregates.budget(Q1, w.admin, today=TODAY)
    assert project["spent_to_date"] == D("165.00")
    mediator_operations.add_rate(w.coordinator, w.med, D("30"), date(2025, 2, 15))
    db.session.commit()
    assert aggregates.totals(Q1, w.coordinator)["cost"] == D("197.50")
    # The running totals moved with the logs: the budget to date agrees.
    [project] = aggregates.budget(Q1, w.admin, today=TODAY)
    assert project["spent_to_date"] == D("197.50")


def test_running_totals_match_a_rebuild_after_the_late_rate(world):
    columns = (ApprovedSessionTotal.project_id, ApprovedSessionTotal.school_id,
               ApprovedSessionTotal.rate_id, ApprovedSessionTotal.tariff_id,
               ApprovedSessionTotal.sessions, ApprovedSessionTotal.seconds,
               ApprovedSessionTotal.pages, ApprovedSessionTotal.held_sessions,
               ApprovedSessionTotal.held_seconds)
    kept = {tuple(row) for row in db.session.execute(
        sa.select(*columns).where(ApprovedSessionTotal.sessions > 0))}
    db.session.execute(sa.delete(ApprovedSessionTotal))
    db.session.execute(sa.text(REBUILD[db.session.get_bind().dialect.name]))
    assert {tuple(row) for row in db.session.execute(sa.select(*columns))} == kept
    db.session.rollback()


def test_adding_a_rate_is_checked_and_audited(world):
    with pytest.raises(InvalidInput) as refused:
        mediator_operations.add_rate(world.admin, world.med, D("35"), date(2025, 2, 15))
    assert refused.value.field == "valid_from"  # not after the latest rate's day
    with pytest.raises(InvalidInput) as refused:
        mediator_operations.add_rate(world.admin, world.med, D("-1"), date(2025, 6, 1))
    assert refused.value.field == "hourly_cost"
    with pytest.raises(NotAllowed):  # not a coordinator of an Ambito the mediator serves
        mediator_operations.add_rate(world.coordinator_beta, world.med, D("35"),
                                     date(2025, 6, 1))
    with pytest.raises(NotAllowed):  # tariffs are the admin's
        tariffs.add_tariff(world.coordinator, world.project, D("10"), date(2025, 6, 1))
    events = db.session.execute(sa.select(AuditEvent.action, AuditEvent.actor_id,
                                          AuditEvent.data)
                                .where(AuditEvent.action.in_(("mediator.rate_added",
                                                              "project.tariff_added")))
                                .order_by(AuditEvent.id)).all()
    rate = db.session.scalar(sa.select(MediatorRate).where(
        MediatorRate.valid_from == date(2025, 2, 15)))
    assert [(action, actor) for action, actor, _data in events] == [
        ("project.tariff_added", world.admin.id), ("mediator.rate_added", world.coordinator.id)]
    assert events[1].data == {"rate_id": rate.id, "valid_from": "2025-02-15"}
    assert rate.created_by_id == world.coordinator.id


# --- delivered against paid ---------------------------------------------------


def test_no_shows_are_paid_not_delivered(world):
    figures = aggregates.dashboard(Q1, world.coordinator, today=TODAY)
    assert figures["paid"] == {"sessions": 6, "hours": D("5.75"), "seconds": 20700,
                               "not_held": 2, "not_held_hours": D("1.75"),
                               "not_held_seconds": 6300}
    people = figures["beneficiaries"]
    # T3's and T6's meetings name no pupil and no family code: their parents are not
    # identified, kept apart (the beneficiaries' definition of issue #18).
    assert (people["pupils"], people["parents"], people["beneficiaries"]) == (1, 2, 3)
    assert people["unidentified_parents"] == 2
    assert (people["contacts"], people["teacher_contacts"]) == (6, 1)
    assert figures["reach"] == {"schools": 2, "teachers": 2, "teachers_met": 1}
    assert figures["documents_translated"] == {"documents": 1, "pages": 4, "words": 1000}
    [month_jan, month_feb, month_mar] = figures["hours_by_month"]
    assert [(m["sessions"], m["seconds"]) for m in (month_jan, month_feb, month_mar)] == [
        (1, 5400), (2, 9000), (1, 0)]
    [planned] = figures["hours_vs_planned"]
    assert (planned["used_seconds"], planned["used_total_seconds"], planned["share_used"]) \
        == (14400, 14400, D("0.4"))


def test_no_show_rate_per_school_and_ambito(world):
    rows = aggregates.no_shows(Q1, world.coordinator)
    assert [(r["name"], r["sessions"], r["family_absent"], r["cancelled_late"], r["rate"])
            for r in rows["ambiti"]] == [("Ambito Alpha", 5, 1, 1, D("0.4"))]
    assert [(r["name"], r["sessions"], r["not_held"], r["rate"]) for r in rows["schools"]] == [
        ("IC Alpha Due", 1, 0, D(0)), ("IC Alpha Tre", 1, 1, D(1)),
        ("IC Alpha Uno", 3, 1, D(1) / 3)]
    # Another Ambito's coordinator sees none of them.
    assert aggregates.no_shows(Q1, world.coordinator_beta) == {"ambiti": [], "schools": []}


def test_budget_counts_what_is_paid(world):
    [project] = aggregates.budget(Q1, world.admin, today=TODAY)
    assert (project["cost_in_period"], project["spent_to_date"], project["remaining"]) == (
        D("197.50"), D("197.50"), D("802.50"))
    # The coordinator's cost in the period is their Ambito's: the same here.
    [project] = aggregates.budget(Q1, world.coordinator, today=TODAY)
    assert project["cost_in_period"] == D("197.50")


# --- the exports reconcile with the dashboard ---------------------------------


def test_sessions_export_carries_rate_cost_and_delivered(world):
    table = exports.table("sessions", Q1, world.coordinator, "en")
    headers = [column.header for column in table.columns]
    rows = [dict(zip(headers, row, strict=True)) for row in table.rows]
    got = [(r["Date"], r["Delivered"], r["Hourly rate"], r["Tariff per page"], r["Cost"])
           for r in rows]
    assert got == [
        (date(2025, 1, 20), "Yes", D("20.00"), None, D("30")),
        (date(2025, 2, 10), "No", D("20.00"), None, D("20")),
        (date(2025, 2, 15), "Yes", D("30.00"), None, D("15")),
        (date(2025, 2, 20), "Yes", D("30.00"), None, D("60")),
        (date(2025, 3, 5), "No", D("30.00"), None, D("22.5")),
        (date(2025, 3, 10), "Yes", None, D("12.50"), D("50")),
    ]
    # The column adds up to the dashboard's cost, to the cent.
    assert sum(r["Cost"] for r in rows) == aggregates.totals(Q1, world.coordinator)["cost"]


def test_summary_export_reconciles_with_the_dashboard(world):
    table = exports.table("summary", Q1, world.coordinator, "en")
    headers = [column.header for column in table.columns]
    total = dict(zip(headers, list(table.rows)[-1], strict=True))
    assert (total["Sessions held"], total["Minutes held"], total["Sessions not held"],
            total["Minutes paid"], total["Cost"]) == (4, 240, 2, 345, D("197.5"))
    assert (total["Pupils met"], total["Parents met"], total["Teachers met"],
            total["Participants"]) == (1, 4, 1, 6)


def test_the_csv_writes_the_cost_in_the_locale(app, world, client, auth):
    auth.login(world.coordinator)
    response = client.get("/reporting/export/sessions.csv?start=2025-01-01&end=2025-03-31")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True)[1:]),
                               delimiter=";"))
    assert [(r["Svolto"], r["Costo"]) for r in rows] == [
        ("Sì", "30,00"), ("No", "20,00"), ("Sì", "15,00"), ("Sì", "60,00"), ("No", "22,50"),
        ("Sì", "50,00")]


# --- the screens --------------------------------------------------------------


def test_the_dashboard_shows_hours_paid_and_the_no_show_rate(app, world, client, auth):
    auth.login(world.coordinator)
    page = client.get("/reporting/?start=2025-01-01&end=2025-03-31").get_data(as_text=True)
    assert 'data-total="paid-hours" data-value="5.75"' in page
    assert 'data-total="hours" data-value="4.00"' in page
    assert 'data-total="cost" data-value="197.50"' in page
    assert f'data-no-shows-ambito="{world.alpha.id}"' in page
    assert 'data-value="0.4"' in page


def test_the_rates_screen(app, world, client, auth):
    url = f"/mediators/{world.med.id}/rates"
    auth.login(world.coordinator)
    page = client.get(url)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'data-valid-from="2025-02-15"' in text and 'data-valid-from="2000-01-01"' in text
    refused = client.post(url, data={"hourly_cost": "40", "valid_from": "2025-02-01"})
    assert refused.status_code == 400
    added = client.post(url, data={"hourly_cost": "40", "valid_from": "2025-03-01"})
    assert added.status_code == 302
    # T4 (5 March) now costs 0.75 h × 40 = 30 €: 197.50 − 22.50 + 30 = 205.00.
    assert aggregates.totals(Q1, world.coordinator)["cost"] == D("205.00")
    for user in (world.coordinator_beta, world.med.user):
        auth.logout()
        auth.login(user)
        assert client.get(url).status_code in (403, 404)


def test_the_tariffs_screen_is_the_admins(app, world, client, auth):
    auth.login(world.admin)
    page = client.get("/reporting/tariffs")
    assert page.status_code == 200 and 'data-valid-from="2025-01-01"' in page.get_data(
        as_text=True)
    added = client.post("/reporting/tariffs", data={
        "project": str(world.project.id), "page_cost": "15", "valid_from": "2025-03-01"})
    assert added.status_code == 302
    # T5 (due 10 March) now costs 4 × 15 = 60 €: 197.50 + 10 = 207.50.
    assert aggregates.totals(Q1, world.admin)["cost"] == D("207.50")
    auth.logout()
    auth.login(world.coordinator)
    assert client.get("/reporting/tariffs").status_code in (403, 404)


def test_times_are_utc_in_the_rate_rows(world):
    rate = db.session.scalar(sa.select(MediatorRate).where(
        MediatorRate.valid_from == date(2025, 2, 15)))
    assert rate.valid_from_dt == datetime(2025, 2, 14, 23, tzinfo=UTC)
