"""Look-ups in the registry file: KvK companies, Vektis AGB codes, VECOZO contacts.

The file format is the stable one of SPEC §6. Nothing here assumes more about
its content than that format: a real KvK or Vektis adapter can replace
:class:`Registry` by offering the same methods and raising the same errors.
"""

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from . import validators


log = logging.getLogger(__name__)


class RegistryError(Exception):
    """A look-up that cannot give the applicant what they asked for."""


class UnknownCompany(RegistryError):
    pass


class InactiveCompany(RegistryError):
    pass


class UnknownAgbCode(RegistryError):
    pass


class InactiveAgbCode(RegistryError):
    pass


class AgbCodeOfOtherCompany(RegistryError):
    pass


class RegistryUnavailable(RegistryError):
    pass


AUTHORITIES = {"azb", "gb", "nb"}


@dataclass(frozen=True)
class Officer:
    id: str
    initials: str
    first_names: str
    prefix: str
    surname: str
    role: str
    authority: str  # azb, gb or nb

    @property
    def full_name(self) -> str:
        return validators.full_name(self.initials, self.prefix, self.surname)

    @property
    def natural_person(self) -> bool:
        """A person, not a legal entity (a holding as director): the extract gives a person's
        initials or first names, an entity only its name (in ``achternaam``)."""
        return bool(self.initials.strip() or self.first_names.strip())


@dataclass(frozen=True)
class Address:
    street: str
    number: int | str
    addition: str
    postcode: str
    city: str


@dataclass(frozen=True)
class Company:
    kvk_number: str
    name: str
    trade_names: tuple[str, ...]
    legal_form: str
    active: bool
    branch_number: str
    address: Address
    officers: tuple[Officer, ...] = field(default=())
    # The registry's own record, kept as the draft's snapshot of the look-up.
    raw: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class AgbCode:
    code: str
    kvk_number: str
    name: str
    zorgsoort: str
    party_type: str
    active: bool


@dataclass(frozen=True)
class Contact:
    agb_code: str
    initials: str
    prefix: str
    surname: str
    email: str
    phone: str


def _flag(raw: dict, name: str) -> bool:
    """A ``true | false`` of the format; left out, false. Anything else (``"false"``, ``0``) makes
    the record broken: guessed, a string "false" would count as true."""
    value = raw.get(name, False)
    if not isinstance(value, bool):
        raise ValueError(f"{name} is {value!r}, not true or false")
    return value


class _Texts:
    """How a record's texts are read. Strictly from the registry file: anything but a text (or null)
    makes the record broken, since guessed, a number as a surname or a string of trade names would
    be shown as something it is not. Leniently from a draft's own snapshot (``stored``), taken by an
    earlier, more lenient check: what is there is shown as text, never refused."""

    def __init__(self, strict: bool):
        self.strict = strict

    def text(self, raw: dict, name: str) -> str:
        """A text; left out or null, ""."""
        value = raw.get(name)
        if value is None:
            return ""
        if not isinstance(value, str):
            if self.strict:
                raise ValueError(f"{name} is {value!r}, not a text")
            return str(value)
        return value

    def required(self, raw: dict, name: str) -> str:
        if raw.get(name) is None:
            raise KeyError(name)
        return self.text(raw, name)

    def texts(self, raw: dict, name: str) -> tuple[str, ...]:
        values = raw.get(name) or []
        if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
            if self.strict:
                raise ValueError(f"{name} is {values!r}, not a list of texts")
            return tuple(str(value) for value in values) if isinstance(values, list) else (str(values),)
        return tuple(values)

    def text_or_number(self, raw: dict, name: str) -> str | int:
        """A house number, an officer's id: 12 or "12" (a bool is no number)."""
        value = raw.get(name)
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            if self.strict:
                raise ValueError(f"{name} is {value!r}, not a number or a text")
            return str(value)
        return value


_STRICT, _LENIENT = _Texts(strict=True), _Texts(strict=False)


def _officer(person: dict, read: _Texts) -> Officer:
    if person.get("id") is None:
        raise KeyError("id")  # step 4 could not choose them
    return Officer(
        id=str(read.text_or_number(person, "id")),
        initials=read.text(person, "voorletters") or initials_of(read.text(person, "voornamen")),
        first_names=read.text(person, "voornamen"),
        prefix=read.text(person, "tussenvoegsel"),
        surname=read.text(person, "achternaam"),
        role=read.text(person, "functie"),
        authority=read.text(person, "bevoegdheid") or "nb",
    )


def company_from_json(raw: dict, stored: bool = False) -> Company:
    """A company record of the registry file; ``stored``: a draft's own snapshot of one (``_Texts``)."""
    read = _LENIENT if stored else _STRICT
    branch = raw.get("hoofdvestiging") or {}
    address = branch.get("adres") or {}
    return Company(
        kvk_number=read.required(raw, "kvkNummer"),
        name=read.required(raw, "naam"),
        trade_names=read.texts(raw, "handelsnamen"),
        legal_form=read.text(raw, "rechtsvorm"),
        active=_flag(raw, "actief"),
        branch_number=read.text(branch, "vestigingsnummer"),
        address=Address(
            street=read.text(address, "straatnaam"),
            number=read.text_or_number(address, "huisnummer"),
            addition=read.text(address, "huisnummerToevoeging"),
            postcode=read.text(address, "postcode"),
            city=read.text(address, "plaats"),
        ),
        officers=tuple(_officer(person, read) for person in raw.get("functionarissen") or ()),
        raw=raw,
    )


