"""Step 6's contact persons from a spreadsheet: the template to download (.xlsx and .csv), a
filled-in file read back, the plan of what it would change, and that plan applied.

A file is read by what it holds, not by its name: a PNG renamed .xlsx is refused as what it is.
An .xlsx is a zip, whose declared sizes are checked before openpyxl opens it (zipfile never
inflates an entry beyond its declared size), and openpyxl reads its XML through defusedxml.
openpyxl is imported when a file is first made or read: a worker that never sees one does not
carry it. Nothing of the file is applied before the applicant confirms the plan; until then the
rows as read and the plan wait in ``pending_uploads`` (one per draft), not in the session.

No Flask in here: the rules a row must meet come in as ``checks``, the inline form's own.
"""

import csv
import io
import json
import logging
import re
import secrets
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from . import validators
from .drafts import Draft, StaleDraft, save_answers
from .people import MAX_CONTACTS, CodeRow, ContactPerson, code_rows
from .registry import zorgsoort_name
from .store import timestamp, write

log = logging.getLogger(__name__)

CODE = "agb_code"
FIELDS = ("initials", "prefix", "surname", "email", "phone")
POSITIONS = tuple(range(1, MAX_CONTACTS + 1))
# What a file must have: the code and the first contact's required fields (the prefix is optional,
# and so is a second contact).
REQUIRED = (CODE, "initials", "surname", "email", "phone")
MAX_COLUMNS = 50

# The template's 2,000 fully filled rows unpack to 1.4 MB at a ratio of 14; a zip bomb to gigabytes
# from a few kilobytes. What openpyxl does parse (about 10 us a cell) stays within a second or two.
MAX_UNPACKED = 10 * 1024 * 1024
MAX_RATIO = 100
MAX_ENTRIES = 500
# Rows without anything in them are passed over; more than this many in all refuse the file, rather
# than leave out silently what follows them. (Counted over the whole sheet, not in a row: a few rows
# each 10,000 apart would make a worker walk millions.)
MAX_EMPTY_ROWS = 10_000

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"


def column(field_name: str, position: int) -> str:
    """A column's key: the field's name, with ``_2`` for the second contact person."""
    return field_name if position == 1 else f"{field_name}_{position}"


COLUMNS = (CODE, "name", "zorgsoort", *(column(name, position) for position in POSITIONS for name in FIELDS))

# The template's header row in each language; a file may use either, the columns' keys above,
# or the usual Dutch and English words (see _ALIASES), in any order.
HEADERS = {
    "nl": dict(zip(COLUMNS, (
        "AGB-code", "Naam", "Zorgsoort",
        "Voorletters 1", "Tussenvoegsel 1", "Achternaam 1", "E-mailadres 1", "Telefoonnummer 1",
        "Voorletters 2", "Tussenvoegsel 2", "Achternaam 2", "E-mailadres 2", "Telefoonnummer 2"))),
    "en": dict(zip(COLUMNS, (
        "AGB code", "Name", "Type of care",
        "Initials 1", "Surname prefix 1", "Surname 1", "Email address 1", "Phone number 1",
        "Initials 2", "Surname prefix 2", "Surname 2", "Email address 2", "Phone number 2"))),
}
SHEET_TITLE = {"nl": "Contactpersonen", "en": "Contact persons"}

_ALIASES = {
    "agbcode": CODE, "agb": CODE, "agbnummer": CODE, "code": CODE,
    "naam": "name", "name": "name", "naamagb": "name",
    "zorgsoort": "zorgsoort", "typeofcare": "zorgsoort", "caretype": "zorgsoort",
    "initials": "initials", "voorletters": "initials", "voorletter": "initials",
    "prefix": "prefix", "tussenvoegsel": "prefix", "tussenvoegsels": "prefix", "surnameprefix": "prefix",
    "surname": "surname", "achternaam": "surname", "lastname": "surname", "familyname": "surname",
    "email": "email", "emailadres": "email", "emailaddress": "email", "mail": "email",
    "phone": "phone", "telefoon": "phone", "telefoonnummer": "phone", "phonenumber": "phone",
    "telephone": "phone", "tel": "phone",
}


class FileRefused(Exception):
    """A file that cannot be read as the template: ``reason`` names why, ``details`` fill the message."""

    def __init__(self, reason: str, **details):
        super().__init__(reason)
        self.reason = reason
        self.details = details


