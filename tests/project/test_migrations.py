"""The migrations build the schema the models describe, with the never-break rules."""

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from mediation import create_app
from mediation.extensions import db

from tests.conftest import TEST_DATABASE_URL, count_database_test, make_test_config


@pytest.fixture
def empty_database_url(tmp_path):
    """An empty database of the backend under test."""
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path / 'migrated.sqlite'}"
        return
    name = f"migration_{uuid.uuid4().hex[:8]}"
    server = sa.create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    yield sa.make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    with server.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
    server.dispose()


@pytest.fixture
def migrated(tmp_path, empty_database_url):
    app = create_app(make_test_config(tmp_path, SQLALCHEMY_DATABASE_URI=empty_database_url))
    with app.app_context():
        count_database_test()
        upgrade()
        yield app
        db.session.remove()
        db.engine.dispose()


def test_models_match_migrations(migrated):
    """`flask db check` in a test: upgrading an empty database gives the models' schema."""
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []


def test_migrated_schema_refuses_overlaps(migrated):
    """The overlap rule is part of the migration, not only of create_all."""
    from mediation.models import Assignment

    from tests.conftest import Factory

    factory = Factory()
    mediator = factory.mediator()
    r1, r2, r3 = factory.request(), factory.request(), factory.request()
    db.session.commit()

    def insert(request, start_hour, start_minute=0):
        start = datetime(2026, 12, 1, start_hour, start_minute, tzinfo=UTC)
        db.session.execute(sa.insert(Assignment.__table__).values(
            request_id=request.id, project_id=request.project_id,
            school_id=request.school_id, mediator_id=mediator.id,
            state="offered",
            start_dt=start, end_dt=start.replace(hour=start_hour + 1), offered_dt=start,
            sequence=0))
        db.session.commit()

    insert(r1, 9)
    insert(r2, 10)  # back to back: fine
    with pytest.raises(sa.exc.IntegrityError):
        insert(r3, 9, 30)
    db.session.rollback()


def test_downgrade_empties_the_database(migrated):
    """The initial migration can be undone."""
    downgrade(revision="base")
    with db.engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names()) - {"alembic_version"}
    assert tables == set()


def test_upgrade_keeps_the_data_of_the_first_revision(tmp_path, empty_database_url):
    """A database filled under the first migration upgrades to head with its requests."""
    app = create_app(make_test_config(tmp_path, SQLALCHEMY_DATABASE_URI=empty_database_url))
    with app.app_context():
        count_database_test()
        upgrade(revision="9a73f80ca19c")
        now = "'2026-11-02 10:00:00'"
        statements = [
            "INSERT INTO ambiti (id, code, name, lead_agency) VALUES (1, 'LODI', 'Lodi', 'ASC')",
            "INSERT INTO schools (id, ambito_id, code, name, municipality, requires_lead_approval)"
            " VALUES (1, 1, 'LOIC81200X', 'IC Lodi III', 'Lodi', false)",
            "INSERT INTO users (id, email, display_name, role, school_id, active,"
            " session_version, created_dt)"
            f" VALUES (1, 't@x.it', 'T', 'teacher', 1, true, 1, {now})",
            "INSERT INTO languages (id, code, name_it, name_en)"
            " VALUES (1, 'ar', 'Arabo', 'Arabic')",
            "INSERT INTO request_types (id, code, name_it, name_en, kind, concerns_pupil,"
            " default_macro_action_number, position, active)"
            " VALUES (1, 'meeting', 'Colloquio', 'Meeting', 'slot', false, 1, 0, true)",
            "INSERT INTO projects (id, code, title, fund, lead_partner, start_date, end_date)"
            " VALUES (1, 'P', 'P', 'FAMI', 'RL', '2024-01-01', '2027-06-30')",
            "INSERT INTO mediation_requests (id, project_id, school_id, requester_id, type_id,"
            " language_id, state, mode, urgency, expected_pupils, expected_parents,"
            " expected_teachers, duration_minutes, created_dt, updated_dt, cancelled_late)"
            f" VALUES (1, 1, 1, 1, 1, 1, 'open', 'in_person', 'normal', 0, 1, 0, 60, {now},"
            f" {now}, false)",
            "INSERT INTO preferred_slots (id, request_id, position, start_dt, end_dt)"
            f" VALUES (1, 1, 1, {now}, '2026-11-02 11:00:00')",
        ]
        with db.engine.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
        upgrade()
        with db.engine.connect() as conn:
            row = conn.exec_driver_sql(
                "SELECT state, series_id FROM mediation_requests WHERE id = 1").one()
            slots = conn.exec_driver_sql("SELECT count(*) FROM preferred_slots").scalar()
        assert tuple(row) == ("open", None) and slots == 1
        db.session.remove()
        db.engine.dispose()


