"""`flask demo`: a real year of work, idempotent, every role can log in.

The demo is built twice here (once per test that needs it from an empty database): the
first test runs the command twice and checks its output and the accounts; the second
checks the data's plausibility (volumes, office hours, pupils' classes, notes, documents,
what the "start here" accounts show). The checks of the checks build small worlds.
"""

import re
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from statistics import median

import sqlalchemy as sa

from mediation.bookings.policy import NO_SHOW_WINDOW
from mediation.clock import ROME, days_bounds
from mediation.demo import START_HERE, demo_volumes
from mediation.demo.data import MEN
from mediation.documents import document_path
from mediation.extensions import db
from mediation.models import (
    Assignment,
    AssignmentState,
    AttestationOutcome,
    AuditEvent,
    BroadcastInvitation,
    BroadcastState,
    Closure,
    Cycle,
    Document,
    DocumentKind,
    FamilyAnswer,
    FamilyInvitation,
    FeedbackSide,
    InvitationState,
    Language,
    MediationRequest,
    MediatorNoShow,
    MediatorProfile,
    MediatorRate,
    OfferBroadcast,
    Outcome,
    PlannedHours,
    PreferredSlot,
    Project,
    PupilCase,
    PupilCaseStatus,
    PupilStatus,
    RequestState,
    RequestType,
    Role,
    School,
    SchoolYear,
    SessionAttestation,
    SessionFeedback,
    SessionLog,
    TranslationTariff,
    User,
)

from tests.conftest import Auth

HOME_MARKERS = {
    "teacher": ("Ultime richieste", "Latest requests"),
    "lead": ("Ultime richieste", "Latest requests"),
    "mediator": ("La mia agenda", "My agenda"),
    "coordinator": ("Richieste in attesa di un mediatore", "Requests waiting for a mediator"),
    "admin": ("Quadro regionale", "Regional overview"),
}
#: Plausible volumes of an Ambito under Lab'Impact and its successor, per twelve months.
SESSIONS_PER_AMBITO = (200, 1500)
HOURS_PER_AMBITO = (200, 2000)
#: Each mediator's share of their weekly hours booked over twelve months (summer included).
UTILISATION = (0.10, 0.90)
MEDIAN_UTILISATION = (0.25, 0.70)
#: How far a running project's spent share may be from the share of its time gone by.
ON_TRACK = 0.12
#: Office hours (Rome) of every moment the demo records.
OFFICE = (time(8, 0), time(19, 0))
#: Age in September of the first class of each cycle; pupils may be up to two years behind.
FIRST_AGE = {Cycle.infanzia: 3, Cycle.primaria: 6, Cycle.secondaria_1: 11,
             Cycle.secondaria_2: 14}
BEHIND = 2


def row_counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def logins_of(output: str) -> list[tuple[str, str]]:
    return re.findall(r"^\s+(teacher|lead|mediator|coordinator|admin)\s+(\S+@\S+)", output,
                      re.M)


