"""Steps 9-10 around the agreement: submitting freezes the application and makes the
PDF, reopening thaws it (until signing started), completing ends it.

Status of a draft: ``draft`` (being filled in), ``submitted`` (frozen, step 10 under
way), ``completed`` (both persons identified and the agreement signed).
"""

import hashlib
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from . import agreement, appointments, identity, people, person_links, services, validators
from .drafts import APPLICANT, Draft, StaleDraft, audit, save_answers
from .registry import zorgsoort_name
from .store import timestamp, utcnow, write

DRAFT, SUBMITTED, COMPLETED = "draft", "submitted", "completed"
ONLINE, APPOINTMENT = "online", "appointment"
NETHERLANDS = ZoneInfo("Europe/Amsterdam")

# Six characters of an alphabet without look-alikes (no 0/O, 1/I/L): VZ-2026-4F7K2Q.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


class NotReopenable(Exception):
    """Signing has started: the agreement the signatory sees may no longer change."""


class NotSubmitted(NotReopenable):
    """A draft (never submitted, or reopened already): the applicant can change it as it is,
    and no colleague reopened it since the page was loaded."""


class AlreadyCompleted(Exception):
    """The application is completed: no visit is left to record, and no colleague recorded
    the one that completed it since the page was loaded."""


class VisitRecorded(Exception):
    """The visit has an outcome already (both persons identified there): a second one would
    overwrite it, and no colleague recorded it since the page was loaded."""


def today() -> date:
    return utcnow().astimezone(NETHERLANDS).date()


def new_reference(year: int) -> str:
    return f"VZ-{year}-" + "".join(secrets.choice(_ALPHABET) for _ in range(6))


def agreement_data(db, draft: Draft, reference: str, on: date, catalogue, zorgsoorten: dict) -> agreement.AgreementData:
    """What the agreement says, read from the draft (never from a page)."""
    company = draft.company
    address = company.address
    signatory = people.person(db, draft, people.SIGNATORY)
    main = people.person(db, draft, people.MAIN_CONTACT)
    codes = people.code_rows(db, draft, limit=-1)
    groups = services.code_groups(db, draft.id)
    phone = validators.phone_formatter()

    def party(name: str, email: str, number: str) -> agreement.Party:
        return agreement.Party(name=name, email=email, phone=phone(number))

    return agreement.AgreementData(
        reference=reference,
        submitted_on=on,
        company_name=company.name,
        kvk_number=company.kvk_number,
        address=f"{address.street} {validators.house_number_text(address.number, address.addition)}, "
                f"{validators.format_postcode(address.postcode)} {address.city}",
        signatory=party(signatory.full_name, signatory.email, signatory.mobile),
        main_contact=party(main.full_name, main.email, main.mobile),
        codes=tuple(
            agreement.Code(agb_code=row.agb_code, name=row.name, zorgsoort=zorgsoort_name(zorgsoorten, row.zorgsoort),
                           contacts=tuple(party(c.full_name, c.email, c.phone) for c in row.contacts))
            for row in codes
        ),
        ict_admins=tuple(party(admin.name, admin.email, admin.phone) for admin in people.ict_admins(db, draft)),
        services=tuple(open.service.name["nl"] for open in services.open_services(catalogue, groups)),
    )


def submit(db, draft: Draft, version: int, catalogue, zorgsoorten: dict) -> str:
    """Step 9: freeze the application, give it a reference (kept when it was submitted
    before and reopened) and make the agreement. Returns the reference.

    The PDF is rendered before the write transaction (a large organisation's takes a
    moment, and no other applicant should wait for it); the version check and a second
    reading of the data inside the transaction then make sure it shows what is stored.
    """
    on = today()
    for _attempt in range(5):
        reference = draft.reference or new_reference(on.year)
        made = agreement.render(agreement_data(db, draft, reference, on, catalogue, zorgsoorten))
        try:
            with write(db):
                # A contact row has a version of its own: what the PDF shows must still be what is stored.
                stored = agreement_data(db, draft, reference, on, catalogue, zorgsoorten)
                if agreement.content_hash(stored) != made.content_sha256:
                    raise StaleDraft()
                save_answers(db, draft, version, 9, "application submitted", status=SUBMITTED,
                             reference=reference, submitted_at=timestamp(), method=None)
                db.conn.execute(
                    "INSERT INTO agreements (draft_id, pdf, sha256, content_sha256, created_at) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (draft_id) DO UPDATE SET pdf = excluded.pdf, sha256 = excluded.sha256, "
                    "content_sha256 = excluded.content_sha256, created_at = excluded.created_at, dossier_id = NULL, "
                    "signing_state = 'none', signing_url = NULL, signed_pdf = NULL, signed_at = NULL",
                    (draft.id, made.pdf, made.sha256, made.content_sha256, timestamp()),
                )
            return reference
        except sqlite3.IntegrityError:
            if draft.reference:
                raise
            continue  # the reference was taken by another application a moment ago: draw again
    raise RuntimeError("no free reference after 5 draws")


