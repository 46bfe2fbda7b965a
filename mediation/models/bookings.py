"""Mediation requests, their assignments to mediators, session logs and documents."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .privacy import BOOKING, DOCUMENT, FREE_TEXT, NOT_PERSONAL, PUPIL, personal
from .types import UTCDateTime, enum_column, utcnow


class RequestState(enum.StrEnum):
    """States of a request (docs/design.md, "Lifecycle of a request")."""

    awaiting_approval = "awaiting_approval"
    open = "open"
    offered = "offered"
    confirmed = "confirmed"
    logged = "logged"
    closed = "closed"
    rejected = "rejected"
    cancelled = "cancelled"
    unfilled = "unfilled"


class Mode(enum.StrEnum):
    in_person = "in_person"
    phone = "phone"
    video = "video"


class Urgency(enum.StrEnum):
    normal = "normal"
    urgent = "urgent"


class Direction(enum.StrEnum):
    """Direction of a translation."""

    from_italian = "from_italian"
    to_italian = "to_italian"


class RequestSeries(db.Model):
    """The same meeting every week for a number of weeks: one request per week."""

    __tablename__ = "request_series"
    __table_args__ = (sa.CheckConstraint("weeks BETWEEN 2 AND 40", name="weeks_valid"),)

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    weeks: Mapped[int] = mapped_column(info=NOT_PERSONAL)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, info=NOT_PERSONAL)

    requests: Mapped[list["MediationRequest"]] = relationship(
        back_populates="series", order_by="MediationRequest.series_position"
    )


class MediationRequest(db.Model):
    """A school's request for a mediator (or for a translation)."""

    __tablename__ = "mediation_requests"
    __table_args__ = (
        sa.CheckConstraint(
            "expected_pupils >= 0 AND expected_parents >= 0 AND expected_teachers >= 0",
            name="participants_not_negative",
        ),
        sa.CheckConstraint(
            "duration_minutes IS NULL OR duration_minutes >= 15", name="duration_min"
        ),
        sa.Index("ix_mediation_requests_school_state", "school_id", "state"),
        # Reporting: the requests of an Ambito's schools with every column the dashboard
        # and the exports join or group on, so that PostgreSQL reads them from the index
        # alone (an index-only scan) instead of visiting ~2,000 table pages per school.
        sa.Index("ix_mediation_requests_school_covering", "school_id", "id", "type_id",
                 "language_id", "pupil_case_id", "requester_id", "project_id"),
        # Reporting: the requests an Ambito's schools (or, for the region, all schools)
        # filed in a period, with their state and first offer, read from the index alone.
        sa.Index("ix_mediation_requests_school_created", "school_id", "created_dt", "state",
                 "first_offered_dt"),
        sa.Index("ix_mediation_requests_created", "created_dt", "state", "first_offered_dt"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("projects.id"), index=True, info=NOT_PERSONAL,
    )
    school_id: Mapped[int] = mapped_column(sa.ForeignKey("schools.id"), info=NOT_PERSONAL)
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sites.id"), info=NOT_PERSONAL)
    requester_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id"), index=True, info=personal(BOOKING),
    )
    type_id: Mapped[int] = mapped_column(sa.ForeignKey("request_types.id"), info=NOT_PERSONAL)
    language_id: Mapped[int] = mapped_column(
        sa.ForeignKey("languages.id"), index=True, info=NOT_PERSONAL,
    )
    pupil_case_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("pupil_cases.id"), index=True,
        info=personal(PUPIL),
    )
    # A meeting that names no pupil: the family's code, if the school gave one (never a
    # name; see PupilCase.family_code), so that its parents count once across meetings.
    family_code: Mapped[str | None] = mapped_column(sa.String(20), info=personal(PUPIL))
    # A weekly series: each week is a request of its own (its own offer, log and state).
    series_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("request_series.id"), index=True, info=NOT_PERSONAL,
    )
    series_position: Mapped[int | None] = mapped_column(info=NOT_PERSONAL)
    state: Mapped[RequestState] = mapped_column(
        enum_column(RequestState, "request_state"), index=True,
        info=NOT_PERSONAL,
    )
    mode: Mapped[Mode] = mapped_column(
        enum_column(Mode, "mode"), default=Mode.in_person, info=NOT_PERSONAL,
    )
    # A meeting by phone: the number to call for the meeting (the school's, the family's
    # or the teacher's), given by the school; blanked by the retention purge.
    call_number: Mapped[str | None] = mapped_column(sa.String(30), info=personal(FREE_TEXT))
    urgency: Mapped[Urgency] = mapped_column(
        enum_column(Urgency, "urgency"), default=Urgency.normal,
        info=NOT_PERSONAL,
    )
    expected_pupils: Mapped[int] = mapped_column(default=0, info=NOT_PERSONAL)
    expected_parents: Mapped[int] = mapped_column(default=0, info=NOT_PERSONAL)
    expected_teachers: Mapped[int] = mapped_column(default=0, info=NOT_PERSONAL)
    # A meeting has a duration and preferred slots; a translation a deadline.
    duration_minutes: Mapped[int | None] = mapped_column(info=NOT_PERSONAL)
    deadline_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, info=NOT_PERSONAL)
    direction: Mapped[Direction | None] = mapped_column(
        enum_column(Direction, "direction"), info=NOT_PERSONAL,
    )
    page_count: Mapped[int | None] = mapped_column(info=NOT_PERSONAL)
    notes: Mapped[str | None] = mapped_column(sa.Text, info=personal(FREE_TEXT))
    created_dt: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, info=NOT_PERSONAL,
    )
    updated_dt: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, info=NOT_PERSONAL,
    )
    # When the request was first offered to a mediator: the earliest offered_dt of its
    # assignments, kept by a database trigger on every new assignment (see
    # mediation/models/derived.py). Reporting's time to first offer reads it from the
    # request's index instead of joining every assignment.
    first_offered_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, info=NOT_PERSONAL)
    # Why it ended when it did not end well.
    rejection_reason: Mapped[str | None] = mapped_column(sa.Text, info=personal(FREE_TEXT))
    cancellation_reason: Mapped[str | None] = mapped_column(sa.String(40), info=NOT_PERSONAL)
    cancellation_note: Mapped[str | None] = mapped_column(sa.Text, info=personal(FREE_TEXT))
    cancelled_late: Mapped[bool] = mapped_column(default=False, info=NOT_PERSONAL)
    # When ``flask privacy purge`` blanked its free text (and its pupil case, documents).
    anonymised_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, info=NOT_PERSONAL)

    project: Mapped["Project"] = relationship()  # noqa: F821
    school: Mapped["School"] = relationship()  # noqa: F821
    site: Mapped["Site | None"] = relationship()  # noqa: F821
    requester: Mapped["User"] = relationship()  # noqa: F821
    type: Mapped["RequestType"] = relationship()  # noqa: F821
    language: Mapped["Language"] = relationship()  # noqa: F821
    pupil_case: Mapped["PupilCase | None"] = relationship()  # noqa: F821
    series: Mapped[RequestSeries | None] = relationship(back_populates="requests")
    slots: Mapped[list["PreferredSlot"]] = relationship(
        back_populates="request", order_by="PreferredSlot.position",
        cascade="all, delete-orphan",
    )
    assignments: Mapped[list["Assignment"]] = relationship(
        back_populates="request", order_by="Assignment.id"
    )
    proposals: Mapped[list["TimeProposal"]] = relationship(
        back_populates="request", order_by="TimeProposal.id"
    )
    broadcasts: Mapped[list["OfferBroadcast"]] = relationship(  # noqa: F821
        back_populates="request", order_by="OfferBroadcast.id"
    )

    @property
    def appointment(self) -> "Assignment | None":
        """The accepted assignment: the mediator and the time (or, for a translation, the
        deadline) that the school can count on. Pages and emails show its time first."""
        return next((a for a in self.assignments if a.state == AssignmentState.accepted), None)

    @property
    def open_broadcast(self) -> "OfferBroadcast | None":  # noqa: F821
        """The broadcast whose invitations may still be accepted (at most one)."""
        return next((b for b in self.broadcasts if b.state == "open"), None)

    @property
    def pending_offer(self) -> "Assignment | None":
        """The assignment offered to a mediator who has not answered yet."""
        return next((a for a in self.assignments if a.state == AssignmentState.offered), None)


