"""mediation/labels.py: every value of an enum has its label, and templates see them all."""

import pytest
from flask_babel import force_locale

from mediation import labels
from mediation.bookings.operations import CANCELLATION_REASONS
from mediation.models import (
    AssignmentState,
    Cycle,
    Direction,
    DocumentKind,
    LanguageLevel,
    LogState,
    Mode,
    Outcome,
    PupilStatus,
    RequestState,
    Role,
    Urgency,
)

#: The dicts that name every value of their enum.
COMPLETE = [
    (labels.ROLE_LABELS, Role),
    (labels.LANGUAGE_LEVEL_LABELS, LanguageLevel),
    (labels.LANGUAGE_LEVEL_SHORT_LABELS, LanguageLevel),
    (labels.CYCLE_LABELS, Cycle),
    (labels.PUPIL_STATUS_LABELS, PupilStatus),
    (labels.REQUEST_STATE_LABELS, RequestState),
    (labels.REQUEST_STATE_HINTS, RequestState),
    (labels.MODE_LABELS, Mode),
    (labels.URGENCY_LABELS, Urgency),
    (labels.DIRECTION_LABELS, Direction),
    (labels.DIRECTION_SHORT_LABELS, Direction),
    (labels.DOCUMENT_KIND_LABELS, DocumentKind),
    (labels.ASSIGNMENT_STATE_LABELS, AssignmentState),
    (labels.ASSIGNMENT_TIME_LABELS, AssignmentState),
    (labels.OUTCOME_LABELS, Outcome),
    (labels.LOG_STATE_LABELS, LogState),
]


@pytest.mark.parametrize(("names", "enum"), COMPLETE,
                         ids=[f"{enum.__name__}-{i}" for i, (_names, enum) in enumerate(COMPLETE)])
def test_every_value_has_a_label(names, enum):
    assert set(names) == set(enum)


def test_the_codes_a_cancellation_accepts_are_the_labelled_ones():
    assert set(CANCELLATION_REASONS) == set(labels.CANCELLATION_REASON_LABELS)


def test_templates_see_every_label(app):
    public = {name for name in vars(labels)
              if name.endswith(("_LABELS", "_HINTS", "_label", "_hint"))}
    assert public == set(labels.TEMPLATE_GLOBALS)
    for name, value in labels.TEMPLATE_GLOBALS.items():
        assert app.jinja_env.globals[name] is value


def test_a_label_follows_the_locale(app):
    with app.test_request_context():
        with force_locale("it"):
            assert labels.request_state_label(RequestState.open) == "Aperta"
            assert labels.cycle_label(Cycle.primaria) == "Scuola primaria"
        with force_locale("en"):
            assert labels.request_state_label(RequestState.open) == "Open"
            assert labels.assignment_state_label(AssignmentState.accepted) == "Confirmed"
            assert labels.assignment_state_label(AssignmentState.declined) == "declined"