class UploadGone(Exception):
    """The preview confirmed is no longer the draft's pending upload (stored already, or replaced)."""


# -- the template -----------------------------------------------------------------------------------

# Cells a spreadsheet would take for a formula (OWASP's list): a quote in front keeps them text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A phone number as stored (E.164, "+31612345678") starts with "+" but is a number, never a formula.
_E164 = re.compile(r"\+[0-9]{7,15}")


def neutralised(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) and not _E164.fullmatch(text) else text


def _unquoted(text: str) -> str:
    """A cell as it was before ``neutralised``."""
    return text[1:] if text.startswith("'") and text[1:].startswith(_FORMULA_START) else text


def template_rows(db, draft: Draft, zorgsoorten: dict[str, str]) -> list[list[str]]:
    """Every AGB code of the draft in the registry's order with its name, its zorgsoort and the
    contact persons it has now (known at VECOZO, typed, or the main contact), one row each."""
    rows: dict[str, list[str]] = {}
    phone = validators.phone_formatter()
    for found in db.conn.execute(
        "SELECT c.agb_code, c.name, c.zorgsoort, p.initials, p.prefix, p.surname, p.email, p.phone "
        "FROM draft_agb_codes c LEFT JOIN contact_persons p ON p.draft_id = c.draft_id AND p.agb_code = c.agb_code "
        "WHERE c.draft_id = ? ORDER BY c.position, p.position", (draft.id,)):
        row = rows.setdefault(found["agb_code"], [
            found["agb_code"], found["name"], zorgsoort_name(zorgsoorten, found["zorgsoort"])])
        if found["surname"] is not None:
            row += [found["initials"], found["prefix"], found["surname"], found["email"],
                    phone(found["phone"])]
    width = len(COLUMNS)
    return [row + [""] * (width - len(row)) for row in rows.values()]


def csv_template(rows: list[list[str]], language: str) -> bytes:
    """For Dutch spreadsheet programs: UTF-8 with a byte order mark, ';' between cells."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADERS[language].values())
    writer.writerows([neutralised(cell) for cell in row] for row in rows)
    return out.getvalue().encode("utf-8")


# The most characters Excel keeps in a cell: a longer registry text would make it repair the file.
EXCEL_CELL_CHARS = 32_767


def xlsx_template(rows: list[list[str]], language: str) -> bytes:
    """The same as an Excel workbook: every cell text (an AGB code keeps its leading zero, and so
    does a phone number typed into an empty cell; one typed over a filled cell may lose it, which
    reading it back repairs), the header row bold and frozen."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET_TITLE[language])
    sheet.freeze_panes = "A2"
    for index, key in enumerate(COLUMNS, start=1):
        dimension = sheet.column_dimensions[get_column_letter(index)]
        dimension.width = 40 if key == "name" else 22 if key.startswith("email") else 16
        dimension.number_format = "@"

    def header(text):
        made = WriteOnlyCell(sheet, value=text)
        made.font = bold
        return made

    bold = Font(bold=True)
    sheet.append([header(text) for text in HEADERS[language].values()])
    # Plain strings: openpyxl writes each as text, and an empty cell (not written) takes its
    # column's text format, also when the row is typed into (a style per cell costs 3x the time).
    for row in rows:
        sheet.append([neutralised(value)[:EXCEL_CELL_CHARS] or None for value in row])
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        workbook.save(out)
    return out.getvalue()


# -- reading a file ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetRow:
    line: int                 # the row's number in the file, as a spreadsheet program shows it
    values: dict[str, str]    # column key -> the cell as text, as read
    flags: dict[str, str] = field(default_factory=dict)  # column key -> "formula" or "date"


@dataclass(frozen=True)
class Sheet:
    file_name: str
    headers: dict[str, str]   # column key -> its header as the file has it
    rows: tuple[SheetRow, ...]


_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls, and every password-protected Office file
_NOT_SPREADSHEETS = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM", b"II*\x00", b"MM\x00*", b"RIFF",
                     b"\x1f\x8b", b"Rar!", b"7z\xbc\xaf", b"<?xml", b"{\\rtf")


