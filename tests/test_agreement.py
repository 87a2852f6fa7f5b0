import dataclasses
import hashlib
import io
import json
import os
import subprocess
import sys
import time
from datetime import date

import pytest
from fpdf import FPDF
from pypdf import PdfReader

from onboarding.agreement import FONTS_DIR, AgreementData, Code, Party, content_hash, dutch_date, render

SIGNATORY = Party("J.P. de Vries", "jp.devries@zorggroep.nl", "06 12345678")
CONTACTS = (
    Party("Ö. Çelik-Ğüneş", "o.celik@zorggroep.nl", "020 1234567"),
    Party("Łukasz Wójcik", "l.wojcik@zorggroep.nl", "06 87654321"),
)
A4_WIDTH_PT = 595.28
MARGIN_PT = 20 * 72 / 25.4


def make_data(code_count=2, **changes) -> AgreementData:
    data = AgreementData(
        reference="VZ-2026-4F7K2Q",
        submitted_on=date(2026, 11, 29),
        company_name="Zorggroep Ørsted & Groß B.V.",
        kvk_number="12345678",
        address="Stationsplein 1, 3511 ED Utrecht",
        signatory=SIGNATORY,
        main_contact=Party("Anna Schäfer", "a.schafer@zorggroep.nl", "030 7654321"),
        codes=tuple(
            Code(f"{index + 1:08d}", f"Huisartsenpraktijk Oost {index + 1}", "Huisartsen", CONTACTS)
            for index in range(code_count)
        ),
        ict_admins=(Party("Servicedesk ICT", "ict@zorggroep.nl", "088 1234567"),),
        services=("Declareren", "Controleren verzekeringsgegevens"),
    )
    return dataclasses.replace(data, **changes)


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture(scope="module")
def agreement():
    return render(make_data())


@pytest.fixture(scope="module")
def text(agreement):
    return text_of(agreement.pdf)


@pytest.mark.parametrize("expected", [
    "Aansluitovereenkomst VECOZO",
    "VZ-2026-4F7K2Q",
    "29 november 2026",
    "Zorggroep Ørsted & Groß B.V.",
    "12345678",
    "Stationsplein 1, 3511 ED Utrecht",
    "00000001",
    "00000002",
    "Huisartsenpraktijk Oost 2",
    "J.P. de Vries",
    "Anna Schäfer",
    "Servicedesk ICT",
    "Controleren verzekeringsgegevens",
    "Handtekening tekenbevoegde",
])
def test_the_agreement_shows_the_application(text, expected):
    assert expected in text


@pytest.mark.parametrize("title", [
    "Tekenbevoegde", "Hoofdcontactpersoon", "AGB-codes en contactpersonen", "ICT-beheerders", "Diensten",
])
def test_every_section_has_a_title_and_a_bookmark(agreement, text, title):
    assert title in text
    assert title in [item.title for item in PdfReader(io.BytesIO(agreement.pdf)).outline]


@pytest.mark.parametrize("name", ["Ö. Çelik-Ğüneş", "Łukasz Wójcik", "Zoltán Kőműves", "Ærøskøbing Straße"])
def test_names_with_diacritics_come_back_from_the_pdf(name):
    data = make_data(code_count=1, main_contact=Party(name, "x@zorggroep.nl", "06 12345678"))
    assert name in text_of(render(data).pdf)


def test_a_character_the_font_lacks_is_drawn_as_a_replacement_not_left_out(caplog):
    # Registry text may hold what DejaVu has no glyph for; fpdf2 would drop it without a trace.
    data = make_data(code_count=1, company_name="Zorggroep 東京 B.V.",
                     codes=(Code("00000001", "Kliniek ケア", "Huisartsen", CONTACTS),))
    text = text_of(render(data).pdf)
    assert "Zorggroep \ufffd\ufffd B.V." in text and "Kliniek \ufffd\ufffd" in text
    assert "missing" not in caplog.text.lower()


def test_the_printed_checksum_is_the_content_hash(agreement, text):
    assert agreement.content_sha256 == content_hash(make_data())
    assert f"Controlegetal (SHA-256 van de inhoud): {agreement.content_sha256}" in text


def test_sha256_is_the_hash_of_the_pdf_bytes(agreement):
    assert agreement.sha256 == hashlib.sha256(agreement.pdf).hexdigest()


def test_two_renders_are_byte_identical(agreement):
    assert render(make_data()).pdf == agreement.pdf