def test_demo_twice_creates_nothing_new_and_says_where_to_start(app, runner):
    """Running `flask demo` a second time changes no table and prints the same text: first
    the five accounts to start with, then the volumes, then every login, each of which
    reaches its role's home page in Italian and in English."""
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    counts = row_counts()
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0, second.output
    assert row_counts() == counts
    assert first.output == second.output
    assert counts["mediation_requests"] >= 5000
    assert counts["ambiti"] >= 3

    head, volumes, logins = first.output.split("\n\n")
    assert head.startswith("Start here (password: demo):")
    start = logins_of(head)
    assert [role for role, _ in start] == ["teacher", "mediator", "coordinator", "lead",
                                           "admin"]
    assert start == [(role, email) for role, email, _ in START_HERE]
    for name in ("Ambito di Lodi", "Ambito di Legnano", "Ambito di Magenta",
                 "Ambito di Castano Primo"):
        assert re.search(rf"{name}\s+\d+ sessions\s+[\d,.]+ hours", volumes), volumes
    assert re.search(r"\(FAMI2127\): budget [\d,.]+ EUR, spent [\d,.]+ EUR = [\d.]+%", volumes)
    assert "Mediators' utilisation" in volumes
    assert logins.startswith("Demo logins (password: demo):")

    states = set(db.session.scalars(sa.select(MediationRequest.state).distinct()))
    assert states == set(RequestState)
    lab = db.session.scalar(sa.select(Project).where(Project.code == "LABIMPACT"))
    assert str(lab.effective_end_date) == "2023-06-30"
    assert str(lab.total_budget) == "296672.06"

    everyone = logins_of(logins)
    assert {role for role, _ in everyone} == set(HOME_MARKERS)
    assert set(start) <= set(everyone)
    for role, email in everyone:
        user = db.session.scalar(sa.select(User).where(User.email == email))
        assert user.role.value == role
        client = app.test_client()
        response = Auth(client).login(email, "demo", follow=True)
        assert response.status_code == 200, email
        markers = dict(zip(("it", "en"), HOME_MARKERS[role], strict=True))
        first_locale = user.locale or "it"  # the demo has one teacher who chose English
        assert f'<html lang="{first_locale}"' in response.text
        assert markers[first_locale] in response.text
        other = "en" if first_locale == "it" else "it"
        client.post("/locale", data={"locale": other, "next": "/"})
        response = client.get("/", follow_redirects=True)
        assert f'<html lang="{other}"' in response.text and markers[other] in response.text


# --- plausibility -------------------------------------------------------------------


def rome(value: datetime) -> datetime:
    return value.astimezone(ROME)


def holidays() -> set[date]:
    days = set()
    for closure in db.session.scalars(sa.select(Closure).where(Closure.school_id.is_(None))):
        day = closure.start_date
        while day <= closure.end_date:
            days.add(day)
            day += timedelta(days=1)
    return days


def outside_office(moments: list[tuple[str, datetime]], closed: set[date],
                   now: datetime) -> list[str]:
    """The moments that are not in office hours on a weekday that is not a holiday, or are
    in the future."""
    wrong = []
    for what, moment in moments:
        local = rome(moment)
        if (local.weekday() >= 5 or local.date() in closed
                or not OFFICE[0] <= local.time() < OFFICE[1] or moment > now):
            wrong.append(f"{what} at {local:%a %d/%m/%Y %H:%M}")
    return wrong


def recorded_moments() -> list[tuple[str, datetime]]:
    """Every moment the demo says something was done: filed, offered, answered, logged,
    approved, uploaded, a pupil recorded, and the whole audit trail."""
    found = []
    queries = [
        ("request filed", sa.select(MediationRequest.created_dt)),
        ("request updated", sa.select(MediationRequest.updated_dt)),
        ("offered", sa.select(Assignment.offered_dt)),
        ("answered", sa.select(Assignment.responded_dt)
         .where(Assignment.responded_dt.is_not(None))),
        ("logged", sa.select(SessionLog.created_dt)),
        ("log approved", sa.select(SessionLog.approved_dt)
         .where(SessionLog.approved_dt.is_not(None))),
        ("uploaded", sa.select(Document.created_dt)),
        ("pupil recorded", sa.select(PupilCase.created_dt)),
        ("attested", sa.select(SessionAttestation.at)),
        ("no-show reported", sa.select(MediatorNoShow.reported_dt)),
        ("feedback given", sa.select(SessionFeedback.at)),
        ("audit event", sa.select(AuditEvent.created_dt)),
    ]
    for what, query in queries:
        found.extend((what, moment) for moment in db.session.scalars(query))
    return found


def pupils_out_of_place() -> list[str]:
    """Pupil cases whose class (that of the last school year they were followed in) cannot
    be that of a pupil who had arrived by then: too young to have been born when they
    arrived, or followed before arriving."""
    years = {y.id: y.start_date.year for y in db.session.scalars(sa.select(SchoolYear))}
    followed = defaultdict(list)
    for case_id, year_id in db.session.execute(
            sa.select(PupilCaseStatus.pupil_case_id, PupilCaseStatus.school_year_id)):
        followed[case_id].append(years[year_id])
    wrong = []
    for case in db.session.scalars(sa.select(PupilCase)):
        if not followed[case.id] or case.arrival_year is None:
            continue
        grade = int(case.class_name[0])
        last, first = max(followed[case.id]), min(followed[case.id])
        oldest = FIRST_AGE[case.cycle] + grade - 1 + BEHIND  # in September of ``last``
        if case.arrival_year < last - oldest or case.arrival_year > first:
            wrong.append(f"{case.code}: class {case.class_name} ({case.cycle.value}) in"
                         f" {last}, arrived {case.arrival_year}, followed from {first}")
    return wrong


