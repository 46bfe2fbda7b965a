"""Every lifecycle transition: what it changes, audits and mails, and what it refuses."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from mediation.bookings import matching
from mediation.bookings import operations as ops
from mediation.bookings.operations import LogInput, SlotInput
from mediation.clock import in_rome
from mediation.errors import InvalidInput, InvalidTransition, NotAllowed, SlotTaken
from mediation.extensions import db
from mediation.models import (
    Absence,
    Assignment,
    AssignmentState,
    AuditEvent,
    Closure,
    Cycle,
    Document,
    DocumentKind,
    LogState,
    MacroAction,
    OutboxMessage,
    Outcome,
    ProjectExtension,
    ProposalState,
    PupilCase,
    RequestState,
    Role,
    SessionLog,
    TimeProposal,
    utcnow,
)

from tests.scenarios.booking import (
    monday_before_summer_time,
    offered,
    rome,
    school_day,
    submitted,
    weekday_after,
)


def mails(template="booking"):
    """(recipient email, kind) of the queued booking mails, by kind in the body."""
    return db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.template == template)
        .order_by(OutboxMessage.id)
    ).all()


def actions(request):
    return [e.action for e in db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.object_type == "MediationRequest",
                                    AuditEvent.object_id == request.id)
        .order_by(AuditEvent.id))]


def past_confirmed(booking, hours_ago=2):
    """A confirmed meeting that started ``hours_ago`` hours ago (built directly)."""
    start = utcnow() - timedelta(hours=hours_ago)
    request = booking.factory.request(school=booking.school, project=booking.project,
                                      type=booking.meeting, requester=booking.teacher,
                                      state=RequestState.confirmed)
    assignment = booking.factory.assignment(request=request, mediator=booking.mediator,
                                            start=start, end=start + timedelta(hours=1),
                                            state=AssignmentState.accepted)
    db.session.commit()
    return assignment


def held(start, end):
    return LogInput(outcome=Outcome.held, actual_start=start, actual_end=end, parents_met=2,
                    summary="Colloquio svolto.")


def translated(request, user) -> Document:
    """A translated document's row (the file itself does not matter to the operations)."""
    document = Document(request=request, kind=DocumentKind.translation,
                        storage_name=f"t{request.id}.pdf", original_name="tradotto.pdf",
                        content_type="application/pdf", size_bytes=10, uploaded_by_id=user.id)
    db.session.add(document)
    db.session.flush()
    return document


class TestSubmit:
    def test_goes_straight_to_the_coordinator(self, booking):
        """Without lead approval a request is open at once, and its filing is audited."""
        request = submitted(booking)
        assert request.state == RequestState.open
        assert request.project_id == booking.project.id
        assert request.duration_minutes == 60
        assert actions(request) == ["request.submitted"]
        assert mails() == []

    def test_waits_for_the_lead_when_the_school_says_so(self, booking):
        """A teacher's request waits for the lead, who is mailed; the lead's own does not."""
        booking.school.requires_lead_approval = True
        request = submitted(booking)
        assert request.state == RequestState.awaiting_approval
        assert [m.recipient_email for m in mails()] == [booking.lead.email]
        assert submitted(booking, actor=booking.lead).state == RequestState.open

    @pytest.mark.parametrize(
        ("when", "message"),
        [
            ("past", "past"),
            ("saturday", "weekend"),
            ("closure", "closed on that day"),
            ("after_project", "No project"),
            ("short", "at least 15 minutes"),
        ],
    )
    def test_refuses_unbookable_slots(self, app, booking, when, message):
        """Past, weekend, holiday, out-of-project and too-short slots are refused by field."""
        day = school_day()
        minutes = 60
        if when == "past":
            day = school_day(-14)
        elif when == "saturday":
            day = day + timedelta(days=(5 - day.weekday()) % 7)
        elif when == "closure":
            booking.factory.add(Closure(name="Festa del patrono", start_date=day, end_date=day,
                                        school_id=booking.school.id))
        elif when == "after_project":
            day = booking.project.end_date + timedelta(days=7)
            day += timedelta(days=(7 - day.weekday()) % 7)
        elif when == "short":
            minutes = 10
        with app.test_request_context(headers={"Accept-Language": "en"}), \
                pytest.raises(InvalidInput) as excinfo:
            ops.submit_request(booking.teacher, booking.slot_input(day=day, minutes=minutes))
        assert excinfo.value.field == "slot_1"
        assert message in str(excinfo.value.message)

    def test_checks_every_slot(self, booking):
        """The second slot is checked too, and named in the error."""
        good = booking.slot_input()
        bad = rome(school_day(-7), 10)
        good.slots.append(SlotInput(bad, bad + timedelta(hours=1)))
        with pytest.raises(InvalidInput) as excinfo:
            ops.submit_request(booking.teacher, good)
        assert excinfo.value.field == "slot_2"

    def test_needs_a_site_in_person(self, booking):
        """An in-person meeting needs one of the school's sites."""
        with pytest.raises(InvalidInput) as excinfo:
            ops.submit_request(booking.teacher, booking.slot_input(site_id=None))
        assert excinfo.value.field == "site"

    def test_pupil_case_of_another_school_is_refused(self, booking):
        """A pupil case from another school cannot be attached."""
        other = booking.factory.add(PupilCase(school=booking.factory.school(), code="X1",
                                              class_name="1A", cycle=Cycle.primaria))
        with pytest.raises(NotAllowed):
            ops.submit_request(booking.teacher, booking.slot_input(pupil_case=other))

    @pytest.mark.parametrize("role", ["mediator", "coordinator"])
    def test_only_schools_file_requests(self, booking, role):
        """Mediators and coordinators cannot file requests."""
        actor = booking.mediator.user if role == "mediator" else booking.coordinator
        with pytest.raises(NotAllowed):
            ops.submit_request(actor, booking.slot_input())

    def test_translation_takes_a_deadline(self, booking):
        """A translation has a deadline, a direction and pages, and no slots."""
        from mediation.models import Direction

        deadline = rome(school_day(), 12)
        request = ops.submit_request(booking.teacher, booking.slot_input(
            type=booking.translation, slots=[], deadline=deadline,
            direction=Direction.from_italian, page_count=3))
        assert request.deadline_dt == deadline and request.slots == []
        assert request.duration_minutes is None and request.site_id is None

    def test_pupil_codes_are_unique_per_school(self, booking):
        """Creating the same pseudonymous code twice in a school is refused."""
        ops.create_pupil_case(booking.teacher, code="lodi-001", class_name="2B",
                              cycle=Cycle.primaria)
        with pytest.raises(InvalidInput) as excinfo:
            ops.create_pupil_case(booking.teacher, code="LODI-001", class_name="3C",
                                  cycle=Cycle.primaria)
        assert excinfo.value.field == "case_code"