def test_another_process_renders_the_same_bytes(agreement):
    script = (
        "from tests.test_agreement import make_data; from onboarding.agreement import render; "
        "print(render(make_data()).sha256)"
    )
    root = os.path.join(os.path.dirname(__file__), "..")
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    )
    assert done.stdout.strip() == agreement.sha256
    # A process keeps the parsed fonts: a document drawn after another with other characters
    # (its own subset of the same font) is the same as the first document of a process.
    render(make_data(ict_admins=(Party("Ελένη Παπαδοπούλου", "e@zorggroep.nl", "06 12345678"),)))
    assert render(make_data()).sha256 == agreement.sha256


def test_the_usual_document_is_subset_from_the_common_glyphs_to_the_same_bytes(agreement, monkeypatch):
    from onboarding import agreement_pdf

    original = agreement_pdf._subset_from_common_glyphs

    def from_where(data) -> list[str]:
        sources = []

        def noted(pdf):
            original(pdf)
            sources.extend("common" if isinstance(font.ttfont.reader.file, io.BytesIO) else "whole"
                           for font in pdf.fonts.values())

        monkeypatch.setattr(agreement_pdf, "_subset_from_common_glyphs", noted)
        render(data)
        return sources

    assert from_where(make_data()) == ["common", "common"]
    greek = make_data(ict_admins=(Party("Ελένη Παπαδοπούλου", "e@zorggroep.nl", "06 12345678"),))
    assert from_where(greek) == ["whole", "common"]  # the bold headings are all Latin
    monkeypatch.setattr(agreement_pdf, "_subset_from_common_glyphs", lambda pdf: None)
    assert render(make_data()).pdf == agreement.pdf  # the whole font's subset: the same bytes


@pytest.mark.parametrize("text", ["", "AGB-code", "Ö. Çelik-Ğüneş · o.celik@zorggroep.nl · 020 1234567",
                                  "Ελένη Παπαδοπούλου", "W" * 80 + " …"])
@pytest.mark.parametrize("style", ["", "B"])
def test_the_width_of_a_text_is_fpdf2s_own(text, style):
    from onboarding.agreement_pdf import _load_fonts, _width

    pdf = FPDF()
    _load_fonts(pdf, FONTS_DIR)
    pdf.add_page()
    pdf.set_font("DejaVuSans", style, 7.5)
    try:
        assert _width(pdf, text) == pytest.approx(pdf.get_string_width(text))
    finally:
        for font in pdf.fonts.values():
            font.close()


def test_changing_one_contact_changes_the_content_hash():
    data = make_data()
    moved = dataclasses.replace(CONTACTS[1], phone="06 87654322")
    codes = (data.codes[0], dataclasses.replace(data.codes[1], contacts=(CONTACTS[0], moved)))
    assert content_hash(dataclasses.replace(data, codes=codes)) != content_hash(data)


def test_the_content_hash_is_sha256_of_the_canonical_json():
    data = make_data(code_count=1)
    fields = dataclasses.asdict(data) | {"submitted_on": "2026-11-29"}
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert content_hash(data) == hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def test_without_ict_administrators_it_says_niet_opgegeven():
    text = text_of(render(make_data(code_count=1, ict_admins=())).pdf)
    assert "ICT-beheerders\nNiet opgegeven" in text


def test_a_code_without_contacts_says_niet_opgegeven():
    code = Code("87654321", "Praktijk Zonder Contact", "Fysiotherapeuten", ())
    text = text_of(render(make_data(codes=(code,))).pdf)
    assert "87654321" in text and "Niet opgegeven" in text


def test_the_metadata_names_the_reference_in_dutch(agreement):
    reader = PdfReader(io.BytesIO(agreement.pdf))
    xmp = reader.xmp_metadata
    assert "VZ-2026-4F7K2Q" in xmp.dc_title["x-default"]
    assert "VZ-2026-4F7K2Q" in xmp.dc_description["x-default"]
    assert xmp.dc_creator == ["VECOZO Aansluiten"]
    assert xmp.pdfaid_part == "2" and xmp.pdfaid_conformance == "U"
    assert reader.trailer["/Root"]["/Lang"] == "nl-NL"


def test_every_page_is_numbered_pagina_x_van_y():
    reader = PdfReader(io.BytesIO(render(make_data(code_count=80)).pdf))
    total = len(reader.pages)
    assert total > 1
    for number, page in enumerate(reader.pages, start=1):
        assert f"Pagina {number} van {total}" in page.extract_text()


