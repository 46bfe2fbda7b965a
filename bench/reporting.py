"""Benchmark of the reporting dashboard and the funder exports on a large region.

Builds a throw-away database (a fresh SQLite file, or the database given with
--database, which it EMPTIES), fills it with bulk inserts — 35 Ambiti, their schools,
mediators and pupil codes, and 1,000,000 session logs (one request and one assignment
each) over the last four years — then times, for a coordinator (one Ambito) and the
admin (the region), over the last complete quarter and the last complete calendar year:

- the dashboard's figures (``aggregates.dashboard``, every query the page runs), and the
  page itself through the Flask test client;
- each export (sessions, beneficiaries, summary) as CSV and as XLSX, through its URL,
  counting the rows.

    .venv/bin/python bench/reporting.py             # the issue's sizes, SQLite
    .venv/bin/python bench/reporting.py --small     # CI sizes
    .venv/bin/python bench/reporting.py --database postgresql+psycopg://postgres@127.0.0.1:5432/benchrep

See bench/README.md.
"""

import argparse
import gc
import hashlib
import io
import json
import random
import re
import statistics
import sys
import tempfile
import time
import tracemalloc
import zipfile
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from common import (
    BATCH,
    QueryCounter,
    empty_database,
    insert,
    machine_speed,
    reset_sequences,
    weekdays,
)
from werkzeug.security import generate_password_hash

from mediation import create_app
from mediation.clock import ROME, to_utc
from mediation.extensions import db
from mediation.models import (
    Action,
    Ambito,
    Assignment,
    BudgetLine,
    Language,
    MacroAction,
    MediationRequest,
    MediatorLanguage,
    MediatorProfile,
    MediatorRate,
    PlannedHours,
    Project,
    ProjectExtension,
    PupilCase,
    RequestType,
    School,
    SessionLog,
    Site,
    TranslationTariff,
    User,
    mediator_ambiti,
)
from mediation.models.cases import pupil_case_languages
from mediation.models.constraints import OVERLAP_CONSTRAINT, POSTGRESQL_DDL, SQLITE_DDL
from mediation.models.rates import EARLIEST, day_start
from mediation.reporting import aggregates, exports
from mediation.reporting.filters import ReportFilter
from mediation.seed import LANGUAGES, MACRO_ACTIONS, REQUEST_TYPES

FULL = {"sessions": 1_000_000, "ambiti": 35, "years": 4, "repeat": 5}
SMALL = {"sessions": 20_000, "ambiti": 35, "years": 4, "repeat": 3}
WARM_UP = 1
PASSWORD = "bench"
CASES_PER_SCHOOL = 40
#: Six 90-minute cells a day from 08:00: a mediator's sessions take distinct cells, so
#: their assignments never overlap.
CELL_STARTS = [clock(8), clock(9, 30), clock(11), clock(12, 30), clock(14), clock(15, 30)]
TYPE_WEIGHTS = {"family_meeting": 45, "reception": 20, "orientation": 12, "referral": 7,
                "group_meeting": 8, "translation": 8}
