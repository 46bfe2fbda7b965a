"""Server-side sessions: a new one at each login, ended at logout, idle and absolute expiry."""

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask.sessions import SecureCookieSessionInterface
from freezegun import freeze_time

from mediation.extensions import db
from mediation.models import Role, UserSession

from tests.conftest import PASSWORD, Auth

START = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


@pytest.fixture
def teacher(factory):
    user = factory.user(Role.teacher, email="anna.bianchi@example.org", display_name="Anna")
    db.session.commit()
    return user


def sessions_of(user) -> list[UserSession]:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(UserSession).where(UserSession.user_id == user.id)
    ).all()


def flask_session(app, client) -> dict:
    """The content of the client's (signed, not encrypted) Flask session cookie."""
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    return serializer.loads(client.get_cookie("session").value)


def is_logged_in(client) -> bool:
    response = client.get("/account")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def test_login_stores_only_a_hash_of_the_token(app, client, auth, teacher):
    """A login adds one session row; the cookie's token is stored only as its SHA-256."""
    auth.login(teacher)
    [record] = sessions_of(teacher)
    user_id = flask_session(app, client)["_user_id"]
    uid, token = user_id.split(":")
    assert uid == str(teacher.id) and len(token) >= 32
    assert record.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in record.token_hash
    assert record.ip_address == "127.0.0.1"
    assert record.remember is False


def test_each_login_gets_a_new_session_identifier(app, client, auth, teacher):
    """Logging in drops what the browser's session held and issues a new token."""
    with client.session_transaction() as before:
        before["planted"] = "by an attacker"  # session fixation: a value set before login
    auth.login(teacher)
    first = flask_session(app, client)
    assert "planted" not in first
    auth.logout()
    auth.login(teacher)
    second = flask_session(app, client)
    assert first["_user_id"] != second["_user_id"]
    assert len(sessions_of(teacher)) == 1  # the first one was deleted at logout


def test_replayed_session_cookie_after_logout_is_refused(client, auth, teacher):
    """The session cookie captured before logging out no longer logs anyone in."""
    auth.login(teacher)
    stolen = client.get_cookie("session").value
    assert is_logged_in(client)
    auth.logout()
    assert sessions_of(teacher) == []
    client.set_cookie("session", stolen, domain="localhost")
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_replayed_remember_cookie_after_logout_is_refused(client, auth, teacher):
    """The remember cookie captured before logging out no longer logs anyone in."""
    auth.login(teacher, remember=True)
    stolen = client.get_cookie("remember_token").value
    auth.logout()
    assert client.get_cookie("remember_token") is None
    client.set_cookie("remember_token", stolen, domain="localhost")
    assert not is_logged_in(client)
    # ...whereas before logout the same cookie alone did log in.
    auth.login(teacher, remember=True)
    fresh = client.get_cookie("remember_token").value
    client.delete_cookie("session")
    client.set_cookie("remember_token", fresh, domain="localhost")
    assert is_logged_in(client)


def test_logout_on_one_device_keeps_the_others(app, auth, teacher):
    """Logging out ends this browser's session only."""
    other = Auth(app.test_client())
    other.login(teacher)
    auth.login(teacher)
    auth.logout()
    assert is_logged_in(other.client)
    assert len(sessions_of(teacher)) == 1


def test_logout_everywhere_deletes_every_session(app, auth, teacher):
    """Logging out everywhere deletes every session row of the user."""
    Auth(app.test_client()).login(teacher, remember=True)
    auth.login(teacher)
    assert len(sessions_of(teacher)) == 2
    auth.client.post("/logout-everywhere")
    assert sessions_of(teacher) == []


def test_password_change_replaces_every_session(app, auth, teacher):
    """A password change ends every session and starts a new one in this browser."""
    other = Auth(app.test_client())
    other.login(teacher, remember=True)
    auth.login(teacher)
    before = {s.token_hash for s in sessions_of(teacher)}
    new = "a completely new secret"
    auth.client.post("/account", data={"action": "password", "pw-current": PASSWORD,
                                       "pw-password": new, "pw-confirm": new})
    after = sessions_of(teacher)
    assert len(after) == 1 and after[0].token_hash not in before
    assert is_logged_in(auth.client)
    assert not is_logged_in(other.client)


def test_deactivated_user_is_logged_out(client, auth, teacher):
    """A session of an account that has been deactivated is refused."""
    auth.login(teacher)
    teacher.active = False
    db.session.commit()
    assert not is_logged_in(client)


def test_forged_cookie_is_refused(app, client, teacher, auth):
    """A token for another user's id, or a made-up one, logs nobody in."""
    other = Auth(app.test_client())
    other.login(teacher)
    token = flask_session(app, other.client)["_user_id"].split(":")[1]
    with client.session_transaction() as sess:
        sess["_user_id"] = f"{teacher.id + 1}:{token}"
    assert not is_logged_in(client)
    with client.session_transaction() as sess:
        sess["_user_id"] = f"{teacher.id}:{'x' * 43}"
    assert not is_logged_in(client)
    with client.session_transaction() as sess:
        sess["_user_id"] = f"{teacher.id}:1"  # the old "<id>:<session version>" format
    assert not is_logged_in(client)