@pytest.mark.parametrize("day, expected", [
    (date(2026, 1, 1), "1 januari 2026"),
    (date(2026, 3, 9), "9 maart 2026"),
    (date(2027, 12, 31), "31 december 2027"),
])
def test_dates_are_written_the_dutch_way(day, expected):
    assert dutch_date(day) == expected


def test_long_names_wrap_or_are_cut_within_the_page():
    long_code = Code(
        "11223344",
        "Stichting " + "Zeer Uitgebreide Naam " * 30,
        "Geestelijke gezondheidszorg voor volwassenen en jeugd",
        (Party("Maximiliane " * 12, "heel.lang." * 15 + "@zorggroep.nl", "+31 6 12345678"),),
    )
    data = make_data(
        codes=(long_code,),
        company_name="Coöperatie" + "x" * 300 + " U.A.",
        address="Een heel lange straatnaam " * 10,
    )
    pdf = render(data).pdf
    text = text_of(pdf)
    assert "11223344" in text and "…" in text
    overflowing = [fragment for fragment in _placed_text(pdf) if fragment[1] > A4_WIDTH_PT - MARGIN_PT + 0.5]
    assert overflowing == []


@pytest.mark.parametrize("text", ["x" * 100_000, "woord " * 20_000, "a\u0301" * 50_000])
def test_a_text_of_any_length_is_wrapped_from_what_its_lines_can_hold(monkeypatch, text):
    """A registry text may be as long as the file allows: the wrap measures only what six lines can
    hold, not the whole text once per line (a name of 100,000 characters took a worker past its timeout)."""
    from onboarding import agreement_pdf

    measured = []
    width = agreement_pdf._width
    monkeypatch.setattr(agreement_pdf, "_width", lambda pdf, part: measured.append(len(part)) or width(pdf, part))
    pdf = FPDF()
    agreement_pdf._load_fonts(pdf, FONTS_DIR)
    pdf.add_page()
    pdf.set_font("DejaVuSans", "", 7.5)
    try:
        lines = agreement_pdf._wrap(pdf, text, 80)
    finally:
        for font in pdf.fonts.values():
            font.close()
    assert len(lines) == agreement_pdf.MAX_LINES and lines[-1].endswith(" …")
    assert all(width(pdf, line) <= 80 for line in lines)
    assert sum(measured) < 500_000, sum(measured)


def test_characters_xml_does_not_allow_stay_out_of_the_metadata():
    """A company name from the registry with a control character: the XMP must stay XML (the signing
    parses it), and the document's texts show nothing for it."""
    pdf = render(make_data(company_name="Zorg\x00groep\x0b \x1fBeheer B.V.\ufffe")).pdf
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.xmp_metadata.dc_description["x-default"] == "Aansluitovereenkomst VZ-2026-4F7K2Q van Zorggroep Beheer B.V."


def test_an_organisation_with_1000_codes_lists_every_code():
    data = make_data(code_count=1000)
    started = time.perf_counter()
    agreement = render(data)
    elapsed = time.perf_counter() - started
    print(f"\nrendered 1,000 codes with 2 contacts each in {elapsed:.2f} s")
    reader = PdfReader(io.BytesIO(agreement.pdf))
    pages = [page.extract_text() for page in reader.pages]
    text = "\n".join(pages)
    assert all(code.agb_code in text for code in data.codes)
    table_pages = [page for page in pages if "00000500" in page or "00000999" in page]
    assert all("AGB-code Naam Zorgsoort Contactpersonen" in page for page in table_pages)
    assert elapsed < 10, "rendering should take well under 2 s; 10 s leaves room for a busy machine"


def _placed_text(pdf: bytes) -> list[tuple[str, float]]:
    """Each piece of text with the x where it ends, measured in the font it was drawn in."""
    measure = FPDF(unit="pt")
    measure.add_font("regular", "", os.path.join(FONTS_DIR, "DejaVuSans.ttf"))
    measure.add_font("bold", "", os.path.join(FONTS_DIR, "DejaVuSans-Bold.ttf"))
    placed = []

    def visit(text, cm, tm, font, size):
        if not text.strip() or font is None:
            return
        measure.set_font("bold" if "Bold" in font["/BaseFont"] else "regular", size=size)
        placed.append((text, tm[4] + measure.get_string_width(text.strip("\n"))))

    try:
        for page in PdfReader(io.BytesIO(pdf)).pages:
            page.extract_text(visitor_text=visit)
    finally:
        for font in measure.fonts.values():
            font.close()
    return placed
