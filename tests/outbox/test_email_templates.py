"""Every email renders in Italian and in English with no text left in the other language.

The kinds of booking and reminder emails are read from the templates themselves, so
a kind added later is checked without touching this test.
"""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from babel.messages import pofile

from mediation import PROJECT_ROOT
from mediation.outbox import queue_email

from tests.scenarios.booking import email_scene

EMAILS = PROJECT_ROOT / "templates" / "email"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")
#: Shorter fragments ("When", "Pupil") could match by chance.
MIN_FRAGMENT = 6


def kinds(template: str) -> list[str]:
    text = "".join(p.read_text() for p in EMAILS.glob("*.*")
                   if p.name.startswith(template) or p.name == "_booking_text.html")
    return sorted(set(re.findall(r"kind == '(\w+)'", text)))


def own_kinds(template: str) -> list[str]:
    """The kinds a template names itself (one that shares no words with the booking's)."""
    text = "".join(p.read_text() for p in EMAILS.glob(f"{template}.*"))
    return sorted(set(re.findall(r"kind == '(\w+)'", text)))


def readable(text: str) -> str:
    """What a person reads: no links, no tags."""
    return re.sub(r"<[^>]+>", " ", re.sub(r"https?://\S+", " ", text))


def contains(text: str, fragment: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(fragment)}(?!\w)", text) is not None


def fragments(text: str) -> list[str]:
    return [f.strip() for f in PLACEHOLDER.split(text) if len(f.strip()) >= MIN_FRAGMENT]


def catalog_pairs() -> list[tuple[str, str]]:
    """(English, Italian) for every message whose translation differs."""
    path = PROJECT_ROOT / "translations" / "it" / "LC_MESSAGES" / "messages.po"
    with Path(path).open("rb") as f:
        catalog = pofile.read_po(f, locale="it")
    pairs = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for english, italian in zip(ids, strings, strict=False):
            if english != italian:
                pairs.append((english, italian))
    return pairs


@pytest.fixture
def scene(booking):
    """A request with an accepted assignment and a returned log; free text is neutral
    (people write it in whatever language they use)."""
    start = datetime(2026, 12, 1, 9, tzinfo=UTC)
    return email_scene(booking, start, rejection_reason="R-1", decline_reason="D-1",
                       end_reason="E-1", review_comment="C-1",
                       proposed_start_dt=start + timedelta(days=1))


def cases():
    yield from (("booking", kind) for kind in kinds("booking"))
    yield from (("reminder", kind) for kind in kinds("reminder"))
    yield from (("proposal", kind) for kind in own_kinds("proposal"))
    for name in sorted(p.stem for p in EMAILS.glob("*.txt")):
        if name not in ("booking", "reminder", "proposal"):
            yield name, None


@pytest.mark.parametrize(("template", "kind"), list(cases()))
def test_email_is_wholly_in_the_recipients_language(app, booking, scene, template, kind):
    pairs = catalog_pairs()
    user = booking.teacher
    rendered = {}
    for locale in ("it", "en"):
        user.locale = locale
        context = dict(scene, kind=kind) if kind else dict(scene)
        message = queue_email(template, user, **context)
        rendered[locale] = readable("\n".join([message.subject, message.body_text,
                                               message.body_html or ""]))
        assert message.subject.strip(), "every email has a subject"
    for english, italian in pairs:
        for fragment in fragments(english):
            # An English sentence in the Italian email is an untranslated string.
            if fragment not in italian:
                assert not contains(rendered["it"], fragment), (template, kind, fragment)
        for fragment in fragments(italian):
            if fragment not in english:
                assert not contains(rendered["en"], fragment), (template, kind, fragment)
    # Something of the catalog was actually used: the check above is not empty.
    assert any(contains(rendered["it"], fragment)
               for _en, it in pairs for fragment in fragments(it))
    assert rendered["it"] != rendered["en"]
