"""Fixtures: an app on a fresh database, clients, factories and a login helper.

Every test runs on SQLite (a fresh file per test, copied from a schema built once per
session). When ``MEDIATION_TEST_DATABASE_URL`` is set, the whole suite runs on that
database instead (PostgreSQL in CI): the schema is created once, and every table a test
left rows in is emptied before the next test.

Under pytest-xdist (``-n auto``) every worker has its own SQLite template and, on
PostgreSQL, its own database: ``<name>_gw0``, ``<name>_gw1``... created when missing.
"""

import os
import re
import shutil
import threading
import time as _time
from datetime import UTC, datetime, time
from decimal import Decimal
from itertools import count

import flask_babel
import pytest
import sqlalchemy as sa
from flask import g
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from mediation import create_app
from mediation.extensions import db
from mediation.models import (
    Ambito,
    Assignment,
    AssignmentState,
    AvailabilityRange,
    Language,
    LanguageLevel,
    MediationRequest,
    MediatorLanguage,
    MediatorProfile,
    Project,
    RequestKind,
    RequestState,
    RequestType,
    Role,
    School,
    Site,
    User,
)
from mediation.models.rates import first_rate

if "faketime" in os.environ.get("LD_PRELOAD", ""):
    # CI runs the suite once more with the clock moved (libfaketime, .ci/run). Under
    # libfaketime 0.9.10 Python's time.sleep fails now and then with EINVAL
    # (wolfcw/libfaketime#426), and so does whatever sleeps: subprocess's wait with a
    # timeout, for one. In this process, sleeping waits on an event instead.
    def _sleep(seconds: float) -> None:
        threading.Event().wait(seconds)

    _time.sleep = _sleep

#: The pytest-xdist worker this process is ("gw0", "gw1"...), None without xdist.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER")


def _worker_database_url(url: str | None) -> str | None:
    """Each xdist worker runs on a database of its own, named after the given one."""
    if not url or not XDIST_WORKER:
        return url
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return url
    return parsed.set(database=f"{parsed.database}_{XDIST_WORKER}").render_as_string(
        hide_password=False)


TEST_DATABASE_URL = _worker_database_url(os.environ.get("MEDIATION_TEST_DATABASE_URL"))
# The live layer starts the service in processes of its own and has its own conftest:
# run it with `pytest tests/live --confcutdir=tests/live` (README, "Tests").
collect_ignore = ["live"]
PASSWORD = "correct horse battery"
# Hashing with the default scrypt parameters takes ~50 ms; tests create many users.
FAST_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")

_database_tests = {"count": 0}
_schema_ready = {"done": False}


def backend() -> str:
    return sa.make_url(TEST_DATABASE_URL).get_backend_name() if TEST_DATABASE_URL else "sqlite"


def pytest_report_header(config):
    if TEST_DATABASE_URL:
        return f"database: {sa.make_url(TEST_DATABASE_URL).render_as_string(hide_password=True)}"
    return "database: SQLite (a fresh file per test)"


def pytest_configure(config):
    if TEST_DATABASE_URL and XDIST_WORKER and backend() == "postgresql":
        _create_worker_database()


def pytest_sessionfinish(session):
    # An xdist worker hands its count to the controller (see pytest_testnodedown).
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["database_tests"] = _database_tests["count"]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """xdist's controller: add up the workers' counts (it runs no test itself)."""
    _database_tests["count"] += getattr(node, "workeroutput", {}).get("database_tests", 0)


def pytest_terminal_summary(terminalreporter):
    # .ci/run greps this line to prove that the suite ran on PostgreSQL.
    terminalreporter.write_line(
        f"database backend: {backend()}; tests that used the database: "
        f"{_database_tests['count']}"
    )


def count_database_test() -> None:
    _database_tests["count"] += 1


def _create_worker_database() -> None:
    """Create this xdist worker's database (``<name>_gwN``) if it does not exist yet."""
    name = sa.make_url(TEST_DATABASE_URL).database
    server = sa.create_engine(os.environ["MEDIATION_TEST_DATABASE_URL"],
                              isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    try:
        with server.connect() as conn:
            exists = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                 {"name": name})
            if not exists:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        server.dispose()


def _empty_used_tables() -> None:
    """Empty the tables that hold rows and restart the sequences that were used.

    TRUNCATE of every table took about a second a test on the CI machine (it creates new
    files for every table and index); one query finds the few tables a test wrote to, and
    DELETE empties small tables in milliseconds. Sequences restart as RESTART IDENTITY did.
    """
    quote = db.engine.dialect.identifier_preparer.quote
    tables = db.metadata.sorted_tables
    probe = " UNION ALL ".join(
        f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM {quote(t.name)})" for t in tables)
    with db.engine.begin() as conn:
        used = set(conn.exec_driver_sql(probe).scalars())
        for table in reversed(tables):  # referencing tables first
            if table.name in used:
                conn.exec_driver_sql(f"DELETE FROM {quote(table.name)}")
        conn.exec_driver_sql(
            "SELECT setval((quote_ident(schemaname) || '.' || quote_ident(sequencename))"
            "::regclass, 1, false) "
            "FROM pg_sequences WHERE schemaname = 'public' AND last_value IS NOT NULL")


