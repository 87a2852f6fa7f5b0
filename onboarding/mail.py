"""The mail outbox: every message is stored first, then delivered by SMTP.

Storing first means nothing is lost while the mail server is down; delivery
is retried with a growing pause until it succeeds or ``MAX_ATTEMPTS`` is reached.
"""

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from .store import timestamp, utcnow, write

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
SMTP_TIMEOUT_S = 5
LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class SmtpSettings:
    host: str | None
    port: int
    sender: str


def enqueue(db, recipient: str, subject: str, text: str, html: str, draft_id: int | None = None) -> int:
    now = timestamp()
    with write(db):
        cursor = db.conn.execute(
            "INSERT INTO outbox (draft_id, recipient, subject, body_text, body_html, created_at, next_attempt_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (draft_id, recipient, subject, text, html, now, now),
        )
    return cursor.lastrowid


def _message(row, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row["recipient"]
    message["Subject"] = row["subject"]
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(row["body_text"])
    message.add_alternative(row["body_html"], subtype="html")
    return message


def _backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(2 ** attempts, 240))


def deliver_pending(db, smtp: SmtpSettings, now: datetime | None = None, limit: int = 100,
                    message_id: int | None = None) -> int:
    """Send what is due (or only ``message_id``); returns how many were sent.

    Without a host, nothing is sent. ``flask send-mail`` runs this for the retries.
    """
    if not smtp.host:
        return 0
    now = now or utcnow()
    only = "AND id = ?" if message_id is not None else ""
    # Lease the due messages first, so that two processes never send the same one.
    with write(db):
        due = db.conn.execute(
            f"SELECT * FROM outbox WHERE sent_at IS NULL AND attempts < ? AND next_attempt_at <= ? {only} "
            "ORDER BY id LIMIT ?",
            (MAX_ATTEMPTS, timestamp(now), *([message_id] if message_id is not None else []), limit),
        ).fetchall()
        db.conn.executemany(
            "UPDATE outbox SET next_attempt_at = ? WHERE id = ?",
            [(timestamp(now + LEASE), row["id"]) for row in due],
        )
    sent = 0
    for row in due:
        try:
            with smtplib.SMTP(smtp.host, smtp.port, timeout=SMTP_TIMEOUT_S) as client:
                client.send_message(_message(row, smtp.sender))
        except (OSError, smtplib.SMTPException) as error:
            # The error text may name the recipient: it goes to the outbox row, not to the log.
            log.warning("outbox mail %s not delivered (%s, attempt %s)", row["id"], type(error).__name__,
                        row["attempts"] + 1)
            with write(db):
                db.conn.execute(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?",
                    (str(error)[:500], timestamp(now + _backoff(row["attempts"] + 1)), row["id"]),
                )
            continue
        with write(db):
            db.conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, sent_at = ?, last_error = NULL WHERE id = ?",
                (timestamp(now), row["id"]),
            )
        sent += 1
    return sent


def recent(db, limit: int = 50) -> list:
    return db.conn.execute("SELECT * FROM outbox ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
