"""The service catalogue (``data/services.json``): which VECOZO services are open to
which zorgsoorten, and so which services an applicant gets through which AGB codes.

The file is ours, not a registry's: a broken one stops the app at start, with a
message saying which entry is wrong.
"""

import json
from dataclasses import dataclass

LANGUAGES = ("nl", "en")
# Per zorgsoort, the codes are listed when there are at most this many; else counted.
LISTED_CODES = 10


class CatalogueError(ValueError):
    """The catalogue file is not in the expected format."""


@dataclass(frozen=True)
class Service:
    id: str
    name: dict[str, str]
    description: dict[str, str]
    zorgsoorten: frozenset[str] | None  # None: open to every zorgsoort

    def open_to(self, zorgsoort: str) -> bool:
        return self.zorgsoorten is None or zorgsoort in self.zorgsoorten


@dataclass(frozen=True)
class CodeGroup:
    """The applicant's codes of one zorgsoort: how many, and which (when few)."""

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
        giving_access = tuple(group for group in groups if service.open_to(group.zorgsoort))
        if giving_access:
            found.append(OpenService(service, giving_access))
    return found


def code_groups(db, draft_id: int) -> list[CodeGroup]:
    """The draft's AGB codes grouped by zorgsoort: one row per zorgsoort, whatever the number of codes."""
    rows = db.conn.execute(
        "SELECT zorgsoort, count(*) AS count, "
        f"CASE WHEN count(*) <= {LISTED_CODES} THEN group_concat(agb_code, ' ') END AS codes "
        "FROM draft_agb_codes WHERE draft_id = ? GROUP BY zorgsoort ORDER BY zorgsoort",
        (draft_id,),
    ).fetchall()
    return [CodeGroup(row["zorgsoort"], row["count"], tuple(sorted((row["codes"] or "").split())))
            for row in rows]
