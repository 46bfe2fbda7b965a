"""Concurrency on the live server, over HTTP, on PostgreSQL.

Several people press their button at the same moment (threads released together by a
``threading.Barrier``) against gunicorn's workers; each race then checks from the raw
tables that the rules that may never break still hold: one mediator is never booked twice
at once, nor over their weekly cap, nor at two places too close to travel between, and a
request's state and its assignments agree whoever wins.

The data is set up as people would: the coordinator gives the mediator (Elira Hoxha,
Albanian, Ambito di Lodi) a full weekly pattern and a weekly cap on her management page,
teachers of two schools of the Ambito file their requests with the request form, the
coordinator offers them on the offer page, the mediator accepts from her agenda. Days are
school days weeks ahead of today; a day the form refuses (a closure) is skipped.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest

from .client import Client, Response

MEDIATOR = "mediatore.elira@"
COORDINATORS = ("coord.lodi@", "coord2.lodi@")
SCHOOLS = ("loic80400v", "loic81800n")  # Sant'Angelo Lodigiano, Codogno: no lead approval
LANGUAGE = "sq"
#: The travel buffer the service is configured with (MATCHING_TRAVEL_BUFFER_MINUTES).
TRAVEL_MINUTES = 30
ACTIVE = ("offered", "accepted")
FLASH = re.compile(r'class="alert alert-(\w+) alert-dismissible[^"]*"[^>]*>\s*(.*?)\s*<', re.S)
#: ISO weeks already used by a race (each race books in a week of its own).
USED_WEEKS: set[tuple[int, int]] = set()


def flashes(page: Response) -> list[tuple[str, str]]:
    return [(kind, re.sub(r"\s+", " ", text)) for kind, text in FLASH.findall(page.text)]


def errors_of(page: Response) -> list[str]:
    """The messages a refused form shows (field errors, form errors, conflicts)."""
    found = re.findall(r'class="(?:invalid-feedback|alert alert-\w+)[^"]*"[^>]*>(.*?)</div>',
                       page.text, re.S)
    texts = (re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)).strip() for text in found)
    return [text for text in texts if text]


#: One line per race, printed at the end of the session (conftest).
SUMMARIES: list[str] = []


def summary(name: str, outcomes: list[str]) -> None:
    counts = {k: outcomes.count(k) for k in ("won", "refused", "error")}
    SUMMARIES.append(f"race {name}: {len(outcomes)} attempts, {counts['won']} winners, "
                     f"{counts['refused']} refused, {counts['error']} errors")


def race(actions: list) -> list:
    """Run every action in a thread of its own, all released at the same moment."""
    barrier = threading.Barrier(len(actions))
    results: list = [None] * len(actions)

    def run(index, action):
        barrier.wait(timeout=120)
        try:
            results[index] = action()
        except Exception as error:  # noqa: BLE001 - reported as an error outcome
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return results


@dataclass
class Booking:
    """The people of the races, logged in, and what they need to know."""

    service: object
    coordinator: Client
    teachers: dict[str, Client]
    mediator: Client
    mediator_id: int
    language: str
    sites: dict[str, str]

    def client(self, email_prefix: str) -> Client:
        client = Client(self.service.url)
        email = next(e for role in self.service.logins.values() for e in role
                     if e.startswith(email_prefix))
        client.login(email, self.service.password)
        return client

    # -- the mediator's profile, as the coordinator edits it

    def set_profile(self, cap: int) -> None:
        """Monday to Friday 8:00-18:00 and a weekly cap of ``cap`` hours."""
        full_week(self.coordinator, self.mediator_id, cap)

    # -- requests, as teachers file them

    def file(self, school: str, day: date, at: str, minutes: int = 60) -> int | str:
        """File a group meeting; its id, or the form's message when it is refused."""
        teacher = self.teachers[school]
        page = teacher.get("/requests/new/group_meeting")
        form = teacher.form(page, has_field="slot_1_date")
        done = teacher.submit(
            page, form, language=self.language, mode="in_person", site=self.sites[school],
            duration=minutes, weeks=1, slot_1_date=day.isoformat(), slot_1_time=at,
            expected_parents=3, expected_teachers=1)
        match = re.search(r"/requests/(\d+)$", done.url)
        if done.status == 200 and match:
            return int(match.group(1))
        assert done.status == 400, (done.status, done.url)
        return " ".join(errors_of(done)) or "refused"

    def school_day(self, schools=SCHOOLS, weeks_ahead: int = 6) -> date:
        """A weekday at least ``weeks_ahead`` weeks away, in an ISO week no race used yet
        and free of the mediator's demo bookings, that every school accepts (a probe
        request is filed at 7:00 and cancelled)."""
        day = date.today() + timedelta(weeks=weeks_ahead)
        for _ in range(120):
            day += timedelta(days=1)
            week = day.isocalendar()[:2]
            if day.weekday() >= 5 or week in USED_WEEKS or self.busy_week(day):
                continue
            probes = [self.file(school, day, "07:00", 30) for school in schools]
            for probe in probes:
                if isinstance(probe, int):
                    self.cancel_now(probe)
            if all(isinstance(p, int) for p in probes):
                USED_WEEKS.add(week)
                return day
        raise AssertionError("no school day found in the next months")

    def busy_week(self, day: date) -> bool:
        monday = day - timedelta(days=day.weekday())
        return bool(self.service.sql(
            "SELECT 1 FROM assignments WHERE mediator_id = %s AND state IN ('offered', 'accepted')"
            " AND start_dt >= %s AND start_dt < %s", self.mediator_id,
            monday, monday + timedelta(days=7)))

    def cancel_now(self, request_id: int, client: Client | None = None) -> Response:
        client = client or self.coordinator
        page = client.get(f"/requests/{request_id}")
        form = client.form(page, "/cancel", has_field="reason")
        return client.submit(page, form, reason="no_longer_needed")

    # -- offers, as the coordinator makes them

    def offer_page(self, client: Client, request_id: int, **query) -> Response:
        path = f"/coordination/requests/{request_id}/offer"
        if query:
            path += "?" + "&".join(f"{k}={v}" for k, v in query.items())
        page = client.get(path)
        assert page.status == 200, (page.status, page.url)
        return page

    def offer_form(self, client: Client, page: Response):
        forms = [f for f in client.forms(page) if "/offer" in f.action
                 and ("mediator_id", str(self.mediator_id)) in f.fields + f.buttons]
        assert forms, f"no offer to the mediator on {page.url}: {errors_of(page)}"
        return forms[0]

    def prepared_offer(self, client: Client, request_id: int, reason: str | None = None,
                       **query):
        """The offer page read, its button not yet pressed: a function that presses it."""
        page = self.offer_page(client, request_id, **query)
        form = self.offer_form(client, page)
        changes = {"reason": reason} if reason else {}

        def press():
            return client.submit(page, form, button=("mediator_id", str(self.mediator_id)),
                                 **changes)
        return press

    def offer_now(self, request_id: int) -> Response:
        done = self.prepared_offer(self.coordinator, request_id)()
        assert kinds(done) == ["success"], (done.status, flashes(done), errors_of(done))
        return done

    # -- answers, as the mediator gives them

    def prepared_accept(self, request_id: int):
        page = self.mediator.get(f"/requests/{request_id}")
        assert page.status == 200, page.status
        form = self.mediator.form(page, "/accept")
        return lambda: self.mediator.submit(page, form)

    # -- the raw tables

    def assignments(self, request_id: int) -> list[tuple]:
        return self.service.sql(
            "SELECT id, state, mediator_id, start_dt, end_dt FROM assignments"
            " WHERE request_id = %s ORDER BY id", request_id)

    def request_state(self, request_id: int) -> str:
        return self.service.sql(
            "SELECT state FROM mediation_requests WHERE id = %s", request_id)[0][0]


