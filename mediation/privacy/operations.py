"""The retention purge: anonymise what is no longer needed once a request has ended.

A request has *ended* when it is closed, cancelled, rejected or unfilled; it ended before a
date when it was last changed (``updated_dt``: the change that ended it) before that date.
Of such a request the purge blanks the free text (notes, reasons, summaries, comments,
the number to call for a meeting by phone),
anonymises its pupil case (once every request of the pupil has ended before the date) and
deletes its documents' files, keeping everything the funder's figures are made of: dates,
times, hours, participants, macro-action, action, language, type, school, pages, words,
states and the rows themselves (so counts do not change). Of a pupil it keeps the school,
the cycle, the year of arrival and the yearly statuses (the funder counts by them); the code
becomes ``ANON-<id>``, the class, country of origin and risk indicators go, and a home
language's variety (Moroccan Arabic) becomes the language (Arabic). A family code becomes a
pseudonym once nothing that carries it is still needed (the family stays one family).
"""

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from ..audit import record
from ..extensions import db
from ..models import (
    Absence,
    Assignment,
    Document,
    Language,
    MediationRequest,
    MediatorNoShow,
    OutboxMessage,
    OutboxState,
    PupilCase,
    RequestState,
    SessionAttestation,
    SessionFeedback,
    SessionLog,
    User,
    UserSession,
    utcnow,
)
from ..models.cases import pupil_case_languages

#: The states in which a request has ended.
ENDED_STATES = (RequestState.closed, RequestState.cancelled, RequestState.rejected,
                RequestState.unfilled)
#: The prefix of the code that replaces an anonymised pupil's (followed by the case id).
ANONYMOUS_CODE_PREFIX = "ANON-"


@dataclass
class PurgeResult:
    """How many rows of each kind the purge changed, and the files it leaves to delete."""

    requests: int = 0
    pupil_cases: int = 0
    assignments: int = 0
    session_logs: int = 0
    documents: int = 0
    absences: int = 0
    emails: int = 0
    sessions: int = 0
    families: int = 0
    files: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"requests": self.requests, "pupil_cases": self.pupil_cases,
                "assignments": self.assignments, "session_logs": self.session_logs,
                "documents": self.documents, "absences": self.absences,
                "emails": self.emails, "sessions": self.sessions, "families": self.families}