class TestApproval:
    def test_lead_approves(self, booking):
        """The lead opens a waiting request."""
        booking.school.requires_lead_approval = True
        request = submitted(booking)
        ops.approve_request(booking.lead, request)
        assert request.state == RequestState.open
        assert actions(request)[-1] == "request.approved"

    def test_lead_rejects_with_a_reason(self, booking):
        """A rejection needs a reason, which the requester is mailed."""
        booking.school.requires_lead_approval = True
        request = submitted(booking)
        with pytest.raises(InvalidInput):
            ops.reject_request(booking.lead, request, "  ")
        ops.reject_request(booking.lead, request, "Non serve più")
        assert request.state == RequestState.rejected
        assert mails()[-1].recipient_email == booking.teacher.email

    def test_teacher_cannot_approve(self, booking):
        """Only the lead approves."""
        booking.school.requires_lead_approval = True
        request = submitted(booking)
        with pytest.raises(NotAllowed):
            ops.approve_request(booking.teacher, request)

    def test_approving_an_open_request_is_refused(self, booking):
        """An illegal transition is a 409, not a crash."""
        request = submitted(booking)
        with pytest.raises(InvalidTransition):
            ops.approve_request(booking.lead, request)


class TestOffer:
    def test_offer_books_the_mediator(self, booking):
        """An offer creates an active assignment, audits it and mails the mediator."""
        assignment = offered(booking)
        assert assignment.state == AssignmentState.offered
        assert assignment.request.state == RequestState.offered
        assert assignment.offered_by_id == booking.coordinator.id
        assert actions(assignment.request)[-1] == "assignment.offered"
        (mail,) = mails()
        assert mail.recipient_email == booking.mediator.user.email

    def test_overlapping_offer_is_slot_taken(self, booking):
        """A second request at an overlapping time is refused; nothing is half-written."""
        offered(booking)
        other = submitted(booking, hour=10)
        with pytest.raises(SlotTaken):
            ops.offer(booking.coordinator, other, booking.mediator, other.slots[0].start_dt,
                      other.slots[0].end_dt)
        db.session.rollback()
        assert other.state == RequestState.open
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 1
        assert len(mails()) == 1

    def test_back_to_back_offers_are_fine(self, booking):
        """The next hour can be offered to the same mediator."""
        offered(booking)
        assert offered(booking, submitted(booking, hour=11)).state == AssignmentState.offered

    def test_other_ambito_coordinator_cannot_offer(self, booking):
        """A coordinator of another Ambito has no business with the request."""
        request = submitted(booking)
        stranger = booking.factory.user(Role.coordinator)
        with pytest.raises(NotAllowed):
            ops.offer(stranger, request, booking.mediator, request.slots[0].start_dt,
                      request.slots[0].end_dt)

    def test_mediator_of_another_ambito_is_refused(self, booking):
        """Only mediators serving the school's Ambito can be offered the request."""
        request = submitted(booking)
        outsider = booking.factory.mediator(ambiti=[booking.factory.ambito()])
        with pytest.raises(NotAllowed):
            ops.offer(booking.coordinator, request, outsider, request.slots[0].start_dt,
                      request.slots[0].end_dt)

    def test_absent_mediator_is_refused(self, booking):
        """Nothing is booked during a mediator's absence (rule 4)."""
        request = submitted(booking)
        slot = request.slots[0]
        booking.factory.add(Absence(mediator=booking.mediator, start_dt=slot.start_dt,
                                    end_dt=slot.end_dt + timedelta(days=1)))
        with pytest.raises(InvalidInput):
            ops.offer(booking.coordinator, request, booking.mediator, slot.start_dt,
                      slot.end_dt)

    def test_offer_needs_an_open_request(self, booking):
        """An offered request cannot be offered again."""
        assignment = offered(booking)
        with pytest.raises(InvalidTransition):
            ops.offer(booking.coordinator, assignment.request, booking.mediator,
                      assignment.start_dt, assignment.end_dt)


