"""iCalendar (RFC 5545) for appointments: email invitations and private feeds.

An assignment with a time range is one VEVENT whose UID never changes
(``assignment-<id>@<host of EXTERNAL_URL>``) and whose SEQUENCE is the
assignment's, bumped by the operations whenever the appointment changes, is
cancelled or is superseded. Times are written in Europe/Rome with a VTIMEZONE.
A translation (a deadline, no time range) has no event.

No pupil's code or name, and no free text typed by a person, ever goes into a
calendar: only the kind of request, the language, the school and the place.
"""

import base64
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from email.utils import parseaddr
from urllib.parse import urlsplit

from flask import current_app, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from icalendar import Calendar, Event, vCalAddress, vDuration

from .bookings.video import call_number, video_link
from .clock import ROME
from .labels import MODE_LABELS
from .models import Assignment, AssignmentState, Mode, User, utcnow
from .outbox import recipient_locale

PRODID = "-//Regione Lombardia Lab'Impact//Mediation for schools//EN"
REQUEST = "REQUEST"
CANCEL = "CANCEL"
METHODS = (REQUEST, CANCEL)
#: How often subscribed calendar apps are asked to fetch a feed again.
REFRESH_INTERVAL = timedelta(hours=1)


def has_event(assignment: Assignment) -> bool:
    """Only an appointment with a time range is a calendar event (not a translation)."""
    return assignment.start_dt is not None and assignment.end_dt is not None


def _domain() -> str:
    return urlsplit(current_app.config["EXTERNAL_URL"]).hostname or "mediation.local"


def event_uid(assignment: Assignment) -> str:
    """The UID of an assignment's event: the same in every invitation and feed."""
    return f"assignment-{assignment.id}@{_domain()}"


def external_url(endpoint: str, **values) -> str:
    """An absolute URL on the public address, with or without a web request."""
    with current_app.test_request_context(base_url=current_app.config["EXTERNAL_URL"]):
        return url_for(endpoint, _external=True, **values)


def _locale() -> str:
    locale = get_locale()
    return locale.language if locale is not None else current_app.config["BABEL_DEFAULT_LOCALE"]


def summary(assignment: Assignment, *, with_mediator: bool = False) -> str:
    """"Colloquio con la famiglia (arabo), IC Lodi 1": never the pupil, never a note."""
    request = assignment.request
    locale = _locale()
    text = (f"{request.type.name(locale)} ({request.language.name(locale)}),"
            f" {request.school.name}")
    if with_mediator:
        text = f"{text} – {assignment.mediator.user.display_name}"
    return text


def location(assignment: Assignment) -> str:
    """The school and site address for a meeting in person, else how it takes place."""
    request = assignment.request
    if request.mode in (Mode.phone, Mode.video):
        link = video_link(assignment) or call_number(assignment)
        return link if link else str(MODE_LABELS[request.mode])
    site = request.site
    if site is None:
        return f"{request.school.name}, {request.school.municipality}"
    parts = [request.school.name]
    if site.name != request.school.name:
        parts.append(site.name)
    parts += [site.address, site.municipality]
    return ", ".join(parts)


def _description(assignment: Assignment, link: str) -> str:
    lines = [_("Mediator: %(name)s", name=assignment.mediator.user.display_name)]
    video = video_link(assignment)
    if video:
        lines.append(_("Video meeting: %(url)s", url=video))
    number = call_number(assignment)
    if number:
        lines.append(_("Number to call: %(number)s", number=number))
    lines.append(_("Open the request: %(url)s", url=link))
    return "\n".join(lines)


def _address(user: User, **params) -> vCalAddress:
    address = vCalAddress(f"mailto:{user.email}")
    address.params["CN"] = user.display_name
    for name, value in params.items():
        address.params[name.replace("_", "-").upper()] = value
    return address


def _organizer(assignment: Assignment) -> vCalAddress:
    """The coordinator who offered the appointment (else the service's sender address)."""
    if assignment.offered_by is not None:
        return _address(assignment.offered_by)
    email = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1] or f"noreply@{_domain()}"
    address = vCalAddress(f"mailto:{email}")
    address.params["CN"] = _("Mediation for schools")
    return address


def _stamp(assignment: Assignment) -> datetime:
    """When the appointment last changed (feeds: a stable DTSTAMP, so a stable ETag)."""
    moments = [assignment.offered_dt, assignment.responded_dt, assignment.request.updated_dt]
    return max(m for m in moments if m is not None)


