"""The migrations build the schema the models describe, with the never-break rules."""

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from mediation import create_app
from mediation.extensions import db

from .conftest import TEST_DATABASE_URL, count_database_test, make_test_config


@pytest.fixture
def empty_database_url(tmp_path):
    """An empty database of the backend under test."""
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path / 'migrated.sqlite'}"
        return
    name = f"migration_{uuid.uuid4().hex[:8]}"
    server = sa.create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    yield sa.make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    with server.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
    server.dispose()


@pytest.fixture
def migrated(tmp_path, empty_database_url):
    app = create_app(make_test_config(tmp_path, SQLALCHEMY_DATABASE_URI=empty_database_url))
    with app.app_context():
        count_database_test()
        upgrade()
        yield app
        db.session.remove()
        db.engine.dispose()


def test_models_match_migrations(migrated):
    """`flask db check` in a test: upgrading an empty database gives the models' schema."""
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []


def test_migrated_schema_refuses_overlaps(migrated):
    """The overlap rule is part of the migration, not only of create_all."""
    from mediation.models import Assignment

    from .conftest import Factory

    factory = Factory()
    mediator = factory.mediator()
    r1, r2, r3 = factory.request(), factory.request(), factory.request()
    db.session.commit()

    def insert(request, start_hour, start_minute=0):
        start = datetime(2026, 12, 1, start_hour, start_minute, tzinfo=UTC)
        db.session.execute(sa.insert(Assignment.__table__).values(
            request_id=request.id, mediator_id=mediator.id, state="offered",
            start_dt=start, end_dt=start.replace(hour=start_hour + 1), offered_dt=start,
            sequence=0))
        db.session.commit()

    insert(r1, 9)
    insert(r2, 10)  # back to back: fine
    with pytest.raises(sa.exc.IntegrityError):
        insert(r3, 9, 30)
    db.session.rollback()


def test_downgrade_empties_the_database(migrated):
    """The initial migration can be undone."""
    downgrade(revision="base")
    with db.engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names()) - {"alembic_version"}
    assert tables == set()
