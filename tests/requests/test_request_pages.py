"""What teachers, leads, coordinators and mediators read of a request (issue 16).

Once a mediator has accepted, the appointment's time comes first on the request page, in
the lists and in the emails, the chosen proposal marked; the mediator an offer is waiting
for reads the offered time and the answer buttons first; the request form shows the
school's closures and the project's period; each state is explained where it appears; the
text part of every email carries what people typed as they typed it.
"""

import html
import io
import re
from datetime import timedelta

import pytest
from flask_babel import force_locale
from markupsafe import escape

from mediation.clock import in_rome
from mediation.extensions import db
from mediation.models import (
    Assignment,
    AssignmentState,
    Closure,
    LanguageLevel,
    MediatorLanguage,
    PreferredSlot,
    RequestState,
    utcnow,
)
from mediation.outbox import queue_email
from mediation.templating import localised_date, localised_datetime, localised_day_and_time

from tests.conftest import Auth, login
from tests.outbox.test_email_templates import cases as email_cases
from tests.scenarios.booking import email_scene, rome, school_day, weekday_after


def shown(app, value, fmt=None, locale="it") -> str:
    """A time as the pages print it: "day and time", or ``|datetime(fmt)``."""
    with app.test_request_context(), force_locale(locale):
        return localised_datetime(value, fmt) if fmt else localised_day_and_time(value)


def page(client, user, url) -> str:
    login(client, user)
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


class Scene:
    """A meeting with three proposed times; the mediator got the second one."""

    def __init__(self, booking, state=AssignmentState.accepted, weeks_ahead=2):
        f = booking.factory
        self.booking = booking
        first = school_day(7 * weeks_ahead)
        second = weekday_after(first)
        third = weekday_after(second)
        self.slots = [(rome(first, 10), rome(first, 11)), (rome(second, 14), rome(second, 15)),
                      (rome(third, 9), rome(third, 10))]
        self.request = f.request(
            school=booking.school, requester=booking.teacher, project=booking.project,
            type=booking.meeting, language=booking.mediator.languages[0].language,
            site=booking.school.sites[0],
            state=RequestState.confirmed if state == AssignmentState.accepted
            else RequestState.offered)
        for position, (start, end) in enumerate(self.slots, 1):
            f.add(PreferredSlot(request=self.request, position=position, start_dt=start,
                                end_dt=end))
        start, end = self.slots[1]
        self.assignment = f.assignment(request=self.request, mediator=booking.mediator,
                                       start=start, end=end, state=state,
                                       offered_by=booking.coordinator)
        db.session.commit()


# --- 1. the confirmed time first ---------------------------------------------------


@pytest.mark.parametrize("role", ["teacher", "lead", "coordinator", "mediator"])
def test_request_page_leads_with_the_appointment(app, client, booking, role):
    """Every role reads the appointment before the proposals; the chosen one is marked,
    the others are greyed."""
    scene = Scene(booking)
    user = booking.mediator.user if role == "mediator" else getattr(booking, role)
    text = page(client, user, f"/requests/{scene.request.id}")
    chosen, other, last = (shown(app, start) for start, _end in
                           (scene.slots[1], scene.slots[0], scene.slots[2]))

    card = text.index('class="card card-bg no-after shadow-sm mb-4 border-start border-4 '
                      'border-success app-appointment"')
    assert "Appuntamento confermato" in text[card:card + 600]
    assert text.index(chosen, card) < text.index('id="details-title"')
    assert text.index(chosen) < text.index(other)  # the first proposal comes after it
    proposals = text[text.index("Orari proposti dalla scuola"):]
    marked = re.search(rf"{re.escape(chosen)}</time>–15:00\s*<span class=\"badge bg-success "
                       r"ms-1\">Orario confermato</span>", proposals)
    assert marked, proposals[:1500]
    assert proposals.count("Orario confermato") == 1
    for time in (other, last):
        assert re.search(rf'<li class="text-muted"><time datetime="[^"]+">{re.escape(time)}',
                         proposals)


def test_an_appointment_at_another_time_says_so(app, client, booking):
    """When the coordinator booked a time the school did not propose, no proposal is marked
    and the page says that the appointment is none of them."""
    scene = Scene(booking)
    moved = scene.slots[2][0] + timedelta(hours=3)
    scene.assignment.start_dt, scene.assignment.end_dt = moved, moved + timedelta(hours=1)
    db.session.commit()
    text = page(client, booking.teacher, f"/requests/{scene.request.id}")
    assert text.index(shown(app, moved)) < text.index('id="details-title"')
    assert "Orario confermato" not in text
    assert "L'orario del mediatore non è nessuno di questi" in text


