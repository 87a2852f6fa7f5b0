"""Sending mail from a request: render both parts, store in the outbox, try to deliver."""

from flask import current_app, render_template

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


def send_mail(template: str, recipient: str, subject: str, draft_id: int | None = None,
              links: dict[str, str] | None = None, attachment: mail.Attachment | None = None, **context) -> None:
    """``partials/mail/<template>.txt`` and ``.html`` make the two parts of one message.

    ``links`` (name -> URL) are written into the templates as placeholders and kept
    sealed beside the bodies until the message is sent: see ``onboarding/mail.py``.
    """
    links = links or {}
    context.update({name: mail.placeholder(name) for name in links}, subject=subject)
    text = render_template(f"mail/{template}.txt", **context)
    html = render_template(f"mail/{template}.html", **context)
    db = get_db()
    message_id = mail.enqueue(db, recipient, str(subject), text, html, draft_id=draft_id,
                              sealed=seal().close(links) if links else None, attachment=attachment)
    # Only this message: retries of others are `flask send-mail`'s work, not this request's.
    mail.deliver_pending(db, smtp_settings(), message_id=message_id)
