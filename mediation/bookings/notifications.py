"""The emails each transition queues, in the recipients' languages.

All use ``templates/email/booking.{txt,html}``, which words each ``kind`` of
message and links to the page where the recipient acts.

Confirmations carry an iCalendar invitation (METHOD:REQUEST) and cancellations
and withdrawals its cancellation (METHOD:CANCEL), for the same UID
(``mediation.calendars``); a translation, having no time range, carries none.
"""

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from .. import calendars
from ..extensions import db
from ..models import (
    Assignment,
    FamilyInvitation,
    MediationRequest,
    MediatorNoShow,
    MediatorProfile,
    Role,
    SessionLog,
    TimeProposal,
    User,
)
from ..models.types import utcnow
from ..outbox import queue_email
from . import policy


def _send(kind: str, users, request: MediationRequest, *, calendar: str | None = None,
          **context) -> None:
    """Queue ``kind`` for each active user once; ``calendar`` ("REQUEST" or "CANCEL")
    attaches the invitation of ``context["assignment"]`` when it has a time."""
    seen = set()
    for user in users:
        if user is None or not user.active or user.id in seen:
            continue
        seen.add(user.id)
        invite = (calendars.attachment(context.get("assignment"), calendar, user)
                  if calendar else None)
        queue_email("booking", user, attachments=[invite] if invite else None, kind=kind,
                    request=request, calendar_method=calendar if invite else None, **context)


def was_confirmed(assignment: Assignment) -> bool:
    """The mediator had accepted it: the school and the mediator hold its invitation."""
    return assignment.responded_dt is not None and assignment.decline_reason is None


def _load_for_mail(assignment: Assignment) -> None:
    """Load in one statement what the mails and the invitation of ``assignment`` read:
    its request's school, site, requester, type, language and pupil case, its mediator
    and their account, and who offered it (one lazy load each otherwise)."""
    of_request = (MediationRequest.school, MediationRequest.site, MediationRequest.requester,
                  MediationRequest.type, MediationRequest.language, MediationRequest.pupil_case)
    db.session.execute(
        sa.select(Assignment).where(Assignment.id == assignment.id).options(
            joinedload(Assignment.request).options(*map(joinedload, of_request)),
            joinedload(Assignment.mediator).joinedload(MediatorProfile.user),
            joinedload(Assignment.offered_by),
        )
    ).unique().all()


def _leads(request: MediationRequest) -> list[User]:
    return list(db.session.scalars(
        sa.select(User).where(User.school_id == request.school_id, User.role == Role.lead,
                              User.active)
    ))


def approval_needed(request: MediationRequest) -> None:
    _send("approval_needed", _leads(request), request)


def request_rejected(request: MediationRequest) -> None:
    _send("rejected", [request.requester], request)


def offered(assignment: Assignment) -> None:
    _load_for_mail(assignment)
    _send("offered", [assignment.mediator.user], assignment.request, assignment=assignment)


def confirmed(assignment: Assignment) -> None:
    """The school is told who is coming, the mediator gets their confirmation too."""
    _load_for_mail(assignment)
    request = assignment.request
    _send("confirmed", [request.requester, *_leads(request)], request, assignment=assignment,
          calendar=calendars.REQUEST)
    _send("accepted", [assignment.mediator.user], request, assignment=assignment,
          calendar=calendars.REQUEST)


def declined(assignment: Assignment) -> None:
    _send("declined", [assignment.offered_by], assignment.request, assignment=assignment)


def superseded(assignment: Assignment) -> None:
    """The old mediator's appointment is withdrawn; if it had been confirmed, the school's
    copy of it is withdrawn too (the new mediator's acceptance sends a new one)."""
    request = assignment.request
    if was_confirmed(assignment):
        _send("reassigned", [request.requester, *_leads(request)], request,
              assignment=assignment, calendar=calendars.CANCEL)
    _send("superseded", [assignment.mediator.user], request, assignment=assignment,
          calendar=calendars.CANCEL)


def request_cancelled(request: MediationRequest, assignment: Assignment | None,
                      actor: User) -> None:
    """Everyone affected: the requester, the school's leads and the mediator.

    The mediator's mail cancels the appointment in their calendar; the school's too
    once it had been confirmed (they hold its invitation), and then the person who
    cancelled is told as well, so that the attached cancellation removes it.
    """
    held = assignment is not None and was_confirmed(assignment)
    school = [u for u in (request.requester, *_leads(request))
              if (held and calendars.has_event(assignment)) or u.id != actor.id]
    _send("cancelled", school, request, assignment=assignment,
          calendar=calendars.CANCEL if held else None)
    if assignment is not None and assignment.mediator.user_id != actor.id:
        _send("cancelled", [assignment.mediator.user], request, assignment=assignment,
              calendar=calendars.CANCEL)


