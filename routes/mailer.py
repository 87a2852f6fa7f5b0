"""Sending mail from a request: render both parts, store in the outbox, try to deliver."""

import time
from dataclasses import dataclass

from flask import current_app, g, render_template

from onboarding import mail

from .pages import get_db


def seal() -> mail.Seal:
    return current_app.extensions["aansluiten.seal"]


def smtp_settings() -> mail.SmtpSettings:
    config = current_app.config
    return mail.SmtpSettings(
        host=config.get("SMTP_HOST") or None,
        port=int(config.get("SMTP_PORT") or 25),
        sender=config["MAIL_FROM"],
        seal=seal(),
    )


@dataclass(frozen=True)
class Composed:
    """A message rendered and its links sealed, not stored yet."""

    recipient: str
    subject: str
    text: str
    html: str
    draft_id: int | None
    sealed: str | None
    attachment: mail.Attachment | None


def compose(template: str, recipient: str, subject: str, draft_id: int | None = None,
            links: dict[str, str] | None = None, attachment: mail.Attachment | None = None, **context) -> Composed:
    """``partials/mail/<template>.txt`` and ``.html`` make the two parts of one message.

    ``links`` (name -> URL) are written into the templates as placeholders and kept
    sealed beside the bodies until the message is sent: see ``onboarding/mail.py``.
    Nothing here touches the database, so a message can be made before the write
    transaction that stores it.
    """
    links = links or {}
    context.update({name: mail.placeholder(name) for name in links}, subject=subject)
    return Composed(
        recipient=recipient,
        subject=str(subject),
        text=render_template(f"mail/{template}.txt", **context),
        html=render_template(f"mail/{template}.html", **context),
        draft_id=draft_id,
        sealed=seal().close(links) if links else None,
        attachment=attachment,
    )


def queue(db, message: Composed) -> int:
    """Store ``message`` in the outbox (inside the caller's write, if there is one); its id."""
    return mail.enqueue(db, message.recipient, message.subject, message.text, message.html,
                        draft_id=message.draft_id, sealed=message.sealed, attachment=message.attachment)


def deliver(db, message_id: int) -> None:
    # Only this message: retries of others are `flask send-mail`'s work, not this request's.
    # The request's mails share one deadline, so that the applicant waits once, not per mail.
    if "mail_deadline" not in g:
        g.mail_deadline = time.monotonic() + mail.SEND_DEADLINE_S
    mail.deliver_pending(db, smtp_settings(), message_id=message_id, deadline=g.mail_deadline)


def send_mail(template: str, recipient: str, subject: str, draft_id: int | None = None,
              links: dict[str, str] | None = None, attachment: mail.Attachment | None = None, **context) -> None:
    """Render (see ``compose``), store in the outbox and try to deliver one message."""
    message = compose(template, recipient, subject, draft_id=draft_id, links=links, attachment=attachment,
                      **context)
    db = get_db()
    deliver(db, queue(db, message))
