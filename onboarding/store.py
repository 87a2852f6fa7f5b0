"""The SQLite store: connections, transactions and the versioned schema.

Every connection runs in driver autocommit mode (``isolation_level=None``) so
that transactions are explicit: a write starts with ``BEGIN IMMEDIATE`` and
takes the write lock up front. A deferred transaction that upgrades to a write
lock fails with "database is locked" under several server processes, whatever
the busy timeout.
"""

import contextlib
import fcntl
import json
import os
import sqlite3
import threading
import time
from datetime import datetime, timezone

import sqlite_utils

from .validators import searchable

# Seconds a write waits for the store, the writer lock and SQLite's lock together, before the
# store is ``Unavailable`` and a save answers 503 with what was typed. A write holds the lock for
# about 0.2 ms: a wait this long is a store held by another process, not a busy one. Short
# enough that a gunicorn sync worker answers well within its 30-second timeout even when one
# request meets the wait several times in turn (a save, then its mail), or a few requests queue
# at one worker. The default of AANSLUITEN_WRITE_TIMEOUT; it is also every statement's busy
# timeout.
WRITE_TIMEOUT = 5.0
# The writer lock is tried again after these pauses, doubling from the first to the longest:
# flock cannot wait with a time limit, and the pauses stay short beside a write's 0.2 ms.
FIRST_PAUSE = 0.0001
LONGEST_PAUSE = 0.002
# Commits of one connection between its checkpoints (``_checkpoint_now_and_then``): a write of
# a step is a few pages, so the WAL is copied well before SQLite's own 1,000 pages.
CHECKPOINT_EVERY = 50

migrations = sqlite_utils.Migrations("aansluiten")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def timestamp(moment: datetime | None = None) -> str:
    """ISO 8601 in UTC, sortable as text."""
    return (moment or utcnow()).astimezone(timezone.utc).isoformat(timespec="seconds")


def _create_private(path: str) -> None:
    """Create the database file readable by its owner only; SQLite gives the ``-wal``
    and ``-shm`` files the mode of the database file."""
    if path == ":memory:" or path.startswith("file:"):
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def connect(path: str, timeout: float = WRITE_TIMEOUT) -> sqlite_utils.Database:
    """A connection whose writes wait ``timeout`` seconds for the store at most (``write``)."""
    _create_private(path)
    conn = sqlite3.connect(path, isolation_level=None, timeout=timeout)  # SQLite's busy timeout
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA secure_delete = ON")
    conn.execute("PRAGMA synchronous = NORMAL")
    db = sqlite_utils.Database(conn)
    db._timeout = timeout
    return db


def _busy_timeout(db: sqlite_utils.Database, seconds: float) -> None:
    db.conn.execute(f"PRAGMA busy_timeout = {max(0, round(seconds * 1000))}")


def _timeout(db: sqlite_utils.Database) -> float:
    return getattr(db, "_timeout", WRITE_TIMEOUT)


_kept = threading.local()


def kept_connection(path: str, timeout: float = WRITE_TIMEOUT) -> sqlite_utils.Database:
    """One connection per worker thread and database path, opened on first use; its writes
    wait ``timeout`` seconds at most (the one asked for last).

    Opening a connection costs more than the queries of a request (the WAL and
    shm files are opened and mapped each time). Keyed by process too, so that a
    connection is never carried across a fork. A thread keeps one connection: a
    new path closes the old one.
    """
    key = (os.getpid(), path)
    kept = getattr(_kept, "connection", None)
    if kept is not None and kept[0] == key:
        db = kept[1]
        if db._timeout != timeout:
            db._timeout = timeout
            _busy_timeout(db, timeout)
        return db
    if kept is not None and kept[0][0] == key[0]:
        kept[1].close()
    db = connect(path, timeout)
    _kept.connection = (key, db)
    return db


def release(db: sqlite_utils.Database) -> None:
    """End of a request: a transaction left open by an error is rolled back."""
    if db.conn.in_transaction:
        db.conn.execute("ROLLBACK")


