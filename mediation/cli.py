"""Command-line commands: reference data, demo data, users, translations."""

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_babel import gettext as _

from .extensions import db
from .models import Role
from .outbox import deliver_console


def register_cli(app: Flask) -> None:
    app.cli.add_command(seed_command)
    app.cli.add_command(demo_command)
    app.cli.add_command(create_user_command)
    app.cli.add_command(translate)
    from .broadcasts import broadcasts_cli
    from .outbox.cli import outbox_cli
    from .privacy.cli import privacy_cli
    from .reminders import reminders_cli

    app.cli.add_command(reminders_cli)
    app.cli.add_command(broadcasts_cli)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(privacy_cli)


@click.command("seed")
def seed_command():
    """Add the missing reference data (languages, request types, Lab'Impact, calendar)."""
    from .seed import seed_reference_data

    created = seed_reference_data()
    db.session.commit()
    for kind, count in created.items():
        click.echo(f"{kind}: {count} created")


@click.command("demo")
@click.option("--password", default="demo", show_default=True, help="Password of every demo user.")
def demo_command(password: str):
    """Load realistic demo data (idempotent); print where to start, the demo's volumes
    and every demo login."""
    from .demo import START_HERE, demo_volumes, load_demo

    logins = load_demo(password=password)
    db.session.commit()
    click.echo(f"Start here (password: {password}):")
    for role, email, shows in START_HERE:
        click.echo(f"  {role:<12} {email:<45} {shows}")
    click.echo("")
    for line in demo_volumes().lines():
        click.echo(line)
    click.echo("")
    click.echo(f"Demo logins (password: {password}):")
    for role, email, description in logins:
        click.echo(f"  {role:<12} {email:<45} {description}")


@click.command("create-user")
@click.option("--email", required=True)
@click.option("--name", "display_name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--school", "school_code", help="Codice meccanografico (teacher, lead).")
@click.option("--ambito", "ambito_code", help="Ambito code (coordinator, mediator).")
@click.option("--password", help="Set a password instead of emailing an invitation.")
@click.option("--locale", type=click.Choice(["it", "en"]))
def create_user_command(email, display_name, role, school_code, ambito_code, password, locale):
    """Create an account; without --password an invitation is emailed."""
    import sqlalchemy as sa

    from .auth.operations import create_user
    from .errors import DomainError
    from .models import Ambito, School

    school_id = ambito_id = None
    if school_code:
        school_id = db.session.scalar(sa.select(School.id).where(School.code == school_code))
        if school_id is None:
            raise click.BadParameter(
                _("No school has the code %(code)s.", code=school_code), param_hint="--school"
            )
    if ambito_code:
        ambito_id = db.session.scalar(sa.select(Ambito.id).where(Ambito.code == ambito_code))
        if ambito_id is None:
            raise click.BadParameter(
                _("No Ambito has the code %(code)s.", code=ambito_code), param_hint="--ambito"
            )
    try:
        user = create_user(
            email, display_name, Role(role), None, school_id=school_id, ambito_id=ambito_id,
            password=password, locale=locale,
        )
        db.session.commit()
    except DomainError as error:
        raise click.ClickException(str(error.message)) from error
    except Exception as error:  # the scope check constraint names the problem
        db.session.rollback()
        raise click.ClickException(
            _(
                "Could not create the user: check that the scope fits the role"
                " (teachers and leads need --school, coordinators need --ambito)."
            )
        ) from error
    if current_app.config["MAIL_BACKEND"] == "console":
        deliver_console()
    click.echo(_("Created %(email)s (%(role)s).", email=user.email, role=user.role.value))


translate = AppGroup("translate", help="Extract, update and compile the message catalogs.")


@translate.command("extract")
def translate_extract():
    """Write translations/messages.pot from the code and templates."""
    from . import translations

    click.echo(f"wrote {translations.extract()}")


@translate.command("update")
def translate_update():
    """Extract, then merge new strings into every catalog."""
    from . import translations

    translations.update()
    click.echo("catalogs updated; translate the new entries in translations/it")


@translate.command("compile")
def translate_compile():
    """Compile the catalogs to .mo files."""
    from . import translations

    translations.compile_catalogs()