def kinds(page: Response) -> list[str]:
    return [kind for kind, _ in flashes(page)]


def outcome(page) -> str:
    """won, refused (a page with a message) or error (5xx, no message, an exception)."""
    if isinstance(page, Exception) or page.status >= 500:
        return "error"
    if page.status in (200,) and kinds(page) == ["success"]:
        return "won"
    if page.status in (200, 400, 409) and (flashes(page) or errors_of(page)):
        return "refused"
    return "error"


@pytest.fixture(scope="module")
def booking(service):
    if service.backend != "postgresql":
        pytest.skip("races need the deployed server (several gunicorn workers on "
                    "PostgreSQL); the SQLite dev server is a single process")
    logins = [e for role in service.logins.values() for e in role]
    email = next(e for e in logins if e.startswith(MEDIATOR))
    mediator = Client(service.url)
    mediator.login(email, service.password)
    coordinator = Client(service.url)
    coordinator.login(next(e for e in logins if e.startswith(COORDINATORS[0])),
                      service.password)
    index = coordinator.get("/mediators")
    name = re.search(r'href="/mediators/(\d+)/availability">[^<]*'
                     r'<span class="visually-hidden"> – Elira Hoxha<', index.text)
    assert name, "the coordinator's mediator list does not link Elira Hoxha"
    teachers, sites = {}, {}
    language = None
    for school in SCHOOLS:
        teacher = Client(service.url)
        teacher.login(next(e for e in logins if e.startswith(f"docente.{school}@")),
                      service.password)
        teachers[school] = teacher
        page = teacher.get("/requests/new/group_meeting")
        form = teacher.form(page, has_field="slot_1_date")
        sites[school] = next(v for v, _label in form.options["site"] if v)
        language = next(v for v, label in form.options["language"]
                        if label.startswith(("Albanese", "Albanian")))
    book = Booking(service, coordinator, teachers, mediator, int(name.group(1)), language,
                   sites)
    yield book
    assert not service.server_errors()


