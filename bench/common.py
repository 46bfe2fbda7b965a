"""Helpers shared by the benchmarks: bulk inserts, sequences, query counting."""

import os
import time
from datetime import date, timedelta

import sqlalchemy as sa

from mediation.extensions import db

BATCH = 5_000


def insert(table, rows: list[dict]) -> None:
    """Bulk insert: one executemany per batch."""
    for i in range(0, len(rows), BATCH):
        db.session.execute(sa.insert(table), rows[i:i + BATCH])


def weekdays(first: date, last: date) -> list[date]:
    days, day = [], first
    while day <= last:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def reset_sequences() -> None:
    """PostgreSQL: rows were inserted with explicit ids; move each id sequence past them."""
    with db.engine.begin() as conn:
        for table in db.metadata.sorted_tables:
            if "id" in table.c and table.c.id.primary_key and table.c.id.autoincrement:
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table.name}), false)"
                )


def empty_database(url: str) -> None:
    """PostgreSQL: drop everything in the public schema (the benchmarks' --database)."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


class QueryCounter:
    """Counts SQL statements (listen to the engine's before_cursor_execute)."""

    def __init__(self):
        self.count = 0

    def __call__(self, *args, **kwargs):
        self.count += 1


def machine_speed() -> str:
    """How fast this machine runs right now: the milliseconds a fixed pure-Python loop
    takes (the best of three), with the load average. A shared virtual machine's speed
    moves from hour to hour (the same run has taken twice as long here); printed before
    and after a benchmark, it tells whether two runs can be compared."""
    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i * i
        best = min(best, time.perf_counter() - began)
    load = os.getloadavg()[0]
    return f"machine speed: {best * 1000:.0f} ms for the reference loop, load average {load:.2f}"
