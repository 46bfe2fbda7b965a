"""A small known dataset for the dashboard and the exports, with every figure hand-computed.

Two Ambiti, Alpha (the coordinator's: schools A1, A2) and Beta (school B1); one project P
(2024-01-01 → 2025-06-30, extended to 2025-12-31; budget lines € 500 + € 100) with
macro-actions M1, M2, M3 and an old project P0 (2018-2020) that no period below touches.
Mediators: med1 (€ 30/h, 20 h/week, Alpha), med2 (€ 20/h, 10 h/week, Alpha and Beta),
med3 (€ 25/h, 20 h/week, Beta). Planned hours: Alpha-M1 10, Alpha-M2 5, Beta-M1 8.

Session logs (Europe/Rome wall-clock times; "ap" = approved):

======  ======  ====  =========================  =====  =======  ==  ====  ==============
name    school  med   when (Rome)                hours  macro    P   par.  teachers
======  ======  ====  =========================  =====  =======  ==  ====  ==============
S1 ap   A1      med1  2025-01-15 10:00-11:00     1      M1  C1   1   2     1
S2 ap   A1      med1  2025-01-31 23:15-23:45     0.5    M1  C1   1   1     0
S3 ap   A2      med2  2025-02-01 00:15-01:15     1      M1  C2   0   2     1
S4 ap   A2      med2  2025-03-30 01:30-03:30 DST 1      M2  —    0   5     2
S5 ap   A1      med1  translation, due 03-10     0      M2  —    0   0     0   (3 pages, 900 words)
S6 ap   A1      med2  2025-03-31 23:00-23:45     0.75   M1  —    0   1     0
S7 ap   A1      med1  2025-04-01 00:30-01:30     1      M1  —    0   1     0
S8 ap   B1      med3  2025-02-10 10:00-12:00     2      M1  C3   1   3     1
S9 sub  A1      med1  2025-02-12 10:00-11:00     (submitted: not counted)
S10 ret A2      med2  2025-02-13 10:00-11:00     (returned: not counted)
S11 ap  A1      med1  2024-12-31 23:00-23:30     0.5    M3  —    0   1     0
======  ======  ====  =========================  =====  =======  ==  ====  ==============

S4 spans the change to summer time (02:00 → 03:00): 01:30 → 03:30 on the clock is one hour.
S2/S3: either side of midnight at the end of January; S6/S7: either side of the end of
March, after the change of time (a fixed UTC offset would put S7 in March).

Requesters: t1 (S1, S2, S5, S7, S9, S11), t1b (S6) at A1, t2 (S3, S4, S10) at A2, tb (S8).
Requests without a session: R12 open (A1, 02-05), R13 unfilled (A2, 02-06), R14 unfilled
(A1, filed 03-31 23:30, offered 04-01 00:30 and declined), R15 cancelled (A1, 04-01 00:10),
R16 open (B1, 02-01), R17/R18 confirmed for 2026-01-10 (after P's end; A1 and B1).
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from mediation.extensions import db
from mediation.models import (
    Assignment,
    AssignmentState,
    BudgetLine,
    LogState,
    MacroAction,
    MediationRequest,
    Outcome,
    PlannedHours,
    ProjectExtension,
    PupilCase,
    RequestKind,
    RequestState,
    Role,
    SessionLog,
)
from mediation.models.geo import Cycle

from tests.scenarios.booking import rome

Q1 = (date(2025, 1, 1), date(2025, 3, 31))
TODAY = date(2025, 4, 10)


@dataclass
class ReportingData:
    alpha: object
    beta: object
    a1: object
    a2: object
    b1: object
    coordinator: object
    coordinator_beta: object
    admin: object
    teacher: object
    project: object
    old_project: object
    m1: object
    m2: object
    m3: object
    meeting: object
    translation: object
    arabic: object
    albanian: object
    med1: object
    med2: object
    med3: object
    logs: dict = field(default_factory=dict)
    requests: dict = field(default_factory=dict)


def build(factory) -> ReportingData:
    alpha = factory.ambito(code="ALPHA", name="Ambito Alpha")
    beta = factory.ambito(code="BETA", name="Ambito Beta")
    a1 = factory.school(alpha, code="ALIC00001A", name="IC Alpha Uno")
    a2 = factory.school(alpha, code="ALIC00002A", name="IC Alpha Due")
    b1 = factory.school(beta, code="BEIC00001B", name="IC Beta Uno")
    project = factory.project(code="P", title="Progetto P", start_date=date(2024, 1, 1),
                              end_date=date(2025, 6, 30))
    factory.add(ProjectExtension(project=project, new_end_date=date(2025, 12, 31)))
    factory.add(BudgetLine(project=project, label="Iniziale", amount=Decimal("500.00"),
                           position=1))
    factory.add(BudgetLine(project=project, label="Aggiuntivo", amount=Decimal("100.00"),
                           position=2))
    old_project = factory.project(code="P0", title="Progetto P0", start_date=date(2018, 9, 1),
                                  end_date=date(2020, 12, 31))
    factory.add(BudgetLine(project=old_project, label="Vecchio", amount=Decimal("9999.00")))
    macro = {}
    for number in (1, 2, 3):
        macro[number] = factory.add(MacroAction(project=project, number=number,
                                                title_it=f"Macro {number}",
                                                title_en=f"Macro {number} en"))
    factory.add(MacroAction(project=old_project, number=1, title_it="Vecchia",
                            title_en="Old"))
    factory.add(PlannedHours(ambito=alpha, macro_action=macro[1], hours=Decimal("10")))
    factory.add(PlannedHours(ambito=alpha, macro_action=macro[2], hours=Decimal("5")))
    factory.add(PlannedHours(ambito=beta, macro_action=macro[1], hours=Decimal("8")))
    meeting = factory.request_type(code="family_meeting", name_it="Colloquio",
                                   name_en="Meeting", position=1)
    translation = factory.request_type(code="translation", name_it="Traduzione",
                                       name_en="Translation", kind=RequestKind.deadline,
                                       default_duration_minutes=None, position=2)
    arabic = factory.language("ar", name_it="Arabo", name_en="Arabic")
    albanian = factory.language("sq", name_it="Albanese", name_en="Albanian")
    med1 = factory.mediator(ambiti=[alpha], ambito=alpha, display_name="Amina Uno")
    med1.rates[0].hourly_cost, med1.weekly_hour_cap = Decimal("30"), Decimal("20")
    med2 = factory.mediator(ambiti=[alpha, beta], ambito=alpha, display_name="Besa Due")
    med2.rates[0].hourly_cost, med2.weekly_hour_cap = Decimal("20"), Decimal("10")
    med3 = factory.mediator(ambiti=[beta], ambito=beta, display_name="Chen Tre")
    med3.rates[0].hourly_cost, med3.weekly_hour_cap = Decimal("25"), Decimal("20")
    t1 = factory.user(Role.teacher, school=a1, display_name="Teacher One")
    t1b = factory.user(Role.teacher, school=a1, display_name="Teacher One B")
    t2 = factory.user(Role.teacher, school=a2, display_name="Teacher Two")
    tb = factory.user(Role.teacher, school=b1, display_name="Teacher Beta")
    cases = {
        "C1": factory.add(PupilCase(school=a1, code="A1-001", class_name="2B",
                                    cycle=Cycle.primaria)),
        "C2": factory.add(PupilCase(school=a2, code="A2-001", class_name="1A",
                                    cycle=Cycle.primaria)),
        "C3": factory.add(PupilCase(school=b1, code="B1-001", class_name="3C",
                                    cycle=Cycle.primaria)),
    }
    data = ReportingData(
        alpha=alpha, beta=beta, a1=a1, a2=a2, b1=b1,
        coordinator=factory.user(Role.coordinator, ambito=alpha, email="coord.alpha@example.org",
                                 display_name="Coordinator Alpha"),
        coordinator_beta=factory.user(Role.coordinator, ambito=beta),
        admin=factory.user(Role.admin, email="admin@example.org"),
        teacher=t1, project=project, old_project=old_project,
        m1=macro[1], m2=macro[2], m3=macro[3], meeting=meeting, translation=translation,
        arabic=arabic, albanian=albanian, med1=med1, med2=med2, med3=med3,
    )

    def request(name, school, requester, created, state=RequestState.closed, type_=meeting,
                language=arabic, case=None, offers=(), deadline=None):
        req = factory.add(MediationRequest(
            project=project, school=school, requester=requester, type=type_,
            language=language, pupil_case=cases.get(case), state=state,
            duration_minutes=None if deadline else 60, deadline_dt=deadline,
            created_dt=created,
        ))
        for mediator, offered, assignment_state in offers:
            factory.add(Assignment(request=req, mediator=mediator, state=assignment_state,
                                   start_dt=created + timedelta(days=2),
                                   end_dt=created + timedelta(days=2, hours=1),
                                   offered_dt=offered))
        data.requests[name] = req
        return req

    def session(name, school, requester, mediator, macro_action, start, end, created, offered,
                *, case=None, pupils=0, parents=0, teachers=0, state=LogState.approved,
                type_=meeting, language=arabic, deadline=None, pages=None, words=None):
        req = request(name, school, requester, created, type_=type_, language=language,
                      case=case, deadline=deadline,
                      state=RequestState.closed if state == LogState.approved
                      else RequestState.logged)
        assignment = factory.add(Assignment(
            request=req, mediator=mediator, state=AssignmentState.accepted,
            start_dt=start, end_dt=end, deadline_dt=deadline, offered_dt=offered))
        data.logs[name] = factory.add(SessionLog(
            assignment=assignment, actual_start_dt=start, actual_end_dt=end,
            pupils_met=pupils, parents_met=parents, teachers_met=teachers,
            outcome=Outcome.held, macro_action=macro_action, state=state,
            pages=pages, words=words))
        return req

    d = date
    session("S1", a1, t1, med1, macro[1], rome(d(2025, 1, 15), 10), rome(d(2025, 1, 15), 11),
            rome(d(2025, 1, 10), 9), rome(d(2025, 1, 10), 15),
            case="C1", pupils=1, parents=2, teachers=1)
    session("S2", a1, t1, med1, macro[1], rome(d(2025, 1, 31), 23, 15),
            rome(d(2025, 1, 31), 23, 45), rome(d(2025, 1, 20), 10), rome(d(2025, 1, 21), 10),
            case="C1", pupils=1, parents=1)
    session("S3", a2, t2, med2, macro[1], rome(d(2025, 2, 1), 0, 15), rome(d(2025, 2, 1), 1, 15),
            rome(d(2025, 1, 25), 10), rome(d(2025, 1, 25), 12),
            case="C2", parents=2, teachers=1, language=albanian)
    session("S4", a2, t2, med2, macro[2], rome(d(2025, 3, 30), 1, 30),
            rome(d(2025, 3, 30), 3, 30), rome(d(2025, 3, 1), 10), rome(d(2025, 3, 3), 10),
            parents=5, teachers=2, language=albanian)
    session("S5", a1, t1, med1, macro[2], None, None,
            rome(d(2025, 3, 1), 9), rome(d(2025, 3, 1), 10),
            type_=translation, deadline=rome(d(2025, 3, 10), 12), pages=3, words=900)
    req6 = session("S6", a1, t1b, med2, macro[1], rome(d(2025, 3, 31), 23),
                   rome(d(2025, 3, 31), 23, 45), rome(d(2025, 3, 20), 10),
                   rome(d(2025, 3, 21), 9), parents=1)
    # S6 was first offered to med1, who declined: the first offer is that one.
    factory.add(Assignment(request=req6, mediator=med1, state=AssignmentState.declined,
                           start_dt=rome(d(2025, 3, 31), 23), end_dt=rome(d(2025, 3, 31), 23, 45),
                           offered_dt=rome(d(2025, 3, 20), 14)))
    session("S7", a1, t1, med1, macro[1], rome(d(2025, 4, 1), 0, 30), rome(d(2025, 4, 1), 1, 30),
            rome(d(2025, 3, 25), 10), rome(d(2025, 3, 25), 20), parents=1)
    session("S8", b1, tb, med3, macro[1], rome(d(2025, 2, 10), 10), rome(d(2025, 2, 10), 12),
            rome(d(2025, 2, 1), 10), rome(d(2025, 2, 1), 11),
            case="C3", pupils=1, parents=3, teachers=1)
    session("S9", a1, t1, med1, macro[1], rome(d(2025, 2, 12), 10), rome(d(2025, 2, 12), 11),
            rome(d(2024, 12, 20), 10), rome(d(2024, 12, 20), 11), parents=4,
            state=LogState.submitted)
    session("S10", a2, t2, med2, macro[1], rome(d(2025, 2, 13), 10), rome(d(2025, 2, 13), 11),
            rome(d(2024, 12, 20), 10), rome(d(2024, 12, 20), 12), parents=4,
            state=LogState.returned)
    session("S11", a1, t1, med1, macro[3], rome(d(2024, 12, 31), 23),
            rome(d(2024, 12, 31), 23, 30), rome(d(2024, 12, 15), 10), rome(d(2024, 12, 15), 11),
            parents=1)
    request("R12", a1, t1, rome(d(2025, 2, 5), 10), state=RequestState.open)
    request("R13", a2, t2, rome(d(2025, 2, 6), 10), state=RequestState.unfilled)
    request("R14", a1, t1, rome(d(2025, 3, 31), 23, 30), state=RequestState.unfilled,
            offers=[(med2, rome(d(2025, 4, 1), 0, 30), AssignmentState.declined)])
    request("R15", a1, t1, rome(d(2025, 4, 1), 0, 10), state=RequestState.cancelled)
    request("R16", b1, tb, rome(d(2025, 2, 1), 10), state=RequestState.open)
    for name, school, requester, mediator in (("R17", a1, t1, med1), ("R18", b1, tb, med3)):
        req = request(name, school, requester, rome(d(2025, 4, 5), 10),
                      state=RequestState.confirmed)
        factory.add(Assignment(request=req, mediator=mediator, state=AssignmentState.accepted,
                               start_dt=rome(d(2026, 1, 10), 10), end_dt=rome(d(2026, 1, 10), 11),
                               offered_dt=rome(d(2025, 4, 5), 12)))
    db.session.commit()
    return data