def week_moved(request: MediationRequest, actor: User, old: Assignment | None,
               held: bool) -> None:
    """A week of a series moved to another time (its slot, already changed).

    The mediator who held it is told as a reassignment tells them (its appointment
    withdrawn, with the cancellation for their calendar); the new time's offer is sent
    apart (``offered``). The school (the requester and the leads) is told the new time,
    except whoever moved it, unless they hold the old appointment's invitation
    (``held``: it had been confirmed), which the attached cancellation removes.
    """
    school = [u for u in (request.requester, *_leads(request))
              if (held and calendars.has_event(old)) or u.id != actor.id]
    _send("moved", school, request, assignment=old, calendar=calendars.CANCEL if held else None,
          moved_to=request.slots[0].start_dt, moved_by=actor.display_name)
    if old is not None:
        _send("superseded", [old.mediator.user], request, assignment=old,
              calendar=calendars.CANCEL)


def unfilled(request: MediationRequest) -> None:
    _send("unfilled", [request.requester], request)


def log_returned(log: SessionLog) -> None:
    assignment = log.assignment
    _send("log_returned", [assignment.mediator.user], assignment.request, assignment=assignment,
          log=log)


def translation_delivered(log: SessionLog) -> None:
    assignment = log.assignment
    _send("translation_delivered", [assignment.request.requester], assignment.request,
          assignment=assignment, log=log)


def time_proposed(proposal: TimeProposal) -> None:
    """The requester (or, if they have left, the school's leads) is asked whether the time
    the coordinator proposes suits the school."""
    request = proposal.request
    recipients = [request.requester] if request.requester.active else _leads(request)
    for user in recipients:
        queue_email("proposal", user, kind="time_proposed", request=request,
                    proposal=proposal)


def proposal_answered(proposal: TimeProposal) -> None:
    """The coordinator who proposed the time is told the school's answer."""
    coordinator = proposal.proposed_by
    if not coordinator.active:
        return
    queue_email("proposal", coordinator, kind=f"proposal_{proposal.state.value}",
                request=proposal.request, proposal=proposal)


def attestation_requested(log: SessionLog) -> None:
    """Once a meeting is logged, the teacher who asked (or, if they have left, the
    school's leads) is asked to confirm it took place, or to dispute it: a link to the
    request page's attestation box, where each answer is one button (nothing changes on
    opening the link); after a held session, the teacher who asked is also asked whether
    the mediation was useful (the page's feedback box)."""
    request = log.assignment.request
    recipients = [request.requester] if request.requester.active else _leads(request)
    now = utcnow()
    for user in recipients:
        # The teacher who asked is also asked the question after a held session.
        queue_email("attestation", user, request=request, assignment=log.assignment,
                    log=log, ask_feedback=policy.can_give_feedback(user, log, now))


def _load_invitations(invitations) -> None:
    """Load in one statement what the mails of these invitations read: each mediator and
    their account."""
    ids = [i.mediator_id for i in invitations]
    if ids:
        db.session.execute(sa.select(MediatorProfile).where(MediatorProfile.id.in_(ids))
                           .options(joinedload(MediatorProfile.user))).unique().all()


def invited(invitations) -> None:
    """Each invited mediator is offered the request: the first to accept takes it."""
    _load_invitations(invitations)
    for invitation in invitations:
        broadcast = invitation.broadcast
        if invitation.mediator.user.active:
            queue_email("broadcast", invitation.mediator.user, kind="invited",
                        request=broadcast.request, broadcast=broadcast,
                        invitation=invitation)


def invitations_closed(invitations, *, taken: bool) -> None:
    """The mediators invited are told the offer is over: another mediator took it
    (``taken``), or the coordinator withdrew it."""
    _load_invitations(invitations)
    for invitation in invitations:
        broadcast = invitation.broadcast
        if invitation.mediator.user.active:
            queue_email("broadcast", invitation.mediator.user,
                        kind="taken" if taken else "withdrawn", request=broadcast.request,
                        broadcast=broadcast, invitation=invitation)


def _coordinators(request: MediationRequest) -> list[User]:
    return list(db.session.scalars(
        sa.select(User).where(User.role == Role.coordinator,
                              User.ambito_id == request.school.ambito_id, User.active)
    ))


def family_answered(invitation: FamilyInvitation) -> None:
    """The family cannot come or needs another day: the requester and the Ambito's
    coordinators, at once, so that the meeting is moved or cancelled before anyone
    travels."""
    request = invitation.request
    _send(f"family_{invitation.answer.value}", [request.requester, *_coordinators(request)],
          request, assignment=invitation.assignment)


def mediator_no_show(report: MediatorNoShow) -> None:
    """The school says the mediator did not come: the coordinators of the school's Ambito
    (each in their language), who decide what follows."""
    assignment = report.assignment
    _load_for_mail(assignment)
    request = assignment.request
    _send("no_show", _coordinators(request), request, assignment=assignment)


def broadcast_taken(assignment: Assignment) -> None:
    """A request offered to several mediators was taken: its coordinators read who took
    it (once each)."""
    _load_for_mail(assignment)
    request = assignment.request
    _send("broadcast_taken", _coordinators(request), request, assignment=assignment)


def broadcast_declined(broadcast) -> None:
    """Every mediator invited so far declined: the coordinators decide what next."""
    request = broadcast.request
    _send("broadcast_declined", _coordinators(request), request, broadcast=broadcast)
