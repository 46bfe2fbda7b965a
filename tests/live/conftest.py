"""The live test layer: the service started as deployed, driven only over HTTP.

Run it on its own, so that the suite's conftest (which imports the application) is not
loaded::

    .venv/bin/pytest tests/live --confcutdir=tests/live -p no:cacheprovider

``MEDIATION_LIVE_BACKENDS`` picks the services (default ``sqlite,postgresql``):

- **sqlite**: the README's first command, word for word (install, migrate, demo data, ``flask
  run``), on a SQLite file of its own;
- **postgresql**: ``flask db upgrade`` and ``flask demo`` on a fresh database of the server
  in ``MEDIATION_LIVE_POSTGRES`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432``),
  named by ``MEDIATION_LIVE_DATABASE`` (default ``mediation_live``; runs side by side need
  names of their own), then gunicorn with the settings of docs/operations.md.

Each has a real SMTP server (aiosmtpd, its own process, writing a Maildir) and the outbox
worker (``flask outbox run``, its own process) with ``MEDIATION_MAIL_BACKEND=smtp``. The
service's processes read the time through ``clock/sitecustomize.py``, whose offset the
journey moves forward to log a session after its appointment; otherwise it is the real
time. Nothing here imports the application: the last check of the session says so.
"""

from __future__ import annotations

import mailbox
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
CLOCK_SHIM = Path(__file__).resolve().parent / "clock"
PG_SERVER = os.environ.get("MEDIATION_LIVE_POSTGRES",
                           "postgresql+psycopg://postgres@127.0.0.1:5432")
#: The database the PostgreSQL service gets (dropped and created afresh): give each
#: concurrent run its own name.
LIVE_DATABASE = os.environ.get("MEDIATION_LIVE_DATABASE", "mediation_live")
BACKENDS = [b for b in os.environ.get("MEDIATION_LIVE_BACKENDS", "sqlite,postgresql").split(",")
            if b]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


DEPLOYMENT_GUIDE = "docs/operations.md"


def readme_blocks(info: str = r"\w*", document: str = "README.md") -> list[str]:
    """The fenced blocks of ``document`` whose info string matches ``info``."""
    text = (ROOT / document).read_text(encoding="utf-8")
    return re.findall(rf"^```{info}\n(.*?)^```", text, re.M | re.S)


def readme_first_command() -> str:
    return readme_blocks("sh")[0].strip()


def readme_line(pattern: str) -> str:
    """The shell line matching ``pattern`` in the deployment guide (docs/operations.md)."""
    for block in readme_blocks(document=DEPLOYMENT_GUIDE):
        for line in block.splitlines():
            if re.search(pattern, line):
                return line.split("#")[0].strip()
    raise AssertionError(f"no line matching {pattern!r} in {DEPLOYMENT_GUIDE}'s shell blocks")


def wait_for_http(url: str, process: subprocess.Popen, log: Path, seconds: float = 600):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{url}: the process ended ({process.returncode}):\n"
                                 + log.read_text(errors="replace")[-4000:])
        try:
            urllib.request.urlopen(url, timeout=5).read()
            return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {seconds} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@dataclass
class Smtp:
    """aiosmtpd in its own process, every message kept in a Maildir."""

    port: int
    mbox: Path
    process: subprocess.Popen

    def messages(self) -> list:
        if not self.mbox.exists():
            return []
        return list(mailbox.Maildir(str(self.mbox), create=False))


@dataclass
class Clock:
    """The service's clock: an offset from the real time in seconds, in a file that every
    process of the service reads at most every 0.2 s (``clock/sitecustomize.py``)."""

    path: Path
    offset: float = 0.0

    def set_offset(self, seconds: float) -> None:
        self.offset = seconds
        self.path.write_text(f"{seconds:.3f}\n")
        time.sleep(0.6)

    def now(self) -> float:
        return time.time() + self.offset

    def reset(self) -> None:
        self.set_offset(0)


