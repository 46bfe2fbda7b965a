"""Funder-reporting exports (CSV and XLSX): rows and totals against hand-computed values,
quarters in Europe/Rome, headers in Italian and English, never a field identifying a pupil,
scope and audit."""

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import openpyxl
import pytest
import sqlalchemy as sa

from mediation.extensions import db
from mediation.models import (
    Action,
    AssignmentState,
    AuditEvent,
    Cycle,
    LogState,
    MacroAction,
    Mode,
    Outcome,
    PupilCase,
    RequestKind,
    RequestState,
    Role,
    SessionLog,
)
from mediation.reporting import exports, spreadsheets
from mediation.reporting.filters import ReportFilter
from mediation.scoping import scope_of

from tests.conftest import login
from tests.scenarios.booking import rome

# Recognisable values that must never leave the database through an export.
COUNTRY = "QZ"
SECRETS = (f"country {COUNTRY}", "SUMMARY-SECRET-4711", "NOTE-SECRET-4712",
           "COMMENT-SECRET-4713", "CANCEL-SECRET-4714")
PERIOD = "start=2026-01-01&end=2026-06-30"


@dataclass
class Data:
    ambito_a: object
    ambito_b: object
    school_a1: object
    school_a2: object
    school_b: object
    coordinator_a: object
    coordinator_b: object
    admin: object
    teacher: object
    mediator_user: object