class TestMediatorAnswers:
    def test_accept_confirms_and_tells_the_school(self, booking):
        """Accepting confirms the request; the requester, the lead and the mediator (for
        their calendar) are mailed."""
        assignment = offered(booking)
        ops.accept(booking.mediator.user, assignment)
        assert assignment.state == AssignmentState.accepted
        assert assignment.request.state == RequestState.confirmed
        assert {m.recipient_email for m in mails()[1:]} == {booking.teacher.email,
                                                             booking.lead.email,
                                                             booking.mediator.user.email}

    def test_another_mediator_cannot_accept(self, booking):
        """A mediator acting on someone else's assignment gets a 404."""
        assignment = offered(booking)
        other = booking.factory.mediator()
        with pytest.raises(NotAllowed):
            ops.accept(other.user, assignment)

    def test_accepting_a_cancelled_offer_is_refused(self, booking):
        """Once the school cancelled, the offer cannot be accepted."""
        assignment = offered(booking)
        ops.cancel_request(booking.teacher, assignment.request, "no_longer_needed")
        db.session.commit()
        with pytest.raises(InvalidTransition):
            ops.accept(booking.mediator.user, assignment)

    def test_decline_reopens_with_the_proposal(self, booking):
        """Declining needs a reason, may propose a time, and reopens the request."""
        assignment = offered(booking)
        with pytest.raises(InvalidInput):
            ops.decline(booking.mediator.user, assignment, "")
        # The next school day at the same time (a Friday's is the Monday after).
        start = in_rome(assignment.start_dt)
        proposal = rome(weekday_after(start.date()), start.hour, start.minute)
        ops.decline(booking.mediator.user, assignment, "Impegnata", proposal)
        assert assignment.state == AssignmentState.declined
        assert assignment.proposed_start_dt == proposal
        assert assignment.request.state == RequestState.open
        assert mails()[-1].recipient_email == booking.coordinator.email
        # The coordinator can offer it again, to the same mediator at the proposed time.
        again = ops.offer(booking.coordinator, assignment.request, booking.mediator, proposal,
                          proposal + timedelta(hours=1))
        assert again.state == AssignmentState.offered


class TestReassignAndCancel:
    def test_reassign_supersedes_and_tells_both(self, booking):
        """Reassigning supersedes the old assignment and offers to the new mediator."""
        first = offered(booking)
        ops.accept(booking.mediator.user, first)
        db.session.commit()
        second_mediator = booking.factory.mediator(ambiti=[booking.school.ambito])
        with pytest.raises(InvalidInput):
            ops.reassign(booking.coordinator, first.request, second_mediator, " ",
                         first.start_dt, first.end_dt)
        new = ops.reassign(booking.coordinator, first.request, second_mediator, "Malattia",
                           first.start_dt, first.end_dt)
        assert first.state == AssignmentState.superseded and first.end_reason == "Malattia"
        assert new.state == AssignmentState.offered
        assert first.request.state == RequestState.offered
        recipients = [m.recipient_email for m in mails()[-2:]]
        assert recipients == [booking.mediator.user.email, second_mediator.user.email]

    def test_cancel_frees_the_slot_at_once(self, booking):
        """After a cancellation the mediator can be offered the same time elsewhere."""
        assignment = offered(booking)
        ops.cancel_request(booking.teacher, assignment.request, "family_unavailable")
        db.session.commit()
        assert assignment.state == AssignmentState.cancelled
        assert not assignment.request.cancelled_late
        assert mails()[-1].recipient_email == booking.mediator.user.email
        other = offered(booking, submitted(booking))
        assert other.start_dt == assignment.start_dt

    def test_late_cancellation_is_flagged(self, booking):
        """Less than 24 hours before the start, a cancellation is late."""
        assignment = offered(booking)
        assignment.start_dt = utcnow() + timedelta(hours=3)
        assignment.end_dt = assignment.start_dt + timedelta(hours=1)
        db.session.commit()
        ops.cancel_request(booking.coordinator, assignment.request, "school_event")
        assert assignment.request.cancelled_late

    def test_cancel_needs_a_known_reason(self, booking):
        """The reason is one of the codes."""
        with pytest.raises(InvalidInput):
            ops.cancel_request(booking.teacher, submitted(booking), "because")

    def test_teacher_of_another_school_cannot_cancel(self, booking):
        """A request of another school is none of a teacher's business."""
        outsider = booking.factory.user(Role.teacher)
        with pytest.raises(NotAllowed):
            ops.cancel_request(outsider, submitted(booking), "duplicate")

    def test_unfilled(self, booking):
        """The coordinator marks an open request unfilled; the requester is told."""
        request = submitted(booking)
        ops.mark_unfilled(booking.coordinator, request)
        assert request.state == RequestState.unfilled
        assert mails()[-1].recipient_email == booking.teacher.email
        with pytest.raises(InvalidTransition):
            ops.cancel_request(booking.teacher, request, "duplicate")


