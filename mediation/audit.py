"""Writing the audit trail, in the caller's transaction."""

from flask import has_request_context, request

from .extensions import db
from .models import AuditEvent, User


def record(action: str, obj, actor: User | None, **data) -> AuditEvent:
    """Add an audit event for ``obj`` (any model with an ``id``) to the session.

    ``data`` must hold only structured, non-sensitive values: states, ids,
    reason codes. Never passwords, tokens or free text about a pupil.
    """
    if obj is not None and getattr(obj, "id", None) is None:
        db.session.flush()
    event = AuditEvent(
        action=action,
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=getattr(obj, "id", None),
        actor_id=actor.id if actor is not None and actor.is_authenticated else None,
        ip_address=request.remote_addr if has_request_context() else None,
        data=data,
    )
    db.session.add(event)
    return event
