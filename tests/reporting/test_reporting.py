"""The dashboard's figures, against numbers computed by hand on tests/scenarios/reporting_data.py.

The docstring of that module has the table of sessions every expected value comes from.
"""

import csv
import io
import json
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from mediation.extensions import db
from mediation.models import (
    Assignment,
    AssignmentState,
    LogState,
    MediationRequest,
    Outcome,
    RequestState,
    Role,
    SessionLog,
)
from mediation.reporting import aggregates
from mediation.reporting.filters import (
    OutOfScope,
    ReportFilter,
    default_period,
    month_starts,
    parse_filter,
)

from tests.conftest import login
from tests.scenarios import reporting_data
from tests.scenarios.booking import rome
from tests.scenarios.reporting_data import Q1, TODAY

D = Decimal


@pytest.fixture
def data(factory):
    return reporting_data.build(factory)


def q1(**kw) -> ReportFilter:
    return ReportFilter(start=Q1[0], end=Q1[1], **kw)


def period(start: date, end: date, **kw) -> ReportFilter:
    return ReportFilter(start=start, end=end, **kw)


# --- totals, hours, months, types --------------------------------------------


def test_totals_count_approved_sessions_of_the_ambito_only(app, data):
    # S1..S6: 1 + 0.5 + 1 + 1 + 0 + 0.75 h; cost med1 (30 €/h) 1.5 h, med2 (20 €/h) 2.75 h.
    # Beside the hours as shown, the exact seconds (the page writes "4 h 15 min").
    assert aggregates.totals(q1(), data.coordinator) == {
        "sessions": 6, "hours": D("4.25"), "seconds": 15300, "cost": D("100.00")}
    # The admin also sees S8 (Beta, 2 h with med3 at 25 €/h).
    assert aggregates.totals(q1(), data.admin) == {
        "sessions": 7, "hours": D("6.25"), "seconds": 22500, "cost": D("150.00")}
    assert aggregates.totals(q1(), data.coordinator_beta) == {
        "sessions": 1, "hours": D("2.00"), "seconds": 7200, "cost": D("50.00")}


def test_submitted_and_returned_logs_do_not_count(app, data):
    # S9 (submitted) and S10 (returned) are on 12 and 13 February.
    february = period(date(2025, 2, 1), date(2025, 2, 28))
    assert aggregates.totals(february, data.coordinator)["sessions"] == 1  # S3 only
    data.logs["S9"].state = LogState.approved
    db.session.commit()
    assert aggregates.totals(february, data.coordinator) == {
        "sessions": 2, "hours": D("2.00"), "seconds": 7200, "cost": D("50.00")}


def test_hours_by_macro_action(app, data):
    assert aggregates.hours_by_macro_action(q1(), data.coordinator) == [
        {"macro_action_id": data.m1.id, "project_code": "P", "number": 1,
         "title_it": "Macro 1", "title_en": "Macro 1 en",
         "sessions": 4, "hours": D("3.25"), "seconds": 11700, "cost": D("80.00")},
        {"macro_action_id": data.m2.id, "project_code": "P", "number": 2,
         "title_it": "Macro 2", "title_en": "Macro 2 en",
         "sessions": 2, "hours": D("1.00"), "seconds": 3600, "cost": D("20.00")},
    ]


def test_hours_by_month_in_rome_time(app, data):
    months = aggregates.hours_by_month(q1(), data.coordinator)
    assert [m["month"] for m in months] == [date(2025, 1, 1), date(2025, 2, 1),
                                            date(2025, 3, 1)]
    # S2 starts at 23:15 on 31 January (22:15 UTC): January. S3 at 00:15 on 1 February
    # (23:15 UTC on 31 January): February.
    assert [(m["sessions"], m["hours"]) for m in months] == [
        (2, D("1.50")), (1, D("1.00")), (3, D("1.75"))]
    assert months[2]["hours_by_macro_action"] == {data.m1.id: D("0.75"),
                                                  data.m2.id: D("1.00")}
    assert months[0]["hours_by_macro_action"] == {data.m1.id: D("1.50")}


def test_months_across_the_change_to_summer_time(app, data):
    # S6 at 23:00 on 31 March (21:00 UTC) is in March; S7 at 00:30 on 1 April is 22:30 UTC
    # on 31 March: April in Rome (a fixed +1 h offset would put it in March).
    months = aggregates.hours_by_month(period(date(2025, 3, 1), date(2025, 4, 30)),
                                       data.coordinator)
    assert [(m["month"], m["sessions"], m["hours"]) for m in months] == [
        (date(2025, 3, 1), 3, D("1.75")), (date(2025, 4, 1), 1, D("1.00"))]


def test_a_month_without_sessions_is_listed_with_zeros(app, data):
    months = aggregates.hours_by_month(period(date(2025, 5, 15), date(2025, 7, 2)),
                                       data.admin)
    assert [(m["month"], m["sessions"], m["hours"], m["hours_by_macro_action"])
            for m in months] == [(date(2025, 5, 1), 0, D("0.00"), {}),
                                 (date(2025, 6, 1), 0, D("0.00"), {}),
                                 (date(2025, 7, 1), 0, D("0.00"), {})]


def test_sessions_by_type(app, data):
    assert [(r["code"], r["sessions"], r["hours"])
            for r in aggregates.sessions_by_type(q1(), data.coordinator)] == [
        ("family_meeting", 5, D("4.25")), ("translation", 1, D("0.00"))]


# --- period boundaries (Europe/Rome days, both ends included) ----------------


@pytest.mark.parametrize(("start", "end", "sessions", "hours"), [
    # The last day of the period is included (S6 at 23:00), the next day is not (S7).
    (date(2025, 3, 31), date(2025, 3, 31), 1, D("0.75")),
    (date(2025, 4, 1), date(2025, 4, 1), 1, D("1.00")),
    # S11 at 23:00 on 31 December is 22:00 UTC: not on 1 January.
    (date(2025, 1, 1), date(2025, 1, 1), 0, D("0.00")),
    (date(2024, 12, 31), date(2024, 12, 31), 1, D("0.50")),
    # The day clocks go forward: 01:30 → 03:30 on the clock is one hour.
    (date(2025, 3, 30), date(2025, 3, 30), 1, D("1.00")),
    # Either side of midnight at the end of January.
    (date(2025, 1, 31), date(2025, 1, 31), 1, D("0.50")),
    (date(2025, 2, 1), date(2025, 2, 1), 1, D("1.00")),
])
def test_period_boundaries(app, data, start, end, sessions, hours):
    totals = aggregates.totals(period(start, end), data.coordinator)
    assert (totals["sessions"], totals["hours"]) == (sessions, hours)


def test_a_translation_counts_on_its_deadline(app, data):
    on_deadline = aggregates.documents_translated(
        period(date(2025, 3, 10), date(2025, 3, 10)), data.coordinator)
    assert on_deadline == {"documents": 1, "pages": 3, "words": 900}
    assert aggregates.documents_translated(
        period(date(2025, 3, 11), date(2025, 3, 31)), data.coordinator)["documents"] == 0


# --- people ------------------------------------------------------------------