def row_limit(codes: int) -> int:
    """The most rows a file may have: twice the draft's codes (room for rows with a mistake
    in them, which the preview then shows), and never fewer than 100."""
    return max(2 * codes, 100)


def read(data: bytes, file_name: str, limit: int) -> Sheet:
    """The rows of an .xlsx or .csv file with the template's columns; FileRefused if it has none,
    more than ``limit``, or is no such file."""
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise FileRefused("empty")
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data, file_name, limit)
    if data.startswith(_OLE):
        raise FileRefused("encrypted")
    if data.startswith(_NOT_SPREADSHEETS) or file_name.lower().endswith((".xlsx", ".xlsm", ".xls", ".ods")):
        raise FileRefused("not_a_spreadsheet")
    return _read_csv(data, file_name, limit)


def _read_xlsx(data: bytes, file_name: str, limit: int) -> Sheet:
    _check_zip(data)
    from openpyxl import load_workbook

    # openpyxl raises whatever its parsers meet in a broken file (KeyError, ValueError, XML
    # errors, ...): each is a file we cannot read, told as such, and logged for us.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # Without data_only: a formula comes as a formula (data_type "f"), to be refused
            # rather than read as the value Excel last calculated, or as nothing.
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
            try:
                if not workbook.worksheets:
                    raise FileRefused("not_a_spreadsheet")
                cells = workbook.worksheets[0].iter_rows(max_col=MAX_COLUMNS)
                return _rows(file_name, (_xlsx_row(row) for row in cells), limit)
            finally:
                workbook.close()
    except FileRefused:
        raise
    except Exception as error:  # noqa: BLE001 - see above
        log.info("unreadable .xlsx upload: %s: %s", type(error).__name__, str(error)[:200])
        raise FileRefused("corrupt") from None


def _xlsx_row(row) -> list:
    """A row's cells as (text, flag) pairs; none for a row of nothing (openpyxl fills the rows a
    sheet skips with its one empty cell), so that an empty row costs no conversion."""
    from openpyxl.cell.read_only import EMPTY_CELL

    if all(cell is EMPTY_CELL for cell in row):
        return []
    return [_xlsx_cell(cell) for cell in row]


def _check_zip(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise FileRefused("corrupt") from None
    if len(entries) > MAX_ENTRIES or sum(entry.file_size for entry in entries) > MAX_UNPACKED:
        raise FileRefused("too_big_unpacked")
    for entry in entries:
        if entry.file_size > 1024 * 1024 and entry.file_size > MAX_RATIO * max(entry.compress_size, 1):
            raise FileRefused("too_big_unpacked")
        if entry.flag_bits & 0x1:
            raise FileRefused("encrypted")
    if "xl/workbook.xml" not in {entry.filename for entry in entries}:
        raise FileRefused("not_a_spreadsheet")  # a .docx, an .ods, a zip of photos


def _xlsx_cell(cell) -> tuple[str, str | None]:
    value = cell.value
    if getattr(cell, "data_type", None) == "f":
        return str(getattr(value, "text", value) or ""), "formula"
    if value is None:
        return "", None
    if isinstance(value, (datetime, date, time)):
        return value.isoformat(), "date"
    if isinstance(value, timedelta):
        return str(value), "date"
    if isinstance(value, bool):
        return str(value).upper(), None
    if isinstance(value, float):
        return (str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)), None
    return _unquoted(str(value)), None


# Control characters (Unicode's Cc) other than tab and line breaks: no text file holds them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def shown(cell: str) -> str:
    """A cell as a page shows it: a control character (which no page may hold) as "\ufffd"."""
    return _CONTROL.sub("\ufffd", cell)