def _prepare_server_database() -> None:
    if _schema_ready["done"]:
        _empty_used_tables()
        return
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    db.create_all()
    _schema_ready["done"] = True


def make_test_config(tmp_path, **overrides) -> dict:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'test.sqlite'}",
        "WTF_CSRF_ENABLED": False,
        "MAIL_BACKEND": "outbox",  # keep mails in the outbox table, print nothing
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "SERVER_NAME": "localhost",
        # Every test client logs in from 127.0.0.1, and some tests log in dozens of users;
        # tests/auth/test_throttling.py puts the production limit back.
        "RATELIMIT_LOGIN_PER_IP": "1000 per minute",
        # The family's link likewise (tests/family/test_family_views.py puts it back).
        "RATELIMIT_FAMILY_LINK": "1000 per minute",
    }
    config.update(overrides)
    return config


class Client(FlaskClient):
    """A test client whose requests do not see another request's logged-in user.

    Requests in a test share the test's app context, where Flask-Login caches
    the current user, Flask-WTF the CSRF token and Flask-Babel the locale; in
    production every request has its own.
    """

    def open(self, *args, **kwargs):
        self._forget()
        try:
            return super().open(*args, **kwargs)
        finally:
            self._forget()

    @staticmethod
    def _forget():
        g.pop("_login_user", None)
        g.pop("csrf_token", None)
        flask_babel.refresh()


