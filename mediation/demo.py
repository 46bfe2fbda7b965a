"""Demo data: four Ambiti of the Lab'Impact network west of Milan and in the
Lodi area, with their schools, people, pupil cases and requests in every state.

Everything is placed around today's date: live requests have slots on the
next school days, logged and closed ones on past school days, and the
Lab'Impact project (2018-2023) carries a history of approved sessions so that
reports have something to show. A fixed random seed keeps the data stable
from one load to the next (for a given day).

Pupils have no names here, nor anywhere else in the application: only the
pseudonymous code their school gave them.
"""

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from .extensions import db
from .models import (
    Absence,
    Action,
    Ambito,
    Assignment,
    AssignmentState,
    AuditEvent,
    AvailabilityRange,
    Closure,
    Cycle,
    Direction,
    ItalianLevel,
    Language,
    LanguageLevel,
    LogState,
    MacroAction,
    MediationRequest,
    MediatorLanguage,
    MediatorProfile,
    Mode,
    Outcome,
    PlannedHours,
    PreferredSlot,
    Project,
    ProjectExtension,
    PupilCase,
    PupilCaseStatus,
    PupilStatus,
    RequestKind,
    RequestState,
    RequestType,
    Role,
    School,
    SchoolCycle,
    SchoolYear,
    SessionLog,
    Site,
    Urgency,
    User,
)
from .seed import (
    FIRST_SCHOOL_YEAR,
    LAST_SCHOOL_YEAR,
    easter_sunday,
    ensure_budget_lines,
    ensure_macro_actions,
    ensure_school_years,
    get_or_create_project,
    iter_days,
    seed_reference_data,
)

ROME = ZoneInfo("Europe/Rome")
DEMO_DOMAIN = "demo.mediazione.it"
ADMIN_EMAIL = "admin@regione.demo"
#: The demo is loaded when this Ambito is missing, and only then.
MARKER_AMBITO = "LODI"

# --- Places -----------------------------------------------------------------

#: (code, name, lead agency)
AMBITI = [
    ("LODI", "Ambito di Lodi", "Azienda Speciale Consortile Servizi Intercomunali"),
    ("LEGNANO", "Ambito di Legnano", "Azienda Speciale Consortile Sociale Legnanese (SO.LE)"),
    (
        "MAGENTA",
        "Ambito di Magenta",
        "Comune di Magenta – Ufficio di Piano dell'Ambito del Magentino",
    ),
    (
        "CASTANO",
        "Ambito di Castano Primo",
        "Azienda Sociale – Azienda Speciale Consortile dei Comuni del Castanese",
    ),
]

_IC = [Cycle.infanzia, Cycle.primaria, Cycle.secondaria_1]
_IC_NO_INFANZIA = [Cycle.primaria, Cycle.secondaria_1]
_IIS = [Cycle.secondaria_2]

#: Schools by Ambito. ``tag`` prefixes the school's pupil codes.
SCHOOLS = [
    {
        "ambito": "LODI", "code": "LOIC81200X", "tag": "LODI3",
        "name": "Istituto Comprensivo Lodi III", "municipality": "Lodi",
        "cycles": _IC, "approval": True,
        "sites": [
            ("Scuola primaria Arcobaleno", "Via Salvemini 1", "Lodi"),
            ("Scuola secondaria di I grado Ada Negri", "Viale Piacenza 42", "Lodi"),
            ("Scuola dell'infanzia Girotondo", "Via Spezzaferri 10", "Lodi"),
        ],
    },
    {
        "ambito": "LODI", "code": "LOIC80400V", "tag": "SANGELO",
        "name": "Istituto Comprensivo di Sant'Angelo Lodigiano",
        "municipality": "Sant'Angelo Lodigiano", "cycles": _IC_NO_INFANZIA, "approval": False,
        "sites": [
            ("Scuola primaria Carlo Collodi", "Via Cabrini 20", "Sant'Angelo Lodigiano"),
            ("Scuola secondaria di I grado Morzenti", "Via Bracchi 3", "Sant'Angelo Lodigiano"),
        ],
    },
    {
        "ambito": "LODI", "code": "LOIC81800N", "tag": "CODOGNO",
        "name": "Istituto Comprensivo di Codogno", "municipality": "Codogno",
        "cycles": _IC, "approval": False,
        "sites": [
            ("Scuola primaria Anna Vertua Gentile", "Via Roma 10", "Codogno"),
            ("Scuola secondaria di I grado Ognissanti", "Viale della Resistenza 2", "Codogno"),
        ],
    },
    {
        "ambito": "LODI", "code": "LOIS00700P", "tag": "CESARIS",
        "name": "IIS Andrea Cesaris", "municipality": "Casalpusterlengo",
        "cycles": _IIS, "approval": False,
        "sites": [("Sede centrale", "Via Cadorna 11", "Casalpusterlengo")],
    },
    {
        "ambito": "LEGNANO", "code": "MIIS01900L", "tag": "BERNOCCHI",
        "name": "IIS Bernocchi", "municipality": "Legnano",
        "cycles": _IIS, "approval": True,
        "sites": [
            ("Sede di via Diaz", "Via Diaz 2", "Legnano"),
            ("Succursale di via Cadorna", "Via Cadorna 21", "Legnano"),
        ],
    },
    {
        "ambito": "LEGNANO", "code": "MIIC8AB00Q", "tag": "PARABIAGO",
        "name": "Istituto Comprensivo di Parabiago", "municipality": "Parabiago",
        "cycles": _IC, "approval": False,
        "sites": [
            ("Scuola primaria Alessandro Manzoni", "Via IV Novembre 15", "Parabiago"),
            ("Scuola primaria di Villastanza", "Via Unione 5", "Parabiago"),
            ("Scuola secondaria di I grado Rita Levi-Montalcini", "Via Brisa 4", "Parabiago"),
        ],
    },
    {
        "ambito": "LEGNANO", "code": "MIIC8CD00T", "tag": "CERRO",
        "name": "Istituto Comprensivo di Cerro Maggiore", "municipality": "Cerro Maggiore",
        "cycles": _IC_NO_INFANZIA, "approval": False,
        "sites": [
            ("Scuola primaria Giovanni XXIII", "Via Boccaccio 9", "Cerro Maggiore"),
            ("Scuola primaria di Cantalupo", "Via San Bartolomeo 6", "Cerro Maggiore"),
        ],
    },
    {
        "ambito": "LEGNANO", "code": "MIIC8EF00V", "tag": "RESCALDINA",
        "name": "Istituto Comprensivo di Rescaldina", "municipality": "Rescaldina",
        "cycles": _IC, "approval": False,
        "sites": [
            ("Scuola secondaria di I grado Alessandro Manzoni", "Via Matteotti 10", "Rescaldina"),
            ("Scuola primaria di Rescalda", "Via Roma 29", "Rescaldina"),
        ],
    },
    {
        "ambito": "MAGENTA", "code": "MIIC8GH00B", "tag": "MAGENTA",
        "name": "Istituto Comprensivo di Magenta", "municipality": "Magenta",
        "cycles": _IC, "approval": True,
        "sites": [
            ("Scuola primaria Giovanni Lonati", "Via Lonati 8", "Magenta"),
            ("Scuola secondaria di I grado Francesco Baracca", "Via Papa Giovanni XXIII 2",
             "Magenta"),
        ],
    },
    {
        "ambito": "MAGENTA", "code": "MIIS05200D", "tag": "BACHELET",
        "name": "IIS Vittorio Bachelet", "municipality": "Abbiategrasso",
        "cycles": _IIS, "approval": False,
        "sites": [("Sede centrale", "Via Stignani 63", "Abbiategrasso")],
    },
    {
        "ambito": "MAGENTA", "code": "MIIC8JK00E", "tag": "CORBETTA",
        "name": "Istituto Comprensivo di Corbetta", "municipality": "Corbetta",
        "cycles": _IC, "approval": False,
        "sites": [
            ("Scuola primaria Aldo Moro", "Via Verdi 2", "Corbetta"),
            ("Scuola secondaria di I grado Simone da Corbetta", "Via Cattaneo 25", "Corbetta"),
        ],
    },
    {
        "ambito": "MAGENTA", "code": "MIIC8LM00G", "tag": "BOFFALORA",
        "name": "Istituto Comprensivo di Boffalora sopra Ticino",
        "municipality": "Boffalora sopra Ticino", "cycles": _IC, "approval": False,
        "sites": [
            ("Scuola primaria Don Carlo Gnocchi", "Via Giulini 14", "Boffalora sopra Ticino"),
        ],
    },
    {
        "ambito": "CASTANO", "code": "MIIC8NP00H", "tag": "CASTANO",
        "name": "Istituto Comprensivo di Castano Primo", "municipality": "Castano Primo",
        "cycles": _IC, "approval": False,
        "sites": [
            ("Scuola primaria Giovanni Pascoli", "Via Giolitti 23", "Castano Primo"),
            ("Scuola secondaria di I grado Giacomo Leopardi", "Via Acerbi 20", "Castano Primo"),
        ],
    },
    {
        "ambito": "CASTANO", "code": "MIIC8QR00L", "tag": "TURBIGO",
        "name": "Istituto Comprensivo di Turbigo", "municipality": "Turbigo",
        "cycles": _IC_NO_INFANZIA, "approval": True,
        "sites": [
            ("Scuola primaria Don Lorenzo Milani", "Via Allea Comunale 2", "Turbigo"),
            ("Scuola primaria di Robecchetto", "Via Ugo Foscolo 4", "Robecchetto con Induno"),
        ],
    },
    {
        "ambito": "CASTANO", "code": "MIIS03300B", "tag": "TORNO",
        "name": "ISIS Giulio Torno", "municipality": "Castano Primo",
        "cycles": _IIS, "approval": False,
        "sites": [("Sede centrale", "Via Matteotti 4", "Castano Primo")],
    },
]

