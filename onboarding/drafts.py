"""Drafts of applications: read, save step by step with a version check, audit.

A draft belongs to a verified e-mail address. The browser only holds the
draft's random key; every answer that passed validation lives here.
"""

import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from . import tokens, validators
from .ratelimit import Limit, hit
from .registry import AgbCode, Company, Contact, company_from_json, company_snapshot
from .services import store_code_groups
from .store import timestamp, write

APPLICANT = "applicant"


class StaleDraft(Exception):
    """The save was based on an older version of the draft than the stored one."""


@dataclass(frozen=True)
class Draft:
    """One row of ``drafts``: a later step adds its columns here and in a migration."""

    id: int
    key: str
    version: int
    status: str
    email: str
    email_verified_at: str | None
    kvk_number: str | None
    agb_code: str | None
    company_json: str | None
    looked_up_at: str | None
    data_correct: str | None
    created_at: str
    updated_at: str
    moved_from: str | None = None
    contacts_done_at: str | None = None
    ict_done_at: str | None = None
    services_ok_at: str | None = None
    services_remark: str | None = None
    reference: str | None = None
    submitted_at: str | None = None
    completed_at: str | None = None
    method: str | None = None
    company_name: str | None = None
    company_name_searchable: str | None = None  # as the back office's search compares it
    agb_codes_sha256: str | None = None
    # Read with the draft (see by_key): what steps 4-6 hold, for their "done" rules.
    has_signatory: bool = False
    has_main_contact: bool = False
    code_without_contact: bool = False
    has_people: bool = False

    @property
    def company(self) -> Company | None:
        """The company as the registry described it at the last look-up."""
        return company_from_json(json.loads(self.company_json), stored=True) if self.company_json else None


_DRAFT = """
    SELECT d.*,
        -- A signatory who may still sign alone by the company data of the last look-up.
        EXISTS (SELECT 1 FROM persons p, json_each(d.company_json, '$.functionarissen') officer
                WHERE p.draft_id = d.id AND p.role = 'signatory'
                AND json_extract(officer.value, '$.id') = p.officer_id
                AND json_extract(officer.value, '$.bevoegdheid') = 'azb') AS has_signatory,
        EXISTS (SELECT 1 FROM persons WHERE draft_id = d.id AND role = 'main_contact') AS has_main_contact,
        EXISTS (SELECT 1 FROM draft_agb_codes WHERE draft_id = d.id AND contacts = 0) AS code_without_contact,
        (EXISTS (SELECT 1 FROM persons WHERE draft_id = d.id)
         OR EXISTS (SELECT 1 FROM contact_persons WHERE draft_id = d.id AND source != 'registry')
         OR EXISTS (SELECT 1 FROM ict_admins WHERE draft_id = d.id)) AS has_people
    FROM drafts d
"""


def by_key(db, key: str | None) -> Draft | None:
    if not key:
        return None
    row = db.conn.execute(_DRAFT + " WHERE d.key = ?", (key,)).fetchone()
    return Draft(**dict(row)) if row else None


def select(db, where: str, parameters=()) -> list[Draft]:
    """Drafts as ``by_key`` reads them, chosen by an SQL condition on ``d``."""
    return [Draft(**dict(row)) for row in db.conn.execute(_DRAFT + " WHERE " + where, parameters)]


def by_id(db, draft_id: int) -> Draft | None:
    row = db.conn.execute(_DRAFT + " WHERE d.id = ?", (draft_id,)).fetchone()
    return Draft(**dict(row)) if row else None


def agb_code_page(db, draft: Draft, offset: int = 0, limit: int = -1) -> list:
    """The draft's AGB codes in registry order, a page at a time: rows with ``agb_code``,
    ``name``, ``zorgsoort`` and ``party_type`` (a page shows them as they are)."""
    return db.conn.execute(
        "SELECT agb_code, name, zorgsoort, party_type FROM draft_agb_codes WHERE draft_id = ? "
        "ORDER BY position LIMIT ? OFFSET ?",
        (draft.id, limit, offset),
    ).fetchall()


def agb_code_count(db, draft: Draft) -> int:
    return db.conn.execute("SELECT count(*) FROM draft_agb_codes WHERE draft_id = ?", (draft.id,)).fetchone()[0]