def test_demo_looks_like_a_real_year_of_work(app, runner):
    """Volumes of a real Ambito, spending on track, plausible utilisation, every moment in
    office hours on a school-office day, pupils in the class of their age, notes that fit
    their slots, documents to translate, and what the "start here" accounts show."""
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    now = datetime.now(UTC)
    today = now.astimezone(ROME).date()
    volumes = demo_volumes(today)

    # Hundreds of sessions a year in every Ambito.
    assert len(volumes.ambiti) == 4
    for name, (sessions, hours) in volumes.ambiti.items():
        assert SESSIONS_PER_AMBITO[0] <= sessions <= SESSIONS_PER_AMBITO[1], (name, sessions)
        assert HOURS_PER_AMBITO[0] <= hours <= HOURS_PER_AMBITO[1], (name, hours)
    # Spending on track: the running project has spent about the share of its time gone
    # by; Lab'Impact, closed, almost all of its budget.
    _, _, _, spent, elapsed = volumes.projects["FAMI2127"]
    assert 0.1 < elapsed < 1 and abs(spent - elapsed) <= ON_TRACK, (spent, elapsed)
    assert 0.85 <= volumes.projects["LABIMPACT"][3] <= 1.0, volumes.projects["LABIMPACT"]
    # The plan: each Ambito's planned hours of the running project used at the same pace.
    running = db.session.scalar(sa.select(Project.id).where(Project.code == "FAMI2127"))
    used = defaultdict(float)
    for ambito_id, first, last in db.session.execute(
            sa.select(School.ambito_id, SessionLog.actual_start_dt, SessionLog.actual_end_dt)
            .join(School, School.id == SessionLog.school_id)
            .where(SessionLog.project_id == running, SessionLog.approved_dt.is_not(None),
                   SessionLog.actual_start_dt.is_not(None))):
        used[ambito_id] += (last - first).total_seconds() / 3600
    plan = defaultdict(float)
    for ambito_id, hours in db.session.execute(
            sa.select(PlannedHours.ambito_id, PlannedHours.hours)
            .where(PlannedHours.macro_action.has(project_id=running))):
        plan[ambito_id] += float(hours)
    assert set(plan) == set(used) and len(plan) == 4
    for ambito_id, hours in plan.items():
        assert abs(used[ambito_id] / hours - elapsed) <= 0.2, (ambito_id, used, hours)
    # Mediators' utilisation in a plausible range.
    values = list(volumes.utilisation.values())
    assert all(UTILISATION[0] <= v <= UTILISATION[1] for v in values), volumes.utilisation
    assert MEDIAN_UTILISATION[0] <= median(values) <= MEDIAN_UTILISATION[1], values

    # Every moment in office hours, on weekdays that are not holidays, none in the future.
    closed = holidays()
    wrong = outside_office(recorded_moments(), closed, now)
    assert not wrong, f"{len(wrong)} moments out of office hours: {wrong[:10]}"
    # Meetings on the school's school days, between 8:00 and 18:00.
    school_closed = defaultdict(set)
    for school_id, first, last in db.session.execute(
            sa.select(Closure.school_id, Closure.start_date, Closure.end_date)
            .where(Closure.school_id.is_not(None))):
        while first <= last:
            school_closed[school_id].add(first)
            first += timedelta(days=1)
    for school_id, start, end in db.session.execute(
            sa.select(Assignment.school_id, Assignment.start_dt, Assignment.end_dt)
            .where(Assignment.start_dt.is_not(None))):
        local_start, local_end = rome(start), rome(end)
        assert local_start.weekday() < 5 and local_start.date() not in closed, local_start
        assert local_start.date() not in school_closed[school_id], local_start
        assert time(8) <= local_start.time() and local_end.time() <= time(18), local_start

    # Pupils in the class of their age.
    assert not pupils_out_of_place()
    # Notes that fit the times proposed.
    for request in db.session.scalars(
            sa.select(MediationRequest).where(MediationRequest.notes.like("%meglio%"))):
        hours = [(rome(s.start_dt).time(), rome(s.end_dt).time()) for s in request.slots]
        if "meglio il pomeriggio" in request.notes:
            assert all(a >= time(14) for a, _ in hours), (request.id, hours)
        if "meglio la mattina" in request.notes:
            assert all(b <= time(13) for _, b in hours), (request.id, hours)
    for request in db.session.scalars(sa.select(MediationRequest).where(
            MediationRequest.notes.like("%preferisce una mediatrice%"))):
        for assignment in request.assignments:
            assert assignment.mediator.user.display_name.split()[0] not in MEN
    # Translations carry their documents: real files, in the uploads' storage.
    translation = db.session.scalar(sa.select(RequestType.id).filter_by(code="translation"))
    requests = db.session.scalars(
        sa.select(MediationRequest).where(MediationRequest.type_id == translation)).all()
    assert len(requests) >= 100
    documents = defaultdict(dict)
    for document in db.session.scalars(sa.select(Document)):
        documents[document.request_id][document.kind] = document
    for request in requests:
        source = documents[request.id].get(DocumentKind.source)
        assert source is not None, request.id
        assert document_path(source).read_bytes().startswith(b"%PDF-")
        if request.state == RequestState.closed:
            delivered = documents[request.id][DocumentKind.translation]
            assert document_path(delivered).stat().st_size == delivered.size_bytes
    # Translations cost something: each approved one keeps its project's tariff per page,
    # and the spending printed counts its pages at that tariff.
    priced = db.session.execute(
        sa.select(SessionLog.project_id, SessionLog.counted_dt, SessionLog.pages,
                  TranslationTariff.page_cost)
        .outerjoin(TranslationTariff, TranslationTariff.id == SessionLog.tariff_id)
        .where(SessionLog.approved_dt.is_not(None), SessionLog.actual_start_dt.is_(None))
    ).all()
    assert len(priced) >= 50
    assert all(pages and cost and cost > 0 for _, _, pages, cost in priced), priced[:5]
    # Spent up to the end of today: a translation delivered before its deadline counts on
    # the deadline's day.
    stop = days_bounds(rome(now).date(), rome(now).date())[1]
    translated = defaultdict(Decimal)
    for project_id, counted, pages, cost in priced:
        if aware(counted) < stop:
            translated[project_id] += pages * cost
    sessions_only = defaultdict(Decimal)
    for project_id, first, last, hourly in db.session.execute(
            sa.select(SessionLog.project_id, SessionLog.actual_start_dt,
                      SessionLog.actual_end_dt, MediatorRate.hourly_cost)
            .join(MediatorRate, MediatorRate.id == SessionLog.rate_id)
            .where(SessionLog.approved_dt.is_not(None),
                   SessionLog.counted_dt < stop)):
        sessions_only[project_id] += (Decimal(int((last - first).total_seconds())) * hourly
                                      / 3600)
    for project in db.session.scalars(sa.select(Project)):
        printed = volumes.projects[project.code][2]
        expected = (sessions_only[project.id] + translated[project.id]).quantize(
            Decimal("0.01"))
        assert translated[project.id] > 0 and abs(printed - expected) <= 1, (
            project.code, printed, expected, translated[project.id])

    # The December bridge of IC Lodi III, when the 8th falls midweek.
    current = today.year if today.month >= 9 else today.year - 1
    if date(current, 12, 8).weekday() in (1, 2, 3):
        assert db.session.scalar(sa.select(Closure.id).where(
            Closure.name.like("Ponte%"), Closure.start_date >= date(current, 12, 1),
            Closure.end_date <= date(current, 12, 10)))

    # Nothing waits for a time gone by: a request still open, or awaiting approval, has a
    # preferred time to come (the coordinator marks the others as not covered).
    stale = db.session.execute(
        sa.select(MediationRequest.id, MediationRequest.state)
        .join(PreferredSlot, PreferredSlot.request_id == MediationRequest.id)
        .where(MediationRequest.state.in_([RequestState.open,
                                           RequestState.awaiting_approval]))
        .group_by(MediationRequest.id, MediationRequest.state)
        .having(sa.func.max(PreferredSlot.end_dt) < now)).all()
    assert not stale, stale

    # Every school's letterhead is filled: the family letter shows its address and number.
    assert not db.session.scalars(sa.select(School.code).where(
        sa.or_(School.address.is_(None), School.telephone.is_(None)))).all()

    # The schools attest their sessions: most of those logged over a month ago are
    # confirmed, by whoever asked for them and after the log; a few recent ones are
    # disputed (the coordinator's queue lists them), the newest are still pending.
    answers = db.session.execute(
        sa.select(SessionLog.created_dt, SessionAttestation.outcome, SessionAttestation.at,
                  SessionAttestation.by_id, SessionLog.requester_id)
        .outerjoin(SessionAttestation, SessionAttestation.session_log_id == SessionLog.id)
    ).all()
    month_ago = now - timedelta(days=30)
    old = [a for a in answers if aware(a.created_dt) < month_ago]
    confirmed = [a for a in old if a.outcome == AttestationOutcome.attested]
    assert 0.8 <= len(confirmed) / len(old) < 1, (len(confirmed), len(old))
    disputed = [a for a in answers if a.outcome == AttestationOutcome.disputed]
    answered = [a for a in answers if a.outcome is not None]
    # (None in the summer holidays, when nothing was answered for a month.)
    this_month = [a for a in answered if aware(a.at) >= month_ago]
    assert (1 if this_month else 0) <= len(disputed) <= 20, (len(this_month), len(disputed))
    assert all(aware(a.at) >= month_ago for a in disputed)
    assert all(a.by_id == a.requester_id and a.at > a.created_dt for a in answered)
    newest = [a for a in answers if aware(a.created_dt) > now - timedelta(days=3)]
    assert len(newest) < 3 or any(a.outcome is None for a in newest), newest

    # Feedback after held sessions (issue #19): most requesters rate them, mostly useful;
    # each answer by the requester or the session's mediator, after the log, within the
    # 30 days the question stays open.
    rated = db.session.execute(
        sa.select(SessionFeedback.side, SessionFeedback.rating, SessionFeedback.by_id,
                  SessionFeedback.at, SessionLog.created_dt, SessionLog.requester_id,
                  SessionLog.outcome, MediatorProfile.user_id)
        .join(SessionLog, SessionLog.id == SessionFeedback.session_log_id)
        .join(MediatorProfile, MediatorProfile.id == SessionLog.mediator_id)).all()
    school = [r for r in rated if r.side == FeedbackSide.school]
    held = db.session.scalar(sa.select(sa.func.count(SessionLog.id)).where(
        SessionLog.outcome == Outcome.held))
    assert 0.5 <= len(school) / held < 0.8, (len(school), held)
    useful = sum(1 for r in school if r.rating >= 4)
    assert 0.7 <= useful / len(school) < 0.95
    assert any(r.side == FeedbackSide.mediator for r in rated)
    assert all(r.outcome == Outcome.held and 1 <= r.rating <= 5 for r in rated)
    assert all(r.by_id == (r.requester_id if r.side == FeedbackSide.school else r.user_id)
               for r in rated)
    late = [(r.created_dt, r.at) for r in rated
            if not r.created_dt < r.at <= r.created_dt + timedelta(days=30)]
    assert not late, late[:5]

    check_start_here(now)
    check_new_ways(now)


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def user_id(email: str) -> int:
    return db.session.scalar(sa.select(User.id).where(User.email == email))


