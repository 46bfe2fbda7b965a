"""The lifecycle policy, the operations and the request page agree, for every role, state
and action (issue #17): the page shows an action exactly when the operation would accept
it, and both exactly when ``bookings/policy.py`` says so. ``EXPECTED`` spells out who can
do what in which state, so that the three cannot agree on a wrong rule either.
"""

from datetime import datetime, timedelta

import pytest

from mediation.bookings import operations, policy
from mediation.bookings.operations import LogInput
from mediation.clock import in_rome
from mediation.errors import DomainError
from mediation.extensions import db
from mediation.models import (
    AssignmentState,
    Outcome,
    PreferredSlot,
    RequestState,
    Role,
    TimeProposal,
    utcnow,
)

from tests.conftest import login
from tests.scenarios.booking import rome, school_day

SCENARIOS = ("awaiting_approval", "open", "offered", "confirmed_ahead", "confirmed_started",
             "confirmed_reported", "logged", "logged_returned", "logged_disputed",
             "logged_attested", "closed", "closed_disputed", "cancelled", "rejected", "unfilled")
#: ``colleague``: another teacher of the requesting school (not the one who asked).
ROLES = ("teacher", "lead", "colleague", "coordinator", "admin", "mediator",
         "other_mediator", "other_teacher", "other_coordinator")
PAGE_ACTIONS = ("approve", "reject", "cancel", "offer", "reassign", "mark_unfilled",
                "answer_proposal", "accept", "decline", "log", "review_log", "attest",
                "dispute", "report_no_show", "feedback")

SCHOOL = {"teacher", "lead", "colleague"}
#: Who answers for the school about a logged session: the teacher who asked, a lead.
ATTESTERS = {"teacher", "lead"}
COORDINATION = {"coordinator", "admin"}
BEFORE_LOGGED = ("awaiting_approval", "open", "offered", "confirmed_ahead", "confirmed_started",
                 "confirmed_reported")

#: Who can do what, in which scenario: the rules of docs/design.md, cell by cell.
EXPECTED = {
    "approve": {("awaiting_approval", "lead")},
    "reject": {("awaiting_approval", "lead")},
    "cancel": {(s, r) for s in BEFORE_LOGGED for r in SCHOOL | COORDINATION},
    "offer": {("open", r) for r in COORDINATION},
    "reassign": {(s, r) for s in ("offered", "confirmed_ahead", "confirmed_started",
                                  "confirmed_reported") for r in COORDINATION},
    "mark_unfilled": {("open", r) for r in COORDINATION},
    "answer_proposal": {("open", r) for r in SCHOOL},
    "accept": {("offered", "mediator")},
    "decline": {("offered", "mediator")},
    # A session reported as a no-show can still be logged: the coordinator sees both.
    "log": {("confirmed_started", "mediator"), ("confirmed_reported", "mediator"),
            ("logged_returned", "mediator")},
    "review_log": {(s, r) for s in ("logged", "logged_disputed", "logged_attested")
                   for r in COORDINATION},
    # Once logged, whatever the review; a dispute can still be confirmed, not repeated.
    "attest": {(s, r) for s in ("logged", "logged_returned", "logged_disputed", "closed",
                                "closed_disputed") for r in ATTESTERS},
    "dispute": {(s, r) for s in ("logged", "logged_returned", "closed") for r in ATTESTERS},
    # Once the meeting has started, before it is logged, once per appointment.
    "report_no_show": {("confirmed_started", r) for r in ATTESTERS},
    # The question after a held session (issue #19): the teacher who asked, the mediator
    # who held it, once its log is sent or approved (not while it is sent back).
    "feedback": {(s, r) for s in ("logged", "logged_disputed", "logged_attested", "closed",
                                  "closed_disputed") for r in ("teacher", "mediator")},
}


