"""Drafts of applications: read, save step by step with a version check, audit.

A draft belongs to a verified e-mail address. The browser only holds the
draft's random key; every answer that passed validation lives here.
"""

import json
import secrets
from dataclasses import dataclass
from datetime import datetime

from . import tokens
from .registry import AgbCode, Company, company_from_json
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

    @property
    def company(self) -> Company | None:
        """The company as the registry described it at the last look-up."""
        return company_from_json(json.loads(self.company_json)) if self.company_json else None


def by_key(db, key: str | None) -> Draft | None:
    if not key:
        return None
    row = db.conn.execute("SELECT * FROM drafts WHERE key = ?", (key,)).fetchone()
    return Draft(**dict(row)) if row else None


def agb_codes(db, draft: Draft) -> list[AgbCode]:
    rows = db.conn.execute(
        "SELECT agb_code, name, zorgsoort, party_type FROM draft_agb_codes WHERE draft_id = ? ORDER BY position",
        (draft.id,),
    ).fetchall()
    return [
        AgbCode(code=row["agb_code"], kvk_number=draft.kvk_number or "", name=row["name"],
                zorgsoort=row["zorgsoort"], party_type=row["party_type"], active=True)
        for row in rows
    ]


def audit(db, draft_id: int, step: int | None, action: str, actor: str = APPLICANT, now: datetime | None = None):
    db.conn.execute(
        "INSERT INTO audit_log (draft_id, at, actor, step, action) VALUES (?, ?, ?, ?, ?)",
        (draft_id, timestamp(now), actor, step, action),
    )


def audit_log(db, draft: Draft) -> list:
    return db.conn.execute(
        "SELECT at, actor, step, action FROM audit_log WHERE draft_id = ? ORDER BY id", (draft.id,)
    ).fetchall()


def verify_email(db, token: str, now: datetime | None = None) -> Draft:
    """Redeem an e-mail link and open its draft: the one it was asked for from (which
    moves to this address), else the address's latest draft, else a new one.

    One transaction: two clicks on the same link cannot both succeed.
    """
    stamp = timestamp(now)
    with write(db):
        email, draft_id = tokens.redeem(db, token, now)
        row = None
        if draft_id is not None:
            row = db.conn.execute("SELECT id, email FROM drafts WHERE id = ? AND status = 'draft'",
                                  (draft_id,)).fetchone()
        if row is None:
            row = db.conn.execute(
                "SELECT id, email FROM drafts WHERE email = ? AND status = 'draft' "
                "ORDER BY updated_at DESC, id DESC LIMIT 1", (email,)
            ).fetchone()
        if row:
            draft_id, changed = row["id"], row["email"] != email
            db.conn.execute(
                "UPDATE drafts SET email = ?, email_verified_at = ?, updated_at = ?, version = version + ? "
                "WHERE id = ?", (email, stamp, stamp, int(changed), draft_id),
            )
            audit(db, draft_id, 1, "e-mail address changed" if changed else "resumed via e-mail link", now=now)
        else:
            draft_id = db.conn.execute(
                "INSERT INTO drafts (key, email, email_verified_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                (secrets.token_urlsafe(24), email, stamp, stamp, stamp),
            ).lastrowid
            audit(db, draft_id, 1, "e-mail address verified", now=now)
        key = db.conn.execute("SELECT key FROM drafts WHERE id = ?", (draft_id,)).fetchone()["key"]
    return by_key(db, key)


def save_answers(db, draft: Draft, version: int, step: int, action: str, **fields) -> None:
    """Change columns of the draft if it is still at ``version``, and log it; inside a
    write transaction. Raises StaleDraft when another tab saved in between."""
    assignments = "".join(f"{column} = ?, " for column in fields)
    cursor = db.conn.execute(
        f"UPDATE drafts SET {assignments}version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
        (*fields.values(), timestamp(), draft.id, version),
    )
    if cursor.rowcount != 1:
        raise StaleDraft()
    audit(db, draft.id, step, action)


def save_company(db, draft: Draft, version: int, kvk_number: str, agb_code: str, company_raw: dict,
                 codes: list[AgbCode]) -> None:
    """Step 2: the looked-up company and all its active AGB codes.

    The registries were read afresh, so step 3 must be confirmed again; nothing
    else the applicant entered is removed.
    """
    with write(db):
        save_answers(db, draft, version, 2, "company looked up", kvk_number=kvk_number, agb_code=agb_code,
                company_json=json.dumps(company_raw, ensure_ascii=False), looked_up_at=timestamp(), data_correct=None)
        db.conn.execute("DELETE FROM draft_agb_codes WHERE draft_id = ?", (draft.id,))
        db.conn.executemany(
            "INSERT INTO draft_agb_codes (draft_id, agb_code, position, name, zorgsoort, party_type) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(draft.id, code.code, position, code.name, code.zorgsoort, code.party_type)
             for position, code in enumerate(codes)],
        )


def confirm_company(db, draft: Draft, version: int) -> None:
    """Step 3: the applicant says the registry data is correct."""
    with write(db):
        save_answers(db, draft, version, 3, "company data confirmed", data_correct="yes")


def mark_incorrect(db, draft: Draft, version: int) -> None:
    """Step 3 answered 'no': remembered, so that staff can see why a draft stalled."""
    with write(db):
        save_answers(db, draft, version, 3, "company data marked incorrect", data_correct="no")


def start_again(db, draft: Draft, version: int) -> None:
    """Step 3 answered 'no': clear step 2 onwards; the verified address stays."""
    with write(db):
        save_answers(db, draft, version, 3, "started again after incorrect company data",
                kvk_number=None, agb_code=None, company_json=None, looked_up_at=None, data_correct=None)
        db.conn.execute("DELETE FROM draft_agb_codes WHERE draft_id = ?", (draft.id,))
