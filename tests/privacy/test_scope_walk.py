"""Walk the URL map: every route taking an id answers 404 for objects outside the user's scope.

The walk is generated from ``app.url_map``, so a new route is checked as soon as it exists;
a route whose parameter names no known object fails the test until it is mapped in
``World.unit`` of tests/scenarios/two_ambiti.py (or listed in ``NOT_OBJECT_IDS``).
"""

import re

import pytest

from tests.conftest import csrf_token, login, make_test_config
from tests.scenarios.two_ambiti import AMBITO_LEVEL, NOT_OBJECT_IDS, build_world

#: Who is walked (a user of school A1, its Ambito A, or A1's mediator) and whose objects
#: are outside their scope: the other school of their Ambito and a school of the other one.
FOREIGN = {
    "teacher_A1": ("A2", "B1"),
    "lead_A1": ("A2", "B1"),
    "med_A1": ("A2", "B1"),  # A2's work is another mediator's, in the same Ambito
    "coord_A": ("B1", "B2"),
}


@pytest.fixture
def app_config(tmp_path):
    return make_test_config(tmp_path, WTF_CSRF_ENABLED=True)


def params(rule) -> list[str]:
    """The parameters in the rule's path (not the defaults of a sibling rule)."""
    return re.findall(r"<(?:\w+:)?(\w+)>", rule.rule)


def id_rules(app):
    for rule in app.url_map.iter_rules():
        if params(rule) and not rule.endpoint.startswith("static"):
            yield rule


def fill(rule, values: dict[str, int]) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), rule.rule)


def test_every_id_parameter_is_mapped(app, factory):
    """Each URL parameter of the app names an object the walk knows how to build."""
    world = build_world(factory)
    known = set(world.unit("A1")) | NOT_OBJECT_IDS
    unknown = {(rule.rule, arg) for rule in id_rules(app) for arg in params(rule)
               if arg not in known}
    assert not unknown, f"map these URL parameters in tests/scenarios/two_ambiti.py: {unknown}"


@pytest.mark.parametrize("who", sorted(FOREIGN))
def test_objects_outside_the_scope_are_404(app, factory, who):
    """GET and POST (with a valid token) on every id route, with foreign ids, answer 404."""
    world = build_world(factory)
    client = app.test_client()
    login(client, world.user(who))
    token = csrf_token(client.get("/account").text)
    own = world.unit("A1")
    failures, tried = [], 0
    for rule in id_rules(app):
        ids = [arg for arg in params(rule) if arg not in NOT_OBJECT_IDS]
        if not ids:
            continue
        variants = []
        for school in FOREIGN[who]:
            foreign = world.unit(school)
            if school[0] == "A":
                # The same Ambito: its objects are in scope, so only the others are foreign.
                foreign = {k: v for k, v in foreign.items() if k not in AMBITO_LEVEL}
            if not all(arg in foreign for arg in ids):
                continue
            variants.append({arg: foreign[arg] for arg in ids})
            # One foreign id among the user's own: e.g. their mediator, another's absence.
            if len(ids) > 1:
                for arg in ids:
                    variants.append({**{a: own[a] for a in ids}, arg: foreign[arg]})
        for values in variants:
            url = fill(rule, {**dict.fromkeys(NOT_OBJECT_IDS, "x"), **values})
            for method in ("GET", "POST"):
                if method not in rule.methods:
                    continue
                data = {"csrf_token": token} if method == "POST" else None
                response = client.open(url, method=method, data=data)
                response.close()
                tried += 1
                if response.status_code != 404:
                    failures.append((method, url, rule.endpoint, response.status_code))
    assert tried >= 20
    assert not failures, "\n".join(map(str, failures))


@pytest.mark.parametrize("who", sorted(FOREIGN))
def test_own_objects_are_reachable(app, factory, who):
    """The same walk with the user's own ids is not all 404: the ids and the login work."""
    world = build_world(factory)
    client = app.test_client()
    login(client, world.user(who))
    own = world.unit("A1")
    ok = []
    for rule in id_rules(app):
        if "GET" not in rule.methods or not set(params(rule)) <= set(own):
            continue
        url = fill(rule, own)
        response = client.get(url)
        response.close()
        if response.status_code == 200:
            ok.append(rule.endpoint)
    assert "requests.detail" in ok or who == "coord_A" and "core.ambito" in ok, ok


def test_admin_reaches_every_ambito(app, factory):
    """The admin, scoped to the whole region, opens the objects of both Ambiti."""
    world = build_world(factory)
    client = app.test_client()
    login(client, world.user("admin"))
    for school in ("A1", "B2"):
        unit = world.unit(school)
        assert client.get(f"/requests/{unit['request_id']}").status_code == 200
        assert client.get(f"/ambiti/{unit['ambito_id']}").status_code == 200