class PreferredSlot(db.Model):
    """One of the (up to three) times a school proposes for a meeting."""

    __tablename__ = "preferred_slots"
    __table_args__ = (
        sa.UniqueConstraint("request_id", "position"),
        sa.CheckConstraint("position BETWEEN 1 AND 3", name="position_valid"),
        sa.CheckConstraint("start_dt < end_dt", name="range_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("mediation_requests.id"), info=NOT_PERSONAL,
    )
    position: Mapped[int] = mapped_column(info=NOT_PERSONAL)
    start_dt: Mapped[datetime] = mapped_column(UTCDateTime, info=NOT_PERSONAL)
    end_dt: Mapped[datetime] = mapped_column(UTCDateTime, info=NOT_PERSONAL)

    request: Mapped[MediationRequest] = relationship(back_populates="slots")


class ProposalState(enum.StrEnum):
    pending = "pending"
    accepted = "accepted"
    declined = "declined"


class TimeProposal(db.Model):
    """A time the coordinator proposes to the school when no mediator can take the times
    it asked for: a time at which ``mediator`` is free. Nothing is booked until the
    school accepts it and the coordinator offers it (``bookings.operations``)."""

    __tablename__ = "time_proposals"
    __table_args__ = (
        sa.CheckConstraint("start_dt < end_dt", name="range_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("mediation_requests.id"), index=True, info=NOT_PERSONAL,
    )
    mediator_id: Mapped[int] = mapped_column(
        sa.ForeignKey("mediator_profiles.id"), info=personal(BOOKING),
    )
    start_dt: Mapped[datetime] = mapped_column(UTCDateTime, info=NOT_PERSONAL)
    end_dt: Mapped[datetime] = mapped_column(UTCDateTime, info=NOT_PERSONAL)
    state: Mapped[ProposalState] = mapped_column(
        enum_column(ProposalState, "proposal_state"), default=ProposalState.pending,
        info=NOT_PERSONAL,
    )
    proposed_by_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id"), info=personal(BOOKING),
    )
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, info=NOT_PERSONAL)
    answered_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id"), info=personal(BOOKING),
    )
    answered_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, info=NOT_PERSONAL)

    request: Mapped[MediationRequest] = relationship(back_populates="proposals")
    mediator: Mapped["MediatorProfile"] = relationship()  # noqa: F821
    proposed_by: Mapped["User"] = relationship(foreign_keys=[proposed_by_id])  # noqa: F821
    answered_by: Mapped["User | None"] = relationship(  # noqa: F821
        foreign_keys=[answered_by_id])


