"""Step 9: the summary with change links, the declaration, and submitting."""

import io

from pypdf import PdfReader

from .conftest import table


def test_summary_shows_every_section_with_a_change_link(at_step_9):
    html = at_step_9.get("/stap/9").get_data(as_text=True)
    for number in range(1, 9):
        if number != 3:
            assert f'href="/stap/{number}?terug=overzicht"' in html
    assert "Niet opgegeven" in html  # no ICT administrators, no remark
    assert 'name="declaration"' in html


def test_submit_freezes_and_makes_the_agreement(submitted, db):
    draft = submitted.draft()
    assert draft["status"] == "submitted" and draft["reference"].startswith("VZ-")
    [agreement] = table(db, "agreements")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(agreement["pdf"])).pages)
    assert draft["reference"] in text and "01051234" in text
    # Frozen: a step before 10 sends to the status page.
    assert submitted.get("/stap/4").headers["Location"] == "/aanmelding"
    assert submitted.get("/aanmelding").status_code == 200