def test_unique_beneficiaries_are_kept_apart_from_contacts(app, data):
    # Issue #18: only people met at held sessions, each once; no code, no identity.
    # Pupils: case C1 (met twice: S1, S2) → 1; C2 is named by S3 but was not there (0
    # pupils met): not counted.
    # Parents once per family (no family code here: a family is its pupil case): C1
    # max(2, 1) = 2, C2 2 → 4, in 2 families. S4 (5) and S6 (1) name no pupil and no
    # family: 6 unidentified parents, apart. S5 (translation) met nobody.
    # Contacts: parents 2+1+2+5+0+1 = 11, pupils 1+1 = 2, teachers 1+1+2 = 4.
    assert aggregates.beneficiaries(q1(), data.coordinator) == {
        "pupils": 1, "parents": 4, "families": 2, "beneficiaries": 5,
        "unidentified_pupils": 0, "unidentified_parents": 6, "unidentified": 6,
        "pupil_contacts": 2, "parent_contacts": 11, "teacher_contacts": 4, "contacts": 17,
    }


def test_a_family_met_again_adds_contacts_not_beneficiaries(app, data, factory):
    # A third meeting about C1, with 3 parents and the pupil: 4 more contacts; C1's family
    # now counts 3 parents (the most met at one session) instead of 2, and no new pupil.
    s1 = data.logs["S1"].assignment
    request = factory.add(MediationRequest(
        project=data.project, school=data.a1, requester=data.teacher, type=data.meeting,
        language=data.arabic, pupil_case=s1.request.pupil_case, state=RequestState.closed,
        duration_minutes=60, created_dt=rome(date(2025, 2, 1), 9)))
    start = rome(date(2025, 2, 20), 10)
    assignment = factory.add(Assignment(request=request, mediator=data.med1,
                                        state=AssignmentState.accepted, start_dt=start,
                                        end_dt=start + timedelta(hours=1)))
    factory.add(SessionLog(assignment=assignment, actual_start_dt=start,
                           actual_end_dt=start + timedelta(hours=1), pupils_met=1,
                           parents_met=3, outcome=Outcome.held, macro_action=data.m1,
                           state=LogState.approved))
    db.session.commit()
    people = aggregates.beneficiaries(q1(), data.coordinator)
    # Issue #18: pupils C1 only (C2 absent); parents C1 3 + C2 2.
    assert (people["pupils"], people["parents"], people["beneficiaries"]) == (1, 5, 6)
    assert (people["pupil_contacts"], people["parent_contacts"], people["contacts"]) == (
        3, 14, 21)


def test_beneficiaries_of_the_region(app, data):
    # + S8: case C3, 3 parents, 1 pupil, 1 teacher (issue #18: C2 absent, S4 and S6
    # unidentified, as for the coordinator).
    assert aggregates.beneficiaries(q1(), data.admin) == {
        "pupils": 2, "parents": 7, "families": 3, "beneficiaries": 9,
        "unidentified_pupils": 0, "unidentified_parents": 6, "unidentified": 6,
        "pupil_contacts": 3, "parent_contacts": 14, "teacher_contacts": 5, "contacts": 22,
    }


def test_schools_and_teachers_reached(app, data):
    # Schools A1, A2; requesters t1 (S1, S2, S5), t1b (S6), t2 (S3, S4).
    assert aggregates.reach(q1(), data.coordinator) == {
        "schools": 2, "teachers": 3, "teachers_met": 4}
    assert aggregates.reach(q1(), data.admin) == {"schools": 3, "teachers": 4,
                                                  "teachers_met": 5}


def test_documents_translated(app, data):
    assert aggregates.documents_translated(q1(), data.coordinator) == {
        "documents": 1, "pages": 3, "words": 900}
    assert aggregates.documents_translated(q1(), data.coordinator_beta) == {
        "documents": 0, "pages": 0, "words": 0}


# --- requests, mediators -----------------------------------------------------


def test_requests_by_state_and_time_to_first_offer(app, data):
    figures = aggregates.requests_by_state(q1(), data.coordinator)
    # Filed in Q1 in Alpha: the requests of S1..S7 (closed), R12 (open), R13 and R14
    # (unfilled; R14 at 23:30 on 31 March). Not R15 (00:10 on 1 April) nor Beta's.
    counts = {row["state"]: row["count"] for row in figures["by_state"]}
    assert counts == {state: 0 for state in RequestState} | {
        RequestState.closed: 7, RequestState.open: 1, RequestState.unfilled: 2}
    assert [row["state"] for row in figures["by_state"]] == list(RequestState)
    # First offers (hours): 6, 24, 2, 48, 1, 4 (S6: med1's declined offer came first),
    # 10 → sorted 1 2 4 6 10 24 48: median 6, average 95 / 7. Issue #18: R14 was offered
    # at 00:30 on 1 April, after the period: not offered by its end, like R12 and R13.
    # Of the three only R12 was still waiting at the end (open; R13 and R14 have no
    # history, so they count in today's state, unfilled: closed without an offer). Its
    # age at 1 April 00:00 in Rome, 31 March 22:00 UTC, from 5 February 09:00 UTC:
    # 54 days 13 hours = 4,712,400 s, the median and the oldest.
    assert {k: v for k, v in figures.items() if k != "by_state"} == {
        "total": 10, "unfilled": 2, "unfilled_share": D("0.2000"), "offered": 7,
        "first_offer_median_hours": D("6.00"), "first_offer_average_hours": D("13.57"),
        "first_offer_median_seconds": 6 * 3600,
        "first_offer_average_seconds": pytest.approx(D(95 * 3600) / 7),  # SQLite: a float
        "never_offered": 3, "never_offered_waiting": 1, "never_offered_closed": 2,
        "never_offered_median_age_seconds": 4_712_400,
        "never_offered_oldest_age_seconds": 4_712_400,
    }


def test_median_of_an_odd_number_of_requests(app, data):
    # Without R14 (filed on 31 March): 1 2 4 6 10 24 48 → median 6, average 95 / 7.
    figures = aggregates.requests_by_state(period(date(2025, 1, 1), date(2025, 3, 30)),
                                           data.coordinator)
    assert figures["offered"] == 7
    assert figures["first_offer_median_hours"] == D("6.00")
    assert figures["first_offer_average_hours"] == D("13.57")
    assert figures["unfilled_share"] == D(1) / 9  # R13 out of 9: not rounded


def test_requests_without_any_offer(app, data):
    figures = aggregates.requests_by_state(period(date(2025, 2, 5), date(2025, 2, 6)),
                                           data.coordinator)
    assert figures["total"] == 2 and figures["offered"] == 0
    assert figures["first_offer_median_hours"] is None
    assert figures["first_offer_average_hours"] is None
    empty = aggregates.requests_by_state(period(date(2030, 1, 1), date(2030, 1, 2)),
                                         data.coordinator)
    assert (empty["total"], empty["unfilled_share"]) == (0, None)


