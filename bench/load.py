"""Load test: the service under gunicorn on PostgreSQL, driven by a mix of users.

Builds the demo data in the PostgreSQL database given (which it EMPTIES) with the
real migrations and `flask demo`, starts the service under gunicorn, and drives it
for ``--duration`` seconds with ``--users`` virtual users, each a real demo
account logged in once, each waiting a random think time between two pages:

- teachers (40 %): home page, their requests, the form for a family meeting, then
  file it (a real request, at a school time inside the project, on a school day);
- coordinators (25 %): the queue of open requests, the offer page of one of them
  (the matching), then offer it to the best mediator;
- mediators (25 %): their agenda, then accept an offer when there is one;
- dashboard readers (10 %): a coordinator's reporting dashboard.

Then a bare Flask "hello" application (bench/hello.py) runs under the same
gunicorn settings and is driven by as many users for ``--hello-duration``
seconds: the ceiling of this machine, server and load driver included.

It prints, for every page, the number of requests, p50/p95/p99 latency and the
errors (a 5xx, a refused connection, or a status the page never gives), then the
throughput. A 409 or a form sent back with its reason (400) on an offer or an
acceptance (the mediator got booked meanwhile) is the expected answer to a race and is
counted apart ("races").

``--cut-db-at S`` ends every connection of the service to PostgreSQL S seconds
into the run (``pg_terminate_backend``, which is what the service sees when the
server restarts) and prints the errors before and after: the pool must recover
by itself.

    .venv/bin/python bench/load.py --database postgresql+psycopg://postgres@127.0.0.1:5432/benchload
"""

import argparse
import http.client
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import sqlalchemy as sa
from common import empty_database, machine_speed

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
PASSWORD = "demo-load"
MIX = (("teacher", 40), ("coordinator", 25), ("mediator", 25), ("dashboard", 10))
#: Statuses a page may answer with, besides 200 (anything else is an error).
EXPECTED = {
    "POST /requests/new/family_meeting": {302},
    # 409: the mediator got booked meanwhile; 400: the form comes back with the reason the
    # mediator can no longer take it (e.g. over their weekly hours after another offer).
    "POST /coordination/requests/<id>/offer": {302, 400, 409},
    "POST /agenda/assignments/<id>/accept": {302, 409},
    "POST /login": {302},
}
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Drive the service under gunicorn with a mix of users.",
        epilog="WARNING: --database EMPTIES the database it is given.")
    parser.add_argument("--database", required=True, metavar="URL",
                        help="PostgreSQL URL, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/"
                             "benchload (EMPTIED first)")
    parser.add_argument("--users", type=int, default=50, help="virtual users (default 50)")
    parser.add_argument("--duration", type=float, default=60, help="seconds (default 60)")
    parser.add_argument("--hello-duration", type=float, default=20,
                        help="seconds of the hello run (default 20)")
    parser.add_argument("--think", type=float, default=1.0,
                        help="mean think time between two pages, seconds (uniform 0..2x; "
                             "default 1.0)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--threads", type=int, default=2,
                        help="threads per gunicorn worker (gthread; default 2)")
    parser.add_argument("--port", type=int, default=5401)
    parser.add_argument("--cut-db-at", type=float, metavar="S",
                        help="end the service's database connections S seconds into the run")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args(argv)


# -- the service -------------------------------------------------------------------------

def service_env(url: str) -> dict:
    env = dict(os.environ)
    env.update({
        "MEDIATION_SQLALCHEMY_DATABASE_URI": url,
        "MEDIATION_SECRET_KEY": "load-test",
        "MEDIATION_MAIL_BACKEND": "outbox",  # emails stay in the outbox, as with a worker
        # Every virtual user logs in from 127.0.0.1 at the start.
        "MEDIATION_RATELIMIT_ENABLED": "false",
    })
    return env


def prepare(url: str) -> None:
    empty_database(url)
    env = service_env(url)
    flask = [str(VENV_BIN / "flask"), "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    subprocess.run([*flask, "demo", "--password", PASSWORD], cwd=ROOT, env=env, check=True,
                   capture_output=True)


