"""Running totals of the approved sessions, kept by the database.

The dashboard shows two figures over every date: the hours used against the plan
(``aggregates.hours_vs_planned``) and the budget spent to date (``aggregates.budget``,
every Ambito). Read from the logs, they cost a scan of a project's whole history on every
page view. ``approved_session_totals`` holds, per project, macro-action, school, mediator
and the rate or tariff that prices them, how many approved sessions there are, their
seconds (actual end − actual start; 0 for a translation) and pages, all of them (what is
paid) and those held (what was delivered). Triggers on ``session_logs`` keep it right on
every insert, update and delete of a log, whoever writes it (operations, the demo, tests,
bulk loads, psql), in the same transaction. Cost is not stored: it is seconds × the hourly rate of
``rate_id`` + pages × the page tariff of ``tariff_id``, applied when reading (a rate is
never edited: adding one for a past day reassigns the logs it covers, and the triggers
move them to their new totals).

The same statements are in the migration that adds the table; ``create_all`` (tests, the
benchmark) runs them through the ``after_create`` hook below.
"""

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .privacy import BOOKING, NOT_PERSONAL, personal


class ApprovedSessionTotal(db.Model):
    """Approved sessions, their seconds and pages per project, macro-action, school,
    mediator and price (rate or tariff); all of them (paid) and those held (delivered)."""

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
    # The log's rate_id and tariff_id, 0 for none (a key has no NULL; no foreign key).
    rate_id: Mapped[int] = mapped_column(primary_key=True, default=0,
                                         server_default=sa.text("0"), info=NOT_PERSONAL)
    tariff_id: Mapped[int] = mapped_column(primary_key=True, default=0,
                                           server_default=sa.text("0"), info=NOT_PERSONAL)
    # Paid: every approved session (held, family absent, cancelled late).
    sessions: Mapped[int] = mapped_column(default=0, info=NOT_PERSONAL)
    seconds: Mapped[int] = mapped_column(sa.BigInteger, default=0, info=NOT_PERSONAL)
    pages: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default=sa.text("0"),
                                       info=NOT_PERSONAL)
    # Delivered: the sessions held.
    held_sessions: Mapped[int] = mapped_column(default=0, server_default=sa.text("0"),
                                               info=NOT_PERSONAL)
    held_seconds: Mapped[int] = mapped_column(sa.BigInteger, default=0,
                                              server_default=sa.text("0"), info=NOT_PERSONAL)


_KEYS = "project_id, macro_action_id, school_id, mediator_id, rate_id, tariff_id"
_MEASURES = "sessions, seconds, pages, held_sessions, held_seconds"
_WHERE_OLD = ("project_id = OLD.project_id AND macro_action_id = OLD.macro_action_id"
              " AND school_id = OLD.school_id AND mediator_id = OLD.mediator_id"
              " AND rate_id = COALESCE(OLD.rate_id, 0) AND tariff_id = COALESCE(OLD.tariff_id, 0)")
#: Columns whose change moves a log between totals.
_WATCHED = ("state, project_id, macro_action_id, school_id, mediator_id, actual_start_dt,"
            " actual_end_dt, rate_id, tariff_id, pages, outcome")

_PG_SECONDS = "COALESCE(round(extract(epoch FROM {0}.actual_end_dt - {0}.actual_start_dt)), 0)"
_SQLITE_SECONDS = ("COALESCE(CAST(strftime('%s', {0}.actual_end_dt) AS INTEGER)"
                   " - CAST(strftime('%s', {0}.actual_start_dt) AS INTEGER), 0)")
_HELD = "CASE WHEN {0}.outcome = 'held' THEN {1} ELSE 0 END"


def _values(seconds: str, row: str) -> str:
    """The key and the measures of one log (``row``: NEW, OLD or the table's name)."""
    secs = seconds.format(row)
    return (f"{row}.project_id, {row}.macro_action_id, {row}.school_id, {row}.mediator_id,"
            f" COALESCE({row}.rate_id, 0), COALESCE({row}.tariff_id, 0),"
            f" 1, {secs}, COALESCE({row}.pages, 0), {_HELD.format(row, 1)},"
            f" {_HELD.format(row, secs)}")


def _subtract(seconds: str) -> str:
    secs = seconds.format("OLD")
    return (f"sessions = sessions - 1, seconds = seconds - {secs},"
            f" pages = pages - COALESCE(OLD.pages, 0),"
            f" held_sessions = held_sessions - {_HELD.format('OLD', 1)},"
            f" held_seconds = held_seconds - {_HELD.format('OLD', secs)}")


def _add(table: str) -> str:
    return ", ".join(f"{name} = {table}.{name} + EXCLUDED.{name}"
                     for name in _MEASURES.split(", "))


POSTGRESQL_DDL = [
    f"""CREATE FUNCTION session_logs_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        IF OLD.state = 'approved' THEN
            UPDATE approved_session_totals
            SET {_subtract(_PG_SECONDS)}
            WHERE {_WHERE_OLD};
        END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        IF NEW.state = 'approved' THEN
            INSERT INTO approved_session_totals AS t ({_KEYS}, {_MEASURES})
            VALUES ({_values(_PG_SECONDS, "NEW")})
            ON CONFLICT ({_KEYS}) DO UPDATE
            SET {_add("t")};
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
        INSERT INTO approved_session_totals ({_KEYS}, {_MEASURES})
        SELECT {_values(_SQLITE_SECONDS, "NEW")}
        WHERE NEW.state = 'approved'
        ON CONFLICT ({_KEYS}) DO UPDATE
        SET {_add("approved_session_totals")};"""
_SQLITE_SUBTRACT = f"""
        UPDATE approved_session_totals
        SET {_subtract(_SQLITE_SECONDS)}
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

#: Drop the triggers (the migration, before it changes the table's key).
DROP = {
    "postgresql": ["DROP TRIGGER IF EXISTS session_logs_totals ON session_logs",
                   "DROP FUNCTION IF EXISTS session_logs_totals()"],
    "sqlite": [f"DROP TRIGGER IF EXISTS session_logs_totals_{event}"
               for event in ("insert", "update", "delete")],
}

#: Recompute every total from the logs (the migration's backfill; the benchmark after its
#: bulk load, which it runs without the triggers).
REBUILD = {
    dialect: f"""INSERT INTO approved_session_totals ({_KEYS}, {_MEASURES})
SELECT project_id, macro_action_id, school_id, mediator_id, COALESCE(rate_id, 0),
       COALESCE(tariff_id, 0), count(*), sum({seconds.format("session_logs")}),
       sum(COALESCE(pages, 0)), sum({_HELD.format("session_logs", 1)}),
       sum({_HELD.format("session_logs", seconds.format("session_logs"))})
FROM session_logs WHERE state = 'approved'
GROUP BY project_id, macro_action_id, school_id, mediator_id, COALESCE(rate_id, 0),
         COALESCE(tariff_id, 0)"""
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
