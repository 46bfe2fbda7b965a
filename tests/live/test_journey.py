"""The whole journey over HTTP, as the people who take it: a teacher files a request, the
school lead approves it, the coordinator offers it, the mediator accepts, the clock passes
the appointment, the mediator logs the session and the coordinator approves the log.

Then the dashboard and the funder's export have changed by exactly that session, and every
email the journey queued reached the SMTP server once.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from .client import Client, Response

ROME = ZoneInfo("Europe/Rome")
SCHOOL = "loic81200x"  # IC Lodi III: its lead approves the teachers' requests
AMBITO = "lodi"


def utc(value) -> datetime:
    """A moment read from the raw tables (a datetime, or text on SQLite), in UTC."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def request_id(page: Response) -> int:
    match = re.search(r"/requests/(\d+)$", page.url)
    assert match, f"not a request page: {page.url} {page.status}"
    return int(match.group(1))


def option(form, name: str, pattern: str) -> str:
    for value, label in form.options[name]:
        if value and re.search(pattern, label):
            return value
    raise AssertionError(f"no option {pattern!r} in {name}: {form.options[name]}")


def weekdays(first: date, count: int) -> list[date]:
    days = []
    day = first
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def file_request(teacher: Client, first_day: date) -> int:
    """File a family meeting at 10:00 on three school days from ``first_day`` that the form
    accepts (closures and holidays are refused next to the field: start a day later)."""
    for shift in range(15):
        days = weekdays(first_day + timedelta(days=shift), 3)
        page = teacher.get("/requests/new/family_meeting")
        assert page.status == 200, page.status
        form = teacher.form(page, has_field="slot_1_date")
        changes = {"language": option(form, "language", r"Arab"),
                   "expected_parents": 2, "notes": "Live journey"}
        for number, day in enumerate(days, start=1):
            changes[f"slot_{number}_date"] = day.isoformat()
            changes[f"slot_{number}_time"] = "10:00"
        for choice in ("pupil_case", "site"):  # the school's first pupil code and site
            if choice in form.options:
                changes[choice] = next(v for v, _ in form.options[choice] if v)
        sent = teacher.submit(page, form, **changes)
        if sent.status == 200 and re.search(r"/requests/\d+$", sent.url):
            return request_id(sent)
        assert sent.status == 400, (sent.status, sent.url)
    raise AssertionError("no days accepted in three weeks")


def post_form(client: Client, page: Response, action: str, **changes) -> Response:
    response = client.submit(page, client.form(page, action), **changes)
    assert response.status < 400, (action, response.status, response.url)
    return response


def dashboard(client: Client, day: date) -> dict[str, float]:
    page = client.get(f"/reporting/?start={day}&end={day}")
    assert page.status == 200
    return {name: float(value or 0) for name, value in
            re.findall(r'data-total="([\w-]+)" data-value="([^"]*)"', page.text)}


def sessions_csv(client: Client, day: date) -> list[dict]:
    download = client.get(f"/reporting/export/sessions.csv?start={day}&end={day}&lang=en")
    assert download.status == 200 and download.content_type == "text/csv"
    return list(csv.DictReader(io.StringIO(download.body.decode("utf-8-sig"))))


def test_file_approve_offer_accept_log_approve(service):
    people = {role: Client(service.url) for role in ("teacher", "lead", "coordinator",
                                                     "mediator")}
    logins = {"teacher": f"docente.{SCHOOL}@demo.mediazione.it",
              "lead": f"lead.{SCHOOL}@demo.mediazione.it",
              "coordinator": f"coord.{AMBITO}@demo.mediazione.it"}
    for role, email in logins.items():
        assert email in service.logins[role], f"the demo has no {email}"
        people[role].login(email, service.password)
    first_mail = service.last_outbox_id()
    try:
        journey(service, people)
        # Sent before the clock goes back: a message queued a week ahead is due then.
        queued = service.wait_for_outbox(first_mail)
    finally:
        service.clock.reset()
    # Every email of the journey reached the SMTP server once.
    assert len(queued) >= 4, queued  # approval, offer, confirmation(s), log approved
    assert {row[4] for row in queued} == {"sent"}, queued
    received = [m["Message-ID"].strip("<>") for m in service.smtp.messages()]
    for _id, message_id, recipient, subject, _state in queued:
        assert received.count(message_id.strip("<>")) == 1, (recipient, subject)
    assert not service.server_errors()


