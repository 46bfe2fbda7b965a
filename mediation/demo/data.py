"""What the demo is made of: places, people, languages, texts and the pace of the work.

Everything here is plain data; :mod:`mediation.demo.builder` turns it into rows.
"""

from datetime import date, time
from decimal import Decimal

from ..models import Cycle, LanguageLevel, Role

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

#: The school's contacts for the family letter: (address, telephone) by school code.
#: Telephone numbers are fictitious (no Italian number starts 000 after the prefix).
SCHOOL_CONTACTS = {
    "LOIC81200X": ("Via Salvemini 1, 26900 Lodi", "0371 000112"),
    "LOIC80400V": ("Via Cabrini 20, 26866 Sant'Angelo Lodigiano", "0371 000404"),
    "LOIC81800N": ("Via Roma 10, 26845 Codogno", "0377 000818"),
    "LOIS00700P": ("Via Cadorna 11, 26841 Casalpusterlengo", "0377 000007"),
    "MIIS01900L": ("Via Diaz 2, 20025 Legnano", "0331 000019"),
    "MIIC8AB00Q": ("Via IV Novembre 15, 20015 Parabiago", "0331 000801"),
    "MIIC8CD00T": ("Via Boccaccio 9, 20023 Cerro Maggiore", "0331 000802"),
    "MIIC8EF00V": ("Via Matteotti 10, 20027 Rescaldina", "0331 000803"),
    "MIIC8GH00B": ("Via Lonati 8, 20013 Magenta", "02 0000804"),
    "MIIS05200D": ("Via Stignani 63, 20081 Abbiategrasso", "02 0000052"),
    "MIIC8JK00E": ("Via Verdi 2, 20011 Corbetta", "02 0000805"),
    "MIIC8LM00G": ("Via Giulini 14, 20010 Boffalora sopra Ticino", "02 0000806"),
    "MIIC8NP00H": ("Via Giolitti 23, 20022 Castano Primo", "0331 000807"),
    "MIIC8QR00L": ("Via Allea Comunale 2, 20029 Turbigo", "0331 000808"),
    "MIIS03300B": ("Via Matteotti 4, 20022 Castano Primo", "0331 000033"),
}

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
    ("Fatima", "El Amrani", ["LODI"], EMMANUELE, 10, "26.50",
     [("ar", _N), ("ary", _N), ("fr", _C1)]),
    ("Elira", "Hoxha", ["LODI"], FAMIGLIA_NUOVA, 6, "25.00", [("sq", _N)]),
    ("Mei", "Chen", ["LODI"], PLEIADI, 6, "27.00",
     [("zh", _N), ("cmn", _N), ("wuu-x-wenzhou", _N)]),
    ("Ionela", "Popescu", ["LODI", "LEGNANO"], EMMANUELE, 8, "24.50", [("ro", _N)]),
    ("Imran", "Qureshi", ["LODI"], FAMIGLIA_NUOVA, 6, "26.00",
     [("ur", _N), ("pa", _C1), ("hi", _C1), ("en", _C1)]),
    ("Moussa", "Diop", ["LODI", "CASTANO"], MLFM, 5, "23.00", [("wo", _N), ("fr", _C2)]),
    ("Oksana", "Kovalenko", ["LEGNANO", "CASTANO"], SOLE, 6, "28.00",
     [("uk", _N), ("ru", _C2)]),
    ("Nadia", "Mahmoud", ["LEGNANO"], SOLE, 8, "28.00",
     [("ar", _N), ("arz", _N), ("en", _C1)]),
    ("Rashida", "Akter", ["LEGNANO", "MAGENTA"], FAMIGLIA_NUOVA, 5, "25.50",
     [("bn", _N), ("en", _B2), ("hi", _B2)]),
    ("Lucía", "Ramírez", ["LEGNANO", "MAGENTA"], EMMANUELE, 6, "25.00",
     [("es", _N), ("pt", _C1)]),
    ("Senait", "Tesfamariam", ["LEGNANO", "CASTANO"], MLFM, 4, "24.00",
     [("ti", _N), ("am", _C1), ("ar", _B2)]),
    ("Harpreet", "Kaur", ["LEGNANO", "MAGENTA"], SOLE, 6, "27.50",
     [("pa", _N), ("hi", _C1), ("ur", _B2)]),
    ("Youssef", "Bennani", ["MAGENTA", "CASTANO"], PLEIADI, 8, "26.00",
     [("ar", _N), ("ary", _N), ("fr", _C1)]),
    ("Dilani", "Perera", ["MAGENTA"], FAMIGLIA_NUOVA, 4, "24.00",
     [("si", _N), ("ta", _C1), ("en", _C1)]),
    ("Arjola", "Dervishi", ["MAGENTA", "LEGNANO"], EMMANUELE, 5, "25.00", [("sq", _N)]),
    ("Xiaoling", "Hu", ["MAGENTA", "LEGNANO"], PLEIADI, 5, "29.00",
     [("zh", _N), ("cmn", _N), ("wuu-x-wenzhou", _N)]),
    ("Mihaela", "Ionescu", ["MAGENTA", "CASTANO"], FAMIGLIA_NUOVA, 5, "24.50", [("ro", _N)]),
    ("Abdi", "Warsame", ["CASTANO", "LEGNANO"], MLFM, 4, "23.50",
     [("so", _N), ("ar", _C1), ("en", _B2)]),
    ("Natalia", "Moroz", ["CASTANO"], EMMANUELE, 5, "25.00", [("ru", _N), ("uk", _C2)]),
    ("Kwame", "Mensah", ["CASTANO"], MLFM, 4, "22.50",
     [("tw", _N), ("en", _C2), ("fr", _B2)]),
    ("Blessing", "Okafor", ["CASTANO", "LEGNANO"], FAMIGLIA_NUOVA, 4, "23.00",
     [("ig", _N), ("yo", _C1), ("en", _C2)]),
    ("Giulia", "Ferrari", ["CASTANO", "MAGENTA"], PLEIADI, 8, "27.00",
     [("es", _C2), ("pt", _C1), ("fr", _C1)]),
    ("Besnik", "Krasniqi", ["CASTANO", "MAGENTA"], EMMANUELE, 5, "24.00", [("sq", _N)]),
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

