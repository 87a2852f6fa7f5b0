"""Retention (SPEC §3) and backups (SPEC §5): ``flask purge`` and ``flask backup``."""

import os
import stat
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from onboarding import mail, person_links, retention, store, tokens
from onboarding.identity import Claims, SimulatedIdin
from onboarding.ratelimit import Limit, hit

from .conftest import name_main_contact, sign

NOW = store.utcnow()


def ago(days: float) -> str:
    return store.timestamp(NOW - timedelta(days=days))


def add_draft(db, key: str, status: str = "draft", days: float = 0, reference: str | None = None) -> int:
    return db.conn.execute(
        "INSERT INTO drafts (key, email, status, reference, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
        (key, f"{key}@example.nl", status, reference, ago(days), ago(days))).lastrowid


def untouched_for(db, draft_id: int, days: float) -> None:
    """Nobody saved the draft, nor did anything the audit log records, for ``days``."""
    db.conn.execute("UPDATE drafts SET updated_at = ? WHERE id = ?", (ago(days), draft_id))
    db.conn.execute("UPDATE audit_log SET at = ? WHERE draft_id = ?", (ago(days), draft_id))


def plain(cursor) -> list[tuple]:
    return [tuple(row) for row in cursor]


def tables_with_a_draft(db) -> list[str]:
    return [name for name in db.table_names() if "draft_id" in db[name].columns_dict]


def rows_of(db, draft_id: int, reference: str) -> dict[str, int]:
    counts = {name: db.conn.execute(f"SELECT count(*) FROM {name} WHERE draft_id = ?", (draft_id,)).fetchone()[0]
              for name in tables_with_a_draft(db)}
    counts["drafts"] = db.conn.execute("SELECT count(*) FROM drafts WHERE id = ?", (draft_id,)).fetchone()[0]
    counts["sim_sign_dossiers"] = db.conn.execute(
        "SELECT count(*) FROM sim_sign_dossiers WHERE reference = ?", (reference,)).fetchone()[0]
    return counts


def tie_everything(db, draft_id: int, reference: str) -> None:
    """What step 10 and the back office add to a submitted application."""
    stamp = store.timestamp()
    with store.write(db):
        db.conn.execute("INSERT INTO ict_admins (draft_id, name, email, phone) VALUES (?, 'ICT', 'i@x.example', '1')",
                        (draft_id,))
        db.conn.execute("INSERT INTO identifications (draft_id, role, state, via, at) "
                        "VALUES (?, 'signatory', 'identified', 'idin', ?)", (draft_id, stamp))
        db.conn.execute("INSERT INTO identity_requests (state_hash, draft_id, role, nonce, created_at, expires_at) "
                        "VALUES (?, ?, 'main_contact', 'n', ?, ?)", (f"s{draft_id}", draft_id, stamp, ago(-1)))
        db.conn.execute("INSERT INTO person_links (token_hash, draft_id, role, created_at, expires_at) "
                        "VALUES (?, ?, 'main_contact', ?, ?)", (f"p{draft_id}", draft_id, stamp, ago(-14)))
        db.conn.execute("INSERT INTO appointments (draft_id, slot, street, house_number, postcode, city, created_at) "
                        "VALUES (?, ?, 'Straat', '1', '1234AB', 'Utrecht', ?)",
                        (draft_id, f"2030-01-{draft_id:02d}T10:00", stamp))
        db.conn.execute("INSERT INTO email_tokens (token_hash, email, draft_id, created_at, expires_at) "
                        "VALUES (?, 'new@example.nl', ?, ?, ?)", (f"t{draft_id}", draft_id, stamp, ago(-1)))
        db.conn.execute("INSERT INTO sim_sign_dossiers (id, reference, pdf, signer_name, return_url, created_at) "
                        "VALUES (?, ?, x'25504446', 'M. van der Linden', '/stap/10', ?)", (f"d{draft_id}", reference, stamp))
        db.conn.execute("INSERT INTO pending_uploads (draft_id, token, content, created_at) "
                        "VALUES (?, 'u', '{\"rows\": [\"M. van der Linden\"]}', ?)", (draft_id, stamp))
    mail.enqueue(db, "j.jansen@delinde.example", "Uw bezoek", "Jansen", "<p>Jansen</p>", draft_id=draft_id,
                 attachment=mail.Attachment("bezoek.ics", b"BEGIN:VCALENDAR", "text/calendar"))