class TestTimeProposals:
    """A time the coordinator proposes to the school when nobody can take its times."""

    def times(self, booking, request, hour=14):
        day = weekday_after(in_rome(request.slots[0].start_dt).date())
        return rome(day, hour), rome(day, hour + 1)

    def test_propose_books_nothing_and_asks_the_school(self, booking):
        request = submitted(booking)
        start, end = self.times(booking, request)
        proposal = ops.propose_time(booking.coordinator, request, booking.mediator, start, end)
        assert proposal.state == ProposalState.pending
        assert proposal.proposed_by == booking.coordinator
        assert request.state == RequestState.open and not request.assignments
        assert actions(request)[-1] == "time.proposed"
        assert [(m.recipient_email, m.template) for m in mails("proposal")] == [
            (booking.teacher.email, "proposal")]
        with pytest.raises(InvalidInput):  # the same time twice
            ops.propose_time(booking.coordinator, request, booking.mediator, start, end)

    def test_propose_applies_the_offer_rules(self, booking):
        """Only the Ambito's coordinator, on an open meeting, at a time the mediator can
        take (here: absent) and the school calendar allows (here: a Saturday)."""
        request = submitted(booking)
        start, end = self.times(booking, request)
        with pytest.raises(NotAllowed):
            ops.propose_time(booking.teacher, request, booking.mediator, start, end)
        booking.factory.add(Absence(mediator=booking.mediator, start_dt=start, end_dt=end))
        with force_locale("en"), pytest.raises(InvalidInput, match="absent"):
            ops.propose_time(booking.coordinator, request, booking.mediator, start, end)
        saturday = in_rome(start).date() + timedelta(days=(5 - in_rome(start).weekday()) % 7)
        with force_locale("en"), pytest.raises(InvalidInput, match="weekend"):
            ops.propose_time(booking.coordinator, request, booking.mediator,
                             rome(saturday, 10), rome(saturday, 11))
        ops.mark_unfilled(booking.coordinator, request)
        with pytest.raises(InvalidTransition):
            ops.propose_time(booking.coordinator, request, booking.mediator, start, end)

    def test_accepting_one_declines_the_others_and_tells_the_coordinator(self, booking):
        request = submitted(booking)
        first = ops.propose_time(booking.coordinator, request, booking.mediator,
                                 *self.times(booking, request, 9))
        second = ops.propose_time(booking.coordinator, request, booking.mediator,
                                  *self.times(booking, request, 14))
        db.session.commit()
        with pytest.raises(NotAllowed):
            ops.answer_proposal(booking.coordinator, second, True)
        with pytest.raises(NotAllowed):
            ops.answer_proposal(booking.factory.user(Role.teacher), second, True)
        ops.answer_proposal(booking.lead, second, True)  # anyone of the school
        assert (first.state, second.state) == (ProposalState.declined, ProposalState.accepted)
        assert second.answered_by == booking.lead and second.answered_dt is not None
        assert actions(request)[-1] == "time.accepted"
        assert mails("proposal")[-1].recipient_email == booking.coordinator.email
        with pytest.raises(InvalidTransition):  # answered already
            ops.answer_proposal(booking.teacher, second, False)

    def test_a_time_past_cannot_be_accepted(self, booking):
        request = submitted(booking)
        start = utcnow() - timedelta(hours=1)
        proposal = booking.factory.add(TimeProposal(
            request=request, mediator=booking.mediator, start_dt=start,
            end_dt=start + timedelta(hours=1), proposed_by=booking.coordinator))
        with pytest.raises(InvalidTransition):
            ops.answer_proposal(booking.teacher, proposal, True)
        assert proposal.state == ProposalState.pending


class TestLogs:
    def test_cannot_log_before_the_start(self, booking):
        """Rule 3: a session is logged only once it has started."""
        assignment = offered(booking)
        ops.accept(booking.mediator.user, assignment)
        db.session.commit()
        with pytest.raises(InvalidTransition):
            ops.log_session(booking.mediator.user, assignment,
                            held(assignment.start_dt, assignment.end_dt))

    def test_cannot_log_an_offer(self, booking):
        """Only an accepted assignment can be logged."""
        assignment = past_confirmed(booking)
        assignment.state = AssignmentState.offered
        with pytest.raises(InvalidTransition):
            ops.log_session(booking.mediator.user, assignment,
                            held(assignment.start_dt, assignment.end_dt))

    def test_log_counts_against_the_default_action(self, booking):
        """A log takes the type's macro-action and action in the request's project."""
        assignment = past_confirmed(booking)
        log = ops.log_session(booking.mediator.user, assignment,
                              held(assignment.start_dt, assignment.end_dt))
        assert log.state == LogState.submitted
        assert assignment.request.state == RequestState.logged
        assert (log.macro_action.number, log.action.code) == (1, "1.1")

    def test_another_mediator_cannot_log(self, booking):
        """Logging someone else's assignment is a 404."""
        assignment = past_confirmed(booking)
        with pytest.raises(NotAllowed):
            ops.log_session(booking.factory.mediator().user, assignment,
                            held(assignment.start_dt, assignment.end_dt))

    def test_end_before_start_is_refused(self, booking):
        """The end must follow the start."""
        assignment = past_confirmed(booking)
        with pytest.raises(InvalidInput) as excinfo:
            ops.log_session(booking.mediator.user, assignment,
                            held(assignment.end_dt, assignment.start_dt))
        assert excinfo.value.field == "actual_end"

    def test_a_translation_is_not_delivered_without_its_file(self, booking):
        """A translation's log needs the translated document; a corrected log may keep the
        one delivered before."""
        deadline = utcnow() - timedelta(hours=3)
        request = booking.factory.request(school=booking.school, project=booking.project,
                                          type=booking.translation, requester=booking.teacher,
                                          state=RequestState.confirmed, deadline_dt=deadline,
                                          duration_minutes=None, page_count=1)
        assignment = booking.factory.add(Assignment(
            request=request, mediator=booking.mediator, state=AssignmentState.accepted,
            deadline_dt=deadline))
        db.session.commit()
        with force_locale("it"), pytest.raises(InvalidInput) as excinfo:
            ops.log_session(booking.mediator.user, assignment,
                            LogInput(outcome=Outcome.held, pages=1))
        assert excinfo.value.field == "document"
        with force_locale("it"):
            assert str(excinfo.value.message) == "Allega il documento tradotto."
        db.session.rollback()
        assert request.state == RequestState.confirmed and assignment.session_log is None

        document = translated(request, booking.mediator.user)
        log = ops.log_session(booking.mediator.user, assignment,
                              LogInput(outcome=Outcome.held, pages=1,
                                       delivered_document=document))
        ops.return_log(booking.coordinator, log, "Manca una pagina")
        again = ops.log_session(booking.mediator.user, assignment,
                                LogInput(outcome=Outcome.held, pages=2))
        assert again.state == LogState.submitted and again.delivered_document_id == document.id

    def test_approve_closes_and_may_recount(self, booking):
        """Approving closes the request; the coordinator can move it to another macro-action."""
        assignment = past_confirmed(booking)
        log = ops.log_session(booking.mediator.user, assignment,
                              held(assignment.start_dt, assignment.end_dt))
        macro_two = booking.project.macro_actions[1]
        ops.approve_log(booking.coordinator, log, macro_two)
        assert log.state == LogState.approved and log.macro_action.number == 2
        assert assignment.request.state == RequestState.closed
        assert log.approved_by_id == booking.coordinator.id

    def test_return_and_resubmit(self, booking):
        """A returned log goes back to the mediator, who corrects and resubmits it."""
        assignment = past_confirmed(booking)
        log = ops.log_session(booking.mediator.user, assignment,
                              held(assignment.start_dt, assignment.end_dt))
        with pytest.raises(InvalidInput):
            ops.return_log(booking.coordinator, log, "")
        ops.return_log(booking.coordinator, log, "Manca il numero di genitori")
        assert log.state == LogState.returned
        assert mails()[-1].recipient_email == booking.mediator.user.email
        again = ops.log_session(booking.mediator.user, assignment,
                                held(assignment.start_dt, assignment.end_dt))
        assert again.id == log.id and again.state == LogState.submitted
        assert again.review_comment is None

    def test_teacher_cannot_approve_a_log(self, booking):
        """Only coordinators approve logs."""
        assignment = past_confirmed(booking)
        log = ops.log_session(booking.mediator.user, assignment,
                              held(assignment.start_dt, assignment.end_dt))
        with pytest.raises(NotAllowed):
            ops.approve_log(booking.teacher, log)