def _read_csv(data: bytes, file_name: str, limit: int) -> Sheet:
    text = _decoded(data)
    # Many control characters: a file of another kind (a photo named .csv). A stray one in a text
    # file is the error of its cell, which the row's checks name.
    if len(_CONTROL.findall(text)) > max(8, len(text) // 200):
        raise FileRefused("not_a_spreadsheet")
    sample = "\n".join([line for line in text.splitlines()[:1000] if line.strip()][:HEADER_SEARCH])
    delimiter = max(";,\t", key=sample.count)  # ';' first: the Dutch default wins a tie
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        return _rows(file_name, ([(_unquoted(cell), None) for cell in row[:MAX_COLUMNS]] for row in reader),
                     limit)
    except csv.Error:
        raise FileRefused("corrupt") from None


def _decoded(data: bytes) -> str:
    """UTF-8 (with or without a byte order mark), UTF-16 with one (Excel's "Unicode text") or
    without (every other byte of its Latin text a zero), else Windows-1252 (what Excel writes as
    "CSV" on a Dutch Windows)."""
    start = data[:1000]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ("utf-16",)
    elif len(data) % 2 == 0 and start[1::2].count(0) > len(start) // 4:
        encodings = ("utf-16-le",)
    elif len(data) % 2 == 0 and start[0::2].count(0) > len(start) // 4:
        encodings = ("utf-16-be",)
    else:
        encodings = ("utf-8-sig", "cp1252")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileRefused("not_a_spreadsheet")


# A title or a note above the header row is passed over, up to this many rows.
HEADER_SEARCH = 10


def _rows(file_name: str, rows, limit: int) -> Sheet:
    """The header row (the first with the template's columns, among the first rows with anything
    in them) and the rows under it."""
    headers: dict[str, str] = {}
    where: dict[str, int] = {}
    found: list[SheetRow] = []
    empty = 0
    searched: list[FileRefused] = []
    for line, cells in enumerate(rows, start=1):
        if not any(text.strip() for text, _flag in cells):
            empty += 1
            if empty > MAX_EMPTY_ROWS:
                raise FileRefused("empty_rows", limit=MAX_EMPTY_ROWS)
            continue
        if not where:
            try:
                where, headers = _columns([text for text, _flag in cells])
            except FileRefused as refused:
                if refused.reason != "missing_columns":
                    raise
                searched.append(refused)
                if len(searched) >= HEADER_SEARCH:
                    raise searched[0] from None  # the first row is the likeliest header
            continue
        if len(found) >= limit:
            raise FileRefused("too_many_rows", limit=limit)
        values, flags = {}, {}
        for key, index in where.items():
            text, flag = cells[index] if index < len(cells) else ("", None)
            values[key] = text
            if flag:
                flags[key] = flag
        found.append(SheetRow(line, values, flags))
    if not where:
        raise searched[0] if searched else FileRefused("empty")
    if not found:
        raise FileRefused("no_rows")
    return Sheet(file_name, headers, tuple(found))


def _plain(header: str) -> str:
    letters = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]", "", letters)


def _named(key: str) -> tuple[str, int | None]:
    """A column key as (field, contact person): "initials_2" is ("initials", 2); "initials" and
    the code's key name no contact person."""
    base, _, number = key.rpartition("_")
    return (base, int(number)) if base in FIELDS and number.isdigit() else (key, None)


def _header_words() -> dict[str, tuple[str, int | None]]:
    words = {alias: (key, None) for alias, key in _ALIASES.items()}
    words.update({_plain(key): _named(key) for key in COLUMNS})
    for language in HEADERS.values():
        for key, header in language.items():
            name, position = _named(key)
            words[_plain(header)] = (name, position or (1 if name in FIELDS else None))
    return words


_HEADER_WORDS = _header_words()
_NUMBERED = re.compile(r"(.*?)([12])")


def _header(text: str) -> tuple[str, int | None] | None:
    """The field a header names and the contact person it is about (None: not said), or None."""
    plain = _plain(text)
    if plain in _HEADER_WORDS:
        return _HEADER_WORDS[plain]
    if (match := _NUMBERED.fullmatch(plain)) and _ALIASES.get(match.group(1)) in FIELDS:
        return _ALIASES[match.group(1)], int(match.group(2))
    return None


def _columns(headers: list[str]) -> tuple[dict[str, int], dict[str, str]]:
    """Which column holds what, by its header, in any order. A contact field named without a
    number is the first contact person's, named again the second's. The name and zorgsoort
    columns are the template's information: not read."""
    where: dict[str, int] = {}
    unnumbered: list[tuple[int, str, str]] = []
    for index, text in enumerate(headers):
        found = _header(text)
        if found is None or found[0] in ("name", "zorgsoort"):
            continue
        name, position = found
        if name in FIELDS and position is None:
            unnumbered.append((index, name, text))
            continue
        key = column(name, position) if name in FIELDS else name
        if key in where:
            raise FileRefused("duplicate_column", column=shown(text.strip()))
        where[key] = index
    for index, name, text in unnumbered:
        free = next((column(name, p) for p in POSITIONS if column(name, p) not in where), None)
        if free is None:
            raise FileRefused("duplicate_column", column=shown(text.strip()))
        where[free] = index
    missing = [key for key in REQUIRED if key not in where]
    if missing:
        raise FileRefused("missing_columns", columns=missing)
    return where, {key: shown(headers[index].strip()) for key, index in where.items()}


