"""The cases tests' world: pupil pathways over four school years (tests/scenarios/pathways.py)."""

from tests.scenarios.pathways import world  # noqa: F401  (a fixture)
