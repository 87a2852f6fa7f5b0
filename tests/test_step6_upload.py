"""Step 6 from a spreadsheet: the template to download, a filled-in file uploaded, its preview,
and confirming it (issue 10, part 1)."""

import csv
import io
import re
import zipfile
from datetime import datetime, timedelta

import openpyxl
import pytest
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from onboarding import retention, spreadsheet

from .conftest import (
    LARGE_KVK,
    edit_registry,
    element,
    hidden_inputs,
    name_main_contact,
    sign,
    table,
)
from .test_person_forms import CONTACT_REFUSED
from .test_step6 import KNOWN, contact_names, contacts, row_of, save_row

HEADER_NL = ["AGB-code", "Naam", "Zorgsoort", "Voorletters 1", "Tussenvoegsel 1", "Achternaam 1", "E-mailadres 1",
             "Telefoonnummer 1", "Voorletters 2", "Tussenvoegsel 2", "Achternaam 2", "E-mailadres 2",
             "Telefoonnummer 2"]
HEADER_EN = ["AGB code", "Name", "Type of care", "Initials 1", "Surname prefix 1", "Surname 1", "Email address 1",
             "Phone number 1", "Initials 2", "Surname prefix 2", "Surname 2", "Email address 2", "Phone number 2"]
PIETERS = ["K.", "", "Pieters", "k.pieters@delinde.example", "06-12345678"]
DAM = ["B.", "van", "Dam", "b.vandam@delinde.example", "030-2345678"]
UPLOAD = "/stap/6/bestand"
CONFIRM = "/stap/6/bestand/opslaan"
XLSX = spreadsheet.XLSX_TYPE


@pytest.fixture
def at_step_6(with_main_contact):
    return with_main_contact


# -- helpers: what a person does with the file ------------------------------------------------------


def download(applicant, kind="xlsx"):
    return applicant.client.get(f"/stap/6/sjabloon.{kind}")


def sheet_of(data: bytes) -> list[list]:
    """The first sheet of an .xlsx as rows of cell values ("" for an empty cell)."""
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    return [["" if value is None else value for value in row] for row in workbook.worksheets[0].values]


def xlsx(rows: list[list]) -> bytes:
    """An .xlsx with these rows (a value starting with "=" is a formula, as Excel makes it)."""
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def xlsx_rows_apart(rows: list[list], apart: int) -> bytes:
    """An .xlsx whose rows are ``apart`` rows from each other (nothing between)."""
    workbook = openpyxl.Workbook()
    for number, row in enumerate(rows):
        for index, value in enumerate(row, start=1):
            workbook.active.cell(row=1 + number * apart, column=index, value=value)
    data = io.BytesIO()
    workbook.save(data)
    return data.getvalue()


def csv_file(rows: list[list], delimiter=";", bom=True, encoding="utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return ("\ufeff" if bom else "").encode(encoding) + out.getvalue().encode(encoding)


def filled(rows: list[list], **contacts) -> list[list]:
    """The template's rows with ``contacts`` (code -> five values, or ten for two persons) put in."""
    return [row[:3] + list(contacts[row[0]]) + row[3 + len(contacts[row[0]]):] if row[0] in contacts else row
            for row in rows]


def template(applicant, kind="xlsx") -> list[list]:
    response = download(applicant, kind)
    assert response.status_code == 200
    if kind == "xlsx":
        return sheet_of(response.get_data())
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig")), delimiter=";"))


def upload(applicant, data: bytes, name="contactpersonen.xlsx", htmx=False, fields=None):
    fields = hidden_inputs(applicant.get(UPLOAD).get_data(as_text=True)) if fields is None else fields
    return post_file(applicant, UPLOAD, fields, data, name, htmx)


def post_file(applicant, url, fields, data: bytes, name, htmx=False):
    """A multipart POST as a browser sends it. Encoded here, in memory: the test client spools a
    body over 500 KB to a temporary file it does not close."""
    boundary, body = encode_multipart(MultiDict({**fields, "file": FileStorage(io.BytesIO(data), name)}))
    return applicant.client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}",
                                 headers={"HX-Request": "true"} if htmx else {})


def confirm(applicant, store="all", htmx=False, fields=None):
    """Press the preview's button (Opslaan, or "store the valid rows" with ``store="valid"``)."""
    if fields is None:
        html = applicant.get(UPLOAD).get_data(as_text=True)
        form = re.search(rf'<form method="post" action="{CONFIRM}".*?</form>', html, re.S)
        assert form, "no confirm form on the preview"
        fields = hidden_inputs(form.group(0))
    return applicant.client.post(CONFIRM, data={**fields, "store": store},
                                 headers={"HX-Request": "true"} if htmx else {})


def preview(applicant) -> str:
    return applicant.get(UPLOAD).get_data(as_text=True)


def error_rows(html: str) -> list[list[str]]:
    """The preview's table of errors: per row its cells as text."""
    rows = re.findall(r'<tr id="upload-error-\d+"[^>]*>(.*?)</tr>', html, re.S)
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
            for row in rows]


def pending_count(db) -> int:
    return db.conn.execute("SELECT count(*) FROM pending_uploads").fetchone()[0]


def fill_all(applicant, kind="xlsx", **contacts):
    rows = template(applicant, kind)
    header, body = rows[0], rows[1:]
    return [header, *filled(body, **contacts)]


# -- the template ---------------------------------------------------------------------------------


def test_more_empty_rows_than_the_limit_in_all_refuse_the_file(monkeypatch):
    """A few rows each thousands of rows apart (openpyxl fills every row between): the empty rows
    are counted over the whole sheet, and cost no conversion of their cells, so that a file of a
    few kilobytes cannot keep a worker busy for seconds; past the limit the file is refused, not
    read in part."""
    monkeypatch.setattr(spreadsheet, "MAX_EMPTY_ROWS", 100)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER_NL)
    for number in range(5):
        row = 2 + number * 40
        for index, value in enumerate([f"0100000{number}", "", "", *PIETERS], start=1):
            sheet.cell(row=row, column=index, value=value)
    data = io.BytesIO()
    workbook.save(data)
    converted = []
    cell = spreadsheet._xlsx_cell
    monkeypatch.setattr(spreadsheet, "_xlsx_cell", lambda value: converted.append(1) or cell(value))
    with pytest.raises(spreadsheet.FileRefused) as refused:
        spreadsheet.read(data.getvalue(), "verspreid.xlsx", limit=100)
    # 39 empty rows before each row after the first: the fourth row's would make 117.
    assert refused.value.reason == "empty_rows"
    assert len(converted) == 4 * spreadsheet.MAX_COLUMNS
    monkeypatch.setattr(spreadsheet, "MAX_EMPTY_ROWS", 39 * 4)
    assert len(spreadsheet.read(data.getvalue(), "verspreid.xlsx", limit=100).rows) == 5