# -- what a file would change -----------------------------------------------------------------------

_SCIENTIFIC = re.compile(r"^\s*([0-9]+(?:[.,][0-9]+)?)[eE]\+?([0-9]{1,2})\s*$")


def spreadsheet_phone(text: str) -> str:
    """A phone number as a spreadsheet may have made a number of it: "6.12345678E8" or 612345678
    (the leading zero gone) is 06 12345678, 31612345678 (the plus gone) is +31 6 12345678. A Dutch
    number has ten digits with its 0: nine digits that do not start with one lost it."""
    if match := _SCIENTIFIC.match(text):
        try:
            number = Decimal(match.group(1).replace(",", ".")).scaleb(int(match.group(2)))
        except InvalidOperation:
            return text
        if number == number.to_integral_value():
            text = str(int(number))
    digits = text.strip()
    if digits.isascii() and digits.isdigit():
        if len(digits) == 9 and digits[0] != "0":
            return "0" + digits
        if len(digits) == 11 and digits.startswith("31"):
            return "+" + digits
    return text


def spreadsheet_code(text: str) -> str:
    """An AGB code whose leading zero a spreadsheet dropped (01051234 read as the number 1051234)."""
    digits = validators.strip_separators(text)
    return "0" + digits if len(digits) == 7 and digits.isascii() and digits.isdigit() else text


@dataclass(frozen=True)
class RowError:
    """A cell the plan cannot take. ``reason``: "formula" or "date" (the cell is no value),
    "unknown" or "twice" (the AGB code), else the failed check's code for that column."""

    line: int
    agb_code: str   # as the file has it
    column: str     # its key
    reason: str
    value: str      # the cell as read
    lines: tuple[int, ...] = ()  # "twice": the other rows with this code


@dataclass(frozen=True)
class Change:
    """One code's contact persons, as they are and as the file would have them."""

    agb_code: str
    version: int   # the row's version when planned: applying claims it (as an inline save does)
    before: tuple[ContactPerson, ...]
    after: tuple[ContactPerson, ...]

    @property
    def filled(self) -> bool:
        return not self.before


@dataclass(frozen=True)
class Plan:
    draft_version: int
    codes: int     # the draft's AGB codes
    rows: int      # rows read from the file
    changes: tuple[Change, ...]
    errors: tuple[RowError, ...]
    error_rows: int

    @property
    def filled(self) -> int:
        return sum(change.filled for change in self.changes)

    @property
    def changed(self) -> int:
        return len(self.changes) - self.filled

    @property
    def unchanged(self) -> int:
        return self.codes - len(self.changes)


