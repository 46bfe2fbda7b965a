"""Uploaded files: checked by content, stored outside ``static/`` under random names."""

import hashlib
import os
import secrets
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage

from .audit import record
from .errors import DomainError
from .extensions import db
from .models import Document, DocumentKind, MediationRequest, User

#: Allowed types: (content type, extensions, test on the first bytes).
ALLOWED = [
    ("application/pdf", (".pdf",), lambda head: head.startswith(b"%PDF-")),
    ("image/jpeg", (".jpg", ".jpeg"), lambda head: head.startswith(b"\xff\xd8\xff")),
    ("image/png", (".png",), lambda head: head.startswith(b"\x89PNG\r\n\x1a\n")),
    # docx, xlsx, odt are zip containers
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",),
     lambda head: head.startswith(b"PK\x03\x04")),
    ("application/vnd.oasis.opendocument.text", (".odt",),
     lambda head: head.startswith(b"PK\x03\x04")),
    ("application/msword", (".doc",),
     lambda head: head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")),
    ("text/plain", (".txt",), lambda head: b"\x00" not in head),
]
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


class InvalidUpload(DomainError):
    status_code = 400


def upload_folder() -> Path:
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def store_upload(upload: FileStorage, request: MediationRequest, kind: DocumentKind,
                 actor: User, field: str = "documents") -> Document:
    """Check and store one uploaded file for a request.

    :raise InvalidUpload: empty, too large, or not an allowed type (by name and content).
    """
    name = os.path.basename(upload.filename or "").strip()
    data = upload.read(MAX_DOCUMENT_BYTES + 1)
    if not name or not data:
        raise InvalidUpload(_l("The file is empty."), field=field)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise InvalidUpload(_l("Each file can be at most 10 MB."), field=field)
    extension = os.path.splitext(name)[1].lower()
    content_type = next(
        (ctype for ctype, extensions, looks_right in ALLOWED
         if extension in extensions and looks_right(data[:512])),
        None,
    )
    if content_type is None:
        raise InvalidUpload(
            _l("%(name)s is not a PDF, Word, OpenDocument, text or image file.", name=name),
            field=field,
        )
    storage_name = secrets.token_hex(16)
    (upload_folder() / storage_name).write_bytes(data)
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
