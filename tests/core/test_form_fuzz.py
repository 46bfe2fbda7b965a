"""Every form, fed hypothesis-generated input by every role: never a 500.

The forms are found the way a browser finds them: every page the user can open (the URL map
walked with their own ids) is read, and each ``<form>`` gives its action, method and field
names. Each example picks one form, drops some fields, fills the others with unicode, huge
strings, negative or huge numbers, impossible dates (year 9999, 0000-00-00, 31 February),
wrong types and files, and sends it with a valid CSRF token. A 400 or a form shown again
with its errors is fine; a 500 is not.
"""

import io
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from mediation.extensions import db
from mediation.models import AssignmentState, RequestKind, RequestState

from tests.conftest import csrf_token, login
from tests.privacy.test_scope_walk import params
from tests.scenarios.two_ambiti import build_world

#: Examples per role: a fixed, repeatable set by default (about 15 s in all on SQLite);
#: ``MEDIATION_FUZZ_EXAMPLES=2000`` explores new random input for a longer hunt.
EXAMPLES = int(os.environ.get("MEDIATION_FUZZ_EXAMPLES", 60))
EXPLORE = "MEDIATION_FUZZ_EXAMPLES" in os.environ
ROLES = ("teacher_A1", "lead_A1", "med_A1", "coord_A", "admin")
#: Actions that end the session: the rest of the run would only see the login page.
SKIPPED = {"/logout", "/logout-everywhere"}

FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
ATTR = re.compile(r'(\w[\w-]*)="([^"]*)"')
FIELD = re.compile(r'<(?:input|select|textarea)\b[^>]*\bname="([^"]+)"[^>]*>', re.I)
FILE_FIELD = re.compile(r'<input\b[^>]*type="file"[^>]*name="([^"]+)"|'
                        r'<input\b[^>]*name="([^"]+)"[^>]*type="file"', re.I)


@dataclass(frozen=True)
class Form:
    action: str
    method: str
    fields: tuple[str, ...]
    files: tuple[str, ...]


def forms_of(html: str, page: str) -> set[Form]:
    found = set()
    for attributes, body in FORM.findall(html):
        attrs = dict(ATTR.findall(attributes))
        action = unescape(attrs.get("action") or page).split("?")[0]
        method = attrs.get("method", "get").upper()
        files = {a or b for a, b in FILE_FIELD.findall(body)}
        fields = {name for name in FIELD.findall(body) if name != "csrf_token"} - files
        found.add(Form(action, method, tuple(sorted(fields)), tuple(sorted(files))))
    return found


def reachable_forms(app, client, owns: list[dict]) -> list[Form]:
    """The forms on every page the logged-in user can open, with each set of their ids."""
    forms = set()
    urls = set()
    for own in owns:
        for rule in app.url_map.iter_rules():
            names = params(rule)
            if ("GET" not in rule.methods or rule.endpoint == "static"
                    or not set(names) <= set(own)):
                continue
            urls.add(re.sub(r"<(?:\w+:)?(\w+)>", lambda m, own=own: str(own[m.group(1)]),
                            rule.rule))
    for url in sorted(urls):
        response = client.get(url)
        if response.status_code == 200 and response.mimetype == "text/html":
            forms |= forms_of(response.text, url)
        response.close()
    return sorted((f for f in forms if f.action not in SKIPPED),
                  key=lambda f: (f.action, f.method, f.fields))


NUMBERS = st.one_of(st.integers(-(10**12), 10**12), st.sampled_from(
    [-1, 0, 2**31, 2**63, -(2**63) - 1, 10**30])).map(str)
DATES = st.sampled_from(["9999-12-31", "0001-01-01", "0000-00-00", "2026-02-30", "31/12/9999",
                         "2026-13-01", "-2026-01-01", "9999-12-31T23:59", "2026-W01", "1e9"])
TIMES = st.sampled_from(["23:59", "24:00", "25:61", "00:00", "-1:00", "12:00:00.999999",
                         "9:5", "noon"])
HUGE = st.sampled_from(["x", "è", "💥", "\u202e", "0", "<b>"]).map(lambda s: s * 100_000)
VALUES = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=300),
    HUGE, NUMBERS, DATES, TIMES,
    st.sampled_from(["", " ", "\x00", "None", "null", "true", "on", "y", "[]", "{}",
                     "NaN", "-Infinity", "1.5", "1,5", "ar", "it", "open", "A0",
                     "family_meeting", "../../etc/passwd", "' OR 1=1 --"]),
    st.lists(st.text(max_size=10), min_size=2, max_size=3),
)
FILES = st.tuples(st.binary(max_size=2000),
                  st.sampled_from(["a.pdf", "b.txt", "c.docx", ".pdf", "", "é.png",
                                   "x" * 300 + ".txt", "../../evil.pdf"]))


