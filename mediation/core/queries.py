"""Reads for the home pages, scoped to the user; a fixed number of queries each."""

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from ..models import (
    Ambito,
    Assignment,
    AssignmentState,
    LogState,
    MediationRequest,
    MediatorLanguage,
    MediatorProfile,
    Project,
    RequestState,
    Role,
    School,
    SessionLog,
    User,
    utcnow,
)
from ..scoping import scoped, visible

RECENT = 10


def _request_loaders():
    return (
        joinedload(MediationRequest.type),
        joinedload(MediationRequest.language),
        joinedload(MediationRequest.school),
        selectinload(MediationRequest.slots),
        # The lists show the appointment's time once a mediator has accepted.
        selectinload(MediationRequest.assignments),
    )


def state_counts(user: User) -> dict[RequestState, int]:
    """Number of requests in each state that the user can see."""
    rows = db.session.execute(
        sa.select(MediationRequest.state, sa.func.count())
        .where(visible(MediationRequest, user))
        .group_by(MediationRequest.state)
    ).all()
    counts = dict.fromkeys(RequestState, 0)
    counts.update({state: count for state, count in rows})
    return counts


def recent_requests(user: User, *states: RequestState, oldest_first: bool = False):
    stmt = scoped(MediationRequest, user).options(*_request_loaders())
    if states:
        stmt = stmt.where(MediationRequest.state.in_(states))
    created = MediationRequest.created_dt
    order = created.asc() if oldest_first else created.desc()
    return db.session.scalars(stmt.order_by(order, MediationRequest.id).limit(RECENT)).all()


def upcoming_assignments(user: User, *states: AssignmentState):
    """The user's next assignments (meetings from now on, translations not yet due)."""
    now = utcnow()
    stmt = (
        scoped(Assignment, user)
        .where(Assignment.state.in_(states))
        .where(sa.or_(Assignment.end_dt >= now, Assignment.deadline_dt >= now))
        .options(
            joinedload(Assignment.request).options(
                joinedload(MediationRequest.type),
                joinedload(MediationRequest.language),
                joinedload(MediationRequest.school),
                joinedload(MediationRequest.site),
                joinedload(MediationRequest.pupil_case),
            ),
            joinedload(Assignment.mediator).joinedload(MediatorProfile.user),
        )
        .order_by(sa.func.coalesce(Assignment.start_dt, Assignment.deadline_dt), Assignment.id)
        .limit(RECENT)
    )
    return db.session.scalars(stmt).all()


def logs_awaiting_approval(user: User) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(SessionLog)
        .where(visible(SessionLog, user))
        .where(SessionLog.state == LogState.submitted)
    )


def current_projects():
    """Projects whose (extended) period includes today, newest first."""
    today = utcnow().date()
    projects = db.session.scalars(
        sa.select(Project)
        .options(selectinload(Project.extensions), selectinload(Project.budget_lines))
        .order_by(Project.start_date.desc(), Project.id.desc())
    ).all()
    return [p for p in projects if p.covers(today)], projects


def school_home(user: User) -> dict:
    counts = state_counts(user)
    return {
        "counts": counts,
        # A lead approves the school's requests: the home page says how many wait.
        "to_approve": counts[RequestState.awaiting_approval] if user.role == Role.lead else 0,
        "upcoming": upcoming_assignments(user, AssignmentState.accepted),
        "recent": recent_requests(user),
    }


def coordinator_home(user: User) -> dict:
    return {
        "counts": state_counts(user),
        "waiting": recent_requests(user, RequestState.open, oldest_first=True),
        "to_approve": logs_awaiting_approval(user),
        "mediator_count": db.session.scalar(
            sa.select(sa.func.count()).select_from(MediatorProfile).where(
                visible(MediatorProfile, user)
            )
        ),
        "school_count": db.session.scalar(
            sa.select(sa.func.count()).select_from(School).where(visible(School, user))
        ),
    }


def admin_home(user: User) -> dict:
    running, projects = current_projects()
    per_ambito = db.session.execute(
        sa.select(
            Ambito,
            sa.select(sa.func.count(School.id))
            .where(School.ambito_id == Ambito.id)
            .scalar_subquery()
            .label("schools"),
            sa.select(sa.func.count(MediationRequest.id))
            .join(School, School.id == MediationRequest.school_id)
            .where(School.ambito_id == Ambito.id)
            .scalar_subquery()
            .label("requests"),
        )
        .where(visible(Ambito, user))
        .order_by(Ambito.name)
    ).all()
    return {
        "counts": state_counts(user),
        "to_approve": logs_awaiting_approval(user),
        "running": running,
        "projects": projects,
        "ambiti": per_ambito,
    }


def school_page(school: School, user: User) -> dict:
    staff = []
    if user.role in (Role.lead, Role.coordinator, Role.admin):
        staff = db.session.scalars(
            scoped(User, user)
            .where(User.school_id == school.id)
            .order_by(User.role, User.display_name)
        ).all()
    return {
        "school": school,
        "sites": school.sites,
        "staff": staff,
        "counts": db.session.execute(
            sa.select(MediationRequest.state, sa.func.count())
            .where(visible(MediationRequest, user), MediationRequest.school_id == school.id)
            .group_by(MediationRequest.state)
        ).all(),
    }


def ambito_page(ambito: Ambito, user: User) -> dict:
    schools = db.session.scalars(
        scoped(School, user)
        .where(School.ambito_id == ambito.id)
        .options(selectinload(School.sites), selectinload(School.cycle_rows))
        .order_by(School.municipality, School.name)
    ).all()
    mediators = db.session.scalars(
        scoped(MediatorProfile, user)
        .where(MediatorProfile.ambiti.any(Ambito.id == ambito.id))
        .options(
            joinedload(MediatorProfile.user),
            selectinload(MediatorProfile.languages).joinedload(MediatorLanguage.language),
        )
        .join(MediatorProfile.user)
        .order_by(User.display_name)
    ).all()
    return {"ambito": ambito, "schools": schools, "mediators": mediators}
