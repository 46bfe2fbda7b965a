"""Security headers on every kind of response, and cookie flags by deployment."""

import pytest

from mediation import create_app
from mediation.models import Role

from tests.conftest import login, make_test_config


def test_headers_on_pages_errors_and_static(client, factory):
    user = factory.user(Role.coordinator, ambito=factory.ambito())
    login(client, user)
    for url, status in (("/", 200), ("/login", 302), ("/no-such-page", 404),
                        ("/static/js/app.js", 200)):
        response = client.get(url)
        response.close()  # the static file's handle
        assert response.status_code == status, url
        headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Frame-Options"] == "DENY"
        # Development and tests are served over plain HTTP: no HSTS there.
        assert "Strict-Transport-Security" not in headers


def test_login_page_has_no_inline_script(client):
    html = client.get("/login").get_data(as_text=True)
    assert "<script>" not in html and " onclick=" not in html and " style=" not in html


@pytest.mark.parametrize(("external_url", "secure"), [("https://mediazione.example.org", True),
                                                      ("http://127.0.0.1:5000", False)])
def test_cookies_and_hsts_follow_the_public_address(tmp_path, external_url, secure):
    app = create_app(make_test_config(tmp_path, EXTERNAL_URL=external_url))
    assert app.config["SESSION_COOKIE_SECURE"] is secure
    assert app.config["REMEMBER_COOKIE_SECURE"] is secure
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["REMEMBER_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    response = app.test_client().get("/login")
    assert ("Strict-Transport-Security" in response.headers) is secure