@contextlib.contextmanager
def write(db: sqlite_utils.Database):
    """One write transaction that holds the write lock from its first statement.

    Writers first queue on a lock file beside the database (``_writers``): SQLite's own wait
    for its lock sleeps 1, 2, 5, 10, 15 ... ms between tries, so under load a worker slept
    far longer than the write it waited for; the lock file is tried again within 2 ms.
    The wait for both locks together ends at one deadline, the connection's timeout
    (``WRITE_TIMEOUT``): then the store is ``Unavailable``, and nothing was written.

    Inside another ``write()`` of the same connection it is a savepoint of that transaction:
    what it wrote is undone if it raises, and the rest is committed (or not) with the outer
    write. So writes that belong together share one commit, and the writer lock is taken once.
    """
    depth = getattr(db, "_write_depth", 0)
    if depth:
        yield from _savepoint(db, depth)
        return
    deadline = time.monotonic() + _timeout(db)
    with _unavailable_as_such(), _writers(db, deadline) as waited:
        _begin(db, deadline if waited else None)
        db._write_depth = 1
        try:
            yield db
        except BaseException:
            if db.conn.in_transaction:  # an I/O error may have ended it already
                db.conn.execute("ROLLBACK")
            raise
        else:
            db.conn.execute("COMMIT")
        finally:
            db._write_depth = 0
    _checkpoint_now_and_then(db)


def _begin(db: sqlite_utils.Database, deadline: float | None) -> None:
    """``BEGIN IMMEDIATE``, waiting for SQLite's lock until ``deadline``; None when no time
    went to the writer lock, and the connection's busy timeout is what is left."""
    if deadline is None:
        db.conn.execute("BEGIN IMMEDIATE")
        return
    _busy_timeout(db, deadline - time.monotonic())
    try:
        db.conn.execute("BEGIN IMMEDIATE")
    finally:
        _busy_timeout(db, _timeout(db))


class Unavailable(Exception):
    """The store cannot take a write now: locked by another process past the write's deadline,
    read-only, out of disk, an I/O error. A fault of the machine, which passes: nothing of the
    write was stored, and the same write may be tried again later."""


# SQLite's primary result codes that name such a fault (a statement's own fault is none of them).
_FAULTS = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR,
           sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PROTOCOL}


def unavailable(error: BaseException) -> bool:
    """Whether ``error`` is the store failing (see ``Unavailable``) rather than a bug."""
    if isinstance(error, Unavailable):
        return True
    return isinstance(error, sqlite3.OperationalError) and (getattr(error, "sqlite_errorcode", 0) & 0xFF) in _FAULTS


@contextlib.contextmanager
def _unavailable_as_such():
    try:
        yield
    except sqlite3.OperationalError as error:
        if unavailable(error):
            raise Unavailable(str(error)) from error
        raise


def _checkpoint_now_and_then(db: sqlite_utils.Database) -> None:
    """Copy the WAL into the database file every ``CHECKPOINT_EVERY`` commits of a connection,
    once the writer lock is free again.

    SQLite's own automatic checkpoint runs inside the COMMIT that grows the WAL past 1,000
    pages: with its two fsyncs that commit took 8-15 ms instead of 0.06, and every writer
    queued behind it waited that long (three quarters of all the time spent committing). A
    passive checkpoint here waits for nobody and lets the others write meanwhile; kept
    ahead of the WAL's growth, the automatic one stays as a backstop that seldom fires.
    """
    db._commits = getattr(db, "_commits", 0) + 1
    if db._commits >= CHECKPOINT_EVERY:
        db._commits = 0
        db.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()


def _savepoint(db: sqlite_utils.Database, depth: int):
    name = f"write_{depth}"
    db.conn.execute(f"SAVEPOINT {name}")
    db._write_depth = depth + 1
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:  # an error SQLite answers with a rollback of its own leaves none
            db.conn.execute(f"ROLLBACK TO {name}")
            db.conn.execute(f"RELEASE {name}")
        raise
    else:
        db.conn.execute(f"RELEASE {name}")
    finally:
        db._write_depth = depth


@contextlib.contextmanager
def _writers(db: sqlite_utils.Database, deadline: float):
    """An exclusive lock on ``<database>-writer`` (made private, like the database), taken on
    a descriptor of this write's own, by ``deadline``: writers in other processes and other
    threads wait for it. Yields whether this write had to wait. SQLite's own lock still guards
    the data; this orders the writers. An in-memory database has no file to queue on."""
    path = _writer_path(db)
    if path is None:
        yield False
        return
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as error:  # a read-only or full disk
        raise Unavailable(str(error)) from error
    try:
        yield _lock(descriptor, deadline, path)
    finally:
        os.close(descriptor)  # and with it the lock


