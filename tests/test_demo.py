"""`flask demo`: realistic data, idempotent, every role can log in."""

import re

import sqlalchemy as sa

from mediation.extensions import db
from mediation.models import MediationRequest, Project, RequestState, Role, User

from .conftest import Auth

HOME_MARKERS = {
    "teacher": ("Ultime richieste", "Latest requests"),
    "lead": ("Ultime richieste", "Latest requests"),
    "mediator": ("La mia agenda", "My agenda"),
    "coordinator": ("Richieste in attesa di un mediatore", "Requests waiting for a mediator"),
    "admin": ("Quadro regionale", "Regional overview"),
}


def row_counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def test_demo_twice_creates_nothing_new(runner):
    """Running `flask demo` a second time changes no table and prints the same logins."""
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    counts = row_counts()
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0, second.output
    assert row_counts() == counts
    assert first.output == second.output
    assert counts["mediation_requests"] >= 30
    assert counts["ambiti"] >= 3


def test_demo_has_what_people_expect(runner):
    """Both projects, requests in every state, and a login for every role."""
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    states = set(db.session.scalars(sa.select(MediationRequest.state).distinct()))
    assert states == set(RequestState)
    lab = db.session.scalar(sa.select(Project).where(Project.code == "LABIMPACT"))
    assert str(lab.effective_end_date) == "2023-06-30"
    assert str(lab.total_budget) == "296672.06"
    roles = set(re.findall(r"^\s+(teacher|lead|mediator|coordinator|admin)\s", result.output,
                           re.M))
    assert roles == {r.value for r in Role}


def test_every_demo_role_sees_its_home_in_both_languages(app, runner):
    """Each printed demo login reaches its role's home page, in Italian then in English."""
    output = runner.invoke(args=["demo"]).output
    logins = re.findall(r"^\s+(teacher|lead|mediator|coordinator|admin)\s+(\S+@\S+)", output,
                        re.M)
    assert {role for role, _ in logins} == set(HOME_MARKERS)
    for role, email in logins:
        user = db.session.scalar(sa.select(User).where(User.email == email))
        assert user.role.value == role
        client = app.test_client()
        response = Auth(client).login(email, "demo", follow=True)
        assert response.status_code == 200, email
        markers = dict(zip(("it", "en"), HOME_MARKERS[role], strict=True))
        first = user.locale or "it"  # the demo has one teacher who chose English
        assert f'<html lang="{first}"' in response.text and markers[first] in response.text
        other = "en" if first == "it" else "it"
        client.post("/locale", data={"locale": other, "next": "/"})
        response = client.get("/", follow_redirects=True)
        assert f'<html lang="{other}"' in response.text and markers[other] in response.text
