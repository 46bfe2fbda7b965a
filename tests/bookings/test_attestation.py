"""The school's attestation of a logged session (issue #18): the operations, the email that
asks for it, the request page's box, the coordinator's queue, the dashboard's counts and
the sessions export. Who may answer in which state is checked cell by cell in
test_policy.py."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from mediation.bookings import operations as ops
from mediation.bookings import policy
from mediation.bookings.queries import attestations_for
from mediation.clock import in_rome
from mediation.errors import InvalidInput, InvalidTransition, NotAllowed
from mediation.extensions import db
from mediation.models import (
    AssignmentState,
    AttestationOutcome,
    AuditEvent,
    OutboxMessage,
    Outcome,
    RequestState,
    Role,
    SessionAttestation,
    utcnow,
)
from mediation.reporting import aggregates
from mediation.reporting.filters import ReportFilter

from tests.conftest import login
from tests.reporting.test_exports import read_csv, read_xlsx, records
from tests.scenarios.booking import rome


def _yesterday() -> date:
    return in_rome(utcnow()).date() - timedelta(days=1)


def logged(booking, hour: int = 10, *, approve: bool = False, requester=None):
    """A meeting of the booking's school held yesterday at ``hour`` and logged by its
    mediator (approved by the coordinator if ``approve``). Committed; returns the log."""
    f = booking.factory
    req = f.request(school=booking.school, project=booking.project,
                    requester=requester or booking.teacher, type=booking.meeting,
                    language=booking.mediator.languages[0].language,
                    state=RequestState.confirmed)
    start = rome(_yesterday(), hour)
    assignment = f.assignment(request=req, mediator=booking.mediator, start=start,
                              end=start + timedelta(hours=1), state=AssignmentState.accepted)
    db.session.commit()
    log = ops.log_session(booking.mediator.user, assignment, ops.LogInput(
        outcome=Outcome.held, actual_start=start, actual_end=start + timedelta(hours=1),
        parents_met=1))
    db.session.flush()
    if approve:
        ops.approve_log(booking.coordinator, log)
    db.session.commit()
    return log


def _emails(template: str) -> list[OutboxMessage]:
    return list(db.session.scalars(sa.select(OutboxMessage).where(
        OutboxMessage.template == template).order_by(OutboxMessage.id)))


def _events(log, action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == action,
        AuditEvent.object_id == log.assignment.request_id).order_by(AuditEvent.id)))


# -- operations -------------------------------------------------------------------


def test_the_teacher_confirms_once_and_it_is_kept(app, booking):
    log = logged(booking)
    attestation = ops.attest_session(booking.teacher, log)
    db.session.commit()
    assert (attestation.outcome, attestation.by_id, attestation.reason) == (
        AttestationOutcome.attested, booking.teacher.id, None)
    assert abs((utcnow() - attestation.at).total_seconds()) < 60
    assert [e.data["log_id"] for e in _events(log, "session.attested")] == [log.id]
    # A confirmation is final: neither the lead nor the teacher answers again.
    with pytest.raises(InvalidTransition):
        ops.attest_session(booking.lead, log)
    db.session.rollback()
    with pytest.raises(InvalidTransition):
        ops.dispute_session(booking.teacher, log, "Nobody came")
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(SessionAttestation.id))) == 1


def test_a_dispute_needs_a_reason_and_can_be_resolved_by_confirming(app, booking):
    log = logged(booking)
    with pytest.raises(InvalidInput) as error:
        ops.dispute_session(booking.teacher, log, "   ")
    assert error.value.field == "reason"
    db.session.rollback()
    ops.dispute_session(booking.teacher, log, "  The mediator left after 20 minutes ")
    db.session.commit()
    assert (log.attestation.outcome, log.attestation.reason) == (
        AttestationOutcome.disputed, "The mediator left after 20 minutes")
    with pytest.raises(InvalidTransition):  # one dispute at a time
        ops.dispute_session(booking.lead, log, "Again")
    db.session.rollback()
    # The lead, having spoken with the coordinator, confirms: one row, the history kept.
    ops.attest_session(booking.lead, log)
    db.session.commit()
    rows = db.session.scalars(sa.select(SessionAttestation)).all()
    assert [(r.outcome, r.by_id, r.reason) for r in rows] == [
        (AttestationOutcome.attested, booking.lead.id, None)]
    disputed, = _events(log, "session.disputed")
    attested, = _events(log, "session.attested")
    assert (disputed.actor_id, disputed.data["previous"]) == (booking.teacher.id, None)
    assert (attested.actor_id, attested.data["previous"]) == (booking.lead.id, "disputed")
    assert "reason" not in disputed.data  # free text stays out of the audit trail


def test_who_may_answer(app, booking):
    log = logged(booking)
    colleague = booking.factory.user(Role.teacher, school=booking.school)
    other_school = booking.factory.school(booking.school.ambito)
    stranger = booking.factory.user(Role.teacher, school=other_school)
    db.session.commit()
    for user in (colleague, stranger, booking.coordinator, booking.mediator.user):
        with pytest.raises(NotAllowed):
            ops.attest_session(user, log)
        with pytest.raises(NotAllowed):
            ops.dispute_session(user, log, "No")
        db.session.rollback()


def test_nothing_to_attest_before_the_log(app, booking):
    log = logged(booking)
    assert policy.can_attest(booking.teacher, log)
    req = log.assignment.request
    assert policy.actions(booking.teacher, req, utcnow()).attest is log
    assert policy.actions(booking.teacher, req, utcnow()).dispute
    req.state = RequestState.confirmed  # as before the log
    assert not policy.attest_allowed(log) and not policy.dispute_allowed(log)


def test_attestations_for_gives_who_and_when_in_one_query(app, booking, count_queries):
    first, second, third = logged(booking, 8), logged(booking, 10), logged(booking, 12)
    ops.attest_session(booking.teacher, first)
    ops.dispute_session(booking.lead, second, "Not held")
    db.session.commit()
    ids = [first.id, second.id, third.id]
    db.session.expire_all()
    with count_queries() as counted:
        found = attestations_for(ids)
        names = {log_id: a.by.display_name for log_id, a in found.items()}
    assert counted.count == 1
    assert {k: v.outcome for k, v in found.items()} == {
        first.id: AttestationOutcome.attested, second.id: AttestationOutcome.disputed}
    assert names == {first.id: booking.teacher.display_name,
                     second.id: booking.lead.display_name}
    assert attestations_for([]) == {}


# -- the email ----------------------------------------------------------------------


def test_logging_asks_the_requester_once_with_the_link(app, booking):
    log = logged(booking)
    mail, = _emails("attestation")
    assert mail.recipient_id == booking.teacher.id
    link = f"/requests/{log.assignment.request_id}#attestation"
    assert link in mail.body_text and link in mail.body_html
    assert booking.mediator.user.display_name in mail.body_text
    # Returned and corrected, it is the same session: not asked again.
    ops.return_log(booking.coordinator, log, "Check the times")
    db.session.commit()
    assignment = log.assignment
    ops.log_session(booking.mediator.user, assignment, ops.LogInput(
        outcome=Outcome.held, actual_start=assignment.start_dt,
        actual_end=assignment.end_dt, parents_met=2))
    db.session.commit()
    assert len(_emails("attestation")) == 1


def test_the_email_asks_whether_a_held_session_was_useful(app, booking):
    """After a held session the teacher who asked is also asked the feedback question
    (the page's #feedback box); after a meeting the family missed, only to attest."""
    log = logged(booking)
    mail, = _emails("attestation")
    link = f"/requests/{log.assignment.request_id}#feedback"
    assert link in mail.body_text and link in mail.body_html
    assert "mediazione è stata utile" in mail.body_text
    f = booking.factory
    req = f.request(school=booking.school, project=booking.project, requester=booking.teacher,
                    type=booking.meeting, language=booking.mediator.languages[0].language,
                    state=RequestState.confirmed)
    start = rome(_yesterday(), 15)
    assignment = f.assignment(request=req, mediator=booking.mediator, start=start,
                              end=start + timedelta(hours=1), state=AssignmentState.accepted)
    db.session.commit()
    ops.log_session(booking.mediator.user, assignment, ops.LogInput(
        outcome=Outcome.family_absent, actual_start=start, actual_end=start + timedelta(hours=1)))
    db.session.commit()
    absent = _emails("attestation")[-1]
    assert absent.id != mail.id and f"/requests/{req.id}#attestation" in absent.body_text
    assert "#feedback" not in absent.body_text and "#feedback" not in absent.body_html


def test_the_email_text_part_is_as_typed_and_the_html_escaped(app, booking):
    booking.mediator.user.display_name = "Fatima <b>O'Brien</b>"
    db.session.commit()
    logged(booking)
    mail, = _emails("attestation")
    assert "Fatima <b>O'Brien</b>" in mail.body_text
    assert "Fatima &lt;b&gt;O&#39;Brien&lt;/b&gt;" in mail.body_html


# -- the request page ---------------------------------------------------------------


def test_the_page_offers_confirm_and_dispute_and_get_changes_nothing(app, client, booking):
    log = logged(booking)
    page = f"/requests/{log.assignment.request_id}"
    login(client, booking.teacher)
    html = client.get(page).get_data(as_text=True)
    assert 'id="attestation"' in html
    assert 'data-action="attest"' in html and 'data-action="dispute"' in html
    assert client.get(page + "/attest").status_code == 405  # nothing on GET
    assert db.session.scalar(sa.select(sa.func.count(SessionAttestation.id))) == 0

    response = client.post(page + "/dispute", data={"log_id": log.id, "reason": ""})
    assert response.status_code == 400  # the reason, next to its field
    assert 'id="reason"' in response.get_data(as_text=True)
    response = client.post(page + "/dispute", data={"log_id": log.id,
                                                    "reason": "Nessuno è venuto"})
    assert response.status_code == 302 and response.location.endswith(page + "#attestation")
    html = client.get(page).get_data(as_text=True)
    assert 'data-attestation="disputed"' in html and "Nessuno è venuto" in html
    assert 'data-action="dispute"' not in html and 'data-action="attest"' in html

    response = client.post(page + "/attest", data={"log_id": log.id})
    assert response.status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert 'data-attestation="attested"' in html and 'id="attestation"' not in html
    db.session.expire_all()
    assert log.attestation.outcome == AttestationOutcome.attested


def test_another_school_gets_a_404(app, client, booking):
    log = logged(booking)
    other = booking.factory.user(Role.teacher, school=booking.factory.school(
        booking.school.ambito))
    db.session.commit()
    page = f"/requests/{log.assignment.request_id}"
    login(client, other)
    assert client.post(page + "/attest", data={"log_id": log.id}).status_code == 404
    assert client.post(page + "/dispute", data={"log_id": log.id,
                                                "reason": "No"}).status_code == 404
    # Of its own school, a log id that is not the request's.
    elsewhere = logged(booking, 14)
    login(client, booking.teacher)
    assert client.post(page + "/attest", data={"log_id": elsewhere.id}).status_code == 404
    assert client.post(page + "/attest", data={"log_id": "x"}).status_code == 404
    # The mediator and the coordinator cannot answer for the school.
    login(client, booking.coordinator)
    assert client.post(page + "/attest", data={"log_id": log.id}).status_code in (403, 404)
    assert db.session.scalar(sa.select(sa.func.count(SessionAttestation.id))) == 0


def test_the_coordinator_sees_the_disputes_in_the_queue(app, client, booking):
    log = logged(booking)
    quiet = logged(booking, 14)
    ops.dispute_session(booking.teacher, log, "Only ten minutes")
    db.session.commit()
    login(client, booking.coordinator)
    html = client.get("/coordination/requests").get_data(as_text=True)
    assert f'data-disputed-log="{log.id}"' in html
    assert f'data-disputed-log="{quiet.id}"' not in html
    assert f'href="/requests/{log.assignment.request_id}"' in html
    assert "Only ten minutes" in html
    other = booking.factory.user(Role.coordinator)
    db.session.commit()
    login(client, other)
    html = client.get("/coordination/requests").get_data(as_text=True)
    assert "data-disputed-log" not in html
    # Confirmed by the school: no longer in the queue.
    ops.attest_session(booking.teacher, log)
    db.session.commit()
    login(client, booking.coordinator)
    assert "data-disputed-log" not in client.get("/coordination/requests").get_data(
        as_text=True)


# -- the dashboard and the export ---------------------------------------------------


def _five_sessions(booking):
    """Approved: attested, disputed, disputed then confirmed, pending, pending (the
    family absent); logged but not approved: disputed (not counted)."""
    attested, disputed, resolved, pending = (logged(booking, h, approve=True)
                                             for h in (8, 9, 10, 11))
    absent = logged(booking, 12, approve=True)
    absent.outcome = Outcome.family_absent
    unapproved = logged(booking, 13)
    ops.attest_session(booking.teacher, attested)
    ops.dispute_session(booking.teacher, disputed, "Not held")
    ops.dispute_session(booking.lead, resolved, "Wrong time")
    db.session.flush()
    ops.attest_session(booking.lead, resolved)
    ops.dispute_session(booking.teacher, unapproved, "Never came")
    db.session.commit()
    return attested, disputed, resolved, pending


def test_dashboard_counts_attested_pending_disputed(app, client, booking):
    _five_sessions(booking)
    day = _yesterday()
    report = ReportFilter(start=day, end=day)
    # By hand: 5 approved sessions; attested 2 (one after a dispute), disputed 1,
    # pending 2; the unapproved dispute is not among the approved sessions.
    assert aggregates.attestations(report, booking.coordinator) == {
        "sessions": 5, "attested": 2, "disputed": 1, "pending": 2}
    elsewhere = booking.factory.user(Role.coordinator)
    db.session.commit()
    assert aggregates.attestations(report, elsewhere) == {
        "sessions": 0, "attested": 0, "disputed": 0, "pending": 0}
    login(client, booking.coordinator)
    html = client.get(f"/reporting/?start={day.isoformat()}&end={day.isoformat()}"
                      ).get_data(as_text=True)
    for name, value in (("attested", 2), ("attestation-pending", 2), ("disputed", 1)):
        assert f'data-total="{name}" data-value="{value}"' in html


@pytest.mark.parametrize("lang", ["it", "en"])
def test_sessions_export_has_the_attestation(app, client, booking, lang):
    attested, disputed, resolved, pending = _five_sessions(booking)
    day = _yesterday().isoformat()
    query = f"start={day}&end={day}" + ("&lang=en" if lang == "en" else "")
    login(client, booking.coordinator)
    response = client.get(f"/reporting/export/sessions.csv?{query}")
    assert response.status_code == 200
    got = records(read_csv(response, ";" if lang == "it" else ","))
    headers = {"it": ("N. intervento", "Attestazione della scuola", "Attestato da",
                      "Attestato da (ruolo)", "Data dell'attestazione",
                      "Ora dell'attestazione"),
               "en": ("Session no.", "School attestation", "Attested by",
                      "Attested by (role)", "Attestation date", "Attestation time")}[lang]
    by_log = {int(r[headers[0]]): tuple(r[h] for h in headers[1:]) for r in got}
    teacher, lead = booking.teacher.display_name, booking.lead.display_name
    words = {"it": ("Attestato", "Contestato", "In attesa", "Docente",
                    "Referente intercultura"),
             "en": ("Attested", "Disputed", "Pending", "Teacher", "Intercultural lead")}[lang]
    when = {log.id: log.attestation.at for log in (attested, disputed, resolved)}
    assert by_log[pending.id] == (words[2], "", "", "", "")
    assert by_log[attested.id][:3] == (words[0], teacher, words[3])
    assert by_log[disputed.id][:3] == (words[1], teacher, words[3])
    assert by_log[resolved.id][:3] == (words[0], lead, words[4])
    assert by_log[attested.id][3] == in_rome(when[attested.id]).date().isoformat()
    assert by_log[attested.id][4] == in_rome(when[attested.id]).strftime("%H:%M")
    assert len(by_log) == 5  # the approved sessions only

    response = client.get(f"/reporting/export/sessions.xlsx?{query}")
    sheet = next(iter(read_xlsx(response).values()))
    rows = records(sheet)
    row = next(r for r in rows if r[headers[0]] == resolved.id)
    assert (row[headers[1]], row[headers[2]], row[headers[3]]) == (words[0], lead, words[4])
    assert row[headers[4]].date() == in_rome(when[resolved.id]).date()


def test_the_coordinator_reviewing_the_log_sees_the_dispute(app, client, booking):
    log = logged(booking)
    ops.dispute_session(booking.teacher, log, "The family was not called")
    db.session.commit()
    login(client, booking.coordinator)
    html = client.get("/coordination/logs").get_data(as_text=True)
    assert 'data-attestation="disputed"' in html and "The family was not called" in html
    # Approval does not wait for the attestation: the coordinator still decides.
    ops.approve_log(booking.coordinator, log)
    db.session.commit()
    assert log.assignment.request.state == RequestState.closed