MUNICIPALITIES = [
    "Lodi", "Codogno", "Legnano", "Magenta", "Castano Primo", "Abbiategrasso", "Rho",
    "Sesto San Giovanni", "Cinisello Balsamo", "Monza", "Bergamo", "Brescia", "Como",
    "Varese", "Busto Arsizio", "Gallarate", "Saronno", "Pavia", "Vigevano", "Voghera",
    "Cremona", "Crema", "Mantova", "Lecco", "Sondrio", "Treviglio", "Seriate", "Desio",
    "Seregno", "Vimercate", "Paderno Dugnano", "Rozzano", "San Donato Milanese",
    "Melegnano", "Corsico",
]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Time the reporting dashboard and the exports on a large region.",
        epilog="Defaults are the issue's sizes: 1,000,000 session logs, 35 Ambiti, 4 years. "
               "WARNING: --database EMPTIES the database it is given (every table dropped); "
               "never point it at real data.",
    )
    parser.add_argument("--sessions", type=int, metavar="N",
                        help="session logs to create (default 1000000; 20000 with --small)")
    parser.add_argument("--ambiti", type=int, metavar="N", help="default 35")
    parser.add_argument("--years", type=int, metavar="N",
                        help="years of history up to today (default 4)")
    parser.add_argument("--repeat", type=int, metavar="N",
                        help="timed runs of the dashboard, after one warm-up run (default 5; "
                             "3 with --small); each export runs once")
    parser.add_argument("--small", action="store_true",
                        help="CI sizes: 20,000 session logs, 3 repeats")
    parser.add_argument("--database", metavar="URL",
                        help="a PostgreSQL URL (postgresql+psycopg://postgres@127.0.0.1:5432/"
                             "benchrep) or an SQLite one (sqlite:////tmp/bench.sqlite); it is "
                             "EMPTIED first and left filled afterwards. Default: a fresh SQLite "
                             "file in a temporary directory, deleted at the end")
    parser.add_argument("--reuse", action="store_true",
                        help="with --database: keep the data already there if it was built "
                             "with the same sizes and seed (only missing indexes are added), "
                             "so that indexes can be compared without rebuilding")
    parser.add_argument("--no-xlsx", action="store_true", help="skip the XLSX exports")
    parser.add_argument("--xlsx-limit", type=int, default=50_000, metavar="ROWS",
                        help="skip an XLSX export whose CSV had more rows than this (default "
                             "50000: openpyxl writes a few thousand rows a second; a funder "
                             "takes such volumes as CSV)")
    parser.add_argument("--no-page", action="store_true",
                        help="time the dashboard's figures only, not the page")
    parser.add_argument("--no-exports", action="store_true",
                        help="time the dashboard only, not the exports")
    parser.add_argument("--memory", action="store_true",
                        help="also export every session of the whole period as CSV for the "
                             "admin, measuring Python's peak memory (tracemalloc, slower)")
    parser.add_argument("--explain", action="store_true",
                        help="PostgreSQL: print EXPLAIN ANALYZE of the dashboard's queries "
                             "for the admin over the year")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    args = parser.parse_args(argv)
    sizes = SMALL if args.small else FULL
    for key, value in sizes.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.database and sa.make_url(args.database).get_backend_name() not in (
            "postgresql", "sqlite"):
        parser.error("--database must be a PostgreSQL or SQLite URL")
    if args.reuse and not args.database:
        parser.error("--reuse needs --database")
    if min(args.sessions, args.ambiti, args.years, args.repeat) < 1:
        parser.error("sizes must be positive")
    return args








# -- building the data


