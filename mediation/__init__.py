"""mediation: booking linguistic-cultural mediators for schools."""

import os
from pathlib import Path

from flask import Flask

from .config import DefaultConfig

#: Top-level folders that sit beside the package (see README, "Layout").
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    """Create the application.

    Configuration is layered: :class:`~mediation.config.DefaultConfig`, then
    ``instance/config.py``, then ``MEDIATION_*`` environment variables, then
    ``test_config`` (tests only).
    """
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    app.config.from_object(DefaultConfig)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("MEDIATION")
    if test_config is not None:
        app.config.from_mapping(test_config)

    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(
            app.instance_path, "mediation.sqlite"
        )
    app.config.setdefault("UPLOAD_FOLDER", os.path.join(app.instance_path, "uploads"))
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(PROJECT_ROOT / "translations")

    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)

    from .bounds import IdConverter, refuse_null_characters

    app.url_map.converters["int"] = IdConverter  # before any rule is added
    app.before_request(refuse_null_characters)
    configure_extensions(app)
    configure_blueprints(app)
    configure_templates(app)
    configure_errors(app)
    configure_cli(app)
    from .security import configure_security

    configure_security(app)
    return app


def configure_extensions(app: Flask) -> None:
    from . import database
    from .auth.session import configure_login
    from .extensions import babel, csrf, db, limiter, mail, migrate
    from .i18n import select_locale, select_timezone

    db.init_app(app)
    database.configure_engine_events()
    database.end_reads_with_commit(app, db)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    csrf.init_app(app)
    mail.init_app(app)
    limiter.init_app(app)
    configure_login(app)


def configure_blueprints(app: Flask) -> None:
    from .agenda.views import bp as agenda_bp
    from .auth.views import bp as auth_bp
    from .cases.views import bp as cases_bp
    from .coordination.views import bp as coordination_bp
    from .core.views import bp as core_bp
    from .family.views import bp as family_bp
    from .feeds.views import bp as feeds_bp
    from .mediators.views import bp as mediators_bp
    from .outbox.views import bp as outbox_bp
    from .privacy.views import bp as privacy_bp
    from .reporting.views import bp as reporting_bp
    from .requests.views import bp as requests_bp

    for blueprint in (core_bp, auth_bp, requests_bp, coordination_bp, agenda_bp,
                      mediators_bp, feeds_bp, outbox_bp, cases_bp, reporting_bp, privacy_bp,
                      family_bp):
        app.register_blueprint(blueprint)


def configure_templates(app: Flask) -> None:
    from .templating import register_template_helpers

    register_template_helpers(app)


def configure_errors(app: Flask) -> None:
    from .error_pages import register_error_handlers

    register_error_handlers(app)


def configure_cli(app: Flask) -> None:
    from .cli import register_cli

    register_cli(app)