def send(client, form: Form, token: str, data: dict):
    if form.method == "POST":
        fields = {"csrf_token": token, **{
            k: FileStorage(io.BytesIO(v[0]), filename=v[1]) if isinstance(v, tuple) else v
            for k, v in data.items()}}
        # Encoded in memory: the test client would spool a large body to an unclosed file.
        boundary, body = encode_multipart(fields)
        return client.post(form.action, data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")
    return client.get(form.action, query_string={k: v for k, v in data.items()
                                                 if not isinstance(v, tuple)})


def add_work_in_progress(world, factory):
    """An open request, an offer waiting for med_A1 and a past session not yet logged, so
    that the forms to offer, cancel, accept, decline and log are on the pages."""
    w = world.objects
    school, med = w["school_A1"], w["med_A1"]
    req = w["req_A1"]
    common = dict(school=school, project=req.project, requester=w["teacher_A1"],
                  language=req.language, type=req.type)
    w["req_open"] = factory.request(state=RequestState.open, notes="n", **common)
    factory.request_type(code="translation", kind=RequestKind.deadline,
                         default_duration_minutes=None)
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(days=10)
    offered = factory.request(state=RequestState.offered, **common)
    w["asg_offered"] = factory.assignment(request=offered, mediator=med, start=soon,
                                          end=soon + timedelta(hours=1))
    past = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    confirmed = factory.request(state=RequestState.confirmed, **common)
    w["asg_unlogged"] = factory.assignment(request=confirmed, mediator=med, start=past,
                                           end=past + timedelta(hours=1),
                                           state=AssignmentState.accepted)
    db.session.commit()


@pytest.fixture
def app_config(app_config):
    app_config["WTF_CSRF_ENABLED"] = True
    return app_config


@pytest.mark.parametrize("who", ROLES)
def test_no_form_input_gives_a_500(app, factory, who):
    """Random input in every reachable form, as each role, never breaks the server."""
    world = build_world(factory)
    add_work_in_progress(world, factory)
    user = world.user(who)
    client = app.test_client()
    login(client, user)
    token = csrf_token(client.get("/account").text)
    owns = [{**world.unit("A1"), "type_code": code} for code in ("family_meeting", "translation")]
    owns += [{"request_id": world["req_open"].id, "assignment_id": world[key].id}
             for key in ("asg_offered", "asg_unlogged")]
    forms = reachable_forms(app, client, owns)
    assert len(forms) >= 3, forms
    state = {"token": token, "sent": 0}

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=not EXPLORE, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def fuzz(data):
        form = data.draw(st.sampled_from(forms), label="form")
        kept = data.draw(st.lists(st.sampled_from(form.fields), unique=True)
                         if form.fields else st.just([]), label="fields")
        values = {name: data.draw(VALUES, label=name) for name in kept}
        for name in form.files:
            if data.draw(st.booleans(), label=f"{name} sent"):
                content, filename = data.draw(FILES, label=name)
                values[name] = (content, filename)
        response = send(client, form, state["token"], values)
        status = response.status_code
        location = response.headers.get("Location", "")
        response.close()
        state["sent"] += 1
        assert status < 500, (form.method, form.action, sorted(values), status)
        if status == 302 and "/login" in location:  # e.g. a password changed: log in again
            login(client, user)
            state["token"] = csrf_token(client.get("/account").text)
        elif status == 400 and form.method == "POST":
            state["token"] = csrf_token(client.get("/account").text)

    fuzz()
    assert state["sent"] >= 30


@pytest.mark.parametrize(("who", "url"), [
    ("coord_A", "/cases/at-risk?school=%20"),
    ("coord_A", "/coordination/requests?status=%20&urgency=%20&sort=%20&school=%20"),
    ("teacher_A1", "/requests?state=%20&type=%20&language=%20"),
    ("lead_A1", "/cases?class_name=%20&status=%20"),
])
def test_blank_filters_are_no_filter(app, factory, who, url):
    """A filter of only spaces (found by the fuzzing: a 500) lists everything instead."""
    world = build_world(factory)
    client = app.test_client()
    login(client, world.user(who))
    assert client.get(url).status_code == 200


@pytest.mark.parametrize(("who", "method", "url", "data", "status"), [
    ("teacher_A1", "GET", "/requests/9223372036854775808", None, 404),
    ("teacher_A1", "GET", "/requests?page=100000000000000000000", None, 404),
    ("lead_A1", "GET", "/cases?page=-3", None, 404),
    ("coord_A", "GET", "/reporting/?school=9223372036854775808", None, 404),
    ("coord_A", "GET", "/reporting/?school=-9223372036854775809", None, 404),
    ("coord_A", "POST", "/coordination/logs/{log}/approve",
     {"macro_action_id": "9223372036854775808"}, 400),
    ("coord_A", "POST", "/coordination/logs/approve", {"log_ids": "9223372036854775808"}, 302),
    ("coord_A", "POST", "/coordination/requests/{req}/offer-series",
     {"mediator_id": "9223372036854775808"}, 404),
])
def test_numbers_beyond_the_columns(app, factory, who, method, url, data, status):
    """Ids and pages larger than a column holds (found by the fuzzing on PostgreSQL: a 500)
    name nothing: a 404, or the form again with its error."""
    world = build_world(factory)
    client = app.test_client()
    login(client, world.user(who))
    token = csrf_token(client.get("/account").text)
    url = url.format(log=world["log_A1"].id, req=world["req_A1"].id)
    if method == "POST":
        response = client.post(url, data={"csrf_token": token, **data})
    else:
        response = client.get(url)
    assert response.status_code == status


@pytest.mark.parametrize(("method", "url", "data"), [
    ("POST", "/mediators/me/absences", {"start_date": "2027-01-04", "end_date": "2027-01-05",
                                        "reason": "ferie\x00"}),
    ("POST", "/account", {"display_name": "a\x00b", "locale": "it"}),
    ("GET", "/requests/new/family\x00meeting", None),
])
def test_a_null_character_is_refused(app, factory, method, url, data):
    """A NUL (which PostgreSQL cannot store: a 500 there) gets a translated 400 page."""
    world = build_world(factory)
    client = app.test_client()
    login(client, world.user("med_A1"))
    token = csrf_token(client.get("/account").text)
    if method == "POST":
        response = client.post(url, data={"csrf_token": token, **data})
    else:
        response = client.get(url)
    assert response.status_code == 400
    assert "carattere" in response.text