# --- when a session can be logged: its project's period, near the day booked ---------


def english(message) -> str:
    with force_locale("en"):
        return str(message)


def rome_today():
    return in_rome(utcnow()).date()


def confirmed_in_project(booking, start, first, last, extended_to=None):
    """A confirmed one-hour meeting at ``start`` of a project running ``first``..``last``."""
    factory = booking.factory
    project = factory.project(start_date=first, end_date=last)
    factory.add(MacroAction(project=project, number=1, title_it="M", title_en="M"))
    if extended_to is not None:
        factory.add(ProjectExtension(project=project, new_end_date=extended_to))
    request = factory.request(school=booking.school, project=project, type=booking.meeting,
                              requester=booking.teacher, state=RequestState.confirmed)
    assignment = factory.assignment(request=request, mediator=booking.mediator, start=start,
                                    end=start + timedelta(hours=1),
                                    state=AssignmentState.accepted)
    db.session.commit()
    return assignment


class TestLoggedTimes:
    def test_a_log_years_before_the_project_is_refused(self, booking):
        """The reported case: a meeting of this project logged three years earlier, on a
        day no project of it ran, is refused on the day, naming the project's period."""
        today = rome_today()
        start = rome(today - timedelta(days=1), 10)
        assignment = confirmed_in_project(booking, start, today - timedelta(days=30),
                                          today + timedelta(days=300))
        long_ago = start - timedelta(days=3 * 365)
        with pytest.raises(InvalidInput) as excinfo:
            ops.log_session(booking.mediator.user, assignment,
                            held(long_ago, long_ago + timedelta(hours=1)))
        assert excinfo.value.field == "actual_date"
        assert "within the period of its project" in english(excinfo.value.message)
        assert assignment.session_log is None
        assert assignment.request.state == RequestState.confirmed

    def test_a_log_the_day_before_the_project_started_is_refused(self, booking):
        """Booked on the project's first day, held the evening before: outside the project
        (although only a day away), so not counted against it."""
        first = rome_today() - timedelta(days=2)
        start = rome(first, 9)
        assignment = confirmed_in_project(booking, start, first, first + timedelta(days=200))
        evening_before = rome(first - timedelta(days=1), 18)
        with pytest.raises(InvalidInput) as excinfo:
            ops.log_session(booking.mediator.user, assignment,
                            held(evening_before, evening_before + timedelta(hours=1)))
        assert excinfo.value.field == "actual_date"
        log = ops.log_session(booking.mediator.user, assignment,
                              held(start, start + timedelta(hours=1)))
        assert log.actual_start_dt == start

    def test_the_project_extensions_count(self, booking):
        """A session after the project's first end date, within its extension, is logged;
        without the extension it would not be."""
        today = rome_today()
        start = rome(today - timedelta(days=1), 10)
        assignment = confirmed_in_project(booking, start, today - timedelta(days=100),
                                          today - timedelta(days=5))
        with pytest.raises(InvalidInput):
            ops.log_session(booking.mediator.user, assignment,
                            held(start, start + timedelta(hours=1)))
        db.session.rollback()
        booking.factory.add(ProjectExtension(project=assignment.request.project,
                                             new_end_date=today + timedelta(days=60)))
        db.session.commit()
        log = ops.log_session(booking.mediator.user, assignment,
                              held(start, start + timedelta(hours=1)))
        assert log.state == LogState.submitted

    def test_a_day_either_side_of_the_booked_day(self, booking):
        """Moved to the day before or after (Rome days, late evening included) is the same
        meeting; two days away is not."""
        today = rome_today()
        booked = today - timedelta(days=4)
        start = rome(booked, 8)
        assignment = confirmed_in_project(booking, start, today - timedelta(days=100),
                                          today + timedelta(days=100))
        mediator = booking.mediator.user
        for moved in (rome(booked - timedelta(days=2), 23, 30),
                      rome(booked + timedelta(days=2), 8)):
            with pytest.raises(InvalidInput) as excinfo:
                ops.log_session(mediator, assignment, held(moved, moved + timedelta(minutes=20)))
            assert excinfo.value.field == "actual_date"
            assert "log it on that day, the day before or the day after" in english(
                excinfo.value.message)
        # 8:00 booked, held the evening before at 21:00: 11 hours earlier, the day before.
        evening = rome(booked - timedelta(days=1), 21)
        log = ops.log_session(mediator, assignment, held(evening, evening + timedelta(hours=1)))
        assert log.actual_start_dt == evening
        ops.return_log(booking.coordinator, log, "Check the day")
        late = rome(booked + timedelta(days=1), 19)
        assert ops.log_session(mediator, assignment,
                               held(late, late + timedelta(hours=2))).actual_start_dt == late

    def test_an_absurdly_long_session_is_refused(self, booking):
        """A session of more than eight hours is a typing error: refused on the end."""
        today = rome_today()
        start = rome(today - timedelta(days=1), 8)
        assignment = confirmed_in_project(booking, start, today - timedelta(days=100),
                                          today + timedelta(days=100))
        with pytest.raises(InvalidInput) as excinfo:
            ops.log_session(booking.mediator.user, assignment,
                            held(start, start + timedelta(hours=8, minutes=1)))
        assert excinfo.value.field == "actual_end"
        log = ops.log_session(booking.mediator.user, assignment,
                              held(start, start + timedelta(hours=8)))
        assert log.actual_end_dt == start + timedelta(hours=8)

    def test_a_log_outside_the_rules_is_not_approved(self, booking):
        """A log stored before the rule (the reported 2023 log of a later appointment)
        cannot be approved: the coordinator is told to send it back."""
        today = rome_today()
        start = rome(today - timedelta(days=1), 10)
        assignment = confirmed_in_project(booking, start, today - timedelta(days=30),
                                          today + timedelta(days=300))
        log = ops.log_session(booking.mediator.user, assignment,
                              held(start, start + timedelta(hours=1)))
        db.session.commit()
        long_ago = start - timedelta(days=3 * 365)
        # As it was stored before: straight in the table.
        db.session.execute(sa.update(SessionLog).where(SessionLog.id == log.id).values(
            actual_start_dt=long_ago, actual_end_dt=long_ago + timedelta(hours=1),
            counted_dt=long_ago))
        db.session.expire_all()
        with pytest.raises(InvalidInput) as excinfo:
            ops.approve_log(booking.coordinator, log)
        assert "Send it back to the mediator" in english(excinfo.value.message)
        db.session.rollback()
        assert log.state == LogState.submitted
        assert log.assignment.request.state == RequestState.logged