def check_start_here(now: datetime) -> None:
    """What the five accounts to start with show."""
    teacher, mediator, coordinator, lead, _admin = (email for _, email, _ in START_HERE)
    arabic = db.session.scalar(sa.select(Language.id).filter_by(code="ar"))
    meeting = db.session.scalar(sa.select(RequestType.id).filter_by(code="family_meeting"))
    # The teacher's confirmed Arabic family meeting, to come.
    assert db.session.scalar(
        sa.select(MediationRequest.id).join(Assignment)
        .where(MediationRequest.requester_id == user_id(teacher),
               MediationRequest.state == RequestState.confirmed,
               MediationRequest.language_id == arabic, MediationRequest.type_id == meeting,
               Assignment.state == AssignmentState.accepted, Assignment.start_dt > now))
    # The mediator's offer to answer and session to log.
    profile = db.session.scalar(sa.select(MediatorProfile.id).where(
        MediatorProfile.user_id == user_id(mediator)))
    assert db.session.scalar(sa.select(Assignment.id).where(
        Assignment.mediator_id == profile, Assignment.state == AssignmentState.offered))
    assert db.session.scalar(
        sa.select(Assignment.id).join(MediationRequest)
        .where(Assignment.mediator_id == profile, Assignment.state == AssignmentState.accepted,
               Assignment.end_dt < now, MediationRequest.state == RequestState.confirmed))
    # The coordinator's open requests (one in Romanian on Fridays, which Ionela, the
    # Ambito's only Romanian speaker, never works) and a log to approve.
    ambito = db.session.scalar(sa.select(User.ambito_id).where(User.email == coordinator))
    open_requests = db.session.scalars(
        sa.select(MediationRequest).join(School)
        .where(School.ambito_id == ambito, MediationRequest.state == RequestState.open)).all()
    romanian = [r for r in open_requests if r.language.code == "ro"]
    assert romanian and len(open_requests) >= 2
    assert all(rome(slot.start_dt).weekday() == 4 for slot in romanian[0].slots)
    assert db.session.scalar(
        sa.select(SessionLog.id).join(School, School.id == SessionLog.school_id)
        .where(School.ambito_id == ambito, SessionLog.approved_dt.is_(None)))
    # The lead's request to approve.
    school = db.session.scalar(sa.select(User.school_id).where(User.email == lead))
    assert db.session.scalar(sa.select(MediationRequest.id).where(
        MediationRequest.school_id == school,
        MediationRequest.state == RequestState.awaiting_approval))
    assert db.session.scalar(sa.select(User.role).where(User.email == lead)) == Role.lead