def test_lists_show_the_appointment_not_the_first_proposal(app, client, booking):
    """The teacher's home and the school's list give the appointment's time once there is
    one; a request still open gives its first proposal and how many others."""
    scene = Scene(booking)
    open_one = Scene(booking, weeks_ahead=3)
    db.session.delete(open_one.assignment)
    open_one.request.state = RequestState.open
    db.session.commit()
    appointment = shown(app, scene.slots[1][0], "short")
    first_proposal = shown(app, scene.slots[0][0], "short")
    open_first = shown(app, open_one.slots[0][0], "short")

    for url in ("/", "/requests"):
        text = page(client, booking.teacher, url)
        # The list's last link to the request: the home page also links the requests from
        # its list of confirmed meetings, above the table of requests.
        row = text[text.rindex(f'href="/requests/{scene.request.id}"'):]
        row = row[:row.index(f'href="/requests/{open_one.request.id}"')
                  if f'href="/requests/{open_one.request.id}"' in row else 2000]
        assert appointment in row, url
        assert first_proposal not in row, url
        assert "altre fasce" not in row and "altri orari" not in row, url
        later = text[text.rindex(f'href="/requests/{open_one.request.id}"'):]
        assert open_first in later[:2500], url


def test_the_lists_load_appointments_without_a_query_per_row(client, booking, count_queries):
    """The home page reads the requests' assignments in one statement, whatever their number."""
    Scene(booking)
    login(client, booking.teacher)

    def home_queries() -> int:
        client.get("/")  # the first request after a change begins a new transaction
        with count_queries() as counter:
            client.get("/")
        return counter.count

    few = home_queries()
    for weeks in range(3, 7):
        Scene(booking, weeks_ahead=weeks)
    db.session.commit()
    assert home_queries() == few


def test_the_emails_give_the_appointment_first(app, booking):
    """The school's confirmation gives the appointment's time right after its first sentence,
    not the first proposed time; a mail with no appointment lists every proposal."""
    scene = Scene(booking)
    booking.teacher.locale = "it"
    confirmed = queue_email("booking", booking.teacher, kind="confirmed", request=scene.request,
                            assignment=scene.assignment)
    lines = [line for line in confirmed.body_text.splitlines() if line.strip()]
    with app.test_request_context(), force_locale("it"):
        expected = f"Appuntamento: {localised_day_and_time(scene.slots[1][0])}–15:00"
    assert lines[2] == expected, confirmed.body_text
    assert shown(app, scene.slots[0][0]) not in confirmed.body_text
    assert html.escape(expected, quote=True) in confirmed.body_html

    scene.assignment.state = AssignmentState.declined
    rejected = queue_email("booking", booking.teacher, kind="rejected", request=scene.request,
                           assignment=None)
    assert "Orari proposti dalla scuola:" in rejected.body_text
    for start, _end in scene.slots:
        assert shown(app, start) in rejected.body_text


# --- 2. the page an offer email links to ---------------------------------------------


def test_the_offer_page_leads_with_the_offered_time_and_the_answer(app, client, booking):
    """The mediator an offer waits for reads the offered time, the school and the Accept and
    Decline buttons before the request's details; the school reads the time offered."""
    scene = Scene(booking, state=AssignmentState.offered)
    text = page(client, booking.mediator.user, f"/requests/{scene.request.id}")
    answer = text.index('id="answer"')
    details = text.index('id="details-title"')
    offered = shown(app, scene.slots[1][0])
    accept = f'action="/agenda/assignments/{scene.assignment.id}/accept"'
    decline = f'href="/agenda/assignments/{scene.assignment.id}/decline'
    assert answer < text.index(offered) < text.index(accept) < text.index(decline) < details
    assert text.count(accept) == 1  # not repeated in the side column
    assert "Proposta per te: accetta o rifiuta" in text
    assert re.search(rf"{re.escape(offered)}</time>–15:00\s*<span class=\"badge bg-info ms-1\">"
                     r"Orario proposto</span>", text)

    Auth(client).logout()
    school = page(client, booking.teacher, f"/requests/{scene.request.id}")
    assert "Proposta a un mediatore, che non ha ancora risposto." in school
    assert school.index(offered) < school.index('id="details-title"')
    assert accept not in school and 'id="answer"' not in school


def test_another_mediator_does_not_see_the_answer(client, booking):
    """A mediator who was offered the request before (and declined) gets no buttons."""
    scene = Scene(booking, state=AssignmentState.offered)
    other = booking.factory.mediator(ambiti=[booking.school.ambito])
    booking.factory.assignment(request=scene.request, mediator=other,
                               start=scene.slots[0][0], end=scene.slots[0][1],
                               state=AssignmentState.declined, decline_reason="no")
    db.session.commit()
    text = page(client, other.user, f"/requests/{scene.request.id}")
    assert 'id="answer"' not in text and "/accept" not in text


