"""The agreement drawn as a PDF with fpdf2 (see ``agreement``).

The same data always gives the same bytes: the creation date is midnight UTC of the day the
application was submitted, and the XMP metadata is written here so that it carries no clock.

What fpdf2 2.8 offers and what is used: PDF/A-1B/2B/2U/3B/3U/4 through ``enforce_compliance``
(it embeds an sRGB output intent and refuses what PDF/A forbids); this document declares
PDF/A-2U (every font embedded, every glyph mapped to Unicode), not validated with veraPDF.
fpdf2 tags only images, links and titled sections, never a whole document, so the PDF is not
tagged (no PDF/A-2A, no PDF/UA); it does have /Lang, document metadata and an outline.
"""

import copy
import hashlib
import io
import os
import re
import threading
from collections.abc import Iterable
from datetime import datetime, timezone
from xml.sax.saxutils import escape

import fpdf
from fontTools import subset as ftsubset
from fontTools import ttLib
from fpdf import FPDF
from fpdf.fonts import SubsetMap, TTFFont
from fpdf.output import OutputProducer

from .agreement import (AUTHOR, FONT, FONT_FILES, FONTS_DIR, NOT_GIVEN, Agreement, AgreementData, Code, Party,
                        agreement_text, content_hash, dutch_date)

# A4 portrait in mm; the table columns add up to the width between the margins.
MARGIN = 20
LINE = 5.0
TABLE_LINE = 3.6
TABLE_FONT_SIZE = 7.5
MAX_LINES = 6
# More characters than one line of the document can hold (narrow glyphs, combining marks):
# a text is cut to what its lines can show before it is measured.
LINE_CHARS = 400
LABEL_WIDTH = 42
CODE_COLUMNS = (("AGB-code", 17), ("Naam", 41), ("Zorgsoort", 28), ("Contactpersonen", 84))
ADMIN_COLUMNS = (("Naam", 55), ("E-mail", 75), ("Telefoon", 40))

NO_GLYPH = "\ufffd"  # drawn for a character the font lacks

Columns = tuple[tuple[str, float], ...]
Row = tuple[tuple[str, ...], ...]  # cells, each a tuple of paragraphs


def draw(data: AgreementData, fonts_dir: str | None = None) -> Agreement:
    checksum = content_hash(data)
    pdf = _Document(data.reference)
    _set_metadata(pdf, data)
    try:
        _load_fonts(pdf, fonts_dir or FONTS_DIR)
        pdf.add_page()
        _title(pdf, data)
        _organisation(pdf, data)
        _party(pdf, "Tekenbevoegde", data.signatory)
        _party(pdf, "Hoofdcontactpersoon", data.main_contact)
        _codes(pdf, data.codes)
        _ict_admins(pdf, data.ict_admins)
        _services(pdf, data.services)
        _signature(pdf, data, checksum)
        output = bytes(pdf.output(output_producer_class=_Output))
    finally:
        # fpdf2 closes a font file only once the font is written out; a failed render would
        # leave it open.
        for font in pdf.fonts.values():
            font.close()
    return Agreement(pdf=output, sha256=hashlib.sha256(output).hexdigest(), content_sha256=checksum)


class _Document(FPDF):
    def __init__(self, reference: str):
        super().__init__(format="A4", unit="mm", enforce_compliance="PDF/A-2U")
        self.reference = reference
        self.set_margins(MARGIN, MARGIN)
        self.set_auto_page_break(True, MARGIN)

    def normalize_text(self, text: str) -> str:
        """Every text drawn or measured passes here: a character the font has no glyph for is drawn
        as U+FFFD, which fpdf2 would leave out without a trace (a contract must not lose a character
        unseen). What an applicant types cannot hold one (``agreement.unprintable``); a registry's
        names might."""
        text = super().normalize_text(text)
        if text.isascii():
            return text
        cmap = self.current_font.cmap
        return "".join(char if ord(char) in cmap or not char.isprintable() else NO_GLYPH for char in text)

    def footer(self) -> None:
        self.set_y(-MARGIN + 6)
        self.set_font(FONT, size=8)
        self.set_text_color(90)
        self.cell(self.epw / 2, 4, f"Aansluitovereenkomst {self.reference}")
        self.cell(self.epw / 2, 4, f"Pagina {self.page_no()} van {{nb}}", align="R")
        self.set_text_color(0)