def logged_in(booking: Booking, count: int) -> list[Client]:
    """``count`` coordinator browser tabs: the Ambito's two coordinators log in once each,
    and every tab carries one of their sessions (a login per tab would only add minutes
    of password hashing)."""
    sessions = [booking.client(prefix) for prefix in COORDINATORS]
    tabs = []
    for number in range(count):
        tab = Client(booking.service.url)
        for cookie in sessions[number % len(sessions)].cookies:
            tab.cookies.set_cookie(cookie)
        tabs.append(tab)
    return tabs


def file_all(booking: Booking, wanted: list[tuple[str, date, str, int]]) -> list[int]:
    with ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(lambda w: booking.file(*w), wanted))
    assert all(isinstance(i, int) for i in ids), ids
    return ids


def active_rows(booking: Booking, day: date, days: int = 1) -> list[tuple]:
    """The mediator's active assignments from ``day`` for ``days`` days (raw tables)."""
    return booking.service.sql(
        "SELECT a.id, a.request_id, a.start_dt, a.end_dt, r.school_id FROM assignments a"
        " JOIN mediation_requests r ON r.id = a.request_id WHERE a.mediator_id = %s"
        " AND a.state IN ('offered', 'accepted') AND a.start_dt >= %s AND a.start_dt < %s"
        " ORDER BY a.start_dt", booking.mediator_id, day - timedelta(days=1),
        day + timedelta(days=days + 1))


def test_fifty_overlapping_offers_of_one_mediator_one_wins(booking):
    prepared = time.monotonic()
    booking.set_profile(cap=40)
    day = booking.school_day()
    starts = [f"09:{15 * (i % 4):02d}" for i in range(50)]  # all hold 09:45-10:00
    ids = file_all(booking, [(SCHOOLS[0], day, at, 60) for at in starts])
    sessions = logged_in(booking, len(ids))
    with ThreadPoolExecutor(4) as pool:
        presses = list(pool.map(booking.prepared_offer, sessions, ids))
    began = time.monotonic()
    pages = race(presses)
    outcomes = [outcome(p) for p in pages]
    summary(f"50 overlapping offers (set up {began - prepared:.0f} s, race "
            f"{time.monotonic() - began:.1f} s)", outcomes)
    assert outcomes.count("error") == 0, [
        (p.status, p.text[:300]) if isinstance(p, Response) else repr(p)
        for p, o in zip(pages, outcomes, strict=True) if o == "error"]
    assert outcomes.count("won") == 1, outcomes
    rows = active_rows(booking, day)
    assert len(rows) == 1, rows
    winner = ids[outcomes.index("won")]
    assert rows[0][1] == winner
    states = [booking.request_state(i) for i in ids]
    assert states.count("offered") == 1 and states.count("open") == 49, states