# -- the schema --------------------------------------------------------------------------------

def test_every_table_tied_to_a_draft_goes_with_it(db):
    # Tables hanging off a draft (directly or through another such table) must cascade; only
    # the outbox sets NULL, and purge deletes those rows itself.
    tied, found = {"drafts"}, True
    while found:
        found = False
        for name in db.table_names():
            for key in db.conn.execute(f"PRAGMA foreign_key_list({name})"):
                if key["table"] in tied and name not in tied:
                    expected = "SET NULL" if name == "outbox" else "CASCADE"
                    assert key["on_delete"] == expected, f"{name}.{key['from']}"
                    if expected == "CASCADE":
                        tied.add(name)
                        found = True
    assert set(tables_with_a_draft(db)) - {"outbox"} <= tied


# -- drafts and applications ---------------------------------------------------------------------

def test_a_draft_untouched_for_31_days_is_deleted_with_all_its_rows(submitted, db):
    draft = submitted.draft()
    tie_everything(db, draft["id"], draft["reference"])
    before = rows_of(db, draft["id"], draft["reference"])
    assert all(before.values()), before  # every table really holds a row of it
    untouched_for(db, draft["id"], 31)

    report = retention.purge(db)

    assert report.drafts == 1
    assert rows_of(db, draft["id"], draft["reference"]) == dict.fromkeys(before, 0)
    assert db.conn.execute("SELECT count(*) FROM outbox WHERE recipient = 'j.jansen@delinde.example'").fetchone()[0] == 0
    assert plain(db.conn.execute("SELECT actor, action FROM audit_log WHERE draft_id IS NULL")) == [
        ("retention", f"application {draft['reference']} deleted: untouched for 30 days")]


def test_a_draft_touched_29_days_ago_stays(with_main_contact, db):
    draft = with_main_contact.draft()
    untouched_for(db, draft["id"], 29)
    assert retention.purge(db).drafts == 0
    assert with_main_contact.draft()["id"] == draft["id"]
    assert db.conn.execute("SELECT count(*) FROM persons WHERE draft_id = ?", (draft["id"],)).fetchone()[0] == 2


def test_a_submitted_application_with_recent_news_in_its_audit_log_stays(submitted, db):
    # A visit booked, a bank's answer, a staff decision: none of them saves the draft itself.
    draft = submitted.draft()
    untouched_for(db, draft["id"], 40)
    db.conn.execute("INSERT INTO audit_log (draft_id, at, actor, step, action) VALUES (?, ?, 'staff', 10, 'x')",
                    (draft["id"], ago(2)))
    assert retention.purge(db).drafts == 0
    assert submitted.draft()["status"] == "submitted"


def test_a_submitted_application_untouched_for_31_days_is_deleted(submitted, db):
    untouched_for(db, submitted.draft()["id"], 31)
    assert retention.purge(db).drafts == 1
    assert submitted.draft() is None


@pytest.mark.parametrize("days, kept", [(3649, True), (3651, False)])
def test_a_completed_application_is_kept_until_completed_days(submitted, db, days, kept):
    draft = submitted.draft()
    untouched_for(db, draft["id"], days)
    db.conn.execute("UPDATE drafts SET status = 'completed', completed_at = ? WHERE id = ?", (ago(days), draft["id"]))

    report = retention.purge(db)

    assert (report.drafts, report.completed) == (0, 0 if kept else 1)
    assert (submitted.draft() is not None) == kept
    assert (db.conn.execute("SELECT count(*) FROM agreements").fetchone()[0] == 1) == kept


def test_a_shorter_completed_period_deletes_sooner(db):
    draft_id = add_draft(db, "done", status="completed", days=400, reference="VZ-2025-0001")
    db.conn.execute("UPDATE drafts SET completed_at = ? WHERE id = ?", (ago(400), draft_id))
    assert retention.purge(db).completed == 0
    assert retention.purge(db, completed_days=365).completed == 1


# -- mail, links, requests, windows --------------------------------------------------------------

def sent_mail(db, days: float, draft_id: int | None = None) -> int:
    message = mail.enqueue(db, "a@example.nl", "Onderwerp", "tekst", "<p>tekst</p>", draft_id=draft_id,
                           sealed="sealed-link", attachment=mail.Attachment("bezoek.ics", b"ICS", "text/calendar"))
    db.conn.execute("UPDATE outbox SET sent_at = ?, created_at = ? WHERE id = ?", (ago(days), ago(days), message))
    return message


