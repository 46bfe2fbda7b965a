"""The data model (docs/design.md, "What it stores"), one module per group of tables."""

from . import (
    constraints,  # noqa: F401  (registers the overlap rule's DDL)
    derived,  # noqa: F401  (registers the first-offer trigger)
)
from .audit import AuditEvent, OutboxMessage, OutboxState
from .bookings import (
    ACTIVE_ASSIGNMENT_STATES,
    Assignment,
    AssignmentState,
    AttestationOutcome,
    Direction,
    Document,
    DocumentKind,
    FeedbackSide,
    LogState,
    MediationRequest,
    MediatorNoShow,
    Mode,
    Outcome,
    PreferredSlot,
    ProposalState,
    RequestSeries,
    RequestState,
    SessionAttestation,
    SessionFeedback,
    SessionLog,
    TimeProposal,
    Urgency,
)
from .broadcasts import BroadcastInvitation, BroadcastState, InvitationState, OfferBroadcast
from .cases import ItalianLevel, PupilCase, PupilCaseStatus, PupilStatus
from .catalog import Language, RequestKind, RequestType, with_varieties
from .family import NEEDS_ACTION, FamilyAnswer, FamilyInvitation
from .geo import Ambito, Cycle, School, SchoolCycle, Site
from .people import (
    SCHOOL_ROLES,
    Absence,
    AvailabilityRange,
    LanguageLevel,
    MediatorLanguage,
    MediatorMunicipality,
    MediatorProfile,
    Role,
    User,
    mediator_ambiti,
)
from .periods import PeriodFile, ReportingPeriod
from .project import (
    Action,
    BudgetLine,
    Closure,
    MacroAction,
    PlannedHours,
    Project,
    ProjectExtension,
    SchoolYear,
)
from .rates import MediatorRate, TranslationTariff
from .sessions import UserSession
from .totals import ApprovedSessionTotal
from .types import UTCDateTime, utcnow

__all__ = [
    "ACTIVE_ASSIGNMENT_STATES", "Absence", "Action", "Ambito", "ApprovedSessionTotal",
    "Assignment", "AssignmentState", "AttestationOutcome", "BroadcastInvitation",
    "BroadcastState", "InvitationState", "OfferBroadcast",
    "AuditEvent", "AvailabilityRange", "BudgetLine", "Closure", "Cycle", "Direction",
    "FamilyAnswer", "FamilyInvitation", "NEEDS_ACTION", "FeedbackSide", "SessionFeedback",
    "Document", "DocumentKind", "ItalianLevel", "Language", "LanguageLevel", "LogState",
    "MacroAction", "MediationRequest", "MediatorLanguage", "MediatorMunicipality",
    "MediatorNoShow", "MediatorProfile", "MediatorRate", "PeriodFile", "ReportingPeriod", "Mode",
    "OutboxMessage", "OutboxState", "Outcome", "PlannedHours", "PreferredSlot", "Project",
    "ProposalState",
    "ProjectExtension", "PupilCase", "PupilCaseStatus", "PupilStatus", "RequestKind",
    "RequestSeries",
    "RequestState", "RequestType", "Role", "SCHOOL_ROLES", "School", "SchoolCycle",
    "SchoolYear", "SessionAttestation", "SessionLog", "Site", "TimeProposal",
    "TranslationTariff", "Urgency",
    "User", "UserSession",
    "UTCDateTime",
    "mediator_ambiti",
    "utcnow", "with_varieties",
]
