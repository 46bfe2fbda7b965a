"""Reads shared by the booking pages, scoped to the user."""

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from ..models import (
    Assignment,
    AuditEvent,
    MediationRequest,
    MediatorNoShow,
    MediatorProfile,
    RequestSeries,
    SessionAttestation,
    SessionLog,
    TimeProposal,
    User,
)
from ..scoping import get_or_404, scoped

#: ``db.session.info`` key: the transaction and the ids of the requests read FOR UPDATE in it.
_LOCKED = "mediation.locked_requests"


def load_request(request_id: int, user: User, *, lock: bool = False) -> MediationRequest:
    """A request the user may see, with what its page shows, or a 404.

    ``lock``: read its row FOR UPDATE, as the operations' ``_lock`` does, for a view
    about to change it; the operation then need not read it all again (see
    :func:`is_locked`).
    """
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
        selectinload(MediationRequest.proposals).options(
            joinedload(TimeProposal.mediator).joinedload(MediatorProfile.user),
            joinedload(TimeProposal.answered_by),
        ),
        selectinload(MediationRequest.assignments).options(
            joinedload(Assignment.mediator).joinedload(MediatorProfile.user),
            joinedload(Assignment.session_log).options(
                joinedload(SessionLog.macro_action), joinedload(SessionLog.action),
                joinedload(SessionLog.delivered_document),
                joinedload(SessionLog.attestation).joinedload(SessionAttestation.by),
            ),
            joinedload(Assignment.no_show).joinedload(MediatorNoShow.reported_by),
        ),
    )
    if lock:
        # Only the request's own row: PostgreSQL refuses FOR UPDATE on the nullable side
        # of the outer joins of the eager loads.
        # Populate existing: a copy already in the session must show the locked row.
        stmt = stmt.with_for_update(of=MediationRequest).execution_options(
            populate_existing=True)
    request = db.session.scalar(stmt)
    if request is None:
        get_or_404(MediationRequest, -1, user)  # aborts with the 404 page
    if lock:
        held = db.session.info.get(_LOCKED)
        transaction = db.session().get_transaction()
        if held is None or held[0] is not transaction:
            held = db.session.info[_LOCKED] = (transaction, set())
        held[1].add(request_id)
    return request


def is_locked(request: MediationRequest) -> bool:
    """Whether ``request`` was read FOR UPDATE, with its relations, in the current
    transaction (by ``load_request(..., lock=True)``): it cannot have changed since."""
    held = db.session.info.get(_LOCKED)
    identity = sa.inspect(request).identity
    return (held is not None and identity is not None
            and held[0] is db.session().get_transaction() and identity[0] in held[1])


def history(request: MediationRequest) -> list[AuditEvent]:
    """Who did what to a request, oldest first."""
    return list(db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.object_type == "MediationRequest",
               AuditEvent.object_id == request.id)
        .options(joinedload(AuditEvent.actor))
        .order_by(AuditEvent.created_dt, AuditEvent.id)
    ))


def attestations_for(log_ids) -> dict[int, SessionAttestation]:
    """The school's attestations of these session logs, by log id, each with who gave it
    (``attestation.by``, loaded): one query whatever the number of logs. A log without
    one (not in the dict) is pending. For pages and documents that show, per session, who
    attested it (the sessions export, the mediators' timesheets); the caller has scoped
    the logs."""
    ids = set(log_ids)
    if not ids:
        return {}
    rows = db.session.scalars(
        sa.select(SessionAttestation)
        .where(SessionAttestation.session_log_id.in_(ids))
        .options(joinedload(SessionAttestation.by))
    )
    return {row.session_log_id: row for row in rows}


def load_series(series_id: int, user: User) -> list[MediationRequest]:
    """The weeks of a series the user may see, in order, with what the series' page shows
    of each (its time, its mediator, its school's calendar), in a fixed number of
    queries whatever the number of weeks; a 404 when the user sees none."""
    weeks = list(db.session.scalars(
        scoped(MediationRequest, user).where(MediationRequest.series_id == series_id)
        .order_by(MediationRequest.series_position)
        .options(
            joinedload(MediationRequest.type), joinedload(MediationRequest.language),
            joinedload(MediationRequest.school), joinedload(MediationRequest.series),
            selectinload(MediationRequest.slots),
            selectinload(MediationRequest.assignments).joinedload(Assignment.mediator)
            .joinedload(MediatorProfile.user),
        )
    ))
    if not weeks:
        get_or_404(RequestSeries, -1, user)  # aborts with the 404 page
    return weeks