def test_utilisation(app, data):
    # Q1 is 90 days: capacity = weekly cap × 90 / 7. Accepted appointments in Q1 through
    # Alpha's requests: med1 S1 1 + S2 0.5 + S9 1 (logged, not approved: still booked);
    # med2 S3 1 + S4 1 + S6 0.75 + S10 1. Declined offers and S5 (no time) do not count.
    assert aggregates.utilisation(q1(), data.coordinator) == [
        {"mediator_id": data.med1.id, "name": "Amina Uno", "weekly_hour_cap": D("20"),
         "booked_hours": D("2.50"), "booked_seconds": 9000, "capacity_hours": D("257.14"),
         "capacity_seconds": D(20 * 90 * 3600) / 7,
         "utilisation": D(7) / 720},  # 2.5 ÷ (20 × 90 ÷ 7), not rounded
        {"mediator_id": data.med2.id, "name": "Besa Due", "weekly_hour_cap": D("10"),
         "booked_hours": D("3.75"), "booked_seconds": 13500, "capacity_hours": D("128.57"),
         "capacity_seconds": D(10 * 90 * 3600) / 7,
         "utilisation": D(7) / 240},
    ]
    by_name = {row["name"]: row for row in aggregates.utilisation(q1(), data.admin)}
    assert sorted(by_name) == ["Amina Uno", "Besa Due", "Chen Tre"]
    assert (by_name["Chen Tre"]["booked_hours"], by_name["Chen Tre"]["utilisation"]) == (
        D("2.00"), D(7) / 900)
    beta = aggregates.utilisation(q1(ambito_id=data.beta.id), data.admin)
    # Beta's mediators (med2 serves both); med2 has no appointment in Beta.
    assert [(r["name"], r["booked_hours"]) for r in beta] == [("Besa Due", D("0.00")),
                                                              ("Chen Tre", D("2.00"))]


# --- plan, budget, end of the project ----------------------------------------


def test_hours_against_plan(app, data):
    rows = aggregates.hours_vs_planned(q1(), data.coordinator)
    assert [(r["ambito_name"], r["number"], r["planned_hours"], r["used_hours"],
             r["used_total_hours"], r["share_used"]) for r in rows] == [
        # M1: in Q1 S1 + S2 + S3 + S6 = 3.25; over all dates + S7 = 4.25.
        ("Ambito Alpha", 1, D("10"), D("3.25"), D("4.25"), D("0.4250")),
        ("Ambito Alpha", 2, D("5"), D("1.00"), D("1.00"), D("0.2000")),
        # M3 has no plan: S11 (December) counts against it.
        ("Ambito Alpha", 3, None, D("0.00"), D("0.50"), None),
    ]
    admin_rows = aggregates.hours_vs_planned(q1(), data.admin)
    assert [(r["ambito_name"], r["number"], r["planned_hours"], r["used_total_hours"])
            for r in admin_rows][3:] == [("Ambito Beta", 1, D("8"), D("2.00"))]
    assert len(admin_rows) == 4
    # The region's hours in the period, per Ambito: Alpha's as its coordinator sees them.
    assert [r["used_hours"] for r in admin_rows[:3]] == [r["used_hours"] for r in rows]
    assert admin_rows[3]["used_hours"] == D("2.00")  # S8, 10 February


def test_hours_against_plan_leave_out_projects_not_running(app, data):
    assert aggregates.hours_vs_planned(period(date(2019, 1, 1), date(2019, 12, 31)),
                                       data.admin) == []


def test_budget(app, data):
    [project] = aggregates.budget(q1(), data.coordinator, today=TODAY)
    # Spent to date, whole project: S1 30 + S2 15 + S3 20 + S4 20 + S6 15 + S7 30 + S8 50
    # + S11 15 = 195. Last 90 days (11 January – 10 April): 195 − S11 = 180 → 2 €/day.
    # 405 € remaining ÷ 2 = 202 days → 29 October 2025, before the end (31 December).
    assert project == {
        "project_id": data.project.id, "code": "P", "title": "Progetto P",
        "start_date": date(2024, 1, 1), "end_date": date(2025, 12, 31),
        "budget": D("600.00"),
        "lines": [{"label": "Iniziale", "amount": D("500.00")},
                  {"label": "Aggiuntivo", "amount": D("100.00")}],
        "cost_in_period": D("100.00"), "spent_to_date": D("195.00"),
        "remaining": D("405.00"), "share_spent": D("0.3250"), "daily_cost": D("2.00"),
        "runs_out_on": date(2025, 10, 29), "exhausted": False, "runs_out_before_end": True,
        "lasts_past_end": False, "runout": "before_end",
    }
    assert TODAY + timedelta(days=202) == date(2025, 10, 29)
    [regional] = aggregates.budget(q1(), data.admin, today=TODAY)
    assert regional["cost_in_period"] == D("150.00")
    assert regional["spent_to_date"] == D("195.00")


def test_budget_without_recent_spending_has_no_date(app, data):
    [project] = aggregates.budget(q1(), data.admin, today=date(2025, 12, 1))
    assert project["daily_cost"] == D("0.00") and project["runs_out_on"] is None
    assert project["remaining"] == D("405.00")


def test_budget_spent(app, data):
    data.med3.rates[0].hourly_cost = D("250")  # S8: 2 h × 250 = 500 → 645 € spent of 600
    db.session.commit()
    [project] = aggregates.budget(q1(), data.admin, today=TODAY)
    assert project["spent_to_date"] == D("645.00")
    assert project["exhausted"] is True and project["runs_out_on"] is None


def test_budget_lists_only_projects_running_in_the_period(app, data):
    assert [p["code"] for p in aggregates.budget(
        period(date(2020, 1, 1), date(2024, 1, 1)), data.admin, today=TODAY)] == ["P0", "P"]
    assert aggregates.budget(period(date(2021, 1, 1), date(2023, 12, 31)), data.admin,
                             today=TODAY) == []


def test_end_warning_for_bookings_after_the_end(app, data):
    # R17 (Alpha) and R18 (Beta) are booked on 10 January 2026; P ends on 31 December 2025.
    assert aggregates.end_warnings(q1(), data.coordinator, today=TODAY) == [
        {"project_id": data.project.id, "code": "P", "title": "Progetto P",
         "end_date": date(2025, 12, 31), "days_left": 265, "bookings_after": 1}]
    assert aggregates.end_warnings(q1(), data.admin, today=TODAY)[0]["bookings_after"] == 2
    # A2 has no booking after the end, and the end is far: no warning.
    assert aggregates.end_warnings(q1(school_id=data.a2.id), data.coordinator,
                                   today=TODAY) == []


def test_end_warning_counts_translations_by_their_deadline(app, data):
    # A translation has no start: it counts after the end by its deadline. One offered
    # for delivery on 2 January 2026 (after P's end) adds to Alpha's count; one due on
    # 31 December 2025 (P's last day) does not, nor one already declined.
    for deadline, state in ((rome(date(2026, 1, 2), 12), AssignmentState.offered),
                            (rome(date(2025, 12, 31), 23), AssignmentState.accepted),
                            (rome(date(2026, 1, 5), 12), AssignmentState.declined)):
        req = MediationRequest(
            project=data.project, school=data.a1, requester=data.teacher,
            type=data.translation, language=data.arabic, state=RequestState.offered,
            deadline_dt=deadline, created_dt=rome(date(2025, 4, 5), 10))
        db.session.add(Assignment(request=req, mediator=data.med2, state=state,
                                  deadline_dt=deadline, offered_dt=rome(date(2025, 4, 6), 9)))
    db.session.commit()
    [warning] = aggregates.end_warnings(q1(), data.coordinator, today=TODAY)
    assert warning["bookings_after"] == 2  # R17 and the translation due on 2 January
    assert aggregates.end_warnings(q1(), data.admin, today=TODAY)[0]["bookings_after"] == 3
    assert aggregates.end_warnings(q1(), data.coordinator_beta,
                                   today=TODAY)[0]["bookings_after"] == 1  # R18