def test_simultaneous_offers_over_the_weekly_cap_stop_at_the_cap(booking):
    cap = 3
    booking.set_profile(cap=cap)
    day = booking.school_day()
    hours = [f"{h:02d}:00" for h in range(8, 16)]  # eight back-to-back hours, one site
    ids = file_all(booking, [(SCHOOLS[0], day, at, 60) for at in hours])
    sessions = logged_in(booking, len(ids))
    with ThreadPoolExecutor(4) as pool:
        presses = list(pool.map(booking.prepared_offer, sessions, ids))
    outcomes = [outcome(p) for p in race(presses)]
    summary(f"{len(ids)} one-hour offers against a {cap}-hour weekly cap", outcomes)
    booking.set_profile(cap=40)
    assert outcomes.count("error") == 0, outcomes
    monday = day - timedelta(days=day.weekday())
    booked = booking.service.sql(
        "SELECT COALESCE(SUM(EXTRACT(EPOCH FROM end_dt - start_dt)), 0) / 3600"
        " FROM assignments WHERE mediator_id = %s AND state IN ('offered', 'accepted')"
        " AND start_dt >= %s AND start_dt < %s", booking.mediator_id,
        monday - timedelta(hours=2), monday + timedelta(days=7))[0][0]
    assert Decimal(booked) <= cap, f"{booked} hours booked in the week, cap {cap}"
    assert 1 <= outcomes.count("won") <= cap, outcomes
    assert outcomes.count("won") + outcomes.count("refused") == len(ids)


def test_simultaneous_offers_at_two_schools_too_close_to_travel_one_wins(booking):
    booking.set_profile(cap=40)
    day = booking.school_day()
    # Three pairs: one school at the hour, the other right after it (no time to travel);
    # the pairs are three hours apart.
    wanted = []
    for hour in (8, 11, 14):
        wanted += [(SCHOOLS[0], day, f"{hour:02d}:00", 60),
                   (SCHOOLS[1], day, f"{hour + 1:02d}:00", 60)]
    ids = file_all(booking, wanted)
    sessions = logged_in(booking, len(ids))
    with ThreadPoolExecutor(4) as pool:
        presses = list(pool.map(booking.prepared_offer, sessions, ids))
    outcomes = [outcome(p) for p in race(presses)]
    summary(f"{len(ids) // 2} pairs of offers {TRAVEL_MINUTES} min of travel apart", outcomes)
    assert outcomes.count("error") == 0, outcomes
    for pair in range(0, len(ids), 2):
        assert outcomes[pair:pair + 2].count("won") == 1, outcomes
    rows = active_rows(booking, day)
    assert len(rows) == 3, rows
    for before, after in itertools.pairwise(rows):
        if before[4] != after[4]:
            assert after[2] - before[3] >= timedelta(minutes=TRAVEL_MINUTES), rows


REPEATS = 6


def test_accept_racing_cancel_ends_consistent(booking):
    booking.set_profile(cap=40)
    day = booking.school_day()
    ids = file_all(booking, [(SCHOOLS[0], day, f"{8 + i:02d}:00", 60)
                             for i in range(REPEATS)])
    outcomes = []
    for request_id in ids:
        booking.offer_now(request_id)
        accept = booking.prepared_accept(request_id)
        page = booking.coordinator.get(f"/requests/{request_id}")
        form = booking.coordinator.form(page, "/cancel", has_field="reason")
        accepted, cancelled = race([
            accept, lambda p=page, f=form: booking.coordinator.submit(p, f,
                                                                      reason="duplicate")])
        assert outcome(accepted) != "error" and outcome(cancelled) != "error", \
            (accepted, cancelled)
        # Cancelling is allowed before and after the acceptance: it always wins.
        assert outcome(cancelled) == "won", flashes(cancelled)
        outcomes.append(outcome(accepted))
        assert booking.request_state(request_id) == "cancelled"
        rows = booking.assignments(request_id)
        assert [r[1] for r in rows] == ["cancelled"], rows
        events = [a for (a,) in booking.service.sql(
            "SELECT action FROM audit_events WHERE object_type = 'MediationRequest'"
            " AND object_id = %s ORDER BY id", request_id)]
        if outcome(accepted) == "won":  # accepted first, then cancelled
            assert events[-2:] == ["assignment.accepted", "request.cancelled"], events
        else:
            assert "assignment.accepted" not in events, events
    summary(f"accept racing cancel x{REPEATS} (won = accepted before the cancel)", outcomes)


