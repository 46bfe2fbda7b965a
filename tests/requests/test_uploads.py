"""Uploads: types checked by content, size limits, a full disk, and how files are served."""

import errno
import io
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from mediation import documents
from mediation.extensions import db
from mediation.models import (
    AssignmentState,
    AuditEvent,
    Document,
    MediationRequest,
    RequestKind,
    utcnow,
)

from tests.conftest import login
from tests.requests.test_requests_views import PDF, error_for, translation_form
from tests.scenarios.agenda import World as AgendaWorld

DOCX_TYPE = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
XLSX_TYPE = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
DOCM_TYPE = b"application/vnd.ms-word.document.macroEnabled.main+xml"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 20
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 100
HTML = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>"
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100  # legacy .doc, .xls, .msi


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def office(main_type: bytes, part: str) -> bytes:
    types = (b'<?xml version="1.0"?><Types><Override PartName="/' + part.encode()
             + b'" ContentType="' + main_type + b'"/></Types>')
    return zipped({"[Content_Types].xml": types, part: b"<xml/>"})


DOCX = office(DOCX_TYPE, "word/document.xml")
XLSX = office(XLSX_TYPE, "xl/workbook.xml")
ODT = zipped({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"})


@pytest.mark.parametrize(("name", "data", "expected"), [
    ("modulo.pdf", PDF, "application/pdf"),
    ("foto.png", PNG, "image/png"),
    ("foto.JPG", JPEG, "image/jpeg"),
    ("circolare.docx", DOCX, "application/vnd.openxmlformats-officedocument"
                             ".wordprocessingml.document"),
    ("orari.xlsx", XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("avviso.odt", ODT, "application/vnd.oasis.opendocument.text"),
    ("testo.txt", "Cari genitori, la gita è confermata.\n".encode(), "text/plain"),
    ("bom.txt", b"\xef\xbb\xbfTesto con BOM", "text/plain"),
])
def test_allowed_types_are_recognised(name, data, expected):
    """Each allowed type is accepted when its content matches its name."""
    assert documents.content_type_of(name, data) == expected


@pytest.mark.parametrize(("name", "data"), [
    ("virus.pdf", EXE),
    ("virus.docx", EXE),
    ("virus.txt", EXE),
    ("pagina.pdf", HTML),
    ("pagina.txt", HTML),
    ("pagina.txt", b"  <svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"),
    ("pagina.html", HTML),
    ("vecchio.doc", OLE),
    ("installer.docx", OLE),
    ("archivio.docx", zipped({"qualcosa.txt": b"x"})),  # a zip, but not a Word document
    ("macro.docx", office(DOCM_TYPE, "word/document.xml")),
    ("foglio.docx", XLSX),  # a real spreadsheet named as a Word document
    ("testo.odt", DOCX),
    ("rotto.docx", b"PK\x03\x04 not really a zip"),
    ("latin1.txt", "perché".encode("latin-1")),
    ("foto.jpg", PNG),
    ("foto.png", b"<svg/>"),
    ("senza-estensione", PDF),
])
def test_disguised_or_unlisted_files_are_refused(name, data):
    """A file whose content is not what its name says, or not an allowed type, is refused."""
    assert documents.content_type_of(name, data) is None


def post_translation(client, world, files, **kw):
    return client.post("/requests/new/translation", data=translation_form(world, files),
                       content_type="multipart/form-data", **kw)


def nothing_stored(app) -> bool:
    """No request, no document row, and no file (not even a partial one) on disk."""
    folder = Path(app.config["UPLOAD_FOLDER"])
    files = list(folder.iterdir()) if folder.exists() else []
    rows = (db.session.scalar(sa.select(sa.func.count()).select_from(MediationRequest))
            + db.session.scalar(sa.select(sa.func.count()).select_from(Document)))
    return files == [] and rows == 0


def test_html_renamed_as_text_is_refused_next_to_the_field(app, client, world):
    """An HTML page named .txt is refused with a translated message next to the file field."""
    login(client, world.teacher)
    response = post_translation(client, world, [(io.BytesIO(HTML), "avviso.txt")])
    assert response.status_code == 400
    assert ("avviso.txt non è un file PDF, Word, Excel, OpenDocument, di testo o un'immagine."
            in error_for(response.get_data(as_text=True), "documents").replace("&#39;", "'"))
    assert nothing_stored(app)


def test_a_file_over_the_per_file_limit_is_refused(app, client, world):
    """A file larger than UPLOAD_MAX_FILE_BYTES is refused next to the field."""
    # Small sizes: the test client spools bodies over 500 KB to a file it never closes.
    app.config["UPLOAD_MAX_FILE_BYTES"] = 200 * 1024
    login(client, world.teacher)
    big = PDF + b"0" * (200 * 1024)
    response = post_translation(client, world, [(io.BytesIO(big), "grande.pdf")])
    assert response.status_code == 400
    assert "Ogni file può pesare al massimo 0,2 MB." in error_for(
        response.get_data(as_text=True), "documents")
    assert nothing_stored(app)


def test_a_request_over_max_content_length_gets_a_clear_413(app, client, world):
    """A body over MAX_CONTENT_LENGTH gets a translated 413 page, not a 500."""
    app.config["MAX_CONTENT_LENGTH"] = 100 * 1024
    login(client, world.teacher)
    big = PDF + b"0" * (200 * 1024)
    response = post_translation(client, world, [(io.BytesIO(big), "grande.pdf")])
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "File troppo grandi" in html
    assert "più di 0,1 MB" in html
    assert nothing_stored(app)
    english = post_translation(client, world, [(io.BytesIO(big), "grande.pdf")],
                               headers={"Accept-Language": "en"})
    assert "larger than 0.1 MB in all" in english.get_data(as_text=True)


def test_the_default_limits(app):
    """By default a file may have 10 MB and a whole request 20 MB (several files)."""
    assert app.config["UPLOAD_MAX_FILE_BYTES"] == 10 * 1024 * 1024
    assert app.config["MAX_CONTENT_LENGTH"] == 20 * 1024 * 1024


def fill_the_disk_after(nbytes: int):
    """A stand-in for the file write: writes ``nbytes`` then fails as a full disk does."""
    def write(out, data):
        out.write(data[:nbytes])
        raise OSError(errno.ENOSPC, "No space left on device")
    return write


class TestFullDisk:
    def test_translation_request_keeps_nothing(self, app, client, world, monkeypatch):
        """A full disk while saving: a clear message next to the field, no file, no row."""
        monkeypatch.setattr(documents, "_copy", fill_the_disk_after(10))
        login(client, world.teacher)
        response = post_translation(client, world, [(io.BytesIO(PDF), "circolare.pdf")])
        assert response.status_code == 400
        message = error_for(response.get_data(as_text=True), "documents")
        assert "circolare.pdf non è stato salvato: il server non ha più spazio" in message
        assert "Circolare gite" in response.get_data(as_text=True)  # the form is kept
        assert nothing_stored(app)
        uploaded = sa.select(AuditEvent).where(AuditEvent.action == "document.uploaded")
        assert db.session.scalars(uploaded).all() == []

    def test_second_file_failing_removes_the_first(self, app, client, world, monkeypatch):
        """When the disk fills up on the second file, the first one is removed as well."""
        real_copy = documents._copy
        calls = []

        def copy(out, data):
            calls.append(data)
            if len(calls) == 2:
                return fill_the_disk_after(5)(out, data)
            return real_copy(out, data)

        monkeypatch.setattr(documents, "_copy", copy)
        login(client, world.teacher)
        response = post_translation(client, world, [(io.BytesIO(PDF), "uno.pdf"),
                                                    (io.BytesIO(PDF), "due.pdf")])
        assert response.status_code == 400
        assert len(calls) == 2
        assert nothing_stored(app)

    def test_other_disk_errors_get_their_own_message(self, app, client, world, monkeypatch):
        """Another error of the file system is also a message next to the field, not a 500."""
        def broken(out, data):
            raise OSError(errno.EIO, "Input/output error")

        monkeypatch.setattr(documents, "_copy", broken)
        login(client, world.teacher)
        response = post_translation(client, world, [(io.BytesIO(PDF), "circolare.pdf")],
                                    headers={"Accept-Language": "en"})
        assert response.status_code == 400
        assert "circolare.pdf could not be saved because of a problem on the server" in (
            error_for(response.get_data(as_text=True), "documents"))
        assert nothing_stored(app)

    def test_translation_delivery(self, app, client, factory, monkeypatch):
        """A mediator delivering a translation on a full disk: message, no log, no file."""
        agenda = AgendaWorld(factory)
        assignment = agenda.booking(kind=RequestKind.deadline, state=AssignmentState.accepted,
                                    deadline_dt=utcnow() + timedelta(days=5), site=None)
        login(client, agenda.mediator.user)
        monkeypatch.setattr(documents, "_copy", fill_the_disk_after(3))
        response = client.post(f"/agenda/assignments/{assignment.id}/log", data={
            "pages": "1", "document": (io.BytesIO(PDF), "tradotto.pdf"),
        }, content_type="multipart/form-data")
        assert response.status_code == 400
        assert "il server non ha più spazio" in error_for(response.get_data(as_text=True),
                                                          "document")
        db.session.expire_all()
        assert assignment.session_log is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Document)) == 0
        folder = Path(app.config["UPLOAD_FOLDER"])
        assert not folder.exists() or list(folder.iterdir()) == []


def test_download_is_an_attachment_that_cannot_run(app, client, world):
    """A document is served as an attachment, with nosniff and a sandboxing policy."""
    login(client, world.teacher)
    text = b"Avviso ai genitori\n"
    assert post_translation(client, world, [(io.BytesIO(text), "avviso.txt")]).status_code == 302
    doc = db.session.scalars(sa.select(Document)).one()
    stored = Path(app.config["UPLOAD_FOLDER"]) / doc.storage_name
    assert stored.read_bytes() == text
    assert "static" not in stored.parts and len(doc.storage_name) == 32
    with client.get(f"/requests/{doc.request_id}/documents/{doc.id}") as download:
        assert download.status_code == 200
        assert download.headers["Content-Disposition"].startswith("attachment;")
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in download.headers["Content-Security-Policy"]
        assert download.mimetype == "text/plain"

