"""Running totals of the approved sessions, kept by the database.

The dashboard shows two figures over every date: the hours used against the plan
(``aggregates.hours_vs_planned``) and the budget spent to date (``aggregates.budget``,
every Ambito). Read from the logs, they cost a scan of a project's whole history on every
page view. ``approved_session_totals`` holds, per project, macro-action, school and
mediator, how many approved sessions there are and their seconds (actual end − actual
start; 0 for a translation). Triggers on ``session_logs`` keep it right on every insert,
update and delete of a log, whoever writes it (operations, the demo, tests, bulk loads,
psql), in the same transaction. Cost is not stored: it is seconds × the mediator's hourly
cost today, applied when reading.

The same statements are in the migration that adds the table; ``create_all`` (tests, the
benchmark) runs them through the ``after_create`` hook below.
"""

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .privacy import BOOKING, NOT_PERSONAL, personal


class ApprovedSessionTotal(db.Model):
    """Approved sessions and their seconds per project, macro-action, school, mediator."""

    __tablename__ = "approved_session_totals"

    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id"), primary_key=True,
                                            info=NOT_PERSONAL)
    macro_action_id: Mapped[int] = mapped_column(sa.ForeignKey("macro_actions.id"),
                                                 primary_key=True, info=NOT_PERSONAL)
    school_id: Mapped[int] = mapped_column(sa.ForeignKey("schools.id"), primary_key=True,
                                           info=NOT_PERSONAL)
    # The hours a mediator worked (personal as the bookings it adds up).
    mediator_id: Mapped[int] = mapped_column(sa.ForeignKey("mediator_profiles.id"),
                                             primary_key=True, info=personal(BOOKING))
    sessions: Mapped[int] = mapped_column(default=0, info=NOT_PERSONAL)
    seconds: Mapped[int] = mapped_column(sa.BigInteger, default=0, info=NOT_PERSONAL)

_KEYS = "project_id, macro_action_id, school_id, mediator_id"
_WHERE_OLD = ("project_id = OLD.project_id AND macro_action_id = OLD.macro_action_id"
              " AND school_id = OLD.school_id AND mediator_id = OLD.mediator_id")
#: Columns whose change moves a log between totals.
_WATCHED = ("state, project_id, macro_action_id, school_id, mediator_id, actual_start_dt,"
            " actual_end_dt")

_PG_SECONDS = "COALESCE(round(extract(epoch FROM {0}.actual_end_dt - {0}.actual_start_dt)), 0)"
_SQLITE_SECONDS = ("COALESCE(CAST(strftime('%s', {0}.actual_end_dt) AS INTEGER)"
                   " - CAST(strftime('%s', {0}.actual_start_dt) AS INTEGER), 0)")

POSTGRESQL_DDL = [
    f"""CREATE FUNCTION session_logs_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        IF OLD.state = 'approved' THEN
            UPDATE approved_session_totals
            SET sessions = sessions - 1, seconds = seconds - {_PG_SECONDS.format("OLD")}
            WHERE {_WHERE_OLD};
        END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        IF NEW.state = 'approved' THEN
            INSERT INTO approved_session_totals AS t ({_KEYS}, sessions, seconds)
            VALUES (NEW.project_id, NEW.macro_action_id, NEW.school_id, NEW.mediator_id, 1,
                    {_PG_SECONDS.format("NEW")})
            ON CONFLICT ({_KEYS}) DO UPDATE
            SET sessions = t.sessions + 1, seconds = t.seconds + EXCLUDED.seconds;
        END IF;
    END IF;
    RETURN NULL;
END
$$""",
    f"""CREATE TRIGGER session_logs_totals
    AFTER INSERT OR DELETE OR UPDATE OF {_WATCHED} ON session_logs
    FOR EACH ROW EXECUTE FUNCTION session_logs_totals()""",
]

_SQLITE_ADD = f"""
        INSERT INTO approved_session_totals ({_KEYS}, sessions, seconds)
        SELECT NEW.project_id, NEW.macro_action_id, NEW.school_id, NEW.mediator_id, 1,
               {_SQLITE_SECONDS.format("NEW")}
        WHERE NEW.state = 'approved'
        ON CONFLICT ({_KEYS}) DO UPDATE
        SET sessions = sessions + 1, seconds = seconds + excluded.seconds;"""
_SQLITE_SUBTRACT = f"""
        UPDATE approved_session_totals
        SET sessions = sessions - 1, seconds = seconds - {_SQLITE_SECONDS.format("OLD")}
        WHERE OLD.state = 'approved' AND {_WHERE_OLD};"""

SQLITE_DDL = [
    f"""CREATE TRIGGER session_logs_totals_insert AFTER INSERT ON session_logs
    BEGIN{_SQLITE_ADD}
    END""",
    f"""CREATE TRIGGER session_logs_totals_update AFTER UPDATE OF {_WATCHED} ON session_logs
    BEGIN{_SQLITE_SUBTRACT}{_SQLITE_ADD}
    END""",
    f"""CREATE TRIGGER session_logs_totals_delete AFTER DELETE ON session_logs
    BEGIN{_SQLITE_SUBTRACT}
    END""",
]

#: Recompute every total from the logs (the migration's backfill; the benchmark after its
#: bulk load, which it runs without the triggers).
REBUILD = {
    dialect: f"""INSERT INTO approved_session_totals ({_KEYS}, sessions, seconds)
SELECT {_KEYS}, count(*), sum({seconds.format("session_logs")})
FROM session_logs WHERE state = 'approved'
GROUP BY {_KEYS}"""
    for dialect, seconds in (("postgresql", _PG_SECONDS), ("sqlite", _SQLITE_SECONDS))
}


@sa.event.listens_for(db.metadata, "after_create")
def _create_triggers(_metadata, connection, tables=None, **_kw) -> None:
    """After ``create_all``: the triggers on session_logs (both tables exist by then)."""
    names = {table.name for table in tables} if tables is not None else None
    if names is not None and not {"session_logs", "approved_session_totals"} <= names:
        return
    ddl = {"postgresql": POSTGRESQL_DDL, "sqlite": SQLITE_DDL}.get(connection.dialect.name, [])
    for statement in ddl:
        connection.exec_driver_sql(statement)
