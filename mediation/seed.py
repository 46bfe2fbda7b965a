"""Reference data every installation needs: languages, request types, the
Lab'Impact project and the regional school calendar.

:func:`seed_reference_data` is idempotent: it looks every row up by its
natural key and adds only what is missing, so rows an admin has since edited
(a renamed language, a moved holiday) are left as they are. It adds and
flushes but never commits; the caller owns the transaction.
"""

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from .extensions import db
from .models import (
    Action,
    BudgetLine,
    Closure,
    Language,
    MacroAction,
    Project,
    ProjectExtension,
    RequestKind,
    RequestType,
    SchoolYear,
)

#: (code, Italian name, English name, parent code) of the languages of the
#: families met in Lombard schools. Parents come before their varieties.
LANGUAGES: list[tuple[str, str, str, str | None]] = [
    ("ar", "Arabo", "Arabic", None),
    ("ary", "Arabo marocchino (darija)", "Moroccan Arabic (Darija)", "ar"),
    ("arz", "Arabo egiziano", "Egyptian Arabic", "ar"),
    ("sq", "Albanese", "Albanian", None),
    ("ro", "Rumeno", "Romanian", None),
    ("zh", "Cinese", "Chinese", None),
    ("cmn", "Cinese mandarino", "Mandarin Chinese", "zh"),
    ("wuu-x-wenzhou", "Cinese wenzhounese", "Wenzhounese", "zh"),
    ("ur", "Urdu", "Urdu", None),
    ("pa", "Punjabi", "Punjabi", None),
    ("bn", "Bengalese", "Bengali", None),
    ("hi", "Hindi", "Hindi", None),
    ("si", "Singalese", "Sinhala", None),
    ("ta", "Tamil", "Tamil", None),
    ("uk", "Ucraino", "Ukrainian", None),
    ("ru", "Russo", "Russian", None),
    ("es", "Spagnolo", "Spanish", None),
    ("pt", "Portoghese", "Portuguese", None),
    ("fr", "Francese", "French", None),
    ("en", "Inglese", "English", None),
    ("wo", "Wolof", "Wolof", None),
    ("ti", "Tigrino", "Tigrinya", None),
    ("am", "Amarico", "Amharic", None),
    ("so", "Somalo", "Somali", None),
    ("ps", "Pashto", "Pashto", None),
    ("fa", "Persiano (farsi)", "Persian (Farsi)", None),
    ("prs", "Dari", "Dari", "fa"),
    ("tr", "Turco", "Turkish", None),
    ("ku", "Curdo", "Kurdish", None),
    ("tw", "Twi", "Twi", None),
    ("yo", "Yoruba", "Yoruba", None),
    ("ig", "Igbo", "Igbo", None),
    ("tl", "Tagalog", "Tagalog", None),
    ("ml", "Malayalam", "Malayalam", None),
]