@dataclass
class Service:
    """One running service: its address, demo logins, logs, SMTP server and clock."""

    backend: str
    url: str
    logins: dict[str, list[str]]
    password: str
    smtp: Smtp
    clock: Clock
    logs: list[Path]
    database_url: str
    processes: list[subprocess.Popen] = field(default_factory=list)

    def login(self, role: str, index: int = 0) -> str:
        return self.logins[role][index]

    def server_errors(self) -> list[str]:
        """Tracebacks and 5xx lines in the service's logs."""
        found = []
        for log in self.logs:
            text = log.read_text(errors="replace") if log.exists() else ""
            for match in re.finditer(r"Traceback \(most recent call last\)", text):
                found.append(f"{log.name}: {text[match.start():match.start() + 3000]}")
        return found

    def sql(self, statement: str, *params) -> list[tuple]:
        """Rows of a read-only statement on the raw tables (placeholders: ``%s``)."""
        if self.backend == "postgresql":
            import psycopg

            url = self.database_url.replace("postgresql+psycopg://", "postgresql://")
            with psycopg.connect(url, autocommit=True) as conn:
                return list(conn.execute(statement, params).fetchall())
        import sqlite3

        path = self.database_url.removeprefix("sqlite:///")
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as conn:
            return list(conn.execute(statement.replace("%s", "?"), params).fetchall())

    def wait_for_outbox(self, after_id: int, seconds: float = 120) -> list[tuple]:
        """Wait until every message queued after ``after_id`` has been sent (or failed);
        return (id, message_id, recipient, subject, state)."""
        deadline = time.monotonic() + seconds
        while True:
            rows = self.sql(
                "SELECT id, message_id, recipient_email, subject, state FROM outbox_messages"
                " WHERE id > %s ORDER BY id", after_id)
            if all(row[4] in ("sent", "dead") for row in rows):
                return rows
            if time.monotonic() > deadline:
                raise AssertionError(f"the outbox was not sent within {seconds} s: {rows}")
            time.sleep(0.5)

    def last_outbox_id(self) -> int:
        return self.sql("SELECT COALESCE(MAX(id), 0) FROM outbox_messages")[0][0]


def parse_logins(output: str) -> tuple[str, dict[str, list[str]]]:
    password = re.search(r"Demo logins \(password: (\S+)\):", output)
    assert password, "`flask demo` did not print the demo logins:\n" + output[-3000:]
    logins: dict[str, list[str]] = {}
    for role, address in re.findall(
            r"^\s+(teacher|lead|mediator|coordinator|admin)\s+(\S+@\S+)", output, re.M):
        logins.setdefault(role, []).append(address)
    return password.group(1), logins


def service_env(tmp: Path, smtp: Smtp, clock: Clock, database_url: str, url: str) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MEDIATION_", "FLASK_"))}
    env.update({
        "MEDIATION_SQLALCHEMY_DATABASE_URI": database_url,
        "MEDIATION_SECRET_KEY": "live-tests-" + os.urandom(8).hex(),
        "MEDIATION_EXTERNAL_URL": url,
        "MEDIATION_MAIL_BACKEND": "smtp",
        "MEDIATION_MAIL_SERVER": "127.0.0.1",
        "MEDIATION_MAIL_PORT": str(smtp.port),
        "MEDIATION_MAIL_TIMEOUT": "10",
        "MEDIATION_UPLOAD_FOLDER": str(tmp / "uploads"),
        # The crawler and the races log in many times from one address (the limit is 10 a
        # minute per address): the throttle itself has its own tests.
        "MEDIATION_RATELIMIT_LOGIN_PER_IP": "100000 per minute",
        "MEDIATION_RATELIMIT_LOGIN_PER_ACCOUNT": "100000 per minute",
        "PYTHONUNBUFFERED": "1",
    })
    # The clock the journey moves (clock/sitecustomize.py), imported by every process.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(CLOCK_SHIM),
                                                      env.get("PYTHONPATH")]))
    env["MEDIATION_LIVE_CLOCK_FILE"] = str(clock.path)
    return env


def start(command: list[str] | str, env: dict, log: Path) -> subprocess.Popen:
    with open(log, "ab") as handle:  # the process has its own copy of the descriptor
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                shell=isinstance(command, str),
                                executable="/bin/bash" if isinstance(command, str) else None)


def flask(*args: str) -> list[str]:
    return [str(VENV_BIN / "flask"), "--app", "wsgi", *args]