def _lock(descriptor: int, deadline: float, path: str) -> bool:
    """The writer lock on ``descriptor``, tried again after ``FIRST_PAUSE``, twice that, ...
    at most ``LONGEST_PAUSE`` apart until ``deadline``; whether it had to wait."""
    pause = FIRST_PAUSE
    waited = False
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return waited
        except BlockingIOError:
            pass
        left = deadline - time.monotonic()
        if left <= 0:
            raise Unavailable(f"the writer lock {path} was not free by this write's deadline")
        time.sleep(min(pause, left))
        pause = min(2 * pause, LONGEST_PAUSE)
        waited = True


def _writer_path(db: sqlite_utils.Database) -> str | None:
    path = getattr(db, "_writer_path", False)
    if path is False:
        file = next((row[2] for row in db.conn.execute("PRAGMA database_list") if row[1] == "main"), "")
        path = db._writer_path = f"{file}-writer" if file else None
    return path


def migrate(db: sqlite_utils.Database) -> None:
    """Bring the schema up to date; safe to run from several processes at once.

    A schema that is up to date is only read: every worker's first request migrates, and
    it then works while another process holds the write lock, or while the store takes no
    writes at all (a full disk, a read-only file), as far as reading goes.
    """
    wal = db.journal_mode == "wal"
    if wal and not migrations.pending(db):
        return
    if not wal:
        db.enable_wal()
    with write(db):
        migrations.apply(db)


def reset(db: sqlite_utils.Database) -> None:
    """Drop every table and build the schema afresh (demo-reset)."""
    with write(db):
        db.conn.execute("PRAGMA defer_foreign_keys = ON")
        for name in db.table_names():  # a full-text index first, which drops its own tables with it
            db.conn.execute(f'DROP TABLE IF EXISTS "{name}"')
    migrate(db)


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    # Plain DDL: sqlite-utils cannot express ON DELETE actions.
    for statement in _INITIAL_SCHEMA:
        db.conn.execute(statement)


@migrations()
def m002_token_for_a_draft(db: sqlite_utils.Database) -> None:
    # A link asked for from inside a draft moves that draft to the new address.
    db.conn.execute("ALTER TABLE email_tokens ADD COLUMN draft_id INTEGER REFERENCES drafts (id) ON DELETE CASCADE")


@migrations()
def m003_links_per_browser_and_moved_drafts(db: sqlite_utils.Database) -> None:
    # Which browser asked for a link (a hash of its random id): a request from another
    # browser neither voids that link nor counts against it.
    db.conn.execute("ALTER TABLE email_tokens ADD COLUMN requested_by TEXT")
    # The address a draft had before a link moved it: the next link page says so.
    db.conn.execute("ALTER TABLE drafts ADD COLUMN moved_from TEXT")
    # Links in mail bodies are sealed (encrypted) apart from the body, and dropped once sent.
    db.conn.execute("ALTER TABLE outbox ADD COLUMN sealed TEXT")


@migrations()
def m004_keep_only_what_a_step_needs(db: sqlite_utils.Database) -> None:
    # Officers' birth dates and first names are not kept: no step shows them.
    from .registry import company_snapshot

    rows = db.conn.execute("SELECT id, company_json FROM drafts WHERE company_json IS NOT NULL").fetchall()
    for row in rows:
        snapshot = company_snapshot(json.loads(row["company_json"]))
        db.conn.execute("UPDATE drafts SET company_json = ? WHERE id = ?",
                        (json.dumps(snapshot, ensure_ascii=False), row["id"]))


@migrations()
def m005_people_as_rows(db: sqlite_utils.Database) -> None:
    # Steps 4-7: people are rows of their own, tied to the draft (and contact persons to
    # one of its AGB codes), so that a row is read and written on its own.
    for statement in _PEOPLE_SCHEMA:
        db.conn.execute(statement)


@migrations()
def m006_services_confirmed(db: sqlite_utils.Database) -> None:
    # Step 8: when the applicant said the overview of services is right, and what they
    # said is missing or wrong (staff read it).
    db.conn.execute("ALTER TABLE drafts ADD COLUMN services_ok_at TEXT")
    db.conn.execute("ALTER TABLE drafts ADD COLUMN services_remark TEXT")