def test_end_warning_within_sixty_days(app, data):
    data.requests["R17"].assignments[0].state = AssignmentState.cancelled
    db.session.commit()
    assert aggregates.end_warnings(q1(), data.coordinator, today=TODAY) == []
    [warning] = aggregates.end_warnings(q1(), data.coordinator, today=date(2025, 11, 1))
    assert (warning["code"], warning["days_left"], warning["bookings_after"]) == ("P", 60, 0)
    assert aggregates.end_warnings(q1(), data.coordinator, today=date(2025, 10, 31)) == []


# --- filters and scope -------------------------------------------------------


@pytest.mark.parametrize(("field", "expected"), [
    ("macro_action_id", (2, D("1.00"))),  # M2: S4, S5
    ("language_id", (2, D("2.00"))),  # Albanian: S3, S4
    ("type_id", (1, D("0.00"))),  # translation: S5
    ("school_id", (2, D("2.00"))),  # A2: S3, S4
])
def test_filters_narrow_the_figures(app, data, field, expected):
    value = {"macro_action_id": data.m2.id, "language_id": data.albanian.id,
             "type_id": data.translation.id, "school_id": data.a2.id}[field]
    totals = aggregates.totals(q1(**{field: value}), data.coordinator)
    assert (totals["sessions"], totals["hours"]) == expected


def test_the_admin_filters_an_ambito(app, data):
    assert aggregates.totals(q1(ambito_id=data.beta.id), data.admin) == {
        "sessions": 1, "hours": D("2.00"), "seconds": 7200, "cost": D("50.00")}


def test_parse_filter_keeps_the_coordinator_in_their_ambito(app, data):
    args = {"start": "2025-01-01", "end": "2025-03-31"}
    report, errors = parse_filter(args, data.coordinator, *Q1)
    assert (report.ambito_id, errors) == (data.alpha.id, {})
    for bad in ({"ambito": str(data.beta.id)}, {"school": str(data.b1.id)},
                {"macro_action": "9999"}, {"language": "x"}):
        with pytest.raises(OutOfScope):
            parse_filter(args | bad, data.coordinator, *Q1)
    report, _ = parse_filter(args | {"school": str(data.b1.id)}, data.admin, *Q1)
    assert report.school_id == data.b1.id and report.ambito_id is None


def test_parse_filter_reports_bad_dates(app, data):
    report, errors = parse_filter({"start": "31/01/2025", "end": "2024-01-01"},
                                  data.admin, *Q1)
    assert set(errors) == {"start", "end"}
    assert report.start == Q1[0] and report.end == Q1[0]


def test_default_period_and_months():
    assert default_period(date(2025, 4, 10)) == (date(2024, 5, 1), date(2025, 4, 10))
    assert default_period(date(2025, 12, 31)) == (date(2025, 1, 1), date(2025, 12, 31))
    assert month_starts(period(date(2024, 11, 30), date(2025, 2, 1))) == [
        date(2024, 11, 1), date(2024, 12, 1), date(2025, 1, 1), date(2025, 2, 1)]


def test_every_figure_is_empty_for_a_coordinator_of_another_region(app, data, factory):
    stranger = factory.user(Role.coordinator)
    db.session.commit()
    figures = aggregates.dashboard(q1(), stranger, today=TODAY)
    assert figures["totals"] == {"sessions": 0, "hours": D("0.00"), "seconds": 0,
                                 "cost": D("0.00")}
    assert figures["beneficiaries"]["beneficiaries"] == 0
    assert figures["requests_by_state"]["total"] == 0
    assert figures["utilisation"] == [] and figures["hours_vs_planned"] == []
    assert figures["end_warnings"] == []
    assert figures["budget"][0]["cost_in_period"] == D("0.00")


# --- the page ----------------------------------------------------------------


def totals_on(page: str) -> dict[str, str]:
    return dict(re.findall(r'data-total="([\w-]+)" data-value="([^"]*)"', page))


def test_page_shows_the_figures_of_the_filter(app, data, client):
    login(client, data.coordinator)
    response = client.get("/reporting/?start=2025-01-01&end=2025-03-31")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    totals = totals_on(page)
    assert {k: totals[k] for k in ("hours", "sessions", "beneficiaries", "contacts",
                                   "schools", "teachers", "documents", "cost", "requests")} == {
        # Beneficiaries (issue #18): 1 pupil + 4 parents, see the beneficiaries' test.
        "hours": "4.25", "sessions": "6", "beneficiaries": "5", "contacts": "17",
        "schools": "2", "teachers": "3", "documents": "1", "cost": "100.00", "requests": "10"}
    # Localised numbers (Italian by default), hours in hours and minutes, the definitions.
    assert "4 h 15 min" in page and "100,00" in page and "4,25" not in page
    assert 'id="how-title"' in page
    assert "{# exports #}" not in page  # a template comment, not output
    # Other Ambiti's schools are not offered in the filter.
    assert "IC Beta Uno" not in page and "IC Alpha Due" in page
    assert "Ambito Beta" not in page


def test_page_filter_changes_the_totals(app, data, client):
    login(client, data.coordinator)
    page = client.get(f"/reporting/?start=2025-01-01&end=2025-03-31&macro_action={data.m2.id}")
    totals = totals_on(page.get_data(as_text=True))
    assert (totals["hours"], totals["sessions"]) == ("1.00", "2")


def test_page_chart_data_matches_the_tables(app, data, client):
    login(client, data.admin)
    page = client.get("/reporting/?start=2025-01-01&end=2025-03-31").get_data(as_text=True)
    island = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>',
                       page, re.S)
    charts = json.loads(island.group(1))
    assert set(charts) == {"chart-months", "chart-macro-actions", "chart-types",
                           "chart-beneficiaries", "chart-requests", "chart-utilisation",
                           "chart-planned"}
    for chart_id in charts:
        assert f'<canvas id="{chart_id}" role="img"' in page
    months = charts["chart-months"]
    assert len(months["labels"]) == 3
    # Stacked by macro-action: M1 1.5 / 3.0 (S8) / 0.75, M2 0 / 0 / 1.
    assert [d["data"] for d in months["datasets"]] == [[1.5, 3.0, 0.75], [0, 0, 1.0]]
    # Issue #18: people met, each once (see test_beneficiaries_of_the_region).
    assert charts["chart-beneficiaries"]["datasets"][0]["data"] == [2, 7]
    assert charts["chart-beneficiaries"]["datasets"][1]["data"] == [3, 14]
    assert re.search(r'<tr data-month="2025-02">.*?data-value="3.00"', page, re.S)
    # No inline executable script: only the JSON island and script files.
    scripts = re.findall(r"<script([^>]*)>", page)
    assert all('type="application/json"' in s or "src=" in s for s in scripts)
    assert "js/dashboard.js" in page and "chart.js-4.6.1/chart.umd.min.js" in page


