"""Reads for the schools' pages, scoped to the user; a fixed number of queries each."""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from ..clock import day_bounds, day_start
from ..extensions import db
from ..models import (
    ACTIVE_ASSIGNMENT_STATES,
    Assignment,
    Closure,
    Document,
    Language,
    MediationRequest,
    MediatorProfile,
    PreferredSlot,
    Project,
    PupilCase,
    RequestState,
    RequestType,
    User,
    with_varieties,
)
from ..scoping import scoped

#: At most this many requests in the lead's "awaiting your approval" block.
AWAITING_LIMIT = 50


@dataclass
class Filters:
    state: RequestState | None = None
    type_id: int | None = None
    language_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    mine: bool = False


def _list_loaders():
    return (
        joinedload(MediationRequest.type),
        joinedload(MediationRequest.language).joinedload(Language.parent),
        joinedload(MediationRequest.site),
        joinedload(MediationRequest.requester),
        joinedload(MediationRequest.pupil_case),
        selectinload(MediationRequest.slots),
        selectinload(MediationRequest.assignments).joinedload(Assignment.mediator)
        .joinedload(MediatorProfile.user),
    )


def school_requests(user: User, filters: Filters) -> sa.Select:
    """The user's school's requests matching ``filters``, newest first (to paginate)."""
    stmt = scoped(MediationRequest, user).options(*_list_loaders())
    if filters.state is not None:
        stmt = stmt.where(MediationRequest.state == filters.state)
    if filters.type_id is not None:
        stmt = stmt.where(MediationRequest.type_id == filters.type_id)
    if filters.language_id is not None:
        stmt = stmt.where(MediationRequest.language_id.in_(with_varieties(filters.language_id)))
    if filters.mine:
        stmt = stmt.where(MediationRequest.requester_id == user.id)
    if filters.date_from is not None or filters.date_to is not None:
        # Rome days to UTC instants: [from 00:00, day after "to" 00:00).
        low = day_start(filters.date_from) if filters.date_from is not None else None
        high = day_bounds(filters.date_to)[1] if filters.date_to else None

        def within(column):
            conditions = [column.is_not(None)]
            if low is not None:
                conditions.append(column >= low)
            if high is not None:
                conditions.append(column < high)
            return sa.and_(*conditions)

        stmt = stmt.where(sa.or_(
            within(MediationRequest.deadline_dt),
            sa.exists().where(PreferredSlot.request_id == MediationRequest.id,
                              within(PreferredSlot.start_dt)),
            sa.exists().where(Assignment.request_id == MediationRequest.id,
                              Assignment.state.in_(ACTIVE_ASSIGNMENT_STATES),
                              within(Assignment.start_dt)),
        ))
    return stmt.order_by(MediationRequest.created_dt.desc(), MediationRequest.id.desc())


@dataclass
class BookingWindow:
    """What the request form shows while a teacher picks days: the days a project runs
    (``first`` to ``last``, None when no project runs from today on), its projects, and
    the school's closures (regional holidays and its own) in that period, by date."""

    first: date | None
    last: date | None
    projects: list[Project]
    closures: list[Closure]


def booking_window(user: User, today: date) -> BookingWindow:
    """The period in which the user's school can book, and its closures from ``today``."""
    projects = [p for p in db.session.scalars(
        sa.select(Project).options(selectinload(Project.extensions))
        .order_by(Project.start_date)
    ) if p.effective_end_date >= today]
    if not projects:
        return BookingWindow(None, None, [], [])
    first = max(today, projects[0].start_date)
    last = max(p.effective_end_date for p in projects)
    closures = [c for c in db.session.scalars(
        sa.select(Closure).where(
            sa.or_(Closure.school_id.is_(None), Closure.school_id == user.school_id),
            Closure.end_date >= first,
            Closure.start_date <= last,
        ).order_by(Closure.start_date, Closure.end_date, Closure.id)
    ) if not _weekend_only(c.start_date, c.end_date)]
    return BookingWindow(first, last, projects, closures)


def _weekend_only(first: date, last: date) -> bool:
    """A closure on a Saturday or a Sunday (25 April some years) closes no school day."""
    return (last - first).days < 2 and first.weekday() >= 5 and last.weekday() >= 5


def awaiting_approval(user: User) -> list[MediationRequest]:
    """The school's requests waiting for the lead's approval, oldest first."""
    return list(db.session.scalars(
        scoped(MediationRequest, user)
        .where(MediationRequest.state == RequestState.awaiting_approval)
        .options(*_list_loaders())
        .order_by(MediationRequest.created_dt, MediationRequest.id)
        .limit(AWAITING_LIMIT)
    ))


def languages() -> list[Language]:
    return list(db.session.scalars(
        sa.select(Language).options(joinedload(Language.parent))
    ))


def language_choices(locale: str) -> list[tuple[int, str]]:
    """Every language, each followed by its varieties labelled "Language — Variety"."""
    rows = languages()
    children: dict[int, list[Language]] = {}
    for language in rows:
        if language.parent_id is not None:
            children.setdefault(language.parent_id, []).append(language)
    known = {language.id for language in rows}

    def key(language: Language) -> str:
        return language.name(locale).casefold()

    choices = []
    for language in sorted(rows, key=key):
        if language.parent_id is not None and language.parent_id in known:
            continue
        choices.append((language.id, language.name(locale)))
        for variety in sorted(children.get(language.id, []), key=key):
            choices.append((variety.id, f"{language.name(locale)} — {variety.name(locale)}"))
    return choices


def active_types() -> list[RequestType]:
    return list(db.session.scalars(
        sa.select(RequestType).where(RequestType.active)
        .order_by(RequestType.position, RequestType.id)
    ))


def all_types() -> list[RequestType]:
    return list(db.session.scalars(
        sa.select(RequestType).order_by(RequestType.position, RequestType.id)
    ))


def active_type(code: str) -> RequestType | None:
    return db.session.scalar(
        sa.select(RequestType).where(RequestType.code == code, RequestType.active)
    )


def pupil_cases(user: User) -> list[PupilCase]:
    """The pupil codes of the user's school."""
    return list(db.session.scalars(
        scoped(PupilCase, user).order_by(PupilCase.code)
    ))


def documents(request: MediationRequest, user: User) -> list[Document]:
    return list(db.session.scalars(
        scoped(Document, user).where(Document.request_id == request.id)
        .order_by(Document.created_dt, Document.id)
    ))


def document(request: MediationRequest, document_id: int, user: User) -> Document | None:
    return db.session.scalar(
        scoped(Document, user).where(Document.request_id == request.id,
                                     Document.id == document_id)
    )
