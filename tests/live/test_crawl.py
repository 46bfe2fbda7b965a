"""Every role, in Italian and English, follows every link and download its pages offer.

No page answers 5xx (nor 4xx: a link a page offers must lead somewhere), every HTML page is
in the language asked for, and every download is parsed: CSV with the csv module, XLSX with
openpyxl, iCalendar with icalendar. The crawl is bounded: at most ``PER_SHAPE`` addresses
of one shape (the path and query with their numbers taken out: ``/requests/N``) and
``MAX_PAGES`` addresses per role and language.
"""

from __future__ import annotations

import csv
import io
import re
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from .client import Client, Response, parse

ROLES = ("teacher", "lead", "mediator", "coordinator", "admin")
LOCALES = ("it", "en")
PER_SHAPE = 3
MAX_PAGES = 400
#: Addresses fetched at once (the service's pages answer several people at a time).
CRAWLERS = 3
#: Addresses a crawler must not follow: they change state or leave the session.
SKIP = re.compile(r"^/(logout|locale)\b|^/static/")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: What the crawls saw per backend, printed at the end of the session (conftest).
TOTALS: dict[str, dict] = {}


def shape(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = sorted((k, re.sub(r"\d+", "N", v))
                   for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    return re.sub(r"\d+", "N", parts.path) + "?" + urllib.parse.urlencode(query)


def check_download(response: Response, locale: str) -> str:
    """Parse a download by its type; return its kind."""
    kind = response.content_type
    assert response.body, f"{response.url}: an empty download"
    if kind == "text/csv":
        text = response.body.decode("utf-8-sig")
        # An English export (?lang=en, or a closed period's stored file *_en.csv) is
        # comma-separated; an Italian one semicolon-separated, as each locale's
        # spreadsheets expect.
        path = urllib.parse.urlsplit(response.url).path
        english = "lang=en" in response.url or path.endswith("_en.csv")
        delimiter = "," if english else ";"
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
        assert rows and len(rows[0]) > 1, f"{response.url}: not a {delimiter!r} CSV"
        widths = {len(row) for row in rows}
        assert len(widths) == 1, f"{response.url}: rows of different widths {widths}"
        return "csv"
    if kind == XLSX:
        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(response.body), read_only=True)
        assert book.sheetnames, response.url
        assert next(book.worksheets[0].iter_rows(values_only=True), None), response.url
        return "xlsx"
    if kind == "text/calendar":
        import icalendar

        calendar = icalendar.Calendar.from_ical(response.body)
        assert calendar.name == "VCALENDAR", response.url
        return "ics"
    if kind == "application/zip":  # a closed period's evidence pack
        import hashlib
        import zipfile

        archive = zipfile.ZipFile(io.BytesIO(response.body))
        assert archive.testzip() is None, response.url
        sums = archive.read("SHA256SUMS.txt").decode().splitlines()
        assert sums, response.url
        for line in sums:
            digest, name = line.split("  ")
            assert hashlib.sha256(archive.read(name)).hexdigest() == digest, (response.url, name)
        return "zip"
    if kind == "application/pdf":
        assert response.body.startswith(b"%PDF"), response.url
        return "pdf"
    return kind or "other"


def links(service, response: Response) -> list[str]:
    """The addresses of the service a page links to (path and query), in page order."""
    found = []
    for href in parse(response.text).links:
        href = href.strip()
        if href.startswith("webcal://"):  # a calendar feed: what a calendar app fetches
            href = urllib.parse.urlsplit(service.url).scheme + href.removeprefix("webcal")
        target = urllib.parse.urljoin(response.url, href)
        parts = urllib.parse.urlsplit(target)
        if parts.scheme not in ("http", "https") or parts.netloc != \
                urllib.parse.urlsplit(service.url).netloc:
            continue
        if not SKIP.search(parts.path):
            found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def crawl(service, role: str, locale: str) -> Counter:
    client = Client(service.url)
    client.login(service.login(role), service.password)
    home = client.set_locale(locale)
    assert f'<html lang="{locale}"' in home.text, f"{role}: the language did not switch"
    account = client.get("/account")
    creates = [f for f in client.forms(account) if f.action.endswith("/account/calendar-feed")]
    if creates:  # a mediator or coordinator without a calendar feed: create it, to fetch it
        client.submit(account, creates[0])
    seen: Counter = Counter()
    shapes: Counter = Counter()
    queue = ["/"]
    visited = set(queue)
    problems = []
    with ThreadPoolExecutor(CRAWLERS) as pool:
        while queue and seen["pages"] + seen["downloads"] < MAX_PAGES:
            # A few addresses at once, as people use the service; read in queue order, so
            # that the crawl follows the same links whatever the order they answer in.
            room = MAX_PAGES - seen["pages"] - seen["downloads"]
            batch = [queue.pop(0) for _ in range(min(CRAWLERS, room, len(queue)))]
            for url, response in zip(batch, pool.map(client.get, batch), strict=True):
                if response.status >= 400:
                    problems.append(f"{response.status} {url} ({role}, {locale})")
                    continue
                if not response.is_html:
                    seen["downloads"] += 1
                    seen[check_download(response, locale)] += 1
                    continue
                seen["pages"] += 1
                if f'<html lang="{locale}"' not in response.text:
                    problems.append(f"not in {locale}: {url}")
                for path in links(service, response):
                    if path in visited:
                        continue
                    key = shape(path)
                    if shapes[key] >= PER_SHAPE:
                        continue
                    shapes[key] += 1
                    visited.add(path)
                    queue.append(path)
    assert not problems, "\n".join(problems)
    seen["shapes"] = len(shapes)
    return seen


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("role", ROLES)
def test_every_link_and_download(service, role, locale):
    seen = crawl(service, role, locale)
    assert seen["pages"] > 1
    totals = TOTALS.setdefault(service.backend, {"counts": Counter(), "roles": set(),
                                                 "languages": set()})
    totals["counts"].update(seen)
    totals["roles"].add(role)
    totals["languages"].add(locale)
    print(f"{service.backend} {role} {locale}: {dict(seen)}")
    if role in ("coordinator", "admin"):
        # The funder's exports, in each format and each language, are among the downloads.
        assert seen["csv"] >= 6 and seen["xlsx"] >= 6, dict(seen)
    if role == "coordinator":  # the demo's closed quarter of Lodi, and its evidence pack
        assert seen["zip"] >= 1, dict(seen)
    if role in ("mediator", "coordinator"):
        assert seen["ics"] >= 1, dict(seen)  # their calendar feed
    assert not service.server_errors()