# --- People -----------------------------------------------------------------

#: (email, display name, Ambito)
COORDINATORS = [
    (f"coord.lodi@{DEMO_DOMAIN}", "Chiara Bassi", "LODI"),
    (f"coord2.lodi@{DEMO_DOMAIN}", "Stefano Zanaboni", "LODI"),
    (f"coord.legnano@{DEMO_DOMAIN}", "Francesca Colombo", "LEGNANO"),
    (f"coord2.legnano@{DEMO_DOMAIN}", "Luca Mereghetti", "LEGNANO"),
    (f"coord.magenta@{DEMO_DOMAIN}", "Paola Garavaglia", "MAGENTA"),
    (f"coord.castano@{DEMO_DOMAIN}", "Marco Gualdoni", "CASTANO"),
]

#: The one English-speaking user: a teacher of the IIS Bernocchi.
ENGLISH_TEACHER = ("MIIS01900L", "Siobhan Murphy")

STAFF_FIRST_NAMES = [
    "Alessandra", "Barbara", "Chiara", "Daniela", "Elena", "Federica", "Giovanna", "Laura",
    "Manuela", "Marta", "Monica", "Paola", "Roberta", "Sara", "Silvia", "Valentina", "Simona",
    "Cristina", "Antonella", "Andrea", "Davide", "Fabio", "Giorgio", "Massimo", "Alberto",
]
STAFF_SURNAMES = [
    "Rossi", "Colombo", "Ferrari", "Bianchi", "Brambilla", "Galli", "Fumagalli", "Villa",
    "Sala", "Cattaneo", "Riva", "Longoni", "Mauri", "Pozzi", "Ghezzi", "Bosoni", "Crespi",
    "Locatelli", "Rizzi", "Oldani", "Bonfanti", "Pagani", "Vailati", "Cremonesi", "Grossi",
]

EMMANUELE = "Emmanuele Soc. Coop. Soc. Onlus"
FAMIGLIA_NUOVA = "Famiglia Nuova Soc. Coop. Soc. Onlus"
PLEIADI = "Le Pleiadi Servizi Soc. Coop. Soc."
MLFM = "Movimento Lotta per la Fame nel Mondo"
SOLE = "Azienda Speciale Consortile Sociale Legnanese (SO.LE)"

_N, _C2, _C1, _B2 = LanguageLevel.native, LanguageLevel.c2, LanguageLevel.c1, LanguageLevel.b2

#: (first name, surname, Ambiti served (home first), employer, weekly cap, hourly cost, languages)
MEDIATORS = [
    ("Fatima", "El Amrani", ["LODI"], EMMANUELE, 24, "26.50",
     [("ar", _N), ("ary", _N), ("fr", _C1)]),
    ("Elira", "Hoxha", ["LODI"], FAMIGLIA_NUOVA, 18, "25.00", [("sq", _N)]),
    ("Mei", "Chen", ["LODI"], PLEIADI, 20, "27.00",
     [("zh", _N), ("cmn", _N), ("wuu-x-wenzhou", _N)]),
    ("Ionela", "Popescu", ["LODI", "LEGNANO"], EMMANUELE, 25, "24.50", [("ro", _N)]),
    ("Imran", "Qureshi", ["LODI"], FAMIGLIA_NUOVA, 20, "26.00",
     [("ur", _N), ("pa", _C1), ("hi", _C1), ("en", _C1)]),
    ("Moussa", "Diop", ["LODI", "CASTANO"], MLFM, 15, "23.00", [("wo", _N), ("fr", _C2)]),
    ("Oksana", "Kovalenko", ["LEGNANO", "CASTANO"], SOLE, 25, "28.00",
     [("uk", _N), ("ru", _C2)]),
    ("Nadia", "Mahmoud", ["LEGNANO"], SOLE, 30, "28.00",
     [("ar", _N), ("arz", _N), ("en", _C1)]),
    ("Rashida", "Akter", ["LEGNANO", "MAGENTA"], FAMIGLIA_NUOVA, 18, "25.50",
     [("bn", _N), ("en", _B2), ("hi", _B2)]),
    ("Lucía", "Ramírez", ["LEGNANO", "MAGENTA"], EMMANUELE, 20, "25.00",
     [("es", _N), ("pt", _C1)]),
    ("Senait", "Tesfamariam", ["LEGNANO", "CASTANO"], MLFM, 12, "24.00",
     [("ti", _N), ("am", _C1), ("ar", _B2)]),
    ("Harpreet", "Kaur", ["LEGNANO", "MAGENTA"], SOLE, 22, "27.50",
     [("pa", _N), ("hi", _C1), ("ur", _B2)]),
    ("Youssef", "Bennani", ["MAGENTA", "CASTANO"], PLEIADI, 25, "26.00",
     [("ar", _N), ("ary", _N), ("fr", _C1)]),
    ("Dilani", "Perera", ["MAGENTA"], FAMIGLIA_NUOVA, 16, "24.00",
     [("si", _N), ("ta", _C1), ("en", _C1)]),
    ("Arjola", "Dervishi", ["MAGENTA", "LEGNANO"], EMMANUELE, 22, "25.00", [("sq", _N)]),
    ("Xiaoling", "Hu", ["MAGENTA", "LEGNANO"], PLEIADI, 20, "29.00",
     [("zh", _N), ("cmn", _N), ("wuu-x-wenzhou", _N)]),
    ("Mihaela", "Ionescu", ["MAGENTA", "CASTANO"], FAMIGLIA_NUOVA, 18, "24.50", [("ro", _N)]),
    ("Abdi", "Warsame", ["CASTANO", "LEGNANO"], MLFM, 15, "23.50",
     [("so", _N), ("ar", _C1), ("en", _B2)]),
    ("Natalia", "Moroz", ["CASTANO"], EMMANUELE, 20, "25.00", [("ru", _N), ("uk", _C2)]),
    ("Kwame", "Mensah", ["CASTANO"], MLFM, 12, "22.50",
     [("tw", _N), ("en", _C2), ("fr", _B2)]),
    ("Blessing", "Okafor", ["CASTANO", "LEGNANO"], FAMIGLIA_NUOVA, 16, "23.00",
     [("ig", _N), ("yo", _C1), ("en", _C2)]),
    ("Giulia", "Ferrari", ["CASTANO", "MAGENTA"], PLEIADI, 30, "27.00",
     [("es", _C2), ("pt", _C1), ("fr", _C1)]),
    ("Besnik", "Krasniqi", ["CASTANO", "MAGENTA"], EMMANUELE, 20, "24.00", [("sq", _N)]),
]

