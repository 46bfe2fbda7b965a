"""What each value of an enum is called on the pages, in the forms and in the exports.

The one home of these labels: a view, a form, an export or a template takes them from
here (templates get every dict and function below as a template global, registered in
:mod:`mediation.templating`), never spells them again. Where the same values are named in
two wordings (a short one for a badge or a column, a sentence for a page), both are here,
as two dicts, each saying where it is used.

The labels are lazy (``lazy_gettext``): translated when they are shown, in the locale of
that moment (an export forces its own). Codes that are a rule of an operation (the
cancellation reasons) are checked by the operation: it takes the set of codes from the
keys of their labels here, so that the two cannot drift apart.
"""

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from .models import (
    AssignmentState,
    AttestationOutcome,
    Cycle,
    Direction,
    DocumentKind,
    FamilyAnswer,
    LanguageLevel,
    LogState,
    Mode,
    OutboxState,
    Outcome,
    PupilStatus,
    RequestState,
    Role,
    Urgency,
)

# --- people ---------------------------------------------------------------------------

#: A user's role: the header, the account page, a school's staff.
ROLE_LABELS = {
    Role.teacher: _l("Teacher"),
    Role.lead: _l("Intercultural lead"),
    Role.mediator: _l("Mediator"),
    Role.coordinator: _l("Ambito coordinator"),
    Role.admin: _l("Regional administrator"),
}

#: A mediator's level in a language, as a sentence: the profile form, the mediators' list.
LANGUAGE_LEVEL_LABELS = {
    LanguageLevel.native: _l("Native speaker"),
    LanguageLevel.c2: _l("C2 (proficient)"),
    LanguageLevel.c1: _l("C1 (advanced)"),
    LanguageLevel.b2: _l("B2 (upper intermediate)"),
}

#: The same level, short, beside each language of a candidate on the offer page.
LANGUAGE_LEVEL_SHORT_LABELS = {
    LanguageLevel.native: _l("native"),
    LanguageLevel.c2: "C2",
    LanguageLevel.c1: "C1",
    LanguageLevel.b2: "B2",
}

# --- schools and pupils -----------------------------------------------------------------

#: A school cycle: a school's cycles, a pupil case, the beneficiaries export.
CYCLE_LABELS = {
    Cycle.infanzia: _l("Pre-school"),
    Cycle.primaria: _l("Primary school"),
    Cycle.secondaria_1: _l("Lower secondary school"),
    Cycle.secondaria_2: _l("Upper secondary school"),
}


def cycle_label(cycle: Cycle) -> str:
    """The ``cycle_label`` template filter."""
    return str(CYCLE_LABELS[cycle])


#: A pupil's status in a school year: the case pages and their filter.
PUPIL_STATUS_LABELS = {
    PupilStatus.attending: _l("Attending"),
    PupilStatus.moved_to_next_cycle: _l("Moved to the next cycle"),
    PupilStatus.at_risk: _l("At risk"),
    PupilStatus.left_school: _l("Left school"),
}

#: The yes/no risk indicators of a pupil case (named by the case's column), on its page.
RISK_INDICATOR_LABELS = {
    "high_absences": _l("Many absences"),
    "repeated_year": _l("Has repeated a year"),
    "late_enrolment": _l("Enrolled late (in a class below their age)"),
}

# --- requests ---------------------------------------------------------------------------

#: Built once: translating all nine labels to return one cost ~0.3 ms a call, and pages
#: such as the dashboard and the queue call this for every row.
REQUEST_STATE_LABELS = {
    RequestState.awaiting_approval: lazy_pgettext("request state", "Awaiting approval"),
    RequestState.open: lazy_pgettext("request state", "Open"),
    RequestState.offered: lazy_pgettext("request state", "Offered"),
    RequestState.confirmed: lazy_pgettext("request state", "Confirmed"),
    RequestState.logged: lazy_pgettext("request state", "Logged"),
    RequestState.closed: lazy_pgettext("request state", "Closed"),
    RequestState.rejected: lazy_pgettext("request state", "Rejected"),
    RequestState.cancelled: lazy_pgettext("request state", "Cancelled"),
    RequestState.unfilled: lazy_pgettext("request state", "Unfilled"),
}


def request_state_label(state: RequestState) -> str:
    return str(REQUEST_STATE_LABELS[state])


#: What each state means, in words a teacher understands, shown beside the state's name.
REQUEST_STATE_HINTS = {
    RequestState.awaiting_approval: _l(
        "The school's intercultural lead must approve it before it goes to the coordinator."),
    RequestState.open: _l("The coordinator of the Ambito is looking for a mediator."),
    RequestState.offered: _l("Offered to a mediator, who has not answered yet."),
    RequestState.confirmed: _l("A mediator has accepted: the appointment is fixed."),
    RequestState.logged: _l(
        "The mediator has recorded the session (or delivered the translation);"
        " the coordinator is checking the record."),
    RequestState.closed: _l("Done: the coordinator has approved the mediator's record."),
    RequestState.rejected: _l("The school's intercultural lead did not approve it."),
    RequestState.cancelled: _l("Cancelled: nothing will take place."),
    RequestState.unfilled: _l("No mediator could be found; the request is closed."),
}


