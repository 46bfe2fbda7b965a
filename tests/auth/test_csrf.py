"""Every state-changing route refuses a request without a valid CSRF token."""

import re

import pytest

from mediation.extensions import db
from mediation.models import Role

from tests.conftest import PASSWORD, make_test_config


@pytest.fixture
def app_config(tmp_path):
    return make_test_config(tmp_path, WTF_CSRF_ENABLED=True)


#: Methods that change state; every route taking one of them is checked.
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


#: Routes exempt from the token, and why. Only these: a new exemption must be argued here.
EXEMPT = {
    # The family's answer to the invitation letter (/f/<token>): no login and no cookie
    # gives it any authority; the unguessable token in the address is the only secret,
    # and a forged request would need it (tests/family: a phone without cookies answers).
    "family.answer",
}


def post_routes(app):
    for rule in app.url_map.iter_rules():
        if (rule.methods & UNSAFE and not rule.endpoint.startswith("static")
                and rule.endpoint not in EXEMPT):
            yield rule


def test_the_exemptions_are_routes_that_exist(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints >= EXEMPT


def test_every_post_route_needs_the_token(app, factory):
    """Logged in as the admin, a POST (PUT, PATCH, DELETE) without a valid token gets the
    400 'form expired' page, on every such route of the URL map."""
    admin = factory.user(Role.admin)
    client = app.test_client()
    # Log in with a token, as a browser would.
    page = client.get("/login").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    db.session.commit()
    assert client.post("/login", data={"email": admin.email, "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302
    routes = list(post_routes(app))
    assert len(routes) >= 15
    for rule in routes:
        url = re.sub(r"<(?:\w+:)?(\w+)>", "1", rule.rule)
        for method in sorted(rule.methods & UNSAFE):
            for data in ({"csrf_token": "forged"}, {}):  # a wrong token, and none at all
                response = client.open(url, method=method, data=data)
                assert response.status_code == 400, (rule.endpoint, method, response.status_code)
                assert "Il modulo è scaduto" in response.text, rule.endpoint