#: Years of each cycle, in order (mediation/cases/queries.py reads the last one from the
#: class name's first digit: classes are named "<year of the cycle><section>").
GRADES = {Cycle.infanzia: 3, Cycle.primaria: 5, Cycle.secondaria_1: 3, Cycle.secondaria_2: 5}
#: Age in September of the first year of each cycle, for a pupil in the class of their age.
FIRST_AGE = {Cycle.infanzia: 3, Cycle.primaria: 6, Cycle.secondaria_1: 11,
             Cycle.secondaria_2: 14}
#: Years a newly arrived pupil is placed behind the class of their age: (years, weight).
PLACED_BEHIND = [(0, 7), (1, 3)]
#: Years between arriving in Italy and being followed at the school: (years, weight).
YEARS_SINCE_ARRIVAL = [(0, 6), (1, 3), (2, 2), (3, 1), (5, 1)]
#: Newly followed pupils per school and school year (the first year also takes in the
#: pupils already at the school): (first year, later years).
NEW_PUPILS = ((14, 20), (5, 9))
#: A pupil leaves the school in a given year with this probability.
LEAVES_SCHOOL = 0.05

# --- Requests ---------------------------------------------------------------

#: How often each kind of meeting is asked for (translations are added on top, see
#: TRANSLATION_SHARE).
TYPE_WEIGHTS = [
    ("family_meeting", 46), ("reception", 16), ("orientation", 11), ("referral", 10),
    ("group_meeting", 9),
]
#: How long schools book each kind of meeting for: (minutes, weight). A meeting through
#: a mediator takes longer than one in a shared language: everything is said twice.
DURATIONS = {
    "family_meeting": [(60, 1), (90, 2), (120, 1)],
    "reception": [(90, 1), (120, 2)],
    "orientation": [(60, 1), (90, 1)],
    "referral": [(60, 1), (90, 2)],
    "group_meeting": [(90, 1), (120, 2)],
}
#: Translation requests per meeting request.
TRANSLATION_SHARE = 0.06

#: How much of the region's work each Ambito does (its share of the sessions).
AMBITO_WEIGHTS = {"LODI": 1.0, "LEGNANO": 1.15, "MAGENTA": 0.95, "CASTANO": 0.8}

#: The share of each project's budget that its sessions spend over the whole project: a
#: closed project spent almost all of it; the running one is on track with its calendar
#: (spent share = this × the share of its school days gone by).
BUDGET_USE = {"LABIMPACT": 0.94, "FAMI2127": 1.0}
#: Each project's price per translated page (its translation tariff, from the start of the
#: project's records): translations cost something, and count in the budget's pace.
PAGE_COSTS = {"LABIMPACT": Decimal("18.00"), "FAMI2127": Decimal("20.00")}
#: Lab'Impact ran at this share of its normal pace in the months schools were shut.
COVID_PACE = 0.35

#: How far ahead schools book: days between filing a request and the meeting.
LEAD_DAYS = (3, 24)
#: Days after today for which meetings are already booked (requests filed by now).
HORIZON_DAYS = 28

#: Requests that did not become a session, per session.
CANCELLED_SHARE = 0.06
UNFILLED_SHARE = 0.025
REJECTED_SHARE = 0.04  # of the requests of schools whose lead approves them
DECLINED_SHARE = 0.12  # a first offer declined before another mediator accepted
SUPERSEDED_SHARE = 0.03  # accepted, then reassigned

