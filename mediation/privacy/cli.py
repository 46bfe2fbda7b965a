"""``flask privacy purge``: the retention purge, by hand or on a schedule."""

from datetime import date, timedelta

import click
from flask.cli import with_appcontext

from ..clock import ROME, day_start
from ..extensions import db
from ..models import utcnow
from .operations import purge
from .storage import delete_files


@click.group("privacy")
def privacy_cli():
    """Personal data: the retention purge."""


@privacy_cli.command("purge")
@click.option("--before", "before_day", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Anonymise the requests that ended before this day (YYYY-MM-DD).")
@click.option("--older-than", "older_than", type=click.IntRange(min=1),
              help="Or: that ended more than this many days ago (for a schedule).")
@click.option("--dry-run", is_flag=True, help="Count what would change; change nothing.")
@with_appcontext
def purge_command(before_day, older_than, dry_run):
    """Anonymise pupil cases, free text and documents of requests that ended long ago."""
    if (before_day is None) == (older_than is None):
        raise click.UsageError("Give exactly one of --before and --older-than.")
    today = utcnow().astimezone(ROME).date()
    day: date = (before_day.date() if before_day is not None
                 else today - timedelta(days=older_than))
    if day > today:
        raise click.BadParameter("the day must not be in the future", param_hint="--before")
    # Midnight in Italy at the start of that day.
    before = day_start(day)
    result = purge(before)
    counts = result.counts()
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
        counts["files"] = delete_files(result.files)
    click.echo(("dry run, nothing changed: " if dry_run else "")
               + f"ended before {day.isoformat()}: "
               + "; ".join(f"{name} {value}" for name, value in counts.items()))