def test_step_6_links_to_the_templates_and_the_upload(at_step_6):
    html = at_step_6.get("/stap/6").get_data(as_text=True)
    assert 'href="/stap/6/sjabloon.xlsx"' in html and 'href="/stap/6/sjabloon.csv"' in html
    assert f'href="{UPLOAD}" hx-get="{UPLOAD}"' in html


def test_the_xlsx_template_lists_every_active_code_with_its_name_zorgsoort_and_known_contact(at_step_6):
    response = download(at_step_6)
    assert response.status_code == 200 and response.mimetype == XLSX
    assert response.headers["Content-Disposition"] == "attachment; filename=contactpersonen-41000001.xlsx"
    assert response.headers["Cache-Control"] == "no-store"
    rows = sheet_of(response.get_data())
    assert rows[0] == HEADER_NL
    assert [row[:3] for row in rows[1:]] == [  # in the order of the codes
        ["01004567", "M. van der Linden", "Huisartsen"],
        ["01051234", "Huisartsenpraktijk De Linde", "Huisartsen"],
        ["37000890", "Gezondheidscentrum Lindeplein", "Gezondheidscentra"],
    ]
    assert rows[2][3:8] == ["S.", "de", "Vries", "s.devries@delinde.example", "030 234 5678"]
    assert rows[1][3:] == [""] * 10 and "01009999" not in str(rows)  # no contact yet; the inactive code left out


def test_the_template_names_a_zorgsoort_the_vektis_list_lacks_as_unknown(unknown_zorgsoort, at_step_6):
    rows = sheet_of(download(at_step_6).get_data())
    assert [unknown_zorgsoort, "Nieuwe locatie", "Onbekende zorgsoort"] in [row[:3] for row in rows]


def test_the_xlsx_templates_cells_are_text_so_leading_zeros_stay(at_step_6):
    workbook = openpyxl.load_workbook(io.BytesIO(download(at_step_6).get_data()))
    sheet = workbook.worksheets[0]
    assert sheet["A2"].value == "01004567" and sheet["A2"].data_type == "s"
    # Every column is formatted as text: a phone number typed into an empty cell keeps its 0.
    assert {sheet.column_dimensions[letter].number_format for letter in "ABCDEFGHIJKLM"} == {"@"}
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.bold


def test_the_xlsx_template_cuts_a_registry_text_to_what_excel_keeps_in_a_cell():
    rows = [["01004567", "x" * 40_000, "Huisartsen"]]
    sheet = openpyxl.load_workbook(io.BytesIO(spreadsheet.xlsx_template(rows, "nl"))).worksheets[0]
    assert len(sheet["B2"].value) == spreadsheet.EXCEL_CELL_CHARS == 32_767


def test_the_csv_template_is_utf8_with_a_bom_and_semicolons(at_step_6):
    response = download(at_step_6, "csv")
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == "attachment; filename=contactpersonen-41000001.csv"
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbfAGB-code;Naam;Zorgsoort;Voorletters 1;")
    lines = body.decode("utf-8-sig").split("\r\n")
    assert lines[1] == "01004567;M. van der Linden;Huisartsen" + ";" * 10
    assert lines[2] == "01051234;Huisartsenpraktijk De Linde;Huisartsen;S.;de;Vries;s.devries@delinde.example;" \
                       "030 234 5678;;;;;"


def test_the_template_holds_the_rows_filled_inline_and_a_second_contact(at_step_6):
    save_row(at_step_6, "01004567")
    save_row(at_step_6, KNOWN, position=2, **dict(zip(spreadsheet.FIELDS, DAM)))
    rows = template(at_step_6)
    assert rows[2][3:] == ["S.", "de", "Vries", "s.devries@delinde.example", "030 234 5678", *DAM[:4], "030 234 5678"]
    assert rows[1][3:8] == ["A.S.", "", "El Amrani", "a.elamrani@delinde.example", "030 234 5678"]


def test_cells_a_spreadsheet_would_take_for_a_formula_are_neutralised(applicant, registry_path):
    def poison(data):
        for agb in data["agb"]:
            if agb["agbCode"] == "01004567":
                agb["naam"] = "=HYPERLINK(\"http://evil.example\")"
        # Of a known contact only the address can start so: the rest would not pass a row's checks.
        data["contacts"].append({"agbCode": "37000890", "voorletters": "A.", "tussenvoegsel": "",
                                 "achternaam": "Berg", "email": "-x@example.nl", "telefoon": "030-2345678"})
    edit_registry(registry_path, poison)
    applicant.verify()
    applicant.look_up()
    applicant.confirm()
    sign(applicant)
    name_main_contact(applicant)
    lines = download(applicant, "csv").get_data().decode("utf-8-sig").split("\r\n")
    assert lines[1].startswith('01004567;"\'=HYPERLINK(""http://evil.example"")";')
    assert lines[3].endswith(";A.;;Berg;'-x@example.nl;030 234 5678;;;;;")
    sheet = openpyxl.load_workbook(io.BytesIO(download(applicant).get_data())).worksheets[0]
    assert sheet["B2"].value == "'=HYPERLINK(\"http://evil.example\")" and sheet["B2"].data_type == "s"
    assert sheet.cell(4, 7).value == "'-x@example.nl"


def test_the_template_in_english_has_english_headers(at_step_6):
    at_step_6.client.get("/taal/en?next=/")
    response = download(at_step_6)
    assert response.headers["Content-Disposition"] == "attachment; filename=contact-persons-41000001.xlsx"
    assert sheet_of(response.get_data())[0] == HEADER_EN


