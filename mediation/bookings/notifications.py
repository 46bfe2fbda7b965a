"""The emails each transition queues, in the recipients' languages.

All use ``templates/email/booking.{txt,html}``, which words each ``kind`` of
message and links to the page where the recipient acts.
"""

import sqlalchemy as sa

from ..extensions import db
from ..models import Assignment, MediationRequest, Role, SessionLog, User
from ..outbox import queue_email


def _send(kind: str, users, request: MediationRequest, **context) -> None:
    seen = set()
    for user in users:
        if user is None or not user.active or user.id in seen:
            continue
        seen.add(user.id)
        queue_email("booking", user, kind=kind, request=request, **context)


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
    _send("offered", [assignment.mediator.user], assignment.request, assignment=assignment)


def confirmed(assignment: Assignment) -> None:
    request = assignment.request
    _send("confirmed", [request.requester, *_leads(request)], request, assignment=assignment)


def declined(assignment: Assignment) -> None:
    _send("declined", [assignment.offered_by], assignment.request, assignment=assignment)


def superseded(assignment: Assignment) -> None:
    _send("superseded", [assignment.mediator.user], assignment.request, assignment=assignment)


def request_cancelled(request: MediationRequest, assignment: Assignment | None,
                      actor: User) -> None:
    recipients = [assignment.mediator.user] if assignment is not None else []
    recipients.append(request.requester)
    _send("cancelled", [u for u in recipients if u.id != actor.id], request,
          assignment=assignment)


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