def plan(db, draft: Draft, sheet: Sheet, checks: dict) -> Plan:
    """What ``sheet`` would change, row by row against the draft as stored now. ``checks``: per
    field of a contact person the inline form's check (normalises, or raises validators.Invalid).

    An empty contact person in a row leaves the one stored at that place as it is: a file never
    removes anyone. A row with any error changes nothing."""
    stored = {row.agb_code: row for row in code_rows(db, draft, limit=-1)}
    checks = _remembered(checks)
    lines_of: dict[str, list[int]] = {}
    parsed: list[tuple[SheetRow, str | None, dict[int, ContactPerson], list[RowError]]] = []
    for row in sheet.rows:
        typed = row.values.get(CODE, "")
        errors = [RowError(row.line, typed, key, flag, row.values.get(key, "")) for key, flag in row.flags.items()]
        code = None
        if CODE not in row.flags:
            try:
                code = validators.eight_digits(spreadsheet_code(typed))
            except validators.Invalid as invalid:
                errors.append(RowError(row.line, typed, CODE, invalid.code, typed))
            else:
                if code in stored:
                    lines_of.setdefault(code, []).append(row.line)
                else:
                    errors.append(RowError(row.line, typed, CODE, "unknown", typed))
                    code = None
        contacts = {}
        for position in POSITIONS:
            keys = {name: column(name, position) for name in FIELDS}
            if not any(row.values.get(key, "").strip() or key in row.flags for key in keys.values()):
                continue
            values = {}
            for name, key in keys.items():
                if key in row.flags:
                    continue
                text = row.values.get(key, "")
                try:
                    values[name] = checks[name](spreadsheet_phone(text) if name == "phone" else text)
                except validators.Invalid as invalid:
                    errors.append(RowError(row.line, typed, key, invalid.code, text))
            if len(values) == len(FIELDS):
                contacts[position] = ContactPerson(**values, position=position)
        parsed.append((row, code, contacts, errors))

    changes, errors, error_rows = [], [], 0
    for row, code, contacts, row_errors in parsed:
        if code is not None and len(lines_of[code]) > 1:
            others = tuple(line for line in lines_of[code] if line != row.line)
            row_errors.insert(0, RowError(row.line, row.values.get(CODE, ""), CODE, "twice",
                                          row.values.get(CODE, ""), others))
        if row_errors:
            errors += row_errors
            error_rows += 1
        elif contacts and (change := _change(stored[code], contacts, checks)):
            changes.append(change)
    return Plan(draft.version, len(stored), len(sheet.rows), tuple(changes), tuple(errors), error_rows)


def _remembered(checks: dict) -> dict:
    """``checks`` that check a value once: an office puts one person on many codes, and checking
    a phone number or an e-mail address is most of a row's time."""
    def remembering(check):
        seen: dict[str, str | validators.Invalid] = {}

        def checked(value: str) -> str:
            if value not in seen:
                try:
                    seen[value] = check(value)
                except validators.Invalid as invalid:
                    seen[value] = invalid
            found = seen[value]
            if isinstance(found, validators.Invalid):
                raise validators.Invalid(found.code)
            return found
        return checked
    return {name: remembering(check) for name, check in checks.items()}


def _change(row: CodeRow, contacts: dict[int, ContactPerson], checks: dict) -> Change | None:
    after = list(row.contacts)
    for position, contact in sorted(contacts.items()):
        place = min(position, len(after) + 1)  # the second alone, on a row without a first, is the first
        new = replace(contact, position=place, source="applicant")
        if place <= len(after):
            if _same(after[place - 1], new, checks):
                continue
            after[place - 1] = new
        else:
            after.append(new)
    if after == list(row.contacts):
        return None
    return Change(row.agb_code, row.version, row.contacts, tuple(after))


def _same(stored: ContactPerson, new: ContactPerson, checks: dict) -> bool:
    """The same person, once the stored details are normalised as typed ones are (a contact
    known at VECOZO holds its phone number as the registry writes it)."""
    def normal(name: str, value: str) -> str:
        try:
            return checks[name](value)
        except validators.Invalid:
            return value
    return all(normal(name, getattr(stored, name)) == getattr(new, name) for name in FIELDS)


# -- waiting for the applicant's word ---------------------------------------------------------------


@dataclass(frozen=True)
class Pending:
    """The draft's upload: read and planned, not yet applied (``token`` is what the preview's
    form carries); or, once its valid rows were stored (``token`` None), the rows left out."""

    token: str | None
    sheet: Sheet
    plan: Plan
    created_at: str
    stored: tuple[int, int] | None = None  # the rows stored: (codes filled, codes changed)


def _contact_json(contact: ContactPerson) -> list:
    return [contact.initials, contact.prefix, contact.surname, contact.email, contact.phone, contact.position,
            contact.source]


def _contact(values: list) -> ContactPerson:
    return ContactPerson(*values)


def _dumps(sheet: Sheet, plan: Plan, stored) -> str:
    return json.dumps({
        "file": sheet.file_name,
        "headers": sheet.headers,
        "rows": [[row.line, row.values, row.flags] for row in sheet.rows],
        "plan": {
            "draft_version": plan.draft_version, "codes": plan.codes, "rows": plan.rows,
            "error_rows": plan.error_rows,
            "changes": [[change.agb_code, change.version, [_contact_json(c) for c in change.before],
                         [_contact_json(c) for c in change.after]] for change in plan.changes],
            "errors": [[e.line, e.agb_code, e.column, e.reason, e.value, list(e.lines)] for e in plan.errors],
        },
        "stored": stored,
    }, ensure_ascii=False, separators=(",", ":"))


