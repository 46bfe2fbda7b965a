"""Who may see what: the one place that turns a user's role and scope into SQL.

Every query that lists or loads data goes through :func:`visible` (usually via
:func:`scoped` or :func:`get_or_404`); a view never filters by hand. An object
outside the user's scope is a 404, never a 403, so that its existence is not
revealed (docs/design.md, rule 5).
"""

from collections.abc import Callable
from functools import wraps
from typing import NamedTuple

import sqlalchemy as sa
from flask import abort
from flask_login import current_user, login_required

from .bounds import valid_id
from .extensions import db
from .models import (
    Ambito,
    Assignment,
    Document,
    DocumentKind,
    MediationRequest,
    MediatorProfile,
    PupilCase,
    Role,
    School,
    SessionLog,
    Site,
    User,
    mediator_ambiti,
)

_FALSE = sa.false()


def _school_ids_of_ambito(ambito_id: int):
    return sa.select(School.id).where(School.ambito_id == ambito_id).scalar_subquery()


def _mediator_request_ids(user: User):
    return (
        sa.select(Assignment.request_id)
        .join(MediatorProfile, MediatorProfile.id == Assignment.mediator_id)
        .where(MediatorProfile.user_id == user.id)
        .scalar_subquery()
    )


def _schools(user: User):
    if user.role in (Role.teacher, Role.lead):
        return School.id == user.school_id
    if user.role == Role.coordinator:
        return School.ambito_id == user.ambito_id
    if user.role == Role.mediator:
        return School.id.in_(
            sa.select(MediationRequest.school_id)
            .where(MediationRequest.id.in_(_mediator_request_ids(user)))
            .scalar_subquery()
        )
    return _FALSE


def _ambiti(user: User):
    if user.role in (Role.teacher, Role.lead):
        return Ambito.id == sa.select(School.ambito_id).where(
            School.id == user.school_id
        ).scalar_subquery()
    if user.role == Role.coordinator:
        return Ambito.id == user.ambito_id
    if user.role == Role.mediator:
        return Ambito.id.in_(
            sa.select(mediator_ambiti.c.ambito_id)
            .join(MediatorProfile, MediatorProfile.id == mediator_ambiti.c.mediator_id)
            .where(MediatorProfile.user_id == user.id)
            .scalar_subquery()
        )
    return _FALSE


def _sites(user: User):
    return Site.school_id.in_(sa.select(School.id).where(_schools(user)).scalar_subquery())


def _requests(user: User):
    if user.role in (Role.teacher, Role.lead):
        return MediationRequest.school_id == user.school_id
    if user.role == Role.coordinator:
        return MediationRequest.school_id.in_(_school_ids_of_ambito(user.ambito_id))
    if user.role == Role.mediator:
        return MediationRequest.id.in_(_mediator_request_ids(user))
    return _FALSE


def _pupil_cases(user: User):
    if user.role in (Role.teacher, Role.lead):
        return PupilCase.school_id == user.school_id
    if user.role == Role.coordinator:
        return PupilCase.school_id.in_(_school_ids_of_ambito(user.ambito_id))
    if user.role == Role.mediator:
        return PupilCase.id.in_(
            sa.select(MediationRequest.pupil_case_id)
            .where(MediationRequest.id.in_(_mediator_request_ids(user)))
            .scalar_subquery()
        )
    return _FALSE


def _assignments(user: User):
    if user.role == Role.mediator:
        return Assignment.mediator_id.in_(
            sa.select(MediatorProfile.id).where(MediatorProfile.user_id == user.id)
            .scalar_subquery()
        )
    return Assignment.request_id.in_(
        sa.select(MediationRequest.id).where(_requests(user)).scalar_subquery()
    )


def _session_logs(user: User):
    return SessionLog.assignment_id.in_(
        sa.select(Assignment.id).where(_assignments(user)).scalar_subquery()
    )


def _documents(user: User):
    of_visible_requests = Document.request_id.in_(
        sa.select(MediationRequest.id).where(_requests(user)).scalar_subquery()
    )
    if user.role == Role.mediator:
        # The documents to translate, and their own work: not another mediator's.
        return sa.and_(of_visible_requests, sa.or_(Document.kind == DocumentKind.source,
                                                   Document.uploaded_by_id == user.id))
    return of_visible_requests


def _mediators(user: User):
    if user.role == Role.coordinator:
        return MediatorProfile.id.in_(
            sa.select(mediator_ambiti.c.mediator_id)
            .where(mediator_ambiti.c.ambito_id == user.ambito_id)
            .scalar_subquery()
        )
    if user.role == Role.mediator:
        return MediatorProfile.user_id == user.id
    return _FALSE


def _users(user: User):
    if user.role == Role.coordinator:
        return sa.or_(
            User.ambito_id == user.ambito_id,
            User.school_id.in_(_school_ids_of_ambito(user.ambito_id)),
        )
    if user.role == Role.lead:
        return User.school_id == user.school_id
    return User.id == user.id


_RULES: dict[type, Callable[[User], sa.ColumnElement[bool]]] = {
    Ambito: _ambiti,
    School: _schools,
    Site: _sites,
    MediationRequest: _requests,
    PupilCase: _pupil_cases,
    Assignment: _assignments,
    SessionLog: _session_logs,
    Document: _documents,
    MediatorProfile: _mediators,
    User: _users,
}


class Scope(NamedTuple):
    """All that :func:`visible` reads of a user, as a hashable value: a statement built
    for a scope can be kept and reused for the same scope (``reporting.aggregates``)."""

    role: Role
    id: int
    ambito_id: int | None
    school_id: int | None
    is_authenticated: bool = True


def scope_of(user: User) -> Scope:
    """The scope of a signed-in user."""
    return Scope(user.role, user.id, user.ambito_id, user.school_id)


def visible(model: type, user: User | Scope) -> sa.ColumnElement[bool]:
    """The SQL condition selecting the rows of ``model`` that ``user`` may see."""
    if not user.is_authenticated:
        return _FALSE
    if user.role == Role.admin:
        return sa.true()
    try:
        rule = _RULES[model]
    except KeyError:
        raise LookupError(f"no scoping rule for {model.__name__}") from None
    return rule(user)


def mediators_who_worked_for(user: User) -> sa.ColumnElement[bool]:
    """The mediators whose work ``user`` may account for (timesheets): those they may see,
    and for a coordinator also those who were ever booked at a school of the Ambito,
    though they no longer serve it (last year's sheets are still signed and audited)."""
    condition = visible(MediatorProfile, user)
    if user.is_authenticated and user.role == Role.coordinator:
        condition = sa.or_(condition, MediatorProfile.id.in_(
            sa.select(Assignment.mediator_id)
            .where(Assignment.school_id.in_(_school_ids_of_ambito(user.ambito_id)))
            .scalar_subquery()))
    return condition


def scoped(model: type, user: User) -> sa.Select:
    """``SELECT model`` restricted to what ``user`` may see."""
    return sa.select(model).where(visible(model, user))


def get_or_404(model: type, object_id: int, user: User, *options):
    """Load one object the user may see (with the loader ``options``), or abort with 404."""
    if not valid_id(object_id):
        abort(404)
    obj = db.session.scalar(scoped(model, user).where(model.id == object_id).options(*options))
    if obj is None:
        abort(404)
    return obj


def roles_required(*roles: Role):
    """Let only users with one of ``roles`` reach a view; others get a 404."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(404)
            return view(*args, **kwargs)

        return wrapped

    return decorator
