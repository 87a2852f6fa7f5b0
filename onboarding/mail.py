"""The mail outbox: every message is stored first, then delivered by SMTP.

Storing first means nothing is lost while the mail server is down; delivery
is retried with a growing pause until it succeeds or ``MAX_ATTEMPTS`` is reached.

Links that open a draft never sit in the database as they are: the bodies hold a
placeholder per link (:func:`placeholder`), and the links themselves are sealed
(encrypted with a key derived from the app's secret key) in a column of their own
that is emptied once the mail is sent. Sent bodies are emptied after a day.
"""

import base64
import contextlib
import json
import logging
import re
import smtplib
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from markupsafe import escape

from .store import timestamp, utcnow, write

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
SMTP_TIMEOUT_S = 5  # each connect, read or write
# All the mail of one request together: the applicant waits that long at most for the mail
# server, however slowly it answers; what is not sent by then waits for `flask send-mail`.
SEND_DEADLINE_S = 3
LEASE = timedelta(minutes=5)
# A link works 24 hours: a message that could not be sent by then is given up.
GIVE_UP_AFTER = timedelta(hours=24)
KEEP_SENT_BODIES = timedelta(days=1)


class Seal:
    """Encrypts what is kept where it could be read: the links of a message for the time it waits in
    the outbox, a staff user's second-factor secret, a form kept in an applicant's session cookie."""

    def __init__(self, secret_key: str, purpose: bytes = b"aansluiten outbox links"):
        # ``purpose``: a key of its own for each use. The outbox's and the second factor's share the
        # first one, which what they sealed before needs.
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret_key.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def close(self, data: dict) -> str:
        return self._fernet.encrypt(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()).decode()

    def open(self, sealed: str | None) -> dict[str, str]:
        if not sealed:
            return {}
        try:
            return json.loads(self._fernet.decrypt(sealed.encode()))
        except InvalidToken:
            log.warning("outbox links sealed with another secret key cannot be opened")
            return {}


@dataclass(frozen=True)
class SmtpSettings:
    host: str | None
    port: int
    sender: str
    seal: Seal | None = None


def placeholder(name: str) -> str:
    """What a template writes where the link ``name`` goes."""
    return f"[[{name}]]"


@dataclass(frozen=True)
class Attachment:
    name: str
    content: bytes
    mimetype: str  # "text/calendar"


def enqueue(db, recipient: str, subject: str, text: str, html: str, draft_id: int | None = None,
            sealed: str | None = None, attachment: Attachment | None = None) -> int:
    now = timestamp()
    with write(db):
        cursor = db.conn.execute(
            "INSERT INTO outbox (draft_id, recipient, subject, body_text, body_html, sealed, created_at, "
            "next_attempt_at, attachment, attachment_name, attachment_type) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (draft_id, recipient, subject, text, html, sealed, now, now,
             *((attachment.content, attachment.name, attachment.mimetype) if attachment else (None, None, None))),
        )
    return cursor.lastrowid


def bodies(row, seal: Seal | None) -> tuple[str, str]:
    """The text and HTML body with the links filled in."""
    text, html = row["body_text"], row["body_html"]
    for name, link in (seal.open(row["sealed"]) if seal else {}).items():
        text = text.replace(placeholder(name), link)
        html = html.replace(placeholder(name), str(escape(link)))
    return text, html


def links(row, seal: Seal) -> list[str]:
    """The links of a message still waiting to be sent (the demo mailbox shows them)."""
    return list(seal.open(row["sealed"]).values())


# Control characters and the line and paragraph separators, with the white space around them.
_BREAKS = re.compile(r"\s*[\x00-\x1f\x7f-\x9f\u2028\u2029]+\s*")


def header(value: str) -> str:
    """``value`` on one line: a subject or a display name carries registry or applicant text
    (a company name), where a line break would start a header of its own (``email`` refuses
    it) and a NUL would go out as it is."""
    return _BREAKS.sub(" ", value).strip()


def _message(row, smtp: SmtpSettings) -> EmailMessage:
    text, html = bodies(row, smtp.seal)
    message = EmailMessage()
    message["From"] = header(smtp.sender)
    message["To"] = header(row["recipient"])
    message["Subject"] = header(row["subject"])
    message["Message-ID"] = make_msgid(domain=parseaddr(smtp.sender)[1].rpartition("@")[2] or None)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    if row["attachment"] is not None:
        maintype, _, subtype = row["attachment_type"].partition("/")
        message.add_attachment(bytes(row["attachment"]), maintype=maintype, subtype=subtype,
                               filename=row["attachment_name"])
    return message