# --- 3. closures in the request form ---------------------------------------------------


def test_the_form_shows_the_closures_and_the_period(app, client, booking):
    """The meeting form lists the school's next closures (its own and the regional ones,
    not another school's, not those on a weekend) and bounds its days to the project."""
    first = school_day(10)
    ponte = weekday_after(first)
    saturday = first + timedelta(days=(5 - first.weekday()) % 7 or 7)
    other_school = booking.factory.school(booking.school.ambito)
    f = booking.factory
    f.add(Closure(school_id=None, name="Immacolata", start_date=first, end_date=first))
    f.add(Closure(school=booking.school, name="Ponte dell'Immacolata", start_date=ponte,
                  end_date=ponte))
    f.add(Closure(school=other_school, name="Festa patronale", start_date=ponte,
                  end_date=ponte))
    f.add(Closure(school_id=None, name="Festa di sabato", start_date=saturday,
                  end_date=saturday))
    f.add(Closure(school_id=None, name="Passata", start_date=first - timedelta(days=30),
                  end_date=first - timedelta(days=29)))
    db.session.commit()
    text = page(client, booking.teacher, f"/requests/new/{booking.meeting.code}")

    aside = text[text.index('class="border rounded p-3 mb-3 small app-booking-window"'):]
    aside = aside[:aside.index("</aside>")]
    assert "Immacolata" in aside and "Ponte dell&#39;Immacolata" in aside
    assert aside.index("Immacolata") < aside.index("Ponte")
    for absent in ("Festa patronale", "Festa di sabato", "Passata"):
        assert absent not in aside
    with app.test_request_context(), force_locale("it"):
        period = (localised_date(max(in_rome(utcnow()).date(), booking.project.start_date)),
                  localised_date(booking.project.end_date))
        assert localised_date(first, "full") in aside
    assert f"Dal {period[0]} al {period[1]}" in aside
    assert booking.project.title in aside
    for position in (1, 2, 3):
        field = re.search(rf'<input[^>]*id="slot_{position}_date"[^>]*>', text).group(0)
        assert f'max="{booking.project.end_date.isoformat()}"' in field
        assert re.search(r'min="\d{4}-\d{2}-\d{2}"', field)
    # The days requests.js checks as they are picked, with the server's own words.
    fieldset = re.search(r"<fieldset[^>]*data-closures='([^']*)'[^>]*>", text, re.S).group(0)
    assert first.isoformat() in fieldset and ponte.isoformat() in fieldset
    assert "La scuola è chiusa quel giorno ({name})." in html.unescape(fieldset)


def test_the_translation_form_shows_the_period(client, booking):
    """A translation's deadline is bounded by the project's period too."""
    text = page(client, booking.teacher, f"/requests/new/{booking.translation.code}")
    field = re.search(r'<input[^>]*id="deadline_date"[^>]*>', text).group(0)
    assert f'max="{booking.project.end_date.isoformat()}"' in field
    assert "Giorni che puoi scegliere" in text and "La scuola è chiusa</p>" not in text


# --- 4. labels -------------------------------------------------------------------------


def test_the_home_names_its_list_for_what_it_holds(client, booking):
    """The list of accepted meetings and translations is not called "Mediators coming"."""
    text = page(client, booking.teacher, "/")
    assert "Incontri confermati e traduzioni attese" in text
    assert "Mediatori in arrivo" not in text


def test_a_level_has_one_pair_of_parentheses(client, booking):
    """The mediators' list reads "Arabo – C1 (avanzato)", not "(C1 (avanzato))"."""
    arabic = booking.mediator.languages[0].language
    booking.factory.add(MediatorLanguage(mediator=booking.mediator,
                                         language=booking.factory.language("fr"),
                                         level=LanguageLevel.c1))
    db.session.commit()
    text = page(client, booking.coordinator, "/mediators")
    assert "– C1 (avanzato)" in text
    assert "(C1 (avanzato))" not in text and "((" not in text
    assert arabic.name("it") in text


def test_the_file_input_is_a_labelled_translated_upload(client, booking):
    """The documents field is Bootstrap Italia's upload: a visible name, a translated button
    (no browser "Choose Files"), the list the script fills, and the script."""
    text = page(client, booking.teacher, f"/requests/new/{booking.translation.code}")
    field = re.search(r'<input[^>]*type="file"[^>]*>', text).group(0)
    assert 'class="upload"' in field
    assert 'aria-labelledby="documents-label documents-button"' in field
    assert re.search(r'<p class="fw-semibold mb-2" id="documents-label">Documenti da tradurre'
                     r'<span class="app-required"', text)
    assert re.search(r'<label for="documents" id="documents-button">\s*<svg[^>]*>.*?</svg>'
                     r'<span>Scegli i file</span>', text, re.S)
    assert 'id="documents-list" aria-live="polite"' in text
    assert "/static/js/upload.js" in text


