"""``flask outbox run``: the worker that sends the outbox through SMTP.

It polls for due messages and sends them one at a time (see :mod:`mediation.outbox.worker`);
several workers may run at once on PostgreSQL. SIGTERM or Ctrl-C stops it after the
message being sent; a second Ctrl-C stops it at once. Log lines (one per message) are
for the operator and stay in English.
"""

import signal
import threading

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from ..extensions import db
from ..models import OutboxState, utcnow
from . import worker

outbox_cli = AppGroup("outbox", help="Send the emails waiting in the outbox.")


def _echo(line: str, err: bool = False) -> None:
    click.echo(f"{utcnow():%Y-%m-%dT%H:%M:%SZ} {line}", err=err)


def _report(result: worker.Result) -> None:
    message = result.message
    what = f"{message.message_id} to {message.recipient_email} ({message.template})"
    if result.state == OutboxState.sent:
        retried = (f" (recorded after {result.record_tries} tries: the database was away)"
                   if result.record_tries > 1 else "")
        _echo(f"sent {what}{retried}")
    elif result.state == OutboxState.pending:
        _echo(f"failed {what}, attempt {message.attempts}, next at "
              f"{result.next_attempt_dt:%Y-%m-%dT%H:%M:%SZ}: {result.error}", err=True)
    else:
        _echo(f"dead {what} after {message.attempts} attempts: {result.error}", err=True)


def _on_signals(stop: threading.Event) -> dict:
    """Make SIGTERM and SIGINT ask the loop to stop; returns the handlers to restore."""
    if threading.current_thread() is not threading.main_thread():
        return {}

    def handler(signum, frame):
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl-C: do not wait for the current message
        stop.set()
        _echo(f"{signal.Signals(signum).name}: stopping after the current message", err=True)

    previous = {}
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous[signum] = signal.signal(signum, handler)
    return previous


@outbox_cli.command("run")
@click.option("--once", is_flag=True, help="Send what is due now, then exit.")
@click.option("--interval", type=click.FloatRange(min=0.1), default=None,
              help="Seconds between two polls (default: OUTBOX_POLL_SECONDS).")
def run_command(once: bool, interval: float | None):
    """Send the due emails through SMTP, polling until stopped (SIGTERM, Ctrl-C)."""
    config = current_app.config
    try:
        worker.check_settings()
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    interval = interval or float(config["OUTBOX_POLL_SECONDS"])
    stop = threading.Event()
    previous = _on_signals(stop)
    if not once:
        _echo(f"outbox worker started: SMTP {config['MAIL_SERVER']}:{config['MAIL_PORT']}, "
              f"polling every {interval:g} s, lease {worker.lease_seconds():g} s")
    try:
        while True:
            try:
                worker.drain(should_stop=stop.is_set, on_result=_report)
            except sa.exc.SQLAlchemyError as error:
                db.session.rollback()
                if once:
                    raise click.ClickException(f"database error: {error}") from error
                _echo(f"database error, retrying in {interval:g} s: {error}", err=True)
            if once or stop.is_set():
                break
            stop.wait(interval)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if not once:
        _echo("outbox worker stopped")