@pytest.fixture
def data(factory) -> Data:
    """Two Ambiti; in Ambito A two schools with four approved sessions in the first half
    of 2026 (one a translation), one awaiting approval and one in 2025; one in Ambito B."""
    ambito_a = factory.ambito(code="AMBA", name="Ambito di Lodi")
    ambito_b = factory.ambito(code="AMBB", name="Ambito di Legnano")
    school_a1 = factory.school(ambito_a, code="LOIC81001A", name="IC Lodi Uno",
                               municipality="Lodi")
    school_a2 = factory.school(ambito_a, code="LOIC81002B", name="IC Codogno",
                               municipality="Codogno")
    school_b = factory.school(ambito_b, code="MIIC82003C", name="IC Legnano",
                              municipality="Legnano")
    project = factory.project(code="FAMI-LAB")
    macro1 = factory.add(MacroAction(project=project, number=1,
                                     title_it="Mediazione scuola-famiglia",
                                     title_en="School-family mediation"))
    macro2 = factory.add(MacroAction(project=project, number=2, title_it="Traduzioni",
                                     title_en="Translations"))
    action11 = factory.add(Action(macro_action=macro1, code="1.1", title_it="Colloqui",
                                  title_en="Meetings"))
    action12 = factory.add(Action(macro_action=macro1, code="1.2", title_it="Accoglienza",
                                  title_en="Reception"))
    meeting = factory.request_type(code="meeting", name_it="Colloquio con la famiglia",
                                   name_en="Family meeting")
    translation = factory.request_type(code="translation", name_it="Traduzione scritta",
                                       name_en="Written translation", kind=RequestKind.deadline,
                                       default_duration_minutes=None)
    arabic = factory.language("ar", name_it="Arabo", name_en="Arabic")
    chinese = factory.language("zh", name_it="Cinese", name_en="Chinese")
    french = factory.language("fr", name_it="Francese", name_en="French")
    case1 = factory.add(PupilCase(
        school=school_a1, code="ALU-001", class_name="2B", cycle=Cycle.primaria,
        arrival_year=2024, country_of_origin=COUNTRY, high_absences=True, repeated_year=True,
        late_enrolment=True))
    case1.home_languages.extend([french, arabic])
    case2 = factory.add(PupilCase(school=school_a2, code="ALU-002", class_name="1A",
                                  cycle=Cycle.secondaria_1, country_of_origin=COUNTRY))
    case3 = factory.add(PupilCase(school=school_b, code="ALU-003", class_name="3C",
                                  cycle=Cycle.primaria, country_of_origin=COUNTRY))
    fatima = factory.mediator(ambiti=[ambito_a], ambito=ambito_a, languages=("ar",),
                              display_name="Fatima El Amrani")
    li = factory.mediator(ambiti=[ambito_a], ambito=ambito_a, languages=("zh",),
                          display_name="Li Wei")
    marco = factory.mediator(ambiti=[ambito_b], ambito=ambito_b, languages=("ar",),
                             display_name="Marco Neri")

    def session(school, mediator, start=None, end=None, *, deadline=None, language=arabic,
                rtype=meeting, case=None, macro=macro1, action=action11, mode=Mode.in_person,
                state=LogState.approved, met=(0, 0, 0), outcome=Outcome.held, pages=None,
                words=None):
        request = factory.request(
            school, project=project, type=rtype, language=language, pupil_case=case,
            state=RequestState.closed, mode=mode,
            duration_minutes=None if deadline else 60, deadline_dt=deadline,
            page_count=pages, notes=SECRETS[2], cancellation_note=SECRETS[4])
        assignment = factory.assignment(request, mediator, start=start, end=end,
                                        state=AssignmentState.accepted)
        if deadline:
            assignment.start_dt = assignment.end_dt = None
            assignment.deadline_dt = deadline
        factory.add(SessionLog(
            assignment=assignment, actual_start_dt=start if not deadline else None,
            actual_end_dt=end if not deadline else None, pupils_met=met[0],
            parents_met=met[1], teachers_met=met[2], outcome=outcome, summary=SECRETS[1],
            macro_action=macro, action=action, pages=pages, words=words, state=state,
            review_comment=SECRETS[3]))

    # 23:30 in Rome on 31 March (21:30 UTC): the first quarter.
    session(school_a1, fatima, rome(date(2026, 3, 31), 23, 30),
            rome(date(2026, 4, 1), 0, 15), case=case1, met=(1, 2, 1))
    # 00:30 in Rome on 1 April (22:30 UTC on 31 March): the second quarter.
    session(school_a1, fatima, rome(date(2026, 4, 1), 0, 30), rome(date(2026, 4, 1), 1, 30),
            case=case1, met=(0, 1, 1), mode=Mode.phone)
    # 29 March 2026: clocks go forward at 02:00, so 01:30-03:30 lasts one hour.
    session(school_a2, li, rome(date(2026, 3, 29), 1, 30), rome(date(2026, 3, 29), 3, 30),
            language=chinese, case=case2, action=action12, met=(1, 1, 0),
            outcome=Outcome.family_absent)
    # A translation counts on its deadline and has no hours.
    session(school_a1, fatima, deadline=rome(date(2026, 2, 10), 12), rtype=translation,
            macro=macro2, action=None, pages=3, words=900)
    # Not counted: awaiting approval; before the period.
    session(school_a1, fatima, rome(date(2026, 5, 5), 10), rome(date(2026, 5, 5), 11, 30),
            case=case1, met=(1, 1, 1), state=LogState.submitted)
    session(school_a1, fatima, rome(date(2025, 12, 31), 9), rome(date(2025, 12, 31), 10),
            case=case1, met=(1, 1, 1))
    # Ambito B: the admin sees it, coordinator A does not.
    session(school_b, marco, rome(date(2026, 2, 2), 9), rome(date(2026, 2, 2), 10),
            case=case3, met=(1, 1, 1))
    result = Data(
        ambito_a=ambito_a, ambito_b=ambito_b, school_a1=school_a1, school_a2=school_a2,
        school_b=school_b,
        coordinator_a=factory.user(Role.coordinator, ambito=ambito_a),
        coordinator_b=factory.user(Role.coordinator, ambito=ambito_b),
        admin=factory.user(Role.admin), teacher=factory.user(Role.teacher, school=school_a1),
        mediator_user=fatima.user,
    )
    db.session.commit()
    return result