# What XML 1.0 does not allow in a document: the XMP metadata must parse (the signing reads it). The
# company name is the one text of the metadata that comes from elsewhere (``_metadata_text``).
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
METADATA_CHARS = 200


def _metadata_text(text: str) -> str:
    """A registry text as the document's metadata shows it: on one line, without what XML does not
    allow (a control character), and cut to METADATA_CHARS."""
    text = _one_line(_NOT_XML.sub("", text))
    return text if len(text) <= METADATA_CHARS else text[:METADATA_CHARS - 1].rstrip() + "…"


def _set_metadata(pdf: _Document, data: AgreementData) -> None:
    created = datetime.combine(data.submitted_on, datetime.min.time(), tzinfo=timezone.utc)
    pdf.set_creation_date(created)
    pdf.set_title(f"Aansluitovereenkomst VECOZO {data.reference}")
    pdf.set_subject(f"Aansluitovereenkomst {data.reference} van {_metadata_text(data.company_name)}")
    pdf.set_author(AUTHOR)
    pdf.set_creator(AUTHOR)
    pdf.set_producer(f"fpdf2 {fpdf.__version__}")
    pdf.set_lang("nl-NL")
    # fpdf2's own XMP for PDF/A stamps the current time as ModifyDate, which would make every
    # render differ; this one mirrors it with the creation date in both places.
    pdf.set_xmp_metadata(_xmp(pdf, created))


def _xmp(pdf: _Document, created: datetime) -> str:
    stamp = escape(created.isoformat(timespec="seconds"))

    def alt(text: str) -> str:
        return f'<rdf:Alt><rdf:li xml:lang="x-default">{escape(text)}</rdf:li></rdf:Alt>'

    return "\n".join((
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">',
        '  <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
        '    <rdf:Description rdf:about=""',
        '        xmlns:dc="http://purl.org/dc/elements/1.1/"',
        '        xmlns:xmp="http://ns.adobe.com/xap/1.0/"',
        '        xmlns:pdf="http://ns.adobe.com/pdf/1.3/"',
        '        xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">',
        "      <pdfaid:part>2</pdfaid:part>",
        "      <pdfaid:conformance>U</pdfaid:conformance>",
        f"      <dc:title>{alt(pdf.title)}</dc:title>",
        f"      <dc:description>{alt(pdf.subject)}</dc:description>",
        f"      <dc:creator><rdf:Seq><rdf:li>{escape(pdf.author)}</rdf:li></rdf:Seq></dc:creator>",
        "      <dc:language><rdf:Bag><rdf:li>nl-NL</rdf:li></rdf:Bag></dc:language>",
        f"      <xmp:CreatorTool>{escape(pdf.creator)}</xmp:CreatorTool>",
        f"      <xmp:CreateDate>{stamp}</xmp:CreateDate>",
        f"      <xmp:ModifyDate>{stamp}</xmp:ModifyDate>",
        f"      <xmp:MetadataDate>{stamp}</xmp:MetadataDate>",
        f"      <pdf:Producer>{escape(pdf.producer)}</pdf:Producer>",
        "    </rdf:Description>",
        "  </rdf:RDF>",
        "</x:xmpmeta>",
    ))


def _load_fonts(pdf: FPDF, fonts_dir: str) -> None:
    for style, name in FONT_FILES.items():
        _add_font(pdf, style, os.path.join(fonts_dir, name))


# A font as fpdf2's add_font parses it (the widths and glyph ids of some 6,000 characters: more
# than half of a render), once per process and file.
_parsed: dict[tuple[str, str], TTFFont] = {}
_parsing = threading.Lock()


