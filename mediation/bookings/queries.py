"""Reads shared by the booking pages, scoped to the user."""

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from ..models import (
    Assignment,
    AuditEvent,
    MediationRequest,
    MediatorProfile,
    RequestSeries,
    SessionLog,
    User,
)
from ..scoping import get_or_404, scoped


def load_request(request_id: int, user: User) -> MediationRequest:
    """A request the user may see, with what its page shows, or a 404."""
    stmt = scoped(MediationRequest, user).where(MediationRequest.id == request_id).options(
        joinedload(MediationRequest.type),
        joinedload(MediationRequest.language),
        joinedload(MediationRequest.school),
        joinedload(MediationRequest.site),
        joinedload(MediationRequest.requester),
        joinedload(MediationRequest.pupil_case),
        joinedload(MediationRequest.project),
        selectinload(MediationRequest.slots),
        selectinload(MediationRequest.series).selectinload(RequestSeries.requests),
        selectinload(MediationRequest.assignments).options(
            joinedload(Assignment.mediator).joinedload(MediatorProfile.user),
            joinedload(Assignment.session_log).options(
                joinedload(SessionLog.macro_action), joinedload(SessionLog.action),
                joinedload(SessionLog.delivered_document),
            ),
        ),
    )
    request = db.session.scalar(stmt)
    if request is None:
        get_or_404(MediationRequest, -1, user)  # aborts with the 404 page
    return request


def history(request: MediationRequest) -> list[AuditEvent]:
    """Who did what to a request, oldest first."""
    return list(db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.object_type == "MediationRequest",
               AuditEvent.object_id == request.id)
        .options(joinedload(AuditEvent.actor))
        .order_by(AuditEvent.created_dt, AuditEvent.id)
    ))
