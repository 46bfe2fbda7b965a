"""The home pages' world is the coordinator's (tests/scenarios/coordination.py)."""

from tests.scenarios.coordination import world  # noqa: F401  (a fixture)
