"""The demo's examples of issue #19's ways of working, made with the operations people use
(so that every rule of the matching holds for them as for a real booking), after the bulk
of the demo is written:

- a weekly series at IC Lodi III, its first weeks confirmed by one mediator and the last
  still offered (the series' page shows one card per week);
- two offers sent to several mediators of the Lodi Ambito at once: one declined by one of
  them and still open (the others see it on their agenda), one already taken by the first
  to accept (the others see "already taken");
- a teacher's report that the mediator of one of the last days' appointments did not come;
- families' answers to the invitation letter: the guided tour's Arabic meeting confirmed
  by the family, another of the Ambito's meetings asking for another day, and, for the
  dashboard's figures, the answers of about a third of the past months' family meetings.

Nothing here draws from the builder's main random stream: the rest of the demo is the
same with or without these examples.
"""

import hashlib
import random
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from ..bookings import matching, operations, policy
from ..bookings.operations import RequestInput, SeriesConflict, SlotInput
from ..clock import ROME, to_utc
from ..errors import DomainError
from ..extensions import db
from ..family import operations as family
from ..models import (
    Assignment,
    AssignmentState,
    FamilyAnswer,
    FamilyInvitation,
    MediationRequest,
    MediatorProfile,
    OutboxState,
    Outcome,
    RequestState,
    SessionLog,
)
from ..models.types import utcnow

#: The tables the examples write through the ORM: every column of their models must be
#: there (the tests of older migrations load the demo into an older schema).
_TABLES = ("mediation_requests", "assignments", "request_series", "offer_broadcasts",
           "broadcast_invitations", "family_invitations", "preferred_slots",
           "mediator_no_shows")

#: The columns saying when something was done, of the tables the examples write: the
#: operations stamp them now, which may be at night; they are moved into office hours.
_MOMENTS = {
    "mediation_requests": ("created_dt", "updated_dt"),
    "request_series": ("created_dt",),
    "assignments": ("offered_dt", "responded_dt"),
    "offer_broadcasts": ("created_dt", "closed_dt"),
    "broadcast_invitations": ("sent_dt", "answered_dt"),
    "family_invitations": ("created_at", "answered_at"),
    "mediator_no_shows": ("reported_dt",),
    "audit_events": ("created_dt",),
    "outbox_messages": ("created_dt", "next_attempt_dt"),
}
#: How long the examples' work seems to have taken, at the end of the last office day.
_SPREAD = timedelta(hours=3)

#: The share of past family meetings whose family answered the letter, and what they said.
_ANSWERED_SHARE = 0.35
#: The share of the letters answered among meetings the family missed: a family who cannot
#: come says so more often than one who will.
_MISSED_ANSWERED_SHARE = 0.6
#: How many of the last family meetings had a letter with the link (the summer has none).
_PAST_MEETINGS = 250


def schema_is_current() -> bool:
    """Whether the database has every column of the tables the examples write."""
    inspector = sa.inspect(db.session.connection())
    for name in _TABLES:
        if not inspector.has_table(name):
            return False
        present = {c["name"] for c in inspector.get_columns(name)}
        if set(db.metadata.tables[name].columns.keys()) - present:
            return False
    return True


def add_examples(builder) -> None:
    """Add the examples to the demo ``builder`` has written (see the module's docstring)."""
    if not schema_is_current():
        return
    db.session.flush()
    firsts = {name: (db.session.scalar(sa.text(f"SELECT MAX(id) FROM {name}")) or 0) + 1
              for name in _MOMENTS}
    started = utcnow()
    coordinator = builder.coordinators["LODI"][0]
    lodi = [m for m in builder.mediators if "LODI" in m.ambiti]
    # The guided tour's mediators keep exactly what the tour and the live journey need:
    # Fatima is only invited (an invitation blocks no time), never booked here.
    series_team = [m.profile for m in lodi if m.first_name not in {"Fatima", "Elira", "Ionela"}]
    fatima = builder.by_name["Fatima"].profile
    invited = [m.profile for m in lodi if m.first_name not in {"Elira", "Ionela"}]
    _series(builder, coordinator, builder.by_code["LOIC81200X"], series_team)
    _broadcasts(builder, coordinator, builder.by_code["LOIC81800N"], invited, fatima)
    _family_answers(builder)
    _no_show(builder)
    db.session.flush()
    _in_office_hours(builder, firsts, started, utcnow())
    _past_answers(builder, utcnow())
    db.session.expire_all()