SUCCESSOR = {
    "code": "FAMI2127",
    "title": "Lab'Impact – FAMI 2021-2027",
    "fund": "FAMI 2021-2027",
    "lead_partner": "Regione Lombardia",
    "start_date": date(2024, 1, 1),
    "end_date": date(2027, 6, 30),
}
SUCCESSOR_BUDGET = [("Finanziamento FAMI 2021-2027", Decimal("248500.00"))]
#: The budget line added with an extension (its amount keeps the project's pace).
EXTENSION_BUDGET_LABEL = "Risorse aggiuntive per la proroga"

#: (note, when it fits: "morning" or "afternoon" slots only, "in_person", a woman
#: mediator, or None for any request) of meeting requests.
REQUEST_NOTES = [
    ("Colloquio previsto alla presenza della docente coordinatrice di classe.", None),
    ("La famiglia preferisce una mediatrice.", "woman"),
    ("Possibile anche il collegamento in videochiamata.", "in_person"),
    ("Il padre lavora su turni: meglio il pomeriggio.", "afternoon"),
    ("La madre lavora nel pomeriggio: meglio la mattina.", "morning"),
    ("Serve la traduzione orale del documento di valutazione.", None),
    ("Incontro già concordato con la famiglia, in attesa della mediazione.", None),
]
#: Mediators who are men (the notes and reasons say "mediatrice" otherwise).
MEN = {"Imran", "Moussa", "Youssef", "Abdi", "Kwame", "Besnik"}
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
#: Why a school disputes a logged session (the demo's few disputes).
#: The comments some give with their rating after a held session (issue #19), per side.
FEEDBACK_COMMENTS = {
    "school": [
        "La famiglia ha capito bene il percorso proposto: molto utile.",
        "Colloquio sereno, la mamma ha potuto fare tutte le domande.",
        "Utile, ma servirebbe più tempo per i documenti della scuola.",
    ],
    "mediator": [
        "Aula pronta e docenti puntuali.",
        "Nessuno all'ingresso sapeva dell'incontro: attesa di quindici minuti.",
        "Sarebbe utile ricevere prima le informazioni sul percorso dell'alunno.",
    ],
}

DISPUTES = [
    "La mediatrice è arrivata con mezz'ora di ritardo: l'incontro è durato meno di "
    "quanto registrato.",
    "Il colloquio si è svolto senza la mediatrice: i genitori sono stati aiutati da "
    "un fratello maggiore.",
    "L'incontro registrato era previsto per un'altra classe: verificare con la "
    "coordinatrice.",
]
DECLINE_REASONS = [
    "Ho già un impegno in un altro Ambito in quella fascia oraria.",
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
SUPERSEDE_REASON = "Riassegnata: chi aveva accettato non è più disponibile in quella data."
COVID_CLOSURE = (date(2020, 2, 24), date(2020, 6, 30))

#: The order in which the demo logins are listed, by role.
ROLE_ORDER = (Role.admin, Role.coordinator, Role.lead, Role.teacher, Role.mediator)


# --- Who shows what -------------------------------------------------------------

#: Weekly availability fixed for the mediators the guided tour and the live tests rely on,
#: as {weekday: [(from, to)]} (the others get a random pattern).
FIXED_AVAILABILITY = {
    # Arabic in Lodi: every weekday, so that a family meeting at 10:00 finds her.
    "Fatima": {d: [(time(8, 0), time(13, 0)), (time(14, 0), time(17, 30))] for d in range(5)},
    # Romanian in Lodi and Legnano: never on Fridays (a request for Fridays cannot be filled).
    "Ionela": {d: [(time(8, 0), time(13, 0)), (time(14, 0), time(18, 0))] for d in range(4)},
    "Elira": {d: [(time(8, 0), time(13, 0)), (time(14, 0), time(17, 0))] for d in range(5)},
}
#: Hours a week left free for the live journey's Arabic meeting in Lodi (it books the
#: first time the offer page finds): Fatima's 9:00-12:00 on the coming school days.
JOURNEY_WINDOW = ("Fatima", time(9, 0), time(12, 0), 30)  # (mediator, from, to, days ahead)

#: The accounts to try first: (role, email, what it shows), printed first by `flask demo`.
START_HERE = [
    ("teacher", f"docente.loic81200x@{DEMO_DOMAIN}",
     "IC Lodi III: a confirmed Arabic family meeting the family said they will come to,"
     " and the requests of the school"),
    ("mediator", f"mediatore.fatima@{DEMO_DOMAIN}",
     "Fatima El Amrani (Arabic): an offer to answer, one sent to several mediators"
     " (the first to accept gets it), a session to log"),
    ("coordinator", f"coord.lodi@{DEMO_DOMAIN}",
     "Ambito di Lodi: an open request to fill, one nobody can take (next free times),"
     " logs to approve"),
    ("lead", f"lead.loic81200x@{DEMO_DOMAIN}",
     "IC Lodi III: a teacher's request waiting for approval, a weekly series, pupils"
     " at risk"),
    ("admin", ADMIN_EMAIL, "Regione Lombardia: every Ambito, the projects and their budget"),
]
