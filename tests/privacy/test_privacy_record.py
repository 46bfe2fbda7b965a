"""The record of processing: generated from the model, complete, for the admin only."""

import pytest
import sqlalchemy as sa

from mediation.extensions import db
from mediation.models import Role
from mediation.models.privacy import NOT_PERSONAL, PROCESSINGS, PUPIL_RESTRICTED, personal
from mediation.privacy.queries import record_of_processing, unclassified_columns

from tests.conftest import login


def test_every_column_is_classified(app):
    """Each column of each table says whether it holds personal data (add ``info=``)."""
    assert unclassified_columns() == []


def test_an_unclassified_column_is_found(app):
    """The check above is not empty: a new column without ``info`` is reported."""
    metadata = sa.MetaData()
    sa.Table("things", metadata, sa.Column("id", sa.Integer, primary_key=True,
                                           info=NOT_PERSONAL),
             sa.Column("name", sa.String), sa.Column("note", sa.String,
                                                     info=personal(PUPIL_RESTRICTED)))
    assert unclassified_columns(metadata) == ["things.name"]


def test_what_is_personal(app):
    """The restricted pupil fields, the free text and the accounts are classified as such."""
    record = {e.processing.key: e.columns for e in record_of_processing().entries}
    assert {"pupil_cases.country_of_origin", "pupil_cases.high_absences",
            "pupil_cases.italian_level"} <= set(record["pupil_restricted"])
    assert {"mediation_requests.notes", "session_logs.summary",
            "assignments.decline_reason"} <= set(record["free_text"])
    assert "users.email" in record["account"]
    assert "documents.original_name" in record["document"]
    every = [c for columns in record.values() for c in columns]
    assert "session_logs.parents_met" not in every and "schools.name" not in every
    assert {p.key for p in PROCESSINGS} >= set(record)


@pytest.mark.parametrize(("locale", "words"), [
    ("it", ("Registro dei trattamenti", "Riservato", "Base giuridica")),
    ("en", ("Record of processing", "Legal basis", "How long it is kept")),
])
def test_the_admin_reads_it_in_their_language(client, factory, locale, words):
    """The page lists every personal column, translated."""
    admin = factory.user(Role.admin, locale=locale)
    db.session.commit()
    login(client, admin)
    response = client.get("/admin/privacy/")
    assert response.status_code == 200
    for word in words:
        assert word in response.text, word
    for entry in record_of_processing().entries:
        for column in entry.columns:
            assert column in response.text


@pytest.mark.parametrize("role", [Role.teacher, Role.lead, Role.mediator, Role.coordinator])
def test_others_get_404(client, factory, role):
    """Only the admin sees the record of processing."""
    user = factory.user(role)
    db.session.commit()
    login(client, user)
    assert client.get("/admin/privacy/").status_code == 404