def download(client, user, kind, fmt, query=PERIOD):
    login(client, user)
    response = client.get(f"/reporting/export/{kind}.{fmt}?{query}")
    assert response.status_code == 200, response.status_code
    response.get_data()  # read it all: the stream holds the request context until the end
    return response


def read_csv(response, delimiter=";"):
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=delimiter))


def read_xlsx(response):
    """Every sheet's rows, as cell values."""
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    return {sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)]
            for sheet in book.worksheets}


def records(rows):
    header, *body = rows
    return [dict(zip(header, row, strict=True)) for row in body]


# -- the sessions of the period


def test_sessions_csv_in_italian(client, data):
    login(client, data.coordinator_a)
    streamed = client.get(f"/reporting/export/sessions.csv?{PERIOD}")
    assert streamed.is_streamed  # written while the rows arrive
    assert "Content-Length" not in streamed.headers
    streamed.close()
    response = download(client, data.coordinator_a, "sessions", "csv")
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="interventi_2026-01-01_2026-06-30.csv"'
    rows = read_csv(response, ";")
    assert rows[0][:5] == ["N. intervento", "Data", "Ora di inizio", "Ora di fine", "Ore"]
    got = records(rows)
    # Ordered by when they count; Ambito B's, the unapproved and the 2025 one left out.
    assert [(r["Data"], r["Ora di inizio"], r["Ora di fine"], r["Ore"]) for r in got] == [
        ("2026-02-10", "", "", ""),
        ("2026-03-29", "01:30", "03:30", "1,00"),
        ("2026-03-31", "23:30", "00:15", "0,75"),
        ("2026-04-01", "00:30", "01:30", "1,00"),
    ]
    translation, dst, late, early = got
    assert translation["Tipo di richiesta"] == "Traduzione scritta"
    assert translation["Modalità"] == ""  # a translation has no meeting mode
    assert (translation["Macroazione"], translation["Azione"]) == ("2", "")
    assert translation["Titolo dell'azione"] == ""
    assert (translation["Pagine"], translation["Parole"]) == ("3", "900")
    assert translation["Codice alunno"] == ""
    assert late == {
        "N. intervento": late["N. intervento"], "Data": "2026-03-31", "Ora di inizio": "23:30",
        "Ora di fine": "00:15", "Ore": "0,75", "Minuti": "45", "Progetto": "FAMI-LAB",
        "Ambito": "Ambito di Lodi", "Codice meccanografico": "LOIC81001A",
        "Scuola": "IC Lodi Uno", "Comune": "Lodi", "Tipo di richiesta": "Colloquio con la famiglia",
        "Lingua": "Arabo", "Modalità": "In presenza", "Macroazione": "1",
        # The codes, and beside them the names a reader needs.
        "Titolo della macroazione": "Mediazione scuola-famiglia", "Azione": "1.1",
        "Titolo dell'azione": "Colloqui", "Esito": "Svolto", "Alunni incontrati": "1",
        "Genitori incontrati": "2",
        "Docenti incontrati": "1", "Codice alunno": "ALU-001", "Mediatore": "Fatima El Amrani",
        "Pagine": "", "Parole": "",
        # Issue #18: delivered (held) or not, the rate applied and the cost (45 min × 25 €).
        "Svolto": "Sì", "Tariffa oraria": "25,00", "Tariffa a pagina": "", "Costo": "18,75",
        # Issue #18: no answer from the school yet (tests/bookings/test_attestation.py).
        "Attestazione della scuola": "In attesa", "Attestato da": "",
        "Attestato da (ruolo)": "", "Data dell'attestazione": "", "Ora dell'attestazione": "",
    }
    assert early["Modalità"] == "Per telefono"
    assert (dst["Lingua"], dst["Esito"], dst["Mediatore"], dst["Comune"]) == \
        ("Cinese", "La famiglia non è venuta", "Li Wei", "Codogno")
    # The family did not come: paid (1 h × 25 €), not delivered. No tariff: 0 € a page.
    assert (dst["Svolto"], dst["Costo"]) == ("No", "25,00")
    assert (translation["Svolto"], translation["Tariffa oraria"], translation["Costo"]) == \
        ("Sì", "", "0,00")