class AssignmentState(enum.StrEnum):
    offered = "offered"
    accepted = "accepted"
    declined = "declined"
    cancelled = "cancelled"
    superseded = "superseded"


#: States in which an assignment holds the mediator's time (rules 1 and 2).
ACTIVE_ASSIGNMENT_STATES = (AssignmentState.offered, AssignmentState.accepted)
_ACTIVE_SQL = "state IN ('offered', 'accepted')"


class Assignment(db.Model):
    """A request offered to a mediator for a time range (or, for a translation, a deadline).

    The database guarantees that a mediator's active assignments never overlap
    (see ``mediation.models.constraints``) and that a request has at most one
    active assignment (the partial unique index below).
    """

    __tablename__ = "assignments"
    __table_args__ = (
        sa.CheckConstraint(
            "(start_dt IS NULL AND end_dt IS NULL AND deadline_dt IS NOT NULL)"
            " OR (start_dt IS NOT NULL AND end_dt IS NOT NULL AND start_dt < end_dt)",
            name="time_range_or_deadline",
        ),
        sa.Index(
            "uq_assignments_request_active",
            "request_id",
            unique=True,
            postgresql_where=sa.text(_ACTIVE_SQL),
            sqlite_where=sa.text(_ACTIVE_SQL),
        ),
        sa.Index("ix_assignments_mediator_start", "mediator_id", "start_dt"),
        # A request's assignments (the partial unique index above only holds active ones),
        # and the assignments of a period whoever the mediator (matching, calendars).
        # The request's index also holds what reporting reads of a request's assignments
        # (id, mediator, deadline, state, times, first offer): the dashboard's request,
        # utilisation and end-date figures of an Ambito read the index alone.
        sa.Index("ix_assignments_request_covering", "request_id", "id", "mediator_id",
                 "deadline_dt", "state", "start_dt", "end_dt", "offered_dt"),
        sa.Index("ix_assignments_start_dt", "start_dt"),
        # Reporting: the accepted appointments of a period (utilisation), from the index.
        sa.Index("ix_assignments_state_start", "state", "start_dt", "mediator_id", "end_dt",
                 "request_id"),
        # Reporting: a project's active bookings after a date (the end-date warning), a
        # few index ranges per project whatever the history; some schools' accepted
        # appointments of a period (an Ambito's utilisation), from the index alone.
        sa.Index("ix_assignments_project_state_start", "project_id", "state", "start_dt",
                 "deadline_dt", "school_id"),
        sa.Index("ix_assignments_school_state_start", "school_id", "state", "start_dt",
                 "mediator_id", "end_dt"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("mediation_requests.id"), info=NOT_PERSONAL,
    )
    # Copies of the request's project and school (neither changes once a request is
    # filed), set before every insert and kept when the request's change (_copy_request
    # and _logs_to_recopy below): reporting reads an Ambito's or a project's bookings
    # through ix_assignments_school_state_start and ix_assignments_project_state_start
    # without joining the requests.
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id"), info=NOT_PERSONAL)
    school_id: Mapped[int] = mapped_column(sa.ForeignKey("schools.id"), info=NOT_PERSONAL)
    mediator_id: Mapped[int] = mapped_column(
        sa.ForeignKey("mediator_profiles.id"), info=personal(BOOKING),
    )
    state: Mapped[AssignmentState] = mapped_column(
        enum_column(AssignmentState, "assignment_state"),
        info=NOT_PERSONAL,
    )
    start_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, info=NOT_PERSONAL)
    end_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, info=NOT_PERSONAL)
    deadline_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, info=NOT_PERSONAL)
    offered_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id"), info=personal(BOOKING),
    )
    offered_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, info=NOT_PERSONAL)
    responded_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, info=NOT_PERSONAL)
    decline_reason: Mapped[str | None] = mapped_column(sa.Text, info=personal(FREE_TEXT))
    # A time the mediator proposes instead of the offered one.
    proposed_start_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, info=NOT_PERSONAL)
    proposed_note: Mapped[str | None] = mapped_column(sa.Text, info=personal(FREE_TEXT))
    # Why it was cancelled or superseded.
    end_reason: Mapped[str | None] = mapped_column(sa.Text, info=personal(FREE_TEXT))
    # iCalendar SEQUENCE: bumped whenever the appointment changes.
    sequence: Mapped[int] = mapped_column(default=0, info=NOT_PERSONAL)
    # When the reminder the day before, and the request to log the session once it has
    # ended, were queued: each is sent once.
    reminder_sent_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, info=NOT_PERSONAL)
    log_requested_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, info=NOT_PERSONAL)

    request: Mapped[MediationRequest] = relationship(back_populates="assignments")
    mediator: Mapped["MediatorProfile"] = relationship()  # noqa: F821
    offered_by: Mapped["User | None"] = relationship()  # noqa: F821
    session_log: Mapped["SessionLog | None"] = relationship(back_populates="assignment")
    no_show: Mapped["MediatorNoShow | None"] = relationship(back_populates="assignment")


