"""The dashboard's families' confirmations (issue #19) on the reporting dataset
(tests/scenarios/reporting_data.py), with the answers set below and every figure counted
by hand.

Q1's approved meetings (sessions with a start; S5 is a translation, S7 is in April):

====  ======  =======================  ==============  =============
log   school  family's answer          outcome         counts as
====  ======  =======================  ==============  =============
S1    A1      coming                   held            confirmed
S2    A1      coming                   family_absent   confirmed, not held
S3    A2      not_coming               family_absent   unconfirmed, not held
S4    A2      link printed, no answer  held            unconfirmed
S6    A1      no link                  cancelled_late  unconfirmed, not held
S8    B1      coming                   held            confirmed (Beta: admin only)
====  ======  =======================  ==============  =============

Alpha's coordinator: 5 meetings, 4 letters with a link, 3 answers, 2 confirmed (share
2/5); confirmed 1 not held of 2 (1/2), unconfirmed 2 not held of 3 (2/3).
The admin: 6 meetings, 5 letters, 4 answers, 3 confirmed (1/2); confirmed 1 of 3 (1/3),
unconfirmed 2 of 3 (2/3).
"""

import secrets
from datetime import timedelta
from decimal import Decimal as D

import pytest

from mediation.extensions import db
from mediation.models import FamilyAnswer, FamilyInvitation, Outcome
from mediation.reporting import aggregates
from mediation.reporting.filters import ReportFilter

from tests.conftest import login
from tests.scenarios import reporting_data
from tests.scenarios.reporting_data import Q1, TODAY

ANSWERS = {"S1": FamilyAnswer.coming, "S2": FamilyAnswer.coming,
           "S3": FamilyAnswer.not_coming, "S4": None, "S8": FamilyAnswer.coming}
OUTCOMES = {"S2": Outcome.family_absent, "S3": Outcome.family_absent,
            "S6": Outcome.cancelled_late}


@pytest.fixture
def data(factory):
    data = reporting_data.build(factory)
    for name, outcome in OUTCOMES.items():
        data.logs[name].outcome = outcome
    for name, value in ANSWERS.items():
        log = data.logs[name]
        db.session.add(FamilyInvitation(
            assignment=log.assignment, request=log.assignment.request,
            nonce=secrets.token_hex(16), token_hash=secrets.token_hex(32), answer=value,
            answered_at=None if value is None else log.actual_start_dt - timedelta(days=1)))
    db.session.commit()
    return data


def period() -> ReportFilter:
    return ReportFilter(start=Q1[0], end=Q1[1])


def test_confirmations_for_the_coordinator(data):
    assert aggregates.family_confirmations(period(), data.coordinator) == {
        "meetings": 5, "letters": 4, "answers": 3, "confirmed": 2, "share": D(2) / 5,
        "confirmed_rate": {"sessions": 2, "not_held": 1, "rate": D(1) / 2},
        "unconfirmed_rate": {"sessions": 3, "not_held": 2, "rate": D(2) / 3},
    }


def test_confirmations_for_the_admin_and_another_ambito(data):
    figures = aggregates.dashboard(period(), data.admin, today=TODAY)["family_confirmations"]
    assert (figures["meetings"], figures["letters"], figures["answers"],
            figures["confirmed"], figures["share"]) == (6, 5, 4, 3, D(1) / 2)
    assert figures["confirmed_rate"] == {"sessions": 3, "not_held": 1, "rate": D(1) / 3}
    assert figures["unconfirmed_rate"] == {"sessions": 3, "not_held": 2, "rate": D(2) / 3}
    beta = aggregates.family_confirmations(period(), data.coordinator_beta)
    assert (beta["meetings"], beta["confirmed"], beta["unconfirmed_rate"]["rate"]) == (
        1, 1, None)


def test_the_dashboard_shows_them(client, data):
    login(client, data.coordinator)
    page = client.get("/reporting/?start=2025-01-01&end=2025-03-31").get_data(as_text=True)
    assert 'data-total="family-answers" data-value="3"' in page
    assert 'data-total="family-confirmed" data-value="2"' in page
    assert f'data-total="no-show-confirmed" data-value="{D(1) / 2}"' in page
    assert f'data-total="no-show-unconfirmed" data-value="{D(2) / 3}"' in page
    assert "Conferme delle famiglie" in page