@pytest.fixture
def app_config(tmp_path):
    """Overrides for the app under test; a test may change it before using ``app``."""
    return make_test_config(tmp_path)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A SQLite file with the schema, built once per session (per xdist worker): copying it
    is much cheaper than ``create_all`` for every test. The copy carries everything
    ``create_all`` made, the overlap triggers included (tests/project/test_schema.py)."""
    if TEST_DATABASE_URL:
        return None
    folder = tmp_path_factory.mktemp("schema")
    template = create_app(make_test_config(folder))
    with template.app_context():
        db.create_all()
        db.session.remove()
        db.engine.dispose()  # the last connection checkpoints the WAL into the file
    path = folder / "test.sqlite"
    assert not path.with_name(path.name + "-wal").exists()
    return path


def _sqlite_file(uri: str) -> str | None:
    url = sa.make_url(uri)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return url.database


@pytest.fixture
def app(app_config, sqlite_template):
    path = _sqlite_file(app_config["SQLALCHEMY_DATABASE_URI"])
    copied = bool(path and sqlite_template and not os.path.exists(path))
    if copied:
        shutil.copyfile(sqlite_template, path)
    app = create_app(app_config)
    app.test_client_class = Client
    with app.app_context():
        if TEST_DATABASE_URL:
            _prepare_server_database()
        elif not copied:
            db.create_all()
        count_database_test()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Factory:
    """Builds rows with sensible defaults; every call takes overrides."""

    def __init__(self):
        self._seq = count(1)

    def n(self) -> int:
        return next(self._seq)

    def add(self, obj):
        db.session.add(obj)
        db.session.flush()
        return obj

    def ambito(self, **kw) -> Ambito:
        i = self.n()
        kw.setdefault("code", f"AMB{i}")
        kw.setdefault("name", f"Ambito {i}")
        kw.setdefault("lead_agency", f"Azienda Speciale {i}")
        return self.add(Ambito(**kw))

    def school(self, ambito=None, **kw) -> School:
        i = self.n()
        kw.setdefault("code", f"LOIC8{i:04d}X")
        kw.setdefault("name", f"Istituto Comprensivo {i}")
        kw.setdefault("municipality", "Lodi")
        school = self.add(School(ambito=ambito or self.ambito(), **kw))
        self.add(Site(school=school, name=f"Plesso {i}", address="Via Roma 1",
                      municipality=school.municipality))
        return school

    def user(self, role: Role = Role.teacher, **kw) -> User:
        i = self.n()
        kw.setdefault("email", f"user{i}@example.org")
        kw.setdefault("display_name", f"User {i}")
        kw.setdefault("password_hash", FAST_HASH)
        if role in (Role.teacher, Role.lead) and "school" not in kw and "school_id" not in kw:
            kw["school"] = self.school()
        if role == Role.coordinator and "ambito" not in kw and "ambito_id" not in kw:
            kw["ambito"] = self.ambito()
        return self.add(User(role=role, **kw))

    def language(self, code="ar", **kw) -> Language:
        existing = db.session.scalar(sa.select(Language).where(Language.code == code))
        if existing:
            return existing
        kw.setdefault("name_it", code)
        kw.setdefault("name_en", code)
        return self.add(Language(code=code, **kw))

    def mediator(self, ambiti=(), languages=("ar",), **kw) -> MediatorProfile:
        user = self.user(Role.mediator, **kw)
        profile = self.add(MediatorProfile(user=user, employer="Coop", weekly_hour_cap=Decimal(20),
                                           rates=[first_rate(Decimal(25))]))
        profile.ambiti.extend(ambiti)
        for code in languages:
            self.add(MediatorLanguage(mediator=profile, language=self.language(code),
                                      level=LanguageLevel.native))
        for weekday in range(5):
            self.add(AvailabilityRange(mediator=profile, weekday=weekday,
                                       start_time=time(8), end_time=time(17)))
        return profile

    def project(self, **kw) -> Project:
        i = self.n()
        kw.setdefault("code", f"P{i}")
        kw.setdefault("title", f"Project {i}")
        kw.setdefault("fund", "FAMI")
        kw.setdefault("lead_partner", "Regione Lombardia")
        # Running from a year before today to a year and a half after, whatever the date.
        today = datetime.now(UTC).date()
        kw.setdefault("start_date", today.fromordinal(today.toordinal() - 365))
        kw.setdefault("end_date", today.fromordinal(today.toordinal() + 550))
        return self.add(Project(**kw))

    def request_type(self, **kw) -> RequestType:
        i = self.n()
        kw.setdefault("code", f"type{i}")
        kw.setdefault("name_it", f"Colloquio {i}")
        kw.setdefault("name_en", f"Meeting {i}")
        kw.setdefault("kind", RequestKind.slot)
        kw.setdefault("default_duration_minutes", 60)
        return self.add(RequestType(**kw))

    def request(self, school=None, **kw) -> MediationRequest:
        school = school or self.school()
        # Only what the caller did not give is made: an eager setdefault(..., self.project())
        # left a second project of the same dates beside the caller's, and which of the two
        # "runs" then depended on the order PostgreSQL happened to return them in.
        if "project" not in kw:
            kw["project"] = self.project()
        if "requester" not in kw:
            kw["requester"] = self.user(Role.teacher, school=school)
        if "type" not in kw:
            kw["type"] = self.request_type()
        if "language" not in kw:
            kw["language"] = self.language()
        kw.setdefault("state", RequestState.open)
        kw.setdefault("duration_minutes", 60)
        return self.add(MediationRequest(school=school, **kw))

    def assignment(self, request=None, mediator=None, start=None, end=None, **kw) -> Assignment:
        kw.setdefault("state", AssignmentState.offered)
        return self.add(
            Assignment(
                request=request or self.request(),
                mediator=mediator or self.mediator(),
                start_dt=start or datetime(2026, 12, 1, 9, tzinfo=UTC),
                end_dt=end or datetime(2026, 12, 1, 10, tzinfo=UTC),
                **kw,
            )
        )


@pytest.fixture
def factory(app):
    return Factory()


class Auth:
    """Log a test client in and out as a given user."""

    def __init__(self, client):
        self.client = client

    def login(self, user_or_email, password=PASSWORD, remember=False, follow=False):
        email = getattr(user_or_email, "email", user_or_email)
        db.session.commit()
        data = {"email": email, "password": password}
        if remember:
            data["remember"] = "y"
        return self.client.post("/login", data=data, follow_redirects=follow)

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client):
    return Auth(client)


def csrf_token(text: str) -> str:
    """The CSRF token of a page: its form's field, or the meta tag every page has."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text) or re.search(
        r'name="csrf-token"[^>]*content="([^"]+)"', text)
    assert match, "no CSRF token on the page"
    return match.group(1)


def login(client, user: User, password: str = PASSWORD):
    """Log ``client`` in as ``user`` through the login form and return the client: how every
    test logs a user in (the tests of the form itself post it with ``Auth``). Whoever the client
    was logged in as is logged out first. Where the app checks CSRF tokens (most tests turn the
    check off) the form's token is sent; ``csrf_token(client.get("/account").text)`` then gives
    one for the test's own POSTs."""
    db.session.commit()  # the user as the test left it, and SQLite's write lock free
    if client.application.config.get("WTF_CSRF_ENABLED", True):
        page = client.get("/login", follow_redirects=True)  # a logged-in client: its home page
        client.post("/logout", data={"csrf_token": csrf_token(page.text)})
        form = {"csrf_token": csrf_token(client.get("/login").text)}
    else:
        client.post("/logout")
        form = {}
    response = client.post("/login", data={**form, "email": user.email, "password": password})
    assert response.status_code == 302, response.text[:500]
    return client


class QueryCounter:
    """Counts the SQL statements run while it is active."""

    def __init__(self):
        self.count = 0

    def __call__(self, *args, **kwargs):
        self.count += 1

    def __enter__(self):
        sa.event.listen(db.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc):
        sa.event.remove(db.engine, "before_cursor_execute", self)


@pytest.fixture
def count_queries(app):
    return QueryCounter


from tests.browser import _chromium, browser, live_server, screenshots  # noqa: E402, F401
from tests.scenarios.booking import booking  # noqa: E402, F401  (fixtures for every test module)
