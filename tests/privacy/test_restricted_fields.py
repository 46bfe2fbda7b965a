"""The country of origin and the risk indicators reach leads, coordinators and the admin only.

With pupil cases that have a distinctive country (Tuvalu) and every risk indicator, every
page a mediator or a teacher can open (the URL map walked with their own ids), every export
and every email they can receive is searched for those values.
"""

import base64
import re

import pytest

from mediation.extensions import db
from mediation.models import LogState, TimeProposal
from mediation.outbox import queue_email

from tests.conftest import csrf_token, login
from tests.outbox.test_email_templates import cases as email_cases
from tests.privacy.test_scope_walk import params
from tests.scenarios.two_ambiti import SECRET_COUNTRY_SHOWN, build_world

#: What shows a restricted field, in Italian and in English.
RESTRICTED = (*SECRET_COUNTRY_SHOWN,
              "Country of origin", "Paese di origine",
              "Risk indicators", "Indicatori di rischio",
              "Many absences", "Molte assenze",
              "Has repeated a year", "Ha ripetuto un anno",
              "Enrolled late", "Inserito in ritardo",
              "Italian level", "Livello di italiano")
RESTRICTED_WORDS = re.compile("|".join(re.escape(word) for word in RESTRICTED), re.IGNORECASE)

WHO = ("teacher_A1", "med_A1")


@pytest.fixture
def app_config(app_config):
    app_config["WTF_CSRF_ENABLED"] = True
    return app_config


@pytest.fixture
def world(factory):
    return build_world(factory)


def leaks(text: str) -> list[str]:
    return RESTRICTED_WORDS.findall(text)


def test_the_lead_does_see_them(app, world):
    """The check is not empty: the lead's case page shows the country and the indicators."""
    client = app.test_client()
    login(client, world.user("lead_A1"))
    text = client.get(f"/cases/{world['case_A1'].id}").text
    assert "Tuvalu" in text and "Molte assenze" in text


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("locale", ["it", "en"])
def test_no_page_shows_them(app, world, who, locale):
    """Every GET route, filled with the user's own ids, never shows a restricted field."""
    user = world.user(who)
    user.locale = locale
    db.session.commit()
    client = app.test_client()
    login(client, user)
    own = {**world.unit("A1"), "type_code": "family_meeting"}
    seen, found = 0, []
    for rule in app.url_map.iter_rules():
        names = params(rule)
        if "GET" not in rule.methods or rule.endpoint == "static" or not set(names) <= set(own):
            continue
        response = client.get(re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(own[m.group(1)]),
                                     rule.rule))
        body = response.get_data(as_text=response.mimetype.startswith("text/"))
        response.close()
        if response.status_code == 200:
            seen += 1
            if isinstance(body, str):
                found += [(rule.rule, word) for word in leaks(body)]
    assert seen >= 8, seen
    assert not found, found


@pytest.mark.parametrize("who", WHO)
def test_no_export_or_calendar_shows_them(app, world, who):
    """The exports (refused to these roles) and the user's calendar feed hide them too."""
    client = app.test_client()
    login(client, world.user(who))
    token = csrf_token(client.get("/account").text)
    for kind in ("sessions", "beneficiaries", "summary"):
        for fmt in ("csv", "xlsx"):
            response = client.get(f"/reporting/export/{kind}.{fmt}")
            assert response.status_code == 404 or not leaks(response.get_data(as_text=True))
    created = client.post("/account/calendar-feed", data={"csrf_token": token})
    assert created.status_code == (302 if who == "med_A1" else 404)  # mediators only
    db.session.expire_all()
    feed_token = world.user(who).calendar_token
    if feed_token:
        feed = client.get(f"/calendar/{feed_token}.ics")
        assert feed.status_code == 200
        assert not leaks(feed.get_data(as_text=True))


@pytest.mark.parametrize(("template", "kind"), list(email_cases()))
@pytest.mark.parametrize("who", WHO)
def test_no_email_shows_them(app, world, who, template, kind):
    """Every email, about the pupil's request, rendered for a mediator or a teacher."""
    log = world["log_A1"]
    log.state = LogState.returned
    context = {"request": world["req_A1"], "assignment": world["asg_A1"], "log": log,
               "inviter": world["coord_A"], "token": "t0k3n"}
    if kind:
        context["kind"] = kind
    if template == "proposal":  # a time proposed to the school, and its answer
        assignment = world["asg_A1"]
        context["proposal"] = TimeProposal(
            request=world["req_A1"], mediator=assignment.mediator,
            start_dt=assignment.start_dt, end_dt=assignment.end_dt,
            proposed_by=world["coord_A"], answered_by=world.user("teacher_A1"))
        db.session.add(context["proposal"])
    if template == "broadcast":  # an offer to several mediators, and its end
        context["invitation"] = world["inv_A1"]
        context["broadcast"] = world["inv_A1"].broadcast
    user = world.user(who)
    for locale in ("it", "en"):
        user.locale = locale
        message = queue_email(template, user, **context)
        files = [base64.b64decode(a["data"]).decode("utf-8", "replace")
                 for a in message.attachments]
        text = "\n".join([message.subject, message.body_text, message.body_html or "", *files])
        assert not leaks(text), (template, kind, leaks(text))