def _loads(token, content: str, created_at: str) -> Pending:
    data = json.loads(content)
    kept = data["plan"]
    plan = Plan(
        kept["draft_version"], kept["codes"], kept["rows"],
        tuple(Change(code, version, tuple(map(_contact, before)), tuple(map(_contact, after)))
              for code, version, before, after in kept["changes"]),
        tuple(RowError(line, code, key, reason, value, tuple(lines))
              for line, code, key, reason, value, lines in kept["errors"]),
        kept["error_rows"])
    sheet = Sheet(data["file"], data["headers"], tuple(SheetRow(line, values, flags)
                                                       for line, values, flags in data["rows"]))
    return Pending(token, sheet, plan, created_at, tuple(data["stored"]) if data["stored"] else None)


def keep(db, draft: Draft, sheet: Sheet, plan: Plan) -> str:
    """Hold the upload until the applicant confirms it, in place of any earlier one; its token."""
    token = secrets.token_urlsafe(16)
    with write(db):
        _put(db, draft, token, sheet, plan, None)
    return token


def _put(db, draft: Draft, token: str | None, sheet: Sheet, plan: Plan, stored) -> None:
    db.conn.execute(
        "INSERT INTO pending_uploads (draft_id, token, content, created_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (draft_id) DO UPDATE SET token = excluded.token, content = excluded.content, "
        "created_at = excluded.created_at",
        (draft.id, token, _dumps(sheet, plan, stored), timestamp()))


def pending(db, draft: Draft) -> Pending | None:
    row = db.conn.execute("SELECT token, content, created_at FROM pending_uploads WHERE draft_id = ?",
                          (draft.id,)).fetchone()
    return _loads(row["token"], row["content"], row["created_at"]) if row else None


def discard(db, draft: Draft) -> None:
    with write(db):
        db.conn.execute("DELETE FROM pending_uploads WHERE draft_id = ?", (draft.id,))


def apply(db, draft: Draft, version: int, upload: Pending, valid_only: bool = False) -> None:
    """Store the planned contact persons in one transaction, audited as one action, if the draft
    is still at ``version`` and every row it changes at the version planned (StaleDraft
    otherwise: nothing is stored); once (UploadGone when it was used or replaced meanwhile).
    A plan with errors is stored only when ``valid_only``; its rows left out are kept to show."""
    plan = upload.plan
    if plan.errors and not valid_only:
        raise ValueError("a plan with errors is stored only row by row (valid_only)")
    with write(db):
        if not db.conn.execute("DELETE FROM pending_uploads WHERE draft_id = ? AND token = ?",
                               (draft.id, upload.token)).rowcount:
            raise UploadGone()
        action = f"contact persons from a spreadsheet: {plan.filled} codes filled, {plan.changed} changed"
        if plan.errors:
            action += f", {plan.error_rows} rows with errors left out"
        save_answers(db, draft, version, 6, action)
        claimed = 0
        for change in plan.changes:
            claimed += db.conn.execute(
                "UPDATE draft_agb_codes SET version = version + 1, contacts = ? "
                "WHERE draft_id = ? AND agb_code = ? AND version = ?",
                (len(change.after), draft.id, change.agb_code, change.version)).rowcount
        if claimed != len(plan.changes):
            raise StaleDraft()  # a row saved in another window since the preview
        db.conn.executemany(
            "INSERT INTO contact_persons (draft_id, agb_code, position, initials, prefix, surname, email, phone, "
            "source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (draft_id, agb_code, position) DO UPDATE SET "
            "initials = excluded.initials, prefix = excluded.prefix, surname = excluded.surname, "
            "email = excluded.email, phone = excluded.phone, source = excluded.source",
            [(draft.id, change.agb_code, c.position, c.initials, c.prefix, c.surname, c.email, c.phone, c.source)
             for change in plan.changes for c in change.after if c not in change.before])
        if plan.errors:
            rest = Plan(plan.draft_version, plan.codes, plan.rows, (), plan.errors, plan.error_rows)
            _put(db, draft, None, Sheet(upload.sheet.file_name, upload.sheet.headers, ()), rest,
                 [plan.filled, plan.changed])