class Outcome(enum.StrEnum):
    held = "held"
    family_absent = "family_absent"
    cancelled_late = "cancelled_late"


class LogState(enum.StrEnum):
    submitted = "submitted"
    approved = "approved"
    returned = "returned"


class SessionLog(db.Model):
    """What happened at a session, counted against a macro-action once approved."""

    __tablename__ = "session_logs"
    __table_args__ = (
        sa.CheckConstraint(
            "actual_start_dt IS NULL OR actual_start_dt < actual_end_dt", name="range_positive"
        ),
        sa.CheckConstraint(
            "pupils_met >= 0 AND parents_met >= 0 AND teachers_met >= 0",
            name="participants_not_negative",
        ),
        # A session counts when it started; a translation (no start) on its deadline.
        sa.CheckConstraint(
            "actual_start_dt IS NULL OR counted_dt = actual_start_dt", name="counted_at_start"
        ),
        sa.CheckConstraint(
            "adjusted_period_id IS NULL OR approved_dt IS NOT NULL", name="adjusted_when_approved"
        ),
        sa.Index("ix_session_logs_start", "actual_start_dt"),
        # Reporting: the approved sessions of a period, region-wide or of some schools (an
        # Ambito's).
        sa.Index("ix_session_logs_state_counted", "state", "counted_dt"),
        sa.Index("ix_session_logs_school_counted", "school_id", "state", "counted_dt"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    assignment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assignments.id"), unique=True, info=NOT_PERSONAL,
    )
    actual_start_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, info=NOT_PERSONAL)
    actual_end_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, info=NOT_PERSONAL)
    pupils_met: Mapped[int] = mapped_column(default=0, info=NOT_PERSONAL)
    parents_met: Mapped[int] = mapped_column(default=0, info=NOT_PERSONAL)
    teachers_met: Mapped[int] = mapped_column(default=0, info=NOT_PERSONAL)
    outcome: Mapped[Outcome] = mapped_column(enum_column(Outcome, "outcome"), info=NOT_PERSONAL)
    summary: Mapped[str | None] = mapped_column(sa.String(1000), info=personal(FREE_TEXT))
    follow_up_needed: Mapped[bool] = mapped_column(default=False, info=NOT_PERSONAL)
    macro_action_id: Mapped[int] = mapped_column(
        sa.ForeignKey("macro_actions.id"), index=True, info=NOT_PERSONAL,
    )
    action_id: Mapped[int | None] = mapped_column(sa.ForeignKey("actions.id"), info=NOT_PERSONAL)
    # Translations: how much was translated and the delivered file.
    pages: Mapped[int | None] = mapped_column(info=NOT_PERSONAL)
    words: Mapped[int | None] = mapped_column(info=NOT_PERSONAL)
    delivered_document_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("documents.id"), info=NOT_PERSONAL,
    )
    state: Mapped[LogState] = mapped_column(
        enum_column(LogState, "log_state"), default=LogState.submitted,
        info=NOT_PERSONAL,
    )
    review_comment: Mapped[str | None] = mapped_column(sa.Text, info=personal(FREE_TEXT))
    approved_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id"), info=personal(BOOKING),
    )
    approved_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, info=NOT_PERSONAL)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, info=NOT_PERSONAL)
    # Copies for reporting, set by copy_counting() whenever the log is written: when the
    # session counts (its start or, for a translation, the assignment's deadline), and what
    # the figures group and filter by from its assignment and request. The dashboard then
    # reads this table alone, through the indexes above, instead of joining assignments
    # and requests for every session. None of the copied values changes once a session
    # is logged (a log belongs to one accepted assignment of one request).
    counted_dt: Mapped[datetime] = mapped_column(UTCDateTime, info=NOT_PERSONAL)
    request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("mediation_requests.id"), info=NOT_PERSONAL,
    )
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id"), info=NOT_PERSONAL)
    school_id: Mapped[int] = mapped_column(sa.ForeignKey("schools.id"), info=NOT_PERSONAL)
    mediator_id: Mapped[int] = mapped_column(
        sa.ForeignKey("mediator_profiles.id"), info=personal(BOOKING),
    )
    type_id: Mapped[int] = mapped_column(sa.ForeignKey("request_types.id"), info=NOT_PERSONAL)
    requester_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id"), info=personal(BOOKING),
    )
    pupil_case_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("pupil_cases.id"), info=personal(PUPIL),
    )
    # What the session costs (models/rates.py), set whenever the log is written and
    # reassigned when a rate or tariff is added for a past day: a session with a start,
    # the mediator's hourly rate valid when it started; a translation, its project's
    # tariff per page valid on its deadline (None: no rate or tariff that day, no cost).
    rate_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("mediator_rates.id"), info=NOT_PERSONAL,
    )
    tariff_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("translation_tariffs.id"), info=NOT_PERSONAL,
    )
    # Approved after its day's period had closed (models/periods.py): the closed period
    # it belongs to. Such a log is an adjustment: it counts when it was approved
    # (approved_dt, in an open period), shown apart, never in its day's figures.
    adjusted_period_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("reporting_periods.id"), index=True, info=NOT_PERSONAL,
    )

    assignment: Mapped[Assignment] = relationship(back_populates="session_log")
    # Many-to-one: a rate or tariff added in the same flush is written before the log
    # that looks it up (_copy_counting).
    rate: Mapped["MediatorRate | None"] = relationship()  # noqa: F821
    tariff: Mapped["TranslationTariff | None"] = relationship()  # noqa: F821
    approved_by: Mapped["User | None"] = relationship(  # noqa: F821
        foreign_keys="SessionLog.approved_by_id")
    macro_action: Mapped["MacroAction"] = relationship()  # noqa: F821
    action: Mapped["Action | None"] = relationship()  # noqa: F821
    delivered_document: Mapped["Document | None"] = relationship()
    attestation: Mapped["SessionAttestation | None"] = relationship(back_populates="log")
    feedback: Mapped[list["SessionFeedback"]] = relationship(back_populates="log")

    def copy_counting(self) -> None:
        """Copy when the session counts and its assignment's and request's reporting
        columns onto the log (called before every flush that writes a log)."""
        assignment = self.assignment
        request = assignment.request
        self.counted_dt = self.actual_start_dt or assignment.deadline_dt
        self.request_id = request.id
        self.project_id = request.project_id
        self.school_id = request.school_id
        self.mediator_id = assignment.mediator_id
        self.type_id = request.type_id
        self.requester_id = request.requester_id
        self.pupil_case_id = request.pupil_case_id


