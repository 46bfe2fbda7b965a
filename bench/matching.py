"""Benchmark of the matching (mediation.bookings.matching) on one large Ambito.

Builds a throw-away database (a fresh SQLite file, or the PostgreSQL database
given with --database, which it EMPTIES), fills it with bulk inserts, then
times ``matching.rank`` and ``matching.rank_slots`` for one open request and
counts the SQL statements each call runs. See bench/README.md.

    .venv/bin/python bench/matching.py             # the issue's sizes, SQLite
    .venv/bin/python bench/matching.py --small     # CI sizes
    .venv/bin/python bench/matching.py --database postgresql+psycopg://postgres@127.0.0.1:5432/benchdb
"""

import argparse
import gc
import math
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from common import QueryCounter, empty_database, insert, reset_sequences, weekdays

from mediation import create_app
from mediation.bookings import matching
from mediation.clock import ROME, to_utc
from mediation.extensions import db
from mediation.models import (
    Absence,
    Ambito,
    Assignment,
    AvailabilityRange,
    Language,
    MacroAction,
    MediationRequest,
    MediatorLanguage,
    MediatorMunicipality,
    MediatorProfile,
    MediatorRate,
    PreferredSlot,
    Project,
    PupilCase,
    RequestState,
    RequestType,
    School,
    Site,
    User,
    mediator_ambiti,
)
from mediation.models.rates import EARLIEST, day_start

FULL = {"mediators": 1000, "schools": 300, "assignments": 200_000, "repeat": 50}
SMALL = {"mediators": 50, "schools": 20, "assignments": 5_000, "repeat": 10}
WARM_UP = 3

# (code, Italian, English, parent code, weight among mediators)
LANGUAGES = [
    ("ar", "Arabo", "Arabic", None, 25), ("ar-MA", "Arabo marocchino", "Moroccan Arabic", "ar", 6),
    ("ar-EG", "Arabo egiziano", "Egyptian Arabic", "ar", 4), ("ro", "Romeno", "Romanian", None, 12),
    ("sq", "Albanese", "Albanian", None, 12), ("zh", "Cinese", "Chinese", None, 8),
    ("ur", "Urdu", "Urdu", None, 6), ("pa", "Punjabi", "Punjabi", None, 6),
    ("bn", "Bengalese", "Bengali", None, 5), ("es", "Spagnolo", "Spanish", None, 5),
    ("es-419", "Spagnolo latinoamericano", "Latin American Spanish", "es", 3),
    ("pt", "Portoghese", "Portuguese", None, 3), ("fr", "Francese", "French", None, 5),
    ("en", "Inglese", "English", None, 5), ("ru", "Russo", "Russian", None, 3),
    ("uk", "Ucraino", "Ukrainian", None, 4), ("tl", "Tagalog", "Tagalog", None, 2),
    ("si", "Singalese", "Sinhala", None, 2), ("ta", "Tamil", "Tamil", None, 1),
    ("wo", "Wolof", "Wolof", None, 2), ("ff", "Fula", "Fula", None, 1),
    ("tw", "Twi", "Twi", None, 1), ("ha", "Hausa", "Hausa", None, 1),
    ("am", "Amarico", "Amharic", None, 1), ("ti", "Tigrino", "Tigrinya", None, 1),
    ("so", "Somalo", "Somali", None, 1), ("fa", "Persiano", "Persian", None, 1),
    ("ps", "Pashto", "Pashto", None, 1), ("tr", "Turco", "Turkish", None, 2),
    ("ku", "Curdo", "Kurdish", None, 1), ("mk", "Macedone", "Macedonian", None, 2),
    ("sr", "Serbo", "Serbian", None, 1), ("bg", "Bulgaro", "Bulgarian", None, 1),
]
MUNICIPALITIES = [
    "Lodi", "Codogno", "Casalpusterlengo", "Sant'Angelo Lodigiano", "Lodi Vecchio",
    "Tavazzano con Villavesco", "Zelo Buon Persico", "Mulazzano", "Borghetto Lodigiano",
    "Castiglione d'Adda", "Maleo", "Somaglia", "Ospedaletto Lodigiano", "Massalengo",
    "Montanaso Lombardo", "Cavenago d'Adda", "Graffignana", "San Martino in Strada", "Brembio",
    "Fombio",
]
#: A day is cut into six 90-minute cells from 08:00; an assignment fills (part of) one cell,
#: so two assignments of a mediator never overlap and all stay inside 08:00-17:00.
CELL_STARTS = [clock(8), clock(9, 30), clock(11), clock(12, 30), clock(14), clock(15, 30)]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Time matching.rank and matching.rank_slots on one large Ambito.",
        epilog="Defaults are the issue's sizes: 1000 mediators, 300 schools, 200,000 "
               "assignments, 50 repeats. WARNING: --database EMPTIES the database it is given "
               "(DROP SCHEMA public CASCADE); never point it at real data.",
    )
    parser.add_argument("--mediators", type=int, metavar="N", help="default 1000 (50 with --small)")
    parser.add_argument("--schools", type=int, metavar="N", help="default 300 (20 with --small)")
    parser.add_argument("--assignments", type=int, metavar="N",
                        help="default 200000 (5000 with --small)")
    parser.add_argument("--repeat", type=int, metavar="N",
                        help="timed calls of each function, after 3 warm-up calls "
                             "(default 50; 10 with --small)")
    parser.add_argument("--small", action="store_true",
                        help="CI sizes: 50 mediators, 20 schools, 5,000 assignments, 10 repeats")
    parser.add_argument("--database", metavar="URL",
                        help="a PostgreSQL URL, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/"
                             "benchdb; the database is EMPTIED first (schema public dropped and "
                             "recreated) and left filled afterwards. Default: a fresh SQLite file "
                             "in a temporary directory, deleted at the end")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--profile", action="store_true",
                        help="after timing, print the top of a cProfile of 10 rank calls")
    args = parser.parse_args(argv)
    sizes = SMALL if args.small else FULL
    for key, value in sizes.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.database and sa.make_url(args.database).get_backend_name() != "postgresql":
        parser.error("--database must be a PostgreSQL URL")
    if min(args.mediators, args.schools, args.repeat) < 1 or args.assignments < 0:
        parser.error("sizes must be positive")
    return args