def test_the_template_and_the_upload_wait_for_the_earlier_steps(signed):
    for url in ("/stap/6/sjabloon.xlsx", "/stap/6/sjabloon.csv", UPLOAD):
        response = signed.get(url)
        assert response.status_code == 303 and response.headers["Location"] == "/stap/5"


def test_an_unknown_template_kind_is_not_found(at_step_6):
    assert at_step_6.get("/stap/6/sjabloon.xls").status_code == 404


# -- the round trip -------------------------------------------------------------------------------


def test_a_filled_in_template_is_previewed_then_stored_and_shows_on_step_6_and_step_9(at_step_6, db):
    rows = fill_all(at_step_6, **{"01004567": PIETERS, "37000890": PIETERS + DAM})
    before = {name: table(db, name) for name in ("contact_persons", "draft_agb_codes", "audit_log")}
    response = upload(at_step_6, xlsx(rows))
    assert response.status_code == 303 and response.headers["Location"] == UPLOAD
    # The preview: nothing stored yet.
    assert {name: table(db, name) for name in before} == before
    html = preview(at_step_6)
    assert "<title>Contactpersonen uit een spreadsheet - Stap 6 van 10" in html
    assert "Uit contactpersonen.xlsx zijn 3 rijen gelezen. Er is nog niets opgeslagen." in html
    assert "2 AGB-codes krijgen een contactpersoon" in html and "0 AGB-codes worden gewijzigd" in html
    assert "1 AGB-code blijft zoals die is" in html
    assert "error-summary" not in html and "Sla de contactpersonen op" in html
    versions = {row["agb_code"]: row["version"] for row in table(db, "draft_agb_codes")}

    response = confirm(at_step_6)
    assert response.status_code == 303 and response.headers["Location"] == "/stap/6"
    assert contact_names(db, "01004567") == [(1, "K.", "Pieters", "applicant")]
    assert contact_names(db, "37000890") == [(1, "K.", "Pieters", "applicant"), (2, "B.", "Dam", "applicant")]
    assert contacts(db, "37000890")[0]["phone"] == "+31612345678"
    assert contact_names(db, KNOWN) == [(1, "S.", "Vries", "registry")]  # the same as stored: left alone
    after = {row["agb_code"]: row for row in table(db, "draft_agb_codes")}
    assert {code: row["version"] - versions[code] for code, row in after.items()} == {
        "01004567": 1, "37000890": 1, KNOWN: 0}
    assert (after["37000890"]["contacts"], after["01004567"]["contacts"]) == (2, 1)
    entries = table(db, "audit_log")[len(before["audit_log"]):]
    assert [(entry["step"], entry["action"]) for entry in entries] == [
        (6, "contact persons from a spreadsheet: 2 codes filled, 0 changed")]
    assert pending_count(db) == 0

    page = at_step_6.get("/stap/6").get_data(as_text=True)
    assert "K. Pieters" in row_of(page, "01004567") and "B. van Dam" in row_of(page, "37000890")
    assert "nog geen contactpersoon" not in page
    assert at_step_6.submit("/stap/6").headers["Location"] == "/stap/7"
    assert at_step_6.submit("/stap/7").headers["Location"] == "/stap/8"
    assert at_step_6.submit("/stap/8", {"services_ok": "y"}).headers["Location"] == "/stap/9"
    summary = at_step_6.get("/stap/9").get_data(as_text=True)
    assert "K. Pieters" in summary and "B. van Dam" in summary and "b.vandam@delinde.example" in summary


def test_changing_a_known_contact_and_adding_a_second_one_counts_as_changed(at_step_6, db):
    rows = fill_all(at_step_6, **{KNOWN: ["S.", "de", "Vries", "s.devries@delinde.example", "030-2345678", *DAM]})
    upload(at_step_6, xlsx(rows))
    html = preview(at_step_6)
    assert "0 AGB-codes krijgen een contactpersoon" in html and "1 AGB-code wordt gewijzigd" in html
    assert "AGB-codes die worden gewijzigd" in html
    assert confirm(at_step_6).status_code == 303
    assert contact_names(db, KNOWN) == [(1, "S.", "Vries", "registry"), (2, "B.", "Dam", "applicant")]


def test_an_empty_contact_in_the_file_leaves_the_stored_one_alone(at_step_6, db):
    rows = fill_all(at_step_6, **{KNOWN: [""] * 5 + DAM, "01004567": PIETERS})
    upload(at_step_6, xlsx(rows))
    assert confirm(at_step_6).status_code == 303
    assert contact_names(db, KNOWN) == [(1, "S.", "Vries", "registry"), (2, "B.", "Dam", "applicant")]


def test_a_second_contact_alone_on_a_row_without_one_becomes_its_first(at_step_6, db):
    rows = fill_all(at_step_6, **{"01004567": [""] * 5 + DAM})
    upload(at_step_6, xlsx(rows))
    assert confirm(at_step_6).status_code == 303
    assert contact_names(db, "01004567") == [(1, "B.", "Dam", "applicant")]


def test_a_file_that_changes_nothing_says_so(at_step_6, db):
    upload(at_step_6, xlsx(template(at_step_6)))
    html = preview(at_step_6)
    assert "Uw bestand verandert niets aan de contactpersonen." in html and CONFIRM not in html


OZTURK = ["Ö.", "", "Öztürk", "o.ozturk@delinde.example", "0612345678"]
FIELD_NAMES = ["agb_code", "initials", "prefix", "surname", "email", "phone", "initials_2", "prefix_2", "surname_2",
               "email_2", "phone_2"]


