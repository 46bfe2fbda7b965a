"""A request's first offer, kept by the database.

Reporting shows the time from filing a request to its first offer to a mediator. Read
from the assignments, that is a join of every request of the period with all its
assignments (245,000 requests a year for the region). ``mediation_requests
.first_offered_dt`` holds the earliest ``offered_dt`` of the request's assignments: a
trigger sets it on every new assignment, whoever writes it (operations, the demo, tests,
bulk loads, psql), in the same transaction. An assignment's ``offered_dt`` never changes
and assignments are never deleted, so inserts are all it needs to follow.

The same statements are in the migration that adds the column; ``create_all`` (tests, the
benchmark) runs them through the ``after_create`` hook below.
"""

import sqlalchemy as sa

from ..extensions import db

_SET_FIRST_OFFER = """
        UPDATE mediation_requests SET first_offered_dt = NEW.offered_dt
        WHERE id = NEW.request_id
          AND (first_offered_dt IS NULL OR first_offered_dt > NEW.offered_dt);"""

POSTGRESQL_DDL = [
    f"""CREATE FUNCTION assignments_first_offer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN{_SET_FIRST_OFFER}
        RETURN NULL;
END
$$""",
    """CREATE TRIGGER assignments_first_offer AFTER INSERT ON assignments
    FOR EACH ROW EXECUTE FUNCTION assignments_first_offer()""",
]

SQLITE_DDL = [
    f"""CREATE TRIGGER assignments_first_offer AFTER INSERT ON assignments
    BEGIN{_SET_FIRST_OFFER}
    END""",
]

#: Recompute every request's first offer from its assignments (the migration's backfill).
BACKFILL = """UPDATE mediation_requests SET first_offered_dt = (
    SELECT min(a.offered_dt) FROM assignments AS a WHERE a.request_id = mediation_requests.id)"""


@sa.event.listens_for(db.metadata, "after_create")
def _create_triggers(_metadata, connection, tables=None, **_kw) -> None:
    """After ``create_all``: the trigger on assignments (both tables exist by then)."""
    names = {table.name for table in tables} if tables is not None else None
    if names is not None and not {"assignments", "mediation_requests"} <= names:
        return
    ddl = {"postgresql": POSTGRESQL_DDL, "sqlite": SQLITE_DDL}.get(connection.dialect.name, [])
    for statement in ddl:
        connection.exec_driver_sql(statement)