def test_rolled_back_change_leaves_no_trace(booking):
    """Rule 6: audit events and mails live and die with the change."""
    request = submitted(booking)
    before = (db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)),
              db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)))
    ops.offer(booking.coordinator, request, booking.mediator, request.slots[0].start_dt,
              request.slots[0].end_dt)
    db.session.rollback()
    after = (db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)),
             db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)))
    assert after == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 0


def test_transitions_work_on_an_eager_loaded_request(booking):
    """The row lock also works on a request loaded with its page's outer joins (PostgreSQL)."""
    from mediation.bookings.queries import load_request

    booking.school.requires_lead_approval = True
    request_id, lead_id = submitted(booking).id, booking.lead.id
    db.session.expunge_all()
    lead = db.session.get(type(booking.lead), lead_id)
    request = load_request(request_id, lead)
    ops.approve_request(lead, request)
    db.session.commit()
    assert request.state == RequestState.open


def test_recount_with_an_action_of_the_new_macro_action(booking):
    """Moving a log to macro-action 2 with its action 2.1 is accepted; 1.1 with 2 is not."""
    assignment = past_confirmed(booking)
    log = ops.log_session(booking.mediator.user, assignment,
                          held(assignment.start_dt, assignment.end_dt))
    macro_one, macro_two = booking.project.macro_actions[:2]
    with pytest.raises(InvalidInput):
        ops.approve_log(booking.coordinator, log, macro_two, macro_one.actions[0])
    ops.approve_log(booking.coordinator, log, macro_two, macro_two.actions[0])
    assert (log.macro_action.number, log.action.code) == (2, "2.1")