def check_new_ways(now: datetime) -> None:
    """Issue #19's ways of working have an example each (mediation/demo/examples.py)."""
    # A weekly series: its first weeks confirmed, the last still offered, all to come.
    weeks = db.session.execute(
        sa.select(MediationRequest.series_position, MediationRequest.state, Assignment.start_dt)
        .join(Assignment).where(MediationRequest.series_id.is_not(None))
        .order_by(MediationRequest.series_position)).all()
    assert [w.state for w in weeks] == [RequestState.confirmed] * 3 + [RequestState.offered]
    assert all(aware(w.start_dt) > now for w in weeks)
    assert len({rome(w.start_dt).time() for w in weeks}) == 1
    # Two offers to several: Fatima is invited to both; one is open, the other taken by
    # another mediator (she sees "already taken").
    fatima = db.session.scalar(sa.select(MediatorProfile.id).join(User).where(
        User.email == START_HERE[1][1]))
    invitations = db.session.execute(
        sa.select(OfferBroadcast.state, BroadcastInvitation.mediator_id,
                  BroadcastInvitation.state)
        .join(BroadcastInvitation).order_by(OfferBroadcast.id)).all()
    mine = [(b, s) for b, m, s in invitations if m == fatima]
    assert mine == [(BroadcastState.open, InvitationState.sent),
                    (BroadcastState.taken, InvitationState.withdrawn)]
    assert [m for _b, m, s in invitations if s == InvitationState.accepted and m != fatima]
    declined = db.session.scalars(sa.select(BroadcastInvitation).where(
        BroadcastInvitation.state == InvitationState.withdrawn,
        BroadcastInvitation.answered_dt.is_not(None))).all()
    assert len(declined) == 1 and declined[0].declined and declined[0].mediator_id != fatima
    # A teacher reported that the mediator of a recent appointment did not come: one, when
    # appointments recent enough to report are there (not in the summer holidays). Fatima's
    # are the guided tour's: her session to log is not reported.
    recent = db.session.scalar(
        sa.select(sa.func.count()).select_from(Assignment).join(MediationRequest)
        .where(Assignment.state == AssignmentState.accepted, Assignment.mediator_id != fatima,
               MediationRequest.state == RequestState.confirmed,
               Assignment.start_dt < now, Assignment.start_dt > now - NO_SHOW_WINDOW))
    reports = db.session.scalars(sa.select(MediatorNoShow)).all()
    assert len(reports) == 1 if recent else len(reports) <= 1, (recent, reports)
    for report in reports:
        assert report.note and report.assignment.request.state == RequestState.confirmed
    # The families' answers: the teacher's meeting confirmed, one coming meeting asking for
    # another day, and past answers for the dashboard's comparison.
    answers = db.session.execute(
        sa.select(FamilyInvitation.answer, Assignment.start_dt)
        .join(Assignment, Assignment.id == FamilyInvitation.assignment_id)).all()
    coming = [a for a, start in answers if aware(start) > now]
    meetings = db.session.scalar(
        sa.select(sa.func.count()).select_from(Assignment).join(MediationRequest)
        .join(RequestType).where(Assignment.state == AssignmentState.accepted,
                                 MediationRequest.state == RequestState.confirmed,
                                 RequestType.code == "family_meeting", Assignment.start_dt > now))
    # In the summer the tour's meeting may be the only one to come.
    assert sorted(coming) == ([FamilyAnswer.another_day, FamilyAnswer.coming] if meetings > 1
                              else [FamilyAnswer.coming])
    past = [a for a, start in answers if aware(start) < now]
    assert len(past) > 20 and FamilyAnswer.coming in past and FamilyAnswer.not_coming in past


