"""Command-line commands for real deployments."""

import sqlalchemy as sa

from mediation.extensions import db
from mediation.models import OutboxMessage, Role, User


def test_create_user_sends_an_invitation(runner, factory):
    """`flask create-user` creates a scoped account and queues its invitation."""
    school = factory.school(code="LOIC81200X")
    db.session.commit()
    result = runner.invoke(args=[
        "create-user", "--email", "Anna.Verdi@Example.org", "--name", "Anna Verdi",
        "--role", "lead", "--school", "LOIC81200X"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.email == "anna.verdi@example.org"))
    assert user.role == Role.lead and user.school_id == school.id
    assert user.password_hash is None
    message = db.session.scalar(sa.select(OutboxMessage))
    assert message.recipient_id == user.id and message.template == "invitation"


def test_create_user_refuses_a_wrong_scope(runner, factory):
    """A teacher without a school is refused with a clear message, not a traceback."""
    result = runner.invoke(args=[
        "create-user", "--email", "x@example.org", "--name", "X", "--role", "teacher"])
    assert result.exit_code != 0
    assert "--school" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_create_user_refuses_a_duplicate_email(runner, factory):
    """Emails are unique whatever their case."""
    factory.user(Role.admin, email="boss@example.org")
    db.session.commit()
    result = runner.invoke(args=[
        "create-user", "--email", "BOSS@example.org", "--name", "B", "--role", "admin",
        "--password", "long enough password"])
    assert result.exit_code != 0
    assert "Esiste già un account con questa email." in result.output


def test_create_user_with_password_can_log_in(runner, client):
    """With --password no invitation is needed."""
    result = runner.invoke(args=[
        "create-user", "--email", "admin@example.org", "--name", "Admin", "--role", "admin",
        "--password", "long enough password"])
    assert result.exit_code == 0, result.output
    response = client.post("/login", data={"email": "admin@example.org",
                                           "password": "long enough password"})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_seed_is_idempotent(runner):
    """`flask seed` loads the reference data once; a second run adds nothing."""
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    assert "languages: 34 created" in first.output
    second = runner.invoke(args=["seed"])
    assert second.exit_code == 0, second.output
    assert all(line.endswith(": 0 created") for line in second.output.splitlines())