def _start_smtp(tmp: Path) -> Smtp:
    port = free_port()
    mbox = tmp / "maildir"
    log = tmp / "smtp.log"
    process = start([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
                     "-c", "aiosmtpd.handlers.Mailbox", str(mbox)], dict(os.environ), log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                if s.recv(100).startswith(b"220"):
                    return Smtp(port, mbox, process)
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the SMTP server did not start: " + log.read_text(errors="replace"))


def _prepare_postgresql() -> str:
    import psycopg

    server = PG_SERVER.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(server + "/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {LIVE_DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {LIVE_DATABASE}")
    return f"{PG_SERVER}/{LIVE_DATABASE}"


def _launch(backend: str, tmp: Path) -> Service:
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    clock = Clock(tmp / "clock-offset")
    clock.path.write_text("0\n")
    smtp = _start_smtp(tmp)
    server_log, worker_log = tmp / "server.log", tmp / "worker.log"
    processes = [smtp.process]
    if backend == "postgresql":
        database_url = _prepare_postgresql()
        env = service_env(tmp, smtp, clock, database_url, url)
        # The deployment section's settings: login limits shared by the workers in Redis.
        env["MEDIATION_RATELIMIT_STORAGE_URI"] = os.environ.get(
            "MEDIATION_LIVE_REDIS", "redis://127.0.0.1:6379/2")
        for args in (("db", "upgrade"), ("demo",)):
            done = subprocess.run(flask(*args), cwd=ROOT, env=env, capture_output=True,
                                  text=True, timeout=600)
            assert done.returncode == 0, done.stdout + done.stderr
        demo_output = done.stdout
        gunicorn = shlex.split(readme_line(r"gunicorn .*wsgi:app"))
        gunicorn = [str(ROOT / gunicorn[0]) if gunicorn[0].startswith(".venv") else gunicorn[0],
                    *gunicorn[1:]]
        bind = gunicorn.index("--bind")
        gunicorn[bind + 1] = f"127.0.0.1:{port}"
        server = start(gunicorn, env, server_log)
    else:
        database_url = f"sqlite:///{tmp / 'live.sqlite'}"
        env = service_env(tmp, smtp, clock, database_url, url)
        env["FLASK_RUN_PORT"] = str(port)
        server = start(readme_first_command(), env, server_log)
    processes.append(server)
    try:
        wait_for_http(url + "/login", server, server_log)
        if backend == "sqlite":
            demo_output = server_log.read_text(errors="replace")
        password, logins = parse_logins(demo_output)
        worker_line = shlex.split(readme_line(r"outbox run"))
        assert "outbox" in worker_line and "run" in worker_line
        processes.append(start(flask("outbox", "run", "--interval", "1"), env, worker_log))
    except BaseException:
        for process in processes:
            stop(process)
        raise
    return Service(backend, url, logins, password, smtp, clock,
                   [server_log, worker_log], database_url, processes)


@pytest.fixture(scope="session", params=BACKENDS)
def service(request, tmp_path_factory):
    """The service on each backend, started once per session."""
    live = _launch(request.param, tmp_path_factory.mktemp(f"live-{request.param}"))
    yield live
    live.clock.reset()
    for process in reversed(live.processes):
        stop(process)
    errors = live.server_errors()
    assert not errors, "\n\n".join(errors)


@pytest.fixture(scope="session", autouse=True)
def the_application_is_never_imported():
    yield
    assert "mediation" not in sys.modules, "the live tests imported the application"


def pytest_terminal_summary(terminalreporter):
    from .test_crawl import TOTALS
    from .test_races import SUMMARIES

    for line in SUMMARIES:
        terminalreporter.write_line(f"live {line}")
    for backend, totals in TOTALS.items():
        counts = totals["counts"]
        kinds = ", ".join(f"{counts[k]} {k}" for k in ("csv", "xlsx", "ics", "pdf") if counts[k])
        terminalreporter.write_line(
            f"live crawl on {backend}: {len(totals['roles'])} roles x "
            f"{len(totals['languages'])} languages, {counts['pages']} pages, "
            f"{counts['downloads']} downloads ({kinds}), {counts['shapes']} page shapes")
