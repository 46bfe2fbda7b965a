"""The password policy: length, common passwords, not the email or name; everywhere it is set."""

import re

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from werkzeug.security import check_password_hash

from mediation.auth import tokens
from mediation.auth.operations import WeakPassword, create_user, reset_password
from mediation.auth.passwords import common_passwords, password_problem
from mediation.extensions import db
from mediation.models import Role, User

from tests.conftest import FAST_HASH, PASSWORD

GOOD = "viola tram lungo lago"
TOO_SHORT_IT = "Usa almeno 12 caratteri."
COMMON_IT = "Questa password è troppo comune o facile da indovinare: scegline una diversa."
PERSONAL_IT = "La password non deve contenere la tua email né il tuo nome."


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short 1", "characters"),
        ("password1234", "common"),
        ("Password1234", "common"),  # the list is compared without case
        ("qwerty123456", "common"),
        ("q1w2e3r4t5y6", "common"),
        ("aaaaaaaaaaaaaaa", "common"),
        ("giulia.ferri@scuola.it", "email"),
        ("GiuliaFerri2026!", "email"),
        ("ferri forever and ever", "email"),
    ],
)
def test_weak_passwords_are_refused(app, password, reason):
    """Short, common or personal passwords each get their reason."""
    with force_locale("en"):
        problem = password_problem(password, "giulia.ferri@scuola.it", "Giulia Ferri")
        assert problem is not None
        assert reason in str(problem)


def test_a_good_password_passes(app):
    """A long passphrase unrelated to the account is accepted."""
    assert password_problem(GOOD, "giulia.ferri@scuola.it", "Giulia Ferri") is None


def test_minimum_length_is_configurable(app):
    """PASSWORD_MIN_LENGTH raises (or lowers) the minimum."""
    app.config["PASSWORD_MIN_LENGTH"] = 30
    with force_locale("en"):
        assert str(password_problem(GOOD)) == "Use at least 30 characters."


def test_the_shipped_list_is_loaded():
    """The package ships the list of common passwords (about 20,000 entries)."""
    assert len(common_passwords()) > 19000
    assert "password" in common_passwords()


@pytest.fixture
def teacher(factory):
    user = factory.user(Role.teacher, email="giulia.ferri@scuola.it", display_name="Giulia Ferri")
    db.session.commit()
    return user


def mailed_link(user) -> str:
    from mediation.models import OutboxMessage

    body = db.session.scalars(sa.select(OutboxMessage.body_text)
                              .where(OutboxMessage.recipient_id == user.id)).all()[-1]
    return re.search(r"https?://[^/\s]+(/\S+)", body).group(1)


def password_unchanged(user) -> bool:
    db.session.expire_all()
    return db.session.get(User, user.id).password_hash == FAST_HASH


class TestEveryWayOfSettingAPassword:
    def test_reset_page(self, client, teacher):
        """The reset page refuses a common password next to the field, keeping the old one."""
        client.post("/password/forgot", data={"email": teacher.email})
        link = mailed_link(teacher)
        response = client.post(link, data={"password": "password1234",
                                           "confirm": "password1234"})
        assert response.status_code == 200
        assert 'id="password-error"' in response.text
        assert COMMON_IT in response.text
        assert password_unchanged(teacher)
        assert client.post(link, data={"password": GOOD, "confirm": GOOD}).status_code == 302

    def test_invitation_page(self, client, factory):
        """Accepting an invitation refuses a password made of one's email."""
        school = factory.school()
        user = create_user("paolo.neri@scuola.it", "Paolo Neri", Role.teacher, None,
                           school_id=school.id)
        db.session.commit()
        link = mailed_link(user)
        response = client.post(link, data={"password": "paolo.neri@scuola.it",
                                           "confirm": "paolo.neri@scuola.it"})
        assert PERSONAL_IT in response.text
        db.session.expire_all()
        assert db.session.get(User, user.id).password_hash is None
        assert client.get("/account").status_code == 302  # not logged in

    def test_account_page(self, client, auth, teacher):
        """Changing one's password on the account page applies the minimum length."""
        auth.login(teacher)
        response = client.post("/account", data={
            "action": "password", "pw-current": PASSWORD,
            "pw-password": "short 1", "pw-confirm": "short 1"})
        assert TOO_SHORT_IT in response.text
        assert 'id="pw-password-error"' in response.text
        assert password_unchanged(teacher)

    def test_account_page_says_the_rule_in_english(self, client, auth, teacher):
        """The rule is shown translated: English for English users."""
        teacher.locale = "en"
        auth.login(teacher)
        response = client.get("/account")
        assert ("At least 12 characters; not a common password, nor your email or name."
                in response.text)

    def test_create_user_command(self, runner):
        """`flask create-user --password` refuses a common password and creates nobody."""
        result = runner.invoke(args=[
            "create-user", "--email", "boss@example.org", "--name", "Boss", "--role", "admin",
            "--password", "qwerty123456"])
        assert result.exit_code != 0
        assert COMMON_IT in result.output
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0

    def test_operations_refuse_too(self, teacher):
        """The operation itself refuses a weak password, whatever form called it."""
        token = tokens.make_token(teacher, tokens.RESET)
        with pytest.raises(WeakPassword) as error:
            reset_password(token, "Giulia Ferri 1")
        assert error.value.field == "password"
        assert check_password_hash(db.session.get(User, teacher.id).password_hash, PASSWORD)