@migrations()
def m007_submission_identification_signing(db: sqlite_utils.Database) -> None:
    # Steps 9-10: the submitted application, its agreement, who identified how, the
    # visit, and what the (simulated) providers keep.
    for statement in _SUBMISSION_SCHEMA:
        db.conn.execute(statement)



@migrations()
def m008_back_office(db: sqlite_utils.Database) -> None:
    # Staff users with a second factor, what staff decide, and what the list searches on.
    for statement in _BACK_OFFICE_SCHEMA:
        db.conn.execute(statement)
    rows = db.conn.execute("SELECT id, company_json FROM drafts WHERE company_json IS NOT NULL").fetchall()
    for row in rows:
        db.conn.execute("UPDATE drafts SET company_name = ? WHERE id = ?",
                        (json.loads(row["company_json"]).get("naam"), row["id"]))


@migrations()
def m009_pending_uploads(db: sqlite_utils.Database) -> None:
    # Step 6's spreadsheet: a file read and planned, waiting for the applicant to confirm it
    # (one per draft, replaced by the next upload), kept here rather than in the session cookie.
    db.conn.execute("""
        CREATE TABLE pending_uploads (
            draft_id INTEGER PRIMARY KEY REFERENCES drafts (id) ON DELETE CASCADE,
            -- what the preview's form carries: single use; NULL once its valid rows were stored
            -- and only the rows left out remain to be shown
            token TEXT,
            -- JSON: the rows as read and the plan of what they change
            content TEXT NOT NULL,
            created_at TEXT NOT NULL
        )
    """)
    db.conn.execute("CREATE INDEX pending_uploads_created_at ON pending_uploads (created_at)")


@migrations()
def m010_long_lists_from_indexes(db: sqlite_utils.Database) -> None:
    # Step 6's table and the summary read a page of codes in their order (those without a
    # contact first) along an index instead of sorting every code; steps 8 and 9 group the
    # codes by zorgsoort along one; step 6 counts the rows filled from the main contact that
    # no longer match it along one.
    db.conn.execute("CREATE INDEX draft_agb_codes_order ON draft_agb_codes (draft_id, contacts > 0, position)")
    db.conn.execute("CREATE INDEX draft_agb_codes_zorgsoort ON draft_agb_codes (draft_id, zorgsoort, agb_code)")
    db.conn.execute("CREATE INDEX contact_persons_source ON contact_persons "
                    "(draft_id, source, initials, prefix, surname, email, phone)")


@migrations()
def m011_indexes_for_the_sweeps(db: sqlite_utils.Database) -> None:
    # Every rate-limit hit sweeps the windows that ended a day ago, and every link asked for
    # from inside a draft voids that draft's older links (and a deleted draft cascades to its
    # links): without these, each of them read the whole table, under the write lock.
    db.conn.execute("CREATE INDEX rate_limits_window_start ON rate_limits (window_start)")
    db.conn.execute("CREATE INDEX email_tokens_draft ON email_tokens (draft_id) WHERE draft_id IS NOT NULL")


@migrations()
def m012_agb_codes_digest(db: sqlite_utils.Database) -> None:
    # Step 2: a SHA-256 of the AGB codes as the registry described them at the last look-up
    # that stored them (drafts.save_company, their only writer): a look-up that finds them
    # unchanged compares one value instead of reading up to 1,000 rows under the write lock.
    db.conn.execute("ALTER TABLE drafts ADD COLUMN agb_codes_sha256 TEXT")


@migrations()
def m013_code_groups(db: sqlite_utils.Database) -> None:
    # Steps 8 and 9: the codes grouped by zorgsoort, stored with the codes (services.code_groups,
    # written by services.store_code_groups); the codes listed when there are at most 10.
    db.conn.execute("""
        CREATE TABLE draft_code_groups (
            draft_id INTEGER NOT NULL REFERENCES drafts (id) ON DELETE CASCADE,
            zorgsoort TEXT NOT NULL,
            count INTEGER NOT NULL,
            -- the codes, separated by spaces, when there are at most services.LISTED_CODES (10)
            codes TEXT,
            PRIMARY KEY (draft_id, zorgsoort)
        ) WITHOUT ROWID
    """)
    db.conn.execute(
        "INSERT INTO draft_code_groups (draft_id, zorgsoort, count, codes) "
        "SELECT draft_id, zorgsoort, count(*), CASE WHEN count(*) <= 10 THEN group_concat(agb_code, ' ') END "
        "FROM draft_agb_codes GROUP BY draft_id, zorgsoort")


