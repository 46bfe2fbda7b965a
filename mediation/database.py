"""Engine settings that the never-break rules rely on."""

import sqlite3

import sqlalchemy as sa

_configured = False


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
    """Install the SQLite connection settings on every engine (once per process)."""
    global _configured
    if _configured:
        return
    sa.event.listen(sa.engine.Engine, "connect", _on_connect)
    sa.event.listen(sa.engine.Engine, "begin", _on_begin)
    _configured = True