def _ended_before(before: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(MediationRequest.state.in_(ENDED_STATES),
                   MediationRequest.updated_dt < before)


def _execute(statement) -> int:
    return db.session.execute(
        statement.execution_options(synchronize_session=False)
    ).rowcount


def purge(before: datetime, actor: User | None = None) -> PurgeResult:
    """Anonymise the requests that ended before ``before`` (an aware datetime).

    Idempotent: what was anonymised is not counted again. Flushes, never commits; the
    caller commits and then deletes ``result.files`` (the purged documents' files), so a
    rolled-back purge deletes nothing.
    """
    now = utcnow()
    result = PurgeResult()
    requests = (sa.select(MediationRequest.id)
                .where(_ended_before(before), MediationRequest.anonymised_dt.is_(None)))
    # Everything of a request already anonymised is blank: look at the new ones only.
    ended = sa.select(MediationRequest.id).where(_ended_before(before))

    # A pupil is anonymised once none of their requests is recent or still running.
    still_needed = (sa.select(MediationRequest.id)
                    .where(MediationRequest.pupil_case_id == PupilCase.id,
                           sa.not_(_ended_before(before))))
    cases = (sa.select(PupilCase.id)
             .where(PupilCase.anonymised_dt.is_(None),
                    PupilCase.id.in_(sa.select(MediationRequest.pupil_case_id)
                                     .where(MediationRequest.id.in_(ended))),
                    ~still_needed.exists()))
    case_ids = list(db.session.scalars(cases))
    for chunk in _chunks(case_ids):
        _languages_without_varieties(chunk)
        result.pupil_cases += _execute(
            sa.update(PupilCase).where(PupilCase.id.in_(chunk)).values(
                code=sa.literal(ANONYMOUS_CODE_PREFIX)
                + sa.cast(PupilCase.id, sa.String),
                class_name="", country_of_origin=None,
                high_absences=False, repeated_year=False, late_enrolment=False,
                italian_level=None, anonymised_dt=now))

    result.families = _anonymise_family_codes(before)

    assignments = sa.select(Assignment.id).where(Assignment.request_id.in_(requests))
    result.session_logs = _execute(
        sa.update(SessionLog).where(SessionLog.assignment_id.in_(assignments),
                                    sa.or_(SessionLog.summary.is_not(None),
                                           SessionLog.review_comment.is_not(None)))
        .values(summary=None, review_comment=None))
    # Why the school disputed a session: the row (attested or disputed, who, when) stays.
    logs = sa.select(SessionLog.id).where(SessionLog.assignment_id.in_(assignments))
    result.session_logs += _execute(
        sa.update(SessionAttestation).where(SessionAttestation.session_log_id.in_(logs),
                                            SessionAttestation.reason.is_not(None))
        .values(reason=None))
    # The comments given with the feedback after a session: the ratings stay (the funder's
    # result indicator is made of them).
    result.session_logs += _execute(
        sa.update(SessionFeedback).where(SessionFeedback.session_log_id.in_(logs),
                                         SessionFeedback.comment.is_not(None))
        .values(comment=None))
    result.assignments = _execute(
        sa.update(Assignment).where(Assignment.request_id.in_(requests),
                                    sa.or_(Assignment.decline_reason.is_not(None),
                                           Assignment.proposed_note.is_not(None),
                                           Assignment.end_reason.is_not(None)))
        .values(decline_reason=None, proposed_note=None, end_reason=None))
    # What the school added to its report that the mediator did not come: the row stays.
    result.assignments += _execute(
        sa.update(MediatorNoShow).where(MediatorNoShow.request_id.in_(requests),
                                        MediatorNoShow.note.is_not(None))
        .values(note=None))

    documents = sa.and_(Document.request_id.in_(ended), Document.purged_dt.is_(None))
    result.files = [name for name in db.session.scalars(
        sa.select(Document.storage_name).where(documents)) if name]
    result.documents = _execute(
        sa.update(Document).where(documents).values(
            storage_name=None, original_name=None, content_type=None, sha256=None,
            purged_dt=now))

    # A mediator's reasons for being away (may tell of health or family) once it is over.
    result.absences = _execute(
        sa.update(Absence).where(Absence.end_dt < before, Absence.reason.is_not(None))
        .values(reason=None))
    # Sent emails repeat notes, reasons and pupil codes; the sent ones are no longer needed.
    result.emails = _execute(
        sa.delete(OutboxMessage).where(OutboxMessage.state == OutboxState.sent,
                                       OutboxMessage.created_dt < before))
    # Logins that expired before the date (their address and browser with them).
    result.sessions = _execute(sa.delete(UserSession).where(UserSession.expires_dt < before))

    # Last: the requests themselves (the statements above find them by this marker).
    # ``updated_dt`` is kept: it is when the request ended, which retention is counted from.
    result.requests = _execute(
        sa.update(MediationRequest).where(MediationRequest.id.in_(requests)).values(
            notes=None, rejection_reason=None, cancellation_note=None, call_number=None,
            anonymised_dt=now,
            updated_dt=MediationRequest.updated_dt))
    record("privacy.purged", None, actor, before=before.isoformat(), **result.counts())
    db.session.flush()
    return result


def _anonymise_family_codes(before: datetime) -> int:
    """Replace the family codes no longer needed by a pseudonym, ``ANON-C<id>`` (or
    ``ANON-R<id>``): the smallest id of the pupil cases (or else of the requests) that
    carry the code at that school. A family code is the school's own and counts the
    family's parents once (reporting's beneficiaries); it goes once every pupil case that
    carries it is anonymised and every meeting naming it (with no pupil) ended before the
    date, and it is replaced everywhere at once, so the figures do not change. Returns the
    number of families whose code went."""
    anonymous = f"{ANONYMOUS_CODE_PREFIX}%"
    carriers: dict[tuple[int, str], list[tuple[str, int, bool]]] = {}
    case_rows = db.session.execute(
        sa.select(PupilCase.id, PupilCase.school_id, PupilCase.family_code,
                  PupilCase.anonymised_dt.is_(None))
        .where(PupilCase.family_code.is_not(None), PupilCase.family_code.not_like(anonymous)))
    request_rows = db.session.execute(
        sa.select(MediationRequest.id, MediationRequest.school_id,
                  MediationRequest.family_code, sa.not_(_ended_before(before)))
        .where(MediationRequest.family_code.is_not(None),
               MediationRequest.family_code.not_like(anonymous)))
    for kind, rows in (("C", case_rows), ("R", request_rows)):
        for row_id, school_id, code, needed in rows:
            carriers.setdefault((school_id, code), []).append((kind, row_id, bool(needed)))
    families = 0
    for (school_id, code), rows in carriers.items():
        if any(needed for _kind, _id, needed in rows):
            continue
        kind, row_id = min((kind, row_id) for kind, row_id, _needed in rows)
        pseudonym = f"{ANONYMOUS_CODE_PREFIX}{kind}{row_id}"
        db.session.execute(sa.update(PupilCase).where(PupilCase.school_id == school_id,
                                                      PupilCase.family_code == code)
                           .values(family_code=pseudonym))
        # ``updated_dt`` is kept: retention and a request's past states are read from it.
        db.session.execute(sa.update(MediationRequest)
                           .where(MediationRequest.school_id == school_id,
                                  MediationRequest.family_code == code)
                           .values(family_code=pseudonym,
                                   updated_dt=MediationRequest.updated_dt))
        families += 1
    return families


def _languages_without_varieties(case_ids: list[int]) -> None:
    """Replace each variety among the cases' home languages by its language."""
    pcl = pupil_case_languages.c
    variety = sa.select(Language.id).where(Language.parent_id.is_not(None))
    other = pupil_case_languages.alias("other")
    already = sa.select(other.c.language_id).where(
        other.c.pupil_case_id == pcl.pupil_case_id, other.c.language_id == Language.parent_id)
    parents = (sa.select(pcl.pupil_case_id, Language.parent_id).distinct()
               .join(Language, Language.id == pcl.language_id)
               .where(pcl.pupil_case_id.in_(case_ids), Language.parent_id.is_not(None),
                      ~already.exists()))
    db.session.execute(sa.insert(pupil_case_languages)
                       .from_select(["pupil_case_id", "language_id"], parents))
    db.session.execute(sa.delete(pupil_case_languages).where(
        pcl.pupil_case_id.in_(case_ids), pcl.language_id.in_(variety)))


def _chunks(ids: list[int], size: int = 500):
    for start in range(0, len(ids), size):
        yield ids[start:start + size]