class AttestationOutcome(enum.StrEnum):
    """The school's answer about a logged session (issue #18)."""

    attested = "attested"
    disputed = "disputed"


class SessionAttestation(db.Model):
    """The school's attestation of a logged session: the requesting teacher or a lead of
    the school confirms it happened, or disputes it with a reason. One per log, kept: a
    dispute later confirmed is updated in place, and the audit trail keeps each answer
    (``session.disputed``, ``session.attested``). A log without one is pending."""

    __tablename__ = "session_attestations"

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    session_log_id: Mapped[int] = mapped_column(
        sa.ForeignKey("session_logs.id"), unique=True, info=NOT_PERSONAL,
    )
    outcome: Mapped[AttestationOutcome] = mapped_column(
        enum_column(AttestationOutcome, "attestation_outcome"), info=NOT_PERSONAL,
    )
    # Why the school disputes the session (None once confirmed, or purged).
    reason: Mapped[str | None] = mapped_column(sa.String(1000), info=personal(FREE_TEXT))
    by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), info=personal(BOOKING))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, info=NOT_PERSONAL)

    log: Mapped[SessionLog] = relationship(back_populates="attestation")
    by: Mapped["User"] = relationship()  # noqa: F821


class MediatorNoShow(db.Model):
    """The school's report that the mediator of a confirmed appointment did not come: the
    requesting teacher or a lead of the school, from the meeting's start until
    ``policy.NO_SHOW_WINDOW`` after it, while the session is not logged. One per
    appointment, kept; the request stays confirmed (the coordinator decides: cancel,
    reassign, or approve a log the mediator writes after all, seeing the report beside
    it). Counted per mediator on the coordinator's list of mediators."""

    __tablename__ = "mediator_no_shows"

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    assignment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assignments.id"), unique=True, info=NOT_PERSONAL,
    )
    request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("mediation_requests.id"), index=True, info=NOT_PERSONAL,
    )
    mediator_id: Mapped[int] = mapped_column(
        sa.ForeignKey("mediator_profiles.id"), index=True, info=personal(BOOKING),
    )
    reported_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"),
                                                info=personal(BOOKING))
    reported_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow,
                                                  info=NOT_PERSONAL)
    # What the school adds (optional; blanked by the retention purge).
    note: Mapped[str | None] = mapped_column(sa.String(1000), info=personal(FREE_TEXT))

    assignment: Mapped[Assignment] = relationship(back_populates="no_show")
    reported_by: Mapped["User"] = relationship()  # noqa: F821