def test_page_tables_are_accessible(app, data, client):
    login(client, data.coordinator)
    page = client.get("/reporting/?start=2025-01-01&end=2025-03-31").get_data(as_text=True)
    tables = re.findall(r"<table.*?</table>", page, re.S)
    assert len(tables) >= 8
    for table in tables:
        assert "<caption" in table
        assert 'scope="col"' in table
    assert "css/dashboard.css" in page


def test_page_in_english(app, data, client):
    data.coordinator.locale = "en"
    login(client, data.coordinator)
    page = client.get("/reporting/?start=2025-01-01&end=2025-03-31").get_data(as_text=True)
    assert "4 h 15 min" in page and "How figures are computed" in page
    assert "Meeting" in page and "Macro 1 en" in page


def test_page_shows_date_errors_next_to_the_fields(app, data, client):
    login(client, data.coordinator)
    response = client.get("/reporting/?start=2025-13-01&end=2025-03-31")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="filter-start-error"' in page
    assert 'aria-describedby="filter-start-error filter-start-help"' in page
    assert 'value="2025-13-01"' in page


def test_page_shows_the_end_warning(app, data, client):
    login(client, data.coordinator)
    page = client.get("/reporting/?start=2025-01-01&end=2025-03-31").get_data(as_text=True)
    assert 'data-warning="project-end" data-project="P"' in page


@pytest.mark.parametrize("role", [Role.teacher, Role.lead, Role.mediator])
def test_page_is_for_coordinators_and_the_admin_only(app, data, client, factory, role):
    user = (factory.mediator(ambiti=[data.alpha]).user if role == Role.mediator
            else factory.user(role, school=data.a1))
    login(client, user)
    assert client.get("/reporting/").status_code == 404