class TestSeries:
    def weekly(self, booking, weeks=4, day=None, hour=10):
        data = booking.slot_input(day=day, hour=hour)
        series = ops.submit_series(booking.teacher, data, weeks)
        db.session.commit()
        return series

    def test_one_request_per_week_at_the_same_clock_time(self, booking):
        """A series across the change to summer time stays at 10:00 in Rome every week."""
        series = self.weekly(booking, weeks=3, day=monday_before_summer_time())
        starts = [r.slots[0].start_dt for r in series.requests]
        assert [in_rome(s).strftime("%a %H:%M") for s in starts] == ["Mon 10:00"] * 3
        assert [s.hour for s in starts] == [9, 8, 8]  # UTC moves with daylight saving
        assert [r.series_position for r in series.requests] == [1, 2, 3]

    def test_a_holiday_week_is_named(self, app, booking):
        """A closure on the second week refuses the series, naming that week."""
        day = school_day(14)
        booking.factory.add(Closure(name="Vacanze", start_date=day + timedelta(days=7),
                                    end_date=day + timedelta(days=7)))
        with app.test_request_context(headers={"Accept-Language": "en"}), \
                pytest.raises(InvalidInput) as excinfo:
            ops.submit_series(booking.teacher, booking.slot_input(day=day), 3)
        assert str(excinfo.value.message).startswith("Week 2 (")
        assert "closed" in str(excinfo.value.message)

    def test_offer_the_whole_series(self, booking):
        """Every week is offered to the mediator at once."""
        series = self.weekly(booking)
        assignments = ops.offer_series(booking.coordinator, series.requests[0], booking.mediator)
        db.session.commit()
        assert len(assignments) == 4
        assert {r.state for r in series.requests} == {RequestState.offered}

    def test_a_series_colliding_on_its_third_week(self, booking):
        """A booking on week 3 makes the whole series fail, listing that date only."""
        series = self.weekly(booking)
        third = series.requests[2].slots[0]
        other = booking.factory.request(school=booking.school, project=booking.project,
                                        type=booking.meeting, state=RequestState.confirmed,
                                        requester=booking.teacher)
        booking.factory.assignment(request=other, mediator=booking.mediator,
                                   start=third.start_dt, end=third.end_dt,
                                   state=AssignmentState.accepted)
        db.session.commit()
        with pytest.raises(ops.SeriesConflict) as excinfo:
            ops.offer_series(booking.coordinator, series.requests[0], booking.mediator)
        db.session.rollback()
        assert [when for when, _ in excinfo.value.conflicts] == [third.start_dt]
        assert excinfo.value.conflicts[0][1] == str(matching.REASONS["busy"])
        assert {r.state for r in series.requests} == {RequestState.open}
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 1

    def test_the_lead_approves_the_whole_series(self, booking):
        """Approving one week approves every waiting week; only one mail asked for it."""
        booking.school.requires_lead_approval = True
        series = self.weekly(booking, weeks=3)
        assert len(mails()) == 1
        ops.approve_request(booking.lead, series.requests[1])
        assert {r.state for r in series.requests} == {RequestState.open}


def reporting_copies(log):
    """The log's reporting copies as stored in the database."""
    from mediation.models import SessionLog

    db.session.expire_all()
    row = db.session.execute(sa.select(
        SessionLog.counted_dt, SessionLog.request_id, SessionLog.project_id,
        SessionLog.school_id, SessionLog.mediator_id, SessionLog.type_id,
        SessionLog.requester_id, SessionLog.pupil_case_id,
    ).where(SessionLog.id == log.id)).one()
    return dict(zip(("counted", "request", "project", "school", "mediator", "type",
                     "requester", "pupil_case"), row, strict=True))


def expected_copies(assignment, counted):
    request = assignment.request
    return {"counted": counted, "request": request.id, "project": request.project_id,
            "school": request.school_id, "mediator": assignment.mediator_id,
            "type": request.type_id, "requester": request.requester_id,
            "pupil_case": request.pupil_case_id}


