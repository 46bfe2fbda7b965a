"""Rule 1 of docs/design.md in the database: a mediator's active assignments never overlap.

PostgreSQL enforces it with an exclusion constraint; SQLite, which has none, with
triggers (writes run in ``BEGIN IMMEDIATE`` transactions, see ``mediation.db``),
so two writers cannot both pass the check. Both treat ranges as half-open, so
back-to-back slots are allowed. Translations (no time range) take no part.

The same statements are in the initial migration; tests build the schema with
``create_all``, which runs these through the ``after_create`` hook.
"""

import sqlalchemy as sa

from .bookings import Assignment

#: The name the application looks for when turning a violation into a message.
OVERLAP_CONSTRAINT = "ex_assignments_mediator_no_overlap"

POSTGRESQL_DDL = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    f"""ALTER TABLE assignments ADD CONSTRAINT {OVERLAP_CONSTRAINT}
    EXCLUDE USING gist (mediator_id WITH =, tstzrange(start_dt, end_dt, '[)') WITH &&)
    WHERE (state IN ('offered', 'accepted') AND start_dt IS NOT NULL)""",
]

_SQLITE_CHECK = f"""
    WHEN NEW.state IN ('offered', 'accepted') AND NEW.start_dt IS NOT NULL
    BEGIN
        SELECT RAISE(ABORT, '{OVERLAP_CONSTRAINT}')
        WHERE EXISTS (
            SELECT 1 FROM assignments AS a
            WHERE a.mediator_id = NEW.mediator_id
              AND a.id IS NOT NEW.id
              AND a.state IN ('offered', 'accepted')
              AND a.start_dt IS NOT NULL
              AND a.start_dt < NEW.end_dt
              AND NEW.start_dt < a.end_dt
        );
    END"""

SQLITE_DDL = [
    f"CREATE TRIGGER assignments_no_overlap_insert BEFORE INSERT ON assignments{_SQLITE_CHECK}",
    "CREATE TRIGGER assignments_no_overlap_update"
    f" BEFORE UPDATE OF mediator_id, state, start_dt, end_dt ON assignments{_SQLITE_CHECK}",
]

for _statement in POSTGRESQL_DDL:
    sa.event.listen(
        Assignment.__table__,
        "after_create",
        sa.DDL(_statement).execute_if(dialect="postgresql"),
    )
for _statement in SQLITE_DDL:
    sa.event.listen(
        Assignment.__table__,
        "after_create",
        sa.DDL(_statement).execute_if(dialect="sqlite"),
    )


def is_overlap_violation(error: Exception) -> bool:
    """Tell whether a database error is the overlap rule refusing a write."""
    return OVERLAP_CONSTRAINT in str(getattr(error, "orig", error))