def _add_font(pdf: FPDF, style: str, path: str) -> None:
    """``pdf.add_font(FONT, style, path)`` with the parsed metrics of the process's first
    document: each document gets a font of its own that shares the read-only tables (widths,
    character map, glyph ids, descriptor) and has its own file handle and subset, as fpdf2's
    own copy of a font for its FPDFRecorder does (the subset is made in that file at output)."""
    with _parsing:
        parsed = _parsed.get((path, style))
        if parsed is None:
            first = FPDF()
            first.add_font(FONT, style, path)
            parsed = _parsed[path, style] = first.fonts[next(iter(first.fonts))]
            parsed.close()
    font = copy.copy(parsed)
    font.i = len(pdf.fonts) + 1
    font.ttfont = ttLib.TTFont(path, recalcTimestamp=False, lazy=True)
    font.subset = SubsetMap(font)
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    pdf.fonts[font.fontkey] = font


# The characters nearly every agreement is written in: Latin with its diacritics, punctuation,
# currency and letterlike signs (about 1,100 of DejaVu's 6,000 glyphs).
COMMON_CHARACTERS = ((0x20, 0x7E), (0xA0, 0x24F), (0x300, 0x36F), (0x1E00, 0x1EFF), (0x2000, 0x206F),
                     (0x20A0, 0x20CF), (0x2100, 0x214F))
_common: dict[str, tuple[bytes, frozenset[str]]] = {}


def _common_subset(path: str) -> tuple[bytes, frozenset[str]]:
    """The font at ``path`` cut down to COMMON_CHARACTERS (glyph names kept: fpdf2 finds the glyphs
    by name), with the names of its glyphs; made once per process and file (about 0.2 s)."""
    with _parsing:
        found = _common.get(path)
        if found is None:
            font = ttLib.TTFont(path, recalcTimestamp=False)
            options = ftsubset.Options(notdef_outline=True, recommended_glyphs=True, glyph_names=True)
            # fpdf2 leaves these out of what it embeds: the layout tables (read, they were a third of
            # its work) and FontForge's timestamp (which fontTools cannot subset, and says so).
            options.drop_tables += ["GDEF", "GPOS", "GSUB", "FFTM"]
            subsetter = ftsubset.Subsetter(options)
            subsetter.populate(unicodes=[char for first, last in COMMON_CHARACTERS for char in range(first, last + 1)])
            subsetter.subset(font)
            output = io.BytesIO()
            font.save(output)
            found = _common[path] = (output.getvalue(), frozenset(font.getGlyphOrder()))
    return found


class _Output(OutputProducer):
    """fpdf2's writer, once every glyph is drawn (the last page's footer and the page count too)."""

    def bufferize(self) -> bytearray:
        _subset_from_common_glyphs(self.fpdf)
        return super().bufferize()


def _subset_from_common_glyphs(pdf: FPDF) -> None:
    """Let fpdf2 make a font's subset from its common subset when the document uses no other glyph
    (the usual document): the same glyphs, so the same bytes, in half the time of subsetting all
    6,000 (fontTools reads every glyph and layout table first). Other documents keep the whole font."""
    for font in pdf.fonts.values():
        data, names = _common_subset(font.ttffile)
        if names.issuperset(font.subset.get_all_glyph_names()):
            font.ttfont.close()
            font.ttfont = ttLib.TTFont(io.BytesIO(data), recalcTimestamp=False, lazy=True)


