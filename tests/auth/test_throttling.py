"""Login and password-reset throttling (Flask-Limiter), and the audit of login attempts."""

import json
import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from mediation import create_app
from mediation.config import DefaultConfig
from mediation.extensions import db
from mediation.models import AuditEvent, OutboxMessage, Role

from tests.conftest import PASSWORD, Client

REDIS_URL = "redis://127.0.0.1:6379/5"
THROTTLED_IT = "Troppi tentativi."


def tomorrow() -> datetime:
    """A moment to freeze the clock at, after the real one. The in-memory limiter expires
    its counters from a timer thread, which freezegun leaves on the real clock: a frozen
    moment in the past would see every counter expired at once (these tests froze at a
    fixed date, and began to fail the day that date went by)."""
    return datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)


@pytest.fixture(autouse=True)
def production_limits(app_config):
    """The default limits of mediation/config.py (tests/conftest.py raises the per-address one)."""
    app_config["RATELIMIT_LOGIN_PER_IP"] = DefaultConfig.RATELIMIT_LOGIN_PER_IP
    assert app_config["RATELIMIT_LOGIN_PER_IP"] == "10 per minute"


@pytest.fixture
def teacher(factory):
    user = factory.user(Role.teacher, email="luca.verdi@example.org", display_name="Luca")
    db.session.commit()
    return user


def login(client, email, password):
    return client.post("/login", data={"email": email, "password": password})


def events(action: str) -> list[AuditEvent]:
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)).all()


class TestPerIp:
    def test_eleventh_attempt_in_a_minute_is_refused(self, client, teacher):
        """Past 10 attempts a minute from one address, even a right password gets a 429."""
        for i in range(10):
            assert login(client, f"someone{i}@example.org", "guess").status_code == 200
        response = login(client, teacher.email, PASSWORD)
        assert response.status_code == 429
        assert THROTTLED_IT in response.text
        assert 'name="email"' in response.text  # the form is shown again, not an error page
        assert client.get("/account").status_code == 302
        assert len(events("auth.throttled")) == 1

    def test_the_limit_is_configurable_and_resets(self, app, client, teacher):
        """RATELIMIT_LOGIN_PER_IP sets the limit; after the window the form works again."""
        app.config["RATELIMIT_LOGIN_PER_IP"] = "2 per minute"
        with freeze_time(tomorrow()) as clock:
            login(client, "a@example.org", "x")
            login(client, "b@example.org", "x")
            assert login(client, teacher.email, PASSWORD).status_code == 429
            clock.tick(timedelta(seconds=61))
            assert login(client, teacher.email, PASSWORD).status_code == 302

    def test_english_message(self, app, client, teacher):
        """The message is translated: English users read it in English."""
        app.config["RATELIMIT_LOGIN_PER_IP"] = "1 per minute"
        login(client, teacher.email, "x")
        response = client.post("/login", data={"email": teacher.email, "password": "x"},
                               headers={"Accept-Language": "en"})
        assert response.status_code == 429
        assert "Too many attempts. Please wait a few minutes and try again." in response.text


class TestPerAccount:
    def test_five_failures_lock_the_account_for_a_while(self, client, teacher):
        """After 5 failures for one account, even the right password waits 15 minutes."""
        with freeze_time(tomorrow()) as clock:
            for _ in range(5):
                assert login(client, teacher.email, "wrong").status_code == 200
                clock.tick(timedelta(seconds=10))  # stay under the per-address limit
            response = login(client, teacher.email.upper(), PASSWORD)
            assert response.status_code == 429
            assert THROTTLED_IT in response.text
            clock.tick(timedelta(minutes=15))
            assert login(client, teacher.email, PASSWORD).status_code == 302

    def test_other_accounts_are_not_affected(self, client, factory, teacher):
        """Failures for one account do not stop another account from logging in."""
        other = factory.user(Role.teacher)
        db.session.commit()
        for _ in range(5):
            login(client, teacher.email, "wrong")
        assert login(client, other.email, PASSWORD).status_code == 302

    def test_successful_logins_do_not_count(self, client, teacher):
        """Only failures count against an account."""
        for _ in range(7):
            assert login(client, teacher.email, PASSWORD).status_code == 302
            client.post("/logout")

    def test_unknown_emails_are_throttled_alike(self, client):
        """An email without an account is throttled just like a real one (no enumeration)."""
        for _ in range(5):
            login(client, "ghost@example.org", "wrong")
        assert login(client, "ghost@example.org", "wrong").status_code == 429


def test_password_reset_requests_are_throttled(client, teacher):
    """Past 5 reset requests for one email the form answers 429, and no more mail goes."""
    for _ in range(5):
        assert client.post("/password/forgot", data={"email": teacher.email}).status_code == 302
    response = client.post("/password/forgot", data={"email": teacher.email})
    assert response.status_code == 429
    assert THROTTLED_IT in response.text
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 5