def audit(db, draft_id: int, step: int | None, action: str, actor: str = APPLICANT, now: datetime | None = None):
    db.conn.execute(
        "INSERT INTO audit_log (draft_id, at, actor, step, action) VALUES (?, ?, ?, ?, ?)",
        (draft_id, timestamp(now), actor, step, action),
    )


def audit_log(db, draft: Draft) -> list:
    return db.conn.execute(
        "SELECT at, actor, step, action FROM audit_log WHERE draft_id = ? ORDER BY id", (draft.id,)
    ).fetchall()


def _new_key() -> str:
    return secrets.token_urlsafe(24)


def _drafts_for_link(db, link: tokens.Link) -> list[Draft]:
    """The drafts a link may open, the one it opens by default first: the draft it was
    asked for from (which moves to the link's address), then the address's own open
    drafts, latest first. None: the link starts a new draft."""
    rows = []
    if link.draft_id is not None:  # moving a draft to another address: only while it is filled in
        rows += db.conn.execute("SELECT * FROM drafts WHERE id = ? AND status = 'draft'", (link.draft_id,)).fetchall()
    rows += db.conn.execute(
        # Submitted and completed ones too: the same link leads to their status page.
        "SELECT * FROM drafts WHERE email = ? AND id IS NOT ? ORDER BY updated_at DESC, id DESC",
        (link.email, link.draft_id),
    ).fetchall()
    return [Draft(**dict(row)) for row in rows]


@dataclass(frozen=True)
class LinkChoice:
    """One draft a link page offers to go on with."""

    id: int
    kvk_number: str | None
    company_name: str | None
    updated_at: str
    # The other address the draft was started with or moved from, if any: a link that
    # someone else asked for must not hand over their draft unnoticed.
    other_address: str | None


@dataclass(frozen=True)
class LinkPreview:
    """What pressing the button on a link page will do, to say it before it is done."""

    email: str
    choices: tuple[LinkChoice, ...] = ()

    @property
    def resumes(self) -> bool:
        return bool(self.choices)

    @property
    def other_address(self) -> str | None:
        """The other address of the draft the link opens by default."""
        return self.choices[0].other_address if self.choices else None


def preview_link(db, token: str, now: datetime | None = None) -> LinkPreview:
    link = tokens.check(db, token, now)
    return LinkPreview(link.email, tuple(
        LinkChoice(id=draft.id, kvk_number=draft.kvk_number,
                   company_name=draft.company.name if draft.company else None, updated_at=draft.updated_at,
                   other_address=draft.email if draft.email != link.email else draft.moved_from)
        for draft in _drafts_for_link(db, link)
    ))


def verify_email(db, token: str, fresh: bool = False, choose: int | None = None,
                 now: datetime | None = None) -> Draft:
    """Redeem an e-mail link and open one of its drafts (see :func:`_drafts_for_link`):
    the one chosen on the link page, else the first; or a new draft when ``fresh`` or
    when there is none.

    The draft gets a new key: only the browser that redeemed the link holds it, and
    every other browser that held the draft is left outside. One transaction: two
    clicks on the same link cannot both succeed.
    """
    stamp = timestamp(now)
    with write(db):
        link = tokens.redeem(db, token, now)
        offered = [] if fresh else _drafts_for_link(db, link)
        draft = next((draft for draft in offered if draft.id == choose), offered[0] if offered else None)
        key = _new_key()
        if draft:
            moved = draft.email != link.email
            db.conn.execute(
                "UPDATE drafts SET key = ?, email = ?, email_verified_at = ?, moved_from = ?, updated_at = ?, "
                "version = version + ? WHERE id = ?",
                (key, link.email, stamp, draft.email if moved else draft.moved_from, stamp, int(moved), draft.id),
            )
            audit(db, draft.id, 1, "e-mail address changed" if moved else "resumed via e-mail link", now=now)
        else:
            draft_id = db.conn.execute(
                "INSERT INTO drafts (key, email, email_verified_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                (key, link.email, stamp, stamp, stamp),
            ).lastrowid
            audit(db, draft_id, 1, "e-mail address verified", now=now)
    return by_key(db, key)