def _title(pdf: FPDF, data: AgreementData) -> None:
    pdf.set_font(FONT, "B", 18)
    pdf.cell(0, 10, "Aansluitovereenkomst VECOZO", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    _fields(pdf, (("Kenmerk", data.reference), ("Datum", dutch_date(data.submitted_on))))


def _organisation(pdf: FPDF, data: AgreementData) -> None:
    _heading(pdf, "Organisatie")
    _fields(pdf, (
        ("Statutaire naam", data.company_name),
        ("KvK-nummer", data.kvk_number),
        ("Adres", data.address),
    ))
    _heading(pdf, "Overeenkomst")
    pdf.set_font(FONT, size=9.5)
    pdf.multi_cell(0, LINE, _one_line(agreement_text(data)), align="L", new_x="LMARGIN", new_y="NEXT")


def _party(pdf: FPDF, title: str, party: Party) -> None:
    _heading(pdf, title)
    _fields(pdf, (("Naam", party.name), ("E-mail", party.email), ("Telefoon", party.phone)))


def _codes(pdf: FPDF, codes: tuple[Code, ...]) -> None:
    _heading(pdf, "AGB-codes en contactpersonen")
    if not codes:
        _paragraph(pdf, NOT_GIVEN)
        return
    rows = (
        (
            (code.agb_code,),
            (code.name,),
            (code.zorgsoort,),
            tuple(_contact_line(person) for person in code.contacts) or (NOT_GIVEN,),
        )
        for code in codes
    )
    _table(pdf, CODE_COLUMNS, rows)


def _ict_admins(pdf: FPDF, admins: tuple[Party, ...]) -> None:
    _heading(pdf, "ICT-beheerders")
    if not admins:
        _paragraph(pdf, NOT_GIVEN)
        return
    rows = (((admin.name,), (admin.email,), (admin.phone,)) for admin in admins)
    _table(pdf, ADMIN_COLUMNS, rows)


def _services(pdf: FPDF, services: tuple[str, ...]) -> None:
    _heading(pdf, "Diensten")
    if not services:
        _paragraph(pdf, NOT_GIVEN)
    for service in services:
        _paragraph(pdf, f"•  {service}")


def _signature(pdf: FPDF, data: AgreementData, checksum: str) -> None:
    _heading(pdf, "Ondertekening", room=60)
    _paragraph(pdf, f"Controlegetal (SHA-256 van de inhoud): {checksum}", size=7.5)
    pdf.ln(6)
    pdf.set_font(FONT, "B", 10)
    pdf.cell(0, LINE, "Handtekening tekenbevoegde", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(18)
    pdf.line(pdf.l_margin, pdf.y, pdf.l_margin + 80, pdf.y)
    pdf.ln(2)
    _fields(pdf, (("Naam", data.signatory.name), ("Datum", dutch_date(data.submitted_on))))


def _heading(pdf: FPDF, title: str, room: float = 25) -> None:
    """A section title, kept on the page of what follows it, and entered in the outline."""
    pdf.ln(4)
    if pdf.y + room > pdf.page_break_trigger:
        pdf.add_page()
    pdf.start_section(title)
    pdf.set_font(FONT, "B", 12)
    pdf.cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(160)
    pdf.line(pdf.l_margin, pdf.y, pdf.l_margin + pdf.epw, pdf.y)
    pdf.set_draw_color(0)
    pdf.ln(1.5)


def _fields(pdf: FPDF, pairs: tuple[tuple[str, str], ...]) -> None:
    value_width = pdf.epw - LABEL_WIDTH
    for label, value in pairs:
        pdf.set_font(FONT, size=9.5)
        lines = _wrap(pdf, value, value_width - 2 * pdf.c_margin)
        if pdf.y + LINE * len(lines) > pdf.page_break_trigger:
            pdf.add_page()
        pdf.set_font(FONT, "B", 9.5)
        pdf.cell(LABEL_WIDTH, LINE, label)
        pdf.set_font(FONT, size=9.5)
        for line in lines:
            pdf.set_x(pdf.l_margin + LABEL_WIDTH)
            pdf.cell(value_width, LINE, line, new_x="LMARGIN", new_y="NEXT")


def _paragraph(pdf: FPDF, text: str, size: float = 9.5) -> None:
    pdf.set_font(FONT, size=size)
    for line in _wrap(pdf, text, pdf.epw - 2 * pdf.c_margin, max_lines=50):
        pdf.cell(0, LINE, line, new_x="LMARGIN", new_y="NEXT")


def _table(pdf: FPDF, columns: Columns, rows: Iterable[Row]) -> None:
    """Rows kept whole on one page, each cell a tuple of paragraphs; the header starts every page.

    Drawn with ``text()`` rather than ``multi_cell()``: a thousand rows must stay well under a
    second, and a row's height is known from its wrapped lines before it is drawn.
    """
    header_height = TABLE_LINE + 1.6
    ascent = TABLE_LINE * 0.75
    header_due = True
    pdf.set_font(FONT, size=TABLE_FONT_SIZE)
    for row in rows:
        cells = [
            [line for paragraph in cell for line in _wrap(pdf, paragraph, width - 2 * pdf.c_margin)]
            for cell, (_, width) in zip(row, columns)
        ]
        height = TABLE_LINE * max(len(lines) for lines in cells) + 1.2
        if pdf.y + height + header_due * header_height > pdf.page_break_trigger:
            pdf.add_page()
            header_due = True
        if header_due:
            _table_header(pdf, columns, header_height)
            header_due = False
        x, top = pdf.l_margin, pdf.y
        for lines, (_, width) in zip(cells, columns):
            for number, line in enumerate(lines):
                pdf.text(x + pdf.c_margin, top + 0.6 + ascent + number * TABLE_LINE, line)
            x += width
        pdf.y = top + height
        pdf.line(pdf.l_margin, pdf.y, pdf.l_margin + pdf.epw, pdf.y)


def _table_header(pdf: FPDF, columns: Columns, height: float) -> None:
    pdf.set_font(FONT, "B", TABLE_FONT_SIZE)
    pdf.set_fill_color(230)
    for title, width in columns:
        pdf.cell(width, height, title, fill=True)
    pdf.ln(height)
    pdf.set_font(FONT, size=TABLE_FONT_SIZE)


def _contact_line(person: Party) -> str:
    return " · ".join(part for part in (person.name, person.email, person.phone) if part.strip())


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _wrap(pdf: FPDF, text: str, width: float, max_lines: int = MAX_LINES) -> list[str]:
    """Text as lines no wider than ``width`` in the current font; past ``max_lines`` the last
    line ends in an ellipsis. Only what ``max_lines`` lines can hold is measured (a registry text
    may be of any length)."""
    text = _one_line(text)
    shown = text[:(max_lines + 1) * LINE_CHARS]
    lines = _break(pdf, shown, width, (" · ", " "))
    if len(lines) > max_lines or len(shown) < len(text):
        lines = lines[:max_lines]
        last = lines[-1]
        while last and _width(pdf, last + " …") > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + " …"
    return lines


def _break(pdf: FPDF, text: str, width: float, separators: tuple[str, ...]) -> list[str]:
    """Break at the first separator where it can, then at the next, and inside a word last:
    a contact's name, e-mail address and phone number stay whole when they fit on a line."""
    if _width(pdf, text) <= width:
        return [text]
    if not separators:
        lines = []
        while _width(pdf, text) > width:
            cut = _fitting_prefix(pdf, text, width)
            lines.append(text[:cut])
            text = text[cut:]
        return lines + [text]
    separator, finer = separators[0], separators[1:]
    lines, line = [], ""
    for piece in text.split(separator):
        candidate = f"{line}{separator}{piece}" if line else piece
        if _width(pdf, candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        *full, line = _break(pdf, piece, width, finer)
        lines.extend(full)
    lines.append(line)
    return lines


def _width(pdf: FPDF, text: str) -> float:
    """``pdf.get_string_width(text)`` for this document's text (left to right, no stretching,
    spacing or shaping), from the font's widths alone: fpdf2's own splits the text into
    fragments first, which cost a tenth of a render of a long table."""
    return pdf.current_font.get_text_width(text, pdf.font_size_pt, None)[1] / pdf.k


def _fitting_prefix(pdf: FPDF, word: str, width: float) -> int:
    """The length of the longest start of ``word`` that fits (at least one character)."""
    low, high = 1, min(len(word), LINE_CHARS)
    while low < high:
        middle = (low + high + 1) // 2
        if _width(pdf, word[:middle]) <= width:
            low = middle
        else:
            high = middle - 1
    return low