class TestReportingCopies:
    """The log's copies of when it counts and of its request's keys (read by reporting)."""

    def test_logging_copies_the_start_and_the_request(self, booking):
        """A new log counts at its actual start and carries its request's keys."""
        assignment = past_confirmed(booking)
        case = booking.factory.add(PupilCase(school=booking.school, code="P-7", class_name="2B",
                                             cycle=Cycle.primaria))
        assignment.request.pupil_case = case
        start = assignment.start_dt + timedelta(minutes=10)
        log = ops.log_session(booking.mediator.user, assignment, held(start, assignment.end_dt))
        db.session.commit()
        copies = reporting_copies(log)
        assert copies == expected_copies(assignment, start)
        assert copies["pupil_case"] == case.id and copies["school"] == booking.school.id

    def test_correcting_a_returned_log_moves_when_it_counts(self, booking):
        """A log sent back and logged again at another start counts at the new start."""
        assignment = past_confirmed(booking, hours_ago=5)
        log = ops.log_session(booking.mediator.user, assignment,
                              held(assignment.start_dt, assignment.end_dt))
        db.session.commit()
        ops.return_log(booking.coordinator, log, "L'orario è sbagliato")
        db.session.commit()
        later = assignment.start_dt + timedelta(hours=1)
        ops.log_session(booking.mediator.user, assignment,
                        held(later, later + timedelta(hours=1)))
        db.session.commit()
        assert reporting_copies(log)["counted"] == later

    def test_approving_keeps_the_copies(self, booking):
        """Approving (and recounting against another macro-action) keeps the copies."""
        assignment = past_confirmed(booking)
        log = ops.log_session(booking.mediator.user, assignment,
                              held(assignment.start_dt, assignment.end_dt))
        ops.approve_log(booking.coordinator, log, booking.project.macro_actions[1])
        db.session.commit()
        assert log.state == LogState.approved
        assert reporting_copies(log) == expected_copies(assignment, assignment.start_dt)

    def test_translation_counts_on_its_deadline(self, booking):
        """A translation's log counts on the assignment's deadline, and follows it."""
        deadline = utcnow() - timedelta(hours=3)
        request = booking.factory.request(school=booking.school, project=booking.project,
                                          type=booking.translation, requester=booking.teacher,
                                          state=RequestState.confirmed, deadline_dt=deadline,
                                          duration_minutes=None, page_count=2)
        assignment = booking.factory.add(Assignment(
            request=request, mediator=booking.mediator, state=AssignmentState.accepted,
            deadline_dt=deadline))
        db.session.commit()
        log = ops.log_session(booking.mediator.user, assignment, LogInput(
            outcome=Outcome.held, pages=2, words=600,
            delivered_document=translated(request, booking.mediator.user)))
        db.session.commit()
        assert reporting_copies(log) == expected_copies(assignment, deadline)
        assignment = db.session.get(Assignment, assignment.id)
        assignment.deadline_dt = deadline - timedelta(days=1)
        db.session.commit()
        assert reporting_copies(log)["counted"] == deadline - timedelta(days=1)

    def test_reassigned_request_counts_for_the_new_mediator(self, booking):
        """After a reassignment the log carries the mediator who held the session."""
        first = offered(booking)
        ops.accept(booking.mediator.user, first)
        db.session.commit()
        second = booking.factory.mediator(ambiti=[booking.school.ambito])
        new = ops.reassign(booking.coordinator, first.request, second, "Malattia",
                           first.start_dt, first.end_dt)
        ops.accept(second.user, new)
        db.session.commit()
        start = utcnow() - timedelta(hours=2)
        new.start_dt, new.end_dt = start, start + timedelta(hours=1)  # the day has come
        db.session.commit()
        log = ops.log_session(second.user, new, held(new.start_dt, new.end_dt))
        db.session.commit()
        copies = reporting_copies(log)
        assert copies["mediator"] == second.id != booking.mediator.id
        assert copies == expected_copies(new, start)

    def test_database_refuses_a_count_moment_other_than_the_start(self, booking):
        """counted_dt must equal the actual start when there is one (CHECK constraint)."""
        from sqlalchemy.exc import IntegrityError

        from mediation.models import SessionLog

        assignment = past_confirmed(booking)
        log = ops.log_session(booking.mediator.user, assignment,
                              held(assignment.start_dt, assignment.end_dt))
        db.session.commit()
        with pytest.raises(IntegrityError):
            db.session.execute(sa.update(SessionLog).where(SessionLog.id == log.id).values(
                counted_dt=assignment.start_dt - timedelta(days=1)))
            db.session.flush()
        db.session.rollback()


def running_totals():
    """The running totals of approved sessions, as (project, macro-action, school,
    mediator, sessions, seconds) rows with sessions."""
    from mediation.models import ApprovedSessionTotal as T

    db.session.expire_all()
    return [tuple(row) for row in db.session.execute(
        sa.select(T.project_id, T.macro_action_id, T.school_id, T.mediator_id, T.sessions,
                  T.seconds).where(T.sessions != 0).order_by(T.macro_action_id))]


class TestRunningTotals:
    """approved_session_totals follows the approved logs (database triggers)."""

    def test_only_approved_logs_count(self, booking):
        """A submitted log adds nothing; approving adds one session and its seconds."""
        assignment = past_confirmed(booking)
        start = assignment.start_dt
        log = ops.log_session(booking.mediator.user, assignment,
                              held(start, start + timedelta(minutes=90)))
        db.session.commit()
        assert running_totals() == []
        ops.approve_log(booking.coordinator, log)
        db.session.commit()
        macro_one = booking.project.macro_actions[0]
        assert running_totals() == [(booking.project.id, macro_one.id, booking.school.id,
                                     booking.mediator.id, 1, 5400)]

    def test_recounting_and_deleting_move_the_totals(self, booking):
        """Changing an approved log's macro-action or times moves it; deleting removes it."""
        from mediation.models import SessionLog

        assignment = past_confirmed(booking, hours_ago=3)
        start = assignment.start_dt
        log = ops.log_session(booking.mediator.user, assignment,
                              held(start, start + timedelta(hours=1)))
        ops.approve_log(booking.coordinator, log)
        db.session.commit()
        macro_one, macro_two = booking.project.macro_actions[:2]
        log = db.session.get(SessionLog, log.id)
        log.macro_action_id = macro_two.id
        log.actual_end_dt = start + timedelta(hours=2)
        db.session.commit()
        assert running_totals() == [(booking.project.id, macro_two.id, booking.school.id,
                                     booking.mediator.id, 1, 7200)]
        db.session.execute(sa.delete(SessionLog).where(SessionLog.id == log.id))
        db.session.commit()
        assert running_totals() == []

    def test_a_translation_counts_without_seconds(self, booking):
        """An approved translation is one session of 0 seconds."""
        deadline = utcnow() - timedelta(hours=3)
        request = booking.factory.request(school=booking.school, project=booking.project,
                                          type=booking.translation, requester=booking.teacher,
                                          state=RequestState.confirmed, deadline_dt=deadline,
                                          duration_minutes=None, page_count=1)
        assignment = booking.factory.add(Assignment(
            request=request, mediator=booking.mediator, state=AssignmentState.accepted,
            deadline_dt=deadline))
        db.session.commit()
        log = ops.log_session(booking.mediator.user, assignment,
                              LogInput(outcome=Outcome.held, pages=1, words=250,
                                       delivered_document=translated(request,
                                                                     booking.mediator.user)))
        ops.approve_log(booking.coordinator, log)
        db.session.commit()
        [row] = running_totals()
        assert row[4:] == (1, 0)