def sign_out(db, draft: Draft) -> None:
    """End every session on the draft: the key any browser holds stops working. The
    draft stays and is reached again through a new e-mail link."""
    with write(db):
        db.conn.execute("UPDATE drafts SET key = ? WHERE id = ?", (_new_key(), draft.id))
        audit(db, draft.id, None, "signed out")


def save_answers(db, draft: Draft, version: int, step: int, action: str, actor: str = APPLICANT,
                 allowed_status: str = "draft", **fields) -> None:
    """Change columns of the draft if it is still at ``version`` and in ``allowed_status``
    (a submitted application is frozen), and log it; inside a write transaction. Raises
    StaleDraft when another tab saved or submitted in between."""
    assignments = "".join(f"{column} = ?, " for column in fields)
    cursor = db.conn.execute(
        f"UPDATE drafts SET {assignments}version = version + 1, updated_at = ? "
        "WHERE id = ? AND version = ? AND status = ?",
        (*fields.values(), timestamp(), draft.id, version, allowed_status),
    )
    if cursor.rowcount != 1:
        raise StaleDraft()
    audit(db, draft.id, step, action, actor)


def replaces_company(draft: Draft, kvk_number: str) -> bool:
    """Whether a look-up of ``kvk_number`` would drop what steps 4-7 hold for another company."""
    return bool(draft.kvk_number) and draft.kvk_number != kvk_number and draft.has_people


def agb_codes_sha256(codes: list[AgbCode]) -> str:
    """A digest of the codes as ``save_company`` stores them: each one's code, name,
    zorgsoort and party type, in the registry's order (their position)."""
    fields = [value for code in codes for value in (code.code, code.name, code.zorgsoort, code.party_type)]
    text = "\0".join(fields)
    if text.count("\0") != max(len(fields) - 1, 0):
        text = json.dumps(fields, ensure_ascii=False)  # a value holds NUL itself: unambiguous instead
    return hashlib.sha256(text.encode()).hexdigest()


def save_company(db, draft: Draft, version: int, kvk_number: str, agb_code: str, company_raw: dict,
                 codes: list[AgbCode], known_contacts: Mapping[str, list[Contact]],
                 limits: list[tuple[Limit, str]] | None = None) -> None:
    """Step 2: the looked-up company and all its active AGB codes.

    The registries were read afresh, so step 3 must be confirmed again, and step 8 when the
    codes changed (the services follow from the codes). For the same
    company, what the applicant entered stays: codes still active keep their contact
    persons, codes no longer active go with theirs. Another company starts steps 4-7
    afresh (the page asked first: ``replaces_company``). A new code gets the contact
    persons VECOZO knows for it (``known_contacts``), at most two.

    ``limits`` are counted in the same transaction (``ratelimit.hit``): used up, RateLimited
    is raised and nothing saved; a save that fails (StaleDraft) still counts.
    """
    # Made before the write: the lock is held for the comparison and the rows alone.
    digest = agb_codes_sha256(codes)
    snapshot = json.dumps(company_snapshot(company_raw), ensure_ascii=False)

    def save():
        _save_company(db, draft, version, kvk_number, agb_code, company_raw, codes, known_contacts, digest,
                      snapshot)

    if limits:
        hit(db, limits, then=save)
    else:
        with write(db):
            save()