#: What a school can ask for. Keys are RequestType columns.
REQUEST_TYPES: list[dict] = [
    {
        "code": "family_meeting",
        "name_it": "Colloquio individuale scuola-famiglia",
        "name_en": "Individual school-family meeting",
        "kind": RequestKind.slot,
        "concerns_pupil": True,
        "default_duration_minutes": 60,
        "default_macro_action_number": 1,
        "default_action_code": "1.1",
        "position": 10,
    },
    {
        "code": "group_meeting",
        "name_it": "Incontro di gruppo con le famiglie",
        "name_en": "Group meeting with families",
        "kind": RequestKind.slot,
        "concerns_pupil": False,
        "default_duration_minutes": 90,
        "default_macro_action_number": 1,
        "default_action_code": "1.1",
        "position": 20,
    },
    {
        "code": "reception",
        "name_it": "Accoglienza e inserimento di un alunno neoarrivato",
        "name_en": "Reception and enrolment of a newly arrived pupil",
        "kind": RequestKind.slot,
        "concerns_pupil": True,
        "default_duration_minutes": 90,
        "default_macro_action_number": 1,
        "default_action_code": "1.2",
        "position": 30,
    },
    {
        "code": "orientation",
        "name_it": "Orientamento nel passaggio tra cicli scolastici",
        "name_en": "Orientation at the passage between school cycles",
        "kind": RequestKind.slot,
        "concerns_pupil": True,
        "default_duration_minutes": 60,
        "default_macro_action_number": 1,
        "default_action_code": "1.3",
        "position": 40,
    },
    {
        "code": "referral",
        "name_it": "Supporto all'invio ai servizi specialistici sociali o socio-sanitari",
        "name_en": "Support in referring a pupil to specialist social or health services",
        "kind": RequestKind.slot,
        "concerns_pupil": True,
        "default_duration_minutes": 60,
        "default_macro_action_number": 2,
        "default_action_code": "2.1",
        "position": 50,
    },
    {
        "code": "translation",
        "name_it": "Traduzione di modulistica e comunicazioni scolastiche",
        "name_en": "Translation of forms and school communications",
        "kind": RequestKind.deadline,
        "concerns_pupil": False,
        "default_duration_minutes": None,
        "default_macro_action_number": 1,
        "default_action_code": "1.4",
        "position": 60,
    },
]

#: The four macro-actions of the regional plan, titled as in the plan itself,
#: each with (code, Italian title, English title) of its actions.
MACRO_ACTIONS: list[tuple[int, str, str, list[tuple[str, str, str]]]] = [
    (
        1,
        "Qualificazione del sistema scolastico in contesti multiculturali, anche attraverso"
        " azioni di contrasto alla dispersione scolastica",
        "Qualification of the school system in multicultural contexts, including actions"
        " against school dropout",
        [
            ("1.1", "Mediazione linguistico-culturale scuola-famiglia",
             "School-family linguistic-cultural mediation"),
            ("1.2", "Accoglienza e inserimento degli alunni neoarrivati",
             "Reception and enrolment of newly arrived pupils"),
            ("1.3", "Orientamento e contrasto alla dispersione scolastica",
             "Orientation and dropout prevention"),
            ("1.4", "Traduzione di modulistica e comunicazioni scolastiche",
             "Translation of school forms and communications"),
        ],
    ),
    (
        2,
        "Promozione dell’accesso ai servizi per l’integrazione",
        "Promotion of access to integration services",
        [
            ("2.1", "Mediazione per l'accesso ai servizi sociali e socio-sanitari",
             "Mediation for access to social and health services"),
            ("2.2", "Rafforzamento delle reti territoriali dei servizi",
             "Strengthening of local service networks"),
        ],
    ),
    (
        3,
        "Servizi di informazione qualificata, attraverso canali regionali e territoriali"
        " di comunicazione",
        "Qualified information services, through regional and local communication channels",
        [
            ("3.1", "Sportelli informativi per cittadini stranieri",
             "Information desks for foreign citizens"),
            ("3.2", "Comunicazione semplificata sui servizi del territorio",
             "Plain-language information on local services"),
        ],
    ),
    (
        4,
        "Promozione della partecipazione attiva dei migranti alla vita economica, sociale e"
        " culturale, anche attraverso la valorizzazione delle associazioni",
        "Promotion of the active participation of migrants in economic, social and cultural"
        " life, including through the enhancement of associations",
        [
            ("4.1", "Partecipazione attiva e valorizzazione delle associazioni di migranti",
             "Active participation and support for migrant associations"),
            ("4.2", "Tavolo di confronto tra servizi, associazioni e terzo settore",
             "Round table of public services, associations and the third sector"),
        ],
    ),
]