def assignment_event(assignment: Assignment, method: str | None = None, *,
                     recipient: User | None = None, with_mediator: bool = False) -> Event:
    """The VEVENT of an assignment with a time range.

    ``method``: ``"REQUEST"`` or ``"CANCEL"`` for an emailed invitation (DTSTAMP is
    now, the mediator is the ATTENDEE, and the recipient too when it is someone
    else); ``None`` for a feed (no ATTENDEE, as RFC 5546 PUBLISH wants).
    Words are in the current locale.
    """
    if not has_event(assignment):
        raise ValueError("a translation (deadline only) has no calendar event")
    if method is not None and method not in METHODS:
        raise ValueError(f"unknown iTIP method {method!r}")
    cancelled = method == CANCEL or assignment.state in (
        AssignmentState.cancelled, AssignmentState.superseded, AssignmentState.declined)
    tentative = not cancelled and assignment.state == AssignmentState.offered
    link = external_url("requests.detail", request_id=assignment.request_id)
    text = summary(assignment, with_mediator=with_mediator)
    if tentative and method is None:
        text = _("To be confirmed: %(summary)s", summary=text)

    event = Event()
    event.add("uid", event_uid(assignment))
    event.add("sequence", assignment.sequence)
    event.add("dtstamp", utcnow() if method else _stamp(assignment).astimezone(UTC))
    event.add("dtstart", assignment.start_dt.astimezone(ROME))
    event.add("dtend", assignment.end_dt.astimezone(ROME))
    event.add("summary", text)
    event.add("location", location(assignment))
    event.add("description", _description(assignment, link))
    event.add("url", link)
    event.add("organizer", _organizer(assignment))
    if method is not None:
        mediator = assignment.mediator.user
        accepted = assignment.state == AssignmentState.accepted or method == CANCEL
        event.add("attendee", _address(
            mediator, role="REQ-PARTICIPANT", rsvp="FALSE",
            partstat="ACCEPTED" if accepted else "NEEDS-ACTION"))
        if recipient is not None and recipient.id != mediator.id:
            event.add("attendee", _address(recipient, role="OPT-PARTICIPANT", rsvp="FALSE"))
    event.add("status", "CANCELLED" if cancelled else "TENTATIVE" if tentative else "CONFIRMED")
    event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    return event


def _calendar(method: str | None = None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method is not None:
        calendar.add("method", method)
    return calendar


def _add_timezones(calendar: Calendar, events: list[Event]) -> None:
    """Add the VTIMEZONE of Europe/Rome, covering the events' years only (short)."""
    if not events:
        return
    starts = [e.start.date() for e in events]
    calendar.add_missing_timezones(first_date=date(min(starts).year - 1, 1, 1),
                                   last_date=date(max(starts).year + 2, 1, 1))


def invitation(assignment: Assignment, method: str = REQUEST, *,
               recipient: User | None = None) -> bytes:
    """A VCALENDAR with ``METHOD`` and the assignment's one VEVENT, in the current locale."""
    if method not in METHODS:
        raise ValueError(f"unknown iTIP method {method!r}")
    calendar = _calendar(method)
    event = assignment_event(assignment, method, recipient=recipient)
    calendar.add_component(event)
    _add_timezones(calendar, [event])
    return calendar.to_ical()


def attachment(assignment: Assignment | None, method: str, recipient: User) -> dict | None:
    """The ``queue_email`` attachment carrying the invitation, in the recipient's language.

    ``None`` when there is nothing to put in a calendar (no assignment, or a translation).
    """
    if assignment is None or not has_event(assignment):
        return None
    with force_locale(recipient_locale(recipient)):
        data = invitation(assignment, method, recipient=recipient)
        filename = _("invitation.ics") if method == REQUEST else _("cancellation.ics")
    return {
        "filename": filename,
        "content_type": f"text/calendar; method={method}; charset=UTF-8",
        "data": base64.b64encode(data).decode("ascii"),
    }


def feed(name: str, assignments: Iterable[Assignment], *, with_mediator: bool = False) -> bytes:
    """A subscribable calendar (no METHOD) of the assignments that have a time range."""
    calendar = _calendar()
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Europe/Rome")
    calendar.add("refresh-interval", vDuration(REFRESH_INTERVAL),
                 parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH_INTERVAL))
    events = [assignment_event(a, with_mediator=with_mediator)
              for a in assignments if has_event(a)]
    for event in events:
        calendar.add_component(event)
    _add_timezones(calendar, events)
    return calendar.to_ical()
