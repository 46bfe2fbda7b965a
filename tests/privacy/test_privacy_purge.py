"""The retention purge: personal fields go, the funder's figures stay exactly the same."""

import csv
import io
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import current_app

from mediation.extensions import db
from mediation.models import (
    Absence,
    Assignment,
    AuditEvent,
    Document,
    DocumentKind,
    FeedbackSide,
    ItalianLevel,
    MediationRequest,
    OutboxMessage,
    OutboxState,
    PupilCase,
    SessionFeedback,
    SessionLog,
    UserSession,
)
from mediation.reporting import aggregates
from mediation.reporting.filters import ReportFilter

from tests.conftest import Auth, login
from tests.scenarios import reporting_data
from tests.scenarios.booking import rome
from tests.scenarios.reporting_data import TODAY

BEFORE = "2025-04-01"
PERIOD = ReportFilter(start=date(2024, 1, 1), end=date(2025, 12, 31))
QUERY = "start=2024-01-01&end=2025-12-31&lang=en"


@pytest.fixture
def data(factory):
    """The reporting dataset, each request ended 30 days after it was filed, with personal
    data everywhere: cases, notes, summaries, reasons, documents, an absence, emails."""
    data = reporting_data.build(factory)
    arabic = data.arabic
    moroccan = factory.language("ar-MA", name_it="Arabo marocchino", name_en="Moroccan Arabic",
                                parent=arabic)
    for case in db.session.scalars(sa.select(PupilCase)):
        case.country_of_origin, case.italian_level = "TV", ItalianLevel.a1
        case.high_absences = case.repeated_year = case.late_enrolment = True
        case.arrival_year = 2022
        case.home_languages.append(arabic)
    data.requests["S3"].pupil_case.home_languages.append(moroccan)  # Arabic and a variety
    data.requests["S8"].pupil_case.home_languages[:] = [moroccan]  # only the variety
    # S7 (ended after the date) concerns C1 too: C1 stays, S1 and S2 lose their free text.
    data.requests["S7"].pupil_case = data.requests["S1"].pupil_case
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    for name, req in data.requests.items():
        req.notes = f"secret note {name}"
        req.cancellation_note = f"secret cancellation {name}"
        req.rejection_reason = f"secret rejection {name}"
        for assignment in req.assignments:
            assignment.decline_reason = f"secret decline {name}"
            assignment.end_reason = f"secret end {name}"
            assignment.proposed_note = f"secret proposal {name}"
        (folder / f"file-{name}").write_bytes(b"%PDF-1.4 secret")
        db.session.add(Document(request=req, kind=DocumentKind.source,
                                storage_name=f"file-{name}", original_name=f"{name}-mario.pdf",
                                content_type="application/pdf", size_bytes=15,
                                sha256="1" * 64))
    for name, log in data.logs.items():
        log.summary = f"secret summary {name}"
        log.review_comment = f"secret comment {name}"
        db.session.add(SessionFeedback(log=log, side=FeedbackSide.school, rating=4,
                                       comment=f"secret feedback {name}",
                                       by_id=log.requester_id))
    db.session.add(Absence(mediator=data.med1, start_dt=rome(date(2025, 1, 2), 8),
                           end_dt=rome(date(2025, 1, 3), 8), reason="secret illness"))
    for state, created in ((OutboxState.sent, rome(date(2025, 1, 5), 9)),
                           (OutboxState.sent, rome(date(2025, 5, 5), 9)),
                           (OutboxState.dead, rome(date(2025, 1, 5), 9))):
        db.session.add(OutboxMessage(
            message_id=f"<{state}{created.month}@x>", template="t", recipient_email="a@b.c",
            locale="it", subject="s", body_text="secret body", state=state,
            created_dt=created))
    db.session.commit()
    # Last, after every change to the requests (each sets ``updated_dt``).
    end_thirty_days_after_filing()
    return data


def end_thirty_days_after_filing():
    """Every request ended (last changed) 30 days after it was filed."""
    db.session.commit()
    db.session.execute(sa.text(
        "UPDATE mediation_requests SET updated_dt = created_dt + interval '30 days'"
        if db.engine.dialect.name == "postgresql" else
        "UPDATE mediation_requests SET updated_dt = datetime(created_dt, '+30 days')"))
    db.session.commit()


def figures(data):
    return {who.email: aggregates.dashboard(PERIOD, who, today=TODAY)
            for who in (data.admin, data.coordinator, data.coordinator_beta)}