@dataclass(frozen=True)
class Signing:
    state: str                 # none | invited | signed | declined
    url: str | None
    signed_at: str | None
    content_sha256: str
    has_signed_pdf: bool


def signing(db, draft_id: int) -> Signing | None:
    row = db.conn.execute(
        "SELECT signing_state, signing_url, signed_at, content_sha256, signed_pdf IS NOT NULL AS has_signed "
        "FROM agreements WHERE draft_id = ?", (draft_id,)).fetchone()
    if row is None:
        return None
    return Signing(row["signing_state"], row["signing_url"], row["signed_at"], row["content_sha256"],
                   bool(row["has_signed"]))


def agreement_pdf(db, draft_id: int, signed: bool = False) -> bytes | None:
    column = "signed_pdf" if signed else "pdf"
    row = db.conn.execute(f"SELECT {column} FROM agreements WHERE draft_id = ?", (draft_id,)).fetchone()
    return row[0] if row else None


REOPENED = "application reopened for a change"


def reopen(db, draft: Draft, version: int, actor: str = APPLICANT) -> None:
    """Make a submitted application a draft again, for a change. Only until signing has
    started; what step 10 had done is voided (identifications, a booked visit, the PDF).

    A draft raises NotSubmitted, or StaleDraft when another staff member reopened it (by the
    audit log) and the page was of an older version; signing begun or completed raises
    NotReopenable."""
    with write(db):
        if draft.status == DRAFT:
            last = db.conn.execute("SELECT actor FROM audit_log WHERE draft_id = ? AND action = ? "
                                   "ORDER BY id DESC LIMIT 1", (draft.id, REOPENED)).fetchone()
            if last is not None and last[0] not in (APPLICANT, actor) and draft.version != version:
                raise StaleDraft()
            raise NotSubmitted()
        state = db.conn.execute("SELECT signing_state FROM agreements WHERE draft_id = ?", (draft.id,)).fetchone()
        if draft.status != SUBMITTED or (state and state[0] != "none"):
            raise NotReopenable()
        save_answers(db, draft, version, 9, REOPENED, actor=actor, allowed_status=SUBMITTED,
                     status=DRAFT, submitted_at=None, method=None)
        db.conn.execute("DELETE FROM agreements WHERE draft_id = ?", (draft.id,))
        identity.clear(db, draft.id)
        person_links.end_all(db, draft.id)
        db.conn.execute("UPDATE appointments SET cancelled_at = ? WHERE draft_id = ? AND cancelled_at IS NULL",
                        (timestamp(), draft.id))


def choose_method(db, draft: Draft, version: int, method: str) -> None:
    with write(db):
        save_answers(db, draft, version, 10, f"method chosen: {method}", method=method, allowed_status=SUBMITTED)


def is_complete(db, draft_id: int) -> bool:
    done = identity.identifications(db, draft_id)
    state = db.conn.execute("SELECT signing_state FROM agreements WHERE draft_id = ?", (draft_id,)).fetchone()
    return (all(role in done and done[role].state == "identified" for role in identity.ROLES)
            and state is not None and state[0] == "signed")


def complete_if_done(db, draft_id: int) -> bool:
    """Both persons identified and the agreement signed: the application is completed.
    True only for the call that completed it (so that its mails go out once)."""
    if not is_complete(db, draft_id):
        return False
    with write(db):
        changed = db.conn.execute(
            "UPDATE drafts SET status = ?, completed_at = ?, version = version + 1, updated_at = ? "
            "WHERE id = ? AND status = ?", (COMPLETED, timestamp(), timestamp(), draft_id, SUBMITTED)).rowcount
        if changed:
            audit(db, draft_id, 10, "application completed")
    return bool(changed)



@dataclass(frozen=True)
class Progress:
    """Where a submitted application stands in step 10: the status page and step 10 show it."""

    status: str
    method: str | None
    identified: dict  # role -> identity.Identification
    signing: Signing | None
    visit: object | None  # appointments.Appointment
    one_person: bool = False  # the signatory is the main contact too (same_person): one person to speak of
    missed_visit: object | None = None  # the last visit, nobody there, none booked since (appointments.missed)

    def state(self, role: str) -> str | None:
        found = self.identified.get(role)
        return found.state if found else None

    def due_on(self, role: str):
        found = self.identified.get(role)
        return found.due_on if found else None

    @property
    def signing_state(self) -> str:
        return self.signing.state if self.signing else "none"

    @property
    def may_sign(self) -> bool:
        return (self.status == SUBMITTED and self.state("signatory") == "identified"
                and self.signing_state in ("none", "declined"))

    @property
    def reopenable(self) -> bool:
        return self.status == SUBMITTED and self.signing_state == "none"

    @property
    def fingerprint(self) -> str:
        """Changes whenever what step 10 and the status page show changes."""
        seen = (self.status, self.method, self.signing_state,
                tuple(sorted((role, found.state) for role, found in self.identified.items())),
                self.visit.slot.isoformat() if self.visit else None)
        return hashlib.sha256(repr(seen).encode()).hexdigest()[:16]

    @property
    def waiting(self) -> bool:
        """Something outside this browser may change the page: a provider or another person."""
        if self.status != SUBMITTED:
            return False
        return (self.signing_state == "invited"
                or any(self.state(role) == "manual_check" for role in identity.ROLES)
                # The main contact identifies elsewhere, unless that is over (identity.ONLINE_OVER):
                # after a rejection only the applicant, here, can go on (a visit).
                or (self.method == ONLINE and self.state("main_contact") not in identity.ONLINE_OVER))