LABIMPACT = {
    "code": "LABIMPACT",
    "title": "Lab'Impact",
    "fund": "FAMI 2014-2020 – Fondo Asilo, Migrazione e Integrazione",
    "lead_partner": "Regione Lombardia",
    "start_date": date(2018, 9, 1),
    "end_date": date(2020, 12, 31),
}
LABIMPACT_EXTENSIONS = [
    (date(2021, 6, 30), "Prima proroga"),
    (date(2022, 6, 30), "Seconda proroga"),
    (date(2023, 6, 30), "Terza proroga"),
]
LABIMPACT_BUDGET = [
    ("Finanziamento iniziale", Decimal("166872.06")),
    ("Finanziamento aggiuntivo", Decimal("129800.00")),
]

#: School years of the regional calendar to seed, by the year they start in.
FIRST_SCHOOL_YEAR = 2018
LAST_SCHOOL_YEAR = 2027


def easter_sunday(year: int) -> date:
    """Return the date of Easter Sunday in the Gregorian calendar.

    This is the anonymous Gregorian algorithm (Meeus/Jones/Butcher).
    """
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


def lessons_period(start_year: int) -> tuple[date, date]:
    """Return the first and last day of lessons of a school year in Lombardy.

    Per the regional calendar (DGR IX/3318 of 2012), lessons start on 12
    September (the following Monday when that is a Saturday or Sunday) and
    end on 8 June (the previous Friday when that is a Saturday or Sunday).
    """
    first = date(start_year, 9, 12)
    if first.weekday() >= 5:
        first += timedelta(days=7 - first.weekday())
    last = date(start_year + 1, 6, 8)
    if last.weekday() >= 5:
        last -= timedelta(days=last.weekday() - 4)
    return first, last


def regional_closures(start_year: int) -> list[tuple[str, date, date]]:
    """Return the regional holidays of a school year as (name, first day, last day).

    Carnival follows the Roman rite (the Monday and Tuesday before Ash
    Wednesday); schools of the Ambrosian rite add their own closure.
    """
    year = start_year + 1
    easter = easter_sunday(year)
    ash_wednesday = easter - timedelta(days=46)
    return [
        ("Festa di Tutti i Santi", date(start_year, 11, 1), date(start_year, 11, 1)),
        ("Immacolata Concezione", date(start_year, 12, 8), date(start_year, 12, 8)),
        ("Vacanze di Natale", date(start_year, 12, 23), date(year, 1, 6)),
        (
            "Vacanze di Carnevale",
            ash_wednesday - timedelta(days=2),
            ash_wednesday - timedelta(days=1),
        ),
        ("Vacanze di Pasqua", easter - timedelta(days=3), easter + timedelta(days=2)),
        ("Festa della Liberazione", date(year, 4, 25), date(year, 4, 25)),
        ("Festa del Lavoro", date(year, 5, 1), date(year, 5, 1)),
        ("Festa della Repubblica", date(year, 6, 2), date(year, 6, 2)),
    ]


def school_year_label(start_year: int) -> str:
    """Return the label of a school year, e.g. ``"2026/2027"``."""
    return f"{start_year}/{start_year + 1}"


def seed_reference_data() -> dict[str, int]:
    """Add the reference data that is missing and return how many rows of
    each kind were created.

    Running it again creates nothing. The caller commits.
    """
    counts = {
        "languages": _seed_languages(),
        "request_types": _seed_request_types(),
        "projects": 0,
        "project_extensions": 0,
        "budget_lines": 0,
        "macro_actions": 0,
        "actions": 0,
        "school_years": 0,
        "closures": 0,
    }
    project, created = get_or_create_project(**LABIMPACT)
    counts["projects"] += created
    counts["project_extensions"] += ensure_extensions(project, LABIMPACT_EXTENSIONS)
    counts["budget_lines"] += ensure_budget_lines(project, LABIMPACT_BUDGET)
    macro_count, action_count = ensure_macro_actions(project)
    counts["macro_actions"] += macro_count
    counts["actions"] += action_count
    years, closures = ensure_school_years(FIRST_SCHOOL_YEAR, LAST_SCHOOL_YEAR)
    counts["school_years"] = years
    counts["closures"] = closures
    db.session.flush()
    return counts


