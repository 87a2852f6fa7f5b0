import contextlib
import fcntl
import os
import sqlite3
import threading
import time

from datetime import timedelta

import pytest

from onboarding import services, store
from onboarding.ratelimit import Limit, RateLimited, hit


def test_migrations_run_once_and_again_do_nothing(tmp_path):
    path = str(tmp_path / "a.db")
    for _ in range(2):
        with store.connect(path) as db:
            store.migrate(db)
    with store.connect(path) as db:
        assert {"drafts", "draft_agb_codes", "audit_log", "email_tokens", "outbox", "rate_limits"} <= set(
            db.table_names())
        applied = [m.name for m in store.migrations.applied(db)]
        assert applied == [m.name for m in store.migrations._migrations]
        assert len(applied) == len(set(applied))


def test_the_code_groups_migration_groups_the_codes_of_every_draft_there_is(tmp_path):
    with store.connect(str(tmp_path / "a.db")) as db:
        db.enable_wal()
        with store.write(db):
            store.migrations.apply(db, stop_before="m013_code_groups")
            for draft_id, codes in ((1, ["01000001", "01000002", "04000001"]), (2, [f"03{n:06d}" for n in range(11)])):
                db.conn.execute("INSERT INTO drafts (id, key, version, status, email, created_at, updated_at) "
                                "VALUES (?, ?, 1, 'draft', 'a@b.example', 'x', 'x')", (draft_id, f"key{draft_id}"))
                db.conn.executemany(
                    "INSERT INTO draft_agb_codes (draft_id, agb_code, position, name, zorgsoort, party_type) "
                    "VALUES (?, ?, ?, 'X', ?, 'vestiging')",
                    [(draft_id, code, position, code[:2]) for position, code in enumerate(codes)])
        store.migrate(db)
        assert services.code_groups(db, 1) == [("01", 2, ("01000001", "01000002")), ("04", 1, ("04000001",))]
        assert services.code_groups(db, 2) == [("03", 11, ())]  # more than LISTED_CODES: counted


def test_visits_booked_before_the_series_migration_keep_the_calendar_event_they_were_mailed_with(tmp_path):
    # Mailed then with UID visit-<id> and SEQUENCE = how many visits the application had booked.
    with store.connect(str(tmp_path / "a.db")) as db:
        db.enable_wal()
        with store.write(db):
            store.migrations.apply(db, stop_before="m016_visit_series")
            db.conn.execute("INSERT INTO drafts (id, key, version, status, email, created_at, updated_at) "
                            "VALUES (1, 'key1', 1, 'submitted', 'a@b.example', 'x', 'x')")
            db.conn.executemany(
                "INSERT INTO appointments (id, draft_id, slot, street, house_number, postcode, city, created_at, "
                "cancelled_at) VALUES (?, 1, ?, 's', '1', '1234AB', 'c', 'x', ?)",
                [(1, "2026-12-22T09:00", "y"), (2, "2026-12-23T09:00", None)])
        store.migrate(db)
        rows = [tuple(row) for row in db.conn.execute("SELECT id, series, sequence FROM appointments ORDER BY id")]
        assert rows == [(1, 1, 1), (2, 2, 2)]


def test_every_connection_is_set_up_for_several_processes(db):
    assert db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.conn.execute("PRAGMA secure_delete").fetchone()[0] == 1
    assert db.conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000


def test_every_write_takes_the_lock_up_front(db):
    statements = []
    db.conn.set_trace_callback(statements.append)
    with store.write(db):
        db.conn.execute("INSERT INTO rate_limits VALUES ('x', 'y', 1)")
    db.conn.set_trace_callback(None)
    assert statements[0] == "BEGIN IMMEDIATE"


def test_a_failed_write_leaves_nothing(db):
    with pytest.raises(RuntimeError):
        with store.write(db):
            db.conn.execute("INSERT INTO rate_limits VALUES ('x', 'y', 1)")
            raise RuntimeError("boom")
    assert db.conn.execute("SELECT count(*) FROM rate_limits").fetchone()[0] == 0



def _rate_limit_keys(db) -> list[str]:
    return [row[0] for row in db.conn.execute("SELECT key FROM rate_limits ORDER BY key")]


