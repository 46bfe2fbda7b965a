"""The coordination tests' world: an Ambito, its coordinator, a project with two
macro-actions and request types (tests/scenarios/coordination.py)."""

from tests.scenarios.coordination import world  # noqa: F401  (a fixture)