def accounts_and_days(url: str) -> tuple[dict, list[date]]:
    """The demo accounts by kind, and school days on which a meeting can be booked."""
    sys.path.insert(0, str(ROOT))
    from mediation import create_app
    from mediation.bookings.rules import Calendar
    from mediation.extensions import db
    from mediation.models import Role, School, User

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x"})
    with app.app_context():
        users = defaultdict(list)
        for user in db.session.scalars(sa.select(User).where(User.active).order_by(User.id)):
            users[user.role].append(user.email)
        accounts = {
            "teacher": users[Role.teacher] + users[Role.lead],
            "coordinator": users[Role.coordinator],
            "mediator": users[Role.mediator],
            "dashboard": users[Role.coordinator],
        }
        today = date.today()
        school = db.session.scalars(sa.select(School).order_by(School.id)).first()
        calendar = Calendar.load(school, today, today + timedelta(days=90))
        days = [today + timedelta(days=n) for n in range(3, 60)]
        days = [d for d in days if d.weekday() < 5 and calendar.closure_on(d) is None
                and calendar.project_on(d) is not None]
        db.engine.dispose()
    return accounts, days


def start_gunicorn(target: str, port: int, args, env: dict) -> subprocess.Popen:
    process = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "--workers", str(args.workers), "--threads",
         str(args.threads), "--worker-class", "gthread", "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", target],
        cwd=ROOT, env=env, start_new_session=True)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"gunicorn did not start on port {port}")


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


# -- the virtual users -------------------------------------------------------------------

class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = defaultdict(list)
        self.errors = defaultdict(int)
        self.races = defaultdict(int)
        self.error_times: list[float] = []
        self.samples: list[str] = []
        #: When the measured run began, from the start of the drive (logins come first).
        self.started_at = 0.0
        #: (when, how many) database connections were cut, with --cut-db-at.
        self.cut: tuple[float, int] | None = None

    def record(self, label: str, seconds: float, status: int | None, at: float,
               detail: str = "") -> None:
        with self.lock:
            self.latencies[label].append(seconds)
            if status in (400, 409) and status in EXPECTED.get(label, ()):
                self.races[label] += 1
            if status is None or status >= 500 or (
                    status != 200 and status not in EXPECTED.get(label, ())):
                self.errors[label] += 1
                self.error_times.append(at)
                if len(self.samples) < 10:
                    self.samples.append(f"{label}: {status} {detail}".rstrip())