def _save_company(db, draft, version, kvk_number, agb_code, company_raw, codes, known_contacts, digest, snapshot):
    other_company = draft.kvk_number != kvk_number
    # This is the codes' only writer, and it keeps the digest beside them: the same
    # digest, the same rows (read in this transaction, so no other save can come between).
    unchanged = not other_company and db.conn.execute(
        "SELECT agb_codes_sha256 FROM drafts WHERE id = ?", (draft.id,)).fetchone()[0] == digest
    # Step 3 is confirmed again after every look-up; step 8 only when the codes changed.
    save_answers(db, draft, version, 2, "company looked up", kvk_number=kvk_number, agb_code=agb_code,
                 company_json=snapshot, company_name=company_raw.get("naam"),
                 company_name_searchable=validators.searchable(company_raw.get("naam")),
                 looked_up_at=timestamp(), data_correct=None, agb_codes_sha256=digest,
                 **({} if unchanged else {"services_ok_at": None}),
                 **({"contacts_done_at": None, "ict_done_at": None} if other_company else {}))
    if other_company:
        db.conn.execute("DELETE FROM draft_agb_codes WHERE draft_id = ?", (draft.id,))
        db.conn.execute("DELETE FROM persons WHERE draft_id = ?", (draft.id,))
        db.conn.execute("DELETE FROM ict_admins WHERE draft_id = ?", (draft.id,))
        if draft.has_people:
            audit(db, draft.id, 2, "steps 4-7 cleared for another company")
    if unchanged:
        return  # a look-up of the same organisation saved again: its codes are as they were
    # A code the registry describes as before is not written again: a look-up of the same
    # organisation whose codes changed compares them here and writes only what changed.
    stored = {row[0]: tuple(row[1:]) for row in db.conn.execute(
        "SELECT agb_code, position, name, zorgsoort, party_type FROM draft_agb_codes WHERE draft_id = ?",
        (draft.id,))}
    kept = set(stored)
    active = {code.code for code in codes}
    db.conn.executemany("DELETE FROM draft_agb_codes WHERE draft_id = ? AND agb_code = ?",
                        [(draft.id, code) for code in kept - active])
    db.conn.executemany(
        "INSERT INTO draft_agb_codes (draft_id, agb_code, position, name, zorgsoort, party_type, name_searchable) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (draft_id, agb_code) DO UPDATE SET "
        "position = excluded.position, name = excluded.name, zorgsoort = excluded.zorgsoort, "
        "party_type = excluded.party_type, name_searchable = excluded.name_searchable",
        [(draft.id, code.code, position, code.name, code.zorgsoort, code.party_type, validators.searchable(code.name))
         for position, code in enumerate(codes)
         if stored.get(code.code) != (position, code.name, code.zorgsoort, code.party_type)],
    )
    new = [code.code for code in codes if code.code not in kept]
    rows = [
        (draft.id, code, position, contact.initials, contact.prefix, contact.surname, contact.email,
         contact.phone)
        for code in new
        for position, contact in enumerate(known_contacts.get(code, ())[:2], start=1)
    ]
    db.conn.executemany(
        "INSERT INTO contact_persons (draft_id, agb_code, position, initials, prefix, surname, email, phone, "
        "source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'registry')", rows)
    # Only new codes can have gained contacts here (kept codes keep theirs).
    db.conn.executemany(
        "UPDATE draft_agb_codes SET contacts = (SELECT count(*) FROM contact_persons p "
        "WHERE p.draft_id = draft_agb_codes.draft_id AND p.agb_code = draft_agb_codes.agb_code) "
        "WHERE draft_id = ? AND agb_code = ?", [(draft.id, code) for code in new])
    store_code_groups(db, draft.id)


def confirm_company(db, draft: Draft, version: int) -> None:
    """Step 3: the applicant says the registry data is correct."""
    with write(db):
        save_answers(db, draft, version, 3, "company data confirmed", data_correct="yes")


def confirm_services(db, draft: Draft, version: int, remark: str | None) -> None:
    """Step 8: the applicant says the overview of services is right, with a remark or none."""
    with write(db):
        save_answers(db, draft, version, 8, "services confirmed", services_ok_at=timestamp(),
                     services_remark=remark or None)


def mark_incorrect(db, draft: Draft, version: int) -> None:
    """Step 3 answered 'no': remembered, so that staff can see why a draft stalled."""
    with write(db):
        save_answers(db, draft, version, 3, "company data marked incorrect", data_correct="no")


def start_again(db, draft: Draft, version: int) -> None:
    """Step 3 answered 'no': the look-up must be done again; the verified address stays,
    and so do the KvK number and AGB code typed (a correction in the registry does
    not change them). The codes and their contact persons wait for that look-up,
    which keeps what still holds (``save_company``)."""
    with write(db):
        save_answers(db, draft, version, 3, "started again after incorrect company data",
                     company_json=None, looked_up_at=None, data_correct=None)