def test_accept_racing_reassign_ends_consistent(booking):
    booking.set_profile(cap=40)
    day = booking.school_day()
    ids = file_all(booking, [(SCHOOLS[0], day, f"{8 + i:02d}:00", 60)
                             for i in range(REPEATS)])
    later = day + timedelta(days=1)
    outcomes = []
    for number, request_id in enumerate(ids):
        booking.offer_now(request_id)
        accept = booking.prepared_accept(request_id)
        hour = 8 + number
        reassign = booking.prepared_offer(
            booking.coordinator, request_id, reason="The school moved the meeting",
            slot="other", date=later.isoformat(), start=f"{hour:02d}:00",
            end=f"{hour + 1:02d}:00")
        accepted, reassigned = race([accept, reassign])
        assert outcome(accepted) != "error" and outcome(reassigned) != "error", \
            (accepted, reassigned)
        # Reassigning is allowed from offered and from confirmed: it always wins.
        assert outcome(reassigned) == "won", (flashes(reassigned), errors_of(reassigned))
        outcomes.append(outcome(accepted))
        rows = booking.assignments(request_id)
        states = [r[1] for r in rows]
        assert states[-1] == "offered" and states[:-1] == ["superseded"], rows
        assert booking.request_state(request_id) == "offered"
        responded = booking.service.sql(
            "SELECT responded_dt FROM assignments WHERE id = %s", rows[0][0])[0][0]
        assert (responded is not None) == (outcome(accepted) == "won"), (accepted, rows)
    summary(f"accept racing reassign x{REPEATS} (won = accepted before the reassignment)",
            outcomes)


# --- an offer to several mediators: the first to accept wins (issue #19) ----------------

#: The Ambito di Legnano's Arabic speakers, a school of it without the lead's approval.
LEGNANO_COORDINATOR = "coord.legnano@"
LEGNANO_SCHOOL = "miic8ab00q"  # IC di Parabiago
ARABIC_SPEAKERS = ("Nadia Mahmoud", "Senait Tesfamariam", "Abdi Warsame")


def full_week(client: Client, mediator_id: int, cap: int) -> None:
    """Monday to Friday 8:00-18:00 and a weekly cap of ``cap`` hours, on the mediator's
    management page."""
    page = client.get(f"/mediators/{mediator_id}/availability")
    form = client.form(page, has_field="weekly_hour_cap")
    changes = {"weekly_hour_cap": cap}
    for name, _value in form.fields:
        match = re.fullmatch(r"d(\d)_(\d)_(from|to)", name)
        if match:
            first = match.group(2) == "1" and int(match.group(1)) < 5
            changes[name] = ("08:00" if match.group(3) == "from" else "18:00") \
                if first else ""
    done = client.submit(page, form, **changes)
    assert done.status == 200 and kinds(done)[:1] == ["success"], (done.status, errors_of(done))