def exported(client, data) -> dict:
    """Every export of the admin as CSV rows, without the pupil's code, class and varieties
    of home languages (the purge changes those)."""
    login(client, data.admin)
    result = {}
    for kind in ("sessions", "beneficiaries", "summary"):
        response = client.get(f"/reporting/export/{kind}.csv?{QUERY}")
        assert response.status_code == 200
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True)), delimiter=","))
        header = [cell.lstrip("\ufeff") for cell in rows[0]]
        gone = [header.index(name) for name in ("Pupil code", "Class", "Languages spoken at home")
                if name in header]
        rows = [[cell for i, cell in enumerate(row) if i not in gone] for row in rows]
        result[kind] = sorted(rows)
    Auth(client).logout()
    return result


def purge(runner, *args):
    db.session.commit()
    result = runner.invoke(args=["privacy", "purge", *args])
    db.session.expire_all()
    return result


def snapshot():
    """Every personal field of every row, to compare before and after."""
    rows = []
    for model, columns in ((MediationRequest, ("notes", "cancellation_note",
                                                "rejection_reason")),
                           (Assignment, ("decline_reason", "end_reason", "proposed_note")),
                           (SessionLog, ("summary", "review_comment")),
                           (SessionFeedback, ("comment", "rating")),
                           (Document, ("storage_name", "original_name")),
                           (PupilCase, ("code", "country_of_origin"))):
        for obj in db.session.scalars(sa.select(model).order_by(model.id)):
            rows.append((model.__name__, obj.id, *(getattr(obj, c) for c in columns)))
    return rows


def test_purge_keeps_the_figures_and_removes_the_personal_fields(app, client, runner, data):
    """Dashboard and export totals are identical; notes, cases and files of old requests
    are gone; requests that ended after the date are untouched."""
    before_figures, before_exports = figures(data), exported(client, data)
    kept = {name: data.requests[name].id for name in ("S6", "S7", "S9", "S10", "R14", "R15",
                                                      "R17", "R18")}
    purged = {name: data.requests[name].id for name in ("S1", "S2", "S3", "S4", "S5", "S8",
                                                        "S11", "R13")}
    untouched = [row for row in snapshot() if row[0] == "MediationRequest"
                 and row[1] in kept.values()]

    result = purge(runner, "--before", BEFORE)
    assert result.exit_code == 0, result.output
    assert "requests 8" in result.output and "files 8" in result.output

    assert figures(data) == before_figures
    assert exported(client, data) == before_exports
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    for name, request_id in purged.items():
        req = db.session.get(MediationRequest, request_id)
        assert req.anonymised_dt is not None
        assert (req.notes, req.cancellation_note, req.rejection_reason) == (None, None, None)
        for assignment in req.assignments:
            assert (assignment.decline_reason, assignment.end_reason,
                    assignment.proposed_note) == (None, None, None)
            if assignment.session_log:
                assert assignment.session_log.summary is None
                feedback, = assignment.session_log.feedback
                assert (feedback.comment, feedback.rating) == (None, 4)  # the rating stays
                assert assignment.session_log.review_comment is None
                assert assignment.session_log.parents_met >= 0  # the row is still there
        docs = db.session.scalars(sa.select(Document).where(Document.request_id == req.id))
        for doc in docs:
            assert doc.purged_dt and doc.storage_name is None and doc.original_name is None
            assert doc.size_bytes == 15
        assert not (folder / f"file-{name}").exists()
    for name, request_id in kept.items():
        req = db.session.get(MediationRequest, request_id)
        assert req.notes == f"secret note {name}" and req.anonymised_dt is None
        for assignment in req.assignments:
            for feedback in assignment.session_log.feedback if assignment.session_log else ():
                assert feedback.comment.startswith("secret feedback")
        assert (folder / f"file-{name}").exists()
    assert [row for row in snapshot() if row[0] == "MediationRequest"
            and row[1] in kept.values()] == untouched

    cases = {c.id: c for c in db.session.scalars(sa.select(PupilCase))}
    c1 = data.requests["S1"].pupil_case_id
    assert cases[c1].code == "A1-001" and cases[c1].country_of_origin == "TV"  # S7 is recent
    for case_id in (data.requests["S3"].pupil_case_id, data.requests["S8"].pupil_case_id):
        case = cases[case_id]
        assert case.code == f"ANON-{case.id}" and case.anonymised_dt is not None
        assert case.country_of_origin is None and case.italian_level is None
        assert not (case.high_absences or case.repeated_year or case.late_enrolment)
        assert [lang.code for lang in case.home_languages] == ["ar"]  # no variety
        assert case.class_name == ""
        assert case.arrival_year == 2022  # the funder counts pupils by years in Italy

    assert db.session.scalar(sa.select(Absence.reason)) is None
    emails = db.session.scalars(sa.select(OutboxMessage.state)).all()
    assert sorted(emails) == [OutboxState.dead, OutboxState.sent]  # the old sent one is gone

    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "privacy.purged"))
    assert event.data["requests"] == 8 and event.data["pupil_cases"] == 2
    assert "secret" not in str(event.data)