class FeedbackSide(enum.StrEnum):
    """Who answers the question after a held session: the school that asked (was the
    mediation useful?) or the mediator who held it (how was the organisation?)."""

    school = "school"
    mediator = "mediator"


class SessionFeedback(db.Model):
    """One short answer after a held session (issue #19, Designers Italia's rating
    pattern): a rating from 1 to 5 and an optional comment, at most one per log and side.
    The school's rating (4 or 5: "useful") is the result indicator the funder asks for;
    the comment is free text, cleared by the retention purge like the others."""

    __tablename__ = "session_feedback"
    __table_args__ = (
        sa.UniqueConstraint("session_log_id", "side", name="uq_session_feedback_log_side"),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    session_log_id: Mapped[int] = mapped_column(
        sa.ForeignKey("session_logs.id"), info=NOT_PERSONAL,
    )
    side: Mapped[FeedbackSide] = mapped_column(
        enum_column(FeedbackSide, "feedback_side"), info=NOT_PERSONAL,
    )
    rating: Mapped[int] = mapped_column(sa.SmallInteger, info=NOT_PERSONAL)
    # What else they want to say (None when not given, or purged).
    comment: Mapped[str | None] = mapped_column(sa.String(500), info=personal(FREE_TEXT))
    by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), info=personal(BOOKING))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, info=NOT_PERSONAL)

    log: Mapped[SessionLog] = relationship(back_populates="feedback")
    by: Mapped["User"] = relationship()  # noqa: F821


