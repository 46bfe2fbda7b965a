"""Issue #18, the people and the requests an auditor signs: a dataset with every figure
computed by hand.

Ambito Alpha (the coordinator's): schools A1 and A2; project P (2024-01-01 → 2025-12-31),
macro-action M1; the period is the first quarter of 2025 (1 January → 31 March, Europe/Rome
days; its end is 1 April 00:00 in Rome, 31 March 22:00 UTC). Languages: Chinese and its
varieties Mandarin and Wenzhounese; Arabic.

Pupil cases (codes, never names) and their family codes:

====  ======  ===========
case  school  family code
====  ======  ===========
P1    A1      F-1
P2    A1      F-1  (P1's sister: the same family)
P3    A1      —
P4    A1      —
P5    A2      F-1  (the same code at another school: another family)
====  ======  ===========

Approved session logs (Rome times; "fc" = the family code of a meeting that names no
pupil; first offer = hours from filing to the first offer):

====  ======  ===========  ====  ===  ======  =======  ========  =============  ===========
name  school  when         case  fc   pupils  parents  teachers  outcome        language
====  ======  ===========  ====  ===  ======  =======  ========  =============  ===========
E1    A1      01-13 10-11  P1    —    1       2        1         held           Mandarin
E2    A1      02-10 10-11  P2    —    1       1        0         held           Arabic
E3    A1      03-03 10-11  —     F-1  0       2        0         held           Arabic
E4    A1      01-20 10-12  —     —    5       4        2         held (group)   Wenzhounese
E5    A1      02-17 10-11  P3    —    0       1        0         held (P3 away) Chinese
E6    A1      02-24 10-11  P4    —    1       1        0         family absent  Arabic
E7    A2      03-10 10-11  P5    —    1       1        0         held           Arabic
E8    A1      03-17 10-11  P1    —    2       0        0         held (+1 pupil Arabic
                                                                 with no code)
====  ======  ===========  ====  ===  ======  =======  ========  =============  ===========

Each Ei was filed 5 days before and first offered i hours after filing.

People, for the coordinator, Q1 (held sessions only: E6 counts nobody):

- pupils: P1 (E1, E8), P2 (E2), P5 (E7) → **3**; P3 was named but absent, P4's family did
  not come: not counted;
- families and their parents (the most met at one held session): A1/F-1 max(E1 2, E2 1,
  E3 2, E8 0) = 2; P3 (no family code: the pupil case) 1; A2/F-1 1 → **4** parents in
  **3** families; beneficiaries 3 + 4 = **7**;
- not identified, apart: pupils E4 5 + E8's second pupil 1 = **6**; parents E4 **4**;
  **10** in all;
- contacts (held): pupils 1+1+0+5+0+1+2 = **10**, parents 2+1+2+4+1+1+0 = **11**,
  teachers 1+2 = **3**; **24**.

Language "Chinese" (its varieties included: E1, E4, E5): pupils P1 → 1; parents A1/F-1 2
(E1) + P3 1 → 3 in 2 families; beneficiaries 4; not identified 5 pupils + 4 parents; 3
sessions. "Mandarin" alone: E1 only → 1 pupil + 2 parents.

Requests without a session, with their history (audit events; "—": an event written
before events recorded the new state, read by its action):

====  ======  ===============  =============================================  ============
name  school  filed (Rome)     history                                        state today
====  ======  ===============  =============================================  ============
RA    A1      03-20 10:00      submitted (open) 03-20; offered 03-21 09:00    confirmed
                               (offered, first offer 23 h); accepted 04-02
                               (confirmed: after the period)
RB    A1      02-03 10:00      submitted (awaiting approval); approved 02-03  unfilled
                               12:00 (—: open); a time proposed 03-01 (no
                               change of state); unfilled 04-15 (after)
RC    A1      03-05 10:00      no history (written before the audit trail)    cancelled
RE    A1      03-28 10:00      submitted (open); offered 04-03 (after)        offered
====  ======  ===============  =============================================  ============

Requests filed in Q1 (coordinator) in their state at the end of Q1: E1..E8 closed (8: no
history, closed today), RA offered, RB open, RC cancelled (no history: today's), RE open
→ 12: closed 8, offered 1, open 2, cancelled 1. Run with a period ending 30 April: RA
confirmed, RB unfilled, RE offered.

Time to the first offer (offered by the end of Q1): E1..E8 1..8 h, RA 23 h → 9 requests;
median 5 h; average (36 + 23) / 9 = 6.5556 h (6.56). Not offered by the end of Q1 (left
out of the median): RB, RC, RE → 3. Still waiting at the end: RB and RE (open; RC was
cancelled: closed without an offer, not aged); their ages at 31 March 22:00 UTC: RB from
3 February 09:00 UTC, 56 days 13 h = 4,885,200 s; RE from 28 March 09:00 UTC, 3 days 13 h
= 306,000 s → median (4,885,200 + 306,000) / 2 = 2,595,600 s (30 days), the oldest
4,885,200 s (56 days).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest

from mediation.bookings import operations
from mediation.clock import to_utc
from mediation.extensions import db
from mediation.models import (
    Assignment,
    AssignmentState,
    AuditEvent,
    LogState,
    MacroAction,
    MediationRequest,
    Outcome,
    PupilCase,
    RequestState,
    Role,
    SessionLog,
)
from mediation.models.geo import Cycle
from mediation.reporting import aggregates
from mediation.reporting.filters import ReportFilter

D = Decimal
Q1 = ReportFilter(start=date(2025, 1, 1), end=date(2025, 3, 31))


def rome(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return to_utc(date(2025, month, day), time(hour, minute))


@dataclass
class People:
    coordinator: object
    admin: object
    a1: object
    chinese: object
    mandarin: object
    cases: dict = field(default_factory=dict)
    requests: dict = field(default_factory=dict)


@pytest.fixture
def people(factory) -> People:
    alpha = factory.ambito(code="ALPHA", name="Ambito Alpha")
    a1 = factory.school(alpha, code="ALIC00001A", name="IC Alpha Uno")
    a2 = factory.school(alpha, code="ALIC00002A", name="IC Alpha Due")
    project = factory.project(code="P", title="Progetto P", start_date=date(2024, 1, 1),
                              end_date=date(2025, 12, 31))
    m1 = factory.add(MacroAction(project=project, number=1, title_it="M1", title_en="M1"))
    meeting = factory.request_type(code="family_meeting")
    chinese = factory.language("zh", name_it="Cinese", name_en="Chinese")
    mandarin = factory.language("zh-cmn", name_it="Mandarino", name_en="Mandarin")
    mandarin.parent = chinese
    wenzhounese = factory.language("zh-wuu", name_it="Wenzhouese", name_en="Wenzhounese")
    wenzhounese.parent = chinese
    arabic = factory.language("ar", name_it="Arabo", name_en="Arabic")
    mediator = factory.mediator(ambiti=[alpha])
    teacher1 = factory.user(Role.teacher, school=a1)
    teacher2 = factory.user(Role.teacher, school=a2)
    data = People(coordinator=factory.user(Role.coordinator, ambito=alpha),
                  admin=factory.user(Role.admin), a1=a1, chinese=chinese, mandarin=mandarin)
    for name, school, family in (("P1", a1, "F-1"), ("P2", a1, "F-1"), ("P3", a1, None),
                                 ("P4", a1, None), ("P5", a2, "F-1")):
        data.cases[name] = factory.add(PupilCase(
            school=school, code=f"{school.code[-3:]}-{name}", class_name="1A",
            cycle=Cycle.primaria, family_code=family))

    def request(name, school, created, state, *, case=None, family=None, language=arabic):
        req = factory.add(MediationRequest(
            project=project, school=school, requester=teacher1 if school is a1 else teacher2,
            type=meeting, language=language, pupil_case=data.cases.get(case),
            family_code=family, state=state, duration_minutes=60, created_dt=created))
        data.requests[name] = req
        return req

    def session(number, school, start, hours, *, case=None, family=None, pupils=0,
                parents=0, teachers=0, outcome=Outcome.held, language=arabic):
        created = start - timedelta(days=5)
        req = request(f"E{number}", school, created, RequestState.closed, case=case,
                      family=family, language=language)
        assignment = factory.add(Assignment(
            request=req, mediator=mediator, state=AssignmentState.accepted, start_dt=start,
            end_dt=start + timedelta(hours=hours),
            offered_dt=created + timedelta(hours=number)))
        factory.add(SessionLog(
            assignment=assignment, actual_start_dt=start,
            actual_end_dt=start + timedelta(hours=hours), pupils_met=pupils,
            parents_met=parents, teachers_met=teachers, outcome=outcome, macro_action=m1,
            state=LogState.approved))

    session(1, a1, rome(1, 13, 10), 1, case="P1", pupils=1, parents=2, teachers=1,
            language=mandarin)
    session(2, a1, rome(2, 10, 10), 1, case="P2", pupils=1, parents=1)
    session(3, a1, rome(3, 3, 10), 1, family="F-1", parents=2)
    session(4, a1, rome(1, 20, 10), 2, pupils=5, parents=4, teachers=2, language=wenzhounese)
    session(5, a1, rome(2, 17, 10), 1, case="P3", parents=1, language=chinese)
    session(6, a1, rome(2, 24, 10), 1, case="P4", pupils=1, parents=1,
            outcome=Outcome.family_absent)
    session(7, a2, rome(3, 10, 10), 1, case="P5", pupils=1, parents=1)
    session(8, a1, rome(3, 17, 10), 1, case="P1", pupils=2)

    def history(req, *events):
        for when, action, data_ in events:
            factory.add(AuditEvent(action=action, object_type="MediationRequest",
                                   object_id=req.id, created_dt=when, data=data_))

    ra = request("RA", a1, rome(3, 20, 10), RequestState.confirmed)
    factory.add(Assignment(request=ra, mediator=mediator, state=AssignmentState.accepted,
                           start_dt=rome(4, 7, 10), end_dt=rome(4, 7, 11),
                           offered_dt=rome(3, 21, 9)))
    history(ra, (rome(3, 20, 10), "request.submitted", {"state": "open"}),
            (rome(3, 21, 9), "assignment.offered", {"state": "offered"}),
            (rome(4, 2, 9), "assignment.accepted", {"state": "confirmed"}))
    rb = request("RB", a1, rome(2, 3, 10), RequestState.unfilled)
    history(rb, (rome(2, 3, 10), "request.submitted", {"state": "awaiting_approval"}),
            (rome(2, 3, 12), "request.approved", {}),
            (rome(3, 1, 9), "time.proposed", {"proposal_id": 1}),
            (rome(4, 15, 9), "request.unfilled", {}))
    request("RC", a1, rome(3, 5, 10), RequestState.cancelled)
    re_ = request("RE", a1, rome(3, 28, 10), RequestState.offered)
    factory.add(Assignment(request=re_, mediator=mediator, state=AssignmentState.offered,
                           start_dt=rome(4, 8, 10), end_dt=rome(4, 8, 11),
                           offered_dt=rome(4, 3, 9)))
    history(re_, (rome(3, 28, 10), "request.submitted", {"state": "open"}),
            (rome(4, 3, 9), "assignment.offered", {"state": "offered"}))
    db.session.commit()
    return data


# --- people -------------------------------------------------------------------


def test_people_met_each_once_and_the_unidentified_apart(app, people):
    assert aggregates.beneficiaries(Q1, people.coordinator) == {
        "pupils": 3, "parents": 4, "families": 3, "beneficiaries": 7,
        "unidentified_pupils": 6, "unidentified_parents": 4, "unidentified": 10,
        "pupil_contacts": 10, "parent_contacts": 11, "teacher_contacts": 3, "contacts": 24,
    }


def test_a_family_met_at_several_meetings_counts_once(app, people):
    # Only the F-1 family of A1 (P1, P2 and the meeting without a pupil): in January E1
    # (P1, 2 parents); to 3 March also E2 (P2, 1 parent) and E3 (2 parents, no pupil).
    january = ReportFilter(start=date(2025, 1, 1), end=date(2025, 1, 19))
    figures = aggregates.beneficiaries(january, people.coordinator)
    assert (figures["pupils"], figures["parents"], figures["families"]) == (1, 2, 1)
    to_march = ReportFilter(start=date(2025, 1, 1), end=date(2025, 3, 3))
    # + E4 (the group: apart), E5 (P3 away, 1 parent), E6 (no-show): P1, P2; F-1 2 + P3 1.
    figures = aggregates.beneficiaries(to_march, people.coordinator)
    assert (figures["pupils"], figures["parents"], figures["families"]) == (2, 3, 2)
    assert (figures["unidentified_pupils"], figures["unidentified_parents"]) == (5, 4)


def test_without_family_codes_each_pupil_case_is_a_family(app, people):
    # The schools give no family code: A1/F-1 splits into P1 (max 2), P2 (1); E3 names
    # neither a pupil nor a family: its 2 parents join the unidentified; P3 1, P5 1.
    for case in people.cases.values():
        case.family_code = None
    people.requests["E3"].family_code = None
    db.session.commit()
    figures = aggregates.beneficiaries(Q1, people.coordinator)
    assert (figures["pupils"], figures["parents"], figures["families"]) == (3, 5, 4)
    assert (figures["unidentified_pupils"], figures["unidentified_parents"]) == (6, 6)


def test_a_pupil_named_but_absent_is_not_counted(app, people):
    # E5 names P3, who was not there: P3's parent counts, P3 does not.
    february_17 = ReportFilter(start=date(2025, 2, 17), end=date(2025, 2, 17))
    figures = aggregates.beneficiaries(february_17, people.coordinator)
    assert (figures["pupils"], figures["parents"], figures["beneficiaries"]) == (0, 1, 1)
    # E6: the family did not come: nobody is counted, not even the participants written.
    february_24 = ReportFilter(start=date(2025, 2, 24), end=date(2025, 2, 24))
    figures = aggregates.beneficiaries(february_24, people.coordinator)
    assert (figures["beneficiaries"], figures["unidentified"], figures["contacts"]) == (0, 0, 0)


# --- the language filter --------------------------------------------------------


def test_a_language_includes_its_varieties(app, people):
    chinese = ReportFilter(start=Q1.start, end=Q1.end, language_id=people.chinese.id)
    figures = aggregates.beneficiaries(chinese, people.coordinator)
    assert (figures["pupils"], figures["parents"], figures["families"],
            figures["beneficiaries"]) == (1, 3, 2, 4)
    assert (figures["unidentified_pupils"], figures["unidentified_parents"]) == (5, 4)
    assert (figures["pupil_contacts"], figures["parent_contacts"],
            figures["teacher_contacts"]) == (6, 7, 3)
    assert aggregates.totals(chinese, people.coordinator)["sessions"] == 3
    # The requests filed in Q1 in Chinese: those of E1, E4 and E5 (closed).
    assert aggregates.requests_by_state(chinese, people.coordinator)["total"] == 3
    mandarin = ReportFilter(start=Q1.start, end=Q1.end, language_id=people.mandarin.id)
    figures = aggregates.beneficiaries(mandarin, people.coordinator)
    assert (figures["pupils"], figures["parents"]) == (1, 2)


def test_the_exports_filter_a_language_with_its_varieties(app, people, client, auth):
    auth.login(people.coordinator)
    response = client.get(f"/reporting/export/sessions.csv?start=2025-01-01&end=2025-03-31"
                          f"&language={people.chinese.id}&lang=en")
    assert response.status_code == 200
    lines = response.get_data(as_text=True).strip().splitlines()
    # A header, E1, E4, E5 and the filter rows after a blank line, if any.
    assert sum(1 for line in lines if "ALIC00001A" in line) == 3


# --- requests -------------------------------------------------------------------


def test_requests_are_counted_in_their_state_at_the_end_of_the_period(app, people):
    figures = aggregates.requests_by_state(Q1, people.coordinator)
    counts = {row["state"]: row["count"] for row in figures["by_state"] if row["count"]}
    assert counts == {RequestState.closed: 8, RequestState.offered: 1,
                      RequestState.open: 2, RequestState.cancelled: 1}
    assert figures["total"] == 12
    # Run again later: the same (nothing in the history before the end changed).
    people.requests["RE"].state = RequestState.unfilled
    db.session.commit()
    again = aggregates.requests_by_state(Q1, people.coordinator)
    assert {row["state"]: row["count"] for row in again["by_state"] if row["count"]} == counts
    # A period that ends after the changes: RA confirmed, RB unfilled; RE offered (its
    # last event before 30 April, though today it is unfilled with no event saying so).
    to_april = ReportFilter(start=Q1.start, end=date(2025, 4, 30))
    later = aggregates.requests_by_state(to_april, people.coordinator)
    assert {row["state"]: row["count"] for row in later["by_state"] if row["count"]} == {
        RequestState.closed: 8, RequestState.confirmed: 1, RequestState.unfilled: 1,
        RequestState.offered: 1, RequestState.cancelled: 1}


def test_requests_never_offered_are_shown_beside_the_median(app, people):
    figures = aggregates.requests_by_state(Q1, people.coordinator)
    assert figures["offered"] == 9
    assert figures["first_offer_median_hours"] == D("5.00")
    assert figures["first_offer_average_hours"] == D("6.56")
    assert figures["never_offered"] == 3
    assert (figures["never_offered_waiting"], figures["never_offered_closed"]) == (2, 1)
    assert figures["never_offered_median_age_seconds"] == 2_595_600
    assert figures["never_offered_oldest_age_seconds"] == 4_885_200


def test_the_page_shows_the_requests_never_offered(app, people, client, auth):
    people.coordinator.locale = "en"
    db.session.commit()
    auth.login(people.coordinator)
    page = client.get("/reporting/?start=2025-01-01&end=2025-03-31").get_data(as_text=True)
    assert 'data-total="never-offered" data-value="3">3<br>' \
           '<span data-total="never-offered-waiting" data-value="2">2 still waiting: ' \
           '30 days at the median, 56 days the longest</span><br>' \
           '<span data-total="never-offered-closed" data-value="1">1 closed without an ' \
           'offer (cancelled, rejected or not covered)</span></dd>' in page
    assert 'data-total="unidentified" data-value="10">10</td>' in page
    assert 'data-total="beneficiaries" data-value="7"' in page


def test_every_change_of_state_records_the_new_state(app, people):
    request = people.requests["RB"]
    request.state = RequestState.open
    db.session.commit()
    operations.mark_unfilled(people.coordinator, request)
    db.session.commit()
    event = db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.object_id == request.id,
                                    AuditEvent.object_type == "MediationRequest")
        .order_by(AuditEvent.id.desc())).first()
    assert (event.action, event.data["state"]) == ("request.unfilled", "unfilled")


# --- family codes ---------------------------------------------------------------


def test_the_lead_gives_a_family_code_like_a_pupil_code(app, people, client, auth, factory):
    lead = factory.user(Role.lead, school=people.a1)
    case = people.cases["P3"]
    auth.login(lead)
    response = client.post(f"/cases/{case.id}/family", data={"family-family_code": " f-9 "})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(PupilCase, case.id).family_code == "F-9"
    # Not a name: letters, digits, - / . _ only (as a pupil code).
    response = client.post(f"/cases/{case.id}/family",
                           data={"family-family_code": "Rossi Mario"})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(PupilCase, case.id).family_code == "F-9"
    # Emptied: the family is the pupil case again.
    client.post(f"/cases/{case.id}/family", data={"family-family_code": ""})
    db.session.expire_all()
    assert db.session.get(PupilCase, case.id).family_code is None
    events = db.session.scalars(db.select(AuditEvent).where(
        AuditEvent.action == "pupil_case.family_code_set")).all()
    assert [e.data for e in events] == [{"cleared": False}, {"cleared": True}]


def test_a_new_pupil_code_comes_with_its_family_code(app, people, factory):
    teacher = factory.user(Role.teacher, school=people.a1)
    case = operations.create_pupil_case(teacher, code="a1-p9", class_name="2A",
                                        cycle=Cycle.primaria, family_code=" f-1 ")
    assert (case.code, case.family_code) == ("A1-P9", "F-1")