def test_reporting_copies_and_totals_are_backfilled(migrated):
    """Upgrading to 25287a4dd3c4 fills the logs' copies and the running totals."""
    from datetime import timedelta

    from mediation.models import (
        ApprovedSessionTotal,
        Assignment,
        AssignmentState,
        LogState,
        MacroAction,
        Outcome,
        SessionLog,
    )

    from tests.conftest import Factory

    factory = Factory()
    mediator = factory.mediator()
    start = datetime(2026, 10, 5, 8, tzinfo=UTC)
    deadline = datetime(2026, 10, 9, 15, tzinfo=UTC)
    meeting, translation = factory.request(), factory.request()
    macro = factory.add(MacroAction(project=meeting.project, number=1, title_it="M",
                                    title_en="M"))
    a1 = factory.assignment(request=meeting, mediator=mediator, start=start,
                            end=start + timedelta(minutes=75), state=AssignmentState.accepted)
    a2 = factory.add(Assignment(request=translation, mediator=mediator, deadline_dt=deadline,
                                state=AssignmentState.accepted))
    for assignment, begins in ((a1, start), (a2, None)):
        factory.add(SessionLog(assignment=assignment, actual_start_dt=begins,
                               actual_end_dt=begins and begins + timedelta(minutes=75),
                               outcome=Outcome.held, macro_action=macro,
                               state=LogState.approved))
    db.session.commit()
    expected = {
        a1.id: (start, meeting.id, meeting.project_id, meeting.school_id, mediator.id),
        a2.id: (deadline, translation.id, translation.project_id, translation.school_id,
                mediator.id),
    }
    db.session.remove()
    downgrade(revision="c3e7549eddb4")
    upgrade()
    rows = db.session.execute(sa.select(
        SessionLog.assignment_id, SessionLog.counted_dt, SessionLog.request_id,
        SessionLog.project_id, SessionLog.school_id, SessionLog.mediator_id)).all()
    assert {row[0]: tuple(row[1:]) for row in rows} == expected
    totals = db.session.execute(sa.select(
        ApprovedSessionTotal.school_id, ApprovedSessionTotal.sessions,
        ApprovedSessionTotal.seconds).order_by(ApprovedSessionTotal.seconds)).all()
    assert [tuple(t) for t in totals] == [(translation.school_id, 1, 0),
                                         (meeting.school_id, 1, 4500)]