def test_purge_is_idempotent(app, runner, data):
    """A second run changes nothing and counts nothing."""
    assert purge(runner, "--before", BEFORE).exit_code == 0
    after_first = snapshot()
    result = purge(runner, "--before", BEFORE)
    assert result.exit_code == 0
    assert "requests 0; pupil_cases 0; assignments 0; session_logs 0; documents 0" in (
        result.output)
    assert snapshot() == after_first


def test_dry_run_changes_nothing(app, runner, data):
    """--dry-run prints the counts and leaves every row and file in place."""
    before = snapshot()
    result = purge(runner, "--before", BEFORE, "--dry-run")
    assert result.exit_code == 0
    assert "dry run" in result.output and "requests 8" in result.output
    assert snapshot() == before
    assert (Path(current_app.config["UPLOAD_FOLDER"]) / "file-S1").exists()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "privacy.purged")) == 0


def test_purge_refuses_bad_arguments(app, runner, data):
    """Exactly one of --before and --older-than; no day in the future."""
    assert purge(runner).exit_code != 0
    assert purge(runner, "--before", BEFORE, "--older-than", "30").exit_code != 0
    assert purge(runner, "--before", "2999-01-01").exit_code != 0
    assert purge(runner, "--before", "01/04/2025").exit_code != 0
    assert snapshot()[0][2] == "secret note S1"


def test_older_than_purges_relative_to_today(app, runner, data):
    """--older-than DAYS (for cron) purges everything that ended that long ago."""
    result = purge(runner, "--older-than", "30")
    assert result.exit_code == 0, result.output
    # Every ended request of the dataset (9 closed, 2 unfilled, 1 cancelled) ended in 2025.
    assert "requests 12" in result.output


def test_purge_deletes_expired_logins(app, runner, factory):
    """Logins that expired before the date go, with their address and browser; others stay."""
    user = factory.user()
    for token, expires in (("a" * 64, rome(date(2025, 3, 1), 12)),
                           ("b" * 64, rome(date(2025, 5, 1), 12))):
        db.session.add(UserSession(user=user, token_hash=token, expires_dt=expires,
                                   ip_address="192.0.2.1", user_agent="Firefox"))
    db.session.commit()
    assert purge(runner, "--before", BEFORE).exit_code == 0
    assert db.session.scalars(sa.select(UserSession.token_hash)).all() == ["b" * 64]
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "privacy.purged"))
    assert event.data["sessions"] == 1


def test_purge_replaces_family_codes_no_longer_needed(app, runner, data):
    """A family code goes once nothing that carries it at its school is still needed, and
    becomes the same pseudonym everywhere, so its parents are still counted once."""
    requests, cases = data.requests, {name: data.requests[name].pupil_case
                                      for name in ("S1", "S3")}
    cases["S3"].family_code = requests["S4"].family_code = "FAM-A"  # a2: all purged
    cases["S1"].family_code = requests["S5"].family_code = "FAM-B"  # a1: C1 is kept (S7)
    requests["R13"].family_code = requests["R16"].family_code = "FAM-C"  # a2 purged, b1 open
    end_thirty_days_after_filing()
    before = figures(data)
    updated = {name: req.updated_dt for name, req in requests.items()}

    result = purge(runner, "--before", BEFORE)
    assert result.exit_code == 0, result.output
    assert "families 2" in result.output

    pseudonym = f"ANON-C{cases['S3'].id}"
    assert (cases["S3"].family_code, requests["S4"].family_code) == (pseudonym, pseudonym)
    assert (cases["S1"].family_code, requests["S5"].family_code) == ("FAM-B", "FAM-B")
    assert requests["R13"].family_code == f"ANON-R{requests['R13'].id}"
    assert requests["R16"].family_code == "FAM-C"
    assert figures(data) == before
    assert {name: req.updated_dt for name, req in requests.items()} == updated
    assert "families 0" in purge(runner, "--before", BEFORE).output  # idempotent