def build_reference(rnd: random.Random, args, first: date, today: date) -> dict:
    """Languages, request types, two projects (the second extended) with the plan's
    macro-actions, budget and planned hours; Ambiti, schools, people and pupil codes."""
    now = datetime.now(UTC)
    ids = {code: i for i, (code, *_r) in enumerate(LANGUAGES, start=1)}
    insert(Language.__table__, [
        {"id": ids[code], "code": code, "name_it": it, "name_en": en,
         "parent_id": ids[parent] if parent else None}
        for code, it, en, parent in LANGUAGES
    ])
    languages = list(ids.values())
    language_weights = [max(1, 30 - 2 * i) for i in range(len(languages))]
    types = [dict(t, id=i) for i, t in enumerate(REQUEST_TYPES, start=1)]
    insert(RequestType.__table__, [dict(t, kind=t["kind"].value, active=True) for t in types])
    type_weights = [TYPE_WEIGHTS.get(t["code"], 5) for t in types]

    middle = first + (today - first) / 2
    projects = [
        {"id": 1, "code": "LABIMPACT-1", "title": "Lab'Impact (first period)",
         "fund": "FAMI", "lead_partner": "Regione Lombardia", "start_date": first,
         "end_date": middle - timedelta(days=1)},
        {"id": 2, "code": "LABIMPACT-2", "title": "Lab'Impact (second period)",
         "fund": "FAMI 2021-2027", "lead_partner": "Regione Lombardia", "start_date": middle,
         "end_date": today + timedelta(days=60)},
    ]
    insert(Project.__table__, projects)
    # Each project's tariff per translated page, from the start (rates.py): id = project.
    insert(TranslationTariff.__table__, [
        {"id": p["id"], "project_id": p["id"], "page_cost": Decimal(15),
         "valid_from": p["start_date"], "valid_from_dt": day_start(p["start_date"]),
         "created_dt": now} for p in projects])
    insert(ProjectExtension.__table__, [{"id": 1, "project_id": 2,
                                         "new_end_date": today + timedelta(days=240),
                                         "note": "Proroga"}])
    insert(BudgetLine.__table__, [
        {"id": i, "project_id": p, "label": label, "amount": Decimal(amount), "position": i}
        for i, (p, label, amount) in enumerate(
            [(1, "Assegnazione iniziale", 4_000_000), (2, "Assegnazione iniziale", 5_000_000),
             (2, "Risorse aggiuntive", 1_500_000)], start=1)
    ])
    macro_rows, action_rows, macro_of, action_of = [], [], {}, {}
    for project in (1, 2):
        for number, title_it, title_en, actions in MACRO_ACTIONS:
            macro_id = len(macro_rows) + 1
            macro_rows.append({"id": macro_id, "project_id": project, "number": number,
                               "title_it": title_it, "title_en": title_en})
            macro_of[project, number] = macro_id
            for code, action_it, action_en in actions:
                action_id = len(action_rows) + 1
                action_rows.append({"id": action_id, "macro_action_id": macro_id,
                                    "code": code, "title_it": action_it,
                                    "title_en": action_en})
                action_of[project, code] = action_id
    insert(MacroAction.__table__, macro_rows)
    insert(Action.__table__, action_rows)

    ambiti = [{"id": a, "code": f"AMB{a:02d}",
               "name": f"Ambito di {MUNICIPALITIES[(a - 1) % len(MUNICIPALITIES)]}"
                       + (f" {a}" if a > len(MUNICIPALITIES) else ""),
               "lead_agency": f"Azienda Speciale Consortile {a}"}
              for a in range(1, args.ambiti + 1)]
    insert(Ambito.__table__, ambiti)
    insert(PlannedHours.__table__, [
        {"id": i, "ambito_id": a, "macro_action_id": m, "hours": Decimal(rnd.randint(500, 4000))}
        for i, (a, m) in enumerate(
            ((a["id"], m["id"]) for a in ambiti for m in macro_rows if m["number"] <= 2),
            start=1)
    ])
    # Ambiti differ in size: 10-20 schools and 12-28 mediators each.
    schools, school_ambito, sizes = [], {}, {}
    for a in ambiti:
        weight = rnd.uniform(0.6, 1.4)
        sizes[a["id"]] = weight
        town = MUNICIPALITIES[(a["id"] - 1) % len(MUNICIPALITIES)]
        for _ in range(round(15 * weight)):
            s = len(schools) + 1
            schools.append({"id": s, "ambito_id": a["id"], "code": f"LOIC{s:05d}X",
                            "name": f"Istituto Comprensivo {town} {s}", "municipality": town,
                            "requires_lead_approval": False})
            school_ambito[s] = a["id"]
    insert(School.__table__, schools)
    insert(Site.__table__, [{"id": s["id"], "school_id": s["id"], "code": None,
                             "name": f"Plesso {s['id']}", "address": "Via Roma 1",
                             "municipality": s["municipality"]} for s in schools])
    fast = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    users = [{"id": 1, "email": "admin@example.org", "display_name": "Amministratore",
              "role": "admin", "school_id": None, "ambito_id": None, "password_hash": fast}]
    coordinator_of = {}
    for a in ambiti:
        uid = len(users) + 1
        coordinator_of[a["id"]] = uid
        users.append({"id": uid, "email": f"coord{a['id']}@example.org",
                      "display_name": f"Coordinatore {a['id']}", "role": "coordinator",
                      "school_id": None, "ambito_id": a["id"], "password_hash": fast})
    teacher_of = {}
    for s in schools:
        uid = len(users) + 1
        teacher_of[s["id"]] = uid
        users.append({"id": uid, "email": f"docente{s['id']}@example.org",
                      "display_name": f"Docente {s['id']}", "role": "teacher",
                      "school_id": s["id"], "ambito_id": None, "password_hash": None})
    mediators, mediator_ambito = [], {}
    for a in ambiti:
        for _ in range(round(20 * sizes[a["id"]])):
            m = len(mediators) + 1
            uid = len(users) + 1
            users.append({"id": uid, "email": f"mediatore{m}@example.org",
                          "display_name": f"Mediatore {m:04d}", "role": "mediator",
                          "school_id": None, "ambito_id": a["id"], "password_hash": None})
            mediators.append({"id": m, "user_id": uid, "employer": "Cooperativa Sociale",
                              "weekly_hour_cap": Decimal(rnd.choice((15, 20, 25, 30))),
                              "hourly_cost": Decimal(rnd.choice((22, 25, 28)))})
            mediator_ambito[m] = a["id"]
    for u in users:
        u.update(locale=None, active=True, session_version=1, created_dt=now,
                 last_login_dt=None)
    insert(User.__table__, users)
    # One rate per mediator, from the start (id = mediator): the logs keep it (rate_id).
    insert(MediatorProfile.__table__, [{key: value for key, value in m.items()
                                        if key != "hourly_cost"} for m in mediators])
    insert(MediatorRate.__table__, [
        {"id": m["id"], "mediator_id": m["id"], "hourly_cost": m["hourly_cost"],
         "valid_from": EARLIEST, "valid_from_dt": day_start(EARLIEST), "created_dt": now}
        for m in mediators])
    insert(mediator_ambiti, [{"mediator_id": m, "ambito_id": a}
                             for m, a in mediator_ambito.items()])
    spoken = {}
    rows = []
    for m in mediator_ambito:
        chosen = sorted({rnd.choices(languages, language_weights)[0]
                         for _ in range(rnd.choice((1, 2, 2, 3)))})
        spoken[m] = chosen
        rows += [{"mediator_id": m, "language_id": lang, "level": "native"} for lang in chosen]
    insert(MediatorLanguage.__table__, rows)
    cycles = ["infanzia", "primaria", "primaria", "secondaria_1", "secondaria_1", "secondaria_2"]
    cases, case_languages = [], []
    for s in schools:
        for j in range(1, CASES_PER_SCHOOL + 1):
            case_id = len(cases) + 1
            cases.append({
                "id": case_id, "school_id": s["id"], "code": f"ALU-{j:03d}",
                "class_name": f"{rnd.randint(1, 5)}{rnd.choice('ABCD')}",
                "cycle": rnd.choice(cycles), "arrival_year": rnd.randint(first.year - 3,
                                                                         today.year),
                "country_of_origin": rnd.choice(("MA", "AL", "RO", "CN", "EG", "PK", "IN")),
                "high_absences": rnd.random() < 0.1, "repeated_year": rnd.random() < 0.1,
                "late_enrolment": rnd.random() < 0.1, "italian_level": None,
                "created_dt": now, "created_by_id": None,
            })
            for lang in {rnd.choices(languages, language_weights)[0]
                         for _ in range(rnd.choice((1, 1, 2)))}:
                case_languages.append({"pupil_case_id": case_id, "language_id": lang})
    insert(PupilCase.__table__, cases)
    insert(pupil_case_languages, case_languages)
    db.session.commit()
    schools_of = {}
    for s in schools:
        schools_of.setdefault(s["ambito_id"], []).append(s["id"])
    return {
        "types": types, "type_weights": type_weights, "macro_of": macro_of,
        "action_of": action_of, "schools_of": schools_of, "teacher_of": teacher_of,
        "coordinator_of": coordinator_of, "mediator_ambito": mediator_ambito,
        "spoken": spoken, "middle": middle,
        "counts": {"ambiti": len(ambiti), "schools": len(schools), "users": len(users),
                   "mediators": len(mediators), "pupil_cases": len(cases)},
    }