_BACK_OFFICE_SCHEMA = [
    """
    CREATE TABLE staff_users (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE COLLATE NOCASE,
        password_hash TEXT NOT NULL,
        -- the TOTP secret, sealed (Fernet) with a key derived from the secret key
        totp_sealed TEXT,
        totp_confirmed_at TEXT,
        -- the last TOTP time step used: a code is accepted once
        totp_last_step INTEGER,
        disabled_at TEXT,
        created_at TEXT NOT NULL,
        -- moved on by a password reset or disabling: every session of the user ends
        session_epoch INTEGER NOT NULL DEFAULT 0
    )
    """,
    """
    CREATE TABLE staff_recovery_codes (
        staff_id INTEGER NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
        code_hash TEXT NOT NULL,
        used_at TEXT,
        PRIMARY KEY (staff_id, code_hash)
    )
    """,
    # What staff decided on an identification (a manual check settled, a visit recorded).
    "ALTER TABLE identifications ADD COLUMN decided_by TEXT",
    "ALTER TABLE identifications ADD COLUMN reason TEXT",
    # The list searches on these; the company name is kept beside the snapshot for that.
    "ALTER TABLE drafts ADD COLUMN company_name TEXT",
    "CREATE INDEX drafts_kvk ON drafts (kvk_number)",
    # A search on the start of a name reads the index, not every matching row's snapshot.
    "CREATE INDEX drafts_company_name ON drafts (company_name COLLATE NOCASE, updated_at)",
    "CREATE INDEX audit_log_at ON audit_log (at)",
]

