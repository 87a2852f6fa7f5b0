"""Step 6 from a spreadsheet in a real Chromium, with htmx active and blocked (issue 10, "Done
when"): the demo hospital group's 177 codes filled from the downloaded template in one upload, a
preview with one deliberately broken row, the row fixed and the file uploaded again, stored, and
on to step 7; axe with zero violations on every page on the way.

And the other way out of a preview with errors: "store the valid rows and show me the rest".
"""

import re

import openpyxl
import pytest
from playwright.sync_api import expect

from test_steps_4_to_7 import HOSPITAL, MAATSCHAP, Applicant, active_codes, axe  # noqa: F401 (axe: a fixture)

pytestmark = pytest.mark.timeout(240)

TITLE = "Contactpersonen uit een spreadsheet"
BAD_EMAIL = "Vul een geldig e-mailadres in, zoals naam@praktijk.nl"


@pytest.fixture(params=["js", "nojs"])
def applicant(request, axe, unique_email):  # noqa: F811 (the imported fixture)
    js = request.param == "js"
    page = request.getfixturevalue("page" if js else "nojs_page")
    return Applicant(page, js, axe, unique_email(f"upload-{request.param}"))


def download_template(a, tmp_path):
    """Click the template link on step 6: the workbook as it arrives."""
    with a.page.expect_download() as arrived:
        a.page.get_by_role("link", name="Sjabloon voor Excel (.xlsx)").click()
    download = arrived.value
    assert download.suggested_filename == f"contactpersonen-{HOSPITAL['kvk']}.xlsx" or \
        download.suggested_filename.startswith("contactpersonen-")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    return openpyxl.load_workbook(path), path


def fill_empty_rows(workbook, broken_line: int | None = None) -> int:
    """Give every row without a contact person one, as an office fills in the template; the row
    at ``broken_line`` gets an e-mail address that is none. How many rows were filled."""
    sheet = workbook.worksheets[0]
    count = 0
    for line in range(2, sheet.max_row + 1):
        if sheet.cell(line, 6).value:  # Achternaam 1: a contact known at VECOZO
            continue
        code = sheet.cell(line, 1).value
        for column, value in zip(range(4, 9), ["k", "", "Jansen", f"k.jansen+{code}@rijnenvecht.example",
                                               "0612345678"]):
            sheet.cell(line, column).value = value
        if line == broken_line:
            sheet.cell(line, 7).value = "geen-adres"
        count += 1
    return count


def choose_and_check(a, path) -> None:
    a.page.get_by_label("Het ingevulde bestand").set_input_files(str(path))
    a.submit("Bestand controleren")
    a.at("/stap/6/bestand", TITLE)


def test_the_hospital_fills_its_contacts_from_the_template_in_one_upload(applicant, tmp_path):
    a, page = applicant, applicant.page
    codes = active_codes(HOSPITAL["kvk"])
    a.to_step_6(HOSPITAL)
    expect(page.locator("tr.contact-row--missing").first).to_be_visible()

    workbook, path = download_template(a, tmp_path)
    rows = list(workbook.worksheets[0].values)
    assert rows[0][:4] == ("AGB-code", "Naam", "Zorgsoort", "Voorletters 1")
    assert sorted(row[0] for row in rows[1:]) == sorted(codes)
    filled = fill_empty_rows(workbook, broken_line=5)
    workbook.save(path)

    page.get_by_role("link", name="Upload het ingevulde bestand").click()
    a.at("/stap/6/bestand", TITLE)
    a.axe("upload page")
    # Nothing chosen: the message at the field.
    a.submit("Bestand controleren")
    a.at("/stap/6/bestand", TITLE)
    expect(page.locator(".error-summary")).to_contain_text("Kies het bestand met de contactpersonen")
    expect(page.get_by_label("Het ingevulde bestand")).to_have_attribute("aria-invalid", "true")
    if a.js:
        expect(page.locator(".error-summary")).to_be_focused()
    a.axe("upload page, no file chosen")

    # The file with one broken row: a preview, nothing stored.
    choose_and_check(a, path)
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Uw bestand heeft fouten. Er is nog niets opgeslagen.")
    expect(summary).to_contain_text(f"Rij 5, E-mailadres 1: {BAD_EMAIL}")
    expect(page).to_have_title(re.compile(f"^Fout: {TITLE}"))
    if a.js:
        expect(summary).to_be_focused()
    main = page.locator("#main")
    expect(main).to_contain_text(f"{filled - 1} AGB-codes krijgen een contactpersoon")
    expect(main).to_contain_text("1 rij heeft een fout en verandert niets")
    expect(page.locator("#upload-error-1")).to_contain_text("geen-adres")
    expect(page.get_by_role("button", name="Sla de contactpersonen op")).to_have_count(0)
    a.axe("preview with an error")
    summary.get_by_role("link", name=re.compile("^Rij 5")).click()
    expect(page.locator("#upload-error-1")).to_be_focused()

    # Fixed and uploaded again: stored, every code has a contact person.
    workbook.worksheets[0].cell(5, 7).value = "k.jansen@rijnenvecht.example"
    workbook.save(path)
    choose_and_check(a, path)
    expect(page.locator(".error-summary")).to_have_count(0)
    expect(main).to_contain_text(f"{filled} AGB-codes krijgen een contactpersoon")
    a.axe("preview")
    a.submit("Sla de contactpersonen op")
    a.at_step(6, query=True)
    expect(page.locator("tr.contact-row--missing")).to_have_count(0)
    expect(page.locator("#contact-rows")).to_contain_text("K. Jansen")
    if a.js:
        expect(page.locator("#status")).to_have_text(f"Opgeslagen uit uw bestand. Ingevuld: {filled}, gewijzigd: 0.")
    a.axe("step 6 after the upload")
    a.submit("Doorgaan")
    a.at_step(7)
    a.assert_accessible_throughout()


def test_storing_the_valid_rows_shows_the_rest_to_fix(applicant, tmp_path):
    a, page = applicant, applicant.page
    a.to_step_6(MAATSCHAP, birth_date="14-05-1980")
    workbook, path = download_template(a, tmp_path)
    filled = fill_empty_rows(workbook, broken_line=2)
    workbook.save(path)
    page.get_by_role("link", name="Upload het ingevulde bestand").click()
    a.at("/stap/6/bestand", TITLE)
    choose_and_check(a, path)
    a.submit("Sla de goede rijen op en toon mij de rest")
    a.at("/stap/6/bestand", TITLE)
    main = page.locator("#main")
    expect(main).to_contain_text(f"Ingevuld: {filled - 1}, gewijzigd: 0.")
    expect(main).to_contain_text("Niet opgeslagen: 1 rij met een fout")
    expect(page.locator("#upload-error-1")).to_contain_text(BAD_EMAIL)
    expect(page.get_by_role("button", name=re.compile("^Sla "))).to_have_count(0)
    a.axe("the rows left out")
    page.get_by_role("link", name="Terug naar de tabel met AGB-codes").click()
    a.at_step(6)
    expect(page.locator("tr.contact-row--missing")).to_have_count(1)
    a.assert_accessible_throughout()