def test_page_needs_a_login(app, data, client):
    response = client.get("/reporting/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("arg", ["ambito", "school"])
def test_coordinator_cannot_filter_another_ambito(app, data, client, arg):
    login(client, data.coordinator)
    other = data.beta.id if arg == "ambito" else data.b1.id
    assert client.get(f"/reporting/?{arg}={other}").status_code == 404
    assert client.get(f"/reporting/?{arg}=nonsense").status_code == 404


def test_admin_filters_any_ambito(app, data, client):
    login(client, data.admin)
    page = client.get(f"/reporting/?start=2025-01-01&end=2025-03-31&ambito={data.beta.id}")
    assert page.status_code == 200
    assert totals_on(page.get_data(as_text=True))["hours"] == "2.00"


def test_navigation_has_the_dashboard(app, data, client):
    login(client, data.coordinator)
    page = client.get("/reporting/").get_data(as_text=True)
    assert 'href="/reporting/" aria-current="page"' in page


def _statements_built() -> int:
    return sum(builder.cache_info().misses for builder in aggregates.KEPT_BUILDERS)


def test_the_page_builds_its_statements_once_per_filter_and_scope(app, data, client, auth):
    for builder in aggregates.KEPT_BUILDERS:
        builder.cache_clear()
    login(client, data.coordinator)
    url = "/reporting/?start=2025-01-01&end=2025-03-31"
    first = totals_on(client.get(url).get_data(as_text=True))
    built = _statements_built()
    assert built >= 10
    # The same view again builds nothing (the builders take the user's Scope, a value).
    assert totals_on(client.get(url).get_data(as_text=True)) == first
    assert _statements_built() == built
    # The statements are kept, not the figures: a session approved since counts.
    data.logs["S9"].state = LogState.approved
    db.session.commit()
    assert totals_on(client.get(url).get_data(as_text=True))["sessions"] == "7"
    assert _statements_built() == built
    # Another filter, or another scope with the same filter, builds its own.
    client.get("/reporting/?start=2025-01-01&end=2025-02-28")
    assert _statements_built() > built
    built = _statements_built()
    auth.logout()
    login(client, data.coordinator_beta)
    assert totals_on(client.get(url).get_data(as_text=True))["sessions"] == "1"
    assert _statements_built() > built


def test_a_statement_builder_refuses_a_user(app, data):
    with pytest.raises(TypeError, match="takes values, not User"):
        aggregates._reach_statement(q1(), data.coordinator)


def _more_sessions(factory, data, count):
    for number in range(count):
        start = rome(date(2025, 2, 3) + timedelta(days=number), 9)
        request = factory.add(MediationRequest(
            project=data.project, school=data.a2, requester=data.teacher, type=data.meeting,
            language=data.arabic, state=RequestState.closed, duration_minutes=60,
            created_dt=start - timedelta(days=3)))
        mediator = factory.mediator(ambiti=[data.alpha])
        assignment = factory.add(Assignment(request=request, mediator=mediator,
                                            state=AssignmentState.accepted, start_dt=start,
                                            end_dt=start + timedelta(hours=1),
                                            offered_dt=start - timedelta(days=2)))
        factory.add(SessionLog(assignment=assignment, actual_start_dt=start,
                               actual_end_dt=start + timedelta(hours=1), parents_met=1,
                               outcome=Outcome.held, macro_action=data.m1,
                               state=LogState.approved))
    db.session.commit()


def test_query_count_does_not_grow_with_the_sessions(app, data, client, factory,
                                                     count_queries):
    login(client, data.coordinator)
    url = "/reporting/?start=2025-01-01&end=2025-03-31"
    client.get(url)
    db.session.commit()  # each measured request starts afresh, as in production
    with count_queries() as small:
        page = client.get(url).get_data(as_text=True)
    assert totals_on(page)["sessions"] == "6"
    _more_sessions(factory, data, 12)
    db.session.commit()
    with count_queries() as large:
        page = client.get(url).get_data(as_text=True)
    assert totals_on(page)["sessions"] == "18"
    assert large.count == small.count
    assert small.count <= 26  # 25 + the feedback after sessions (issue #19), one statement


# --- figures are exact: unrounded values, rounded once at display (issue #15) -------


def _session(factory, data, start, minutes: int, macro_action, mediator=None, school=None):
    """An approved session of ``minutes`` in Alpha (by default: med1 at A2)."""
    end = start + timedelta(minutes=minutes)
    request = factory.add(MediationRequest(
        project=data.project, school=school or data.a2, requester=data.teacher,
        type=data.meeting, language=data.arabic, state=RequestState.closed,
        duration_minutes=minutes, created_dt=start - timedelta(days=3)))
    assignment = factory.add(Assignment(request=request, mediator=mediator or data.med1,
                                        state=AssignmentState.accepted, start_dt=start,
                                        end_dt=end, offered_dt=start - timedelta(days=2)))
    factory.add(SessionLog(assignment=assignment, actual_start_dt=start, actual_end_dt=end,
                           parents_met=1, outcome=Outcome.held, macro_action=macro_action,
                           state=LogState.approved))


def _planned_row(page: str, data, macro_action) -> str:
    row = re.search(rf'<tr data-ambito="{data.alpha.id}" data-macro-action="{macro_action.id}">'
                    r".*?</tr>", page, re.S)
    return row.group(0)


@pytest.mark.parametrize(("locale", "shown", "double_rounded"),
                         [("it", "4,5%", "4,6%"), ("en", "4.5%", "4.6%")])
def test_a_percentage_is_rounded_once_on_the_page(app, data, client, locale, shown,
                                                  double_rounded):
    # Alpha's M2: 1 hour used (S4) of 22 planned = 4.5454…%: 4.5 %, not 4.55 % (a share
    # rounded to four places) shown as 4.6 %.
    planned = db.session.scalar(sa_select_planned(data.alpha.id, data.m2.id))
    planned.hours = Decimal("22")
    data.coordinator.locale = locale
    db.session.commit()
    login(client, data.coordinator)
    page = client.get("/reporting/?start=2025-01-01&end=2025-03-31").get_data(as_text=True)
    cell = _planned_row(page, data, data.m2)
    assert shown in cell and double_rounded not in cell
    [row] = [r for r in aggregates.hours_vs_planned(q1(), data.coordinator)
             if r["macro_action_id"] == data.m2.id]
    assert row["share_used"] == D(1) / 22


def sa_select_planned(ambito_id, macro_action_id):
    import sqlalchemy as sa

    from mediation.models import PlannedHours
    return sa.select(PlannedHours).where(PlannedHours.ambito_id == ambito_id,
                                         PlannedHours.macro_action_id == macro_action_id)


def test_the_share_of_the_plan_comes_from_the_seconds(app, data, factory, client):
    # M3 gets a plan of 1 hour; it is used by S11 (30 min) and a 20-minute session:
    # 50 minutes = 0.8333… h, shown 0.83 h. The share is 5/6 (83.3 %), not 0.83 (83.0 %).
    from mediation.models import PlannedHours
    factory.add(PlannedHours(ambito=data.alpha, macro_action=data.m3, hours=D("1")))
    _session(factory, data, rome(date(2024, 12, 20), 10), 20, data.m3)
    db.session.commit()
    [row] = [r for r in aggregates.hours_vs_planned(q1(), data.coordinator)
             if r["macro_action_id"] == data.m3.id]
    assert row["used_total_hours"] == D("0.83")  # as shown
    login(client, data.coordinator)
    page = client.get("/reporting/?start=2025-01-01&end=2025-03-31").get_data(as_text=True)
    assert "83,3%" in _planned_row(page, data, data.m3)
    assert row["share_used"] == D(5) / 6  # from 3,000 s ÷ 3,600 s


def test_utilisation_comes_from_the_seconds(app, data):
    # med1: 2.5 h booked of 20 × 90 ÷ 7 = 257.142857… h, shown 257.14.
    [med1] = [r for r in aggregates.utilisation(q1(), data.coordinator)
              if r["mediator_id"] == data.med1.id]
    assert med1["capacity_hours"] == D("257.14")
    assert med1["utilisation"] == D(9000 * 7) / (20 * 90 * 3600)
    assert med1["utilisation"] != D("2.50") / D("257.14")


def _freeze_reporting_day(monkeypatch):
    """The dashboard's today is TODAY (the data's), whatever the clock says."""
    monkeypatch.setattr(aggregates, "_today", lambda today: today or TODAY)


def test_the_run_out_date_comes_from_exact_costs(app, data, client, monkeypatch):
    # Pace: 180 € in the last 90 days, of which S8 (2 h of med3): at 25.01 €/h it costs
    # 50.02 €, so the pace is 180.02 € ÷ 90 = 2.000222… €/day, shown 2.00 €. With a large
    # budget the remainder (500,100 − 195.02 = 499,904.98 €) lasts 499,904.98 × 90 ÷
    # 180.02 = 249,924.99 days: 249,924 whole days, where ÷ 2.00 gave 249,952.
    data.med3.rates[0].hourly_cost = D("25.01")
    data.project.budget_lines[0].amount = D("500000.00")
    db.session.commit()
    [project] = aggregates.budget(q1(), data.admin, today=TODAY)
    assert 49990498 * 90 // 18002 == 249924
    assert project["runs_out_on"] == TODAY + timedelta(days=249924)
    assert project["remaining"] == D("499904.98")
    assert project["daily_cost"] == D("180.02") / 90
    assert (project["runs_out_before_end"], project["lasts_past_end"]) == (False, True)
    # The page says what the coordinator needs: no date centuries away.
    _freeze_reporting_day(monkeypatch)
    login(client, data.admin)
    page = client.get("/reporting/?start=2025-01-01&end=2025-03-31").get_data(as_text=True)
    runout = re.search(r'<p class="app-dash-runout"[^>]*>(.*?)</p>', page, re.S).group(1)
    assert "si esauriscono dopo la fine del progetto (31 dicembre 2025)" in runout
    assert str(TODAY.year + 684) not in page


def test_a_tiny_daily_cost_still_says_when_the_money_runs_out(app, data, client,
                                                              monkeypatch):
    # The last 90 days cost 2 cents (S8: 2 h at 0.01 €/h; every other mediator costs
    # nothing): 0.0002 €/day, which rounded to the cent was 0 and gave no date, as if
    # nothing had been spent. The 599.98 € left last 599.98 × 90 ÷ 0.02 = 2,699,910 days.
    for mediator in (data.med1, data.med2):
        mediator.rates[0].hourly_cost = D("0")
    data.med3.rates[0].hourly_cost = D("0.01")
    db.session.commit()
    [project] = aggregates.budget(q1(), data.admin, today=TODAY)
    assert project["runs_out_on"] == TODAY + timedelta(days=2_699_910)
    assert project["daily_cost"] == D("0.02") / 90
    assert project["lasts_past_end"] is True and project["exhausted"] is False
    _freeze_reporting_day(monkeypatch)
    login(client, data.admin)
    page = client.get("/reporting/?start=2025-01-01&end=2025-03-31").get_data(as_text=True)
    runout = re.search(r'<p class="app-dash-runout"[^>]*>(.*?)</p>', page, re.S).group(1)
    assert "si esauriscono dopo la fine del progetto" in runout
    assert "speso nulla" not in runout
    # 100 € at 1 €/day: 100 days. A pace slower than the calendar: no date, no error.
    assert aggregates.run_out_day(100 * 360_000, 90 * 360_000, TODAY) == \
        TODAY + timedelta(days=100)
    assert aggregates.run_out_day(10**15, 1, TODAY) is None


def test_exports_add_up_to_the_dashboard(app, data, factory, client):
    # Three 50-minute sessions in Q1: 0.8333… h each. Rounded to 0.01 per row, the
    # sessions CSV added up to 4.25 + 3 × 0.83 = 6.74 while the page says 6.75.
    for day in (3, 4, 5):
        _session(factory, data, rome(date(2025, 2, day), 10), 50, data.m1)
    db.session.commit()
    login(client, data.coordinator)
    page = client.get("/reporting/?start=2025-01-01&end=2025-03-31").get_data(as_text=True)
    page_hours = D(totals_on(page)["hours"])
    assert page_hours == D("6.75")
    query = "start=2025-01-01&end=2025-03-31"
    for lang, delimiter, comma in (("it", ";", ","), ("en", ",", ".")):
        response = client.get(f"/reporting/export/sessions.csv?{query}&lang={lang}")
        rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True)[1:]),
                                   delimiter=delimiter))
        minutes_column, hours_column = ("Minuti", "Ore") if lang == "it" else ("Minutes",
                                                                             "Hours")
        minutes = [int(r[minutes_column]) for r in rows if r[minutes_column]]
        assert sum(minutes) == 405 and D(sum(minutes)) / 60 == page_hours  # exact
        hours = [D(r[hours_column].replace(comma, ".")) for r in rows if r[hours_column]]
        assert sum(hours).quantize(D("0.01")) == page_hours
        assert D("0.8333333333") in hours  # not rounded to 0.83
    # The summary: its totals are the sums of its rows, and the page's figure.
    response = client.get(f"/reporting/export/summary.csv?{query}&lang=en")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True)[1:])))
    detail = [r for r in rows if r["Project"]]
    [quarter] = [r for r in rows if r["Description"] == "Total for the quarter"]
    [period_total] = [r for r in rows if r["Description"] == "Total for the period"]
    assert sum(int(r["Minutes held"]) for r in detail) == int(quarter["Minutes held"]) == \
        int(period_total["Minutes held"]) == 405
    assert D(period_total["Minutes held"]) / 60 == page_hours
    assert D(period_total["Hours held"]).quantize(D("0.01")) == page_hours