def test_a_translation_is_not_delivered_without_its_file(client, booking):
    """The mediator who sends the translation's log without the file reads why next to the
    file field, in their language; nothing is logged."""
    deadline = utcnow() - timedelta(hours=2)
    request = booking.factory.request(
        school=booking.school, project=booking.project, type=booking.translation,
        requester=booking.teacher, state=RequestState.confirmed, deadline_dt=deadline,
        duration_minutes=None, page_count=2)
    assignment = booking.factory.add(Assignment(request=request, mediator=booking.mediator,
                                                state=AssignmentState.accepted,
                                                deadline_dt=deadline))
    db.session.commit()
    login(client, booking.mediator.user)
    response = client.post(f"/agenda/assignments/{assignment.id}/log",
                           data={"pages": "2", "words": "500",
                                 "document": (io.BytesIO(b""), "")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    error = re.search(r'<div id="document-error" class="invalid-feedback d-block">(.*?)</div>',
                      text, re.S)
    assert error and "Allega il documento tradotto." in error.group(1)
    assert db.session.get(Assignment, assignment.id).session_log is None
    assert db.session.get(type(request), request.id).state == RequestState.confirmed


# --- 6. states explained -----------------------------------------------------------------


def test_states_are_explained_where_they_appear(client, booking):
    """The request page says what its state means; the lists carry a legend of theirs."""
    scene = Scene(booking)
    scene.request.state = RequestState.logged
    db.session.commit()
    text = page(client, booking.teacher, f"/requests/{scene.request.id}")
    assert re.search(r'>Registrata</span>\s*(<span[^>]*>[^<]*</span>\s*)?<span class="small '
                     r'ms-1 app-state-hint">Il mediatore ha registrato l&#39;incontro', text)
    for url in ("/", "/requests"):
        listing = page(client, booking.teacher, url)
        legend = listing[listing.index("Che cosa significano gli stati"):]
        assert "Registrata</span> Il mediatore ha registrato" in legend
        assert "In attesa di approvazione</span>" not in legend  # only the states listed


# --- 5. the emails' text part ----------------------------------------------------------

#: What people type: an apostrophe, an ampersand, a tag, quotes.
TYPED = "l'orario & <b>\"sera\"</b>"


@pytest.fixture
def typed_scene(booking):
    """Every name and free text an email can show, typed with characters HTML escapes."""
    booking.school.name = f"Scuola {TYPED}"
    site = booking.school.sites[0]
    site.name, site.address = f"Plesso {TYPED}", f"Via {TYPED}"
    booking.teacher.display_name = f"Anna {TYPED}"
    booking.mediator.user.display_name = f"Fatima {TYPED}"
    return email_scene(booking, rome(school_day(10), 10),
                       rejection_reason=f"Motivo {TYPED}", decline_reason=f"Rifiuto {TYPED}",
                       end_reason=f"Fine {TYPED}", review_comment=f"Commento {TYPED}")


#: The free text each kind of booking email quotes (besides names, in every one).
QUOTED = {"rejected": "Motivo", "declined": "Rifiuto", "superseded": "Fine",
          "log_returned": "Commento"}


@pytest.mark.parametrize(("template", "kind"), list(email_cases()))
def test_emails_carry_typed_text_as_typed(app, booking, typed_scene, template, kind):
    """The text part has the text as typed, never an HTML entity; the HTML part escapes it
    (no tag of a person's making gets into the mail)."""
    for locale in ("it", "en"):
        booking.teacher.locale = locale
        context = dict(typed_scene, kind=kind) if kind else dict(typed_scene)
        message = queue_email(template, booking.teacher, **context)
        text = f"{message.subject}\n{message.body_text}"
        assert f"Anna {TYPED}" in text  # the greeting
        if template in ("booking", "reminder"):
            assert f"Scuola {TYPED}" in text  # what the mail is about
        if template == "booking" and kind in QUOTED:
            assert f"{QUOTED[kind]} {TYPED}" in text
        assert not re.search(r"&(#\d+|#x[0-9a-f]+|amp|lt|gt|quot|apos);", text, re.I), text
        escaped = str(escape(TYPED))
        assert f"Anna {escaped}" in message.body_html
        if template == "booking" and kind in QUOTED:
            assert f"{QUOTED[kind]} {escaped}" in message.body_html
        assert "<b>" not in message.body_html