class Browser:
    """One user's keep-alive connection and cookies."""

    def __init__(self, port: int, stats: Stats, started: float):
        self.port, self.stats, self.started = port, stats, started
        # http.client reconnects by itself after close().
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, label: str, form: dict | None = None):
        headers = {"Accept-Language": "it"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        began = time.perf_counter()
        status, text, location = None, "", None
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                text = response.read().decode("utf-8", "replace")
                status, location = response.status, response.getheader("Location")
                for header, value in response.getheaders():
                    if header.lower() == "set-cookie":
                        name, _, rest = value.partition("=")
                        self.cookies[name] = rest.split(";", 1)[0]
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # The server closed an idle keep-alive connection: like a browser, open a
                # new one and send again, once.
                self.conn.close()
                if attempt == 2:
                    break
            except (OSError, http.client.HTTPException):
                self.conn.close()
                break
        elapsed = time.perf_counter() - began
        title = re.search(r"<title>(.*?)</title>", text, re.S)
        self.stats.record(label, elapsed, status, time.monotonic() - self.started,
                          " ".join(title.group(1).split()) if title else "")
        return status, text, location

    def get(self, path, label=None):
        return self.request("GET", path, label or f"GET {path}")

    def post(self, path, form, label=None):
        return self.request("POST", path, label or f"POST {path}", form)


def csrf(html: str) -> str:
    found = CSRF.search(html)
    return found.group(1) if found else ""


def first_option(html: str, name: str) -> str:
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    if not select:
        return ""
    values = [v for v in re.findall(r'<option[^>]*value="([^"]*)"', select.group(1))
              if v.isdigit()]
    return values[0] if values else ""


def log_in(browser: Browser, email: str) -> bool:
    _, page, _ = browser.get("/login")
    status, _, _ = browser.post("/login", {"csrf_token": csrf(page), "email": email,
                                           "password": PASSWORD}, "POST /login")
    return status == 302


def teacher(browser: Browser, rnd: random.Random, days: list[date], pause) -> None:
    browser.get("/", "GET /")
    pause()
    browser.get("/requests", "GET /requests")
    pause()
    _, page, _ = browser.get("/requests/new/family_meeting")
    pause()
    day = rnd.choice(days)
    hour = rnd.choice(["08:30", "09:00", "10:00", "11:00", "14:00", "14:30", "15:00"])
    form = {
        "csrf_token": csrf(page), "language": first_option(page, "language"),
        "pupil_case": first_option(page, "pupil_case"), "site": first_option(page, "site"),
        "expected_pupils": "1", "expected_parents": "2", "expected_teachers": "1",
        "mode": "in_person", "duration": "60", "slot_1_date": day.isoformat(),
        "slot_1_time": hour, "slot_2_date": "", "slot_2_time": "", "slot_3_date": "",
        "slot_3_time": "", "urgency": "normal", "notes": "",
    }
    status, _, location = browser.post("/requests/new/family_meeting", form)
    if status == 302 and location:
        pause()
        browser.get(urlsplit(location).path, "GET /requests/<id>")


def coordinator(browser: Browser, rnd: random.Random, days, pause) -> None:
    _, page, _ = browser.get("/coordination/requests?status=open", "GET /coordination/requests")
    pause()
    links = re.findall(r'href="(/coordination/requests/(\d+)/offer)"', page)
    if not links:
        return
    path, _ = rnd.choice(links[:10])
    _, page, _ = browser.get(path, "GET /coordination/requests/<id>/offer")
    pause()
    # The first form that offers to a mediator: the suggested best time, or the list.
    for body in re.findall(rf'<form method="post" action="{path}"[^>]*>(.*?)</form>', page, re.S):
        mediators = re.findall(r'name="mediator_id" value="(\d+)"', body)
        if mediators:
            break
    else:
        return
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', body))
    if form.get("from_state") != "open":  # taken since the queue was read: not reassigned
        return
    form.setdefault("csrf_token", csrf(page))
    form["mediator_id"] = mediators[0]
    browser.post(path, form, "POST /coordination/requests/<id>/offer")


def mediator(browser: Browser, rnd: random.Random, days, pause) -> None:
    _, page, _ = browser.get("/agenda", "GET /agenda")
    pause()
    offers = re.findall(r'action="(/agenda/assignments/\d+/accept)"', page)
    if offers:
        browser.post(offers[0], {"csrf_token": csrf(page)},
                     "POST /agenda/assignments/<id>/accept")


def dashboard(browser: Browser, rnd: random.Random, days, pause) -> None:
    browser.get("/reporting/", "GET /reporting/")


SCENARIOS = {"teacher": teacher, "coordinator": coordinator, "mediator": mediator,
             "dashboard": dashboard}


def drive(port: int, kinds: list[str], accounts: dict, days: list[date], args,
          duration: float, hello: bool = False) -> tuple[Stats, float]:
    stats, logins = Stats(), Stats()
    barrier = threading.Barrier(len(kinds) + 1)
    started = time.monotonic()
    deadline = [0.0]

    def user(i: int, kind: str) -> None:
        rnd = random.Random(args.seed * 1000 + i)
        browser = Browser(port, stats, started)

        def pause():
            time.sleep(rnd.uniform(0, 2 * args.think))

        if not hello:
            # Logging in is not part of the measure (every user hashes a password at once).
            browser.stats = logins
            pool = accounts[kind]
            if not log_in(browser, pool[i % len(pool)]):
                logins.record(f"login as {kind}", 0, None, 0)
            browser.stats = stats
        barrier.wait()
        time.sleep(rnd.uniform(0, 2 * args.think))  # do not all start on the same tick
        while time.monotonic() < deadline[0]:
            if hello:
                browser.get("/hello", "GET /hello")
            else:
                SCENARIOS[kind](browser, rnd, days, pause)
            pause()

    threads = [threading.Thread(target=user, args=(i, kind), daemon=True)
               for i, kind in enumerate(kinds)]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.monotonic()
    deadline[0] = began + duration
    stats.started_at = began - started
    if args.cut_db_at is not None and not hello:
        cutter = threading.Timer(args.cut_db_at, cut_connections, args=(args.database, stats))
        cutter.start()
    for thread in threads:
        thread.join(timeout=duration + 60)
    if logins.errors:
        print(f"  LOGIN FAILED for {sum(logins.errors.values())} users", flush=True)
    return stats, time.monotonic() - began


def cut_connections(url: str, stats: Stats) -> None:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.connect() as conn:
        count = len(conn.execute(sa.text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")).all())
    engine.dispose()
    stats.cut = (time.monotonic(), count)
    print(f"  cut {count} database connections", flush=True)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))]