def _undo(savepoint, before: set) -> None:
    """Roll back an attempt, and forget the rows it wrote: SQLite gives their ids again,
    and the session must not find the old objects under them."""
    savepoint.rollback()
    for key in set(db.session.identity_map.keys()) - before:
        obj = db.session.identity_map.get(key)
        if obj is not None:
            db.session.expunge(obj)


def _free_days(builder, info, first: date, weekday: int, weeks: int) -> list[date]:
    """``weeks`` consecutive weekly dates from ``first`` on ``weekday`` that are all school
    days of the school ``info``, or [] if there are none in the next school months."""
    start = first + timedelta(days=(weekday - first.weekday()) % 7)
    school_days = set(builder._school_days(start, start + timedelta(days=300))) - info.closed
    for _ in range(30):
        run = [start + timedelta(weeks=n) for n in range(weeks)]
        if all(day in school_days for day in run):
            return run
        start += timedelta(weeks=1)
    return []


def _input(builder, info, type_code: str, language: str, day: date, minutes: int,
           length: int, notes: str) -> RequestInput:
    start = to_utc(day, time(minutes // 60, minutes % 60))
    return RequestInput(type=builder.types[type_code], language_id=builder.languages[language].id,
                        site_id=info.sites[0].id if info.sites else None,
                        expected_parents=6, expected_teachers=2,
                        slots=[SlotInput(start, start + timedelta(minutes=length))],
                        notes=notes)


def _available(request: MediationRequest, coordinator, start: datetime, end: datetime,
               among: list[MediatorProfile]) -> list[MediatorProfile]:
    """The mediators of ``among`` the matching finds free for ``request`` then, best first."""
    by_id = {m.id: m for m in among}
    return [by_id[r.mediator.id] for r in matching.rank(request, coordinator, start, end)
            if r.available and r.mediator.id in by_id]


def _series(builder, coordinator, info, spare: list[MediatorProfile]) -> None:
    """The lead's weekly desk for Chinese-speaking families, four afternoons a week apart
    from the second week on; the first three confirmed, the fourth still offered."""
    weeks = 4
    # From the second week on; a later week if the mediator is busy or away then.
    tries = [(builder.today + timedelta(days=8 + 7 * later), weekday, minutes)
             for later in range(6)
             for weekday, minutes in ((2, 14 * 60 + 30), (1, 14 * 60), (3, 10 * 60),
                                      (0, 15 * 60))]
    tried = set()
    for first, weekday, minutes in tries:
        days = _free_days(builder, info, first, weekday, weeks)
        if not days or (days[0], minutes) in tried:
            continue
        tried.add((days[0], minutes))
        data = _input(builder, info, "group_meeting", "zh", days[0], minutes, 90,
                      "Sportello settimanale per le famiglie di lingua cinese: iscrizioni, "
                      "mensa, colloqui.")
        before, savepoint = set(db.session.identity_map.keys()), db.session.begin_nested()
        try:
            series = operations.submit_series(info.lead, data, weeks)
            week = min(series.requests, key=lambda r: r.series_position)
            slot = week.slots[0]
            for mediator in _available(week, coordinator, slot.start_dt, slot.end_dt, spare):
                try:
                    offered = operations.offer_series(coordinator, week, mediator)
                except SeriesConflict:
                    continue
                for assignment in sorted(offered, key=lambda a: a.start_dt)[:-1]:
                    operations.accept(mediator.user, assignment)
                savepoint.commit()
                return
            _undo(savepoint, before)
        except DomainError:
            _undo(savepoint, before)
    raise RuntimeError("the demo found no mediator for its weekly series")


def _broadcasts(builder, coordinator, info, among: list[MediatorProfile],
                fatima: MediatorProfile) -> None:
    """Two group meetings at Codogno in French, each offered at once to the Ambito's free
    French speakers, Fatima among them: the first declined by another and still waiting
    for her answer (on her agenda), the second already taken by another (she sees
    "already taken")."""
    made = 0
    first = builder.today + timedelta(days=5)
    # The next school days: in summer, the autumn's.
    days = [d for d in builder._school_days(first, first + timedelta(days=300))
            if d not in info.closed]
    for day in days:
        # Afternoons: Fatima's mornings are kept for the live journey's meeting.
        for minutes in (14 * 60 + 30, 15 * 60 + 30):
            data = _input(builder, info, "group_meeting", "fr", day, minutes, 90,
                          "Incontro con le famiglie delle classi prime sul nuovo orario.")
            before, savepoint = set(db.session.identity_map.keys()), db.session.begin_nested()
            try:
                request = operations.submit_request(info.lead, data)
                slot = request.slots[0]
                free = _available(request, coordinator, slot.start_dt, slot.end_dt, among)[:3]
                if fatima not in free or len(free) < 2:
                    _undo(savepoint, before)
                    continue
                broadcast = operations.broadcast_offer(coordinator, request, [free],
                                                       slot.start_dt, slot.end_dt)
                if made == 0:  # one of the others says no; Fatima can still take it
                    other = next(i for i in broadcast.invitations if i.mediator != fatima)
                    operations.decline_invitation(other.mediator.user, other)
                if made == 1:
                    taker = next(i for i in broadcast.invitations if i.mediator != fatima)
                    operations.accept_invitation(taker.mediator.user, taker)
                savepoint.commit()
            except DomainError:
                _undo(savepoint, before)
                continue
            made += 1
            if made == 2:
                return
            break  # the next one on another day
    raise RuntimeError("the demo found no mediators for its offers to several")


def _family_answers(builder) -> None:
    """The tour's Arabic meeting confirmed by the family; another of the Ambito's coming
    meetings asking for another day (the school and the coordinator are told)."""
    now = utcnow()
    meeting = db.session.get(MediationRequest, builder.tour[0].id)
    _answer(_accepted(meeting), FamilyAnswer.coming, now)
    coming = db.session.scalars(
        sa.select(Assignment).join(MediationRequest, MediationRequest.id == Assignment.request_id)
        .where(Assignment.state == AssignmentState.accepted, Assignment.start_dt > now,
               MediationRequest.state == RequestState.confirmed,
               MediationRequest.type_id == builder.types["family_meeting"].id,
               MediationRequest.id.not_in([r.id for r in builder.tour]))
        .order_by(Assignment.start_dt).limit(1)).first()
    if coming is not None:
        _answer(coming, FamilyAnswer.another_day, now)


def _no_show(builder) -> None:
    """The earliest appointment of the last days that nobody logged (the guided tour's
    apart): its teacher reports that the mediator did not come. None in the holidays,
    when no meeting is recent enough to report."""
    now = utcnow()
    tour = [r.id for r in builder.tour]
    candidates = db.session.scalars(
        sa.select(MediationRequest).join(Assignment, Assignment.request_id == MediationRequest.id)
        .where(MediationRequest.state == RequestState.confirmed,
               Assignment.state == AssignmentState.accepted, Assignment.start_dt < now,
               MediationRequest.id.not_in(tour))
        .order_by(Assignment.start_dt)).all()
    for request in candidates:
        if policy.can_report_no_show(request.requester, request, now):
            operations.report_mediator_no_show(
                request.requester, request, "Abbiamo aspettato mezz'ora, poi la famiglia è "
                "andata via.", now)
            return


def _accepted(request: MediationRequest) -> Assignment:
    return next(a for a in request.assignments if a.state == AssignmentState.accepted)


def _answer(assignment: Assignment, answer: FamilyAnswer, now: datetime) -> None:
    _invitation, token = family.issue(assignment)
    family.answer(token, answer, now)


def _in_office_hours(builder, firsts: dict[str, int], started: datetime,
                     ended: datetime) -> None:
    """Move the moments the examples' operations recorded (between ``started`` and
    ``ended``, now) into the last office hours before now, in the same order: every
    moment of the demo is in office hours (tests/project/test_demo.py)."""
    end = ended - timedelta(minutes=10)
    if not (builder._is_office(end) and builder._is_office(end - _SPREAD)):
        local = end.astimezone(ROME)
        day = local.date() if local.time() >= time(19) else local.date() - timedelta(days=1)
        end = to_utc(builder._office_day(day, -1), time(18, 30))
    start, span = end - _SPREAD, max(ended - started, timedelta(seconds=1))

    def moved(value: datetime | None) -> datetime | None:
        if value is None:
            return None
        return (start + (value - started) / span * _SPREAD).replace(microsecond=0)

    for name, columns in _MOMENTS.items():
        table = db.metadata.tables[name]
        rows = db.session.execute(sa.select(table.c.id, *(table.c[c] for c in columns))
                                  .where(table.c.id >= firsts[name])).all()
        for row in rows:
            db.session.execute(sa.update(table).where(table.c.id == row[0]).values(
                {c: moved(v) for c, v in zip(columns, row[1:], strict=True)}))
    # Their emails went out when they were queued, like every email of the demo's past:
    # a worker started on the demo sends none of them again.
    outbox = db.metadata.tables["outbox_messages"]
    db.session.execute(sa.update(outbox).where(outbox.c.id >= firsts["outbox_messages"])
                       .values(state=OutboxState.sent, attempts=1,
                               sent_dt=outbox.c.next_attempt_dt))
    # The first offer's copy follows its offer.
    requests, assignments = MediationRequest.__table__, Assignment.__table__
    db.session.execute(sa.update(requests).where(requests.c.id >= firsts["mediation_requests"])
                       .values(first_offered_dt=sa.select(sa.func.min(assignments.c.offered_dt))
                               .where(assignments.c.request_id == requests.c.id)
                               .scalar_subquery(),
                               updated_dt=requests.c.updated_dt))  # not "now", its onupdate


def _past_answers(builder, now: datetime) -> None:
    """Letters of past family meetings, a third of them answered a day or two before (more
    of the meetings the family missed): the families who said they would come came more
    often (the dashboard compares them)."""
    rng = random.Random(2029)
    rows = db.session.execute(
        sa.select(SessionLog.assignment_id, SessionLog.request_id, SessionLog.outcome,
                  Assignment.start_dt)
        .join(Assignment, Assignment.id == SessionLog.assignment_id)
        .join(MediationRequest, MediationRequest.id == SessionLog.request_id)
        .where(MediationRequest.type_id == builder.types["family_meeting"].id,
               Assignment.state == AssignmentState.accepted,
               Assignment.start_dt > now - timedelta(days=365),
               Assignment.start_dt < now)
        .order_by(Assignment.start_dt.desc()).limit(_PAST_MEETINGS)).all()[::-1]
    invitations = []
    said_no = False
    for assignment_id, request_id, outcome, start in rows:
        came = outcome == Outcome.held
        if rng.random() >= (_ANSWERED_SHARE if came else _MISSED_ANSWERED_SHARE):
            continue
        nonce = f"{rng.getrandbits(128):032x}"
        if came or rng.random() < 0.3:
            answer = FamilyAnswer.coming
        else:  # the first family that did not come had said so (the dashboard shows both)
            answer = (rng.choice([FamilyAnswer.not_coming, FamilyAnswer.another_day])
                      if said_no else FamilyAnswer.not_coming)
            said_no = True
        invitations.append({
            "assignment_id": assignment_id, "request_id": request_id, "nonce": nonce,
            # Never a link anyone holds: the token's hash of a nonce no letter printed.
            "token_hash": hashlib.sha256(f"demo:{nonce}".encode()).hexdigest(),
            "answer": answer, "answered_at": start - timedelta(hours=rng.uniform(20, 60)),
            "created_at": start - timedelta(days=rng.uniform(5, 12)),
        })
    if invitations:
        db.session.execute(sa.insert(FamilyInvitation), invitations)
