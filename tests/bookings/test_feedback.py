"""Feedback after a held session (issue #19): the requesting teacher rates whether the
mediation was useful, the mediator who held it the organisation (1 to 5, an optional
comment). The operation, the request page's box, and the dashboard's figures against a
small data set whose shares are computed by hand below."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from mediation.bookings import operations as ops
from mediation.bookings import policy
from mediation.clock import in_rome
from mediation.errors import InvalidInput, InvalidTransition, NotAllowed
from mediation.extensions import db
from mediation.models import (
    AssignmentState,
    AuditEvent,
    FeedbackSide,
    Outcome,
    RequestState,
    Role,
    SessionFeedback,
    utcnow,
)
from mediation.reporting import aggregates
from mediation.reporting.filters import ReportFilter

from tests.conftest import login
from tests.scenarios.booking import rome


def _yesterday() -> date:
    return in_rome(utcnow()).date() - timedelta(days=1)


def held(booking, hour: int = 10, *, approve: bool = False, school=None, requester=None,
         mediator=None, language=None, rtype=None, day: date | None = None,
         outcome: Outcome = Outcome.held):
    """A meeting held (by default) yesterday at ``hour`` and logged by its mediator,
    approved if ``approve``. Committed; returns the log."""
    f = booking.factory
    mediator = mediator or booking.mediator
    req = f.request(school=school or booking.school, project=booking.project,
                    requester=requester or booking.teacher, type=rtype or booking.meeting,
                    language=language or mediator.languages[0].language,
                    state=RequestState.confirmed)
    start = rome(day or _yesterday(), hour)
    assignment = f.assignment(request=req, mediator=mediator, start=start,
                              end=start + timedelta(hours=1), state=AssignmentState.accepted)
    db.session.commit()
    log = ops.log_session(mediator.user, assignment, ops.LogInput(
        outcome=outcome, actual_start=start, actual_end=start + timedelta(hours=1),
        parents_met=1))
    db.session.flush()
    if approve:
        ops.approve_log(booking.coordinator, log)
    db.session.commit()
    return log


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count(SessionFeedback.id)))


# -- the operation ------------------------------------------------------------------


def test_the_teacher_and_the_mediator_each_answer_once(app, booking):
    log = held(booking)
    school = ops.give_feedback(booking.teacher, log, "4", "  Molto utile, grazie ")
    mediator = ops.give_feedback(booking.mediator.user, log, 2)
    db.session.commit()
    assert (school.side, school.rating, school.comment, school.by_id) == (
        FeedbackSide.school, 4, "Molto utile, grazie", booking.teacher.id)
    assert (mediator.side, mediator.rating, mediator.comment) == (
        FeedbackSide.mediator, 2, None)
    events = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "session.feedback").order_by(AuditEvent.id)).all()
    assert [(e.actor_id, e.data["side"], e.data["rating"]) for e in events] == [
        (booking.teacher.id, "school", 4), (booking.mediator.user_id, "mediator", 2)]
    assert all("comment" not in e.data for e in events)  # free text stays on the row
    for user in (booking.teacher, booking.mediator.user):
        with pytest.raises(InvalidTransition):  # once per side
            ops.give_feedback(user, log, 5)
        db.session.rollback()
    assert _count() == 2


def test_bad_ratings_and_long_comments_are_refused_by_field(app, booking):
    log = held(booking)
    for rating in (None, "", "x", 0, 6, "3.5"):
        with pytest.raises(InvalidInput) as error:
            ops.give_feedback(booking.teacher, log, rating)
        assert error.value.field == "rating"
        db.session.rollback()
    with pytest.raises(InvalidInput) as error:
        ops.give_feedback(booking.teacher, log, 3, "x" * 501)
    assert error.value.field == "comment"
    db.session.rollback()
    assert _count() == 0


def test_the_database_checks_the_rating(app, booking):
    log = held(booking)
    db.session.add(SessionFeedback(log=log, side=FeedbackSide.school, rating=7,
                                   by=booking.teacher))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_who_may_answer(app, booking):
    """The teacher who asked and the mediator who held it; not a lead, another teacher,
    another school, the coordinator, another mediator."""
    log = held(booking)
    f = booking.factory
    colleague = f.user(Role.teacher, school=booking.school)
    stranger = f.user(Role.teacher, school=f.school(booking.school.ambito))
    other_mediator = f.mediator(ambiti=[booking.school.ambito])
    db.session.commit()
    for user in (booking.lead, colleague, stranger, booking.coordinator, other_mediator.user):
        assert policy.feedback_side(user, log) is None
        with pytest.raises(NotAllowed):
            ops.give_feedback(user, log, 5)
        db.session.rollback()
    assert policy.feedback_side(booking.teacher, log) == FeedbackSide.school
    assert policy.feedback_side(booking.mediator.user, log) == FeedbackSide.mediator


def test_only_a_held_session_within_thirty_days_and_not_sent_back(app, booking):
    absent = held(booking, 8, outcome=Outcome.family_absent)
    with pytest.raises(InvalidTransition):
        ops.give_feedback(booking.teacher, absent, 5)
    db.session.rollback()
    log = held(booking, 10)
    now = utcnow()
    assert policy.can_give_feedback(booking.teacher, log, now)
    late = log.counted_dt + policy.FEEDBACK_WINDOW + timedelta(minutes=1)
    late = max(late, log.created_dt + policy.FEEDBACK_WINDOW + timedelta(minutes=1))
    assert not policy.can_give_feedback(booking.teacher, log, late)
    with pytest.raises(InvalidTransition):
        ops.give_feedback(booking.teacher, log, 5, now=late)
    db.session.rollback()
    ops.return_log(booking.coordinator, log, "Check the times")
    db.session.commit()
    assert not policy.can_give_feedback(booking.mediator.user, log, utcnow())
    with pytest.raises(InvalidTransition):
        ops.give_feedback(booking.mediator.user, log, 5)
    db.session.rollback()
    # Approved: still open.
    approved = held(booking, 12, approve=True)
    assert policy.can_give_feedback(booking.teacher, approved, utcnow())


def test_the_request_page_shows_each_side_its_own_question(app, booking):
    log = held(booking)
    req = log.assignment.request
    teacher = policy.actions(booking.teacher, req, utcnow())
    mediator = policy.actions(booking.mediator.user, req, utcnow())
    lead = policy.actions(booking.lead, req, utcnow())
    assert (teacher.feedback_log, teacher.feedback_side, teacher.give_feedback) == (
        log, FeedbackSide.school, True)
    assert (mediator.feedback_log, mediator.feedback_side, mediator.give_feedback) == (
        log, FeedbackSide.mediator, True)
    assert lead.feedback_log is None and not lead.give_feedback


# -- the request page ---------------------------------------------------------------


def test_the_teacher_answers_on_the_page(app, client, booking):
    log = held(booking)
    page = f"/requests/{log.assignment.request_id}"
    login(client, booking.teacher)
    html = client.get(page).get_data(as_text=True)
    assert 'id="feedback"' in html and "data-rating-form" in html
    assert "<legend" in html and 'type="radio"' in html
    assert 'name="rating" type="radio" value="5"' in html or 'value="5"' in html
    # No rating: the message next to the field, the comment typed kept.
    response = client.post(page + "/feedback", data={"log_id": log.id,
                                                     "comment": "Commento scritto"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="rating-error"' in html and "Commento scritto" in html
    assert _count() == 0
    response = client.post(page + "/feedback", data={"log_id": log.id, "rating": "5",
                                                     "comment": "Molto utile"})
    assert response.status_code == 302 and response.location.endswith(page + "#feedback")
    html = client.get(page).get_data(as_text=True)
    assert 'data-rating-answer="5"' in html and "Molto utile" in html
    assert "data-rating-form" not in html
    # Again: refused, nothing changes.
    response = client.post(page + "/feedback", data={"log_id": log.id, "rating": "1"})
    assert response.status_code == 302
    db.session.expire_all()
    assert [f.rating for f in db.session.scalars(sa.select(SessionFeedback))] == [5]


def test_the_mediator_answers_about_the_organisation_in_english(app, client, booking):
    log = held(booking)
    booking.mediator.user.locale = "en"
    db.session.commit()
    page = f"/requests/{log.assignment.request_id}"
    login(client, booking.mediator.user)
    html = client.get(page).get_data(as_text=True)
    assert "How was the organisation of the meeting?" in html
    assert "Was the mediation useful?" not in html
    response = client.post(page + "/feedback", data={"log_id": log.id, "rating": "3"})
    assert response.status_code == 302
    feedback, = db.session.scalars(sa.select(SessionFeedback))
    assert (feedback.side, feedback.rating) == (FeedbackSide.mediator, 3)


def test_the_italian_page_asks_in_italian(app, client, booking):
    log = held(booking)
    login(client, booking.teacher)
    html = client.get(f"/requests/{log.assignment.request_id}").get_data(as_text=True)
    assert "La mediazione è stata utile?" in html


def test_another_school_or_a_stranger_gets_a_404(app, client, booking):
    log = held(booking)
    f = booking.factory
    page = f"/requests/{log.assignment.request_id}"
    stranger = f.user(Role.teacher, school=f.school(booking.school.ambito))
    colleague = f.user(Role.teacher, school=booking.school)
    db.session.commit()
    for user in (stranger, colleague, booking.lead):
        login(client, user)
        assert client.post(page + "/feedback", data={"log_id": log.id,
                                                     "rating": "5"}).status_code == 404
    # The teacher, with a log id that is not the request's.
    elsewhere = held(booking, 14)
    login(client, booking.teacher)
    assert client.post(page + "/feedback", data={"log_id": elsewhere.id,
                                                 "rating": "5"}).status_code == 404
    login(client, booking.coordinator)
    assert client.post(page + "/feedback", data={"log_id": log.id,
                                                 "rating": "5"}).status_code in (403, 404)
    assert _count() == 0


# -- the dashboard, against a data set computed by hand -----------------------------------


def _dataset(booking):
    """Approved sessions of yesterday in the booking's Ambito, rated by the requesting
    teacher (school A: the booking's, B: another of the Ambito; L1: the mediators'
    language, L2 another; types: meeting, group):

    ==  ======  ====  =======  ========  ======  ============
    #   school  lang  type     mediator  school  organisation
    ==  ======  ====  =======  ========  ======  ============
    1   A       L1    meeting  M1        5       3
    2   A       L1    meeting  M1        4       4
    3   A       L2    meeting  M1        2       —
    4   A       L1    group    M1        5       —
    5   B       L1    meeting  M2        4       5
    6   B       L2    group    M2        2       —
    7   B       L2    meeting  M2        5       —
    ==  ======  ====  =======  ========  ======  ============

    Not counted: an approved session without answer (M1), a session rated 1 whose log is
    not approved (M1), and one rated 1 in another Ambito (the admin counts it).

    By hand: 7 answers, useful (4 or 5) 1, 2, 4, 5, 7 = 5 → 5/7 = 71.4 %. School A 3/4 =
    75 %, B 2/3 = 66.7 %; L1 4/4 = 100 %, L2 1/3 = 33.3 %; meeting 4/5 = 80 %, group 1/2
    = 50 %. Organisation: (3+4+5)/3 = 4. M1: usefulness (5+4+2+5)/4 = 4, 3 useful,
    organisation (3+4)/2 = 3.5; M2: (4+2+5)/3 = 3.666…, 2 useful, organisation 5.
    """
    f = booking.factory
    ambito = booking.school.ambito
    school_b = f.school(ambito, name="Istituto B")
    booking.school.name = "Istituto A"
    teacher_b = f.user(Role.teacher, school=school_b)
    group = f.request_type(code="group", name_it="Gruppo", name_en="Group")
    l1 = booking.mediator.languages[0].language
    l2 = f.language("zh", name_it="Cinese", name_en="Chinese")
    m1 = booking.mediator
    m1.user.display_name = "Anna M1"
    m2 = f.mediator(ambiti=[ambito], display_name="Bruno M2")
    db.session.commit()
    a, b, meeting = booking.school, school_b, booking.meeting
    rows = [  # school, requester, language, type, mediator, hour, school rating, org
        (a, booking.teacher, l1, meeting, m1, 8, 5, 3),
        (a, booking.teacher, l1, meeting, m1, 9, 4, 4),
        (a, booking.teacher, l2, meeting, m1, 10, 2, None),
        (a, booking.teacher, l1, group, m1, 11, 5, None),
        (b, teacher_b, l1, meeting, m2, 8, 4, 5),
        (b, teacher_b, l2, group, m2, 9, 2, None),
        (b, teacher_b, l2, meeting, m2, 10, 5, None),
    ]
    for school, requester, language, rtype, mediator, hour, rating, organisation in rows:
        log = held(booking, hour, approve=True, school=school, requester=requester,
                   mediator=mediator, language=language, rtype=rtype)
        ops.give_feedback(requester, log, rating)
        if organisation:
            ops.give_feedback(mediator.user, log, organisation, "Tutto bene")
        db.session.commit()
    held(booking, 12, approve=True)  # no answer
    pending = held(booking, 13)  # not approved
    ops.give_feedback(booking.teacher, pending, 1)
    other = f.school(f.ambito())
    other_teacher = f.user(Role.teacher, school=other)
    other_mediator = f.mediator(ambiti=[other.ambito])
    db.session.commit()
    elsewhere = held(booking, 8, school=other, requester=other_teacher,
                     mediator=other_mediator)
    ops.approve_log(f.user(Role.admin), elsewhere)
    ops.give_feedback(other_teacher, elsewhere, 1)
    db.session.commit()
    return {"a": a, "b": b, "l1": l1, "l2": l2, "m1": m1, "m2": m2, "group": group,
            "meeting": meeting, "other": other}


def _share(row):
    return (row["answers"], row["useful"], row["share"])


def test_dashboard_shares_of_useful_answers_by_hand(app, booking, count_queries):
    d = _dataset(booking)
    day = _yesterday()
    report = ReportFilter(start=day, end=day)
    aggregates.feedback(report, booking.coordinator)  # the user and their scope loaded
    with count_queries() as counted:
        got = aggregates.feedback(report, booking.coordinator)
    assert counted.count == 1  # whatever the number of sessions
    assert _share(got["overall"]) == (7, 5, Decimal(5) / 7)
    assert f"{got['overall']['share']:.3f}" == "0.714"
    assert [(r["id"], _share(r)) for r in got["ambiti"]] == [
        (booking.school.ambito_id, (7, 5, Decimal(5) / 7))]
    assert {r["id"]: _share(r) for r in got["schools"]} == {
        d["a"].id: (4, 3, Decimal("0.75")), d["b"].id: (3, 2, Decimal(2) / 3)}
    assert {r["id"]: _share(r) for r in got["languages"]} == {
        d["l1"].id: (4, 4, Decimal(1)), d["l2"].id: (3, 1, Decimal(1) / 3)}
    assert {r["id"]: _share(r) for r in got["types"]} == {
        d["meeting"].id: (5, 4, Decimal("0.8")), d["group"].id: (2, 1, Decimal("0.5"))}
    assert got["organisation"] == {"answers": 3, "average": Decimal(4)}

    mediators = aggregates.mediator_feedback(report, booking.coordinator)
    assert [(m["name"], m["school_answers"], m["useful"], m["usefulness"],
             m["organisation_answers"], m["organisation"]) for m in mediators] == [
        ("Anna M1", 4, 3, Decimal(4), 2, Decimal("3.5")),
        ("Bruno M2", 3, 2, Decimal(11) / 3, 1, Decimal(5)),
    ]
    # The filter applies: one school, one language.
    only_b = aggregates.feedback(ReportFilter(start=day, end=day, school_id=d["b"].id),
                                 booking.coordinator)
    assert _share(only_b["overall"]) == (3, 2, Decimal(2) / 3)
    only_l2 = aggregates.feedback(ReportFilter(start=day, end=day,
                                               language_id=d["l2"].id), booking.coordinator)
    assert _share(only_l2["overall"]) == (3, 1, Decimal(1) / 3)
    # The admin sees the other Ambito's answer too; its coordinator only that one.
    admin = booking.factory.user(Role.admin)
    other_coordinator = booking.factory.user(Role.coordinator, ambito=d["other"].ambito)
    db.session.commit()
    assert _share(aggregates.feedback(report, admin)["overall"]) == (8, 5, Decimal(5) / 8)
    assert _share(aggregates.feedback(report, other_coordinator)["overall"]) == (
        1, 0, Decimal(0))
    theirs = aggregates.mediator_feedback(report, other_coordinator)
    assert [(m["school_answers"], m["usefulness"]) for m in theirs] == [(1, Decimal(1))]
    assert {"Anna M1", "Bruno M2"}.isdisjoint(m["name"] for m in theirs)


def test_the_dashboard_page_shows_the_shares_rounded_once(app, client, booking):
    _dataset(booking)
    booking.coordinator.locale = "en"
    db.session.commit()
    day = _yesterday().isoformat()
    login(client, booking.coordinator)
    html = client.get(f"/reporting/?start={day}&end={day}").get_data(as_text=True)
    assert 'id="feedback-title"' in html
    assert 'data-total="useful-share" data-value="' in html
    assert "71.4%" in html and "66.7%" in html and "33.3%" in html
    assert 'id="mediator-feedback-title"' in html
    assert "Anna M1" in html and "3.7" in html and "3.5" in html


def test_mediators_and_teachers_never_see_the_averages(app, client, booking):
    d = _dataset(booking)
    day = _yesterday().isoformat()
    for user in (booking.teacher, booking.lead, d["m1"].user):
        login(client, user)
        response = client.get(f"/reporting/?start={day}&end={day}")
        assert response.status_code in (403, 404)
        home = client.get("/", follow_redirects=True).get_data(as_text=True)
        assert "mediator-feedback" not in home


def test_the_agenda_asks_the_mediator_until_they_answer(app, client, booking):
    log = held(booking)
    absent = held(booking, 8, outcome=Outcome.family_absent)
    other = booking.factory.mediator(ambiti=[booking.school.ambito])
    db.session.commit()
    login(client, booking.mediator.user)
    html = client.get("/agenda").get_data(as_text=True)
    assert f'data-to-rate-log="{log.id}"' in html
    assert f'data-to-rate-log="{absent.id}"' not in html  # not held: no question
    assert f'/requests/{log.assignment.request_id}#feedback' in html
    # Another mediator is never asked about it.
    login(client, other.user)
    assert "data-to-rate" not in client.get("/agenda").get_data(as_text=True)
    ops.give_feedback(booking.mediator.user, log, 4)
    db.session.commit()
    login(client, booking.mediator.user)
    assert "data-to-rate" not in client.get("/agenda").get_data(as_text=True)


def test_the_coordinator_reads_both_answers_the_others_only_their_own(app, client, booking):
    log = held(booking)
    ops.give_feedback(booking.teacher, log, 5, "Utile davvero")
    ops.give_feedback(booking.mediator.user, log, 2, "Aula non prenotata")
    db.session.commit()
    page = f"/requests/{log.assignment.request_id}"
    login(client, booking.coordinator)
    html = client.get(page).get_data(as_text=True)
    assert 'data-read-feedback="school"' in html and 'data-read-feedback="mediator"' in html
    assert "Utile davvero" in html and "Aula non prenotata" in html
    login(client, booking.teacher)
    html = client.get(page).get_data(as_text=True)
    assert "Utile davvero" in html and "Aula non prenotata" not in html
    assert "data-read-feedback" not in html
    login(client, booking.mediator.user)
    html = client.get(page).get_data(as_text=True)
    assert "Aula non prenotata" in html and "Utile davvero" not in html
    login(client, booking.lead)
    html = client.get(page).get_data(as_text=True)
    assert "Utile davvero" not in html and "Aula non prenotata" not in html
    other = booking.factory.user(Role.coordinator)
    db.session.commit()
    login(client, other)
    assert client.get(page).status_code == 404
