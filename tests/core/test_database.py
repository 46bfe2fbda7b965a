"""How a request's transaction ends (mediation/database.py, end_reads_with_commit).

A request that only read ends with COMMIT (psycopg forgets its prepared statements on a
rollback); one that wrote without committing, or failed, is still rolled back. The
tests' ``app`` fixture keeps one application context open for the whole test, so the
requests here go to a second application on the same database, whose requests each get
their own context and teardown, as in production.
"""

import pytest
import sqlalchemy as sa

from mediation import create_app
from mediation.extensions import db
from mediation.models import Language


@pytest.fixture
def other(app, app_config):
    other = create_app(app_config)

    @other.get("/_test/read")
    def read():
        return str(db.session.scalar(sa.select(sa.func.count()).select_from(Language)))

    @other.get("/_test/flush")
    def flush():
        db.session.add(Language(code="zz-flushed", name_it="Prova", name_en="Test"))
        db.session.flush()
        return "flushed"

    @other.get("/_test/pending")
    def pending():
        db.session.add(Language(code="zz-pending", name_it="Prova", name_en="Test"))
        return "pending"

    @other.get("/_test/fail")
    def fail():
        db.session.scalar(sa.select(sa.func.count()).select_from(Language))
        raise RuntimeError("boom")

    ends = []
    with other.app_context():
        engine = db.engine
    sa.event.listen(engine, "commit", lambda conn: ends.append("commit"))
    sa.event.listen(engine, "rollback", lambda conn: ends.append("rollback"))
    other.ends = ends
    yield other
    with other.app_context():
        db.engine.dispose()


def languages(code: str) -> int:
    db.session.rollback()  # see the other application's writes
    return db.session.scalar(sa.select(sa.func.count()).select_from(Language)
                             .where(Language.code == code))


def test_a_request_that_only_read_ends_with_a_commit(other):
    assert other.test_client().get("/_test/read").status_code == 200
    assert other.ends == ["commit"]


def test_a_request_that_flushed_without_committing_is_rolled_back(other):
    assert other.test_client().get("/_test/flush").status_code == 200
    assert other.ends == ["rollback"]
    assert languages("zz-flushed") == 0


def test_pending_changes_are_not_committed(other):
    assert other.test_client().get("/_test/pending").status_code == 200
    assert "commit" not in other.ends
    assert languages("zz-pending") == 0


def test_a_failed_request_is_rolled_back(other):
    other.config["PROPAGATE_EXCEPTIONS"] = False
    assert other.test_client().get("/_test/fail").status_code == 500
    assert other.ends == ["rollback"]