def request_state_hint(state: RequestState) -> str:
    return str(REQUEST_STATE_HINTS[state])


#: How a meeting takes place: the request form and page, the agenda, the calendar
#: invitation's location, the sessions export.
MODE_LABELS = {
    Mode.in_person: _l("In person"),
    Mode.phone: _l("By phone"),
    Mode.video: _l("By video call"),
}

#: The request form and page.
URGENCY_LABELS = {Urgency.normal: _l("Normal"), Urgency.urgent: _l("Urgent")}

#: A translation's direction, as a sentence: the request form and page.
DIRECTION_LABELS = {
    Direction.from_italian: _l("From Italian into the family's language"),
    Direction.to_italian: _l("From the family's language into Italian"),
}

#: The same direction, short, on an assignment's card in the mediator's agenda.
DIRECTION_SHORT_LABELS = {
    Direction.from_italian: _l("from Italian"),
    Direction.to_italian: _l("into Italian"),
}

#: Why a request was cancelled: the cancel forms, the request page and its history. The
#: keys are the codes ``operations.cancel_request`` accepts
#: (:data:`mediation.bookings.operations.CANCELLATION_REASONS`).
CANCELLATION_REASON_LABELS = {
    "family_unavailable": _l("The family cannot come"),
    "no_longer_needed": _l("No longer needed"),
    "school_event": _l("A school event overlaps"),
    "pupil_moved": _l("The pupil moved to another school"),
    "duplicate": _l("Duplicate request"),
    "no_mediator": _l("No mediator available"),
    "other": _l("Other reason"),
}

#: What each audit action means, as the request's history shows it.
EVENT_LABELS = {
    "request.submitted": _l("Request sent"),
    "request.approved": _l("Approved by the school lead"),
    "request.rejected": _l("Rejected by the school lead"),
    "request.cancelled": _l("Request cancelled"),
    "request.unfilled": _l("Closed: no mediator could be found"),
    "request.moved": _l("Week moved to another time"),
    "assignment.offered": _l("Offered to a mediator"),
    "assignment.accepted": _l("Accepted by the mediator"),
    "assignment.declined": _l("Declined by the mediator"),
    "assignment.superseded": _l("Withdrawn from the mediator (reassigned)"),
    "session.logged": _l("Session logged by the mediator"),
    "session.approved": _l("Session log approved"),
    "session.returned": _l("Session log returned for corrections"),
    "session.attested": _l("Session confirmed by the school"),
    "family.answered": _l("The family answered the invitation letter"),
    "session.disputed": _l("Session disputed by the school"),
    "session.feedback": _l("Feedback given on the session"),
    "document.uploaded": _l("Document uploaded"),
    "time.proposed": _l("Another time proposed to the school"),
    "time.accepted": _l("Proposed time accepted by the school"),
    "time.declined": _l("Proposed time declined by the school"),
    "broadcast.sent": _l("Offered to several mediators at once"),
    "broadcast.tier_sent": _l("Offered to more mediators (nobody had accepted)"),
    "broadcast.withdrawn": _l("Offer to several mediators withdrawn"),
    "broadcast.declined": _l("A mediator declined the offer to several mediators"),
    "request.no_show_reported": _l("The school reported that the mediator did not come"),
}

#: A request's document, in its history.
DOCUMENT_KIND_LABELS = {
    DocumentKind.source: _l("document to translate"),
    DocumentKind.translation: _l("translation"),
}

# --- assignments and sessions -----------------------------------------------------------

#: An assignment's state, on the request page (its mediators and their answers).
ASSIGNMENT_STATE_LABELS = {
    AssignmentState.offered: _l("Offered, waiting for an answer"),
    AssignmentState.accepted: _l("Accepted"),
    AssignmentState.declined: _l("Declined"),
    AssignmentState.cancelled: _l("Cancelled"),
    AssignmentState.superseded: _l("Reassigned"),
}

#: What an assignment's time is, by its state, in the emails ("Label: time"): the
#: appointment, a time offered, or what was planned before it was cancelled or reassigned.
ASSIGNMENT_TIME_LABELS = {
    AssignmentState.accepted: _l("Appointment"),
    AssignmentState.offered: _l("Time offered"),
    AssignmentState.declined: _l("Time offered"),
    AssignmentState.cancelled: _l("Was planned for"),
    AssignmentState.superseded: _l("Was planned for"),
}