#: What a log copies from its assignment and its request (SessionLog.copy_counting).
_COPIED = {
    "Assignment": ("deadline_dt", "mediator_id", "request_id", "mediator", "request"),
    "MediationRequest": ("project_id", "school_id", "type_id", "requester_id",
                         "pupil_case_id", "project", "school", "type", "requester",
                         "pupil_case"),
}


@sa.event.listens_for(sa.orm.Session, "before_flush")
def _logs_to_recopy(session, _context, _instances) -> None:
    """Recopy onto the logs what their assignment or request changed, and a request's
    project and school onto its assignments, so that the flush updates them (an id not
    known yet is set again by _copy_counting and _copy_request)."""
    with session.no_autoflush:
        for obj in session.dirty:
            copied = _COPIED.get(type(obj).__name__)
            if copied is None:
                continue
            state = sa.inspect(obj)
            if not any(state.attrs[name].history.has_changes() for name in copied):
                continue
            assignments = [obj] if isinstance(obj, Assignment) else obj.assignments
            for assignment in assignments:
                if isinstance(obj, MediationRequest):
                    # The new project's or school's id may not be known before the flush:
                    # flag the assignment, and _copy_request copies them once the request
                    # is written.
                    sa.orm.attributes.flag_modified(assignment, "project_id")
                log = assignment.session_log
                if log is not None and log not in session.deleted:
                    log.copy_counting()


@sa.event.listens_for(Assignment, "before_insert")
@sa.event.listens_for(Assignment, "before_update")
def _copy_request(_mapper, _connection, assignment: Assignment) -> None:
    """Copy the request's project and school onto a new assignment, or one
    _logs_to_recopy flagged, whoever writes it (its request is flushed before it, so
    they are known)."""
    state = sa.inspect(assignment)
    if state.key is None or state.attrs.project_id.history.has_changes():
        assignment.project_id = assignment.request.project_id
        assignment.school_id = assignment.request.school_id


@sa.event.listens_for(SessionLog, "before_insert")
@sa.event.listens_for(SessionLog, "before_update")
def _copy_counting(_mapper, connection, log: SessionLog) -> None:
    """Keep a log's reporting copies right whoever writes it (the operations, the demo,
    the tests' builders): its assignment and request are flushed before it, so their
    ids are known. The database checks the result (NOT NULL, counted_at_start).

    Then the rate or tariff valid when it counts (one query: a log is written one at a
    time; bulk loads set them in SQL, as ``rates.reassign_rates`` does)."""
    from .rates import rate_valid_at, tariff_valid_at

    log.copy_counting()
    when = sa.literal(log.counted_dt, UTCDateTime())
    if log.actual_start_dt is not None:
        log.rate_id = connection.scalar(sa.select(rate_valid_at(log.mediator_id, when)))
        log.tariff_id = None
    else:
        log.rate_id = None
        log.tariff_id = connection.scalar(sa.select(tariff_valid_at(log.project_id, when)))


class DocumentKind(enum.StrEnum):
    source = "source"
    translation = "translation"


class Document(db.Model):
    """An uploaded file, stored outside ``static/`` under a random name."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("mediation_requests.id"), index=True, info=NOT_PERSONAL,
    )
    kind: Mapped[DocumentKind] = mapped_column(
        enum_column(DocumentKind, "document_kind"), info=NOT_PERSONAL,
    )
    # None once the retention purge has deleted the file (``purged_dt`` says when).
    storage_name: Mapped[str | None] = mapped_column(
        sa.String(64), unique=True, info=personal(DOCUMENT),
    )
    original_name: Mapped[str | None] = mapped_column(sa.String(255), info=personal(DOCUMENT))
    content_type: Mapped[str | None] = mapped_column(sa.String(100), info=NOT_PERSONAL)
    size_bytes: Mapped[int] = mapped_column(info=NOT_PERSONAL)
    sha256: Mapped[str | None] = mapped_column(sa.String(64), info=NOT_PERSONAL)
    uploaded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id"), info=personal(BOOKING),
    )
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, info=NOT_PERSONAL)
    purged_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, info=NOT_PERSONAL)

    request: Mapped[MediationRequest] = relationship()