#: (mediator first name, first day, last day relative to today, reason)
ABSENCES = [
    ("Fatima", 3, 3, "Permesso"),
    ("Ionela", 8, 14, "Ferie"),
    ("Moussa", -20, -16, "Malattia"),
    ("Natalia", 20, 24, "Formazione"),
]

# --- Pupils -----------------------------------------------------------------

#: (weight, home languages, countries of origin) of the families met in schools.
FAMILY_PROFILES: list[tuple[int, list[str], list[str]]] = [
    (10, ["ary", "ar"], ["MA"]),
    (3, ["arz", "ar"], ["EG"]),
    (2, ["ar"], ["TN", "SY"]),
    (9, ["sq"], ["AL", "AL", "MK"]),
    (8, ["ro"], ["RO", "RO", "MD"]),
    (5, ["wuu-x-wenzhou", "zh"], ["CN"]),
    (2, ["cmn", "zh"], ["CN"]),
    (5, ["ur", "pa"], ["PK"]),
    (3, ["pa", "hi"], ["IN"]),
    (4, ["bn"], ["BD"]),
    (3, ["si"], ["LK"]),
    (1, ["ta"], ["LK"]),
    (4, ["uk", "ru"], ["UA"]),
    (5, ["es"], ["PE", "EC", "SV", "BO"]),
    (2, ["pt"], ["BR"]),
    (3, ["wo", "fr"], ["SN"]),
    (2, ["fr"], ["CI", "CM"]),
    (2, ["ti"], ["ER"]),
    (1, ["am"], ["ET"]),
    (1, ["so"], ["SO"]),
    (2, ["tw", "en"], ["GH"]),
    (2, ["yo", "en"], ["NG"]),
    (1, ["ig", "en"], ["NG"]),
    (1, ["ps"], ["AF"]),
    (1, ["prs", "fa"], ["AF"]),
    (1, ["tl"], ["PH"]),
    (1, ["ml"], ["IN"]),
    (1, ["tr"], ["TR"]),
    (1, ["ku"], ["TR", "IQ"]),
]

#: Languages families speak but rarely write: a translation goes to the written one.
WRITTEN_FORM = {"ary": "ar", "arz": "ar", "wuu-x-wenzhou": "zh", "cmn": "zh", "prs": "fa"}

_GRADES = {Cycle.infanzia: 3, Cycle.primaria: 5, Cycle.secondaria_1: 3, Cycle.secondaria_2: 5}

# --- Requests ---------------------------------------------------------------

TYPE_WEIGHTS = [
    ("family_meeting", 40), ("reception", 14), ("orientation", 10), ("referral", 9),
    ("group_meeting", 8), ("translation", 19),
]

#: How many requests of each state the current project gets around today.
LIVE_COUNTS = {
    RequestState.awaiting_approval: 4,
    RequestState.open: 7,
    RequestState.offered: 5,
    RequestState.confirmed: 7,
    RequestState.logged: 5,
    RequestState.rejected: 3,
    RequestState.cancelled: 5,
    RequestState.unfilled: 3,
}
#: Of those, the states whose first request is a translation.
LIVE_TRANSLATIONS = {
    RequestState.open, RequestState.offered, RequestState.confirmed, RequestState.logged,
    RequestState.cancelled,
}
CURRENT_CLOSED = 70
HISTORY_CLOSED = 170
HISTORY_CANCELLED = 10
HISTORY_UNFILLED = 5

#: Planned mediation hours per Ambito and macro-action number, per project code.
PLANNED_HOURS = {
    "LABIMPACT": {
        "LODI": {1: 70, 2: 14},
        "LEGNANO": {1: 65, 2: 12, 4: 6},
        "MAGENTA": {1: 60, 2: 12, 4: 6},
        "CASTANO": {1: 45, 2: 10, 4: 4},
    },
    "FAMI2127": {
        "LODI": {1: 30, 2: 6},
        "LEGNANO": {1: 28, 2: 6, 4: 4},
        "MAGENTA": {1: 26, 2: 5, 4: 4},
        "CASTANO": {1: 20, 2: 4, 4: 2},
    },
}

SUCCESSOR = {
    "code": "FAMI2127",
    "title": "Lab'Impact – FAMI 2021-2027",
    "fund": "FAMI 2021-2027",
    "lead_partner": "Regione Lombardia",
    "start_date": date(2024, 1, 1),
    "end_date": date(2027, 6, 30),
}
SUCCESSOR_BUDGET = [("Finanziamento FAMI 2021-2027", Decimal("248500.00"))]

REQUEST_NOTES = [
    "Colloquio previsto alla presenza della docente coordinatrice di classe.",
    "La famiglia preferisce una mediatrice.",
    "Possibile anche il collegamento in videochiamata.",
    "Il padre lavora su turni: meglio il pomeriggio.",
    "Serve la traduzione orale del documento di valutazione.",
    "Incontro già concordato con la famiglia, in attesa della mediazione.",
]
TRANSLATION_DOCUMENTS = [
    "Circolare sui colloqui di fine quadrimestre.",
    "Modulo di iscrizione alla mensa e al pre-scuola.",
    "Patto educativo di corresponsabilità.",
    "Informativa sulle uscite didattiche e modulo di autorizzazione.",
    "Comunicazione sulle iscrizioni alla scuola secondaria.",
    "Regolamento sull'uso del registro elettronico.",
]
SUMMARIES = {
    "family_meeting": [
        "Colloquio con i genitori sull'andamento scolastico; condivise le indicazioni dei"
        " docenti.",
        "Restituzione della scheda di valutazione del primo quadrimestre.",
        "Colloquio sulla frequenza e sul rispetto degli orari; la famiglia si impegna a"
        " giustificare le assenze.",
        "Presentazione del piano didattico personalizzato alla famiglia.",
    ],
    "group_meeting": [
        "Incontro con le famiglie sul funzionamento della scuola e del registro elettronico.",
        "Presentazione del patto educativo di corresponsabilità alle famiglie.",
        "Assemblea di classe per le famiglie neoarrivate: calendario, mensa, trasporti.",
    ],
    "reception": [
        "Primo colloquio di accoglienza: raccolte informazioni sul percorso scolastico"
        " precedente.",
        "Presentazione della scuola, dell'orario e dei servizi (mensa, trasporto).",
    ],
    "orientation": [
        "Presentazione dell'offerta formativa delle scuole superiori del territorio.",
        "Colloquio sul consiglio orientativo e sulle iscrizioni online.",
    ],
    "referral": [
        "Accompagnamento della famiglia nel primo contatto con il servizio specialistico.",
        "Supporto al colloquio tra famiglia, scuola e servizio sociale comunale.",
    ],
    "translation": ["Traduzione consegnata nei tempi concordati."],
}
ABSENT_SUMMARY = "La famiglia non si è presentata; la scuola ricontatterà i genitori."
LATE_SUMMARY = "Incontro annullato dalla scuola il giorno stesso."
DECLINE_REASONS = [
    "Già impegnata in un altro Ambito in quella fascia oraria.",
    "Non disponibile in quella data.",
    "Tempi di spostamento incompatibili con l'incontro precedente.",
]
REJECTION_REASONS = [
    "Il colloquio è già stato fissato con la mediatrice del servizio sociale.",
    "La famiglia comprende bene l'italiano: la mediazione non è necessaria.",
    "Richiesta duplicata.",
]
#: (reason code, note)
CANCELLATIONS = [
    ("family_unavailable", "La famiglia ha comunicato di non poter partecipare."),
    ("no_longer_needed", "Il colloquio non è più necessario."),
    ("school_event", "Sovrapposizione con un'assemblea sindacale."),
    ("pupil_moved", "L'alunno si è trasferito in un'altra scuola."),
    ("duplicate", "Richiesta inserita due volte."),
]
SUPERSEDE_REASON = "Riassegnata: la mediatrice non è più disponibile in quella data."
COVID_CLOSURE = (date(2020, 2, 24), date(2020, 6, 30))