class TestExpiry:
    def test_idle_session_expires(self, app, client, auth, teacher):
        """A session unused for longer than SESSION_IDLE_MINUTES ends."""
        app.config["SESSION_IDLE_MINUTES"] = 30
        with freeze_time(START) as clock:
            auth.login(teacher)
            clock.tick(timedelta(minutes=29))
            assert is_logged_in(client)  # activity resets the idle clock
            clock.tick(timedelta(minutes=29))
            assert is_logged_in(client)
            clock.tick(timedelta(minutes=31))
            assert not is_logged_in(client)
            assert sessions_of(teacher) == []

    def test_absolute_lifetime_ends_an_active_session(self, app, client, auth, teacher):
        """However active, a session ends SESSION_ABSOLUTE_HOURS after login."""
        app.config.update(SESSION_IDLE_MINUTES=60, SESSION_ABSOLUTE_HOURS=2)
        with freeze_time(START) as clock:
            auth.login(teacher)
            for _ in range(3):
                clock.tick(timedelta(minutes=39))
                assert is_logged_in(client)  # 117 minutes in
            clock.tick(timedelta(minutes=4))
            assert not is_logged_in(client)

    def test_remembered_session_outlives_the_idle_limit(self, app, client, auth, teacher):
        """"Remember me" sessions use their own idle limit and the remember duration."""
        app.config.update(SESSION_IDLE_MINUTES=30, SESSION_REMEMBER_IDLE_DAYS=7,
                          REMEMBER_COOKIE_DURATION=timedelta(days=14))
        with freeze_time(START) as clock:
            auth.login(teacher, remember=True)
            clock.tick(timedelta(days=6))
            client.delete_cookie("session")  # the browser was closed
            assert is_logged_in(client)
            clock.tick(timedelta(days=6))
            assert is_logged_in(client)
            clock.tick(timedelta(days=3))  # 15 days after login
            assert not is_logged_in(client)

    def test_last_seen_is_written_at_most_once_a_minute(self, app, client, auth, teacher):
        """Requests within SESSION_TOUCH_SECONDS do not write; a later one does."""
        with freeze_time(START) as clock:
            auth.login(teacher)
            clock.tick(timedelta(seconds=30))
            assert is_logged_in(client)
            assert sessions_of(teacher)[0].last_seen_dt == START
            clock.tick(timedelta(seconds=31))
            assert is_logged_in(client)
            assert sessions_of(teacher)[0].last_seen_dt == START + timedelta(seconds=61)


@pytest.fixture(params=["https://mediazione.example.org", "http://127.0.0.1:5000"])
def external_url(request, app_config):
    """The app is served at this address (set before the app is created)."""
    app_config["EXTERNAL_URL"] = request.param
    return request.param


class TestCookieFlags:
    @staticmethod
    def set_cookies(response) -> dict[str, str]:
        return {header.split("=", 1)[0]: header
                for header in response.headers.getlist("Set-Cookie")}

    def test_session_and_remember_cookies_flags(self, external_url, app, client, factory):
        """Both cookies are HttpOnly and SameSite=Lax; Secure exactly when served over https."""
        user = factory.user(Role.teacher)
        db.session.commit()
        response = client.post("/login", data={"email": user.email, "password": PASSWORD,
                                               "remember": "y"})
        assert response.status_code == 302
        cookies = self.set_cookies(response)
        assert set(cookies) >= {"session", "remember_token"}
        for header in (cookies["session"], cookies["remember_token"]):
            assert "HttpOnly" in header
            assert "SameSite=Lax" in header
            assert ("Secure" in header) == external_url.startswith("https://")


def test_a_new_login_removes_the_users_expired_sessions(app, factory, teacher):
    """Sessions left to expire (never used again) are deleted at the user's next login."""
    with freeze_time(START) as clock:
        for _ in range(2):
            Auth(app.test_client()).login(teacher)  # two browsers, then abandoned
        Auth(app.test_client()).login(teacher, remember=True)
        clock.tick(timedelta(hours=13))
        Auth(app.test_client()).login(teacher)
        remaining = sessions_of(teacher)
        assert len(remaining) == 2  # the remembered one and the new one
        assert {s.remember for s in remaining} == {True, False}


FIREFOX_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101"
                   " Firefox/133.0")
CHROME_ANDROID = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like"
                  " Gecko) Chrome/131.0 Mobile Safari/537.36")


def test_account_page_lists_the_users_own_sessions(app, factory, teacher):
    """*Il mio account* lists the user's devices, marks this one, and no one else's."""
    laptop = app.test_client()
    laptop.post("/login", data={"email": teacher.email, "password": PASSWORD},
                headers={"User-Agent": FIREFOX_WINDOWS})
    phone = app.test_client()
    phone.post("/login", data={"email": teacher.email, "password": PASSWORD},
               headers={"User-Agent": CHROME_ANDROID},
               environ_base={"REMOTE_ADDR": "198.51.100.23"})
    stranger = factory.user(Role.teacher)
    db.session.commit()
    Auth(app.test_client()).login(stranger)

    page = laptop.get("/account", headers={"User-Agent": FIREFOX_WINDOWS}).text
    assert "Dove hai effettuato l&#39;accesso" in page or "Dove hai effettuato l'accesso" in page
    assert "Firefox, Windows" in page and "Chrome, Android" in page
    assert "198.51.100.23" in page
    assert page.count("questo dispositivo") == 1
    row = page[page.index("Firefox, Windows"):page.index("</tr>", page.index("Firefox"))]
    assert "questo dispositivo" in row
    assert page.count("<tr>") == 3  # the header and the user's two sessions