# --- what a person reads: run-out wording, charts, hours and minutes, hints ---------

from flask_babel import force_locale  # noqa: E402

from mediation.models import BudgetLine  # noqa: E402
from mediation.reporting import display  # noqa: E402
from mediation.templating import localised_date  # noqa: E402

#: The key words of each run-out sentence, in each language.
RUNOUT_WORDS = {
    "it": {"before_end": ("Al ritmo attuale i fondi si esauriscono il",
                          "prima della fine del progetto"),
           "after_end": ("Al ritmo attuale i fondi si esauriscono dopo la fine del progetto",
                         "bastano per tutto il progetto"),
           "nothing_spent": ("Per questo progetto non è stato ancora speso nulla",)},
    "en": {"before_end": ("At the current pace the money runs out on",
                          "That is before the end of the project."),
           "after_end": ("At the current pace the money runs out after the end of the project",
                         "it lasts the whole project"),
           "nothing_spent": ("Nothing has been spent on this project yet",)},
}


def _runout_paragraphs(page: str) -> dict[str, tuple[str, str, str]]:
    """Per project code: its run-out state, data-runs-out and the sentence as read."""
    found = re.findall(r'<div class="app-dash-budget" data-project="(\w+)">.*?'
                       r'<p class="app-dash-runout" data-runout="(\w+)" '
                       r'data-runs-out="([^"]*)">(.*?)</p>', page, re.S)
    return {code: (state, runs_out, " ".join(re.sub(r"<[^>]+>", " ", text).split()))
            for code, state, runs_out, text in found}


def _long_date(app, day: date, lang: str) -> str:
    with app.test_request_context(), force_locale(lang):
        return localised_date(day, "long")


@pytest.mark.parametrize("lang", ["it", "en"])
def test_run_out_wording_within_beyond_the_end_and_nothing_spent(app, data, factory, client,
                                                                 monkeypatch, lang):
    # A second project running in Q1 with a budget and no session at all: no pace, no date.
    fresh = factory.project(code="PN", title="Progetto nuovo", start_date=date(2025, 1, 1),
                            end_date=date(2026, 12, 31))
    factory.add(BudgetLine(project=fresh, label="Iniziale", amount=D("1000.00")))
    data.admin.locale = lang
    db.session.commit()
    _freeze_reporting_day(monkeypatch)
    login(client, data.admin)
    query = "/reporting/?start=2025-01-01&end=2025-03-31"
    words = RUNOUT_WORDS[lang]

    # Within the project: 405 € left at 2 €/day (exact: 180 € in 90 days) is 202 days,
    # 29 October 2025, before the end (31 December 2025).
    paragraphs = _runout_paragraphs(client.get(query).get_data(as_text=True))
    state, runs_out, text = paragraphs["P"]
    assert (state, runs_out) == ("before_end", "2025-10-29")
    assert all(w in text for w in words["before_end"]), text
    assert _long_date(app, date(2025, 10, 29), lang) in text
    state, runs_out, text = paragraphs["PN"]
    assert (state, runs_out) == ("nothing_spent", "")
    assert all(w in text for w in words["nothing_spent"]), text
    assert not re.search(r"\d", text)  # no date, no number of days

    # Beyond the end: with 500,100 € the same pace lasts 249,952 days (year 2709). The
    # page says the money lasts past the end, with the end's date, and no other date.
    data.project.budget_lines[0].amount = D("500000.00")
    db.session.commit()
    page = client.get(query).get_data(as_text=True)
    state, runs_out, text = _runout_paragraphs(page)["P"]
    assert (state, runs_out) == ("after_end", "")
    assert all(w in text for w in words["after_end"]), text
    assert f"({_long_date(app, date(2025, 12, 31), lang)})" in text
    assert (TODAY + timedelta(days=249_952)).year == 2709 and "2709" not in page


def test_run_out_cases_from_exact_figures():
    end, today = date(2025, 12, 31), date(2025, 4, 10)
    day = 90 * 360_000  # 1 € a day over the last 90 days, in cents × seconds
    case = aggregates.runout_case
    assert case(0, 600 * 360_000, day, None, end, today) == "exhausted"
    assert case(100, 5 * 360_000, day, None, end, date(2026, 1, 5)) == "ended"
    assert case(100 * 360_000, 5 * 360_000, day, today + timedelta(days=100), end,
                today) == "before_end"
    # The last day of the project is still within it; the day after is not.
    assert case(1, 1, day, end, end, today) == "before_end"
    assert case(1, 1, day, end + timedelta(days=1), end, today) == "after_end"
    assert case(10**15, 1, 1, None, end, today) == "after_end"  # past date.max
    assert case(100, 0, 0, None, end, today) == "nothing_spent"
    assert case(100, 5, 0, None, end, today) == "no_recent"


def test_an_ended_project_says_what_was_left(app, data, client, monkeypatch):
    monkeypatch.setattr(aggregates, "_today", lambda today: today or date(2026, 2, 1))
    login(client, data.admin)
    page = client.get("/reporting/?start=2025-01-01&end=2025-03-31").get_data(as_text=True)
    state, runs_out, text = _runout_paragraphs(page)["P"]
    assert (state, runs_out) == ("ended", "")
    assert text == "Il progetto si è concluso il 31 dicembre 2025 con 405,00 € non spesi."


def _chart_islands(page: str) -> tuple[dict, dict]:
    charts = json.loads(re.search(
        r'<script type="application/json" id="chart-data">(.*?)</script>', page, re.S).group(1))
    formats = json.loads(re.search(
        r'<script type="application/json" id="chart-formats">(.*?)</script>', page,
        re.S).group(1))
    return charts, formats