def test_the_migrations_have_one_head():
    """Two branches that each add a migration on the same parent leave two heads, and
    `flask db upgrade` then refuses to run: each new migration must follow the last one."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from mediation import PROJECT_ROOT

    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, heads


def test_family_codes_start_empty_on_the_demo_data(migrated):
    """Upgrading a database holding the demo data to 3b8e61f0c2d4 (family codes) leaves
    every family code empty: each pupil case is its own family, and the people met at a
    session naming no pupil are not identified, as the figures then say."""
    from datetime import date

    from mediation.demo import load_demo
    from mediation.models import MediationRequest, Outcome, PupilCase, SessionLog, User
    from mediation.models.bookings import LogState
    from mediation.reporting import aggregates
    from mediation.reporting.filters import ReportFilter

    downgrade(revision="3b8d1f6a2c47")
    load_demo()
    db.session.commit()
    db.session.remove()
    upgrade()
    assert db.session.scalar(sa.select(sa.func.count()).where(
        PupilCase.family_code.is_not(None))) == 0
    assert db.session.scalar(sa.select(sa.func.count()).where(
        MediationRequest.family_code.is_not(None))) == 0
    admin = db.session.scalar(sa.select(User).where(User.role == "admin").limit(1))
    year = ReportFilter(start=date(2000, 1, 1), end=date(2100, 12, 31))
    people = aggregates.beneficiaries(year, admin)
    held = sa.and_(SessionLog.state == LogState.approved, SessionLog.outcome == Outcome.held)
    pupils = db.session.scalar(sa.select(sa.func.count(sa.distinct(SessionLog.pupil_case_id)))
                               .where(held, SessionLog.pupils_met > 0))
    unidentified_parents = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(SessionLog.parents_met), 0))
        .where(held, SessionLog.pupil_case_id.is_(None)))
    assert pupils > 0 and people["pupils"] == pupils
    assert people["unidentified_parents"] == unidentified_parents


def test_session_attestations_on_the_demo_data(migrated):
    """Upgrading a database holding the demo data to 6c1e9d4b2a75 (session attestations)
    adds an empty table: every approved session of the demo is pending on the dashboard,
    and a session can then be attested."""
    from datetime import date

    from mediation.bookings import operations
    from mediation.demo import load_demo
    from mediation.models import SessionAttestation, SessionLog, User
    from mediation.models.bookings import LogState
    from mediation.reporting import aggregates
    from mediation.reporting.filters import ReportFilter

    downgrade(revision="3b8e61f0c2d4")
    load_demo()
    db.session.commit()
    db.session.remove()
    upgrade()
    assert db.session.scalar(sa.select(sa.func.count(SessionAttestation.id))) == 0
    admin = db.session.scalar(sa.select(User).where(User.role == "admin").limit(1))
    ever = ReportFilter(start=date(2000, 1, 1), end=date(2100, 12, 31))
    approved = db.session.scalar(sa.select(sa.func.count(SessionLog.id)).where(
        SessionLog.state == LogState.approved))
    assert approved > 0
    assert aggregates.attestations(ever, admin) == {
        "sessions": approved, "attested": 0, "disputed": 0, "pending": approved}
    log = db.session.scalar(sa.select(SessionLog).where(SessionLog.state == LogState.approved)
                            .order_by(SessionLog.id).limit(1))
    operations.attest_session(log.assignment.request.requester, log)
    db.session.commit()
    assert aggregates.attestations(ever, admin)["attested"] == 1


def test_session_feedback_on_the_demo_data(migrated):
    """Upgrading a database holding the demo data (loaded without the table) to
    b3d81f5c07e2 (session feedback) adds an empty table: the dashboard counts no answer,
    and a held session can then be rated, once per side (the unique constraint)."""
    from datetime import date

    from mediation.demo import load_demo
    from mediation.models import FeedbackSide, Outcome, SessionFeedback, SessionLog, User
    from mediation.reporting import aggregates
    from mediation.reporting.filters import ReportFilter

    downgrade(revision="f7a2c9e41b63")
    load_demo()
    db.session.commit()
    db.session.remove()
    upgrade()
    assert db.session.scalar(sa.select(sa.func.count(SessionFeedback.id))) == 0
    admin = db.session.scalar(sa.select(User).where(User.role == "admin").limit(1))
    ever = ReportFilter(start=date(2000, 1, 1), end=date(2100, 12, 31))
    assert aggregates.feedback(ever, admin)["overall"] == {
        "answers": 0, "useful": 0, "share": None}
    log = db.session.scalar(sa.select(SessionLog).where(SessionLog.outcome == Outcome.held)
                            .order_by(SessionLog.id).limit(1))
    for rating in (5, 4):
        db.session.add(SessionFeedback(session_log_id=log.id, side=FeedbackSide.school,
                                       rating=rating, by_id=log.requester_id))
        if rating == 5:
            db.session.commit()
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()
