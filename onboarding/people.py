"""The people of an application (steps 4-7): signatory, main contact, contact persons
per AGB code, ICT administrators. Each is a row of its own, tied to the draft.

Every change goes through the draft's save path (``drafts.save_answers``: version
check and audit entry in one transaction), except a contact row: it carries a
version of its own, so that saving one code's contacts never makes the open form
of another code stale.
"""

from dataclasses import dataclass, fields

from . import validators
from .drafts import Draft, StaleDraft, audit, save_answers
from .store import timestamp, write

SIGNATORY = "signatory"
MAIN_CONTACT = "main_contact"
MAX_CONTACTS = 2
MAX_ICT_ADMINS = 5


class Refused(Exception):
    """A change the rules of the application do not allow (``code`` names which)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Person:
    """The signatory or the main contact: names as on the ID document."""

    initials: str
    prefix: str
    surname: str
    birth_date: str
    email: str
    mobile: str
    officer_id: str | None = None
    employed: bool = False

    @property
    def full_name(self) -> str:
        return validators.full_name(self.initials, self.prefix, self.surname)


@dataclass(frozen=True)
class ContactPerson:
    initials: str
    prefix: str
    surname: str
    email: str
    phone: str
    position: int = 1
    source: str = "applicant"

    @property
    def full_name(self) -> str:
        return validators.full_name(self.initials, self.prefix, self.surname)

    def same_as(self, other: "ContactPerson") -> bool:
        """The same details, wherever they came from."""
        return all(getattr(self, name) == getattr(other, name)
                   for name in ("initials", "prefix", "surname", "email", "phone"))


@dataclass(frozen=True)
class CodeRow:
    """One AGB code of the draft with its contact persons (step 6's table row)."""

    agb_code: str
    name: str
    zorgsoort: str
    party_type: str
    version: int
    contacts: tuple[ContactPerson, ...]


@dataclass(frozen=True)
class IctAdmin:
    id: int
    name: str
    email: str
    phone: str


_PERSON_COLUMNS = [field.name for field in fields(Person)]


# -- signatory and main contact ------------------------------------------------------------


def person(db, draft: Draft, role: str) -> Person | None:
    row = db.conn.execute(
        f"SELECT {', '.join(_PERSON_COLUMNS)} FROM persons WHERE draft_id = ? AND role = ?", (draft.id, role)
    ).fetchone()
    return Person(**{**dict(row), "employed": bool(row["employed"])}) if row else None


def save_person(db, draft: Draft, version: int, role: str, chosen: Person) -> None:
    """Step 4 or 5: the signatory or the main contact, replacing the earlier one."""
    step, action = (4, "signatory saved") if role == SIGNATORY else (5, "main contact saved")
    with write(db):
        save_answers(db, draft, version, step, action)
        values = {name: getattr(chosen, name) for name in _PERSON_COLUMNS}
        db.conn.execute(
            f"INSERT INTO persons (draft_id, role, {', '.join(values)}) "
            f"VALUES (?, ?, {', '.join('?' for _ in values)}) "
            f"ON CONFLICT (draft_id, role) DO UPDATE SET {', '.join(f'{name} = excluded.{name}' for name in values)}",
            (draft.id, role, *values.values()),
        )


def may_sign(officer) -> bool:
    """Only an officer who is alleen/zelfstandig bevoegd signs for the company alone, and only a
    natural person identifies and signs (SPEC: the natural persons of the KvK extract)."""
    return why_not_sign(officer) is None


def why_not_sign(officer) -> str | None:
    """Why ``officer`` cannot sign alone: "not_a_person", "gb" (jointly authorised) or "nb" (not
    authorised; also an authority the format does not know); None when they can."""
    if not officer.natural_person:
        return "not_a_person"
    if officer.authority == "azb":
        return None
    return officer.authority if officer.authority == "gb" else "nb"


def signatory_officer(company, officer_id: str):
    """The officer ``officer_id`` of ``company`` if they may sign; Refused otherwise
    (an officer jointly or not authorised, of another company, or made up)."""
    for officer in company.officers:
        if officer.id == officer_id and may_sign(officer):
            return officer
    raise Refused("not_authorised")


# -- contact persons per AGB code -----------------------------------------------------------


# The columns of a row and of its contacts, in the order of the fields: made positionally.
_CODE_COLUMNS = ", ".join(field.name for field in fields(CodeRow) if field.name != "contacts")
_CONTACT_COLUMNS = ", ".join(field.name for field in fields(ContactPerson))


def _with_contacts(db, draft: Draft, rows) -> list[CodeRow]:
    if not rows:
        return []
    codes = [row["agb_code"] for row in rows]
    contacts: dict[str, list[ContactPerson]] = {}
    for agb_code, *values in db.conn.execute(
        f"SELECT agb_code, {_CONTACT_COLUMNS} FROM contact_persons "
        f"WHERE draft_id = ? AND agb_code IN ({', '.join('?' for _ in codes)}) ORDER BY agb_code, position",
        (draft.id, *codes),
    ):
        contacts.setdefault(agb_code, []).append(ContactPerson(*values))
    return [CodeRow(*row, contacts=tuple(contacts.get(row["agb_code"], ()))) for row in rows]


def _matching(query: str) -> tuple[str, tuple]:
    """A filter on code or name: ``query`` as typed, matched anywhere, whatever its case and accents
    (the name's ``validators.searchable`` form, m019); a code typed with spaces or dots ("01 23 45
    67"), as step 2 takes it, without them."""
    if not query:
        return "", ()
    digits = validators.strip_separators(query)
    code = digits if digits.isdigit() else query
    return (" AND (agb_code LIKE ? ESCAPE '\\' OR name_searchable LIKE ? ESCAPE '\\')",
            (_anywhere(code), _anywhere(validators.searchable(query))))


def _anywhere(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# Step 6's order: codes without a contact person first, then as the registry lists them (row_index
# counts the rows before a code in this order).
ROW_ORDER = "contacts > 0, position"


def code_rows(db, draft: Draft, query: str = "", offset: int = 0, limit: int = 50) -> list[CodeRow]:
    """A page of the draft's AGB codes, those without a contact person first."""
    where, parameters = _matching(query)
    rows = db.conn.execute(
        f"SELECT {_CODE_COLUMNS} FROM draft_agb_codes WHERE draft_id = ?{where} "
        f"ORDER BY {ROW_ORDER} LIMIT ? OFFSET ?",
        (draft.id, *parameters, limit, offset),
    ).fetchall()
    return _with_contacts(db, draft, rows)


def count_codes(db, draft: Draft, query: str = "") -> int:
    where, parameters = _matching(query)
    return db.conn.execute(
        f"SELECT count(*) FROM draft_agb_codes WHERE draft_id = ?{where}", (draft.id, *parameters)
    ).fetchone()[0]


def code_row(db, draft: Draft, agb_code: str) -> CodeRow | None:
    found = rows_of(db, draft, [agb_code])
    return found[0] if found else None


def rows_of(db, draft: Draft, agb_codes) -> list[CodeRow]:
    """The rows of those of ``agb_codes`` that are the draft's, in step 6's order."""
    agb_codes = list(agb_codes)
    rows = db.conn.execute(
        f"SELECT {_CODE_COLUMNS} FROM draft_agb_codes WHERE draft_id = ? "
        f"AND agb_code IN ({', '.join('?' for _ in agb_codes)}) ORDER BY {ROW_ORDER}",
        (draft.id, *agb_codes),
    ).fetchall()
    return _with_contacts(db, draft, rows)


def row_index(db, draft: Draft, agb_code: str, query: str = "") -> int | None:
    """How many rows come before this code's in step 6's order (rows without a contact first), among
    those ``query`` finds; None when it does not find this code's."""
    where, parameters = _matching(query)
    found = db.conn.execute(
        f"SELECT contacts > 0, position FROM draft_agb_codes WHERE draft_id = ? AND agb_code = ?{where}",
        (draft.id, agb_code, *parameters),
    ).fetchone()
    if found is None:
        return None
    has_contact, position = found
    return db.conn.execute(
        f"SELECT count(*) FROM draft_agb_codes WHERE draft_id = ?{where} "
        "AND ((contacts > 0) < ? OR ((contacts > 0) = ? AND position < ?))",
        (draft.id, *parameters, has_contact, has_contact, position),
    ).fetchone()[0]


def codes_without_contact(db, draft: Draft, limit: int = 10) -> list[str]:
    return [row[0] for row in db.conn.execute(
        "SELECT agb_code FROM draft_agb_codes WHERE draft_id = ? AND contacts = 0 ORDER BY position LIMIT ?",
        (draft.id, limit),
    )]


def count_without_contact(db, draft: Draft) -> int:
    return db.conn.execute("SELECT count(*) FROM draft_agb_codes WHERE draft_id = ? AND contacts = 0",
                           (draft.id,)).fetchone()[0]


def _claim_row(db, draft: Draft, agb_code: str, version: int, change: int) -> None:
    """Check the row is still at ``version`` and move it on; ``change`` is the change in
    its number of contacts. Raises StaleDraft when another window saved it first."""
    cursor = db.conn.execute(
        "UPDATE draft_agb_codes SET version = version + 1, contacts = contacts + ? "
        "WHERE draft_id = ? AND agb_code = ? AND version = ?",
        (change, draft.id, agb_code, version),
    )
    if cursor.rowcount != 1:
        raise StaleDraft()
    if not db.conn.execute("UPDATE drafts SET updated_at = ? WHERE id = ? AND status = 'draft'",
                           (timestamp(), draft.id)).rowcount:
        raise StaleDraft()  # submitted meanwhile: frozen


def save_contact(db, draft: Draft, agb_code: str, version: int, position: int, contact: ContactPerson) -> None:
    """Step 6: the contact person at ``position`` (1 or 2) of one code, typed by the
    applicant. Reads and writes that row only."""
    with write(db):
        count = db.conn.execute(
            "SELECT contacts FROM draft_agb_codes WHERE draft_id = ? AND agb_code = ?", (draft.id, agb_code)
        ).fetchone()
        if count is None:
            raise Refused("unknown_code")
        position = min(position, count[0] + 1)
        if position > MAX_CONTACTS:
            raise Refused("too_many")
        adds = int(position > count[0])
        _claim_row(db, draft, agb_code, version, adds)
        db.conn.execute(
            "INSERT INTO contact_persons (draft_id, agb_code, position, initials, prefix, surname, email, phone, "
            "source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'applicant') ON CONFLICT (draft_id, agb_code, position) "
            "DO UPDATE SET initials = excluded.initials, prefix = excluded.prefix, surname = excluded.surname, "
            "email = excluded.email, phone = excluded.phone, source = excluded.source",
            (draft.id, agb_code, position, contact.initials, contact.prefix, contact.surname, contact.email,
             contact.phone),
        )
        audit(db, draft.id, 6, f"contact person {position} of AGB code {agb_code} saved")


def remove_contact(db, draft: Draft, agb_code: str, version: int, position: int) -> None:
    """Step 6: remove one contact person of a code; a second one moves up."""
    with write(db):
        _claim_row(db, draft, agb_code, version, -1)
        removed = db.conn.execute(
            "DELETE FROM contact_persons WHERE draft_id = ? AND agb_code = ? AND position = ?",
            (draft.id, agb_code, position),
        ).rowcount
        if not removed:
            raise Refused("unknown_contact")  # rolls the claim back
        db.conn.execute(
            "UPDATE contact_persons SET position = position - 1 WHERE draft_id = ? AND agb_code = ? "
            "AND position > ?", (draft.id, agb_code, position))
        audit(db, draft.id, 6, f"contact person {position} of AGB code {agb_code} removed")


def main_contact_details(db, draft: Draft) -> tuple | None:
    """The main contact's details as a row filled from them holds them, or None."""
    main = person(db, draft, MAIN_CONTACT)
    return _as_contact(main) if main else None


def _as_contact(main: Person) -> tuple:
    """The main contact as the columns ``_FILLED`` of the rows filled from them."""
    return (main.initials, main.prefix, main.surname, main.email, main.mobile)


_FILLED = "initials, prefix, surname, email, phone"
_FILLED_DESCENDING = "initials DESC, prefix DESC, surname DESC, email DESC, phone DESC"


def fill_with_main_contact(db, draft: Draft, version: int) -> int:
    """Step 6's bulk action: every code without a contact person gets the main contact.
    Returns how many codes were filled."""
    main = person(db, draft, MAIN_CONTACT)
    if main is None:
        raise Refused("no_main_contact")
    with write(db):
        save_answers(db, draft, version, 6, "codes without contact filled with the main contact")
        filled = db.conn.execute(
            "INSERT INTO contact_persons (draft_id, agb_code, position, initials, prefix, surname, email, phone, "
            "source) SELECT draft_id, agb_code, 1, ?, ?, ?, ?, ?, 'main_contact' FROM draft_agb_codes "
            "WHERE draft_id = ? AND contacts = 0",
            (*_as_contact(main), draft.id),
        ).rowcount
        db.conn.execute(
            "UPDATE draft_agb_codes SET contacts = 1, version = version + 1 WHERE draft_id = ? AND contacts = 0",
            (draft.id,))
    return filled


def rows_behind_main_contact(db, draft: Draft) -> int:
    """How many contact persons the bulk action filled from a main contact who has
    changed since: they follow the new one only when the applicant says so."""
    main = person(db, draft, MAIN_CONTACT)
    if main is None:
        return 0
    current = _as_contact(main)
    # The index contact_persons_source holds the filled rows sorted by these details: when the
    # first and the last of them are the current main contact, all are (the usual case, two
    # seeks where a count reads every row).
    ends = db.conn.execute(
        f"SELECT * FROM (SELECT {_FILLED} FROM contact_persons WHERE draft_id = ?1 AND source = 'main_contact' "
        f"ORDER BY {_FILLED} LIMIT 1) UNION ALL "
        f"SELECT * FROM (SELECT {_FILLED} FROM contact_persons WHERE draft_id = ?1 AND source = 'main_contact' "
        f"ORDER BY {_FILLED_DESCENDING} LIMIT 1)",
        (draft.id,),
    ).fetchall()
    if all(tuple(row) == current for row in ends):
        return 0
    # All the rows it filled less those that still match: two counts along the same index
    # (the columns are never NULL).
    return db.conn.execute(
        "SELECT (SELECT count(*) FROM contact_persons WHERE draft_id = ?1 AND source = 'main_contact') - "
        "(SELECT count(*) FROM contact_persons WHERE draft_id = ?1 AND source = 'main_contact' "
        "AND initials = ?2 AND prefix = ?3 AND surname = ?4 AND email = ?5 AND phone = ?6)",
        (draft.id, *current),
    ).fetchone()[0]


def follow_main_contact(db, draft: Draft, version: int) -> int:
    """Give the rows the bulk action filled the current main contact's details."""
    main = person(db, draft, MAIN_CONTACT)
    if main is None:
        raise Refused("no_main_contact")
    with write(db):
        save_answers(db, draft, version, 6, "codes filled from the main contact follow the new main contact")
        db.conn.execute(
            "UPDATE draft_agb_codes SET version = version + 1 WHERE draft_id = ? AND agb_code IN "
            "(SELECT agb_code FROM contact_persons WHERE draft_id = ? AND source = 'main_contact')",
            (draft.id, draft.id))
        return db.conn.execute(
            "UPDATE contact_persons SET initials = ?, prefix = ?, surname = ?, email = ?, phone = ? "
            "WHERE draft_id = ? AND source = 'main_contact'",
            (*_as_contact(main), draft.id),
        ).rowcount


def finish_contacts(db, draft: Draft, version: int) -> None:
    """Step 6 answered: every code has a contact person (checked by the caller)."""
    with write(db):
        save_answers(db, draft, version, 6, "contact persons confirmed", contacts_done_at=timestamp())


# -- ICT administrators ----------------------------------------------------------------------


def ict_admins(db, draft: Draft) -> list[IctAdmin]:
    return [IctAdmin(**dict(row)) for row in db.conn.execute(
        "SELECT id, name, email, phone FROM ict_admins WHERE draft_id = ? ORDER BY id", (draft.id,))]


def add_ict_admin(db, draft: Draft, version: int, name: str, email: str, phone: str) -> bool:
    """Adds the administrator, unless the list holds them already (a second click of the same button,
    whose version is stale by then, or the same person added again): then nothing changes. Whether
    they were added."""
    with write(db):
        listed = ict_admins(db, draft)
        if any((admin.name, admin.email.casefold(), admin.phone) == (name, email.casefold(), phone)
               for admin in listed):
            return False
        if len(listed) >= MAX_ICT_ADMINS:
            raise Refused("too_many")
        save_answers(db, draft, version, 7, "ICT administrator added")
        db.conn.execute("INSERT INTO ict_admins (draft_id, name, email, phone) VALUES (?, ?, ?, ?)",
                        (draft.id, name, email, phone))
    return True


def remove_ict_admin(db, draft: Draft, version: int, admin_id: int) -> None:
    with write(db):
        save_answers(db, draft, version, 7, "ICT administrator removed")
        if not db.conn.execute("DELETE FROM ict_admins WHERE draft_id = ? AND id = ?", (draft.id, admin_id)).rowcount:
            raise Refused("unknown_admin")  # rolls the version and audit entry back


def finish_ict(db, draft: Draft, version: int) -> None:
    """Step 7 answered: with the administrators listed, or none (it is optional)."""
    with write(db):
        save_answers(db, draft, version, 7, "ICT administrators confirmed", ict_done_at=timestamp())