def report(title: str, stats: Stats, seconds: float) -> None:
    print(f"\n{title}")
    header = (f"{'page':<44}{'requests':>9}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
              f"{'errors':>8}{'races':>7}")
    print(header)
    print("-" * len(header))
    total = errors = 0
    for label in sorted(stats.latencies):
        values = [v * 1000 for v in stats.latencies[label]]
        total += len(values)
        errors += stats.errors[label]
        print(f"{label:<44}{len(values):>9}{statistics.median(values):>8.0f}"
              f"{percentile(values, 95):>8.0f}{percentile(values, 99):>8.0f}"
              f"{stats.errors[label]:>8}{stats.races[label] or '':>7}")
    print(f"{total} requests in {seconds:.0f} s: {total / seconds:.1f} requests/s, "
          f"{errors} errors")
    for sample in stats.samples:
        print(f"  error: {sample}")


def main(argv=None) -> int:
    args = parse_args(argv)
    if sa.make_url(args.database).get_backend_name() != "postgresql":
        raise SystemExit("--database must be a PostgreSQL URL")
    print(f"building the demo data in {sa.make_url(args.database).database} ...", flush=True)
    began = time.perf_counter()
    prepare(args.database)
    accounts, days = accounts_and_days(args.database)
    print(f"built in {time.perf_counter() - began:.0f} s; accounts: "
          + ", ".join(f"{len(v)} {k}" for k, v in accounts.items())
          + f"; {len(days)} school days to book on", flush=True)
    rnd = random.Random(args.seed)
    kinds = rnd.choices([k for k, _ in MIX], [w for _, w in MIX], k=args.users)
    print(f"{args.users} users ({', '.join(f'{kinds.count(k)} {k}' for k, _ in MIX)}), "
          f"think time 0-{2 * args.think:g} s, gunicorn {args.workers} workers x "
          f"{args.threads} threads, {os.cpu_count()} CPUs", flush=True)

    print(f"before: {machine_speed()}", flush=True)
    env = service_env(args.database)
    server = start_gunicorn("wsgi:app", args.port, args, env)
    try:
        stats, seconds = drive(args.port, kinds, accounts, days, args, args.duration)
    finally:
        stop(server)
    report(f"service, {args.duration:g} s", stats, seconds)
    if stats.cut is not None:
        # Error times count from the start of the drive; the run began at started_at.
        cut = stats.started_at + args.cut_db_at
        before = sum(1 for t in stats.error_times if t < cut)
        after = sum(1 for t in stats.error_times if t > cut + 5)
        print(f"errors before the cut: {before}; in the 5 s after it: "
              f"{len(stats.error_times) - before - after}; later: {after}")

    hello = start_gunicorn("bench.hello:app", args.port + 1, args, env)
    try:
        stats, seconds = drive(args.port + 1, kinds, accounts, days, args,
                               args.hello_duration, hello=True)
    finally:
        stop(hello)
    report(f"bare Flask hello (the ceiling), {args.hello_duration:g} s", stats, seconds)
    print(f"after: {machine_speed()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