def overlap_rule(create: bool) -> None:
    """Drop the overlap rule for the bulk load (the data never overlaps by construction:
    checking each of a million rows one by one is what makes a load slow), then put it
    back, which checks every row at once."""
    dialect = db.engine.dialect.name
    with db.engine.begin() as conn:
        if dialect == "postgresql":
            if create:
                conn.exec_driver_sql(POSTGRESQL_DDL[1])
            else:
                conn.exec_driver_sql(
                    f"ALTER TABLE assignments DROP CONSTRAINT IF EXISTS {OVERLAP_CONSTRAINT}")
        else:
            if create:
                for statement in SQLITE_DDL:
                    conn.exec_driver_sql(statement)
            else:
                for name in ("assignments_no_overlap_insert", "assignments_no_overlap_update"):
                    conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")


def build_sessions(rnd: random.Random, args, ref: dict, first: date, today: date) -> dict:
    """The session logs, in the order they happened (as in real life), each with its
    request and accepted assignment; some requests that never got a session."""
    now = datetime.now(UTC)
    last = today - timedelta(days=1)
    days = weekdays(first, last)
    cells = len(days) * len(CELL_STARTS)
    mediators = list(ref["mediator_ambito"])
    busyness = [rnd.uniform(0.4, 1.6) for _ in mediators]
    total = sum(busyness)
    per_mediator = [min(cells, int(args.sessions * b / total)) for b in busyness]
    for i in range(args.sessions - sum(per_mediator)):
        m = i % len(mediators)
        if per_mediator[m] < cells:
            per_mediator[m] += 1
    slots = []  # (cell, mediator): sorted, this is the order of time
    for m, k in zip(mediators, per_mediator, strict=True):
        slots.extend((cell, m) for cell in rnd.sample(range(cells), k))
    slots.sort()
    types, weights = ref["types"], ref["type_weights"]
    outcomes = ["held"] * 17 + ["family_absent"] * 2 + ["cancelled_late"]
    log_states = ["approved"] * 96 + ["submitted"] * 3 + ["returned"]
    modes = ["in_person"] * 16 + ["phone"] * 2 + ["video"] * 2
    counts = {"requests": 0, "assignments": 0, "session_logs": 0, "approved": 0}
    request_id = 0
    for start in range(0, len(slots), BATCH):
        requests, assignments, logs = [], [], []
        for cell, m in slots[start:start + BATCH]:
            day, at = days[cell // len(CELL_STARTS)], CELL_STARTS[cell % len(CELL_STARTS)]
            ambito = ref["mediator_ambito"][m]
            school = rnd.choice(ref["schools_of"][ambito])
            rtype = rnd.choices(types, weights)[0]
            project = 1 if day < ref["middle"] else 2
            slot = rtype["kind"].value == "slot"
            case = ((school - 1) * CASES_PER_SCHOOL + rnd.randint(1, CASES_PER_SCHOOL)
                    if rtype["concerns_pupil"] and rnd.random() < 0.7 else None)
            begin = to_utc(day, at)
            minutes = rnd.choice((60, 60, 60, 90)) if slot else None
            end = begin + timedelta(minutes=minutes) if slot else None
            deadline = None if slot else to_utc(day, clock(17))
            created = begin - timedelta(days=rnd.randint(3, 30), hours=rnd.randint(0, 8))
            offered = created + timedelta(hours=rnd.randint(1, 72))
            request_id += 1
            pages = rnd.randint(1, 6) if not slot else None
            requests.append({
                "id": request_id, "project_id": project, "school_id": school,
                "site_id": school, "requester_id": ref["teacher_of"][school],
                "type_id": rtype["id"], "language_id": rnd.choice(ref["spoken"][m]),
                "pupil_case_id": case, "series_id": None, "series_position": None,
                "state": "closed", "mode": rnd.choice(modes) if slot else "in_person",
                "urgency": "normal", "expected_pupils": 1 if case else 0,
                "expected_parents": 2 if case else 0, "expected_teachers": 1,
                "duration_minutes": minutes, "deadline_dt": deadline, "direction": None,
                "page_count": pages, "notes": None, "created_dt": created,
                "updated_dt": created, "cancelled_late": False,
                # The trigger would set it from the assignment (derived.py).
                "first_offered_dt": offered,
            })
            assignments.append({
                "id": request_id, "request_id": request_id, "project_id": project,
                "school_id": school, "mediator_id": m, "state": "accepted",
                "start_dt": begin if slot else None, "end_dt": end,
                "deadline_dt": deadline, "offered_by_id": ref["coordinator_of"][ambito],
                "offered_dt": offered,
                "responded_dt": created + timedelta(hours=rnd.randint(73, 96)),
                "sequence": 0,
            })
            outcome = rnd.choice(outcomes) if slot else "held"
            held = outcome == "held"
            state = rnd.choice(log_states)
            late = timedelta(minutes=rnd.choice((0, 0, 0, 5, 10)))
            logs.append({
                "id": request_id, "assignment_id": request_id,
                "actual_start_dt": begin + late if slot else None,
                "actual_end_dt": end + timedelta(minutes=rnd.choice((-10, 0, 0, 10)))
                if slot else None,
                "pupils_met": (1 if case else 0) if held and slot else 0,
                "parents_met": rnd.choice((1, 2, 2)) if held and case else 0,
                "teachers_met": rnd.choice((0, 1, 1, 2)) if slot else 0,
                "outcome": outcome, "summary": "Colloquio svolto regolarmente.",
                "follow_up_needed": False,
                "macro_action_id": ref["macro_of"][project, rtype["default_macro_action_number"]],
                "action_id": ref["action_of"].get((project, rtype["default_action_code"])),
                "pages": pages, "words": pages * 300 if pages else None,
                "delivered_document_id": None, "state": state, "review_comment": None,
                "approved_by_id": ref["coordinator_of"][ambito] if state == "approved" else None,
                "approved_dt": begin + timedelta(days=2) if state == "approved" else None,
                "created_dt": begin + timedelta(days=1),
                # The reporting copies (SessionLog.copy_counting; bulk inserts skip it).
                "counted_dt": begin + late if slot else deadline,
                "request_id": request_id, "project_id": project, "school_id": school,
                "mediator_id": m, "type_id": rtype["id"],
                "requester_id": ref["teacher_of"][school], "pupil_case_id": case,
                # The rate or tariff valid when it counts (one each, from the start).
                "rate_id": m if slot else None, "tariff_id": None if slot else project,
            })
            counts["approved"] += state == "approved"
        insert(MediationRequest.__table__, requests)
        insert(Assignment.__table__, assignments)
        insert(SessionLog.__table__, logs)
        db.session.commit()
        counts["requests"] += len(requests)
        counts["assignments"] += len(assignments)
        counts["session_logs"] += len(logs)
    # Requests that never got a session: one for every twenty sessions, filed over the period.
    states = ["unfilled", "cancelled", "rejected", "open", "awaiting_approval"]
    extra = []
    span = (now - to_utc(first, clock(8))).total_seconds()
    for _ in range(args.sessions // 20):
        request_id += 1
        ambito = rnd.choice(list(ref["schools_of"]))
        school = rnd.choice(ref["schools_of"][ambito])
        created = to_utc(first, clock(8)) + timedelta(seconds=rnd.uniform(0, span))
        extra.append({
            "id": request_id, "project_id": 1 if created.date() < ref["middle"] else 2,
            "school_id": school, "site_id": school, "requester_id": ref["teacher_of"][school],
            "type_id": 1, "language_id": 1, "pupil_case_id": None, "series_id": None,
            "series_position": None, "state": rnd.choice(states), "mode": "in_person",
            "urgency": "normal", "expected_pupils": 0, "expected_parents": 1,
            "expected_teachers": 1, "duration_minutes": 60, "deadline_dt": None,
            "direction": None, "page_count": None, "notes": None, "created_dt": created,
            "updated_dt": created, "first_offered_dt": None, "cancelled_late": False,
        })
        if len(extra) == BATCH:
            insert(MediationRequest.__table__, extra)
            counts["requests"] += len(extra)
            extra = []
    insert(MediationRequest.__table__, extra)
    counts["requests"] += len(extra)
    db.session.commit()
    return counts




def vacuum_analyze() -> None:
    """What autovacuum does shortly after a bulk load: statistics for the planner and, on
    PostgreSQL, the visibility map that lets index-only scans skip the table."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE" if db.engine.dialect.name == "postgresql"
                             else "ANALYZE")


def signature(args) -> str:
    """The sizes, the seed and the model's tables and columns: --reuse rebuilds the data
    when a column was added or removed since (indexes are synchronised instead)."""
    columns = ",".join(f"{t.name}.{c.name}" for t in db.metadata.sorted_tables for c in t.c)
    schema = hashlib.sha1(columns.encode()).hexdigest()[:10]
    return (f"sessions={args.sessions} ambiti={args.ambiti} years={args.years} "
            f"seed={args.seed} schema={schema}")


def existing_build(args) -> dict | None:
    """With --reuse: the counts of a previous build with the same sizes, if there is one."""
    inspector = sa.inspect(db.engine)
    if "bench_meta" not in inspector.get_table_names():
        return None
    with db.engine.connect() as conn:
        row = conn.exec_driver_sql("SELECT signature, built_on, counts FROM bench_meta").first()
    if row is None or row[0] != signature(args):
        return None
    return {"today": date.fromisoformat(row[1]), "counts": json.loads(row[2])}


def remember_build(args, today: date, counts: dict) -> None:
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS bench_meta")
        conn.exec_driver_sql(
            "CREATE TABLE bench_meta (signature VARCHAR(200), built_on VARCHAR(10), "
            "counts VARCHAR(2000))")
        conn.execute(sa.text("INSERT INTO bench_meta VALUES (:s, :d, :c)"),
                     {"s": signature(args), "d": today.isoformat(), "c": json.dumps(counts)})


def sync_indexes() -> list[str]:
    """With --reuse: create the model's indexes that the database lacks and drop the
    ``ix_`` indexes the model no longer has (after changing the model)."""
    inspector = sa.inspect(db.engine)
    added = []
    for table in db.metadata.sorted_tables:
        present = {ix["name"] for ix in inspector.get_indexes(table.name)}
        wanted = {index.name for index in table.indexes}
        for index in table.indexes:
            if index.name not in present:
                index.create(db.engine)
                added.append(index.name)
        for name in sorted(present - wanted):
            if name.startswith("ix_"):
                with db.engine.begin() as conn:
                    conn.exec_driver_sql(f"DROP INDEX {name}")
                added.append(f"-{name}")
    if added:
        vacuum_analyze()
    return added


def prepare_database(url: str) -> None:
    if sa.make_url(url).get_backend_name() == "postgresql":
        empty_database(url)
        return
    path = sa.make_url(url).database
    if path and path != ":memory:":
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(path + suffix).unlink(missing_ok=True)


# -- measuring


def periods(today: date) -> dict[str, tuple[date, date]]:
    """The last complete calendar quarter and the last complete calendar year."""
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    last_quarter_end = quarter_start - timedelta(days=1)
    last_quarter_start = date(last_quarter_end.year, last_quarter_end.month - 2, 1)
    return {
        "quarter": (last_quarter_start, last_quarter_end),
        "year": (date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)),
    }




def timed(function, repeat: int, counter: QueryCounter) -> dict:
    times, queries = [], set()
    for run in range(WARM_UP + repeat):
        db.session.expire_all()
        counter.count = 0
        began = time.perf_counter()
        result = function()
        elapsed = (time.perf_counter() - began) * 1000
        if run >= WARM_UP:
            times.append(elapsed)
            queries.add(counter.count)
    return {"median": statistics.median(times), "max": max(times), "queries": sorted(queries),
            "result": result}


def login(client, email: str) -> None:
    client.post("/logout")
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    if response.status_code != 302:
        raise RuntimeError(f"cannot log in as {email}: {response.status_code}")


def query_string(report: ReportFilter) -> str:
    return f"start={report.start.isoformat()}&end={report.end.isoformat()}"


def fetch(client, url: str) -> tuple[int, object]:
    """GET ``url`` and read the whole body as it comes: (status, CSV data rows counted on
    the way, or the workbook's bytes)."""
    response = client.get(url, buffered=False)
    try:
        if response.status_code != 200:
            return response.status_code, 0
        if response.mimetype == "text/csv":
            lines = sum(chunk.count(b"\n") for chunk in response.iter_encoded())
            return 200, lines - 1  # the header
        return 200, b"".join(response.iter_encoded())
    finally:
        response.close()


def workbook_rows(content: bytes) -> int:
    """The data rows of a workbook's table sheets (every sheet but the last, the filter),
    read from the row numbers of their XML: openpyxl's write-only mode writes no dimension,
    and loading 250,000 rows back would take longer than writing them."""
    total = 0
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheets = sorted(n for n in archive.namelist() if n.startswith("xl/worksheets/sheet"))
        for name in sheets[:-1]:
            last, tail = 0, b""
            with archive.open(name) as stream:
                while chunk := stream.read(1 << 20):
                    found = re.findall(rb'<row r="(\d+)"', tail + chunk)
                    if found:
                        last = int(found[-1])
                    tail = chunk[-32:]
            total += max(0, last - 1)
    return total


def measure(app, args, today: date, users: dict) -> list[dict]:
    counter = QueryCounter()
    sa.event.listen(db.engine, "before_cursor_execute", counter)
    results = []
    try:
        client = app.test_client()
        for who, (user_id, email) in users.items():
            login(client, email)
            for period_name, (start, end) in periods(today).items():
                user = db.session.get(User, user_id)
                report = ReportFilter(start=start, end=end,
                                      ambito_id=user.ambito_id)
                label = {"who": who, "period": period_name}
                r = timed(lambda report=report, user=user:
                          aggregates.dashboard(report, user, today), args.repeat, counter)
                sessions = r["result"]["totals"]["sessions"]
                results.append({**label, "call": "dashboard figures", "rows": sessions, **r})
                if not args.no_page:
                    url = f"/reporting/?{query_string(report)}"
                    r = timed(lambda url=url: fetch(client, url), args.repeat, counter)
                    if r["result"][0] != 200:
                        raise RuntimeError(f"{url}: {r['result'][0]}")
                    results.append({**label, "call": "dashboard page", "rows": sessions, **r})
                for kind in () if args.no_exports else exports.KINDS:
                    csv_rows = 0
                    for fmt in exports.FORMATS:
                        if fmt == "xlsx" and (args.no_xlsx or csv_rows > args.xlsx_limit):
                            if not args.no_xlsx:
                                results.append({**label, "call": f"{kind}.{fmt}",
                                                "rows": csv_rows, "skipped": True})
                            continue
                        url = f"/reporting/export/{kind}.{fmt}?{query_string(report)}"
                        r = timed(lambda url=url: fetch(client, url), 1, counter)
                        status, rows = r.pop("result")
                        if status != 200:
                            raise RuntimeError(f"{url}: {status}")
                        if fmt == "xlsx":
                            rows = workbook_rows(rows)
                        else:
                            csv_rows = rows
                        results.append({**label, "call": f"{kind}.{fmt}", "rows": rows, **r})
                        print(f"  {who:<12}{period_name:<8}{kind}.{fmt:<5}{rows:>9} rows "
                              f"{r['median']:>10.0f} ms", flush=True)
        if args.memory:
            login(client, users["admin"][1])
            first = date(today.year - args.years, today.month, 1)
            url = f"/reporting/export/sessions.csv?start={first.isoformat()}&end={today}"
            gc.collect()
            tracemalloc.start()
            began = time.perf_counter()
            status, rows = fetch(client, url)
            elapsed = (time.perf_counter() - began) * 1000
            _current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            results.append({"who": "admin", "period": f"{args.years} years",
                            "call": "sessions.csv (memory)", "rows": rows,
                            "median": elapsed, "max": elapsed, "queries": [],
                            "peak_mb": peak / 2**20})
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", counter)
    return results


def explain(user: User, report: ReportFilter, today: date) -> None:
    """EXPLAIN ANALYZE of every statement the dashboard runs (PostgreSQL)."""
    statements = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", capture)
    try:
        aggregates.dashboard(report, user, today)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", capture)
    raw = db.session.connection().connection.driver_connection
    for statement, parameters in statements:
        with raw.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        print("\n" + statement.split("\n")[0][:120] + " ...")
        print(plan)
    db.session.rollback()


def main(argv=None) -> int:
    args = parse_args(argv)
    tmp = None
    if args.database:
        url = args.database
    else:
        tmp = tempfile.TemporaryDirectory(prefix="mediation-bench-")
        url = f"sqlite:///{Path(tmp.name) / 'bench.sqlite'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "SECRET_KEY": "bench",
                      "MAIL_BACKEND": "outbox", "WTF_CSRF_ENABLED": False,
                      "SERVER_NAME": "localhost"})
    try:
        with app.app_context():
            backend = db.engine.dialect.name
            previous = existing_build(args) if args.reuse else None
            if previous is None and args.database:
                db.session.remove()
                db.engine.dispose()
                prepare_database(url)
            server = db.session.execute(sa.text(
                "SELECT sqlite_version()" if backend == "sqlite" else "SHOW server_version"
            )).scalar()
            db.session.rollback()
            print(f"database: {backend} {server} "
                  f"({sa.make_url(url).render_as_string(hide_password=True)})")
            print(f"sizes: {args.sessions} session logs, {args.ambiti} Ambiti, {args.years} "
                  f"years; dashboard: {args.repeat} timed runs after {WARM_UP} warm-up; "
                  "each export once")
            if previous is not None:
                today, counts = previous["today"], previous["counts"]
                added = sync_indexes()
                print(f"reusing the data built on {today}: " + ", ".join(
                    f"{v} {k.replace('_', ' ')}" for k, v in counts.items()))
                if added:
                    print("indexes added (or -dropped) to match the model: " + ", ".join(added))
            else:
                today = datetime.now(ROME).date()
                first = date(today.year - args.years, today.month, 1)
                rnd = random.Random(args.seed)
                began = time.perf_counter()
                db.create_all()
                overlap_rule(create=False)
                ref = build_reference(rnd, args, first, today)
                counts = {**ref["counts"], **build_sessions(rnd, args, ref, first, today)}
                overlap_rule(create=True)
                if backend == "postgresql":
                    reset_sequences()
                vacuum_analyze()
                remember_build(args, today, counts)
                print(f"built in {time.perf_counter() - began:.0f} s: " + ", ".join(
                    f"{v} {k.replace('_', ' ')}" for k, v in counts.items()))
            coordinator = db.session.execute(
                sa.select(User.id, User.email).where(User.role == "coordinator")
                .order_by(User.id)).first()
            users = {"coordinator": tuple(coordinator), "admin": (1, "admin@example.org")}
            if args.explain and backend == "postgresql":
                start, end = periods(today)["year"]
                explain(db.session.get(User, 1), ReportFilter(start=start, end=end), today)
            gc.collect()
            gc.freeze()
            for name, (start, end) in periods(today).items():
                print(f"{name}: {start} to {end}")
            print(f"before: {machine_speed()}", flush=True)
            results = measure(app, args, today, users)
            print(f"after: {machine_speed()}")
        header = (f"\n{'backend':<11}{'who':<12}{'period':<9}{'call':<24}{'rows':>9}"
                  f"{'median ms':>11}{'max ms':>9}{'queries':>9}")
        print(header)
        print("-" * len(header))
        for r in results:
            if r.get("skipped"):
                print(f"{backend:<11}{r['who']:<12}{r['period']:<9}{r['call']:<24}{r['rows']:>9}"
                      f"  skipped: more rows than --xlsx-limit")
                continue
            queries = "/".join(str(q) for q in r["queries"])
            extra = f"  peak Python memory {r['peak_mb']:.1f} MiB" if "peak_mb" in r else ""
            print(f"{backend:<11}{r['who']:<12}{r['period']:<9}{r['call']:<24}{r['rows']:>9}"
                  f"{r['median']:>11.0f}{r['max']:>9.0f}{queries:>9}{extra}")
        return 0
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
