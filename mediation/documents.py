"""Uploaded files: checked by content, stored outside ``static/`` under random names."""

import errno
import hashlib
import io
import os
import re
import secrets
import zipfile
from pathlib import Path

from flask import current_app
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage

from .audit import record
from .errors import DomainError
from .extensions import db
from .models import Document, DocumentKind, MediationRequest, User

_ZIP = b"PK\x03\x04"
_MARKUP = re.compile(rb"^\s*<\s*[!?a-zA-Z]")


def _zip_member(data: bytes, name: str, limit: int = 64 * 1024) -> bytes | None:
    """The first ``limit`` bytes of one member of a zip file, or None (not a zip, no member)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open(name) as member:
            return member.read(limit)
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, ValueError,
            NotImplementedError, EOFError):
        return None


def _office_open_xml(main_type: bytes):
    """A .docx/.xlsx test: a zip whose [Content_Types].xml declares the main part's type.

    Macro-enabled documents (.docm, .xlsm) declare another type, so they are refused.
    """
    def looks_right(data: bytes) -> bool:
        if not data.startswith(_ZIP):
            return False
        types = _zip_member(data, "[Content_Types].xml")
        return types is not None and main_type in types and b"vbaProject" not in types
    return looks_right


def _open_document(mimetype: bytes):
    """An OpenDocument test: a zip whose first member, ``mimetype``, holds the type."""
    def looks_right(data: bytes) -> bool:
        return data.startswith(_ZIP) and _zip_member(data, "mimetype") == mimetype
    return looks_right


def _plain_text(data: bytes) -> bool:
    """UTF-8 text without NUL bytes that does not start like HTML, XML or SVG markup."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\x00" not in data and not _MARKUP.match(data.removeprefix(b"\xef\xbb\xbf"))


#: The allowed types: (content type, extensions, test on the whole content). A file is
#: accepted only when its extension is listed and its content passes the test.
ALLOWED = [
    ("application/pdf", (".pdf",), lambda data: data.startswith(b"%PDF-")),
    ("image/jpeg", (".jpg", ".jpeg"), lambda data: data.startswith(b"\xff\xd8\xff")),
    ("image/png", (".png",), lambda data: data.startswith(b"\x89PNG\r\n\x1a\n")),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",),
     _office_open_xml(b"application/vnd.openxmlformats-officedocument.wordprocessingml"
                      b".document.main+xml")),
    ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",),
     _office_open_xml(b"application/vnd.openxmlformats-officedocument.spreadsheetml"
                      b".sheet.main+xml")),
    ("application/vnd.oasis.opendocument.text", (".odt",),
     _open_document(b"application/vnd.oasis.opendocument.text")),
    ("text/plain", (".txt",), _plain_text),
]
#: Written in chunks of this size (a full disk shows up at the first chunk that does not fit).
CHUNK_BYTES = 1024 * 1024


class InvalidUpload(DomainError):
    status_code = 400


def upload_folder() -> Path:
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def max_file_bytes() -> int:
    return int(current_app.config["UPLOAD_MAX_FILE_BYTES"])


def content_type_of(name: str, data: bytes) -> str | None:
    """The allowed content type of a file, judged by its extension and its content."""
    extension = os.path.splitext(name)[1].lower()
    return next(
        (ctype for ctype, extensions, looks_right in ALLOWED
         if extension in extensions and looks_right(data)),
        None,
    )


def _copy(out, data: bytes) -> None:
    for start in range(0, len(data), CHUNK_BYTES):
        out.write(data[start:start + CHUNK_BYTES])


def _save(data: bytes, name: str, field: str, sync: bool = True) -> str:
    """Write ``data`` under a new random name; nothing is left behind if it fails.

    The file is written under a temporary name, synced (unless ``sync`` is false: files
    that can be made again), then renamed: the final name exists only once the whole
    file is on disk.

    :raise InvalidUpload: the disk is full, or another error of the file system.
    """
    folder = upload_folder()
    storage_name = secrets.token_hex(16)
    partial = folder / f"{storage_name}.part"
    try:
        with open(partial, "xb") as out:
            _copy(out, data)
            out.flush()
            if sync:
                os.fsync(out.fileno())
        os.replace(partial, folder / storage_name)
    except OSError as error:
        partial.unlink(missing_ok=True)
        current_app.logger.error("Could not store an upload: %s", error)
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            message = _l("%(name)s could not be saved: the server has no space left."
                         " Please try again later, and tell the service's administrator.",
                         name=name)
        else:
            message = _l("%(name)s could not be saved because of a problem on the server."
                         " Please try again later.", name=name)
        raise InvalidUpload(message, field=field) from error
    return storage_name


def store_upload(upload: FileStorage, request: MediationRequest, kind: DocumentKind,
                 actor: User, field: str = "documents") -> Document:
    """Check and store one uploaded file for a request.

    :raise InvalidUpload: empty, too large, not an allowed type (by name and content),
        or it could not be written (e.g. the disk is full: no file is left behind).
    """
    name = os.path.basename((upload.filename or "").replace("\\", "/")).strip()
    limit = max_file_bytes()
    data = upload.read(limit + 1)
    if not name or not data:
        raise InvalidUpload(_l("The file is empty."), field=field)
    if len(data) > limit:
        raise InvalidUpload(_l("Each file can be at most %(size)s MB.",
                               size=format_decimal(round(limit / (1024 * 1024), 1))),
                            field=field)
    content_type = content_type_of(name, data)
    if content_type is None:
        raise InvalidUpload(
            _l("%(name)s is not a PDF, Word, Excel, OpenDocument, text or image file.",
               name=name),
            field=field,
        )
    storage_name = _save(data, name, field)
    document = Document(
        request=request, kind=kind, storage_name=storage_name, original_name=name[:255],
        content_type=content_type, size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(), uploaded_by_id=actor.id,
    )
    db.session.add(document)
    db.session.flush()
    record("document.uploaded", request, actor, document_id=document.id, kind=kind.value)
    return document


def document_path(document: Document) -> Path:
    return upload_folder() / document.storage_name


def store_file(data: bytes, name: str, sync: bool = True) -> tuple[str, str]:
    """Check and write a file the way an upload is written, for code that makes its own
    files (the demo data, which needs no sync): return its storage name and content type.

    :raise InvalidUpload: not an allowed type by name and content, or it could not be
        written.
    """
    content_type = content_type_of(name, data)
    if content_type is None:
        raise InvalidUpload(
            _l("%(name)s is not a PDF, Word, Excel, OpenDocument, text or image file.",
               name=name))
    return _save(data, name, "documents", sync), content_type