def build(args, today: date) -> dict:
    """Fill the database; return the ids the measurement needs and the row counts."""
    rnd = random.Random(args.seed)
    now = datetime.now(UTC)
    counts = {}

    # Reference data.
    codes = {code: i for i, (code, *_rest) in enumerate(LANGUAGES, start=1)}
    insert(Language.__table__, [
        {"id": codes[code], "code": code, "name_it": it, "name_en": en,
         "parent_id": codes[parent] if parent else None}
        for code, it, en, parent, _weight in LANGUAGES
    ])
    language_ids = [codes[c] for c, *_ in LANGUAGES]
    language_weights = [w for *_, w in LANGUAGES]
    insert(RequestType.__table__, [{
        "id": 1, "code": "colloquio", "name_it": "Colloquio con la famiglia",
        "name_en": "Meeting with the family", "kind": "slot", "concerns_pupil": True,
        "default_duration_minutes": 60, "default_macro_action_number": 1,
        "default_action_code": None, "position": 1, "active": True,
    }])
    insert(Project.__table__, [{
        "id": 1, "code": "LABIMPACT-BENCH", "title": "Lab'Impact (benchmark)", "fund": "FAMI",
        "lead_partner": "Regione Lombardia", "start_date": date(2024, 1, 1),
        "end_date": date(2027, 12, 31),
    }])
    insert(MacroAction.__table__, [
        {"id": n, "project_id": 1, "number": n, "title_it": f"Macroazione {n}",
         "title_en": f"Macro-action {n}"} for n in (1, 2, 3)
    ])
    insert(Ambito.__table__, [{"id": 1, "code": "LODI", "name": "Ambito di Lodi",
                               "lead_agency": "Azienda Speciale Consortile del Lodigiano"}])

    # Schools, one site each, a teacher each (the requester of its requests), pupil cases.
    schools = [{"id": s, "ambito_id": 1, "code": f"LOIC{s:05d}X",
                "name": f"Istituto Comprensivo {s}",
                "municipality": MUNICIPALITIES[(s - 1) % len(MUNICIPALITIES)],
                "requires_lead_approval": False} for s in range(1, args.schools + 1)]
    insert(School.__table__, schools)
    insert(Site.__table__, [
        {"id": s["id"], "school_id": s["id"], "code": None, "name": f"Plesso {s['id']}",
         "address": "Via Roma 1", "municipality": s["municipality"]} for s in schools
    ])
    users = [{"id": 1, "email": "coordinatore@example.org", "display_name": "Coordinatore",
              "role": "coordinator", "school_id": None, "ambito_id": 1}]
    teacher_of = {}
    for s in schools:
        uid = len(users) + 1
        teacher_of[s["id"]] = uid
        users.append({"id": uid, "email": f"docente{s['id']}@example.org",
                      "display_name": f"Docente {s['id']}", "role": "teacher",
                      "school_id": s["id"], "ambito_id": None})
    mediator_user = {}
    for m in range(1, args.mediators + 1):
        uid = len(users) + 1
        mediator_user[m] = uid
        users.append({"id": uid, "email": f"mediatore{m}@example.org",
                      "display_name": f"Mediatore {m:05d}", "role": "mediator",
                      "school_id": None, "ambito_id": 1})
    for u in users:
        u.update(password_hash=None, locale=None, active=True, session_version=1,
                 created_dt=now, last_login_dt=None)
    # A few mediators have left: they stay in the data but are not ranked.
    for m in rnd.sample(range(1, args.mediators + 1), args.mediators // 50):
        users[mediator_user[m] - 1]["active"] = False
    insert(User.__table__, users)
    cases_per_school = 20
    pupil_cases = [
        {"id": (s - 1) * cases_per_school + j, "school_id": s, "code": f"P{j:03d}",
         "class_name": f"{rnd.randint(1, 5)}{rnd.choice('ABCD')}", "cycle": "primaria",
         "created_dt": now, "high_absences": False, "repeated_year": False,
         "late_enrolment": False}
        for s in range(1, args.schools + 1) for j in range(1, cases_per_school + 1)
    ]
    insert(PupilCase.__table__, pupil_cases)
    counts.update(schools=len(schools), users=len(users), pupil_cases=len(pupil_cases))

    # Mediators: profile, Ambito, 1-3 languages, weekday availability, municipalities, absences.
    insert(MediatorProfile.__table__, [
        {"id": m, "user_id": mediator_user[m], "employer": "Cooperativa Sociale",
         "weekly_hour_cap": Decimal(rnd.choice((15, 20, 25, 30)))}
        for m in range(1, args.mediators + 1)
    ])
    insert(MediatorRate.__table__, [
        {"id": m, "mediator_id": m, "hourly_cost": Decimal(25), "valid_from": EARLIEST,
         "valid_from_dt": day_start(EARLIEST), "created_dt": day_start(EARLIEST)}
        for m in range(1, args.mediators + 1)
    ])
    insert(mediator_ambiti, [{"mediator_id": m, "ambito_id": 1}
                             for m in range(1, args.mediators + 1)])
    spoken, ranges, towns, absences = {}, [], [], []
    period_first, period_last = today - timedelta(days=730), today + timedelta(days=182)
    period_days = (period_last - period_first).days
    for m in range(1, args.mediators + 1):
        chosen = set()
        for _ in range(rnd.choice((1, 1, 2, 2, 2, 3))):
            chosen.add(rnd.choices(language_ids, language_weights)[0])
        spoken[m] = sorted(chosen)
        days = range(5) if rnd.random() < 0.8 else sorted(rnd.sample(range(5), 3))
        for weekday in days:
            ranges.append({"mediator_id": m, "weekday": weekday,
                           "start_time": clock(8), "end_time": clock(17)})
        for town in rnd.sample(MUNICIPALITIES, rnd.choice((0, 0, 1, 2))):
            towns.append({"mediator_id": m, "municipality": town})
        for _ in range(3):
            first = period_first + timedelta(days=rnd.randrange(period_days))
            absences.append({"mediator_id": m, "start_dt": to_utc(first, clock(0)),
                             "end_dt": to_utc(first + timedelta(days=rnd.randint(1, 10)), clock(0)),
                             "reason": None})
    insert(MediatorLanguage.__table__, [
        {"mediator_id": m, "language_id": lang, "level": rnd.choice(("native", "c2", "c1"))}
        for m, langs in spoken.items() for lang in langs
    ])
    for i, row in enumerate(ranges, start=1):
        row["id"] = i
    insert(AvailabilityRange.__table__, ranges)
    insert(MediatorMunicipality.__table__, towns)
    for i, row in enumerate(absences, start=1):
        row["id"] = i
    insert(Absence.__table__, absences)
    counts.update(mediators=args.mediators,
                  mediator_languages=sum(len(v) for v in spoken.values()),
                  availability_ranges=len(ranges), absences=len(absences))

    # Assignments over the past two years and the next six months, never overlapping for a
    # mediator (distinct 90-minute cells), some mediators busier than others; one request each.
    days = weekdays(period_first, period_last)
    cells = len(days) * len(CELL_STARTS)
    busyness = [rnd.uniform(0.3, 1.7) for _ in range(args.mediators)]
    total = sum(busyness)
    per_mediator = [min(cells, int(args.assignments * b / total)) for b in busyness]
    for i in range(args.assignments - sum(per_mediator)):  # rounding leftovers
        m = i % args.mediators
        if per_mediator[m] < cells:
            per_mediator[m] += 1
    slots = []  # (start, end, mediator)
    for m, k in enumerate(per_mediator, start=1):
        for cell in rnd.sample(range(cells), k):
            day, at = days[cell // len(CELL_STARTS)], CELL_STARTS[cell % len(CELL_STARTS)]
            start = to_utc(day, at)
            slots.append((start, start + timedelta(minutes=rnd.choice((60, 60, 60, 90))), m))
    slots.sort()
    usual_schools = {m: rnd.sample(range(1, args.schools + 1), min(args.schools, 8))
                     for m in range(1, args.mediators + 1)}
    requests, assignments = [], []
    for i, (start, end, m) in enumerate(slots, start=1):
        school = rnd.choice(usual_schools[m]) if rnd.random() < 0.8 else \
            rnd.randint(1, args.schools)
        past = start < now
        offered = not past and rnd.random() < 0.15
        case = (school - 1) * cases_per_school + rnd.randint(1, cases_per_school) \
            if rnd.random() < 0.5 else None
        created = start - timedelta(days=rnd.randint(5, 30))
        requests.append({
            "id": i, "project_id": 1, "school_id": school, "site_id": school,
            "requester_id": teacher_of[school], "type_id": 1,
            "language_id": rnd.choice(spoken[m]), "pupil_case_id": case,
            "series_id": None, "series_position": None,
            "state": "closed" if past else ("offered" if offered else "confirmed"),
            "mode": "in_person" if rnd.random() < 0.9 else "phone", "urgency": "normal",
            "expected_pupils": 1, "expected_parents": 2, "expected_teachers": 1,
            "duration_minutes": int((end - start).total_seconds() // 60),
            "deadline_dt": None, "created_dt": created, "updated_dt": created,
            "first_offered_dt": created, "cancelled_late": False,
        })
        assignments.append({
            "id": i, "request_id": i, "project_id": 1, "school_id": school, "mediator_id": m,
            "state": "offered" if offered else "accepted",
            "start_dt": start, "end_dt": end, "deadline_dt": None, "offered_by_id": 1,
            "offered_dt": created, "responded_dt": None if offered else created,
            "sequence": 0,
        })
    insert(MediationRequest.__table__, requests)
    # Newest first: SQLite's overlap trigger then only looks at the few rows that start before
    # the new one ends, instead of all the mediator's earlier assignments.
    insert(Assignment.__table__, assignments[::-1])
    counts.update(requests=len(requests), assignments=len(assignments))
    db.session.commit()
    return {"counts": counts, "language_id": codes["ar"]}


def reset_and_analyze() -> None:
    """PostgreSQL: move the id sequences past the inserted ids, then ANALYZE (what
    autovacuum does shortly after a bulk load in production)."""
    reset_sequences()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")


def open_request(language_id: int, today: date) -> int:
    """The request to rank: school 1, Arabic, three slots next week (Tue 10-11 first)."""
    monday = today + timedelta(days=7 - today.weekday())
    request = MediationRequest(
        project_id=1, school_id=1, site_id=1, requester_id=2, type_id=1,
        language_id=language_id, pupil_case_id=1, state=RequestState.open,
        duration_minutes=60,
    )
    request.slots = [
        PreferredSlot(position=1, start_dt=to_utc(monday + timedelta(days=1), clock(10)),
                      end_dt=to_utc(monday + timedelta(days=1), clock(11))),
        PreferredSlot(position=2, start_dt=to_utc(monday + timedelta(days=2), clock(14)),
                      end_dt=to_utc(monday + timedelta(days=2), clock(15))),
        PreferredSlot(position=3, start_dt=to_utc(monday + timedelta(days=3), clock(9)),
                      end_dt=to_utc(monday + timedelta(days=3), clock(10))),
    ]
    db.session.add(request)
    db.session.commit()
    return request.id




def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def measure(request_id: int, repeat: int) -> dict:
    counter = QueryCounter()
    sa.event.listen(db.engine, "before_cursor_execute", counter)
    try:
        results = {}
        for name in ("rank", "rank_slots"):
            times, cpu, queries = [], [], set()
            for run in range(WARM_UP + repeat):
                # A fresh session state: nothing comes from the identity map. Loading the
                # request and the user is what the view does before calling; it is not timed.
                db.session.expire_all()
                request = db.session.get(MediationRequest, request_id)
                user = db.session.get(User, 1)
                slot = db.session.scalars(sa.select(PreferredSlot).where(
                    PreferredSlot.request_id == request_id, PreferredSlot.position == 1)).one()
                start, end = slot.start_dt, slot.end_dt
                counter.count = 0
                began, began_cpu = time.perf_counter(), time.process_time()
                if name == "rank":
                    ranked = matching.rank(request, user, start, end)
                else:
                    rankings, best = matching.rank_slots(request, user)
                elapsed = (time.perf_counter() - began) * 1000
                used = (time.process_time() - began_cpu) * 1000
                if run >= WARM_UP:
                    times.append(elapsed)
                    cpu.append(used)
                    queries.add(counter.count)
            results[name] = {
                "median": statistics.median(times), "p95": percentile(times, 95),
                "max": max(times), "cpu": statistics.median(cpu), "queries": sorted(queries),
            }
        results["rank"]["ranked"] = len(ranked)
        results["rank"]["available"] = sum(r.available for r in ranked)
        results["rank_slots"]["slots"] = len(rankings)
        results["rank_slots"]["best"] = best.position if best else None
        return results
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", counter)


def profile(request_id: int) -> None:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    for _ in range(10):
        db.session.expire_all()
        request = db.session.get(MediationRequest, request_id)
        user = db.session.get(User, 1)
        slot = request.slots[0]
        profiler.enable()
        matching.rank(request, user, slot.start_dt, slot.end_dt)
        profiler.disable()
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(35)


def main(argv=None) -> int:
    args = parse_args(argv)
    tmp = None
    if args.database:
        url = args.database
        empty_database(url)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="mediation-bench-")
        url = f"sqlite:///{Path(tmp.name) / 'bench.sqlite'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "SECRET_KEY": "bench",
                      "MAIL_BACKEND": "outbox"})
    try:
        with app.app_context():
            backend = db.engine.dialect.name
            server = db.session.execute(sa.text(
                "SELECT sqlite_version()" if backend == "sqlite" else "SHOW server_version"
            )).scalar()
            db.session.rollback()
            print(f"database: {backend} {server} "
                  f"({sa.make_url(url).render_as_string(hide_password=True)})")
            print(f"sizes: {args.mediators} mediators, {args.schools} schools, "
                  f"{args.assignments} assignments; {args.repeat} timed calls after "
                  f"{WARM_UP} warm-up calls")
            began = time.perf_counter()
            db.create_all()
            today = datetime.now(ROME).date()
            built = build(args, today)
            if backend == "postgresql":
                reset_and_analyze()
            build_seconds = time.perf_counter() - began
            print(f"built in {build_seconds:.1f} s: " + ", ".join(
                f"{count} {name.replace('_', ' ')}" for name, count in built["counts"].items()))
            request_id = open_request(built["language_id"], today)
            # As wsgi.py does after start-up: long-lived objects out of the collector's way.
            gc.collect()
            gc.freeze()
            results = measure(request_id, args.repeat)
            if args.profile:
                profile(request_id)
        rank, slots = results["rank"], results["rank_slots"]
        print(f"\nrank: {rank['ranked']} mediators ranked, {rank['available']} available; "
              f"rank_slots: {slots['slots']} slots, best is slot {slots['best']}\n")
        header = (f"{'backend':<11}{'mediators':>10}{'schools':>8}{'assignments':>12}  "
                  f"{'call':<11}{'median ms':>10}{'p95 ms':>9}{'max ms':>9}{'cpu ms':>9}"
                  f"{'queries':>9}")
        print(header)
        print("-" * len(header))
        for name in ("rank", "rank_slots"):
            r = results[name]
            queries = "/".join(str(q) for q in r["queries"])  # one number when constant
            print(f"{backend:<11}{args.mediators:>10}{args.schools:>8}{args.assignments:>12}  "
                  f"{name:<11}{r['median']:>10.1f}{r['p95']:>9.1f}{r['max']:>9.1f}{r['cpu']:>9.1f}"
                  f"{queries:>9}")
        return 0
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