def outbox_row(db, message: int):
    return db.conn.execute("SELECT * FROM outbox WHERE id = ?", (message,)).fetchone()


def test_sent_mail_bodies_and_attachments_older_than_mail_days_are_emptied(db):
    draft_id = add_draft(db, "a")
    old, recent = sent_mail(db, 8, draft_id), sent_mail(db, 6, draft_id)
    waiting = mail.enqueue(db, "b@example.nl", "Onderwerp", "tekst", "<p>tekst</p>", draft_id=draft_id)
    db.conn.execute("UPDATE outbox SET created_at = ? WHERE id = ?", (ago(8), waiting))

    assert retention.purge(db).mail_bodies == 1

    emptied = outbox_row(db, old)
    assert (emptied["body_text"], emptied["body_html"], emptied["sealed"], emptied["attachment"]) == ("", "", None, None)
    assert (emptied["recipient"], emptied["subject"]) == ("a@example.nl", "Onderwerp")  # who got what when
    assert outbox_row(db, recent)["body_text"] == "tekst"
    assert bytes(outbox_row(db, recent)["attachment"]) == b"ICS"
    assert outbox_row(db, waiting)["body_text"] == "tekst"
    assert retention.purge(db, mail_days=5).mail_bodies == 1


def test_a_given_up_mail_loses_its_body_too(db):
    message = mail.enqueue(db, "a@example.nl", "Onderwerp", "tekst", "<p>tekst</p>")
    db.conn.execute("UPDATE outbox SET attempts = ?, created_at = ? WHERE id = ?", (mail.MAX_ATTEMPTS, ago(8), message))
    assert retention.purge(db).mail_bodies == 1
    assert outbox_row(db, message)["body_html"] == ""


def test_mails_tied_to_no_application_go_after_draft_days(db):
    old, recent = sent_mail(db, 31), sent_mail(db, 29)
    assert retention.purge(db).mails == 1
    assert outbox_row(db, old) is None
    assert outbox_row(db, recent) is not None


def test_used_voided_and_expired_links_are_removed_and_valid_ones_kept(db):
    draft_id = add_draft(db, "a", status="submitted")
    expired = tokens.issue(db, "a@example.nl", requested_by="x", now=NOW - timedelta(days=3))
    voided = tokens.issue(db, "b@example.nl", requested_by="x", now=NOW - timedelta(days=1.6))
    # Voids the one before; expired half a day ago, it is kept a day like every spent link.
    tokens.issue(db, "b@example.nl", requested_by="x", now=NOW - timedelta(days=1.5))
    used = tokens.issue(db, "c@example.nl", now=NOW - timedelta(days=1.6))
    with store.write(db):
        tokens.redeem(db, used, now=NOW - timedelta(days=1.5))
    just_used = tokens.issue(db, "d@example.nl", now=NOW - timedelta(hours=1))
    with store.write(db):
        tokens.redeem(db, just_used, now=NOW - timedelta(hours=1))
    valid = tokens.issue(db, "e@example.nl")
    person_links.issue(db, draft_id, "signatory", now=NOW - timedelta(days=20))  # voided by the next one
    person_used = person_links.issue(db, draft_id, "signatory", now=NOW - timedelta(days=5))
    person_links.redeem(db, person_used, now=NOW - timedelta(days=4))
    person_valid = person_links.issue(db, draft_id, "main_contact", now=NOW - timedelta(hours=12))

    report = retention.purge(db)

    assert report.tokens == 3 + 2
    assert {row["email"] for row in db.conn.execute("SELECT email FROM email_tokens")} == {
        "b@example.nl", "d@example.nl", "e@example.nl"}
    assert tokens.check(db, valid).email == "e@example.nl"
    with pytest.raises(tokens.TokenRejected) as rejected:
        tokens.check(db, just_used)  # opened again: "already used", not "unknown"
    assert rejected.value.reason == "used"
    for gone in (expired, voided, used):
        with pytest.raises(tokens.TokenRejected, match="unknown"):
            tokens.check(db, gone)
    assert db.conn.execute("SELECT count(*) FROM person_links").fetchone()[0] == 1
    assert person_links.redeem(db, person_valid)[1].role == "main_contact"