_SUBMISSION_SCHEMA = [
    # status: draft -> submitted (frozen) -> completed; a reopened one is a draft again.
    "ALTER TABLE drafts ADD COLUMN reference TEXT",
    "CREATE UNIQUE INDEX drafts_reference ON drafts (reference)",
    "ALTER TABLE drafts ADD COLUMN submitted_at TEXT",
    "ALTER TABLE drafts ADD COLUMN completed_at TEXT",
    # Step 10: 'online' or 'appointment'.
    "ALTER TABLE drafts ADD COLUMN method TEXT",
    "CREATE INDEX drafts_status ON drafts (status, updated_at)",
    """
    CREATE TABLE agreements (
        draft_id INTEGER PRIMARY KEY REFERENCES drafts (id) ON DELETE CASCADE,
        pdf BLOB NOT NULL,
        -- of the PDF file, and of the content printed in it (the PDF cannot hold its own hash)
        sha256 TEXT NOT NULL,
        content_sha256 TEXT NOT NULL,
        created_at TEXT NOT NULL,
        dossier_id TEXT UNIQUE,
        signing_state TEXT NOT NULL DEFAULT 'none'
            CHECK (signing_state IN ('none', 'invited', 'signed', 'declined')),
        signing_url TEXT,
        signed_pdf BLOB,
        signed_at TEXT
    )
    """,
    """
    CREATE TABLE identifications (
        draft_id INTEGER NOT NULL REFERENCES drafts (id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('signatory', 'main_contact')),
        state TEXT NOT NULL CHECK (state IN ('identified', 'manual_check', 'rejected')),
        -- what the bank returned (JSON), kept for staff when it did not match
        claims TEXT,
        -- a manual check: the date staff answer by
        due_on TEXT,
        via TEXT NOT NULL CHECK (via IN ('idin', 'staff', 'visit')),
        at TEXT NOT NULL,
        PRIMARY KEY (draft_id, role)
    )
    """,
    "CREATE INDEX identifications_state ON identifications (state, due_on)",
    """
    CREATE TABLE identity_requests (
        state_hash TEXT PRIMARY KEY,
        draft_id INTEGER NOT NULL REFERENCES drafts (id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('signatory', 'main_contact')),
        nonce TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at TEXT
    )
    """,
    # A link mailed to one person of a submitted application (the main contact's own
    # identification, changing the visit): single-use; opening it gives that browser a
    # grant of its own, stored hashed like the token.
    """
    CREATE TABLE person_links (
        token_hash TEXT PRIMARY KEY,
        draft_id INTEGER NOT NULL REFERENCES drafts (id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('signatory', 'main_contact')),
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at TEXT,
        grant_hash TEXT UNIQUE
    )
    """,
    """
    CREATE TABLE appointments (
        id INTEGER PRIMARY KEY,
        draft_id INTEGER NOT NULL REFERENCES drafts (id) ON DELETE CASCADE,
        -- the visit's start, local time in the Netherlands, 'YYYY-MM-DDTHH:MM'
        slot TEXT NOT NULL,
        street TEXT NOT NULL,
        house_number TEXT NOT NULL,
        postcode TEXT NOT NULL,
        city TEXT NOT NULL,
        created_at TEXT NOT NULL,
        cancelled_at TEXT,
        -- recorded by staff (back office)
        outcome TEXT
    )
    """,
    # One visit per slot (until m021: as many as there are visitors) and one current visit per
    # application.
    "CREATE UNIQUE INDEX appointments_taken ON appointments (slot) WHERE cancelled_at IS NULL",
    "CREATE UNIQUE INDEX appointments_current ON appointments (draft_id) WHERE cancelled_at IS NULL",
    # Signing callbacks seen (Standard Webhooks' webhook-id): a repeated one changes nothing.
    """
    CREATE TABLE signing_events (
        webhook_id TEXT PRIMARY KEY,
        received_at TEXT NOT NULL,
        dossier_id TEXT,
        state TEXT
    )
    """,
    # The simulated providers (demo mode and tests) keep their own state here.
    """
    CREATE TABLE sim_idin_codes (
        code_hash TEXT PRIMARY KEY,
        claims TEXT NOT NULL,
        nonce TEXT NOT NULL,
        redirect_uri TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at TEXT
    )
    """,
    """
    CREATE TABLE sim_sign_dossiers (
        id TEXT PRIMARY KEY,
        reference TEXT NOT NULL,
        pdf BLOB NOT NULL,
        signer_name TEXT NOT NULL,
        return_url TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'invited' CHECK (state IN ('invited', 'signed', 'declined')),
        signed_pdf BLOB,
        created_at TEXT NOT NULL
    )
    """,
    "CREATE TABLE sim_keys (name TEXT PRIMARY KEY, pem BLOB NOT NULL)",
    # A mail may carry one file (the visit's .ics).
    "ALTER TABLE outbox ADD COLUMN attachment BLOB",
    "ALTER TABLE outbox ADD COLUMN attachment_name TEXT",
    "ALTER TABLE outbox ADD COLUMN attachment_type TEXT",
]

_PEOPLE_SCHEMA = [
    # A row's own version (saving one code's contacts never makes another row's open form
    # stale) and its number of contacts (rows without one first; the "done" rule of step 6).
    "ALTER TABLE draft_agb_codes ADD COLUMN version INTEGER NOT NULL DEFAULT 1",
    "ALTER TABLE draft_agb_codes ADD COLUMN contacts INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX draft_agb_codes_missing ON draft_agb_codes (draft_id, contacts, position)",
    # When the applicant went on from step 6 (every code with a contact) and from step 7
    # (optional: with or without administrators).
    "ALTER TABLE drafts ADD COLUMN contacts_done_at TEXT",
    "ALTER TABLE drafts ADD COLUMN ict_done_at TEXT",
    """
    CREATE TABLE persons (
        draft_id INTEGER NOT NULL REFERENCES drafts (id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('signatory', 'main_contact')),
        officer_id TEXT,
        initials TEXT NOT NULL,
        prefix TEXT NOT NULL DEFAULT '',
        surname TEXT NOT NULL,
        birth_date TEXT NOT NULL,
        email TEXT NOT NULL,
        mobile TEXT NOT NULL,
        employed INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (draft_id, role)
    )
    """,
    """
    CREATE TABLE contact_persons (
        draft_id INTEGER NOT NULL,
        agb_code TEXT NOT NULL,
        position INTEGER NOT NULL CHECK (position IN (1, 2)),
        initials TEXT NOT NULL,
        prefix TEXT NOT NULL DEFAULT '',
        surname TEXT NOT NULL,
        email TEXT NOT NULL,
        phone TEXT NOT NULL,
        -- registry: known at VECOZO; applicant: typed; main_contact: filled by the bulk action
        source TEXT NOT NULL CHECK (source IN ('registry', 'applicant', 'main_contact')),
        PRIMARY KEY (draft_id, agb_code, position),
        FOREIGN KEY (draft_id, agb_code) REFERENCES draft_agb_codes (draft_id, agb_code) ON DELETE CASCADE
    )
    """,
    """
    CREATE TABLE ict_admins (
        id INTEGER PRIMARY KEY,
        draft_id INTEGER NOT NULL REFERENCES drafts (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        email TEXT NOT NULL,
        phone TEXT NOT NULL
    )
    """,
    "CREATE INDEX ict_admins_draft ON ict_admins (draft_id, id)",
]


