"""The service catalogue (``data/services.json``): which VECOZO services are open to
which zorgsoorten, and so which services an applicant gets through which AGB codes.

The file is ours, not a registry's: a broken one stops the app at start, with a
message saying which entry is wrong.
"""

import json
from dataclasses import dataclass
from typing import NamedTuple

LANGUAGES = ("nl", "en")
# Per zorgsoort, the codes are listed when there are at most this many; else counted. Stored with
# the groups (draft_code_groups): a change needs a migration that runs store_code_groups(db) again.
LISTED_CODES = 10


class CatalogueError(ValueError):
    """The catalogue file is not in the expected format."""


@dataclass(frozen=True)
class Service:
    id: str
    name: dict[str, str]
    description: dict[str, str]
    zorgsoorten: frozenset[str] | None  # None: open to every zorgsoort


class CodeGroup(NamedTuple):
    """The applicant's codes of one zorgsoort: how many, and which (when few). A named tuple: a
    1,000-code organisation has about 90 of them on a page (``count`` is the field, not
    ``tuple.count``)."""

    zorgsoort: str
    count: int
    codes: tuple[str, ...]


@dataclass(frozen=True)
class OpenService:
    """A service the applicant gets, with the groups of codes that give access to it."""

    service: Service
    groups: tuple[CodeGroup, ...]

    @property
    def code_count(self) -> int:
        return sum(group.count for group in self.groups)


def load(path: str) -> tuple[Service, ...]:
    try:
        with open(path, encoding="utf-8") as handle:
            entries = json.load(handle)["services"]
        return tuple(_service(entry) for entry in entries)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CatalogueError(f"service catalogue {path}: {error}") from error


def _service(entry: dict) -> Service:
    zorgsoorten = entry["zorgsoorten"]
    for field in ("naam", "omschrijving"):
        missing = [language for language in LANGUAGES if not entry[field].get(language)]
        if missing:
            raise CatalogueError(f"service {entry.get('id')!r}: {field} without {', '.join(missing)}")
    return Service(
        id=str(entry["id"]),
        name=dict(entry["naam"]),
        description=dict(entry["omschrijving"]),
        zorgsoorten=None if zorgsoorten == "*" else frozenset(str(code) for code in zorgsoorten),
    )


def open_services(catalogue: tuple[Service, ...], groups: list[CodeGroup]) -> list[OpenService]:
    """The services open to at least one of the applicant's codes, in catalogue order."""
    found = []
    for service in catalogue:
        # A test of the set itself: a 1,000-code organisation has a group for each of 90 zorgsoorten.
        giving_access = (tuple(groups) if service.zorgsoorten is None
                         else tuple(group for group in groups if group.zorgsoort in service.zorgsoorten))
        if giving_access:
            found.append(OpenService(service, giving_access))
    return found


def code_groups(db, draft_id: int) -> list[CodeGroup]:
    """The draft's AGB codes grouped by zorgsoort: one row per zorgsoort, whatever the number of codes."""
    return [CodeGroup(zorgsoort, count, tuple(sorted(codes.split())) if codes else ())
            for zorgsoort, count, codes in db.conn.execute(
                "SELECT zorgsoort, count, codes FROM draft_code_groups WHERE draft_id = ? ORDER BY zorgsoort",
                (draft_id,))]


_STORE_GROUPS = (
    "INSERT INTO draft_code_groups (draft_id, zorgsoort, count, codes) "
    f"SELECT draft_id, zorgsoort, count(*), CASE WHEN count(*) <= {LISTED_CODES} THEN group_concat(agb_code, ' ') END "
    "FROM draft_agb_codes WHERE {where} GROUP BY draft_id, zorgsoort"
)


def store_code_groups(db, draft_id: int | None = None) -> None:
    """Group a draft's codes (every draft's: None) as ``code_groups`` reads them. The codes change only
    with a look-up (drafts.save_company, their only writer, calls this), and steps 8 and 9 show the
    groups on every visit: counting up to 1,000 codes each time took a sixth of those pages."""
    if draft_id is None:
        db.conn.execute("DELETE FROM draft_code_groups")
        db.conn.execute(_STORE_GROUPS.format(where="1"))
    else:
        db.conn.execute("DELETE FROM draft_code_groups WHERE draft_id = ?", (draft_id,))
        db.conn.execute(_STORE_GROUPS.format(where="draft_id = ?"), (draft_id,))