def test_used_and_expired_identity_requests_and_bank_codes_are_removed(db):
    draft_id = add_draft(db, "a", status="submitted")
    for state, expires, used in [("expired", ago(2), None), ("used", ago(-1), ago(2)), ("open", ago(-1), None)]:
        db.conn.execute("INSERT INTO identity_requests (state_hash, draft_id, role, nonce, created_at, expires_at, "
                        "used_at) VALUES (?, ?, 'signatory', 'n', ?, ?, ?)", (state, draft_id, ago(3), expires, used))
    bank = SimulatedIdin(db, "/demo/idin/authorize")
    claims = Claims("M.", "van der", "Linden", "1971-03-09")
    bank.issue_code(claims, "n", "/r", now=NOW - timedelta(days=2))
    bank.issue_code(claims, "n", "/r")

    assert retention.purge(db).identity_requests == 3
    assert [row[0] for row in db.conn.execute("SELECT state_hash FROM identity_requests")] == ["open"]
    assert db.conn.execute("SELECT count(*) FROM sim_idin_codes").fetchone()[0] == 1


def test_ended_rate_limit_windows_are_removed(db):
    limit = Limit("test", hits=5, window=timedelta(hours=1))
    hit(db, [(limit, "zzyxq@marker.example")], now=NOW)
    hit(db, [(limit, "zzyxq@marker.example")], now=NOW - timedelta(days=2))
    assert retention.purge(db).rate_limits == 1
    assert db.conn.execute("SELECT count(*) FROM rate_limits").fetchone()[0] == 1


def test_a_purge_with_nothing_to_do_reports_zeros(db):
    assert retention.purge(db) == retention.Report(0, 0, 0, 0, 0, 0, 0)


# -- the personal data leave the file -------------------------------------------------------------

MARKERS = (b"Zzyxqmarker", b"zzyxq@marker")


def database_bytes(path: str) -> bytes:
    """The database file and whatever SQLite keeps beside it (-wal, -shm, -journal)."""
    folder, name = os.path.split(path)
    return b"".join(Path(folder, entry).read_bytes() for entry in sorted(os.listdir(folder)) if entry.startswith(name))


def test_the_personal_data_of_a_purged_draft_leave_the_database_file_and_its_wal(app, applicant, db):
    applicant.verify("zzyxq@marker.example")
    assert applicant.look_up().status_code == 303
    assert applicant.confirm().status_code == 303
    assert sign(applicant).status_code == 303
    assert name_main_contact(applicant, surname="Zzyxqmarker", email="zzyxq@marker.example").status_code == 303
    # 31 days later; another application, touched the day before, lives on beside it.
    later = NOW + timedelta(days=31)
    other = add_draft(db, "other", days=-30)
    path = app.config["DATABASE"]
    assert all(marker in database_bytes(path) for marker in MARKERS)

    report = retention.purge(db, now=later)

    assert report.drafts == 1
    assert plain(db.conn.execute("SELECT id FROM drafts")) == [(other,)]
    assert os.path.getsize(f"{path}-wal") == 0
    stored = database_bytes(path)
    for marker in MARKERS:
        assert marker not in stored
        assert marker.lower() not in stored.lower()


# -- the command ------------------------------------------------------------------------------------

def test_the_purge_command_reports_what_it_removed(app, db):
    untouched = add_draft(db, "old", days=31)
    add_draft(db, "new", days=29)
    sent_mail(db, 8, untouched)

    result = app.test_cli_runner().invoke(args=["purge"])

    assert result.exit_code == 0, result.output
    assert result.output == (
        "Removed: 1 drafts untouched for 30 days, 0 completed applications older than 3650 days, "
        "0 mail bodies older than 7 days, 0 mails tied to no application older than 30 days, "
        "0 used or expired links, 0 identity requests, 0 rate-limit windows, 0 unconfirmed spreadsheet uploads.\n")


def test_the_purge_command_takes_other_periods(app, db):
    add_draft(db, "old", days=31)
    sent_mail(db, 3, add_draft(db, "new", days=1))

    result = app.test_cli_runner().invoke(args=["purge", "--draft-days", "60", "--mail-days", "2",
                                                "--completed-days", "365"])

    assert result.exit_code == 0, result.output
    assert result.output.startswith("Removed: 0 drafts untouched for 60 days, 0 completed applications older "
                                    "than 365 days, 1 mail bodies older than 2 days, ")