def progress(db, draft: Draft) -> Progress:
    return Progress(status=draft.status, method=draft.method, identified=identity.identifications(db, draft.id),
                    signing=signing(db, draft.id), visit=appointments.current(db, draft.id),
                    one_person=same_person(db, draft),
                    missed_visit=appointments.missed(db, draft.id) if draft.method == APPOINTMENT else None)


VISIT_OUTCOMES = ("identified", "signed", "no_show")


def record_visit(db, draft: Draft, version: int, outcome: str, actor: str) -> None:
    """What happened at the visit: both persons showed an ID document ("identified"),
    and perhaps the signatory signed the agreement on paper there too ("signed"), or
    nobody was there ("no_show": the visit is over, a new one can be booked).

    Raises LookupError when no visit is booked, StaleDraft when the page was of another
    version, except that a completed application raises AlreadyCompleted, and a visit with
    an outcome VisitRecorded, unless a colleague recorded the visit
    (``identifications.decided_by``) since the page was loaded."""
    if outcome not in VISIT_OUTCOMES:
        raise ValueError(outcome)
    stamp = timestamp()
    with write(db):
        visit = db.conn.execute("SELECT id, outcome FROM appointments WHERE draft_id = ? AND cancelled_at IS NULL",
                                (draft.id,)).fetchone()
        if visit is None:
            raise LookupError("no visit booked")
        now = db.conn.execute("SELECT version, status FROM drafts WHERE id = ?", (draft.id,)).fetchone()
        completed = now is not None and now["status"] == COMPLETED
        if completed or visit["outcome"] is not None:
            recorded_by = {row[0] for row in db.conn.execute(
                "SELECT decided_by FROM identifications WHERE draft_id = ? AND via = 'visit'", (draft.id,))}
            if not (recorded_by - {None, actor} and now["version"] != version):
                raise AlreadyCompleted() if completed else VisitRecorded()
        save_answers(db, draft, version, 10, f"visit recorded: {outcome}", actor=actor, allowed_status=SUBMITTED)
        db.conn.execute("UPDATE appointments SET outcome = ? WHERE id = ?", (outcome, visit["id"]))
        if outcome == "no_show":
            db.conn.execute("UPDATE appointments SET cancelled_at = ? WHERE id = ?", (stamp, visit["id"]))
            return
        db.conn.executemany(
            "INSERT INTO identifications (draft_id, role, state, via, at, decided_by) "
            "VALUES (?, ?, 'identified', 'visit', ?, ?) ON CONFLICT (draft_id, role) DO UPDATE SET "
            "state = 'identified', via = 'visit', claims = NULL, due_on = NULL, at = excluded.at, "
            "decided_by = excluded.decided_by",
            [(draft.id, role, stamp, actor) for role in identity.ROLES])
        if outcome == "signed":
            db.conn.execute("UPDATE agreements SET signing_state = 'signed', signed_at = ? WHERE draft_id = ?",
                            (stamp, draft.id))


def same_person(db, draft: Draft) -> bool:
    """The main contact is the signatory (step 5's shortcut): one identification serves both."""
    signatory = people.person(db, draft, people.SIGNATORY)
    main = people.person(db, draft, people.MAIN_CONTACT)
    if signatory is None or main is None:
        return False
    as_claims = lambda person: identity.Claims(person.initials, person.prefix, person.surname, person.birth_date)  # noqa: E731
    return identity.matches(as_claims(signatory), as_claims(main)) and signatory.email == main.email


def share_identification(db, draft: Draft) -> None:
    """When both roles are one person, the role identified by iDIN counts for the other."""
    if not same_person(db, draft):
        return
    with write(db):
        copied = db.conn.execute(
            "INSERT INTO identifications (draft_id, role, state, via, at) "
            "SELECT draft_id, CASE role WHEN 'signatory' THEN 'main_contact' ELSE 'signatory' END, state, via, at "
            "FROM identifications WHERE draft_id = ? AND state = 'identified' ON CONFLICT (draft_id, role) DO NOTHING",
            (draft.id,)).rowcount
        if copied:
            audit(db, draft.id, 10, "main contact is the signatory: one identification for both")