# What a draft keeps of an officer: enough to show and choose them. Birth dates and first names
# are never needed: the applicant types the signatory's birth date (step 4).
_OFFICER_FIELDS = ("id", "voorletters", "tussenvoegsel", "achternaam", "functie", "bevoegdheid")


def company_snapshot(raw: dict) -> dict:
    """The company record as a draft stores it: the registry's own format, without
    the officers' personal data that no step shows (an officer given by first names only
    is kept with their initials)."""
    snapshot = {key: value for key, value in raw.items() if key != "functionarissen"}
    snapshot["functionarissen"] = [_kept_officer(person) for person in raw.get("functionarissen") or ()]
    return snapshot


def _kept_officer(person: dict) -> dict:
    kept = {key: person[key] for key in _OFFICER_FIELDS if key in person}
    first_names = person.get("voornamen")
    if not str(kept.get("voorletters") or "").strip() and isinstance(first_names, str) and first_names.strip():
        kept["voorletters"] = initials_of(first_names)
    return kept


def initials_of(first_names: str) -> str:
    """The initials of an officer whose extract gives first names and no initials, as step 4
    prefills them ("Jan Willem" -> "J.W.", "Anne-Marie" -> "A.-M.", "IJsbrand" -> "IJ."):
    the person is a natural person all the same, who may sign."""
    initials = []
    for name in first_names.split():
        letters = ["IJ" if part[:2].upper() == "IJ" else part[0].upper()
                   for part in name.split("-") if part and part[0].isalpha()]
        if letters:
            initials.append(".-".join(letters) + ".")
    return "".join(initials)


def agb_from_json(raw: dict) -> AgbCode:
    code = _STRICT.required(raw, "agbCode")
    return AgbCode(
        code=code,
        kvk_number=_STRICT.required(raw, "kvkNummer"),
        name=_STRICT.text(raw, "naam"),
        zorgsoort=_STRICT.text(raw, "zorgsoort") or code[:2],
        party_type=_STRICT.text(raw, "zorgpartijType"),
        active=_flag(raw, "actief"),
    )


def usable_contact(contact: Contact) -> Contact | None:
    """``contact`` as step 6 stores a contact person typed into a row, checked and normalised by
    the row form's own checks; None when the record would not pass them (a name or an address
    missing, a phone number that is none): such a record is no contact person, and step 6 asks
    the applicant for one."""
    try:
        return Contact(agb_code=contact.agb_code, initials=validators.initials(contact.initials),
                       prefix=validators.prefix(contact.prefix), surname=validators.surname(contact.surname),
                       email=validators.agreement_email(contact.email), phone=validators.phone(contact.phone))
    except validators.Invalid:
        return None


class KnownContacts(Mapping):
    """The usable contacts of every AGB code that has any, checked when first asked for: a file
    may hold many thousands, and a look-up needs those of one organisation's codes."""

    def __init__(self, contacts: Mapping[str, tuple[Contact, ...]]):
        self._contacts = contacts
        self._usable: dict[str, tuple[Contact, ...]] = {}

    def __getitem__(self, agb_code: str) -> tuple[Contact, ...]:
        usable = self._usable.get(agb_code)
        if usable is None:
            usable = self._usable[agb_code] = tuple(
                found for found in map(usable_contact, self._contacts[agb_code]) if found)
        return usable

    def __iter__(self):
        return iter(self._contacts)

    def __len__(self) -> int:
        return len(self._contacts)


def contact_from_json(raw: dict) -> Contact:
    # A field left out or null is empty: the file says what it knows, nothing more.
    return Contact(
        agb_code=str(raw["agbCode"]),
        initials=str(raw.get("voorletters") or ""),
        prefix=str(raw.get("tussenvoegsel") or ""),
        surname=str(raw.get("achternaam") or ""),
        email=str(raw.get("email") or ""),
        phone=str(raw.get("telefoon") or ""),
    )