@pytest.mark.parametrize("option", ["--draft-days", "--completed-days", "--mail-days"])
def test_the_purge_command_refuses_a_period_of_zero_days(app, db, option):
    add_draft(db, "today")
    result = app.test_cli_runner().invoke(args=["purge", option, "0"])
    assert result.exit_code == 2
    assert db.conn.execute("SELECT count(*) FROM drafts").fetchone()[0] == 1


# -- backups ------------------------------------------------------------------------------------

def test_a_backup_made_while_applicants_write_is_consistent(app, submitted, db, tmp_path):
    draft = submitted.draft()
    persons = plain(db.conn.execute("SELECT role, surname FROM persons WHERE draft_id = ? ORDER BY role",
                                    (draft["id"],)))
    payload = "x" * 3000
    with store.write(db):  # a few MB, so that the copy takes a while
        for number in range(2000):
            db.conn.execute("INSERT INTO drafts (key, email, company_json, created_at, updated_at) "
                            "VALUES (?, 'a@example.nl', ?, ?, ?)", (f"pad{number}", payload, ago(0), ago(0)))
    stop, writes, errors = threading.Event(), [], []

    def applicants():
        writer = store.connect(app.config["DATABASE"])
        try:
            while not stop.is_set():
                with store.write(writer):
                    new = writer.conn.execute("INSERT INTO drafts (key, email, created_at, updated_at) "
                                              "VALUES (?, 'b@example.nl', ?, ?)",
                                              (f"busy{len(writes)}", ago(0), ago(0))).lastrowid
                    writer.conn.execute("UPDATE drafts SET version = version + 1, updated_at = ? WHERE id = ?",
                                        (ago(0), draft["id"]))
                writes.append(new)
        except BaseException as error:  # handed to the test thread below
            errors.append(error)
        finally:
            writer.close()

    thread = threading.Thread(target=applicants)
    thread.start()
    try:
        while len(writes) < 20:
            stop.wait(0.01)
        target = str(tmp_path / "backup" / "copy.db")
        os.mkdir(os.path.dirname(target))
        retention.backup(db, target)
        after = len(writes)
        while len(writes) < after + 5:
            stop.wait(0.01)
    finally:
        stop.set()
        thread.join()
    assert not errors, errors
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert os.listdir(os.path.dirname(target)) == ["copy.db"]  # no half-made file left beside it

    copy = store.connect(target)
    try:
        assert copy.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        row = copy.conn.execute("SELECT id, kvk_number, status FROM drafts WHERE reference = ?",
                                (draft["reference"],)).fetchone()
        assert tuple(row) == (draft["id"], "41000001", "submitted")
        assert plain(copy.conn.execute("SELECT role, surname FROM persons WHERE draft_id = ? ORDER BY role",
                                       (draft["id"],))) == persons
        copied = copy.conn.execute("SELECT count(*) FROM drafts WHERE key LIKE 'busy%'").fetchone()[0]
        assert 20 <= copied <= len(writes)
    finally:
        copy.close()


def test_the_backup_command_writes_the_file(app, db, tmp_path):
    add_draft(db, "kept", reference="VZ-2026-0001")
    target = tmp_path / "nightly.db"
    target.write_bytes(b"yesterday's backup")

    result = app.test_cli_runner().invoke(args=["backup", str(target)])

    assert result.exit_code == 0, result.output
    assert result.output == f"Backup written to {target} ({target.stat().st_size} bytes)\n"
    copy = store.connect(str(target))
    try:
        assert plain(copy.conn.execute("SELECT reference FROM drafts")) == [("VZ-2026-0001",)]
    finally:
        copy.close()


def test_a_backup_onto_the_live_database_is_refused(app, db, tmp_path):
    add_draft(db, "kept")
    live = app.config["DATABASE"]
    link = tmp_path / "link.db"
    link.symlink_to(live)
    before = Path(live).read_bytes()

    for target in (live, str(link), f"{live}-wal"):
        with pytest.raises(ValueError, match="live database"):
            retention.backup(db, target)
    result = app.test_cli_runner().invoke(args=["backup", live])

    assert result.exit_code == 1
    assert "is the live database" in result.output
    assert Path(live).read_bytes() == before
    assert db.conn.execute("SELECT count(*) FROM drafts").fetchone()[0] == 1