class Scene:
    """One request of the school, brought to a scenario through the operations."""

    def __init__(self, booking, factory, scenario: str):
        b = self.b = booking
        self.factory = factory
        self.spare = factory.mediator(ambiti=[b.mediator.ambiti[0]])
        other_school = factory.school(b.school.ambito)
        self.users = {
            "teacher": b.teacher, "lead": b.lead,
            "colleague": factory.user(Role.teacher, school=b.school),
            "coordinator": b.coordinator,
            "admin": factory.user(Role.admin), "mediator": b.mediator.user,
            "other_mediator": factory.mediator(ambiti=[b.mediator.ambiti[0]]).user,
            "other_teacher": factory.user(Role.teacher, school=other_school),
            "other_coordinator": factory.user(Role.coordinator),
        }
        day = school_day()
        self.start, self.end = rome(day, 10), rome(day, 11)
        approval = scenario in ("awaiting_approval", "rejected")
        req = self.req = factory.request(
            school=b.school, project=b.project, requester=b.teacher, type=b.meeting,
            language=b.mediator.languages[0].language,
            state=RequestState.awaiting_approval if approval else RequestState.open)
        factory.add(PreferredSlot(request=req, position=1, start_dt=self.start,
                                  end_dt=self.end))
        # A time the coordinator proposed while the request was open, still unanswered.
        later = rome(day + timedelta(days=1), 14)
        factory.add(TimeProposal(request=req, mediator=b.mediator, start_dt=later,
                                 end_dt=later + timedelta(hours=1), proposed_by=b.coordinator))
        self._bring_to(scenario)
        db.session.commit()

    def _bring_to(self, scenario: str) -> None:
        b, req = self.b, self.req
        if scenario == "rejected":
            operations.reject_request(b.lead, req, "Not needed")
        elif scenario == "cancelled":
            operations.cancel_request(b.teacher, req, "duplicate")
        elif scenario == "unfilled":
            operations.mark_unfilled(b.coordinator, req)
        elif scenario in ("offered", "confirmed_ahead"):
            assignment = operations.offer(b.coordinator, req, b.mediator, self.start, self.end)
            if scenario == "confirmed_ahead":
                operations.accept(b.mediator.user, assignment)
        elif scenario.startswith(("confirmed_started", "confirmed_reported", "logged",
                                  "closed")):
            # Booked for yesterday, accepted: the session can be logged.
            yesterday = in_rome(utcnow()).date() - timedelta(days=1)
            start = rome(yesterday, 10)
            req.state = RequestState.confirmed
            assignment = self.factory.assignment(
                request=req, mediator=b.mediator, start=start, end=start + timedelta(hours=1),
                state=AssignmentState.accepted)
            if scenario == "confirmed_reported":
                db.session.flush()
                operations.report_mediator_no_show(b.teacher, req, "Nobody came")
            elif scenario != "confirmed_started":
                log = operations.log_session(b.mediator.user, assignment, self.log_input(
                    assignment))
                if scenario == "logged_returned":
                    operations.return_log(b.coordinator, log, "Check the times")
                elif scenario.startswith("closed"):
                    operations.approve_log(b.coordinator, log)
                db.session.flush()  # the next operation re-reads the request it locks
                if scenario.endswith("_disputed"):
                    operations.dispute_session(b.teacher, log, "Nobody came")
                elif scenario.endswith("_attested"):
                    operations.attest_session(b.lead, log)
        db.session.flush()

    @staticmethod
    def log_input(assignment) -> LogInput:
        return LogInput(outcome=Outcome.held, actual_start=assignment.start_dt,
                        actual_end=assignment.end_dt, parents_met=1)

    # -- the three answers --------------------------------------------------------

    def policy_says(self, user, action: str, now: datetime) -> bool:
        req = self.req
        active = policy.active_assignment(req)
        offer = req.pending_offer
        log = active.session_log if active is not None else None
        return {
            "approve": lambda: policy.can_approve(user, req),
            "reject": lambda: policy.can_approve(user, req),
            "cancel": lambda: policy.can_cancel(user, req),
            "offer": lambda: policy.can_offer(user, req),
            "reassign": lambda: policy.can_reassign(user, req),
            "mark_unfilled": lambda: policy.can_mark_unfilled(user, req),
            "answer_proposal": lambda: any(policy.can_answer_proposal(user, p, now)
                                           for p in req.proposals),
            "accept": lambda: offer is not None and policy.can_answer(user, offer),
            "decline": lambda: offer is not None and policy.can_answer(user, offer),
            "log": lambda: active is not None and policy.can_log(user, active, now),
            "review_log": lambda: log is not None and policy.can_review(user, log),
            "attest": lambda: log is not None and policy.can_attest(user, log),
            "dispute": lambda: log is not None and policy.can_dispute(user, log),
            "report_no_show": lambda: policy.can_report_no_show(user, req, now),
            "feedback": lambda: log is not None and policy.can_give_feedback(user, log, now),
        }[action]()

    def operation_accepts(self, user, action: str) -> bool:
        """Whether the operation takes the action: run it, then undo it."""
        req = self.req
        active = policy.active_assignment(req)
        offer = req.pending_offer
        log = active.session_log if active is not None else None
        run = {
            "approve": lambda: operations.approve_request(user, req),
            "reject": lambda: operations.reject_request(user, req, "No"),
            "cancel": lambda: operations.cancel_request(user, req, "duplicate"),
            "offer": lambda: operations.offer(user, req, self.spare, self.start, self.end),
            "reassign": lambda: operations.reassign(user, req, self.spare, "Ill",
                                                    self.start, self.end),
            "mark_unfilled": lambda: operations.mark_unfilled(user, req),
            "answer_proposal": lambda: operations.answer_proposal(user, req.proposals[0], True),
            "accept": offer and (lambda: operations.accept(user, offer)),
            "decline": offer and (lambda: operations.decline(user, offer, "Busy")),
            "log": active and (lambda: operations.log_session(user, active,
                                                              self.log_input(active))),
            "review_log": log and (lambda: operations.approve_log(user, log)),
            "attest": log and (lambda: operations.attest_session(user, log)),
            "dispute": log and (lambda: operations.dispute_session(user, log, "Not held")),
            "report_no_show": lambda: operations.report_mediator_no_show(user, req),
            "feedback": log and (lambda: operations.give_feedback(user, log, 5)),
        }[action]
        if not run:  # nothing to act on: no offer, no appointment, no log
            return False
        savepoint = db.session.begin_nested()
        try:
            run()
            accepted = True
        except DomainError:
            accepted = False
        finally:
            savepoint.rollback()
            db.session.expire_all()
        return accepted

    def page_shows(self, client) -> set[str]:
        response = client.get(f"/requests/{self.req.id}")
        if response.status_code == 404:
            return set()
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        return {action for action in PAGE_ACTIONS if f'data-action="{action}"' in html}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_policy_operation_and_page_agree(app, booking, factory, scenario):
    """For each role: the page's buttons, the operations' answers and the policy are the
    same set, and it is the one ``EXPECTED`` gives."""
    scene = Scene(booking, factory, scenario)
    assert scene.req.state == RequestState(scenario.split("_")[0] if scenario.startswith((
        "logged", "closed", "confirmed")) else scenario)
    for role in ROLES:
        user = scene.users[role]
        client = app.test_client()
        login(client, user)
        shown = scene.page_shows(client)
        now = utcnow()
        allowed = {a for a in PAGE_ACTIONS if scene.policy_says(user, a, now)}
        accepted = {a for a in PAGE_ACTIONS if scene.operation_accepts(user, a)}
        expected = {a for a in PAGE_ACTIONS if (scenario, role) in EXPECTED[a]}
        assert allowed == expected, (role, "policy")
        assert accepted == expected, (role, "operation")
        assert shown == expected, (role, "page")


def test_the_state_diagram_is_complete():
    """Every action of the diagram leads to a state, the final states allow nothing, and
    what can be cancelled is everything before the log."""
    finals = {RequestState.closed, RequestState.cancelled, RequestState.rejected,
              RequestState.unfilled}
    assert set(policy.TRANSITIONS) | finals == set(RequestState)
    assert not finals & set(policy.TRANSITIONS)
    cancellable = {RequestState.awaiting_approval, RequestState.open, RequestState.offered,
                   RequestState.confirmed}
    assert cancellable == policy.CANCELLABLE
    # The school's attestation (and the feedback after a session) changes no state: it
    # is asked of the policy apart, once the session is logged, whatever the review.
    attestation = {"attest", "dispute", "feedback"}
    assert set(policy.ACTIONS) >= set(PAGE_ACTIONS) - {"review_log"} - attestation | {
        "approve_log"}
    assert not attestation & set(policy.ACTIONS)
    assert {RequestState.logged, RequestState.closed} == policy.ATTESTABLE
