"""The email outbox: every email is queued here, in the transaction of the change.

Each message is rendered at queueing time in the recipient's language from
``templates/email/<name>.txt`` (with a ``subject`` block) and
``templates/email/<name>.html``, and written to ``outbox_messages``; a rolled-back change
sends nothing. Sending is done after commit: by the console backend in development
(printed to standard output, :func:`deliver_console`), by the outbox worker in production.

The package: this module (queueing, what the rest of the application uses), ``worker.py``
(claiming, sending and recording, with the guarantees of delivery), ``cli.py`` (``flask
outbox run``), ``operations.py`` (requeueing, from the outbox page), ``queries.py`` and
``views.py`` (the outbox page, ``/outbox/``).
"""

import sys
import uuid

import jinja2
import sqlalchemy as sa
from flask import current_app, g, render_template
from flask_babel import force_locale

from ..extensions import db
from ..models import OutboxMessage, OutboxState, User, utcnow


def recipient_locale(user: User | None) -> str:
    if user is not None and user.locale in current_app.config["LANGUAGES"]:
        return user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _message_id() -> str:
    domain = current_app.config["MAIL_DEFAULT_SENDER"].rpartition("@")[2].strip("> ")
    return f"<{uuid.uuid4().hex}@{domain or 'mediation.local'}>"


def queue_email(template: str, user: User, *, attachments: list[dict] | None = None,
                **context) -> OutboxMessage:
    """Render ``template`` for ``user`` in their language and add it to the outbox.

    ``attachments``: ``[{"filename", "content_type", "data" (base64 text)}]``.
    """
    locale = recipient_locale(user)
    context.setdefault("user", user)
    # Links in emails point at the public address, whoever triggered the mail
    # (a web request behind a proxy, or a command with no request at all).
    external = current_app.test_request_context(base_url=current_app.config["EXTERNAL_URL"])
    with external, force_locale(locale):
        subject, body_text = _render_text(f"email/{template}.txt", context)
        body_html = render_template(f"email/{template}.html", **context)
    message = OutboxMessage(
        message_id=_message_id(),
        template=template,
        recipient_email=user.email,
        recipient_id=user.id,
        locale=locale,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        attachments=attachments or [],
    )
    db.session.add(message)
    g.outbox_dirty = True
    return message


def text_environment(app) -> jinja2.Environment:
    """The app's templates without HTML escaping, for the text part of emails.

    A text template may import macros from an ``.html`` template (the words shared with
    the HTML part): compiled by the app's environment, those would escape what people
    typed (``l'orario`` as ``l&#39;orario``), and ``_()`` would escape its placeholders.
    This overlay shares the app's loader, filters and globals but compiles every template,
    whatever its name, with autoescaping off; it has its own cache, so that it never
    reuses a template the app compiled with escaping on.
    """
    env = app.extensions.get("mediation_text_env")
    if env is None:
        env = app.jinja_env.overlay(autoescape=False, cache_size=100)
        app.extensions["mediation_text_env"] = env
    return env


def _render_text(name: str, context: dict) -> tuple[str, str]:
    """The ``subject`` and ``body`` blocks of a text email template, unescaped."""
    template = text_environment(current_app).get_template(name)
    variables = dict(context)
    current_app.update_template_context(variables)
    ctx = template.new_context(variables)
    for _ in template.root_render_func(ctx):  # runs the template's imports
        pass
    subject = " ".join("".join(template.blocks["subject"](ctx)).split())
    body = "".join(template.blocks["body"](ctx)).strip() + "\n"
    return subject, body


def deliver_console(stream=None) -> int:
    """Print pending messages and mark them sent (development backend)."""
    stream = stream or sys.stdout
    messages = db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.state == OutboxState.pending)
        .order_by(OutboxMessage.id)
    ).all()
    for message in messages:
        print(
            f"\n----- email {message.message_id} -----\n"
            f"To: {message.recipient_email}\nSubject: {message.subject}\n\n"
            f"{message.body_text}\n----- end of email -----",
            file=stream,
            flush=True,
        )
        message.state = OutboxState.sent
        message.sent_dt = utcnow()
        message.attempts += 1
    db.session.commit()
    return len(messages)


def after_request_delivery(response):
    """In development, print the mails a request queued once it has committed."""
    if g.get("outbox_dirty") and current_app.config["MAIL_BACKEND"] == "console":
        deliver_console()
    return response