def test_a_write_inside_a_write_commits_with_it_under_one_lock(db):
    statements = []
    db.conn.set_trace_callback(statements.append)
    with store.write(db):
        db.conn.execute("INSERT INTO rate_limits VALUES ('outer', 'w', 1)")
        with store.write(db):
            db.conn.execute("INSERT INTO rate_limits VALUES ('inner', 'w', 1)")
    db.conn.set_trace_callback(None)
    assert _rate_limit_keys(db) == ["inner", "outer"]
    assert [s for s in statements if s.split()[0] in ("BEGIN", "COMMIT", "ROLLBACK")] == ["BEGIN IMMEDIATE", "COMMIT"]
    assert not db.conn.in_transaction


def test_a_failed_write_inside_a_write_undoes_only_its_own_part(db):
    with store.write(db):
        db.conn.execute("INSERT INTO rate_limits VALUES ('outer', 'w', 1)")
        with pytest.raises(RuntimeError):
            with store.write(db):
                db.conn.execute("INSERT INTO rate_limits VALUES ('inner', 'w', 1)")
                raise RuntimeError("boom")
        db.conn.execute("INSERT INTO rate_limits VALUES ('after', 'w', 1)")
    assert _rate_limit_keys(db) == ["after", "outer"]


def test_a_failed_outer_write_undoes_the_writes_inside_it(db):
    with pytest.raises(RuntimeError):
        with store.write(db):
            with store.write(db):
                db.conn.execute("INSERT INTO rate_limits VALUES ('inner', 'w', 1)")
            raise RuntimeError("boom")
    assert _rate_limit_keys(db) == []
    with store.write(db):  # and the next write is a transaction of its own again
        db.conn.execute("INSERT INTO rate_limits VALUES ('next', 'w', 1)")
    assert not db.conn.in_transaction
    assert _rate_limit_keys(db) == ["next"]



def test_the_wal_is_checkpointed_every_so_many_commits_once_the_writer_lock_is_free(app, db):
    lock_free_at_checkpoint = []

    def trace(statement):
        if statement.startswith("PRAGMA wal_checkpoint"):
            lock = os.open(app.config["DATABASE"] + "-writer", os.O_RDWR)
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                lock_free_at_checkpoint.append(True)
            except BlockingIOError:
                lock_free_at_checkpoint.append(False)
            finally:
                os.close(lock)

    db._commits = 0
    db.conn.set_trace_callback(trace)
    for number in range(2 * store.CHECKPOINT_EVERY):
        with store.write(db):
            db.conn.execute("INSERT INTO rate_limits VALUES (?, 'w', 1)", (str(number),))
    db.conn.set_trace_callback(None)
    assert lock_free_at_checkpoint == [True, True]


@pytest.mark.parametrize("sweep", [
    "DELETE FROM rate_limits WHERE window_start < ?",
    "UPDATE email_tokens SET voided_at = ? WHERE draft_id = ? AND used_at IS NULL AND voided_at IS NULL",
])
def test_the_sweeps_inside_frequent_writes_read_an_index_not_the_table(db, sweep):
    plan = " ".join(row[3] for row in db.conn.execute("EXPLAIN QUERY PLAN " + sweep, (1,) * sweep.count("?")))
    assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, plan


def test_writes_wait_for_each_other_instead_of_failing(app, db):
    """BEGIN IMMEDIATE: a second writer waits for the lock rather than erroring out."""
    errors = []
    release = threading.Event()

    def second_writer():
        other = store.connect(app.config["DATABASE"])
        try:
            with store.write(other):
                other.conn.execute("SELECT count(*) FROM rate_limits").fetchone()
                other.conn.execute("INSERT INTO rate_limits VALUES ('b', 'w', 1)")
        except sqlite3.OperationalError as error:
            errors.append(error)
        finally:
            other.close()

    with store.write(db):
        db.conn.execute("SELECT count(*) FROM rate_limits").fetchone()
        thread = threading.Thread(target=second_writer)
        thread.start()
        release.wait(0.3)  # the second writer is now waiting for the lock (or has read, with BEGIN)
        db.conn.execute("INSERT INTO rate_limits VALUES ('a', 'w', 1)")
    thread.join(5)
    assert errors == []
    assert db.conn.execute("SELECT count(*) FROM rate_limits").fetchone()[0] == 2


