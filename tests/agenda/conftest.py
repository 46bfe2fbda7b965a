"""The agenda tests' world: one school, its people, a mediator and a pupil case with
risk indicators (tests/scenarios/agenda.py)."""

from tests.scenarios.agenda import world  # noqa: F401  (a fixture)