def test_sessions_csv_in_english(client, data):
    response = download(client, data.coordinator_a, "sessions", "csv",
                        PERIOD + "&lang=en")
    assert response.headers["Content-Disposition"] == \
        'attachment; filename="sessions_2026-01-01_2026-06-30.csv"'
    got = records(read_csv(response, ","))
    assert list(got[0])[:7] == ["Session no.", "Date", "Start time", "End time", "Hours",
                                "Minutes", "Project"]
    assert [r["Hours"] for r in got] == ["", "1.00", "0.75", "1.00"]
    assert got[2]["Outcome"] == "Held"
    assert (got[2]["Macro-action"], got[2]["Macro-action title"], got[2]["Action"],
            got[2]["Action title"]) == ("1", "School-family mediation", "1.1", "Meetings")
    assert got[2]["Mode"] == "In person"
    assert got[2]["Language"] == "Arabic"


def test_sessions_xlsx_numbers_and_dates(client, data):
    response = download(client, data.coordinator_a, "sessions", "xlsx")
    assert response.mimetype == spreadsheets.XLSX_MIMETYPE
    assert "interventi_2026-01-01_2026-06-30.xlsx" in response.headers["Content-Disposition"]
    sheets = read_xlsx(response)
    assert list(sheets) == ["Interventi del periodo", "Filtri"]
    got = records(sheets["Interventi del periodo"])
    assert len(got) == 4
    late = got[2]
    assert late["Data"] == datetime(2026, 3, 31)  # an Excel date
    assert late["Ora di inizio"] == time(23, 30)
    assert late["Ore"] == pytest.approx(0.75)
    assert isinstance(late["Ore"], float)
    assert isinstance(late["Alunni incontrati"], int)
    assert isinstance(late["Macroazione"], int)
    assert late["N. intervento"] == int(late["N. intervento"])
    assert got[0]["Ore"] is None and got[0]["Pagine"] == 3
    assert sum(r["Ore"] or 0 for r in got) == pytest.approx(2.75)
    filters = dict(sheets["Filtri"])
    assert filters["Dal"] == datetime(2026, 1, 1)
    assert filters["Al"] == datetime(2026, 6, 30)
    assert filters["Ambito"] == "Ambito di Lodi"  # a coordinator's scope is their Ambito
    assert filters["Scuola"] == "Tutte le scuole"


def test_admin_sees_every_ambito_and_filters_narrow(client, data):
    got = records(read_xlsx(download(client, data.admin, "sessions", "xlsx"))[
        "Interventi del periodo"])
    assert sorted(r["Ambito"] for r in got) == ["Ambito di Legnano"] + ["Ambito di Lodi"] * 4
    got = records(read_xlsx(download(
        client, data.admin, "sessions", "xlsx",
        PERIOD + f"&school={data.school_a2.id}"))["Interventi del periodo"])
    assert [r["Codice meccanografico"] for r in got] == ["LOIC81002B"]


# -- the beneficiaries