ROLE_LABELS = {
    Role.admin: "Admin",
    Role.coordinator: "Coordinator",
    Role.lead: "School lead",
    Role.teacher: "Teacher",
    Role.mediator: "Mediator",
}


def load_demo(password: str = "demo") -> list[tuple[str, str, str]]:
    """Load the demo data unless it is already there, and return its logins.

    Reference data is seeded first (see :func:`mediation.seed.seed_reference_data`).
    Every demo user gets ``password``. The caller commits.

    :return: (role label, email, description) of every demo user.
    """
    seed_reference_data()
    if db.session.scalar(sa.select(Ambito.id).filter_by(code=MARKER_AMBITO)) is None:
        _DemoBuilder(password, datetime.now(UTC)).build()
    return demo_logins()


def demo_logins() -> list[tuple[str, str, str]]:
    """Return (role, email, description) of the demo users in the database."""
    users = list(
        db.session.scalars(
            sa.select(User).where(
                sa.or_(User.email == ADMIN_EMAIL, User.email.like(f"%@{DEMO_DOMAIN}"))
            )
        )
    )
    order = list(ROLE_LABELS)

    def sort_key(user: User) -> tuple:
        ambito = user.ambito or (user.school.ambito if user.school else None)
        return (
            order.index(user.role),
            ambito.code if ambito else "",
            user.school.code if user.school else "",
            user.email,
        )

    return [(u.role.value, u.email, _describe(u)) for u in sorted(users, key=sort_key)]


def _describe(user: User) -> str:
    if user.role == Role.admin:
        return "Regione Lombardia, capofila: every Ambito"
    if user.role == Role.coordinator:
        return f"{user.ambito.name} – {user.ambito.lead_agency}"
    if user.role in (Role.lead, Role.teacher):
        school = user.school
        text = f"{school.name} ({school.code}), {school.municipality}"
        if user.role == Role.lead and school.requires_lead_approval:
            text += " – approves the school's requests"
        if user.locale == "en":
            text += " – uses the English interface"
        return text
    profile = user.mediator_profile
    levels = list(LanguageLevel)
    rows = sorted(profile.languages, key=lambda r: (levels.index(r.level), r.language.code))
    languages = ", ".join(row.language.name_en for row in rows)
    served = sorted(profile.ambiti, key=lambda a: (a.id != user.ambito_id, a.name))
    served = ", ".join(a.name for a in served)
    return f"{languages} – {profile.employer} – serves {served}"


# --- The builder ------------------------------------------------------------


@dataclass
class _Mediator:
    profile: MediatorProfile
    user: User
    first_name: str
    ambiti: list[str]
    languages: set[str]
    availability: dict[int, list[tuple[time, time]]] = field(default_factory=dict)
    absences: list[tuple[datetime, datetime]] = field(default_factory=list)
    busy: list[tuple[datetime, datetime]] = field(default_factory=list)

    def can_take(self, start: datetime, end: datetime, check_availability: bool) -> bool:
        if any(a < end and start < b for a, b in self.absences):
            return False
        if any(a < end and start < b for a, b in self.busy):
            return False
        if not check_availability:
            return True
        local_start, local_end = start.astimezone(ROME), end.astimezone(ROME)
        return any(
            lo <= local_start.time() and local_end.time() <= hi
            for lo, hi in self.availability.get(local_start.weekday(), [])
        )


@dataclass
class _Case:
    case: PupilCase
    languages: list[str]
    start_year: int
    grade: int
    arrival_year: int


@dataclass
class _School:
    school: School
    tag: str
    ambito: str
    sites: list[Site]
    lead: User | None = None
    teachers: list[User] = field(default_factory=list)
    closed: set[date] = field(default_factory=set)
    cases: dict[int, list[_Case]] = field(default_factory=lambda: defaultdict(list))


@dataclass
class _Draft:
    """What a request will be about and when, before it exists."""

    school: _School
    type: RequestType
    language: str
    day: date
    case: _Case | None = None
    start: datetime | None = None
    end: datetime | None = None
    deadline: datetime | None = None
    mediator: _Mediator | None = None

    @property
    def when(self) -> datetime:
        return self.start if self.start is not None else self.deadline


