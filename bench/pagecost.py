"""What one page costs the service, without the noise of a load run.

Loads each page of the load test's mix (bench/load.py) with Flask's test client, in one
process and one thread, on a PostgreSQL database holding the demo data, and prints per
page: the statements it runs, and the CPU time of the process per load (the median of
``--loads`` loads after two warm-up loads). CPU time is what 50 users compete for on this
machine; unlike latency under load it does not depend on what else the service is doing,
but it still moves with the machine's speed, printed before and after.

``--profile PAGE`` prints where the time of that page goes (cProfile, the top functions
by their own time and by cumulative time).

    .venv/bin/python bench/pagecost.py --database postgresql+psycopg://postgres@127.0.0.1:5432/benchload
    .venv/bin/python bench/pagecost.py --database ... --prepare --profile /reporting/

``--prepare`` EMPTIES the database and builds the demo data in it (as bench/load.py does).
"""

import argparse
import cProfile
import pstats
import re
import statistics
import sys
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import QueryCounter, machine_speed  # noqa: E402
from load import PASSWORD, csrf, prepare  # noqa: E402

#: (role, page): the GET pages of the load test's mix; <offer> and <request> are the first
#: open request's offer page and the teacher's newest request.
PAGES = (
    ("teacher", "/"),
    ("teacher", "/requests"),
    ("teacher", "/requests/new/family_meeting"),
    ("teacher", "<request>"),
    ("coordinator", "/coordination/requests?status=open"),
    ("coordinator", "<offer>"),
    ("coordinator", "/reporting/"),
    ("mediator", "/agenda"),
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="CPU time and statements per page.")
    parser.add_argument("--database", required=True, metavar="URL",
                        help="PostgreSQL URL holding the demo data (password of bench/load.py)")
    parser.add_argument("--prepare", action="store_true",
                        help="EMPTY the database and build the demo data first")
    parser.add_argument("--loads", type=int, default=30, help="loads per page (default 30)")
    parser.add_argument("--page", action="append", metavar="PATH",
                        help="only these pages (repeatable; as listed in the output)")
    parser.add_argument("--profile", metavar="PATH", help="profile this page")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.prepare:
        prepare(args.database)
    from mediation import create_app
    from mediation.extensions import db
    from mediation.models import Role, User

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database, "SECRET_KEY": "pagecost",
                      "RATELIMIT_ENABLED": False, "MAIL_BACKEND": "outbox"})
    counter = QueryCounter()
    print(machine_speed())
    with app.app_context():
        emails = {role: db.session.scalar(sa.select(User.email).where(
            User.role == role, User.active).order_by(User.id))
            for role in (Role.teacher, Role.coordinator, Role.mediator)}
        db.session.remove()
        sa.event.listen(db.engine, "before_cursor_execute", counter)
    clients = {}
    for role, email in emails.items():
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        response = client.post("/login", data={"csrf_token": csrf(page), "email": email,
                                               "password": PASSWORD})
        if response.status_code != 302:
            raise SystemExit(f"cannot log in as {email}")
        clients[role.name] = client
    print(f"{'page':<44}{'statements':>11}{'CPU ms':>9}{'min':>7}")
    for role, path in PAGES:
        client = clients[role]
        if path == "<offer>":
            queue = client.get("/coordination/requests?status=open").get_data(as_text=True)
            path = re.search(r'href="(/coordination/requests/\d+/offer)"', queue)[1]
        elif path == "<request>":
            mine = client.get("/requests").get_data(as_text=True)
            path = re.search(r'href="(/requests/\d+)"', mine)[1]
        if args.page and path not in args.page:
            continue
        for _ in range(2):
            assert client.get(path).status_code == 200, path
        times = []
        counter.count = 0
        for _ in range(args.loads):
            began = time.process_time()
            client.get(path)
            times.append(time.process_time() - began)
        statements = counter.count / args.loads
        print(f"{role + ' ' + path:<44}{statements:>11.0f}"
              f"{statistics.median(times) * 1000:>9.1f}{min(times) * 1000:>7.1f}")
        if args.profile == path:
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(args.loads):
                client.get(path)
            profile.disable()
            stats = pstats.Stats(profile)
            stats.sort_stats("tottime").print_stats(25)
            stats.sort_stats("cumulative").print_stats(40)
    print(machine_speed())
    return 0


if __name__ == "__main__":
    sys.exit(main())