_INITIAL_SCHEMA = [
    """
    CREATE TABLE drafts (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        version INTEGER NOT NULL DEFAULT 1,
        status TEXT NOT NULL DEFAULT 'draft',
        email TEXT NOT NULL,
        email_verified_at TEXT,
        kvk_number TEXT,
        agb_code TEXT,
        company_json TEXT,
        looked_up_at TEXT,
        data_correct TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )
    """,
    "CREATE INDEX drafts_email ON drafts (email, status)",
    "CREATE INDEX drafts_updated_at ON drafts (updated_at)",
    """
    CREATE TABLE draft_agb_codes (
        draft_id INTEGER NOT NULL REFERENCES drafts (id) ON DELETE CASCADE,
        agb_code TEXT NOT NULL,
        position INTEGER NOT NULL,
        name TEXT NOT NULL,
        zorgsoort TEXT NOT NULL,
        party_type TEXT NOT NULL,
        PRIMARY KEY (draft_id, agb_code)
    )
    """,
    """
    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        draft_id INTEGER REFERENCES drafts (id) ON DELETE CASCADE,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        step INTEGER,
        action TEXT NOT NULL
    )
    """,
    "CREATE INDEX audit_log_draft ON audit_log (draft_id, id)",
    """
    CREATE TABLE email_tokens (
        id INTEGER PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        email TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at TEXT,
        voided_at TEXT
    )
    """,
    "CREATE INDEX email_tokens_email ON email_tokens (email)",
    """
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        draft_id INTEGER REFERENCES drafts (id) ON DELETE SET NULL,
        recipient TEXT NOT NULL,
        subject TEXT NOT NULL,
        body_text TEXT NOT NULL,
        body_html TEXT NOT NULL,
        created_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        sent_at TEXT,
        last_error TEXT
    )
    """,
    "CREATE INDEX outbox_pending ON outbox (sent_at, next_attempt_at)",
    """
    CREATE TABLE rate_limits (
        key TEXT NOT NULL,
        window_start TEXT NOT NULL,
        hits INTEGER NOT NULL,
        PRIMARY KEY (key, window_start)
    )
    """,
]


@migrations()
def m014_company_names_searchable(db: sqlite_utils.Database) -> None:
    # The back office finds a name whatever its case and accents ("ozturk" finds "Öztürk"):
    # SQLite's LIKE folds the case of ASCII letters only. validators.searchable makes it, and
    # drafts.save_company writes it beside the name.
    db.conn.execute("ALTER TABLE drafts ADD COLUMN company_name_searchable TEXT")
    _company_names_searchable_again(db)
    db.conn.execute("DROP INDEX drafts_company_name")
    # A search on the start of a name reads the index (LIKE's prefix needs NOCASE to use it).
    db.conn.execute("CREATE INDEX drafts_company_name_searchable ON drafts "
                    "(company_name_searchable COLLATE NOCASE, updated_at)")


@migrations()
def m015_apostrophes_searchable(db: sqlite_utils.Database) -> None:
    # validators.searchable makes every kind of apostrophe one.
    _company_names_searchable_again(db)


def _company_names_searchable_again(db: sqlite_utils.Database) -> None:
    """Every stored company name's ``searchable`` form made again (after it changed)."""
    rows = db.conn.execute("SELECT id, company_name FROM drafts WHERE company_name IS NOT NULL").fetchall()
    db.conn.executemany("UPDATE drafts SET company_name_searchable = ? WHERE id = ?",
                        [(searchable(row["company_name"]), row["id"]) for row in rows])