def test_beneficiaries(client, data):
    response = download(client, data.coordinator_a, "beneficiaries", "xlsx")
    assert "beneficiari_2026-01-01_2026-06-30.xlsx" in response.headers["Content-Disposition"]
    sheets = read_xlsx(response)
    assert sheets["Beneficiari"][0] == [
        "Codice alunno", "Codice famiglia", "Codice meccanografico", "Scuola", "Classe",
        "Ciclo scolastico", "Anno di arrivo in Italia", "Lingue parlate in famiglia",
        "Interventi con l'alunno presente", "Ore", "Minuti", "Primo intervento",
        "Ultimo intervento"]
    # Issue #18: the pupils met, at the held sessions they attended. ALU-001 was there on
    # 31 March only (on 1 April the parents came alone); ALU-002's family did not come.
    assert sheets["Beneficiari"][1:] == [
        ["ALU-001", None, "LOIC81001A", "IC Lodi Uno", "2B", "Scuola primaria", 2024,
         "Arabo, Francese", 1, pytest.approx(0.75), 45, datetime(2026, 3, 31),
         datetime(2026, 3, 31)],
    ]
    english = records(read_csv(download(client, data.coordinator_a, "beneficiaries",
                                        "csv", PERIOD + "&lang=en"), ","))
    assert english[0]["Languages spoken at home"] == "Arabic, French"
    assert english[0]["School cycle"] == "Primary school"
    assert (english[0]["Sessions attended"], english[0]["Hours"]) == ("1", "0.75")


# -- the quarterly monitoring summary


SUMMARY_IT = [
    "Anno", "Trimestre", "Progetto", "Macroazione", "Azione", "Descrizione",
    "Interventi svolti", "Ore svolte", "Minuti svolti", "Alunni incontrati", "Genitori incontrati",
    "Docenti incontrati", "Partecipanti", "Alunni incontrati (codici distinti)",
    "Pagine tradotte", "Interventi non svolti", "Ore pagate", "Minuti pagati", "Costo"]


def test_summary_by_quarter_macro_action_and_action(client, data):
    response = download(client, data.coordinator_a, "summary", "xlsx")
    assert "monitoraggio_2026-01-01_2026-06-30.xlsx" in response.headers["Content-Disposition"]
    rows = read_xlsx(response)["Riepilogo trimestrale"]
    assert rows[0] == SUMMARY_IT
    h = pytest.approx
    # Issue #18: the sessions, hours and participants delivered count the sessions held;
    # the DST night's (1.2, the family did not come) is paid: not held 1, 1 h paid, 25 €
    # (every mediator at 25 €/h; no translation tariff: 0 €).
    assert rows[1:] == [
        # Q1: 23:30 on 31 March, the DST night, the translation.
        [2026, 1, "FAMI-LAB", 1, "1.1", "Colloqui", 1, h(0.75), 45, 1, 2, 1, 4, 1, 0,
         0, h(0.75), 45, h(18.75)],
        [2026, 1, "FAMI-LAB", 1, "1.2", "Accoglienza", 0, h(0.0), 0, 0, 0, 0, 0, 0, 0,
         1, h(1.0), 60, h(25.0)],
        [2026, 1, "FAMI-LAB", 2, None, "Traduzioni", 1, h(0.0), 0, 0, 0, 0, 0, 0, 3,
         0, h(0.0), 0, h(0.0)],
        [2026, 1, None, None, None, "Totale del trimestre", 2, h(0.75), 45, 1, 2, 1, 4, 1, 3,
         1, h(1.75), 105, h(43.75)],
        # Q2: 00:30 on 1 April; ALU-001 was not there (parents only): no pupil met.
        [2026, 2, "FAMI-LAB", 1, "1.1", "Colloqui", 1, h(1.0), 60, 0, 1, 1, 2, 0, 0,
         0, h(1.0), 60, h(25.0)],
        [2026, 2, None, None, None, "Totale del trimestre", 1, h(1.0), 60, 0, 1, 1, 2, 0, 0,
         0, h(1.0), 60, h(25.0)],
        # ALU-001 met in both quarters counts once in the period.
        [None, None, None, None, None, "Totale del periodo", 3, h(1.75), 105, 1, 3, 2, 6, 1, 3,
         1, h(2.75), 165, h(68.75)],
    ]
    english = read_csv(download(client, data.coordinator_a, "summary", "csv",
                                PERIOD + "&lang=en"), ",")
    assert english[0][:2] == ["Year", "Quarter"]
    assert english[1][5] == "Meetings"
    assert english[-1] == ["", "", "", "", "", "Total for the period", "3", "1.75", "105", "1",
                           "3", "2", "6", "1", "3", "1", "2.75", "165", "68.75"]