@pytest.mark.parametrize("lang", ["it", "en"])
def test_chart_axes_and_macro_action_names(app, data, client, lang):
    data.admin.locale = lang
    db.session.commit()
    login(client, data.admin)
    page = client.get("/reporting/?start=2025-01-01&end=2025-03-31").get_data(as_text=True)
    charts, formats = _chart_islands(page)
    # Counts get whole ticks (no "0, 0.5, 1, 1.5"), shares run from 0 to 100 %.
    by_unit = {}
    for chart_id, spec in charts.items():
        by_unit.setdefault(spec["unit"], []).append(chart_id)
    assert sorted(by_unit["count"]) == ["chart-beneficiaries", "chart-requests", "chart-types"]
    for chart_id in by_unit["count"]:
        assert charts[chart_id]["scale"]["ticks"]["precision"] == 0
    assert charts["chart-utilisation"]["scale"] == {"min": 0, "suggestedMax": 1}
    assert all(charts[c]["scale"]["beginAtZero"] for c in by_unit["hours"])
    # Macro-actions by their names, not "P · 1".
    suffix = "" if lang == "it" else " en"
    names = [f"1. Macro 1{suffix}", f"2. Macro 2{suffix}"]
    assert charts["chart-macro-actions"]["labels"] == [[name] for name in names]
    assert [d["label"] for d in charts["chart-months"]["datasets"]] == names
    assert [label[1] for label in charts["chart-planned"]["labels"]][:2] == names
    assert "P · 1" not in json.dumps(charts, ensure_ascii=False)
    # The month table's columns are named too.
    assert re.search(rf'<th scope="col" class="text-end app-dash-macro-col" '
                     rf'title="P · 1\. Macro 1{suffix}">1\. Macro 1{suffix}</th>', page)
    # Hours in the charts are exact (dashboard.js writes them in hours and minutes with
    # these patterns, rounded once).
    assert charts["chart-macro-actions"]["datasets"][0]["data"] == [5.25, 1.0]
    assert formats["duration"] == {"hm": "{h} h {m} min", "h": "{h} h", "m": "{m} min"}


def test_long_macro_action_names_are_wrapped_and_cut_for_the_charts():
    name = ("1. Qualificazione del sistema scolastico in contesti multiculturali, anche "
            "attraverso azioni di contrasto alla dispersione scolastica")
    lines = display.wrapped(name)
    assert len(lines) == 3 and all(len(line) <= display.LABEL_WIDTH for line in lines)
    assert lines[0] == "1. Qualificazione del sistema" and lines[-1].endswith("…")
    assert len(display.short(name)) <= display.SHORT_LABEL
    row = {"project_code": "FAMI2127", "number": 4, "title_it": "Promozione",
           "title_en": "Promotion"}
    assert display.macro_name(row, "en") == "4. Promotion"
    assert display.macro_name(row, "it", with_project=True) == "FAMI2127 · 4. Promozione"


@pytest.mark.parametrize("lang, seconds, shown", [
    ("it", 45_000, "12 h 30 min"), ("en", 45_000, "12 h 30 min"),
    ("it", 1234 * 3600 + 300, "1.234 h 5 min"), ("en", 1234 * 3600 + 300, "1,234 h 5 min"),
    ("it", 2700, "45 min"), ("en", 10_800, "3 h"), ("en", 0, "0 h"), ("en", None, "0 h"),
    # Rounded once, half up, from the exact seconds: 30 s is a minute; 24 s is none
    # (0.4 min), where rounding to 0.01 h first (0.01 h = 36 s) made it one.
    ("en", 30, "1 min"), ("en", 24, "0 h"), ("en", 10_785, "3 h"),
    ("en", D("925714.2857"), "257 h 9 min"),
])
def test_hours_and_minutes(app, lang, seconds, shown):
    with app.test_request_context(), force_locale(lang):
        assert display.hours_minutes(seconds) == shown


def test_page_shows_hours_and_minutes_and_exports_keep_numbers(app, data, client):
    login(client, data.coordinator)
    page = client.get("/reporting/?start=2025-01-01&end=2025-03-31").get_data(as_text=True)
    card = re.search(r'data-total="hours" data-value="4.25">.*?</div>', page, re.S).group(0)
    assert '<p class="app-dash-card-value">4 h 15 min</p>' in card
    # S4 (2 h at 01:30-03:30 on the clock across the change to summer time) is 1 hour.
    assert re.search(r'<tr data-macro-action="\d+">\s*<th scope="row">P · 2\. Macro 2</th>'
                     r'\s*<td class="text-end">2</td>\s*<td class="text-end" '
                     r'data-value="1.00">1 h</td>', page)
    # Median time to the first offer: 6 h (issue #18: R14, offered after the period, is
    # left out); med1's cap: 20 h a week; capacity 257 h 9 min.
    assert re.search(r'data-total="first-offer-median" data-value="6.00">6 h</dd>', page)
    assert re.search(r'<tr data-mediator="\d+">\s*<th scope="row">Amina Uno</th>\s*'
                     r'<td class="text-end">20 h</td>.*?<td class="text-end">257 h 9 min</td>',
                     page, re.S)
    # The export keeps numbers: hours with a decimal comma, whole minutes.
    response = client.get("/reporting/export/sessions.csv?start=2025-01-01&end=2025-03-31")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True)[1:]),
                               delimiter=";"))
    assert {(r["Ore"], r["Minuti"]) for r in rows} >= {("1,00", "60"), ("0,75", "45")}


#: Each figure that may look inconsistent with another, and a few words of its hint.
HINTS = {
    "hours": "the hours are paid, not delivered",
    "paid-hours": "the mediator went and is paid",
    "sessions": "cancelled at the last minute are paid but not counted here",
    "beneficiaries": "only when they were there",
    "contacts": "a family met three times is three contacts",
    "teachers": "not the teachers present",
    "documents": "each also counts as a session",
    "schools": "at least one approved session",
    "cost": "hourly rate valid on the day of each session",
    "months": "counts in the month it started",
    "types": "Translations count as sessions but have no hours",
    "people": "counted apart, as not identified",
    "requests": "in the state it had at the end of the period",
    "utilisation": "not of the approved logs",
    "planned": "every date, not only of the period",
    "budget": "for the whole project, every Ambito",
    "no-shows": "The no-show rate is those out of every approved meeting",
    "attestations": "held or not, by the answer of the school that asked for it",
    "family-confirmations": "Unconfirmed meetings: no answer, another answer",
    "feedback": "a mediation is useful when rated 4 or 5",
    "mediator-feedback": "never schools nor mediators",
}


def test_figures_that_look_contradictory_are_explained_next_to_them(app, data, client):
    data.coordinator.locale = "en"
    db.session.commit()
    login(client, data.coordinator)
    page = client.get("/reporting/?start=2025-01-01&end=2025-03-31").get_data(as_text=True)
    hints = dict(re.findall(r'<p class="app-dash-hint" data-hint="([\w-]+)">(.*?)</p>', page,
                            re.S))
    assert set(hints) == set(HINTS)
    for name, words in HINTS.items():
        assert words in " ".join(hints[name].split()).replace("&#39;", "'"), name
    # A total's hint is inside its own card, under its figure.
    for name in ("hours", "sessions", "beneficiaries", "contacts", "teachers", "documents"):
        card = re.search(rf'<div class="app-dash-card h-100" data-total="{name}".*?</div>',
                         page, re.S).group(0)
        assert f'data-hint="{name}"' in card
    # A section's hint comes right after its heading.
    assert re.search(r'id="requests-title">[^<]*</h2>\s*<p class="app-dash-hint" '
                     r'data-hint="requests">', page)