class _Connection(smtplib.SMTP):
    """An SMTP connection cut at ``deadline`` (a ``time.monotonic()``), if there is one.

    ``SMTP_TIMEOUT_S`` bounds each read, so a server that sends a byte every few seconds would
    hold on without end. Shutting the socket down makes the blocked read or write fail.
    """

    def __init__(self, deadline: float | None):
        self.deadline = deadline
        self._watchdog = None
        timeout = SMTP_TIMEOUT_S if deadline is None else max(min(SMTP_TIMEOUT_S, deadline - time.monotonic()), 0.01)
        super().__init__(timeout=timeout)

    def _get_socket(self, host, port, timeout):
        # smtplib's hook for connect()'s socket (SMTP_SSL and LMTP use it): the watchdog starts
        # with the socket, before the greeting is read, so no moment is left uncovered.
        sock = super()._get_socket(host, port, timeout)
        if self.deadline is not None:
            self._watchdog = threading.Timer(self.deadline - time.monotonic(), _cut, (sock,))
            self._watchdog.daemon = True
            self._watchdog.start()
        return sock

    def close(self):
        if self._watchdog is not None:
            self._watchdog.cancel()
        super().close()


def _cut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # closed in the meantime
        sock.shutdown(socket.SHUT_RDWR)


def _send(message: EmailMessage, smtp: SmtpSettings, deadline: float | None) -> None:
    try:
        with _Connection(deadline) as client:
            client.connect(smtp.host, smtp.port)
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        # Cut by the watchdog, or a read's own timeout that ran out with the deadline.
        if deadline is not None and time.monotonic() >= deadline:
            raise TimeoutError("the mail server did not finish before the deadline") from error
        raise


def _backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(2 ** attempts, 240))


def _retry_later(db, row, error: Exception, now: datetime) -> None:
    with write(db):
        db.conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?",
            (str(error)[:500], timestamp(now + _backoff(row["attempts"] + 1)), row["id"]),
        )


def deliver_pending(db, smtp: SmtpSettings, now: datetime | None = None, limit: int = 100,
                    message_id: int | None = None, deadline: float | None = None) -> int:
    """Send what is due (or only ``message_id``); returns how many were sent.

    Without a host, nothing is sent. ``flask send-mail`` runs this for the retries. With a
    ``deadline`` (a ``time.monotonic()``), a connection still open then is cut and counts as a
    failed attempt, and no message is begun after it.
    """
    if not smtp.host:
        return 0
    now = now or utcnow()
    forget(db, now)
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
        if deadline is not None and time.monotonic() >= deadline:
            break  # the rest are sent by a later run, once their lease is over
        try:
            _send(_message(row, smtp), smtp, deadline)
        except (OSError, smtplib.SMTPException) as error:
            # The error text may name the recipient: it goes to the outbox row, not to the log.
            log.warning("outbox mail %s not delivered (%s, attempt %s)", row["id"], type(error).__name__,
                        row["attempts"] + 1)
            _retry_later(db, row, error, now)
            continue
        except Exception as error:
            # A message this code cannot make or send is a bug, which needs its traceback; it is
            # retried like any other (a fix may have come by then), and the rows after it are sent.
            log.exception("outbox mail %s could not be made or sent (attempt %s)", row["id"], row["attempts"] + 1)
            _retry_later(db, row, error, now)
            continue
        with write(db):
            db.conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, sent_at = ?, last_error = NULL, sealed = NULL WHERE id = ?",
                (timestamp(now), row["id"]),
            )
        sent += 1
    return sent


def forget(db, now: datetime | None = None) -> None:
    """Give up messages whose links have expired, and empty the bodies of sent ones:
    the outbox keeps who got what when, not the mail itself."""
    now = now or utcnow()
    with write(db):
        db.conn.execute(
            "UPDATE outbox SET sealed = NULL, attempts = ?, last_error = 'expired before it could be sent' "
            "WHERE sent_at IS NULL AND attempts < ? AND created_at < ?",
            (MAX_ATTEMPTS, MAX_ATTEMPTS, timestamp(now - GIVE_UP_AFTER)),
        )
        db.conn.execute(
            "UPDATE outbox SET body_text = '', body_html = '', sealed = NULL, attachment = NULL "
            "WHERE sent_at IS NOT NULL AND sent_at < ? AND body_text != ''",
            (timestamp(now - KEEP_SENT_BODIES),),
        )


def recent(db, limit: int = 50) -> list:
    return db.conn.execute("SELECT * FROM outbox ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
