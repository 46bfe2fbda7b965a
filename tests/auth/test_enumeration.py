"""No user enumeration: login and password reset answer alike whether or not an account exists."""

import difflib
import re

import pytest
import sqlalchemy as sa

from mediation.extensions import db
from mediation.models import OutboxMessage, Role

from tests.conftest import PASSWORD


@pytest.fixture
def accounts(factory):
    """An active account, a deactivated one and an invited one that has no password yet."""
    active = factory.user(Role.teacher, email="attiva@example.org")
    factory.user(Role.teacher, email="disattivata@example.org", active=False)
    factory.user(Role.teacher, email="invitata@example.org", password_hash=None)
    db.session.commit()
    return active


def answer(response, email: str) -> tuple[int, str]:
    """The status and the page, with the typed email and the CSRF tokens blanked out: a
    token is signed with the second it was made, so two pages a second apart differ there
    (which is how this test failed now and then on a slow machine)."""
    page = response.get_data(as_text=True).replace(email, "EMAIL")
    return response.status_code, re.sub(r'(name="csrf_token" value=")[^"]*"', r'\1TOKEN"', page)


def test_login_failures_are_indistinguishable(client, accounts):
    """Unknown email, wrong password, deactivated and invited accounts get the same page."""
    cases = {
        "nessuno@example.org": "some password here",  # no such account
        "attiva@example.org": "wrong password here",  # wrong password
        "disattivata@example.org": PASSWORD,  # right password, deactivated account
        "invitata@example.org": PASSWORD,  # invited, no password chosen yet
    }
    answers = {answer(client.post("/login", data={"email": email, "password": password}),
                      email)
               for email, password in cases.items()}
    # Seen once in a full run (two different pages), not reproduced since: show the
    # difference if it happens again.
    assert len(answers) == 1, "\n".join(difflib.unified_diff(
        *(page.splitlines() for _status, page in list(answers)[:2]), lineterm=""))
    [(status, page)] = answers
    assert status == 200
    assert "Email o password non corretti." in page


def test_password_reset_answers_the_same_and_mails_only_real_accounts(client, accounts):
    """Every email gets the same answer; only the active account receives a link."""
    answers = set()
    for email in ("attiva@example.org", "nessuno@example.org", "disattivata@example.org"):
        response = client.post("/password/forgot", data={"email": email},
                               follow_redirects=True)
        answers.add(answer(response, email))
    assert len(answers) == 1
    [(status, page)] = answers
    assert status == 200
    assert "Se esiste un account per EMAIL" in page
    recipients = db.session.scalars(sa.select(OutboxMessage.recipient_email)).all()
    assert recipients == ["attiva@example.org"]


def test_password_reset_redirect_is_the_same(client, accounts):
    """The immediate answer (a redirect to the login page) does not depend on the account."""
    known = client.post("/password/forgot", data={"email": "attiva@example.org"})
    unknown = client.post("/password/forgot", data={"email": "nessuno@example.org"})
    assert (known.status_code, known.headers["Location"]) == (
        unknown.status_code, unknown.headers["Location"])