def test_invited_mediators_accepting_at_once_one_wins(service):
    """The Legnano coordinator offers an Arabic meeting to its three Arabic speakers at
    once; the three press Accept at the same moment: one gets the appointment, the two
    others read that it is already taken; one assignment, one confirmation to the school,
    two "already taken" emails, no server error."""
    if service.backend != "postgresql":
        pytest.skip("races need the deployed server (several gunicorn workers)")
    logins = [e for role in service.logins.values() for e in role]

    def client_of(prefix: str) -> Client:
        client = Client(service.url)
        client.login(next(e for e in logins if e.startswith(prefix)), service.password)
        return client

    coordinator = client_of(LEGNANO_COORDINATOR)
    index = coordinator.get("/mediators")
    ids = {}
    for name in ARABIC_SPEAKERS:
        found = re.search(r'href="/mediators/(\d+)/availability">[^<]*'
                          rf'<span class="visually-hidden"> – {name}<', index.text)
        assert found, f"the Legnano coordinator's list does not link {name}"
        ids[name] = int(found.group(1))
        full_week(coordinator, ids[name], cap=40)
    teacher_email = next(e for e in logins if e.startswith(f"docente.{LEGNANO_SCHOOL}@"))
    teacher = client_of(f"docente.{LEGNANO_SCHOOL}@")
    page = teacher.get("/requests/new/group_meeting")
    form = teacher.form(page, has_field="slot_1_date")
    site = next(v for v, _label in form.options["site"] if v)
    languages = form.options["language"]
    arabic = next((v for v, label in languages if label in ("Arabo", "Arabic")), None) or \
        next(v for v, label in languages if label.startswith("Arab"))
    day, request_id = date.today() + timedelta(weeks=9), None
    for _ in range(60):  # the first school day the form accepts, nobody booked then
        day += timedelta(days=1)
        if day.weekday() >= 5:
            continue
        done = teacher.submit(page, form, language=arabic, mode="in_person", site=site,
                              duration=60, weeks=1, slot_1_date=day.isoformat(),
                              slot_1_time="10:00", expected_parents=2, expected_teachers=1)
        match = re.search(r"/requests/(\d+)$", done.url)
        if done.status == 200 and match:
            request_id = int(match.group(1))
            offer = coordinator.get(f"/coordination/requests/{request_id}/offer?slot=1")
            available = {int(i) for i in re.findall(r'id="invite-(\d+)"', offer.text)}
            if set(ids.values()) <= available:
                break
        page = teacher.get("/requests/new/group_meeting")
        form = teacher.form(page, has_field="slot_1_date")
    else:
        raise AssertionError("no day on which the three Arabic speakers are all free")
    sending = coordinator.form(offer, "/broadcast")
    sent = coordinator.submit(offer, sending, invite=sorted(ids.values()))
    assert sent.status == 200 and kinds(sent)[:1] == ["success"], (sent.status, flashes(sent))
    assert sent.text.count("app-invitation") >= len(ids)
    invitations = dict(service.sql(
        "SELECT u.email, i.id FROM broadcast_invitations i"
        " JOIN offer_broadcasts b ON b.id = i.broadcast_id"
        " JOIN mediator_profiles m ON m.id = i.mediator_id JOIN users u ON u.id = m.user_id"
        " WHERE b.request_id = %s AND i.state = 'sent'", request_id))
    assert len(invitations) == len(ids), invitations
    presses = []
    for email, invitation_id in invitations.items():
        mediator = Client(service.url)
        mediator.login(email, service.password)
        agenda = mediator.get("/agenda")
        assert f"/agenda/invitations/{invitation_id}" in agenda.text
        shown = mediator.get(f"/agenda/invitations/{invitation_id}")
        accept = mediator.form(shown, "/accept")
        presses.append(lambda m=mediator, s=shown, f=accept: m.submit(s, f))
    before = service.last_outbox_id()
    began = time.monotonic()
    pages = race(presses)
    outcomes = [outcome(p) for p in pages]
    summary(f"{len(pages)} invited mediators accepting at once (race "
            f"{time.monotonic() - began:.1f} s)", outcomes)
    assert outcomes.count("error") == 0, [
        (p.status, p.text[:300]) if isinstance(p, Response) else repr(p) for p in pages]
    assert outcomes.count("won") == 1, outcomes
    refusals = [p for p, o in zip(pages, outcomes, strict=True) if o == "refused"]
    assert len(refusals) == len(ids) - 1
    for page in refusals:
        assert page.status == 409, page.status
        assert any(text.startswith("Già preso") for text in errors_of(page)), errors_of(page)
    active = service.sql("SELECT mediator_id FROM assignments WHERE request_id = %s"
                         " AND state IN ('offered', 'accepted')", request_id)
    assert len(active) == 1, active
    assert service.sql("SELECT state FROM offer_broadcasts WHERE request_id = %s",
                       request_id) == [("taken",)]
    states = sorted(s for (s,) in service.sql(
        "SELECT i.state FROM broadcast_invitations i JOIN offer_broadcasts b"
        " ON b.id = i.broadcast_id WHERE b.request_id = %s", request_id))
    assert states == ["accepted"] + ["withdrawn"] * (len(ids) - 1), states
    assert service.sql("SELECT state FROM mediation_requests WHERE id = %s",
                       request_id) == [("confirmed",)]
    mails = service.wait_for_outbox(before)
    to_school = [m for m in mails if m[2] == teacher_email]
    assert len(to_school) == 1, to_school  # one confirmation, whoever won
    taken = [m for m in mails if m[3].startswith(("Già preso", "Already taken"))]
    assert len(taken) == len(ids) - 1, mails
    assert not service.server_errors()