def journey(service, people):
    teacher, lead, coordinator = people["teacher"], people["lead"], people["coordinator"]
    first = datetime.now(ROME).date() + timedelta(days=3)
    rid = file_request(teacher, first)

    # The lead approves it.
    page = lead.get(f"/requests/{rid}")
    post_form(lead, page, f"/requests/{rid}/approve")
    assert service.sql("SELECT state FROM mediation_requests WHERE id = %s", rid)[0][0] == "open"

    # The coordinator offers it: the page's best time, with its best mediator.
    page = coordinator.get(f"/coordination/requests/{rid}/offer")
    assert page.status == 200
    offer = next(f for f in coordinator.forms(page)
                 if f.method == "post" and f.action.endswith(f"/requests/{rid}/offer")
                 and any(name == "mediator_id" for name, _ in f.buttons))
    button = next(b for b in offer.buttons if b[0] == "mediator_id")
    offered = coordinator.submit(page, offer, button=button)
    assert offered.status == 200, offered.status
    (assignment_id, mediator_email, start, end), = service.sql(
        "SELECT a.id, u.email, a.start_dt, a.end_dt FROM assignments a"
        " JOIN mediator_profiles m ON m.id = a.mediator_id JOIN users u ON u.id = m.user_id"
        " WHERE a.request_id = %s AND a.state = 'offered'", rid)
    start, end = utc(start), utc(end)
    day = start.astimezone(ROME).date()
    before = dashboard(coordinator, day)
    rows_before = sessions_csv(coordinator, day)

    # The mediator accepts it from the agenda.
    mediator = people["mediator"]
    mediator.login(mediator_email, service.password)
    agenda = mediator.get("/agenda")
    post_form(mediator, agenda, f"/agenda/assignments/{assignment_id}/accept")
    assert service.sql("SELECT state FROM mediation_requests WHERE id = %s",
                       rid)[0][0] == "confirmed"

    # The appointment passes: the service's clock moves to half an hour after its end.
    service.clock.set_offset((end + timedelta(minutes=30)).timestamp()
                             - datetime.now(UTC).timestamp())
    for role, email in (("mediator", mediator_email),
                        ("coordinator", f"coord.{AMBITO}@demo.mediazione.it")):
        people[role] = Client(service.url)  # a week later, the old sessions have ended
        people[role].login(email, service.password)
    mediator, coordinator = people["mediator"], people["coordinator"]

    # The mediator logs it: 5 minutes late, 45 minutes, two parents, a pupil, a teacher.
    logged_start = start.astimezone(ROME) + timedelta(minutes=5)
    logged_end = logged_start + timedelta(minutes=45)
    page = mediator.get(f"/agenda/assignments/{assignment_id}/log")
    assert page.status == 200, page.status
    form = mediator.form(page, has_field="actual_start")
    logged = mediator.submit(page, form, day=day.isoformat(),
                             actual_start=f"{logged_start:%H:%M}",
                             actual_end=f"{logged_end:%H:%M}", parents_met=2, pupils_met=1,
                             teachers_met=1, outcome="held",
                             summary="Colloquio svolto con la famiglia.")
    assert logged.status == 200 and "/log" not in logged.url, (logged.status, logged.url)
    (log_id,), = service.sql("SELECT id FROM session_logs WHERE assignment_id = %s",
                             assignment_id)

    # The coordinator approves the log.
    page = coordinator.get("/coordination/logs")
    post_form(coordinator, page, f"/coordination/logs/{log_id}/approve")
    assert service.sql("SELECT state FROM mediation_requests WHERE id = %s",
                       rid)[0][0] == "closed"

    # The dashboard and the export changed by exactly this session: 45 minutes.
    after = dashboard(coordinator, day)
    assert after["sessions"] == before["sessions"] + 1
    assert abs(after["hours"] - before["hours"] - 0.75) < 1e-9
    assert after["contacts"] == before["contacts"] + 4
    rows_after = sessions_csv(coordinator, day)
    new = [r for r in rows_after if r not in rows_before]
    assert len(rows_after) == len(rows_before) + 1 and len(new) == 1, new
    assert new[0]["Session no."] == str(log_id)
    assert (new[0]["Start time"], new[0]["End time"]) == \
        (f"{logged_start:%H:%M}", f"{logged_end:%H:%M}")
