"""Engine settings that the never-break rules rely on, and how a request's transaction ends."""

import sqlite3

import sqlalchemy as sa

_configured = False

#: Session.info key: the current transaction has flushed changes.
_WROTE = "mediation.wrote"


def _on_connect(dbapi_connection, connection_record):
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # SQLite ignores foreign keys unless asked, per connection.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 30000")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()
    # Let SQLAlchemy emit BEGIN itself (see _on_begin) instead of pysqlite's deferred one.
    dbapi_connection.isolation_level = None


def _on_begin(connection):
    if connection.dialect.name == "sqlite":
        # Take the write lock at the start, so that the overlap trigger's check and the
        # insert it guards cannot interleave with another writer's.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def configure_engine_events() -> None:
    """Install the SQLite connection settings on every engine, and the sessions' record of
    their writes (end_reads_with_commit), once per process."""
    global _configured
    if _configured:
        return
    sa.event.listen(sa.engine.Engine, "connect", _on_connect)
    sa.event.listen(sa.engine.Engine, "begin", _on_begin)
    sa.event.listen(sa.orm.Session, "after_flush", _flushed)
    sa.event.listen(sa.orm.Session, "after_transaction_end", _transaction_ended)
    _configured = True


def _flushed(session, _context) -> None:
    session.info[_WROTE] = True


def _transaction_ended(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_WROTE, None)


def end_reads_with_commit(app, db) -> None:
    """End a request's transaction that wrote nothing with COMMIT, before Flask-SQLAlchemy
    closes the session (which rolls back).

    For the database both end a read the same way, but psycopg forgets every statement it
    has prepared on a rollback: ended that way, no statement ever reached its prepare
    threshold (five runs on a connection) and PostgreSQL planned every statement of every
    page again (14 ms for the planning of one eager-loading query of the home page). A
    transaction that flushed anything, has pending changes, or ends with an error is left
    to the rollback as before: only the requests' own commits write.
    """

    @app.teardown_appcontext
    def _commit_reads(error) -> None:
        if error is not None or not db.session.registry.has():
            return
        session = db.session()
        if (not session.in_transaction() or session.info.get(_WROTE)
                or session.new or session.dirty or session.deleted):
            return
        try:
            session.commit()
        except sa.exc.SQLAlchemyError:
            session.rollback()