class _DemoBuilder:
    """Builds the demo data once; every choice comes from one seeded generator."""

    def __init__(self, password: str, now: datetime) -> None:
        self.rng = random.Random(2026)
        self.now = now.replace(microsecond=0)
        self.today = now.astimezone(ROME).date()
        # One hash for everyone: hashing is slow on purpose, and the password is shared.
        self.password_hash = generate_password_hash(password)
        self.ambiti: dict[str, Ambito] = {}
        self.coordinators: dict[str, list[User]] = defaultdict(list)
        self.schools: list[_School] = []
        self.mediators: list[_Mediator] = []
        self.admin: User | None = None
        # (request, when, actor, action, data) for the audit trail, written once ids exist.
        self.events: list[tuple[MediationRequest, datetime, User | None, str, dict]] = []

    # -- entry point

    def build(self) -> None:
        self._load_reference()
        self._add_ambiti_and_schools()
        self._add_people()
        self._add_mediators()
        self._add_successor_project()
        db.session.flush()
        self._add_planned_hours()
        self._load_calendar()
        self._add_school_closures()
        self._add_pupil_cases()
        db.session.flush()
        self._add_history()
        db.session.flush()
        self._add_current()
        db.session.flush()
        self._add_audit_events()
        db.session.flush()

    # -- reference data and calendar

    def _load_reference(self) -> None:
        self.languages = {lang.code: lang for lang in db.session.scalars(sa.select(Language))}
        self.types = {t.code: t for t in db.session.scalars(sa.select(RequestType))}
        self.labimpact = db.session.scalar(sa.select(Project).filter_by(code="LABIMPACT"))

    def _load_calendar(self) -> None:
        self.current_year = self.today.year if self.today.month >= 9 else self.today.year - 1
        # The demo needs school days around today, even past the years seeded by default.
        ensure_school_years(FIRST_SCHOOL_YEAR, max(LAST_SCHOOL_YEAR, self.current_year + 1))
        db.session.flush()
        self.years = {
            y.start_date.year: y
            for y in db.session.scalars(sa.select(SchoolYear).order_by(SchoolYear.start_date))
        }
        self.closed: set[date] = set()
        for closure in db.session.scalars(sa.select(Closure).where(Closure.school_id.is_(None))):
            self.closed.update(iter_days(closure.start_date, closure.end_date))

    def _school_year_of(self, day: date) -> int | None:
        start_year = day.year if day.month >= 9 else day.year - 1
        year = self.years.get(start_year)
        if year is None or not year.start_date <= day <= year.end_date:
            return None
        return start_year

    def _school_days(self, first: date, last: date) -> list[date]:
        """Return the regional school days from ``first`` to ``last``."""
        return [
            day
            for day in iter_days(first, last)
            if day.weekday() < 5 and day not in self.closed and self._school_year_of(day)
        ]

    def _add_school_closures(self) -> None:
        """Closures of single schools: the Ambrosian carnival and a bridge holiday."""
        for start_year in (self.current_year, self.current_year + 1):
            if start_year not in self.years:
                continue
            ash_wednesday = easter_sunday(start_year + 1) - timedelta(days=46)
            for info in self.schools:
                if info.school.code.startswith("MI"):
                    self._school_closure(
                        info, "Carnevale ambrosiano",
                        ash_wednesday + timedelta(days=1), ash_wednesday + timedelta(days=2),
                    )
            immacolata = date(start_year, 12, 8)
            bridge = {1: -1, 3: 1}.get(immacolata.weekday())
            if bridge is not None:
                day = immacolata + timedelta(days=bridge)
                self._school_closure(
                    self.schools[0], "Ponte dell'Immacolata (delibera del Consiglio d'Istituto)",
                    day, day,
                )

    def _school_closure(self, info: _School, name: str, first: date, last: date) -> None:
        db.session.add(
            Closure(school_id=info.school.id, name=name, start_date=first, end_date=last)
        )
        info.closed.update(iter_days(first, last))

    # -- places and people

    def _add_ambiti_and_schools(self) -> None:
        for code, name, lead_agency in AMBITI:
            ambito = Ambito(code=code, name=name, lead_agency=lead_agency)
            db.session.add(ambito)
            self.ambiti[code] = ambito
        for spec in SCHOOLS:
            school = School(
                ambito=self.ambiti[spec["ambito"]],
                code=spec["code"],
                name=spec["name"],
                municipality=spec["municipality"],
                requires_lead_approval=spec["approval"],
            )
            school.cycle_rows = [SchoolCycle(cycle=c) for c in spec["cycles"]]
            sites = []
            for number, (name, address, municipality) in enumerate(spec["sites"], start=1):
                site = Site(
                    code=self._site_code(spec["code"], name, number),
                    name=name,
                    address=address,
                    municipality=municipality,
                )
                school.sites.append(site)
                sites.append(site)
            db.session.add(school)
            self.schools.append(_School(school, spec["tag"], spec["ambito"], sites))

    def _site_code(self, school_code: str, site_name: str, number: int) -> str:
        """A plausible codice meccanografico for a plesso of the school."""
        lowered = site_name.lower()
        if "infanzia" in lowered:
            kind = "AA"
        elif "primaria" in lowered:
            kind = "EE"
        elif "secondaria" in lowered:
            kind = "MM"
        else:
            kind = "TF"
        check = self.rng.choice("ABCDEFGHJKLMNPQRSTUVXZ")
        return f"{school_code[:2]}{kind}{school_code[4:7]}{number:02d}{check}"

    def _user(self, email: str, name: str, role: Role, **scope) -> User:
        user = User(
            email=email.lower(),
            display_name=name,
            password_hash=self.password_hash,
            role=role,
            created_dt=_local(date(2018, 9, 3), 9, 0),
            **scope,
        )
        db.session.add(user)
        return user

    def _staff_name(self, used: set[str]) -> str:
        while True:
            name = f"{self.rng.choice(STAFF_FIRST_NAMES)} {self.rng.choice(STAFF_SURNAMES)}"
            if name not in used:
                used.add(name)
                return name

    def _add_people(self) -> None:
        self.admin = self._user(ADMIN_EMAIL, "Referente regionale Lab'Impact", Role.admin)
        for email, name, ambito in COORDINATORS:
            user = self._user(email, name, Role.coordinator, ambito=self.ambiti[ambito])
            self.coordinators[ambito].append(user)
        used = {name for _, name, _ in COORDINATORS}
        for info in self.schools:
            code = info.school.code.lower()
            info.lead = self._user(
                f"lead.{code}@{DEMO_DOMAIN}", self._staff_name(used), Role.lead,
                school=info.school,
            )
            for number in range(1, self.rng.randint(1, 2) + 1):
                local = "docente" if number == 1 else f"docente{number}"
                name, locale = self._staff_name(used), None
                if number == 2 and info.school.code == ENGLISH_TEACHER[0]:
                    name, locale = ENGLISH_TEACHER[1], "en"
                info.teachers.append(
                    self._user(f"{local}.{code}@{DEMO_DOMAIN}", name, Role.teacher,
                               school=info.school, locale=locale)
                )
            if info.school.code == ENGLISH_TEACHER[0] and len(info.teachers) < 2:
                info.teachers.append(
                    self._user(f"docente2.{code}@{DEMO_DOMAIN}", ENGLISH_TEACHER[1],
                               Role.teacher, school=info.school, locale="en")
                )

    def _add_mediators(self) -> None:
        for first, last, served, employer, cap, cost, languages in MEDIATORS:
            email_name = first.lower().replace("í", "i")
            user = self._user(
                f"mediatore.{email_name}@{DEMO_DOMAIN}", f"{first} {last}", Role.mediator,
                ambito=self.ambiti[served[0]],
            )
            profile = MediatorProfile(
                user=user,
                employer=employer,
                weekly_hour_cap=Decimal(cap),
                hourly_cost=Decimal(cost),
            )
            profile.ambiti = [self.ambiti[code] for code in served]
            for code, level in languages:
                profile.languages.append(
                    MediatorLanguage(language=self.languages[code], level=level)
                )
            info = _Mediator(profile, user, first, served, {code for code, _ in languages})
            for weekday in sorted(self.rng.sample(range(5), self.rng.randint(3, 5))):
                ranges = []
                if self.rng.random() < 0.8:
                    ranges.append((time(8, 0), time(13, 0)))
                if not ranges or self.rng.random() < 0.6:
                    ranges.append((time(14, 0), time(18, 0)))
                for lo, hi in ranges:
                    profile.availability.append(
                        AvailabilityRange(weekday=weekday, start_time=lo, end_time=hi)
                    )
                info.availability[weekday] = ranges
            db.session.add(profile)
            self.mediators.append(info)
        by_name = {m.first_name: m for m in self.mediators}
        for first, from_day, to_day, reason in ABSENCES:
            info = by_name[first]
            start = _local(self.today + timedelta(days=from_day), 0, 0)
            end = _local(self.today + timedelta(days=to_day + 1), 0, 0)
            info.profile.absences.append(Absence(start_dt=start, end_dt=end, reason=reason))
            info.absences.append((start, end))

    # -- projects

    def _add_successor_project(self) -> None:
        project, _ = get_or_create_project(**SUCCESSOR)
        ensure_budget_lines(project, SUCCESSOR_BUDGET)
        ensure_macro_actions(project)
        # Keep the demo usable after the programme's planned end: extend it past today.
        horizon = self.today + timedelta(days=120)
        if project.effective_end_date < horizon:
            project.extensions.append(
                ProjectExtension(new_end_date=date(horizon.year + 1, 6, 30), note="Proroga")
            )
        self.successor = project

    def _add_planned_hours(self) -> None:
        self.macro: dict[int, dict[int, MacroAction]] = {}
        self.action: dict[int, dict[str, Action]] = {}
        for project in (self.labimpact, self.successor):
            self.macro[project.id] = {m.number: m for m in project.macro_actions}
            self.action[project.id] = {
                a.code: a for m in project.macro_actions for a in m.actions
            }
            for ambito, hours in PLANNED_HOURS[project.code].items():
                for number, value in hours.items():
                    db.session.add(
                        PlannedHours(
                            ambito=self.ambiti[ambito],
                            macro_action=self.macro[project.id][number],
                            hours=Decimal(value),
                        )
                    )

    # -- pupil cases

    def _add_pupil_cases(self) -> None:
        profiles = [p for p in FAMILY_PROFILES for _ in range(p[0])]
        start_years = sorted(y for y in self.years if y <= self.current_year)
        for info in self.schools:
            cycles = info.school.cycles
            cycle_weights = [1 if c == Cycle.infanzia else 3 for c in cycles]
            for index, start_year in enumerate(start_years):
                sequence = self.rng.randint(1, 5)
                for _ in range(self.rng.randint(2, 4)):
                    _, languages, countries = self.rng.choice(profiles)
                    cycle = self.rng.choices(cycles, cycle_weights)[0]
                    span = self.rng.choice([1, 2, 2, 3, 3])
                    followed = start_years[index : index + span]
                    grade = self.rng.randint(1, _GRADES[cycle])
                    grade = min(grade + len(followed) - 1, _GRADES[cycle])
                    arrival = start_year - self.rng.choice([0, 0, 0, 1, 1, 2, 3, 5])
                    self._add_case(info, start_year, sequence, cycle, grade, arrival,
                                   languages, self.rng.choice(countries), followed)
                    sequence += self.rng.randint(1, 6)

    def _add_case(
        self, info: _School, start_year: int, sequence: int, cycle: Cycle, grade: int,
        arrival: int, languages: list[str], country: str, followed: list[int],
    ) -> None:
        rng = self.rng
        years_here = start_year - arrival
        level = rng.choice(
            [ItalianLevel.a0, ItalianLevel.a1] if years_here == 0
            else [ItalianLevel.a2, ItalianLevel.b1] if years_here <= 2
            else [ItalianLevel.b1, ItalianLevel.b2]
        )
        if cycle == Cycle.infanzia:
            class_name = f"Sez. {rng.choice('ABCD')}"
        else:
            class_name = f"{grade}{rng.choice('ABCDE')}"
        enrolled = self.years[start_year].start_date - timedelta(days=rng.randint(0, 10))
        created = _local(enrolled, 10, 0)
        case = PupilCase(
            school=info.school,
            code=f"{info.tag}-{start_year}-{sequence:03d}",
            class_name=class_name,
            cycle=cycle,
            arrival_year=arrival,
            country_of_origin=country,
            high_absences=rng.random() < 0.2,
            repeated_year=rng.random() < 0.15,
            late_enrolment=years_here == 0 and rng.random() < 0.5,
            italian_level=level,
            created_dt=min(created, self.now - timedelta(hours=6)),
            created_by_id=info.lead.id,
        )
        case.home_languages = [self.languages[code] for code in languages]
        at_risk = case.high_absences or case.repeated_year
        for position, year in enumerate(followed, start=1):
            if year == self.current_year:
                status = PupilStatus.at_risk if at_risk and rng.random() < 0.6 else (
                    PupilStatus.attending
                )
            elif position < len(followed):
                status = PupilStatus.at_risk if at_risk and rng.random() < 0.4 else (
                    PupilStatus.attending
                )
            elif grade == _GRADES[cycle] and cycle != Cycle.secondaria_2:
                status = PupilStatus.moved_to_next_cycle
            else:
                status = rng.choices(
                    [PupilStatus.attending, PupilStatus.left_school, PupilStatus.at_risk],
                    [6, 2 if at_risk else 1, 2],
                )[0]
            case.statuses.append(PupilCaseStatus(school_year=self.years[year], status=status))
        db.session.add(case)
        item = _Case(case, languages, start_year, grade, arrival)
        for year in followed:
            info.cases[year].append(item)

    # -- choosing what a request is about

    def _covered(self, ambito: str) -> set[str]:
        return {
            code for m in self.mediators if ambito in m.ambiti for code in m.languages
        }

    def _pick_type(self) -> str:
        codes, weights = zip(*TYPE_WEIGHTS, strict=True)
        return self.rng.choices(codes, weights)[0]

    def _pick_case(
        self, info: _School, start_year: int, type_code: str, languages: set[str], rare: bool
    ) -> tuple[_Case, str] | None:
        """Pick a pupil case of the school year with a home language in ``languages``
        (or, when ``rare``, with none of them).
        """
        cases = info.cases.get(start_year, [])
        if rare:
            fitting = [c for c in cases if not set(c.languages) & languages]
        else:
            fitting = [c for c in cases if set(c.languages) & languages]
        if type_code == "reception":
            preferred = [c for c in fitting if c.arrival_year >= start_year - 1]
        elif type_code == "orientation":
            preferred = [
                c for c in fitting
                if c.grade == _GRADES[c.case.cycle] and c.case.cycle != Cycle.secondaria_2
            ]
        else:
            preferred = fitting
        pool = preferred or fitting
        if not pool:
            return None
        item = self.rng.choice(pool)
        if rare:
            return item, item.languages[0]
        return item, self.rng.choice([code for code in item.languages if code in languages])

    def _pick_language(self, info: _School, start_year: int, languages: set[str],
                       rare: bool) -> str | None:
        """Pick a language spoken by the school's families (covered or not, see ``rare``)."""
        spoken = [code for c in info.cases.get(start_year, []) for code in c.languages]
        if rare:
            pool = [code for code in spoken if code not in languages]
        else:
            pool = [code for code in spoken if code in languages] or sorted(languages)
        return self.rng.choice(pool) if pool else None

    def _draft(
        self, days: list[date], *, type_code: str | None = None, staffed: bool = True,
        rare: bool = False, schools: list[_School] | None = None,
    ) -> _Draft:
        """Choose school, type, pupil, language, time and (if ``staffed``) a free mediator."""
        rng = self.rng
        for _ in range(400):
            info = rng.choice(schools or self.schools)
            day = rng.choice(days)
            start_year = self._school_year_of(day)
            if day in info.closed or start_year is None:
                continue
            rtype = self.types[type_code or self._pick_type()]
            covered = self._covered(info.ambito)
            draft = _Draft(info, rtype, "", day)
            if rtype.concerns_pupil:
                picked = self._pick_case(info, start_year, rtype.code, covered, rare)
                if picked is None:
                    continue
                draft.case, draft.language = picked
            else:
                language = self._pick_language(info, start_year, covered, rare)
                if language is None:
                    continue
                if rtype.kind == RequestKind.deadline:
                    language = WRITTEN_FORM.get(language, language)
                    if (language in covered) == rare:
                        continue
                draft.language = language
            if rtype.kind == RequestKind.deadline:
                draft.deadline = _local(day, rng.choice([12, 13, 16]), 0)
                if staffed:
                    candidates = [
                        m for m in self.mediators
                        if info.ambito in m.ambiti and draft.language in m.languages
                        and m.can_take(draft.deadline, draft.deadline + timedelta(minutes=1),
                                       check_availability=False)
                    ]
                    if not candidates:
                        continue
                    draft.mediator = rng.choice(candidates)
                return draft
            if self._place(draft, staffed):
                return draft
        raise RuntimeError("could not place a demo request; is the calendar seeded?")

    def _place(self, draft: _Draft, staffed: bool) -> bool:
        """Choose a start time on the draft's day, and a mediator free at that time."""
        minutes = draft.type.default_duration_minutes
        for _ in range(6):
            hour, minute = divmod(self.rng.randrange(8 * 60 + 30, 17 * 60 + 31 - minutes, 30), 60)
            start = _local(draft.day, hour, minute)
            end = start + timedelta(minutes=minutes)
            if not staffed:
                draft.start, draft.end = start, end
                return True
            candidates = [
                m for m in self.mediators
                if draft.school.ambito in m.ambiti and draft.language in m.languages
                and m.can_take(start, end, check_availability=True)
            ]
            if candidates:
                draft.start, draft.end = start, end
                draft.mediator = self.rng.choice(candidates)
                return True
        return False

    def _other_mediator(self, draft: _Draft, exclude: _Mediator | None) -> _Mediator | None:
        candidates = [
            m for m in self.mediators
            if draft.school.ambito in m.ambiti and draft.language in m.languages
            and m is not exclude
        ]
        return self.rng.choice(candidates) if candidates else None

    # -- building a request

    def _mode(self, day: date) -> Mode:
        rng = self.rng
        if COVID_CLOSURE[0] <= day <= COVID_CLOSURE[1]:
            return rng.choice([Mode.video, Mode.video, Mode.phone])
        if date(2020, 9, 1) <= day <= date(2021, 6, 30) and rng.random() < 0.4:
            return Mode.video
        return rng.choices([Mode.in_person, Mode.phone, Mode.video], [16, 2, 2])[0]

    def _participants(self, type_code: str) -> tuple[int, int, int]:
        """Expected (pupils, parents, teachers) for a request type."""
        r = self.rng.randint
        return {
            "family_meeting": (r(0, 1), r(1, 2), r(1, 2)),
            "group_meeting": (0, r(5, 16), r(2, 4)),
            "reception": (1, r(1, 2), r(1, 2)),
            "orientation": (1, r(1, 2), 1),
            "referral": (0, r(1, 2), r(1, 2)),
            "translation": (0, 0, 0),
        }[type_code]

    def _new_request(
        self, draft: _Draft, project: Project, state: RequestState, created: datetime,
        days: list[date],
    ) -> MediationRequest:
        rng = self.rng
        info, rtype = draft.school, draft.type
        pupils, parents, teachers = self._participants(rtype.code)
        if info.school.requires_lead_approval:
            requester = rng.choice(info.teachers)
        else:
            requester = rng.choice([*info.teachers, info.lead])
        request = MediationRequest(
            project=project,
            school=info.school,
            site=rng.choice(info.sites),
            requester=requester,
            type=rtype,
            language=self.languages[draft.language],
            pupil_case=draft.case.case if draft.case else None,
            state=state,
            mode=self._mode(draft.day),
            urgency=Urgency.urgent if rng.random() < 0.1 else Urgency.normal,
            expected_pupils=pupils,
            expected_parents=parents,
            expected_teachers=teachers,
            created_dt=created,
            updated_dt=created,
        )
        if rtype.kind == RequestKind.deadline:
            request.mode = Mode.in_person
            request.deadline_dt = draft.deadline
            request.direction = rng.choices(
                [Direction.from_italian, Direction.to_italian], [6, 1]
            )[0]
            request.page_count = rng.randint(1, 6)
            request.notes = rng.choice(TRANSLATION_DOCUMENTS)
        else:
            request.duration_minutes = rtype.default_duration_minutes
            if rng.random() < 0.4:
                request.notes = rng.choice(REQUEST_NOTES)
            self._add_slots(request, draft, days)
        db.session.add(request)
        return request

    def _add_slots(self, request: MediationRequest, draft: _Draft, days: list[date]) -> None:
        """The chosen time plus up to two alternatives on nearby school days."""
        rng = self.rng
        index = days.index(draft.day)
        nearby = [
            d for d in days[max(0, index - 6) : index + 7]
            if d != draft.day and d not in draft.school.closed
            and self._school_year_of(d) == self._school_year_of(draft.day)
        ]
        extra = rng.sample(nearby, min(len(nearby), rng.choice([0, 1, 1, 2])))
        minutes = draft.type.default_duration_minutes
        times = [(draft.start, draft.end)]
        for day in extra:
            hour, minute = divmod(rng.randrange(8 * 60 + 30, 17 * 60 + 31 - minutes, 30), 60)
            start = _local(day, hour, minute)
            times.append((start, start + timedelta(minutes=minutes)))
        rng.shuffle(times)
        for position, (start, end) in enumerate(times, start=1):
            request.slots.append(PreferredSlot(position=position, start_dt=start, end_dt=end))

    def _assign(
        self, request: MediationRequest, draft: _Draft, mediator: _Mediator,
        state: AssignmentState, offered: datetime, responded: datetime | None = None,
    ) -> Assignment:
        assignment = Assignment(
            request=request,
            mediator=mediator.profile,
            state=state,
            offered_by=self.rng.choice(self.coordinators[draft.school.ambito]),
            offered_dt=offered,
            responded_dt=responded,
        )
        if draft.start is not None:
            assignment.start_dt, assignment.end_dt = draft.start, draft.end
            if state in (AssignmentState.offered, AssignmentState.accepted):
                mediator.busy.append((draft.start, draft.end))
        else:
            assignment.deadline_dt = draft.deadline
        db.session.add(assignment)
        return assignment

    def _event(self, request: MediationRequest, when: datetime, actor: User | None,
               action: str, **data) -> None:
        self.events.append((request, when, actor, action, data))
        if when > request.updated_dt:
            request.updated_dt = when

    def _times(self, first: datetime, last: datetime, count: int) -> list[datetime]:
        """``count`` increasing moments between ``first`` and ``last``."""
        span = max(last - first, timedelta(minutes=count + 1))
        moments = sorted(self.rng.uniform(0.05, 0.95) for _ in range(count))
        return [(first + span * m).replace(microsecond=0) for m in moments]

    def _request(
        self, state: RequestState, project: Project, days: list[date], *,
        type_code: str | None = None, rare: bool = False,
        schools: list[_School] | None = None,
    ) -> MediationRequest:
        """Create one request that went through the lifecycle up to ``state``."""
        rng = self.rng
        reached = state
        if state == RequestState.cancelled:
            reached = rng.choice([RequestState.open, RequestState.offered,
                                  RequestState.confirmed])
        staffed = reached in (RequestState.offered, RequestState.confirmed,
                              RequestState.logged, RequestState.closed)
        if state in (RequestState.awaiting_approval, RequestState.rejected):
            schools = [s for s in self.schools if s.school.requires_lead_approval]
        draft = self._draft(days, type_code=type_code, staffed=staffed, rare=rare,
                            schools=schools)
        info = draft.school
        coordinator = rng.choice(self.coordinators[info.ambito])
        when = draft.when
        if when > self.now:
            created = self.now - timedelta(hours=rng.uniform(20, 12 * 24))
            limit = self.now - timedelta(minutes=5)
        else:
            created = when - timedelta(hours=rng.uniform(4 * 24, 25 * 24))
            limit = when - timedelta(hours=2)
        created = created.replace(microsecond=0)
        request = self._new_request(draft, project, state, created, days)
        moments = iter(self._times(created, limit, 8))
        approval = info.school.requires_lead_approval and request.requester.role == Role.teacher
        self._event(request, created, request.requester, "request.submitted",
                    state="awaiting_approval" if approval else "open", type=draft.type.code)

        if approval:
            if state == RequestState.awaiting_approval:
                return request
            if state == RequestState.rejected:
                request.rejection_reason = rng.choice(REJECTION_REASONS)
                self._event(request, next(moments), info.lead, "request.rejected")
                return request
            self._event(request, next(moments), info.lead, "request.approved")

        assignment = None
        if state in (RequestState.open, RequestState.unfilled) and not rare and (
            rng.random() < 0.5
        ):
            declined_by = self._other_mediator(draft, None)
            if declined_by is not None:
                offered, responded = next(moments), next(moments)
                declined = self._assign(request, draft, declined_by, AssignmentState.declined,
                                        offered, responded)
                declined.decline_reason = rng.choice(DECLINE_REASONS)
                self._offer_events(request, declined, offered, coordinator)
                self._event(request, responded, declined_by.user, "assignment.declined",
                            assignment=declined, mediator_id=declined_by.profile)
        if state == RequestState.unfilled:
            self._event(request, next(moments), coordinator, "request.unfilled")
            return request

        if reached in (RequestState.offered, RequestState.confirmed, RequestState.logged,
                       RequestState.closed):
            mediator = draft.mediator
            if reached == RequestState.confirmed and state == RequestState.confirmed and (
                rng.random() < 0.3
            ):
                first = self._other_mediator(draft, mediator)
                if first is not None:
                    offered, responded, ended = next(moments), next(moments), next(moments)
                    old = self._assign(request, draft, first, AssignmentState.superseded,
                                       offered, responded)
                    old.end_reason = SUPERSEDE_REASON
                    self._offer_events(request, old, offered, coordinator)
                    self._event(request, responded, first.user, "assignment.accepted",
                                assignment=old)
                    self._event(request, ended, coordinator, "assignment.superseded",
                                assignment=old)
            offered = next(moments)
            if reached == RequestState.offered:
                assignment = self._assign(request, draft, mediator, AssignmentState.offered,
                                          offered)
                self._offer_events(request, assignment, offered, coordinator)
                if draft.start is not None and rng.random() < 0.3:
                    self._propose_other_day(assignment, draft, days)
            else:
                responded = next(moments)
                assignment = self._assign(request, draft, mediator, AssignmentState.accepted,
                                          offered, responded)
                self._offer_events(request, assignment, offered, coordinator)
                self._event(request, responded, mediator.user, "assignment.accepted",
                            assignment=assignment)

        if state == RequestState.cancelled:
            self._cancel(request, draft, assignment, coordinator, next(moments))
            return request
        if state in (RequestState.logged, RequestState.closed):
            self._log(request, draft, assignment, coordinator,
                      approve=state == RequestState.closed)
        return request

    def _offer_events(self, request: MediationRequest, assignment: Assignment,
                      when: datetime, coordinator: User) -> None:
        self._event(request, when, coordinator, "assignment.offered", assignment=assignment,
                    mediator_id=assignment.mediator)

    def _propose_other_day(self, assignment: Assignment, draft: _Draft,
                           days: list[date]) -> None:
        """The mediator answers an offer with the same time on the next school day."""
        later = [d for d in days if d > draft.day and d not in draft.school.closed]
        if not later:
            return
        local = draft.start.astimezone(ROME)
        assignment.proposed_start_dt = _local(later[0], local.hour, local.minute)
        assignment.proposed_note = (
            "Quel giorno non sono disponibile: propongo lo stesso orario il giorno di"
            " scuola successivo."
        )

    def _cancel(self, request: MediationRequest, draft: _Draft, assignment: Assignment | None,
                coordinator: User, when: datetime) -> None:
        rng = self.rng
        reason, note = rng.choice(CANCELLATIONS)
        request.cancellation_reason = reason
        request.cancellation_note = note
        request.cancelled_late = draft.when - when < timedelta(hours=24)
        if assignment is not None:
            assignment.state = AssignmentState.cancelled
            assignment.end_reason = "Richiesta annullata: " + note[0].lower() + note[1:]
            if draft.start is not None:
                # A cancelled assignment no longer holds the mediator's time.
                self._mediator_of(assignment).busy.remove((draft.start, draft.end))
        actor = rng.choice([request.requester, coordinator])
        self._event(request, when, actor, "request.cancelled", reason=reason,
                    assignment=assignment)

    def _mediator_of(self, assignment: Assignment) -> _Mediator:
        return next(m for m in self.mediators if m.profile is assignment.mediator)

    def _log(self, request: MediationRequest, draft: _Draft, assignment: Assignment,
             coordinator: User, *, approve: bool) -> None:
        rng = self.rng
        rtype = draft.type
        outcome = Outcome.held
        if rtype.kind == RequestKind.slot:
            outcome = rng.choices(
                [Outcome.held, Outcome.family_absent, Outcome.cancelled_late], [17, 2, 1]
            )[0]
        project_id = request.project.id
        log = SessionLog(
            assignment=assignment,
            outcome=outcome,
            macro_action=self.macro[project_id][rtype.default_macro_action_number],
            action=self.action[project_id].get(rtype.default_action_code),
            state=LogState.approved if approve else LogState.submitted,
        )
        if rtype.kind == RequestKind.deadline:
            log.pages = request.page_count
            log.words = request.page_count * rng.randint(220, 380)
            log.summary = SUMMARIES["translation"][0]
            done = draft.deadline - timedelta(hours=rng.uniform(0.5, 2))
        else:
            late = rng.choice([0, 0, 0, 5, 10])
            log.actual_start_dt = draft.start + timedelta(minutes=late)
            log.actual_end_dt = draft.end + timedelta(minutes=rng.choice([-10, 0, 0, 10, 15]))
            done = log.actual_end_dt
            if outcome == Outcome.held:
                log.pupils_met = request.expected_pupils
                log.parents_met = max(0, request.expected_parents - rng.choice([0, 0, 1]))
                log.teachers_met = request.expected_teachers
                log.summary = rng.choice(SUMMARIES[rtype.code])
                log.follow_up_needed = rng.random() < 0.25
            else:
                log.teachers_met = request.expected_teachers
                log.summary = ABSENT_SUMMARY if outcome == Outcome.family_absent else (
                    LATE_SUMMARY
                )
        latest = self.now - timedelta(minutes=10)
        logged = min(done + timedelta(hours=rng.uniform(1, 48)), latest)
        log.created_dt = logged
        db.session.add(log)
        mediator = self._mediator_of(assignment)
        self._event(request, logged, mediator.user, "session.logged", assignment=assignment,
                    outcome=outcome.value)
        if approve:
            approved = min(logged + timedelta(hours=rng.uniform(2, 120)), latest)
            approved = max(approved, logged + timedelta(minutes=1))
            log.approved_by_id = coordinator.id
            log.approved_dt = approved
            self._event(request, approved, coordinator, "session.approved",
                        assignment=assignment)

    # -- the requests themselves

    def _add_history(self) -> None:
        """Lab'Impact, 2019 to June 2023: closed requests, and a few that went wrong."""
        project = self.labimpact
        last = min(project.effective_end_date, self.today - timedelta(days=1))
        days = [
            d for d in self._school_days(date(2019, 1, 7), last)
            if not (COVID_CLOSURE[0] <= d <= COVID_CLOSURE[1]) or self.rng.random() < 0.3
        ]
        if not days:
            return
        for _ in range(HISTORY_CLOSED):
            self._request(RequestState.closed, project, days)
        for _ in range(HISTORY_CANCELLED):
            self._request(RequestState.cancelled, project, days)
        for _ in range(HISTORY_UNFILLED):
            self._request(RequestState.unfilled, project, days, rare=True)

    def _add_current(self) -> None:
        """The successor project: closed requests since 2024, and every state around today."""
        project = self.successor
        start = max(project.start_date, date(2024, 1, 8))
        end = project.effective_end_date
        past = self._school_days(start, min(end, self.today - timedelta(days=1)))
        future = self._school_days(self.today + timedelta(days=2), end)[:25]
        if len(past) < 20 or len(future) < 10:
            raise RuntimeError("the school calendar does not cover the days around today")
        recent, older = past[-8:], past[:-8]
        for _ in range(CURRENT_CLOSED):
            self._request(RequestState.closed, project, older)
        for state, count in LIVE_COUNTS.items():
            for number in range(count):
                type_code = "translation" if number == 0 and state in LIVE_TRANSLATIONS else None
                # Logged requests, and two confirmed ones whose meeting has taken place
                # but is not logged yet (a mediator's "sessions to log").
                if state == RequestState.logged or (
                    state == RequestState.confirmed and number in (1, 2)
                ):
                    self._request(state, project, recent, type_code=type_code)
                elif state == RequestState.unfilled:
                    self._request(state, project, recent, type_code=type_code, rare=True)
                elif state in (RequestState.cancelled, RequestState.rejected) and number % 2:
                    self._request(state, project, recent, type_code=type_code)
                else:
                    self._request(state, project, future, type_code=type_code)

    def _add_audit_events(self) -> None:
        for request, when, actor, action, data in self.events:
            values = {}
            for key, value in data.items():
                if isinstance(value, Assignment):
                    values[f"{key}_id"] = value.id
                elif isinstance(value, MediatorProfile):
                    values[key] = value.id
                elif value is not None:
                    values[key] = value
            db.session.add(
                AuditEvent(
                    created_dt=when,
                    actor_id=actor.id if actor is not None else None,
                    action=action,
                    object_type="MediationRequest",
                    object_id=request.id,
                    data=values,
                )
            )


def _local(day: date, hour: int, minute: int) -> datetime:
    """Return a wall-clock time in Rome on ``day`` as an aware UTC datetime."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ROME).astimezone(UTC)