#: The states a block of the mediators' week and calendar shows, with their legend; any
#: other state shows as its code (:func:`assignment_state_label`).
CALENDAR_ASSIGNMENT_STATE_LABELS = {
    AssignmentState.accepted: lazy_pgettext("assignment state", "Confirmed"),
    AssignmentState.offered: lazy_pgettext("assignment state", "Offered, awaiting answer"),
}


def assignment_state_label(state: AssignmentState) -> str:
    """An assignment's state on the mediators' week, calendar and absences pages."""
    label = CALENDAR_ASSIGNMENT_STATE_LABELS.get(state)
    return str(label) if label is not None else AssignmentState(state).value


#: How a session went: the session log (request page, coordinator's review, pupil case)
#: and the sessions export.
OUTCOME_LABELS = {
    Outcome.held: _l("Held"),
    Outcome.family_absent: _l("The family did not come"),
    Outcome.cancelled_late: _l("Cancelled at the last minute"),
}

#: A session log's state, on the request page.
LOG_STATE_LABELS = {
    LogState.submitted: _l("Waiting for the coordinator's approval"),
    LogState.approved: _l("Approved"),
    LogState.returned: _l("Returned to the mediator for corrections"),
}

#: The school's attestation of a logged session (None: no answer yet), in the sessions
#: export and the dashboard.
ATTESTATION_LABELS = {
    AttestationOutcome.attested: _l("Attested"),
    AttestationOutcome.disputed: _l("Disputed"),
    None: _l("Pending"),
}

#: The ratings of the feedback after a held session (issue #19), 1 to 5, each with its
#: words (the rating widget's labels: a number alone says nothing to a screen reader).
RATING_LABELS = {
    1: _l("1 – not at all"),
    2: _l("2 – a little"),
    3: _l("3 – fairly"),
    4: _l("4 – very"),
    5: _l("5 – extremely"),
}

# --- emails -----------------------------------------------------------------------------

#: The states the email outbox page lists (its filter chips and table).
OUTBOX_STATE_LABELS = {
    OutboxState.pending: _l("Waiting to be sent"),
    OutboxState.dead: _l("Not delivered"),
}


#: The family's answer to the invitation letter's link (issue #19), for the school and the
#: coordinator.
FAMILY_ANSWER_LABELS = {
    FamilyAnswer.coming: _l("the family will come"),
    FamilyAnswer.not_coming: _l("the family cannot come"),
    FamilyAnswer.another_day: _l("the family needs another day"),
}

#: What templates see, by the same names (registered by :mod:`mediation.templating`).
TEMPLATE_GLOBALS = {
    "ROLE_LABELS": ROLE_LABELS,
    "LANGUAGE_LEVEL_LABELS": LANGUAGE_LEVEL_LABELS,
    "LANGUAGE_LEVEL_SHORT_LABELS": LANGUAGE_LEVEL_SHORT_LABELS,
    "CYCLE_LABELS": CYCLE_LABELS,
    "PUPIL_STATUS_LABELS": PUPIL_STATUS_LABELS,
    "RISK_INDICATOR_LABELS": RISK_INDICATOR_LABELS,
    "REQUEST_STATE_LABELS": REQUEST_STATE_LABELS,
    "REQUEST_STATE_HINTS": REQUEST_STATE_HINTS,
    "MODE_LABELS": MODE_LABELS,
    "URGENCY_LABELS": URGENCY_LABELS,
    "FAMILY_ANSWER_LABELS": FAMILY_ANSWER_LABELS,
    "DIRECTION_LABELS": DIRECTION_LABELS,
    "DIRECTION_SHORT_LABELS": DIRECTION_SHORT_LABELS,
    "CANCELLATION_REASON_LABELS": CANCELLATION_REASON_LABELS,
    "EVENT_LABELS": EVENT_LABELS,
    "DOCUMENT_KIND_LABELS": DOCUMENT_KIND_LABELS,
    "ASSIGNMENT_STATE_LABELS": ASSIGNMENT_STATE_LABELS,
    "ASSIGNMENT_TIME_LABELS": ASSIGNMENT_TIME_LABELS,
    "CALENDAR_ASSIGNMENT_STATE_LABELS": CALENDAR_ASSIGNMENT_STATE_LABELS,
    "OUTCOME_LABELS": OUTCOME_LABELS,
    "LOG_STATE_LABELS": LOG_STATE_LABELS,
    "ATTESTATION_LABELS": ATTESTATION_LABELS,
    "RATING_LABELS": RATING_LABELS,
    "OUTBOX_STATE_LABELS": OUTBOX_STATE_LABELS,
    "cycle_label": cycle_label,
    "request_state_label": request_state_label,
    "request_state_hint": request_state_hint,
    "assignment_state_label": assignment_state_label,
}
