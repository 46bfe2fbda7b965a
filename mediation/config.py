"""Default configuration; ``instance/config.py`` and ``MEDIATION_*`` variables override it."""

from datetime import timedelta


class DefaultConfig:
    # Overridden in every real deployment (instance/config.py or MEDIATION_SECRET_KEY).
    SECRET_KEY = "dev-only-change-me"
    SQLALCHEMY_DATABASE_URI = None  # None means SQLite in the instance folder.
    # Connections are tested before use, so that the application recovers by itself when the
    # database server restarts (the request running at that moment gets a 503).
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}

    BABEL_DEFAULT_LOCALE = "it"
    BABEL_DEFAULT_TIMEZONE = "Europe/Rome"
    LANGUAGES = ("it", "en")

    # Server-side sessions (mediation/auth/session.py): a session ends after this many minutes
    # without a request, and at the latest this many hours after logging in. A session started
    # with "remember me" lasts REMEMBER_COOKIE_DURATION instead, and ends after
    # SESSION_REMEMBER_IDLE_DAYS without a request. "Last seen" is written at most once every
    # SESSION_TOUCH_SECONDS.
    SESSION_IDLE_MINUTES = 60
    SESSION_ABSOLUTE_HOURS = 12
    SESSION_REMEMBER_IDLE_DAYS = 7
    SESSION_TOUCH_SECONDS = 60
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # None: Secure cookies and HSTS exactly when EXTERNAL_URL is https (mediation/security.py).
    SESSION_COOKIE_SECURE = None
    REMEMBER_COOKIE_SECURE = None
    SECURITY_HSTS = None

    # Lifetime of emailed links, in seconds.
    PASSWORD_RESET_MAX_AGE = 2 * 60 * 60
    INVITATION_MAX_AGE = 7 * 24 * 60 * 60

    # "console" prints queued emails after each request in development; any other value
    # (e.g. "smtp") leaves them in the outbox for the worker, `flask outbox run`.
    MAIL_BACKEND = "console"
    MAIL_DEFAULT_SENDER = "Lab'Impact mediazione <noreply@mediazione.example.org>"
    # The SMTP server the outbox worker sends through (read by Flask-Mail).
    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    MAIL_USE_TLS = False  # STARTTLS after connecting, usually with port 587
    MAIL_USE_SSL = False  # TLS from the first byte, usually with port 465
    MAIL_USERNAME = None
    MAIL_PASSWORD = None  # set it in instance/config.py or MEDIATION_MAIL_PASSWORD, not here
    # Seconds the worker waits for the SMTP server: to connect, and for each answer.
    MAIL_TIMEOUT = 30
    # Flask-Mail would silently drop every mail when TESTING is on; the worker really sends.
    MAIL_SUPPRESS_SEND = False
    # Outbox worker: after a failed attempt a message waits OUTBOX_BACKOFF_SECONDS, doubled
    # after each further failure up to OUTBOX_BACKOFF_MAX; after OUTBOX_MAX_ATTEMPTS failed
    # attempts it is "dead" until someone requeues it from the outbox page.
    OUTBOX_MAX_ATTEMPTS = 8
    OUTBOX_BACKOFF_SECONDS = 60
    OUTBOX_BACKOFF_MAX = 3600
    # Seconds a message being sent stays hidden from other workers (and cannot be requeued);
    # if the worker dies meanwhile, another one sends it once this has passed. The SMTP
    # conversation of one message is cut off after half of it, and `flask outbox run`
    # refuses to start unless it is at least 2 x MAIL_TIMEOUT (one step may wait that long).
    # 120 s: a send takes well under a second, a killed worker's message waits two minutes.
    OUTBOX_LEASE_SECONDS = 120
    # Default seconds between two polls of `flask outbox run` (its --interval).
    OUTBOX_POLL_SECONDS = 10
    # `flask reminders send`: the reminder goes this many hours before the start; the request
    # to log a session is not sent for sessions that ended longer ago than this (days).
    REMINDER_LEAD_HOURS = 24
    LOG_REQUEST_MAX_AGE_DAYS = 14
    # PostgreSQL: the memory each sort or hash table of the dashboard and the exports may use
    # (their transaction only; the server's default, 4MB, makes the region's year of sessions
    # spill to temporary files). A query may use a few times this, per process.
    REPORTING_WORK_MEM = "32MB"
    # Absolute base for links in emails, e.g. https://mediazione.example.org
    EXTERNAL_URL = "http://127.0.0.1:5000"
    # Where a meeting in video mode takes place: this address followed by a room name
    # per appointment, unguessable (mediation/bookings/video.py). A self-hosted Jitsi Meet
    # in production; empty: no link is given.
    VIDEO_MEETING_BASE_URL = "https://meet.jit.si"

    # Matching (mediation/bookings/matching.py): minutes a mediator needs between two
    # appointments at different places, and overrides of the score weights, e.g.
    # {"continuity_case": 60, "recency": 5}.
    MATCHING_TRAVEL_BUFFER_MINUTES = 30
    MATCHING_WEIGHTS: dict = {}

    # Pupil cases (mediation/cases): a high-risk case with no session for this many weeks
    # is on the coordinator's list of cases at risk.
    CASES_AT_RISK_WEEKS = 6

    # Number of reverse proxies in front of the app (nginx: 1). Their X-Forwarded-For and
    # X-Forwarded-Proto are then trusted, so that login limits and the audit trail see the
    # visitor's address rather than the proxy's. 0: the headers are ignored.
    TRUSTED_PROXIES = 0

    # Login throttling (Flask-Limiter). Use Redis in production, e.g.
    # redis://127.0.0.1:6379/0, so that every gunicorn worker and app server shares the counts;
    # memory:// counts per process. Failed logins per account count only failures.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_LOGIN_PER_IP = "10 per minute"
    RATELIMIT_LOGIN_PER_ACCOUNT = "5 per 15 minutes"
    RATELIMIT_PASSWORD_RESET = "5 per 15 minutes"
    # The family's link of an invitation letter (/f/<token>), opened or answered, per
    # address: enough for a family, too few to guess tokens (which are 132 bits anyway).
    RATELIMIT_FAMILY_LINK = "30 per 10 minutes"
    RATELIMIT_HEADERS_ENABLED = True

    # Passwords (mediation/auth/passwords.py): at least this many characters, not one of the
    # common passwords shipped in mediation/auth/common-passwords.txt.gz, not the email or name.
    PASSWORD_MIN_LENGTH = 12

    # Uploads (mediation/documents.py): the largest file accepted, and the largest request
    # (a form with all its files); a larger request gets a translated 413 page.
    UPLOAD_MAX_FILE_BYTES = 10 * 1024 * 1024
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024
    PER_PAGE = 25