@pytest.mark.parametrize("header, row, delimiter, bom, encoding", [
    (HEADER_NL, ["01004567", "", "", *OZTURK], ";", True, "utf-8"),
    (HEADER_NL, ["01004567", "", "", *OZTURK], ",", False, "utf-8"),
    (HEADER_NL, ["01004567", "", "", *OZTURK], ";", False, "cp1252"),  # "CSV" as Excel saves it on Windows
    (HEADER_EN, ["01004567", "", "", *OZTURK], "\t", False, "utf-16"),  # Excel's "Unicode text"
    (FIELD_NAMES, ["01004567", *OZTURK], ",", False, "utf-8"),
])
def test_a_csv_file_is_read_with_its_headers_delimiter_and_encoding(at_step_6, db, header, row, delimiter, bom,
                                                                     encoding):
    response = upload(at_step_6, csv_file([header, row], delimiter, bom, encoding), name="lijst.csv")
    assert response.status_code == 303, response.get_data(as_text=True)
    assert "1 AGB-code krijgt een contactpersoon" in preview(at_step_6)
    confirm(at_step_6)
    assert contact_names(db, "01004567") == [(1, "Ö.", "Öztürk", "applicant")]


def test_a_csv_file_in_utf16_without_a_byte_order_mark_is_read(at_step_6, db):
    data = csv_file([HEADER_NL, ["01004567", "", "", *OZTURK]], bom=False, encoding="utf-16-le")
    assert upload(at_step_6, data, name="lijst.csv").status_code == 303
    assert "1 AGB-code krijgt een contactpersoon" in preview(at_step_6)


def test_a_stray_control_character_in_a_csv_cell_is_that_cells_error_not_the_files(at_step_6, db):
    header = [text.replace("Achternaam", "Achter\x07naam") for text in HEADER_NL]  # read as the column still
    data = csv_file([header, ["01004567", "", "", "K.", "", "Pie\x07ters", "k.pieters@delinde.example",
                              "06-12345678"], ["01051234", "", "", *PIETERS]])
    assert upload(at_step_6, data, name="lijst.csv").status_code == 303
    html = preview(at_step_6)
    assert error_rows(html) == [["2", "01004567", "Achter\ufffdnaam 1", "Een achternaam bestaat alleen uit letters, "
                                                                       "spaties, apostrofs en streepjes",
                                 "Pie\ufffdters"]]
    assert "\x07" not in html
    twice = csv_file([[*header, "Achter\x07naam 1"], ["01004567"]])
    refused = upload(at_step_6, twice, name="lijst.csv").get_data(as_text=True)
    assert "Achter\ufffdnaam 1" in refused and "\x07" not in refused


def test_a_title_above_the_header_row_is_passed_over(at_step_6, db):
    rows = [["Contactpersonen Huisartsenpraktijk De Linde"], [], ["bijgewerkt op 1 december"], HEADER_NL,
            ["01004567", "", "", *PIETERS]]
    assert upload(at_step_6, csv_file(rows), name="lijst.csv").status_code == 303
    assert error_rows(preview(at_step_6)) == [] and confirm(at_step_6).status_code == 303
    assert contact_names(db, "01004567") == [(1, "K.", "Pieters", "applicant")]


def test_columns_in_another_order_with_dutch_words_are_read(at_step_6, db):
    rows = [["Telefoon", "E-mailadres", "Achternaam", "Tussenvoegsel", "Voorletters", "AGB code", "Achternaam"],
            ["06-12345678", "k.pieters@delinde.example", "Pieters", "", "k", "01004567", ""]]
    assert upload(at_step_6, xlsx(rows)).status_code == 303
    confirm(at_step_6)
    assert contact_names(db, "01004567") == [(1, "K.", "Pieters", "applicant")]


@pytest.mark.parametrize("typed", ["6.12345678E8", "6,12345678E+08", "612345678", "31612345678", "0612345678",
                                   612345678, 612345678.0, 31612345678])
def test_a_phone_number_a_spreadsheet_made_a_number_of_is_read_as_the_dutch_number(at_step_6, db, typed):
    rows = [HEADER_NL, ["01004567", "", "", "K.", "", "Pieters", "k.pieters@delinde.example", typed]]
    assert upload(at_step_6, xlsx(rows)).status_code == 303
    assert confirm(at_step_6).status_code == 303
    assert contacts(db, "01004567")[0]["phone"] == "+31612345678"


@pytest.mark.parametrize("typed", [1004567, "1004567", "0100 4567"])
def test_an_agb_code_whose_leading_zero_a_spreadsheet_dropped_is_read(at_step_6, db, typed):
    rows = [HEADER_NL, [typed, "", "", *PIETERS]]
    assert upload(at_step_6, xlsx(rows)).status_code == 303
    assert confirm(at_step_6).status_code == 303
    assert contact_names(db, "01004567") == [(1, "K.", "Pieters", "applicant")]


# -- htmx and without JavaScript --------------------------------------------------------------------


def test_the_upload_page_full_and_as_a_fragment(at_step_6):
    html = at_step_6.get(UPLOAD).get_data(as_text=True)
    assert "<html" in html and 'enctype="multipart/form-data"' in html and 'hx-encoding="multipart/form-data"' in html
    file_input = element(html, "file")
    assert file_input["type"] == "file" and file_input["name"] == "file"
    assert 'href="/stap/6"' in html  # Vorige
    fragment = at_step_6.get(UPLOAD, htmx=True)
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    assert fragment.get_data(as_text=True).startswith("<title>Contactpersonen uit een spreadsheet")