def test_a_writer_queues_on_the_lock_file_until_the_write_before_it_ends(app, db):
    """Writers wait for each other on ``<database>-writer`` (woken at once), before SQLite's lock."""
    started, done = threading.Event(), threading.Event()

    def second_writer():
        other = store.connect(app.config["DATABASE"])
        try:
            started.set()
            with store.write(other):
                other.conn.execute("INSERT INTO rate_limits VALUES ('b', 'w', 1)")
            done.set()
        finally:
            other.close()

    with store.write(db):
        thread = threading.Thread(target=second_writer)
        thread.start()
        started.wait(5)
        assert not done.wait(0.2)  # queued behind this write
        lock = os.open(app.config["DATABASE"] + "-writer", os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(lock)
        db.conn.execute("INSERT INTO rate_limits VALUES ('a', 'w', 1)")
    thread.join(5)
    assert done.is_set()
    assert db.conn.execute("SELECT count(*) FROM rate_limits").fetchone()[0] == 2


def test_demo_reset_empties_everything(db):
    db.conn.execute("INSERT INTO rate_limits VALUES ('a', 'w', 1)")
    store.reset(db)
    assert db.conn.execute("SELECT count(*) FROM rate_limits").fetchone()[0] == 0
    assert "drafts" in db.table_names()


def test_rate_limits_count_across_connections(app, db):
    """Counters live in the database, so every server process sees the same count."""
    limit = Limit("test", hits=3, window=timedelta(hours=1))
    other = store.connect(app.config["DATABASE"])
    hit(db, [(limit, "x")])
    hit(other, [(limit, "x")])
    hit(db, [(limit, "x")])
    with pytest.raises(RateLimited) as refused:
        hit(other, [(limit, "x")])
    assert 1 <= refused.value.minutes <= 60
    hit(other, [(limit, "y")])
    other.close()


def test_a_refused_hit_is_not_counted_and_the_window_passes(db):
    limit = Limit("test", hits=1, window=timedelta(minutes=10))
    now = store.utcnow()
    hit(db, [(limit, "x")], now=now)
    with pytest.raises(RateLimited):
        hit(db, [(limit, "x")], now=now)
    hit(db, [(limit, "x")], now=now + timedelta(minutes=10))



def _hits(db, key: str) -> int:
    row = db.conn.execute("SELECT sum(hits) FROM rate_limits WHERE key = ?", (key,)).fetchone()
    return row[0] or 0


def test_a_hit_refused_by_one_limit_is_counted_by_none(db):
    roomy = Limit("roomy", hits=5, window=timedelta(hours=1))
    used_up = Limit("used-up", hits=1, window=timedelta(hours=1))
    hit(db, [(used_up, "x")])
    with pytest.raises(RateLimited) as refused:
        hit(db, [(roomy, "x"), (used_up, "x")])
    assert refused.value.limit == used_up
    assert _hits(db, "roomy:x") == 0 and _hits(db, "used-up:x") == 1


def test_the_write_a_hit_guards_shares_its_transaction(db):
    limit = Limit("test", hits=2, window=timedelta(hours=1))
    statements = []
    db.conn.set_trace_callback(statements.append)
    answer = hit(db, [(limit, "x")], then=lambda: db.conn.execute("INSERT INTO rate_limits VALUES ('saved', 'w', 1)")
                 .lastrowid)
    db.conn.set_trace_callback(None)
    assert answer is not None
    assert statements.count("BEGIN IMMEDIATE") == 1 and statements.count("COMMIT") == 1
    assert _hits(db, "test:x") == 1 and _hits(db, "saved") == 1


def test_a_failed_guarded_write_is_undone_but_its_hit_still_counts(db):
    limit = Limit("test", hits=2, window=timedelta(hours=1))

    def failing():
        db.conn.execute("INSERT INTO rate_limits VALUES ('saved', 'w', 1)")
        raise RuntimeError("stale")

    with pytest.raises(RuntimeError, match="stale"):
        hit(db, [(limit, "x")], then=failing)
    assert _hits(db, "test:x") == 1 and _hits(db, "saved") == 0
    assert not db.conn.in_transaction


def test_a_refused_hit_does_not_run_the_write_it_guards(db):
    limit = Limit("test", hits=1, window=timedelta(hours=1))
    hit(db, [(limit, "x")])
    ran = []
    with pytest.raises(RateLimited):
        hit(db, [(limit, "x")], then=lambda: ran.append(True))
    assert ran == [] and _hits(db, "test:x") == 1


def test_the_database_and_its_wal_shm_and_writer_lock_are_private(tmp_path):
    path = tmp_path / "private.db"
    with store.connect(str(path)) as db:
        store.migrate(db)
        db.conn.execute("INSERT INTO rate_limits VALUES ('x', 'y', 1)")
        for name in (path, tmp_path / "private.db-wal", tmp_path / "private.db-shm", tmp_path / "private.db-writer"):
            assert name.exists(), name
            assert name.stat().st_mode & 0o777 == 0o600, name


def test_a_worker_thread_keeps_one_connection_and_rolls_back_what_a_request_left_open(tmp_path):
    path = str(tmp_path / "kept.db")
    db = store.kept_connection(path)
    store.migrate(db)
    assert store.kept_connection(path) is db
    db.conn.execute("BEGIN IMMEDIATE")
    db.conn.execute("INSERT INTO rate_limits VALUES ('x', 'y', 1)")
    store.release(db)
    assert not db.conn.in_transaction
    assert db.conn.execute("SELECT count(*) FROM rate_limits").fetchone()[0] == 0

    seen = []
    thread = threading.Thread(target=lambda: seen.append(store.kept_connection(path)))
    thread.start()
    thread.join()
    assert seen[0] is not db, "each thread has its own connection"

    other = store.kept_connection(str(tmp_path / "other.db"))
    assert other is not db
    with pytest.raises(sqlite3.ProgrammingError):
        db.conn.execute("SELECT 1")  # a thread keeps one connection: the old one is closed


# -- a write's one deadline ------------------------------------------------------------------------
# Another process holds SQLite's lock (``BEGIN EXCLUSIVE``) or the writer lock (``-writer``). A
# write waits for both together no longer than its connection's timeout, then the store is
# Unavailable; a small timeout keeps each of these tests near a second.


@contextlib.contextmanager
def sqlite_lock_held(path: str):
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


@contextlib.contextmanager
def writer_lock_held(path: str, release_after: float = 5):
    """The writer lock taken by another writer (a descriptor of its own: flock locks belong to
    it), let go after ``release_after`` seconds at the latest, so that a writer that does not
    give up is not stuck for good."""
    lock = os.open(path + "-writer", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)
    letting_go = threading.Timer(release_after, fcntl.flock, (lock, fcntl.LOCK_UN))
    letting_go.start()
    try:
        yield
    finally:
        letting_go.cancel()
        os.close(lock)


def timed_write(db) -> tuple[type | None, float]:
    """What one write of a row raised (None when it was stored), and how long it took."""
    started = time.monotonic()
    try:
        with store.write(db):
            db.conn.execute("INSERT INTO rate_limits VALUES ('w', 'w', 1)")
    except Exception as error:  # noqa: BLE001 (what it raised is the answer)
        return type(error), time.monotonic() - started
    return None, time.monotonic() - started


@pytest.mark.parametrize("held", [sqlite_lock_held, writer_lock_held])
def test_a_write_gives_up_at_its_deadline_while_another_process_holds_the_lock(app, db, held):
    waiting = store.connect(app.config["DATABASE"], timeout=0.3)
    with held(app.config["DATABASE"]):
        raised, took = timed_write(waiting)
    assert raised is store.Unavailable
    assert 0.25 <= took < 0.8
    waiting.close()


def test_the_wait_for_the_writer_lock_and_for_sqlites_lock_share_one_deadline(app, db):
    """The writer lock comes free after 0.7 s, SQLite's lock never: the write gives up at 1 s,
    not 0.7 s and then another second."""
    path = app.config["DATABASE"]
    waiting = store.connect(path, timeout=1)
    with sqlite_lock_held(path), writer_lock_held(path, release_after=0.7):
        raised, took = timed_write(waiting)
    assert raised is store.Unavailable
    assert 0.95 <= took < 1.45
    assert waiting.conn.execute("PRAGMA busy_timeout").fetchone()[0] == 1000  # for the next write again
    assert timed_write(waiting)[0] is None
    waiting.close()


def test_the_deadline_is_the_connections_busy_timeout_too(tmp_path):
    with store.connect(str(tmp_path / "a.db"), timeout=1.5) as db:
        assert db.conn.execute("PRAGMA busy_timeout").fetchone()[0] == 1500


def test_an_up_to_date_schema_is_migrated_without_a_write(app, db):
    """A worker's first request migrates: with the schema up to date it only reads, so it works
    while another process writes, or while the database takes no writes at all."""
    other = store.connect(app.config["DATABASE"], timeout=0.3)
    statements = []
    other.conn.set_trace_callback(statements.append)
    with sqlite_lock_held(app.config["DATABASE"]), writer_lock_held(app.config["DATABASE"]):
        store.migrate(other)
        other.conn.execute("PRAGMA query_only = ON")
        store.migrate(other)
    assert not [statement for statement in statements if statement.startswith(("BEGIN", "PRAGMA journal_mode="))]
    other.close()