@migrations()
def m016_visit_series(db: sqlite_utils.Database) -> None:
    # A visit's calendar event: a change continues the series of the visit it replaced (one
    # UID, the SEQUENCE one higher), so that calendars replace the event. A visit booked
    # before keeps the UID and sequence it was mailed with (its id; the application's count).
    db.conn.execute("ALTER TABLE appointments ADD COLUMN series INTEGER")
    db.conn.execute("ALTER TABLE appointments ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0")
    db.conn.execute("UPDATE appointments SET series = id, sequence = (SELECT count(*) FROM appointments AS earlier "
                    "WHERE earlier.draft_id = appointments.draft_id AND earlier.id <= appointments.id)")


@migrations()
def m017_company_name_words(db: sqlite_utils.Database) -> None:
    # The back office finds a name by the start of any of its words, in any order ("zuiderhout"
    # finds "Maatschap Huisartsen Zuiderhout"): a full-text index of the searchable name, whose
    # every word start of 2 and 3 letters is indexed too, kept up to date by the drafts' triggers.
    db.conn.execute("CREATE VIRTUAL TABLE drafts_name_words USING fts5(company_name_searchable, content='drafts', "
                    "content_rowid='id', prefix='2 3')")
    db.conn.execute("INSERT INTO drafts_name_words (drafts_name_words) VALUES ('rebuild')")
    add = "INSERT INTO drafts_name_words (rowid, company_name_searchable) VALUES (new.id, new.company_name_searchable);"
    remove = ("INSERT INTO drafts_name_words (drafts_name_words, rowid, company_name_searchable) "
              "VALUES ('delete', old.id, old.company_name_searchable);")
    db.conn.execute(f"CREATE TRIGGER drafts_name_words_insert AFTER INSERT ON drafts BEGIN {add} END")
    db.conn.execute(f"CREATE TRIGGER drafts_name_words_delete AFTER DELETE ON drafts BEGIN {remove} END")
    db.conn.execute(f"CREATE TRIGGER drafts_name_words_update AFTER UPDATE OF company_name_searchable ON drafts "
                    f"BEGIN {remove} {add} END")
    # The search on the start of the whole name is gone with it, and so is the index it read.
    db.conn.execute("DROP INDEX drafts_company_name_searchable")


@migrations()
def m018_person_links_ended(db: sqlite_utils.Database) -> None:
    # A reopened application ends its person links and the grants opened with them, and a person's
    # page says why, rather than "unknown link" or "used": the grant is kept, marked ended. The links
    # a reopen ended before (their grant forgotten) are marked too: opened, they say so.
    db.conn.execute("ALTER TABLE person_links ADD COLUMN ended_at TEXT")
    db.conn.execute("UPDATE person_links SET ended_at = used_at WHERE grant_hash IS NULL AND used_at IS NOT NULL")


@migrations()
def m019_code_names_searchable(db: sqlite_utils.Database) -> None:
    # Step 6's filter finds a code's name whatever its case and accents ("dietisten" finds
    # "Diëtistenpraktijk"): SQLite's LIKE folds the case of ASCII letters only, and no accents.
    # drafts.save_company writes it beside the name.
    db.conn.execute("ALTER TABLE draft_agb_codes ADD COLUMN name_searchable TEXT")
    _code_names_searchable_again(db)


def _code_names_searchable_again(db: sqlite_utils.Database) -> None:
    """Every stored AGB code name's ``searchable`` form made again (after it changed)."""
    rows = db.conn.execute("SELECT rowid, name FROM draft_agb_codes").fetchall()
    db.conn.executemany("UPDATE draft_agb_codes SET name_searchable = ? WHERE rowid = ?",
                        [(searchable(row["name"]), row["rowid"]) for row in rows])


@migrations()
def m020_own_letters_searchable(db: sqlite_utils.Database) -> None:
    # validators.searchable takes "ı", "ø", "ł" and the like as the letters typed without them: the
    # names' searchable forms made again (the back office's full-text index follows by its trigger).
    _company_names_searchable_again(db)
    _code_names_searchable_again(db)


@migrations()
def m021_visits_per_slot(db: sqlite_utils.Database) -> None:
    # A slot takes as many visits as there are employees visiting (appointments.book counts them
    # under the writer lock): no longer one per slot for the whole country.
    db.conn.execute("DROP INDEX appointments_taken")
    db.conn.execute("CREATE INDEX appointments_slot ON appointments (slot) WHERE cancelled_at IS NULL")
