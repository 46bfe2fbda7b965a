"""Faults: the database server drops every connection (as a restart does).

PostgreSQL only: it needs a server whose connections can be cut from outside.
The connections are ended with ``pg_terminate_backend``, which is what the
application sees when the server restarts.
"""

import pytest
import sqlalchemy as sa

from mediation.extensions import db
from mediation.models import Role

from tests.conftest import TEST_DATABASE_URL, backend, login

pytestmark = pytest.mark.skipif(backend() != "postgresql",
                                reason="needs PostgreSQL (MEDIATION_TEST_DATABASE_URL)")

EN = {"Accept-Language": "en"}


def drop_every_connection() -> int:
    """End every other connection to the test database; return how many were ended."""
    engine = sa.create_engine(TEST_DATABASE_URL, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            return len(conn.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )).all())
    finally:
        engine.dispose()


@pytest.fixture
def coordinator(client, factory):
    login(client, factory.user(Role.coordinator))
    return client


def test_the_request_in_flight_gets_a_503_and_the_next_one_works(coordinator):
    """A connection cut under a request: a translated 503, then the app works again."""
    assert coordinator.get("/", headers=EN).status_code == 200
    # The test's session keeps its connection between requests, as a long request would.
    db.session.execute(sa.text("SELECT 1"))
    assert drop_every_connection() >= 1
    failed = coordinator.get("/", headers=EN)
    assert failed.status_code == 503
    assert failed.headers["Retry-After"] == "30"
    assert "Service temporarily unavailable" in failed.get_data(as_text=True)
    assert coordinator.get("/", headers=EN).status_code == 200


def test_the_pool_replaces_dead_connections_before_use(coordinator):
    """Connections idle in the pool when the server restarts are replaced, not used."""
    db.session.remove()  # what the end of every real request does: back to the pool
    assert drop_every_connection() >= 1
    response = coordinator.get("/", headers=EN)
    assert response.status_code == 200
    assert "Service temporarily unavailable" not in response.get_data(as_text=True)


def test_the_503_page_is_in_italian_by_default(coordinator):
    """The error page is translated like every other."""
    db.session.execute(sa.text("SELECT 1"))
    drop_every_connection()
    failed = coordinator.get("/")
    assert failed.status_code == 503
    assert "Servizio temporaneamente non disponibile" in failed.get_data(as_text=True)