def test_summary_lists_every_quarter_of_the_period_even_empty(client, data):
    rows = read_csv(download(client, data.coordinator_a, "summary", "csv",
                             "start=2025-10-01&end=2026-09-30"), ";")
    totals = [r for r in rows[1:] if r[5] == "Totale del trimestre"]
    assert [(r[0], r[1], r[6]) for r in totals] == [
        ("2025", "4", "1"), ("2026", "1", "2"), ("2026", "2", "1"), ("2026", "3", "0")]
    # Issue #18: the session the family missed (1 h) is paid, not delivered.
    assert rows[-1][5:8] == ["Totale del periodo", "4", "2,75"]


def test_summary_of_the_admin_for_one_quarter_and_one_macro_action(client, data, app):
    macro1 = db.session.scalar(sa.select(MacroAction.id).where(MacroAction.number == 1))
    rows = read_csv(download(client, data.admin, "summary", "csv",
                             f"start=2026-01-01&end=2026-03-31&macro_action={macro1}"), ";")
    assert [r[4:8] for r in rows[1:]] == [
        ["1.1", "Colloqui", "2", "1,75"],  # Lodi's 23:30 session and Legnano's
        # Issue #18: the family did not come: paid, not delivered.
        ["1.2", "Accoglienza", "0", "0,00"],
        ["", "Totale del trimestre", "2", "1,75"],
        ["", "Totale del periodo", "2", "1,75"],
    ]


def test_quarters_follow_the_calendar():
    assert exports.quarters(date(2025, 11, 15), date(2026, 4, 2)) == [
        exports.Quarter(2025, 4, date(2025, 10, 1), date(2025, 12, 31)),
        exports.Quarter(2026, 1, date(2026, 1, 1), date(2026, 3, 31)),
        exports.Quarter(2026, 2, date(2026, 4, 1), date(2026, 6, 30)),
    ]
    assert exports.quarters(date(2026, 5, 1), date(2026, 5, 1)) == [
        exports.Quarter(2026, 2, date(2026, 4, 1), date(2026, 6, 30))]


# -- privacy


def everything_exported(client, user):
    """The text of every export in every format and language."""
    texts = []
    for kind in exports.KINDS:
        for lang in ("it", "en"):
            query = f"start=2025-01-01&end=2026-12-31&lang={lang}"
            response = download(client, user, kind, "csv", query)
            texts.append(response.get_data(as_text=True))
            for rows in read_xlsx(download(client, user, kind, "xlsx", query)).values():
                texts.extend(str(value) for row in rows for value in row)
    return texts


def test_no_field_that_identifies_a_pupil(client, data):
    texts = everything_exported(client, data.admin)
    everything = "\n".join(texts)
    assert "ALU-001" in everything  # the pseudonymous code is allowed
    for secret in SECRETS[1:]:
        assert secret not in everything
    assert COUNTRY not in everything
    lowered = everything.lower()
    for word in ("country", "paese", "origin", "provenienza", "absence", "assenz", "repeat",
                 "ripetent", "late enrol", "iscrizione tardiva", "risk", "rischio",
                 "summary", "riassunto", "note", "comment"):
        assert word not in lowered, word


# -- scope, roles and audit


def test_scope_outside_is_404(client, auth, data):
    login(client, data.coordinator_a)
    for query in (f"school={data.school_b.id}", f"ambito={data.ambito_b.id}", "school=x"):
        assert client.get(f"/reporting/export/sessions.csv?{query}").status_code == 404
    assert client.get("/reporting/export/pupils.csv").status_code == 404
    assert client.get("/reporting/export/sessions.pdf").status_code == 404
    for user in (data.teacher, data.mediator_user):
        login(client, user)
        for kind in exports.KINDS:
            for fmt in exports.FORMATS:
                assert client.get(f"/reporting/export/{kind}.{fmt}").status_code == 404
    auth.logout()
    assert client.get("/reporting/export/sessions.csv").status_code == 302  # to the login


