"""The whole booking journey in a real browser, as the people who use it take it.

Teacher files a request, lead approves, coordinator offers, mediator accepts,
(time passes), mediator logs, coordinator approves: in Italian; then the
teacher's part again in English. A screenshot of each step is saved under
test-output/<test name>/.
"""

from datetime import UTC, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from mediation.clock import in_rome, to_utc
from mediation.extensions import db
from mediation.models import (
    Assignment,
    Closure,
    LanguageLevel,
    MediationRequest,
    MediatorLanguage,
    Project,
    RequestState,
    Role,
    Site,
    utcnow,
)
from mediation.seed import ensure_macro_actions, seed_reference_data

from tests.browser import log_in

pytestmark = pytest.mark.browser


def next_school_day(days_ahead=7):
    day = datetime.now(UTC).date() + timedelta(days=days_ahead)
    closures = db.session.scalars(sa.select(Closure)).all()
    while day.weekday() >= 5 or any(c.start_date <= day <= c.end_date for c in closures):
        day += timedelta(days=1)
    return day


@pytest.fixture
def lodi(factory):
    """A Lodi school that wants its lead's approval, its people and a running project."""
    seed_reference_data()
    ambito = factory.ambito(code="LODI", name="Ambito di Lodi",
                            lead_agency="Azienda Speciale Consortile Servizi Intercomunali")
    school = factory.school(ambito, code="LOIC81200X", name="Istituto Comprensivo Lodi III",
                            requires_lead_approval=True)
    school.sites[0].name, school.sites[0].address = "Scuola primaria Arcobaleno", "Via Roma 12"
    factory.add(Site(school=school, name="Scuola secondaria Ada Negri",
                     address="Viale Pavia 4", municipality="Lodi"))
    project = factory.add(Project(
        code="FAMI2127", title="Lab'Impact – FAMI 2021-2027", fund="FAMI 2021-2027",
        lead_partner="Regione Lombardia",
        start_date=datetime.now(UTC).date() - timedelta(days=365),
        end_date=datetime.now(UTC).date() + timedelta(days=550)))
    ensure_macro_actions(project)
    people = {
        "teacher": factory.user(Role.teacher, school=school, email="maestra.bianchi@example.org",
                                display_name="Laura Bianchi"),
        "lead": factory.user(Role.lead, school=school, email="referente.rossi@example.org",
                             display_name="Paolo Rossi"),
        "coordinator": factory.user(Role.coordinator, ambito=ambito,
                                    email="coord.lodi@example.org",
                                    display_name="Chiara Bassi"),
    }
    mediator = factory.mediator(ambiti=[ambito], ambito=ambito, languages=(),
                                email="fatima@example.org", display_name="Fatima El Amrani")
    arabic = factory.language("ar")
    factory.add(MediatorLanguage(mediator=mediator, language=arabic,
                                 level=LanguageLevel.native))
    people["mediator"] = mediator.user
    db.session.commit()
    return people


def file_family_meeting(page, base, day, shots, prefix):
    """The teacher's part: choose the type, fill the form, send it."""
    page.goto(f"{base}/requests/new")
    shots.take(page, f"{prefix}-choose-type")
    page.click("a[href$='/requests/new/family_meeting']")
    page.select_option("#language", label=page.locator(
        "#language option", has_text="Arab").first.inner_text())
    page.select_option("#pupil_case", "new")
    page.fill("#case_code", f"LODI3-{prefix}-001")
    page.fill("#case_class", "2B")
    page.select_option("#case_cycle", "primaria")
    page.fill("#case_arrival_year", "2025")
    page.fill("#expected_parents", "2")
    page.fill("#expected_teachers", "1")
    page.check("input[name=mode][value=in_person]")
    page.select_option("#site", index=1)
    page.select_option("#duration", "60")
    page.fill("#slot_1_date", day.isoformat())
    page.fill("#slot_1_time", "10:00")
    page.fill("#notes", "Colloquio con la famiglia sul percorso scolastico.")
    shots.take(page, f"{prefix}-form")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    shots.take(page, f"{prefix}-filed")