class TestAudit:
    def test_failed_login_of_an_unknown_email_stores_no_email(self, client, teacher):
        """The failure is audited with the address it came from, but no email nor password."""
        login(client, "stranger@example.org", "hunter2-secret")
        [event] = events("auth.login_failed")
        assert event.object_id is None and event.actor_id is None
        assert event.ip_address == "127.0.0.1"
        stored = json.dumps(event.data) + event.object_type
        assert "stranger" not in stored and "hunter2" not in stored

    def test_failed_login_of_a_real_account(self, client, teacher):
        """A wrong password is audited against the account, without the password."""
        login(client, teacher.email, "hunter2-secret")
        [event] = events("auth.login_failed")
        assert (event.object_type, event.object_id) == ("User", teacher.id)
        assert "hunter2" not in json.dumps(event.data)

    def test_successful_login_and_logout_are_audited(self, client, teacher):
        """Logging in and out each leave an event naming the user."""
        login(client, teacher.email, PASSWORD)
        client.post("/logout")
        [login_event] = events("auth.login")
        [logout_event] = events("auth.logout")
        assert login_event.actor_id == teacher.id == logout_event.actor_id
        assert PASSWORD not in json.dumps(login_event.data)


def redis_or_skip():
    """The Redis server on 127.0.0.1:6379; skipped without one, unless CI requires it."""
    import redis

    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("MEDIATION_REQUIRE_REDIS") == "1":
            pytest.fail("Redis is required (MEDIATION_REQUIRE_REDIS=1) but does not answer")
        pytest.skip("no Redis server answers on 127.0.0.1:6379")
    return connection


@pytest.fixture
def redis_prefix(app_config):
    """Limits kept in the real Redis (database 5) under a prefix of this test's own."""
    connection = redis_or_skip()
    prefix = f"mediation-test-{uuid.uuid4().hex}"
    app_config.update(RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=prefix)
    yield connection, prefix
    for key in connection.scan_iter(f"*{prefix}*"):
        connection.delete(key)
    connection.close()


def test_limits_are_shared_through_redis(redis_prefix, app, app_config, client, teacher):
    """With Redis storage a second process (another app) sees the same failure counts."""
    connection, prefix = redis_prefix
    for _ in range(5):
        assert login(client, teacher.email, "wrong").status_code == 200
    assert login(client, teacher.email, PASSWORD).status_code == 429
    keys = [key.decode() for key in connection.scan_iter(f"*{prefix}*")]
    assert keys, "the counts are not in Redis"
    assert not any("luca" in key for key in keys)  # emails are hashed in the keys

    # Another worker: a new app whose limiter connects to the same Redis.
    email = teacher.email
    db.session.close()  # SQLite: leave the database to the other app
    worker = create_app(app_config)
    worker.test_client_class = Client
    response = login(worker.test_client(), email, PASSWORD)
    with worker.app_context():
        db.session.remove()
        db.engine.dispose()  # close the other app's connections now, not at garbage collection
    assert response.status_code == 429


@pytest.fixture
def behind_a_proxy(app_config):
    app_config["TRUSTED_PROXIES"] = 1


def test_behind_a_proxy_each_visitor_has_their_own_limit(behind_a_proxy, app, client, teacher):
    """With TRUSTED_PROXIES the per-address limit applies to X-Forwarded-For, not the proxy."""
    app.config["RATELIMIT_LOGIN_PER_IP"] = "2 per minute"

    def attempt(address, password="wrong"):
        return client.post("/login", data={"email": f"x{address}@example.org",
                                           "password": password},
                           headers={"X-Forwarded-For": address})

    assert attempt("192.0.2.1").status_code == 200
    assert attempt("192.0.2.1").status_code == 200
    assert attempt("192.0.2.1").status_code == 429
    assert attempt("198.51.100.7").status_code == 200  # another visitor, same proxy
    assert events("auth.throttled")[0].ip_address == "192.0.2.1"


def test_per_email_limits_hold_across_addresses(client, teacher):
    """The per-account and per-email limits count attempts from every address together."""
    for i in range(5):
        client.post("/login", data={"email": teacher.email, "password": "wrong"},
                    environ_base={"REMOTE_ADDR": f"203.0.113.{i}"})
        client.post("/password/forgot", data={"email": teacher.email},
                    environ_base={"REMOTE_ADDR": f"203.0.113.{i}"})
    fresh = {"REMOTE_ADDR": "203.0.113.99"}
    assert client.post("/login", data={"email": teacher.email, "password": PASSWORD},
                       environ_base=fresh).status_code == 429
    assert client.post("/password/forgot", data={"email": teacher.email},
                       environ_base=fresh).status_code == 429