def test_other_coordinator_sees_only_their_ambito(client, data):
    got = records(read_csv(download(client, data.coordinator_b, "sessions", "csv"), ";"))
    assert [r["Codice meccanografico"] for r in got] == ["MIIC82003C"]


def test_each_export_is_audited_without_personal_data(client, data):
    download(client, data.coordinator_a, "summary", "xlsx",
             PERIOD + f"&school={data.school_a1.id}&lang=en")
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "report.exported")).one()
    assert event.actor_id == data.coordinator_a.id
    assert event.data == {
        "kind": "summary", "format": "xlsx", "locale": "en", "start": "2026-01-01",
        "end": "2026-06-30", "ambito_id": data.ambito_a.id, "school_id": data.school_a1.id,
        "macro_action_id": None, "language_id": None, "type_id": None}


def test_default_period_is_the_dashboards(client, data):
    """Without dates the export covers the dashboard's default period (the last twelve
    months up to today), which the 2026 sessions fall in or out of consistently."""
    from mediation.reporting.filters import default_period

    start, end = default_period()
    response = download(client, data.coordinator_a, "sessions", "csv", "")
    assert f"interventi_{start.isoformat()}_{end.isoformat()}.csv" in \
        response.headers["Content-Disposition"]


# -- the writers on their own


def test_csv_is_written_in_chunks_as_rows_arrive():
    rows_read = []

    def rows():
        for i in range(3000):
            rows_read.append(i)
            yield (i, "x" * 40)

    table = spreadsheets.Table("sessions", "it", "T", "t",
                               [spreadsheets.Column("n", spreadsheets.Kind.integer),
                                spreadsheets.Column("s", spreadsheets.Kind.text)], rows(), [])
    chunks = spreadsheets.csv_chunks(table, chunk_size=4096)
    first = next(chunks)
    assert first.startswith("\ufeffn;s\r\n")
    assert len(rows_read) < 200  # the first chunk went out long before the last row
    assert sum(len(c) for c in [first, *chunks]) > 3000 * 40


def test_xlsx_starts_a_new_sheet_past_the_row_limit(monkeypatch, tmp_path):
    monkeypatch.setattr(spreadsheets, "SHEET_ROWS", 2)
    table = spreadsheets.Table("sessions", "en", "Sessions", "t",
                               [spreadsheets.Column("n", spreadsheets.Kind.integer),
                                spreadsheets.Column("day", spreadsheets.Kind.date)],
                               ((i, date(2026, 1, 1) + timedelta(days=i)) for i in range(5)),
                               [("From", date(2026, 1, 1))])
    assert spreadsheets.write_xlsx(table, tmp_path / "t.xlsx") == 5
    book = openpyxl.load_workbook(tmp_path / "t.xlsx")
    assert book.sheetnames == ["Sessions", "Sessions (2)", "Sessions (3)", "Filters"]
    assert [c.value for c in book["Sessions (3)"]["A"]] == ["n", 4]
    assert book["Sessions"]["B2"].value == datetime(2026, 1, 1)
    assert book["Sessions"]["B2"].number_format == "DD/MM/YYYY"


def test_table_reads_nothing_until_iterated(app, data, count_queries):
    report = ReportFilter(start=date(2026, 1, 1), end=date(2026, 6, 30))
    scope = scope_of(data.admin)
    with count_queries() as counter:
        export = exports.table("sessions", report, scope, "en")
    assert counter.count == 0  # the filter's sheet names nothing: no lookup either
    assert len(list(export.rows)) == 5


