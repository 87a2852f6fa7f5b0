"""What staff see and do in the back office: the list of applications, the manual
checks, their decisions, deleting, the funnel and the export."""

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from . import identity, people, steps, submission, validators, workdays
from .drafts import Draft, StaleDraft, audit, save_answers, select
from .spreadsheet import neutralised
from .store import timestamp, utcnow, write

PAGE_SIZE = 50
_REFERENCE = re.compile(r"VZ(?P<year>\d{4})(?P<code>[0-9A-Z]{6})")  # without separators
_REFERENCE_CODE = re.compile(r"[0-9A-Z]{6}")
# A word as the full-text index (SQLite's unicode61) splits a name into words: letters and digits.
_WORD = re.compile(r"[^\W_]+")
STATUSES = ("draft", "submitted", "completed")
MANUAL_CHECK = "manual_check"


@dataclass(frozen=True)
class ListedApplication:
    draft: Draft
    current_step: int
    manual_check: bool


def _found(query: str) -> tuple[str, list]:
    """The ids of the drafts a search finds, as one query: by KvK number, by reference, or by the
    start of words of the company name."""
    sources, parameters = [], []
    digits = validators.strip_separators(query)
    if digits.isdigit():
        sources.append("SELECT id FROM drafts WHERE kvk_number = ?")
        parameters.append(digits)
    compact = digits.upper()  # read out in groups: "vz 2026 4f7 k2q"
    reference = _REFERENCE.fullmatch(compact)
    if reference:
        sources.append("SELECT id FROM drafts WHERE reference = ?")
        parameters.append(f"VZ-{reference['year']}-{reference['code']}")
    elif _REFERENCE_CODE.fullmatch(compact):  # its code alone
        sources.append("SELECT id FROM drafts WHERE reference LIKE ?")
        parameters.append(f"VZ-____-{compact}")
    if words := _WORD.findall(validators.searchable(query)):
        # Each word typed the start of a word of the name (the full-text index of m017).
        sources.append("SELECT rowid FROM drafts_name_words WHERE drafts_name_words MATCH ?")
        parameters.append(" ".join(f'"{word}"*' for word in words))
    return " UNION ".join(sources or ["SELECT NULL WHERE 0"]), parameters


def _where(status: str | None, query: str) -> tuple[str, list]:
    """The filter of the list on indexed columns."""
    clauses, parameters = [], []
    if status == MANUAL_CHECK:
        clauses.append("d.id IN (SELECT draft_id FROM identifications WHERE state = 'manual_check')")
    elif status in STATUSES:
        clauses.append("d.status = ?")
        parameters.append(status)
    if query := _one_space(query):
        found, found_parameters = _found(query)
        clauses.append(f"d.id IN ({found})")
        parameters += found_parameters
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", parameters


def _one_space(query: str | None) -> str:
    return " ".join((query or "").split())  # spaces as typed ("praktijk  de"), as one


def count_applications(db, status: str | None = None, query: str = "") -> int:
    if status is None and (query := _one_space(query)):
        # Counted from the ids alone: a broad search finds thousands, and looking each up costs more.
        found, parameters = _found(query)
        return db.conn.execute(f"SELECT count(*) FROM ({found})", parameters).fetchone()[0]
    where, parameters = _where(status, query)
    return db.conn.execute(f"SELECT count(*) FROM drafts d{where}", parameters).fetchone()[0]


def list_applications(db, status: str | None = None, query: str = "", offset: int = 0,
                      limit: int = PAGE_SIZE) -> list[ListedApplication]:
    """A page of applications, latest change first."""
    where, parameters = _where(status, query)
    ids = [row[0] for row in db.conn.execute(
        f"SELECT d.id FROM drafts d{where} ORDER BY d.updated_at DESC, d.id DESC LIMIT ? OFFSET ?",
        (*parameters, limit, offset))]
    if not ids:
        return []
    found = {draft.id: draft for draft in select(db, f"d.id IN ({', '.join('?' for _ in ids)})", ids)}
    checks = {row[0] for row in db.conn.execute(
        f"SELECT draft_id FROM identifications WHERE state = 'manual_check' AND draft_id IN "
        f"({', '.join('?' for _ in ids)})", ids)}
    return [ListedApplication(found[id_], current_step(found[id_]), id_ in checks) for id_ in ids if id_ in found]


def current_step(draft: Draft) -> int:
    return steps.first_unfinished(draft) if draft.status == "draft" else steps.STEP_COUNT