class Registry:
    """The registry file, indexed once per change of the file."""

    def __init__(self, data: dict):
        if not isinstance(data, dict) or not all(isinstance(data.get(part), list) for part in ("companies", "agb")):
            raise ValueError("not a registry file: it needs a list of companies and a list of AGB codes")
        self.skipped = 0
        # ("kvkNummer", "41000009"): a record that is there but broken, which a look-up cannot answer.
        self._broken: set[tuple[str, str]] = set()
        self._companies = {c.kvk_number: c for c in self._parse(company_from_json, data["companies"], "kvkNummer")}
        self._agb = {a.code: a for a in self._parse(agb_from_json, data["agb"], "agbCode")}
        self._by_kvk: dict[str, list[AgbCode]] = {}
        for code in self._agb.values():
            self._by_kvk.setdefault(code.kvk_number, []).append(code)
        # Sorted once per file, not on every look-up (an organisation may have 1,000 codes).
        self._active_by_kvk = {
            kvk: tuple(sorted((code for code in codes if code.active), key=lambda code: code.code))
            for kvk, codes in self._by_kvk.items()
        }
        contacts: dict[str, list[Contact]] = {}
        for contact in self._parse(contact_from_json, data.get("contacts")):
            contacts.setdefault(contact.agb_code, []).append(contact)
        self._contacts = KnownContacts({code: tuple(known) for code, known in contacts.items()})
        self._unavailable = frozenset(str(kvk) for kvk in data.get("unavailable") or ())

    def _parse(self, parse, records, number: str | None = None) -> list:
        """Every record that has what the format requires; one broken record does not
        make the other companies unreachable. ``skipped`` counts the rest; a broken record's
        ``number`` field, when it has one, is kept in ``_broken``."""
        parsed = []
        for record in records or ():
            try:
                parsed.append(parse(record))
            except (KeyError, TypeError, AttributeError, ValueError):
                self.skipped += 1
                if number and isinstance(record, dict) and record.get(number) is not None:
                    self._broken.add((number, str(record[number])))
        return parsed

    @classmethod
    def from_file(cls, path: str) -> "Registry":
        with open(path, encoding="utf-8") as handle:
            return cls(json.load(handle))

    def company(self, kvk_number: str) -> Company:
        if kvk_number in self._unavailable:
            raise RegistryUnavailable(kvk_number)
        try:
            company = self._companies[kvk_number]
        except KeyError:
            if ("kvkNummer", kvk_number) in self._broken:
                raise RegistryUnavailable(kvk_number) from None
            raise UnknownCompany(kvk_number) from None
        if not company.active:
            raise InactiveCompany(kvk_number)
        return company

    def agb_code(self, code: str, kvk_number: str | None = None) -> AgbCode:
        """The AGB code, checked to be active and, given a KvK number, to belong to it."""
        try:
            agb = self._agb[code]
        except KeyError:
            if ("agbCode", code) in self._broken:
                raise RegistryUnavailable(code) from None
            raise UnknownAgbCode(code) from None
        if kvk_number is not None and agb.kvk_number != kvk_number:
            raise AgbCodeOfOtherCompany(code)
        if not agb.active:
            raise InactiveAgbCode(code)
        return agb

    def active_agb_codes(self, kvk_number: str) -> list[AgbCode]:
        return list(self._active_by_kvk.get(kvk_number, ()))

    def contacts(self, agb_code: str) -> list[Contact]:
        """The contact persons VECOZO knows for a code that step 6 may take as they are."""
        return list(self._contacts.get(agb_code, ()))

    def known_contacts(self) -> Mapping[str, tuple[Contact, ...]]:
        """Every AGB code's usable contacts, read-only: a save takes those of the codes it adds,
        rather than a copy for every code made beforehand."""
        return self._contacts

    def companies(self) -> list[Company]:
        """Every company, in file order (for the demo start page)."""
        return list(self._companies.values())

    def is_unavailable(self, kvk_number: str) -> bool:
        return kvk_number in self._unavailable

    def agb_codes_of(self, kvk_number: str) -> list[AgbCode]:
        """Every AGB code of a KvK number, active or not (for the demo start page)."""
        return sorted(self._by_kvk.get(kvk_number, ()), key=lambda code: code.code)


class RegistryFile:
    """Loads the registry file lazily and again when it changes on disk.

    A missing or broken file makes every look-up fail with
    :class:`RegistryUnavailable`, so the app keeps serving and the applicant is
    told to try again later.
    """

    def __init__(self, path: str):
        self.path = path
        self._loaded: tuple[float, Registry] | None = None

    def get(self) -> Registry:
        try:
            mtime = os.stat(self.path).st_mtime
            if self._loaded is None or self._loaded[0] != mtime:
                registry = Registry.from_file(self.path)
                if registry.skipped:
                    log.warning("registry %s: %s records without the required fields skipped",
                                self.path, registry.skipped)
                self._loaded = (mtime, registry)
        # RecursionError: JSON nested deeper than Python's parser goes.
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as error:
            raise RegistryUnavailable(str(error)) from error
        return self._loaded[1]


def load_names(path: str) -> dict[str, str]:
    """A JSON object of code -> name, such as the Vektis zorgsoort list."""
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


UNKNOWN_ZORGSOORT = "Onbekende zorgsoort"


def zorgsoort_name(names: dict[str, str], code: str) -> str:
    """A zorgsoort's name in the Vektis list (``load_names``). A registry may hold a code that the
    list lacks ("00", a zorgsoort newer than the list): it is named as unknown, never left blank;
    wherever it is shown its number stands beside it, or the AGB code that starts with it. Dutch,
    as the list's names are: shown as Dutch data in every language (``lang="nl"``), and in the PDF."""
    return names.get(code) or UNKNOWN_ZORGSOORT