def test_text_is_never_a_formula(tmp_path):
    """A name typed as "=HYPERLINK(...)" stays text: no formula runs when the file opens."""
    def table():
        return spreadsheets.Table("sessions", "it", "T", "t",
                                  [spreadsheets.Column("name", spreadsheets.Kind.text),
                                   spreadsheets.Column("n", spreadsheets.Kind.integer)],
                                  iter([('=HYPERLINK("http://x.example")', -1),
                                        ("@SUM(A1)", 2), ("Rossi", 3)]), [])
    rows = list(csv.reader(io.StringIO("".join(spreadsheets.csv_chunks(table()))[1:]),
                           delimiter=";"))
    assert rows[1:] == [["'=HYPERLINK(\"http://x.example\")", "-1"], ["'@SUM(A1)", "2"],
                        ["Rossi", "3"]]
    spreadsheets.write_xlsx(table(), tmp_path / "t.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "t.xlsx").worksheets[0]
    assert sheet["A2"].data_type == "s"
    assert sheet["A2"].value == '=HYPERLINK("http://x.example")'
    assert sheet["B2"].value == -1


@pytest.mark.parametrize("lang", ["it", "en"])
def test_every_export_downloads_from_a_real_server(app, data, lang):
    """Served by a real WSGI server, a streamed CSV is written after the view has returned and
    its session was closed (the test client's held application context hid a 500 here)."""
    import http.cookiejar
    import re
    import urllib.parse
    import urllib.request

    from tests.browser import LiveServer
    from tests.conftest import PASSWORD

    body = urllib.parse.urlencode({"email": data.coordinator_a.email, "password": PASSWORD})
    db.session.commit()  # on SQLite, a transaction left open here would block the server
    with LiveServer(app) as server:
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        opener.open(server.url + "/login", body.encode(), timeout=30).read()
        for kind in exports.KINDS:
            for fmt in exports.FORMATS:
                url = f"{server.url}/reporting/export/{kind}.{fmt}?{PERIOD}&lang={lang}"
                with opener.open(url, timeout=60) as response:
                    assert response.status == 200
                    content = response.read()
                if fmt == "csv":
                    text = content.decode("utf-8-sig")
                    rows = list(csv.reader(io.StringIO(text),
                                           delimiter=spreadsheets.csv_delimiter(lang)))
                    # No period is closed here: no adjustment (tests/reporting/test_periods).
                    assert len(rows) > 1 or kind == "adjustments", (kind, rows)
                    assert not re.search(r"Traceback|Internal Server Error", text)
                else:
                    book = openpyxl.load_workbook(io.BytesIO(content))
                    assert book.worksheets[0].max_row > 1 or kind == "adjustments"


@pytest.mark.parametrize("lang", ["it", "en"])
def test_dates_are_day_first_in_the_workbook_and_iso_in_the_csv(client, data, lang):
    """The README's formats: the XLSX shows its dates DD/MM/YYYY in both languages (the
    English one showed YYYY-MM-DD); the CSV writes YYYY-MM-DD in both, which every
    spreadsheet reads as the same day whatever its regional settings."""
    response = download(client, data.coordinator_a, "sessions", "xlsx",
                        PERIOD + f"&lang={lang}")
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    sheet, filters = book.worksheets
    dates = [cell for cell in sheet["B"][1:]]
    assert dates and all(c.number_format == "DD/MM/YYYY" for c in dates)
    assert dates[0].value == datetime(2026, 2, 10)
    assert filters["B1"].number_format == "DD/MM/YYYY"  # From
    assert filters["B8"].number_format == "DD/MM/YYYY HH:MM"  # Exported on
    csv_rows = records(read_csv(download(client, data.coordinator_a, "sessions", "csv",
                                         PERIOD + f"&lang={lang}"),
                                spreadsheets.csv_delimiter(lang)))
    assert [r["Data" if lang == "it" else "Date"] for r in csv_rows][:2] == \
        ["2026-02-10", "2026-03-29"]
