"""The requests tests' world: a school filing requests (tests/scenarios/filing.py)."""

from tests.scenarios.filing import world  # noqa: F401  (a fixture)