def test_whole_journey_in_italian_then_teacher_in_english(app, lodi, live_server, browser,
                                                          screenshots):
    """Request → approval → offer → acceptance → log → approval, through the pages."""
    base = live_server.url
    day, english_day = next_school_day(), next_school_day(8)
    db.session.commit()
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="it-IT")

    # The teacher files a request: it waits for the lead.
    log_in(page, base, lodi["teacher"])
    assert 'lang="it"' in page.content()
    file_family_meeting(page, base, day, screenshots, "teacher-it")
    assert "In attesa di approvazione" in page.content()
    request = db.session.scalar(sa.select(MediationRequest))
    assert request.state == RequestState.awaiting_approval
    request_id = request.id
    db.session.commit()

    # The lead approves it.
    log_in(page, base, lodi["lead"])
    page.goto(f"{base}/requests/{request_id}")
    page.click(f"form[action='/requests/{request_id}/approve'] button[type=submit]")
    page.wait_for_load_state()
    screenshots.take(page, "lead-approved")
    assert "Aperta" in page.content()

    # The coordinator offers it to the mediator for the preferred time.
    log_in(page, base, lodi["coordinator"])
    page.goto(f"{base}/coordination/requests")
    screenshots.take(page, "coordinator-queue")
    page.goto(f"{base}/coordination/requests/{request_id}/offer?slot=1")
    screenshots.take(page, "coordinator-candidates")
    mediator_id = lodi["mediator"].mediator_profile.id
    db.session.commit()
    page.click(f"#candidate-{mediator_id} button[name=mediator_id]")
    page.wait_for_load_state()
    screenshots.take(page, "coordinator-offered")
    assert "Proposta" in page.content()

    # The mediator, on a phone, accepts.
    phone = browser.new_page(viewport={"width": 375, "height": 800}, locale="it-IT")
    log_in(phone, base, lodi["mediator"])
    phone.goto(f"{base}/agenda")
    screenshots.take(phone, "mediator-offer")
    assignment_id = db.session.scalar(sa.select(Assignment.id))
    db.session.commit()
    phone.click(f"form[action='/agenda/assignments/{assignment_id}/accept'] "
                "button[type=submit]")
    phone.wait_for_load_state()
    screenshots.take(phone, "mediator-accepted")
    assert db.session.scalar(sa.select(MediationRequest.state)) == RequestState.confirmed
    db.session.commit()

    # Time passes: the meeting took place on the last school day before today, at 9:00 in
    # Rome (not "now minus a day", which late in the evening runs past midnight).
    last_day = in_rome(utcnow()).date() - timedelta(days=1)
    while last_day.weekday() >= 5:
        last_day -= timedelta(days=1)
    start = to_utc(last_day, time(9))
    db.session.execute(sa.update(Assignment).values(start_dt=start,
                                                    end_dt=start + timedelta(hours=1)))
    db.session.commit()

    # The mediator logs the session.
    phone.goto(f"{base}/agenda/assignments/{assignment_id}/log")
    phone.fill("#parents_met", "2")
    phone.fill("#teachers_met", "1")
    phone.check("input[name=outcome][value=held]")
    phone.fill("#summary", "Colloquio svolto; la famiglia ha compreso il piano didattico.")
    screenshots.take(phone, "mediator-log-form")
    phone.click("main form[method=post] button[type=submit]")
    phone.wait_for_load_state()
    screenshots.take(phone, "mediator-logged")
    assert db.session.scalar(sa.select(MediationRequest.state)) == RequestState.logged
    db.session.commit()

    # The coordinator approves the log; the request is closed.
    log_in(page, base, lodi["coordinator"])
    page.goto(f"{base}/coordination/logs")
    screenshots.take(page, "coordinator-logs")
    page.click("form[action$='/approve'] button[type=submit] >> nth=-1")
    page.wait_for_load_state()
    page.goto(f"{base}/requests/{request_id}")
    screenshots.take(page, "request-closed")
    assert "Chiusa" in page.content()
    assert db.session.scalar(sa.select(MediationRequest.state)) == RequestState.closed
    db.session.commit()

    # The teacher's part again, in English.
    log_in(page, base, lodi["teacher"], locale="en")
    assert 'lang="en"' in page.content()
    file_family_meeting(page, base, english_day, screenshots, "teacher-en")
    content = page.content()
    assert "Awaiting approval" in content and "In attesa" not in content
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MediationRequest)) == 2