@dataclass(frozen=True)
class ManualCheck:
    draft_id: int
    reference: str | None
    company_name: str | None
    role: str
    due_on: date
    days_left: int  # working days until the answer is due; negative: overdue


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (negative when ``end`` has passed)."""
    if end < start:
        return -working_days_between(end, start)
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += workdays.is_working_day(day)
    return count


def manual_checks(db, today: date) -> list[ManualCheck]:
    """Every identification waiting for staff, the one due first on top."""
    rows = db.conn.execute(
        "SELECT i.draft_id, i.role, i.due_on, d.reference, d.company_name FROM identifications i "
        "JOIN drafts d ON d.id = i.draft_id WHERE i.state = 'manual_check' ORDER BY i.due_on, i.draft_id").fetchall()
    return [ManualCheck(row["draft_id"], row["reference"], row["company_name"], row["role"],
                        date.fromisoformat(row["due_on"]),
                        working_days_between(today, date.fromisoformat(row["due_on"]))) for row in rows]


def claims(db, draft_id: int) -> dict[str, identity.Claims]:
    """What the bank returned for a person whose identification waits for a manual check."""
    return {row["role"]: identity.Claims(**json.loads(row["claims"])) for row in db.conn.execute(
        "SELECT role, claims FROM identifications WHERE draft_id = ? AND claims IS NOT NULL", (draft_id,))}


class NoManualCheck(Exception):
    """The person does not wait for a manual check, and no colleague settled it since the page."""


def settle(db, draft: Draft, version: int, role: str, approve: bool, reason: str, actor: str) -> None:
    """A manual identity check: approved (the person is identified) or rejected with a reason.

    Raises StaleDraft when the page was of another version (a colleague settled this check
    since, or changed the application otherwise), NoManualCheck when the person waits for no
    check and no colleague decided about them since: never identified, identified by the bank,
    or decided already by ``actor`` (the same form sent twice)."""
    with write(db):
        found = db.conn.execute("SELECT state, decided_by FROM identifications WHERE draft_id = ? AND role = ?",
                                (draft.id, role)).fetchone()
        if found is None or found["state"] != "manual_check":
            by_colleague = found is not None and found["decided_by"] not in (None, actor)
            if by_colleague and _version(db, draft.id) != version:
                raise StaleDraft()
            raise NoManualCheck()
        save_answers(db, draft, version, 10,
                     f"manual check of the {role} " + ("approved" if approve else f"rejected: {reason}"),
                     actor=actor, allowed_status=submission.SUBMITTED)
        db.conn.execute(
            "UPDATE identifications SET state = ?, via = 'staff', decided_by = ?, reason = ?, at = ? "
            "WHERE draft_id = ? AND role = ?",
            ("identified" if approve else "rejected", actor, None if approve else reason, timestamp(), draft.id,
             role))


def _version(db, draft_id: int) -> int | None:
    """The draft's version as stored now (None: deleted), inside the caller's transaction."""
    row = db.conn.execute("SELECT version FROM drafts WHERE id = ?", (draft_id,)).fetchone()
    return row["version"] if row else None


def delete(db, draft: Draft, version: int, actor: str) -> None:
    """Remove an application with everything tied to it; the audit log keeps that it happened."""
    with write(db):
        # The outbox would keep its rows (ON DELETE SET NULL): with names and addresses, they go too.
        db.conn.execute("DELETE FROM outbox WHERE draft_id = ? AND EXISTS "
                        "(SELECT 1 FROM drafts WHERE id = ? AND version = ?)", (draft.id, draft.id, version))
        if not db.conn.execute("DELETE FROM drafts WHERE id = ? AND version = ?", (draft.id, version)).rowcount:
            raise StaleDraft()
        audit(db, None, None, f"application {draft.reference or draft.id} deleted", actor=actor)


def mails(db, draft_id: int) -> list:
    """The e-mails sent for an application: who, what, when; never a body or a link."""
    return db.conn.execute(
        "SELECT recipient, subject, created_at, sent_at, attempts, last_error FROM outbox WHERE draft_id = ? "
        "ORDER BY id", (draft_id,)).fetchall()


@dataclass(frozen=True)
class FunnelStep:
    number: int
    reached: int   # drafts that arrived at this step (finished the one before, by the audit log)
    stopped: int   # drafts still at this step (not completed)


def funnel(db, now: datetime | None = None, days: int = 30) -> tuple[int, int, list[FunnelStep]]:
    """Of the drafts started in the last ``days`` days: how many, how many completed, and per
    step how many reached it and how many stopped there, counted from the audit log."""
    since = timestamp((now or utcnow()) - timedelta(days=days))
    rows = db.conn.execute(
        "SELECT d.status, coalesce(max(a.step), 1) AS furthest FROM drafts d "
        "LEFT JOIN audit_log a ON a.draft_id = d.id AND a.step IS NOT NULL "
        "WHERE d.created_at >= ? GROUP BY d.id", (since,)).fetchall()
    started = len(rows)
    completed = sum(row["status"] == "completed" for row in rows)
    # Worked on step N (the audit log's furthest step): arrived at step N + 1.
    arrived = [(min(row["furthest"] + 1, steps.STEP_COUNT), row["status"] == "completed") for row in rows]
    result = []
    for number in range(1, steps.STEP_COUNT + 1):
        reached = sum(step >= number for step, _done in arrived)
        stopped = sum(step == number and not done for step, done in arrived)
        result.append(FunnelStep(number, reached, stopped))
    return started, completed, result


EXPORT_COLUMNS = (
    "kenmerk", "onderneming", "kvk_nummer", "afgerond_op", "agb_code", "naam_agb", "zorgsoort",
    "contactpersoon_1", "email_1", "telefoon_1", "contactpersoon_2", "email_2", "telefoon_2",
    "tekenbevoegde", "email_tekenbevoegde", "hoofdcontactpersoon", "email_hoofdcontactpersoon",
)


def export_csv(db) -> str:
    """Completed applications, one row per AGB code with its contact persons, for Dutch
    spreadsheet programs: UTF-8 with a byte order mark, ';' between cells."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    for draft in select(db, "d.status = 'completed' ORDER BY d.completed_at, d.id"):
        signatory = people.person(db, draft, people.SIGNATORY)
        main = people.person(db, draft, people.MAIN_CONTACT)
        for code in people.code_rows(db, draft, limit=-1):
            contacts = list(code.contacts) + [None] * (2 - len(code.contacts))
            cells = [draft.reference, draft.company_name, draft.kvk_number, draft.completed_at, code.agb_code,
                     code.name, code.zorgsoort]
            for contact in contacts[:2]:
                cells += [contact.full_name, contact.email, contact.phone] if contact else ["", "", ""]
            cells += [signatory.full_name if signatory else "", signatory.email if signatory else "",
                      main.full_name if main else "", main.email if main else ""]
            writer.writerow([neutralised(cell) for cell in cells])
    return out.getvalue()
