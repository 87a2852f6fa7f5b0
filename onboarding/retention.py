"""Retention: what the store forgets and when (``flask purge``, daily), and a
consistent copy of it (``flask backup``).

Deleted rows leave the file itself: every connection sets ``secure_delete``, which
zeroes what a delete frees, and the purge ends with a checkpoint that empties the WAL,
where the old pages would otherwise linger.
"""

import contextlib
import logging
import os
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta

from .drafts import audit
from .mail import MAX_ATTEMPTS
from .store import timestamp, utcnow, write

log = logging.getLogger(__name__)

ACTOR = "retention"
# A link is kept a day after it stopped working: opened again, it says "already used"
# rather than "unknown", and the grant a person link gave a browser lasts that day.
KEEP_SPENT_LINKS = timedelta(days=1)
# The longest rate-limit window in use is an hour; ``ratelimit.hit`` sweeps after a day too.
KEEP_RATE_LIMITS = timedelta(days=1)
# A spreadsheet read on step 6 and not confirmed (or the rows it left out): its people's details
# wait a day, then the applicant uploads the file again.
KEEP_PENDING_UPLOADS = timedelta(days=1)


@dataclass(frozen=True)
class Report:
    drafts: int             # drafts and submitted applications untouched for draft_days, with all tied to them
    completed: int          # completed applications older than completed_days (by completed_at)
    mail_bodies: int        # sent (or given-up) mails older than mail_days whose bodies and attachments were emptied
    mails: int              # mails tied to no application (links asked for before a draft existed), older than draft_days
    tokens: int             # e-mail tokens and person links used, voided or expired
    identity_requests: int  # identity requests and the simulated bank's codes, used or expired
    rate_limits: int        # rate-limit windows that ended
    uploads: int = 0        # step 6's spreadsheets read but not confirmed within a day


def purge(db, *, draft_days: int = 30, completed_days: int = 3650, mail_days: int = 7,
          now: datetime | None = None) -> Report:
    """Delete what is no longer needed, in one write transaction, then empty the WAL.

    A draft counts as touched by a save of its own (``updated_at``) and by anything the
    audit log records for it: an identification, a visit, a signature, a staff decision.
    """
    now = now or utcnow()
    untouched = timestamp(now - timedelta(days=draft_days))
    spent = timestamp(now - KEEP_SPENT_LINKS)
    with write(db):
        stale = db.conn.execute(
            "SELECT id, reference FROM drafts d WHERE status IN ('draft', 'submitted') AND updated_at < ? "
            "AND NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.draft_id = d.id AND a.at >= ?)",
            (untouched, untouched)).fetchall()
        _delete_drafts(db, stale, f"untouched for {draft_days} days", now)
        old = db.conn.execute(
            "SELECT id, reference FROM drafts WHERE status = 'completed' AND completed_at < ?",
            (timestamp(now - timedelta(days=completed_days)),)).fetchall()
        _delete_drafts(db, old, f"completed more than {completed_days} days ago", now)
        # The simulated provider's dossiers hold the agreement and the signer's name.
        db.conn.execute("DELETE FROM sim_sign_dossiers WHERE reference NOT IN "
                        "(SELECT reference FROM drafts WHERE reference IS NOT NULL)")
        mails = db.conn.execute("DELETE FROM outbox WHERE draft_id IS NULL AND created_at < ?",
                                (untouched,)).rowcount
        mail_cutoff = timestamp(now - timedelta(days=mail_days))
        mail_bodies = db.conn.execute(
            "UPDATE outbox SET body_text = '', body_html = '', sealed = NULL, attachment = NULL "
            "WHERE (sent_at < ? OR (sent_at IS NULL AND attempts >= ? AND created_at < ?)) "
            "AND (body_text != '' OR body_html != '' OR sealed IS NOT NULL OR attachment IS NOT NULL)",
            (mail_cutoff, MAX_ATTEMPTS, mail_cutoff)).rowcount
        links = db.conn.execute("DELETE FROM email_tokens WHERE used_at < ? OR voided_at < ? OR expires_at < ?",
                                (spent, spent, spent)).rowcount
        # Issuing a new person link expires the older ones: "voided" is in expires_at.
        links += db.conn.execute("DELETE FROM person_links WHERE used_at < ? OR expires_at < ?",
                                 (spent, spent)).rowcount
        requests = db.conn.execute("DELETE FROM identity_requests WHERE used_at < ? OR expires_at < ?",
                                   (spent, spent)).rowcount
        requests += db.conn.execute("DELETE FROM sim_idin_codes WHERE used_at < ? OR expires_at < ?",
                                    (spent, spent)).rowcount
        windows = db.conn.execute("DELETE FROM rate_limits WHERE window_start < ?",
                                  (timestamp(now - KEEP_RATE_LIMITS),)).rowcount
        uploads = db.conn.execute("DELETE FROM pending_uploads WHERE created_at < ?",
                                  (timestamp(now - KEEP_PENDING_UPLOADS),)).rowcount
    _empty_wal(db)
    return Report(drafts=len(stale), completed=len(old), mail_bodies=mail_bodies, mails=mails, tokens=links,
                  identity_requests=requests, rate_limits=windows, uploads=uploads)


def _delete_drafts(db, rows, why: str, now: datetime) -> None:
    ids = [(row["id"],) for row in rows]
    # Every table tied to a draft cascades, except the outbox (ON DELETE SET NULL, so that
    # a deleted application's mails stay countable): its names and addresses go too.
    db.conn.executemany("DELETE FROM outbox WHERE draft_id = ?", ids)
    db.conn.executemany("DELETE FROM drafts WHERE id = ?", ids)
    for row in rows:
        if row["reference"]:
            audit(db, None, None, f"application {row['reference']} deleted: {why}", actor=ACTOR, now=now)


def _empty_wal(db) -> None:
    """Copy the WAL into the file and cut it to nothing: the deleted rows' old pages go with it."""
    busy, _frames, _done = db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    if busy:
        log.warning("a reader kept the WAL busy: deleted data stay in it until the next checkpoint")


def backup(db, target: str) -> None:
    """A consistent copy of the database at ``target`` (readable by its owner only),
    made while the app goes on writing.

    In WAL mode one backup step reads one snapshot while writers carry on; a copy in
    several steps would start over after every write another process commits, and might
    never finish on a busy server. The copy is written beside the target and renamed over
    it at the end, so a failed backup never leaves half a file under the target's name.
    """
    live = _live_path(db)
    path = os.path.realpath(target)
    if live and (path in (live, f"{live}-wal", f"{live}-shm")
                 or os.path.exists(path) and os.path.samefile(path, live)):
        raise ValueError(f"{target} is the live database: a backup goes to a file of its own")
    fd, partial = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".partial",
                                   dir=os.path.dirname(path))  # mode 0600
    os.close(fd)
    try:
        copy = sqlite3.connect(partial)
        try:
            db.conn.backup(copy)
        finally:
            copy.close()
        with open(partial, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
        raise


def _live_path(db) -> str | None:
    for row in db.conn.execute("PRAGMA database_list"):
        if row[1] == "main":
            return os.path.realpath(row[2]) if row[2] else None
    return None
