"""Default configuration; ``instance/config.py`` and ``MEDIATION_*`` variables override it."""

from datetime import timedelta


class DefaultConfig:
    # Overridden in every real deployment (instance/config.py or MEDIATION_SECRET_KEY).
    SECRET_KEY = "dev-only-change-me"
    SQLALCHEMY_DATABASE_URI = None  # None means SQLite in the instance folder.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}

    BABEL_DEFAULT_LOCALE = "it"
    BABEL_DEFAULT_TIMEZONE = "Europe/Rome"
    LANGUAGES = ("it", "en")

    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"

    # Lifetime of emailed links, in seconds.
    PASSWORD_RESET_MAX_AGE = 2 * 60 * 60
    INVITATION_MAX_AGE = 7 * 24 * 60 * 60

    # "console" prints queued emails in development; "smtp" is for the outbox worker.
    MAIL_BACKEND = "console"
    MAIL_DEFAULT_SENDER = "Lab'Impact mediazione <noreply@mediazione.example.org>"
    # Absolute base for links in emails, e.g. https://mediazione.example.org
    EXTERNAL_URL = "http://127.0.0.1:5000"

    # Matching (mediation/bookings/matching.py): minutes a mediator needs between two
    # appointments at different places, and overrides of the score weights, e.g.
    # {"continuity_case": 60, "recency": 5}.
    MATCHING_TRAVEL_BUFFER_MINUTES = 30
    MATCHING_WEIGHTS: dict = {}

    MAX_CONTENT_LENGTH = 20 * 1024 * 1024
    PER_PAGE = 25