def _seed_languages() -> int:
    existing = {lang.code: lang for lang in db.session.scalars(sa.select(Language))}
    created = 0
    for code, name_it, name_en, parent_code in LANGUAGES:
        if code in existing:
            continue
        language = Language(code=code, name_it=name_it, name_en=name_en)
        if parent_code is not None:
            language.parent = existing.get(parent_code)
        db.session.add(language)
        existing[code] = language
        created += 1
    return created


def _seed_request_types() -> int:
    existing = set(db.session.scalars(sa.select(RequestType.code)))
    created = 0
    for values in REQUEST_TYPES:
        if values["code"] in existing:
            continue
        db.session.add(RequestType(active=True, **values))
        created += 1
    return created


def get_or_create_project(code: str, **values) -> tuple[Project, bool]:
    """Return the project with ``code``, adding it with ``values`` if it is missing,
    and whether it was added.
    """
    project = db.session.scalar(sa.select(Project).filter_by(code=code))
    if project is not None:
        return project, False
    project = Project(code=code, **values)
    db.session.add(project)
    return project, True


def ensure_extensions(project: Project, extensions: list[tuple[date, str]]) -> int:
    """Add the extensions (new end date, note) the project does not have yet."""
    present = {ext.new_end_date for ext in project.extensions}
    created = 0
    for new_end_date, note in extensions:
        if new_end_date not in present:
            project.extensions.append(ProjectExtension(new_end_date=new_end_date, note=note))
            created += 1
    return created


def ensure_budget_lines(project: Project, lines: list[tuple[str, Decimal]]) -> int:
    """Add the budget lines (label, amount) the project does not have yet."""
    present = {line.label for line in project.budget_lines}
    created = 0
    for position, (label, amount) in enumerate(lines, start=1):
        if label not in present:
            project.budget_lines.append(
                BudgetLine(label=label, amount=amount, position=position)
            )
            created += 1
    return created


def ensure_macro_actions(project: Project) -> tuple[int, int]:
    """Give the project the plan's four macro-actions and their actions.

    :return: how many macro-actions and actions were added.
    """
    by_number = {macro.number: macro for macro in project.macro_actions}
    macro_count = action_count = 0
    for number, title_it, title_en, actions in MACRO_ACTIONS:
        macro = by_number.get(number)
        if macro is None:
            macro = MacroAction(number=number, title_it=title_it, title_en=title_en)
            project.macro_actions.append(macro)
            macro_count += 1
        codes = {action.code for action in macro.actions}
        for code, action_it, action_en in actions:
            if code not in codes:
                macro.actions.append(Action(code=code, title_it=action_it, title_en=action_en))
                action_count += 1
    return macro_count, action_count


def ensure_school_years(first_year: int, last_year: int) -> tuple[int, int]:
    """Add the school years starting from ``first_year`` to ``last_year`` and their
    regional closures, where missing.

    :return: how many school years and closures were added.
    """
    years = set(db.session.scalars(sa.select(SchoolYear.label)))
    closures = {
        (name, start_date)
        for name, start_date in db.session.execute(
            sa.select(Closure.name, Closure.start_date).where(Closure.school_id.is_(None))
        )
    }
    year_count = closure_count = 0
    for start_year in range(first_year, last_year + 1):
        label = school_year_label(start_year)
        if label not in years:
            first, last = lessons_period(start_year)
            db.session.add(SchoolYear(label=label, start_date=first, end_date=last))
            year_count += 1
        for name, first, last in regional_closures(start_year):
            if (name, first) not in closures:
                db.session.add(
                    Closure(school_id=None, name=name, start_date=first, end_date=last)
                )
                closure_count += 1
    return year_count, closure_count


def iter_days(first: date, last: date) -> Iterator[date]:
    """Yield every day from ``first`` to ``last``, both included."""
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)
