"""The demo's documents: small, real files (a PDF a school sends to translate, the text a
mediator delivers), stored as uploads are (:func:`mediation.documents.store_bytes`)."""

from functools import cache

#: The school's letterhead on every page of a document to translate.
HEADER = "Comunicazione della scuola alle famiglie"
BODY = [
    "Gentili genitori,",
    "con la presente si comunica quanto indicato nel titolo.",
    "Si prega di restituire la parte sottostante firmata entro la data indicata.",
    "Per ogni chiarimento rivolgersi alla segreteria didattica.",
    "",
    "Il Dirigente Scolastico",
]


def _pdf_text(text: str) -> str:
    """A PDF string literal's content: WinAnsi (cp1252) text with its specials escaped."""
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


@cache
def source_pdf(school: str, title: str, pages: int) -> bytes:
    """A ``pages``-page PDF of a school's communication titled ``title``."""
    objects: list[bytes] = []
    page_ids = [4 + 2 * n for n in range(pages)]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{n} 0 R" for n in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica"
                   b" /Encoding /WinAnsiEncoding >>")
    for number in range(1, pages + 1):
        lines = [(16, school), (12, HEADER), (14, title.rstrip("."))]
        lines += [(11, line) for line in BODY] + [(9, f"Pagina {number} di {pages}")]
        commands = ["BT", "72 770 Td", "16 TL"]
        for size, line in lines:
            commands.append(f"/F1 {size} Tf ({_pdf_text(line)}) Tj T*")
        commands.append("ET")
        stream = "\n".join(commands).encode("cp1252")
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]"
                       f" /Resources << /Font << /F1 3 0 R >> >>"
                       f" /Contents {page_ids[number - 1] + 1} 0 R >>".encode())
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream
                       + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for index, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % index + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += (b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(objects) + 1, xref))
    return bytes(out)


@cache
def delivered_text(title: str, language: str, pages: int, words: int) -> bytes:
    """The text a mediator delivers: a note on the translation (the demo has no real
    translations to ship), as a plain UTF-8 text file."""
    return (
        f"Traduzione in {language.lower()}\n"
        f"Documento: {title}\n"
        f"Pagine: {pages}, parole: {words}\n\n"
        "Testo tradotto consegnato alla scuola per la distribuzione alle famiglie.\n"
    ).encode()