def test_with_htmx_the_preview_and_the_stored_table_swap_in(at_step_6, db):
    response = upload(at_step_6, xlsx(fill_all(at_step_6, **{"01004567": PIETERS, "37000890": PIETERS})), htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["HX-Push-Url"] == UPLOAD
    assert html.startswith("<title>Contactpersonen uit een spreadsheet") and "2 AGB-codes krijgen" in html
    response = confirm(at_step_6, htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["HX-Push-Url"] == "/stap/6"
    assert html.startswith("<title>Geef uw contactpersonen op")
    assert "Opgeslagen uit uw bestand. Ingevuld: 2, gewijzigd: 0." in html  # in the live region
    assert len(contacts(db)) == 3


def test_with_htmx_a_bad_file_comes_back_as_a_fragment_with_its_message(at_step_6, db):
    response = upload(at_step_6, b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, name="foto.xlsx", htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in html and html.startswith("<title>Fout: ")
    assert "Dit bestand is geen spreadsheet" in html
    assert pending_count(db) == 0


# -- bad files ------------------------------------------------------------------------------------


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def _template_bytes(applicant) -> bytes:
    return download(applicant).get_data()


NOT_A_SPREADSHEET = "Dit bestand is geen spreadsheet. Kies een .xlsx- of .csv-bestand, zoals het sjabloon"
BAD_FILES = {
    "rows far apart": (lambda a: xlsx_rows_apart([HEADER_NL, ["01004567", "", "", *PIETERS]], 10_002), "apart.xlsx",
                       "Het bestand heeft meer dan 10.000 lege rijen, tussen of onder de gegevens. Verwijder de lege "
                       "rijen en kies het opnieuw"),
    "a PNG renamed .xlsx": (lambda a: b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "foto.xlsx", NOT_A_SPREADSHEET),
    "a PDF renamed .xlsx": (lambda a: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "brief.xlsx",
                            NOT_A_SPREADSHEET),
    "a text file renamed .xlsx": (lambda a: b"AGB-code;Voorletters\n", "lijst.xlsx", NOT_A_SPREADSHEET),
    "a Word file": (lambda a: _zip({"word/document.xml": b"<w/>", "[Content_Types].xml": b"<x/>"}), "brief.xlsx",
                    NOT_A_SPREADSHEET),
    "binary rubbish named .csv": (lambda a: bytes(range(256)) * 8, "lijst.csv", NOT_A_SPREADSHEET),
    "a password-protected file": (lambda a: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1000, "lijst.xlsx",
                                  "Dit bestand is beveiligd met een wachtwoord, of het is een oud Excel-bestand"),
    "a corrupt xlsx": (lambda a: _template_bytes(a)[:3000], "lijst.xlsx",
                       "Dit bestand kunnen wij niet lezen: het is beschadigd of onvolledig."),
    "an xlsx with a broken sheet": (lambda a: _broken_sheet(_template_bytes(a)), "lijst.xlsx",
                                    "Dit bestand kunnen wij niet lezen: het is beschadigd of onvolledig."),
    "a zip bomb": (lambda a: _zip({"xl/workbook.xml": b"<w/>", "xl/worksheets/sheet1.xml": b"\x00" * 30_000_000}),
                   "lijst.xlsx", "Dit bestand is uitgepakt veel groter dan een lijst contactpersonen kan zijn."),
    "a small zip bomb": (lambda a: _zip({"xl/workbook.xml": b"<w/>", "xl/worksheets/sheet1.xml": b" " * 5_000_000}),
                         "lijst.xlsx", "Dit bestand is uitgepakt veel groter dan een lijst contactpersonen kan zijn."),
    "an empty file": (lambda a: b"", "lijst.xlsx", "Het bestand is leeg."),
    "an empty csv": (lambda a: b"\xef\xbb\xbf\r\n;;;\r\n", "lijst.csv", "Het bestand is leeg."),
    "only headers (xlsx)": (lambda a: xlsx([HEADER_NL]), "lijst.xlsx",
                            "Het bestand heeft alleen een kopregel, zonder rijen met AGB-codes."),
    "only headers (csv)": (lambda a: csv_file([HEADER_NL]), "lijst.csv",
                           "Het bestand heeft alleen een kopregel, zonder rijen met AGB-codes."),
    "no header row": (lambda a: csv_file([["01004567", "K.", "", "Pieters", "k@x.nl", "0612345678"]]), "lijst.csv",
                      "Het bestand mist de kolom(men) AGB-code, Voorletters 1, Achternaam 1, E-mailadres 1, "
                      "Telefoonnummer 1."),
    "a missing column": (lambda a: csv_file([["AGB-code", "Voorletters", "Achternaam", "E-mailadres"],
                                             ["01004567", "K.", "Pieters", "k@x.nl"]]), "lijst.csv",
                         "Het bestand mist de kolom(men) Telefoonnummer 1."),
    "a column three times": (lambda a: csv_file([["AGB-code", "Voorletters", "Achternaam", "E-mailadres",
                                                  "Telefoon", "Voorletters", "Voorletters"], ["01004567"]]),
                             "lijst.csv", "De kolom “Voorletters” staat er te vaak in."),
    "10,000 rows": (lambda a: csv_file([HEADER_NL] + [[f"01{n:06d}", "", "", *PIETERS] for n in range(10_000)]),
                    "lijst.csv", "Het bestand heeft meer dan 100 rijen. Uw aanmelding heeft 3 AGB-codes: zet in het "
                                 "bestand hoogstens een rij per code"),
}


def test_too_many_rows_for_an_application_of_one_code_says_agb_code_once(verified, registry_path):
    def one_code(data):
        data["agb"] = [code for code in data["agb"] if code["kvkNummer"] != "41000001" or code["agbCode"] == "01051234"]
    edit_registry(registry_path, one_code)
    for response in (verified.look_up(), verified.confirm(), sign(verified), name_main_contact(verified)):
        assert response.status_code == 303
    rows = [[f"01{n:06d}", "", "", *PIETERS] for n in range(101)]
    html = upload(verified, csv_file([HEADER_NL] + rows), "lijst.csv").get_data(as_text=True)
    assert ("Het bestand heeft meer dan 100 rijen. Uw aanmelding heeft 1 AGB-code: zet in het bestand hoogstens "
            "een rij per code") in html


def _broken_sheet(data: bytes) -> bytes:
    """The template with its sheet's XML cut short."""
    source = zipfile.ZipFile(io.BytesIO(data))
    return _zip({name: (source.read(name)[:200] if name.startswith("xl/worksheets/") else source.read(name))
                 for name in source.namelist()})


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_file_gets_a_clear_message_next_to_the_file_field_and_in_the_error_summary(at_step_6, db, case):
    make, name, message = BAD_FILES[case]
    data = make(at_step_6)
    before = table(db, "contact_persons")
    response = upload(at_step_6, data, name=name)
    html = response.get_data(as_text=True)
    assert response.status_code == 422, html[:500]
    assert "<title>Fout: Contactpersonen uit een spreadsheet" in html
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.S).group(0)
    assert 'href="#file"' in summary and message in summary.replace("&#34;", '"').replace("&#39;", "'")
    error = re.search(r'<p class="field-error" id="file-error">.*?</p>', html, re.S).group(0)
    assert message in error.replace("&#34;", '"')
    assert element(html, "file")["aria-invalid"] == "true"
    assert "file-error" in element(html, "file")["aria-describedby"]
    assert pending_count(db) == 0 and table(db, "contact_persons") == before


def test_uploading_without_choosing_a_file_asks_for_one(at_step_6, db):
    fields = hidden_inputs(at_step_6.get(UPLOAD).get_data(as_text=True))
    boundary, body = encode_multipart(MultiDict(fields))
    response = at_step_6.client.post(UPLOAD, data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 422
    assert "Kies het bestand met de contactpersonen" in response.get_data(as_text=True)


def test_an_application_uploads_at_most_twenty_files_in_ten_minutes(at_step_6, db):
    """Reading a file takes a worker's time: the 21st upload is refused before it is read, and the
    preview waiting stays."""
    data = csv_file([HEADER_NL, ["01004567", "", "", *PIETERS]])
    for _ in range(20):
        assert upload(at_step_6, data, name="contactpersonen.csv").status_code == 303
    refused = upload(at_step_6, b"not read", name="contactpersonen.csv")
    assert refused.status_code == 429
    assert "U heeft dit te vaak geprobeerd. Probeer het over" in refused.get_data(as_text=True)
    assert "1 AGB-code krijgt een contactpersoon" in preview(at_step_6)


def test_a_bad_file_leaves_an_earlier_preview_waiting(at_step_6, db):
    upload(at_step_6, xlsx(fill_all(at_step_6, **{"01004567": PIETERS})))
    html = upload(at_step_6, b"", name="leeg.xlsx").get_data(as_text=True)
    assert "Wat uw bestand verandert" not in html  # the page is about the file just refused
    assert "1 AGB-code krijgt een contactpersoon" in preview(at_step_6)


# -- rows with errors -----------------------------------------------------------------------------


def _only_printable(cases):
    return [case for case in cases if all(char.isprintable() or char in "\u202e" for char in case[1])]


@pytest.mark.parametrize("field, typed, message", _only_printable(CONTACT_REFUSED))
def test_a_row_is_checked_with_the_inline_forms_rules(at_step_6, db, field, typed, message):
    contact = dict(zip(spreadsheet.FIELDS, PIETERS)) | {field: typed}
    rows = [HEADER_NL, ["01004567", "", "", *contact.values()]]
    upload(at_step_6, xlsx(rows))
    html = preview(at_step_6)
    column = HEADER_NL[3 + spreadsheet.FIELDS.index(field)]
    from markupsafe import escape
    assert error_rows(html) == [["2", "01004567", column, str(escape(message)), str(escape(typed)).strip() or "(leeg)"]]
    assert f'<a href="#upload-error-1">Rij 2, {column}: {escape(message)}</a>' in html
    assert "<title>Fout: " in html and "Uw bestand heeft fouten. Er is nog niets opgeslagen." in html
    assert CONFIRM not in html  # nothing valid to store
    assert contacts(db, "01004567") == []


ROW_PROBLEMS = [
    ("a formula", ["01004567", "", "", "K.", "", '=CONCATENATE("Pie","ters")', "k@delinde.example", "0612345678"],
     ["2", "01004567", "Achternaam 1",
      "Deze cel bevat een formule. Zet er de waarde zelf in: kopieer de cel en plak alleen de waarde",
      '=CONCATENATE("Pie","ters")']),
    ("a date", ["01004567", "", "", "K.", "", "Pieters", "k@delinde.example", datetime(2012, 6, 1)],
     ["2", "01004567", "Telefoonnummer 1",
      "Deze cel is als datum opgemaakt. Maak de kolom op als tekst en vul de waarde opnieuw in",
      "2012-06-01T00:00:00"]),
    ("a code of another company", ["04071111", "", "", *PIETERS],
     ["2", "04071111", "AGB-code", "Deze AGB-code hoort niet bij uw aanmelding", "04071111"]),
    ("an inactive code", ["01009999", "", "", *PIETERS],
     ["2", "01009999", "AGB-code", "Deze AGB-code hoort niet bij uw aanmelding", "01009999"]),
    ("a code that is not one", ["0100456X", "", "", *PIETERS],
     ["2", "0100456X", "AGB-code", "Een AGB-code bestaat alleen uit cijfers", "0100456X"]),
    ("no code", ["", "M. van der Linden", "", *PIETERS],
     ["2", "", "AGB-code", "Vul een AGB-code in", "(leeg)"]),
]


@pytest.mark.parametrize("case, row, expected", ROW_PROBLEMS, ids=[case[0] for case in ROW_PROBLEMS])
def test_a_row_with_a_problem_is_listed_with_its_code_column_message_and_value(at_step_6, db, case, row, expected):
    upload(at_step_6, xlsx([HEADER_NL, row, ["37000890", "", "", *PIETERS]]))
    html = preview(at_step_6)
    assert error_rows(html) == [[cell.replace('"', "&#34;") for cell in expected]]
    assert "1 AGB-code krijgt een contactpersoon" in html and "1 rij heeft een fout" in html
    assert "Sla de goede rijen op en toon mij de rest" in html and "Sla de contactpersonen op" not in html
    assert contacts(db, "37000890") == []


def test_a_code_twice_is_an_error_on_both_rows(at_step_6, db):
    upload(at_step_6, xlsx([HEADER_NL, ["01004567", "", "", *PIETERS], ["37000890", "", "", *PIETERS],
                            ["01004567", "", "", *DAM]]))
    html = preview(at_step_6)
    twice = "Deze AGB-code staat meer dan eens in het bestand: ook in rij "
    assert error_rows(html) == [["2", "01004567", "AGB-code", twice + "4", "01004567"],
                                ["4", "01004567", "AGB-code", twice + "2", "01004567"]]


def test_nothing_is_stored_while_the_preview_has_errors(at_step_6, db):
    upload(at_step_6, xlsx([HEADER_NL, ["01004567", "", "", "K.", "", "", "k@delinde.example", "0612345678"],
                            ["37000890", "", "", *PIETERS]]))
    fields = hidden_inputs(re.search(rf'<form method="post" action="{CONFIRM}".*?</form>', preview(at_step_6),
                                     re.S).group(0))
    before = {name: table(db, name) for name in ("contact_persons", "draft_agb_codes", "drafts")}
    response = confirm(at_step_6, store="all", fields=fields)
    assert response.status_code == 422
    assert "Uw bestand heeft fouten. Er is nog niets opgeslagen." in response.get_data(as_text=True)
    assert {name: table(db, name) for name in before} == before and pending_count(db) == 1


@pytest.mark.parametrize("htmx", [False, True])
def test_storing_the_valid_rows_shows_the_rest(at_step_6, db, htmx):
    upload(at_step_6, xlsx([HEADER_NL, ["01004567", "", "", "K.", "", "", "k@delinde.example", "0612345678"],
                            ["37000890", "", "", *PIETERS]]))
    response = confirm(at_step_6, store="valid", htmx=htmx)
    if htmx:
        assert response.status_code == 200 and response.headers["HX-Push-Url"] == UPLOAD
        html = response.get_data(as_text=True)
    else:
        assert response.status_code == 303 and response.headers["Location"] == UPLOAD
        html = preview(at_step_6)
    assert contact_names(db, "37000890") == [(1, "K.", "Pieters", "applicant")]
    assert contacts(db, "01004567") == []
    assert "De rijen zonder fout uit contactpersonen.xlsx zijn opgeslagen. Ingevuld: 1, gewijzigd: 0." in html
    assert "Niet opgeslagen: 1 rij met een fout" in html
    assert error_rows(html) == [["2", "01004567", "Achternaam 1", "Vul de achternaam in", "(leeg)"]]
    assert CONFIRM not in html and "<title>Contactpersonen" in html  # nothing more to confirm
    last = table(db, "audit_log")[-1]
    assert last["action"] == "contact persons from a spreadsheet: 1 codes filled, 0 changed, 1 rows with errors left out"
    # Fixed and uploaded again, the rest goes in as well.
    upload(at_step_6, xlsx([HEADER_NL, ["01004567", "", "", *PIETERS]]))
    assert confirm(at_step_6).status_code == 303
    assert contact_names(db, "01004567") == [(1, "K.", "Pieters", "applicant")]


def test_the_error_summary_names_the_first_ten_errors_and_counts_the_rest(large):
    rows = [HEADER_NL] + [[code, "", "", "K.", "", "", "k@delinde.example", "0612345678"] for code in LARGE_CODES[:25]]
    upload(large, csv_file(rows), name="groot.csv")
    html = preview(large)
    assert len(re.findall(r'<a href="#upload-error-\d+">', html)) == 10
    assert "en nog 15 fouten: die staan in de tabel hieronder" in html
    assert len(error_rows(html)) == 25


# -- two windows, a second click ------------------------------------------------------------------


def test_a_row_saved_in_another_window_after_the_preview_makes_the_confirmation_stale(at_step_6, db):
    upload(at_step_6, xlsx(fill_all(at_step_6, **{"01004567": PIETERS, "37000890": PIETERS})))
    html = preview(at_step_6)
    old = hidden_inputs(re.search(rf'<form method="post" action="{CONFIRM}".*?</form>', html, re.S).group(0))
    assert save_row(at_step_6, "01004567", htmx=True).status_code == 200  # another window
    response = confirm(at_step_6, fields=old)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "in een ander venster of tabblad gewijzigd" in html
    assert contact_names(db, "01004567") == [(1, "A.S.", "El Amrani", "applicant")]
    assert contacts(db, "37000890") == []
    # The preview now shows the file against what is stored: one filled, one changed. Sent again, it is stored.
    assert "1 AGB-code krijgt een contactpersoon" in html and "1 AGB-code wordt gewijzigd" in html
    assert confirm(at_step_6, fields=hidden_inputs(
        re.search(rf'<form method="post" action="{CONFIRM}".*?</form>', html, re.S).group(0))).status_code == 303
    assert contact_names(db, "01004567") == [(1, "K.", "Pieters", "applicant")]


def test_a_change_of_the_draft_in_another_window_makes_the_confirmation_stale(at_step_6, db):
    upload(at_step_6, xlsx(fill_all(at_step_6, **{"01004567": PIETERS})))
    html = preview(at_step_6)
    old = hidden_inputs(re.search(rf'<form method="post" action="{CONFIRM}".*?</form>', html, re.S).group(0))
    name_main_contact(at_step_6, surname="Pietersen")  # another window
    response = confirm(at_step_6, fields=old, htmx=True)
    assert response.status_code == 409 and "in een ander venster" in response.get_data(as_text=True)
    assert contacts(db, "01004567") == []


def test_a_new_upload_in_another_window_replaces_the_preview(at_step_6, db):
    upload(at_step_6, xlsx(fill_all(at_step_6, **{"01004567": PIETERS})))
    old = hidden_inputs(re.search(rf'<form method="post" action="{CONFIRM}".*?</form>', preview(at_step_6),
                                  re.S).group(0))
    upload(at_step_6, xlsx(fill_all(at_step_6, **{"01004567": DAM})))
    response = confirm(at_step_6, fields=old)
    assert response.status_code == 409
    assert "Er is intussen in een ander venster een ander bestand geüpload." in response.get_data(as_text=True)
    assert contacts(db, "01004567") == [] and pending_count(db) == 1


def test_the_confirmation_is_used_once(at_step_6, db):
    upload(at_step_6, xlsx(fill_all(at_step_6, **{"01004567": PIETERS})))
    fields = hidden_inputs(re.search(rf'<form method="post" action="{CONFIRM}".*?</form>', preview(at_step_6),
                                     re.S).group(0))
    assert confirm(at_step_6, fields=fields).status_code == 303
    again = confirm(at_step_6, fields=fields)  # a second click
    assert again.status_code == 303 and again.headers["Location"] == "/stap/6"
    actions = [row["action"] for row in table(db, "audit_log") if "spreadsheet" in row["action"]]
    assert len(actions) == 1


def test_a_submitted_application_takes_no_upload(submitted, db):
    fields = hidden_inputs(submitted.get("/aanmelding").get_data(as_text=True))
    for response in (submitted.get(UPLOAD), submitted.get("/stap/6/sjabloon.xlsx"),
                     post_file(submitted, UPLOAD, fields, xlsx([HEADER_NL, ["01004567", "", "", *PIETERS]]), "a.xlsx"),
                     submitted.client.post(CONFIRM, data={**fields, "store": "all"})):
        assert response.status_code == 303 and response.headers["Location"] == "/aanmelding"
    assert pending_count(db) == 0


# -- where the upload waits -----------------------------------------------------------------------


def test_the_upload_waits_in_the_database_not_in_the_session_cookie(at_step_6, db):
    def cookie():
        return at_step_6.client.get_cookie("aansluiten").value
    at_step_6.get("/stap/6")
    before = len(cookie())
    upload(at_step_6, xlsx(fill_all(at_step_6, **{"01004567": PIETERS, "37000890": PIETERS + DAM})))
    assert preview(at_step_6)
    assert len(cookie()) <= before + 8  # re-signed at most, not grown with the file
    with at_step_6.client.session_transaction() as session:
        assert set(session) <= {"draft", "seen", "csrf_token", "browser"}
    assert pending_count(db) == 1


def test_a_pending_upload_goes_with_its_draft_and_with_purge_after_a_day(at_step_6, db):
    upload(at_step_6, xlsx(fill_all(at_step_6, **{"01004567": PIETERS})))
    assert retention.purge(db).uploads == 0 and pending_count(db) == 1
    db.conn.execute("UPDATE pending_uploads SET created_at = ?",
                    ((datetime.now().astimezone() - timedelta(days=2)).isoformat(timespec="seconds"),))
    assert retention.purge(db).uploads == 1 and pending_count(db) == 0
    upload(at_step_6, xlsx(fill_all(at_step_6, **{"01004567": PIETERS})))
    db.conn.execute("DELETE FROM drafts")
    assert pending_count(db) == 0


# -- CSRF and the body limit ----------------------------------------------------------------------


def test_an_upload_without_csrf_token_is_refused_with_the_friendly_page(at_step_6, db):
    response = upload(at_step_6, xlsx(fill_all(at_step_6, **{"01004567": PIETERS})), fields={})
    assert response.status_code == 400 and "te lang open" in response.get_data(as_text=True)
    assert pending_count(db) == 0
    response = at_step_6.client.post(CONFIRM, data={"store": "all"})
    assert response.status_code == 400


def test_the_upload_takes_a_larger_body_than_any_other_form(large, db):
    rows = template(large, "csv")
    body = csv_file([rows[0]] + [row[:3] + PIETERS + row[8:] for row in rows[1:]])
    assert len(body) > 64 * 1024
    assert upload(large, body, name="groot.csv").status_code == 303
    fields = hidden_inputs(large.get("/stap/6").get_data(as_text=True))
    response = post_file(large, "/stap/6", fields, body, "groot.csv")
    assert response.status_code == 413 and "Te veel gegevens" in response.get_data(as_text=True)


@pytest.mark.parametrize("htmx", [False, True])
def test_a_file_over_the_limit_gets_its_message_at_the_file_field(app, at_step_6, db, htmx):
    app.config["UPLOAD_MAX_BYTES"] = 200_000
    response = upload(at_step_6, b"x" * 250_000, name="groot.csv", htmx=htmx)
    html = response.get_data(as_text=True)
    assert response.status_code == (422 if htmx else 413)
    assert "Het bestand is groter dan 0,2 MB." in html and 'href="#file"' in html
    assert element(html, "file")["aria-invalid"] == "true"
    assert pending_count(db) == 0


@pytest.mark.parametrize("url, size, status", [(UPLOAD, 100_000, 303), ("/stap/6", 100_000, 413),
                                                (UPLOAD, 5_000_000, 413)])
def test_a_chunked_body_meets_the_limit_of_its_endpoint(at_step_6, url, size, status):
    fields = hidden_inputs(at_step_6.get(UPLOAD).get_data(as_text=True))
    data = csv_file([HEADER_NL, ["01004567", "", "", *PIETERS]]) + b" " * size  # one empty row
    boundary, body = encode_multipart(MultiDict({**fields, "file": FileStorage(io.BytesIO(data), "lijst.csv")}))
    response = at_step_6.client.post(url, input_stream=io.BytesIO(body),
                                     content_type=f"multipart/form-data; boundary={boundary}",
                                     headers={"Transfer-Encoding": "chunked"},
                                     environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == status


# -- a large organisation ---------------------------------------------------------------------------

LARGE_CODES = sorted(f"{('01', '04', '06', '12')[number % 4]}{number:06d}" for number in range(1000))


@pytest.fixture
def large(applicant, large_registry):
    applicant.verify("groep@example.nl")
    assert applicant.look_up(kvk=LARGE_KVK, agb="01000000").status_code == 303
    assert applicant.confirm().status_code == 303
    assert sign(applicant).status_code == 303
    assert name_main_contact(applicant).status_code == 303
    return applicant


def test_a_thousand_rows_in_one_upload(large, db):
    rows = template(large, "csv")
    assert len(rows) == 1001
    body = [rows[0]] + [row[:3] + ["K.", "", "Jansen", f"k.jansen{index}@groep.example", "0612345678"] + row[8:]
                        for index, row in enumerate(rows[1:])]
    assert upload(large, csv_file(body), name="alle-codes.csv").status_code == 303
    assert "1000 AGB-codes krijgen een contactpersoon" in preview(large)
    assert confirm(large).status_code == 303
    assert db.conn.execute("SELECT count(*) FROM contact_persons WHERE source = 'applicant'").fetchone()[0] == 1000
    assert large.submit("/stap/6").headers["Location"] == "/stap/7"


# -- English --------------------------------------------------------------------------------------


def test_the_preview_speaks_english_when_asked(at_step_6):
    at_step_6.client.get("/taal/en?next=/")
    upload(at_step_6, xlsx([HEADER_EN, ["01004567", "", "", "K.", "", "", "k@delinde.example", "0612345678"]]))
    html = preview(at_step_6)
    assert '<html lang="en">' in html and "Error: " in html
    assert error_rows(html)[0][2] == "Surname 1"
    assert "Vul" not in error_rows(html)[0][3]
