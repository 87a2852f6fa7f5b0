"""Single-use e-mail tokens: random, expiring, stored only as a hash."""

import hashlib
import secrets
from datetime import datetime, timedelta

from .store import timestamp, utcnow, write

TOKEN_LIFETIME = timedelta(hours=24)


class TokenRejected(Exception):
    """The link is unknown, used, voided by a newer link, or expired."""

    def __init__(self, reason: str, email: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.email = email


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(db, email: str, draft_id: int | None = None, now: datetime | None = None) -> str:
    """A new token for ``email``; every older unused token of that address is voided.

    Given ``draft_id``, the token moves that draft to ``email`` when it is used.
    """
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    with write(db):
        # Older links of the address, and of the draft (a mistyped address must not keep a way in).
        db.conn.execute(
            "UPDATE email_tokens SET voided_at = ? WHERE (email = ? OR draft_id = ?) "
            "AND used_at IS NULL AND voided_at IS NULL",
            (timestamp(now), email, draft_id),
        )
        db.conn.execute(
            "INSERT INTO email_tokens (token_hash, email, draft_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
            (_hash(token), email, draft_id, timestamp(now), timestamp(now + TOKEN_LIFETIME)),
        )
    return token


def _usable(db, token: str, now: datetime | None):
    row = db.conn.execute(
        "SELECT email, draft_id, expires_at, used_at, voided_at FROM email_tokens WHERE token_hash = ?",
        (_hash(token),),
    ).fetchone()
    if row is None:
        raise TokenRejected("unknown")
    if row["used_at"]:
        raise TokenRejected("used", row["email"])
    if row["voided_at"]:
        raise TokenRejected("voided")
    if row["expires_at"] <= timestamp(now):
        raise TokenRejected("expired")
    return row


def check(db, token: str, now: datetime | None = None) -> str:
    """The address a still-usable token belongs to; raises TokenRejected otherwise."""
    return _usable(db, token, now)["email"]


def redeem(db, token: str, now: datetime | None = None) -> tuple[str, int | None]:
    """Use the token once: its address and the draft it was asked for from, if any.

    Must be called inside a write transaction, together with what the token
    unlocks, so that two clicks at once cannot both succeed.
    """
    row = _usable(db, token, now)
    db.conn.execute("UPDATE email_tokens SET used_at = ? WHERE token_hash = ?", (timestamp(now), _hash(token)))
    return row["email"], row["draft_id"]


def recently_issued(db, email: str, within: timedelta = timedelta(minutes=1), now: datetime | None = None) -> bool:
    """Whether a still-unused link went to ``email`` just now (a double click, not a new request)."""
    row = db.conn.execute(
        "SELECT 1 FROM email_tokens WHERE email = ? AND used_at IS NULL AND voided_at IS NULL AND created_at > ?",
        (email, timestamp((now or utcnow()) - within)),
    ).fetchone()
    return row is not None