# --- checks of the checks ----------------------------------------------------------


def test_office_hours_check_catches_the_night_and_the_weekend():
    """An offer accepted at 03:43, a log on a Sunday, one on a holiday and one tomorrow are
    caught; 8:00 and 18:59 on a Tuesday pass."""
    now = datetime(2026, 12, 4, 12, tzinfo=UTC)
    moments = [
        ("night", datetime(2026, 11, 3, 3, 43, tzinfo=ROME)),
        ("sunday", datetime(2026, 11, 1, 10, tzinfo=ROME)),
        ("holiday", datetime(2026, 12, 8, 10, tzinfo=ROME)),
        ("future", datetime(2026, 12, 5, 10, tzinfo=ROME).astimezone(UTC)),
        ("opening", datetime(2026, 11, 3, 8, 0, tzinfo=ROME)),
        ("closing", datetime(2026, 11, 3, 18, 59, tzinfo=ROME)),
    ]
    wrong = outside_office(moments, {date(2026, 12, 8)}, now)
    assert [w.split()[0] for w in wrong] == ["night", "sunday", "holiday", "future"]


def test_pupil_check_catches_a_pupil_who_did_not_age(app, factory):
    """A pupil who arrived in 2018 and is still in infanzia in 2026 is out of place; one
    who arrived in 2024 and is in its second year is not."""
    school = factory.school()
    years = {}
    for start in (2018, 2024, 2026):
        years[start] = SchoolYear(label=f"{start}/{start + 1}", start_date=date(start, 9, 12),
                                  end_date=date(start + 1, 6, 8))
        db.session.add(years[start])
    stuck = PupilCase(school=school, code="OLD", class_name="1A", cycle=Cycle.infanzia,
                      arrival_year=2018)
    fine = PupilCase(school=school, code="NEW", class_name="2B", cycle=Cycle.infanzia,
                     arrival_year=2024)
    stuck.statuses = [PupilCaseStatus(school_year=years[2018], status=PupilStatus.attending),
                      PupilCaseStatus(school_year=years[2026], status=PupilStatus.attending)]
    fine.statuses = [PupilCaseStatus(school_year=years[2024], status=PupilStatus.attending),
                     PupilCaseStatus(school_year=years[2026], status=PupilStatus.attending)]
    db.session.add_all([stuck, fine])
    db.session.flush()
    wrong = pupils_out_of_place()
    assert len(wrong) == 1 and wrong[0].startswith("OLD:")
