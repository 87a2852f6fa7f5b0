"""The connection agreement ("aansluitovereenkomst"): what it says, and its checksum.

Drawing it as a PDF (fpdf2) lives in ``agreement_pdf``, loaded by the first submission only:
fpdf2 and what it brings weigh about 50 MB, which every worker would otherwise carry.
"""

import dataclasses
import functools
import hashlib
import json
import os
import unicodedata
from dataclasses import dataclass
from datetime import date

FONTS_DIR = os.path.join(os.path.dirname(__file__), "..", "data", "fonts")
FONT = "DejaVuSans"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}  # by style
AUTHOR = "VECOZO Aansluiten"
NOT_GIVEN = "Niet opgegeven"

MONTHS = (
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december",
)



@dataclass(frozen=True)
class Party:
    name: str
    email: str
    phone: str


@dataclass(frozen=True)
class Code:
    agb_code: str
    name: str
    zorgsoort: str
    contacts: tuple[Party, ...]


@dataclass(frozen=True)
class AgreementData:
    reference: str
    submitted_on: date
    company_name: str
    kvk_number: str
    address: str
    signatory: Party
    main_contact: Party
    codes: tuple[Code, ...]
    ict_admins: tuple[Party, ...]
    services: tuple[str, ...]


@dataclass(frozen=True)
class Agreement:
    pdf: bytes
    sha256: str
    content_sha256: str


def content_hash(data: AgreementData) -> str:
    """SHA-256 of a canonical JSON form of the data: the number printed in the agreement."""
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_plain)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _plain(value):
    """What ``dataclasses.asdict`` makes of the data, made as the encoder meets it (asdict copies
    every value first: for a thousand codes, more time than the rest of the hash)."""
    if isinstance(value, date):
        return value.isoformat()
    if dataclasses.is_dataclass(value):
        return {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
    raise TypeError(f"{type(value).__name__} is not part of an agreement")


def dutch_date(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def agreement_text(data: AgreementData) -> str:
    return (
        f"{data.company_name} (hierna: de zorgaanbieder) sluit zich aan bij VECOZO voor de "
        "diensten die hieronder onder ‘Diensten’ staan. Op deze overeenkomst en op het gebruik "
        "van die diensten zijn de Algemene Voorwaarden van VECOZO van toepassing; de "
        "zorgaanbieder verklaart die te kennen en te aanvaarden. De zorgaanbieder zorgt dat de "
        "opgegeven AGB-codes, contactpersonen en ICT-beheerders juist zijn en meldt wijzigingen "
        "tijdig aan VECOZO. De ondergetekende verklaart zelfstandig bevoegd te zijn de "
        "zorgaanbieder bij deze overeenkomst te vertegenwoordigen."
    )


def unprintable(text: str) -> str:
    """The characters of ``text`` that the agreement cannot show, each once: one of its fonts has
    no glyph for them (DejaVu has Latin, Greek and Cyrillic, not Chinese or Japanese), or they are
    written from right to left (Arabic, Hebrew), which the agreement, drawn from left to right
    without shaping, would show unjoined and in reverse."""
    if text.isascii():
        return ""
    shown = _glyphs_of_every_font()
    return "".join(dict.fromkeys(
        char for char in text
        if char.isprintable() and (ord(char) not in shown or unicodedata.bidirectional(char) in ("R", "AL"))))


@functools.cache
def _glyphs_of_every_font() -> frozenset[int]:
    from fontTools import ttLib  # only fontTools's font reader (a few MB), not fpdf2

    found = []
    for name in FONT_FILES.values():
        font = ttLib.TTFont(os.path.join(FONTS_DIR, name), lazy=True)
        try:
            found.append(frozenset(font.getBestCmap()))
        finally:
            font.close()
    return frozenset.intersection(*found)


def render(data: AgreementData, fonts_dir: str | None = None) -> Agreement:
    """The agreement as a PDF, with the SHA-256 of the file and of its content."""
    from .agreement_pdf import draw

    return draw(data, fonts_dir)
