"""Step 2: KvK number and AGB code, looked up in the registry file."""

import pytest

from .conftest import traced


def test_gate_sends_an_unverified_visitor_to_step_1(client):
    response = client.get("/stap/2")
    assert response.status_code == 303 and response.headers["Location"] == "/stap/1"


def test_gate_as_fragment_answers_step_1_and_pushes_its_url(client):
    response = client.get("/stap/2", headers={"HX-Request": "true"})
    assert response.headers["HX-Push-Url"] == "/stap/1"
    assert "<html" not in response.get_data(as_text=True)


def test_full_page(verified):
    response = verified.get("/stap/2")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html
    assert 'name="kvk_number"' in html and 'name="agb_code"' in html
    assert "Stap 2 van 10" in html and 'href="/stap/1"' in html  # Vorige


def test_fragment(verified):
    response = verified.get("/stap/2", htmx=True)
    html = response.get_data(as_text=True)
    assert "<html" not in html and html.startswith("<title>Vul uw KvK-nummer")
    assert "HX-Request" in response.headers["Vary"]


def test_a_valid_lookup_stores_the_company_and_its_active_codes(verified, db):
    response = verified.look_up(kvk="4100 0001", agb="01.05.12-34")
    assert response.status_code == 303 and response.headers["Location"] == "/stap/3"
    draft = verified.draft()
    assert (draft["kvk_number"], draft["agb_code"]) == ("41000001", "01051234")
    codes = [row["agb_code"] for row in db.conn.execute("SELECT agb_code FROM draft_agb_codes ORDER BY position")]
    assert codes == ["01004567", "01051234", "37000890"]  # the inactive 01009999 is left out
    assert draft["version"] == 2


def test_a_valid_lookup_as_fragment_answers_step_3(verified):
    response = verified.look_up(htmx=True)
    assert response.status_code == 200
    assert response.headers["HX-Push-Url"] == "/stap/3"
    html = response.get_data(as_text=True)
    assert html.startswith("<title>Controleer de gegevens")
    assert "<html" not in html and "Huisartsenpraktijk De Linde B.V." in html
    assert '<div id="status" hx-swap-oob="innerHTML">Uw antwoorden zijn opgeslagen.</div>' in html


FORMAT_ERRORS = [
    ("kvk_number", "", "Vul het KvK-nummer in"),
    ("kvk_number", "1234567", "Een KvK-nummer heeft 8 cijfers"),
    ("kvk_number", "123456789", "Een KvK-nummer heeft 8 cijfers"),
    ("kvk_number", "4100000a", "alleen uit cijfers"),
    ("kvk_number", "<script>", "alleen uit cijfers"),
    ("agb_code", "", "Vul een AGB-code in"),
    ("agb_code", "0105123", "Een AGB-code heeft 8 cijfers"),
    ("agb_code", "01O51234", "alleen uit cijfers"),
]


@pytest.mark.parametrize("field, typed, message", FORMAT_ERRORS)
@pytest.mark.parametrize("htmx", [False, True])
def test_bad_input(verified, field, typed, message, htmx):
    data = {"kvk_number": "41000001", "agb_code": "01051234", field: typed}
    response = verified.submit("/stap/2", data, htmx=htmx)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    assert f'href="#{field}"' in html
    assert f'aria-describedby="{field}-hint {field}-error"' in html
    assert "<title>Fout: " in html
    assert 'value="41000001"' in html or field == "kvk_number"
    if typed:
        assert 'value="' + typed.replace("<", "&lt;").replace(">", "&gt;") in html
    assert verified.draft()["kvk_number"] is None
    assert verified.draft()["version"] == 1


REGISTRY_ERRORS = [
    ("99999999", "01051234", "kvk_number", "staat niet in het Handelsregister", 422),
    ("41000003", "01077777", "kvk_number", "niet meer actief", 422),
    ("41000001", "99999999", "agb_code", "staat niet in het AGB-register", 422),
    ("41000001", "00051234", "agb_code", "00 is geen zorgsoort", 422),
    ("41000001", "04071111", "agb_code", "hoort bij een andere onderneming", 422),
    ("41000001", "01009999", "agb_code", "niet actief in het AGB-register", 422),
    ("41000004", "12088888", None, "niet bereikbaar", 503),
]


@pytest.mark.parametrize("kvk, agb, field, message, status", REGISTRY_ERRORS)
@pytest.mark.parametrize("htmx", [False, True])
def test_registry_refusals_keep_what_was_typed(verified, kvk, agb, field, message, status, htmx):
    response = verified.look_up(kvk=kvk, agb=agb, htmx=htmx)
    html = response.get_data(as_text=True)
    assert response.status_code == status
    assert message in html
    if field:
        assert f'href="#{field}"' in html
    assert f'value="{kvk}"' in html and f'value="{agb}"' in html
    assert verified.draft()["kvk_number"] is None


@pytest.mark.parametrize("htmx", [False, True])
def test_an_unreachable_registry_is_a_notification_not_a_field_error(verified, htmx):
    response = verified.look_up(kvk="41000004", agb="12088888", htmx=htmx)
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert 'class="notification" role="alert"' in html and "niet bereikbaar" in html
    assert "error-summary" not in html and 'aria-invalid' not in html and "Fout:" not in html
    assert 'value="41000004"' in html and 'value="12088888"' in html


def test_the_registry_file_given_through_config_drives_the_lookup(verified, registry_path, app):
    import json
    data = json.loads(registry_path.read_text())
    data["unavailable"] = ["41000001"]
    registry_path.write_text(json.dumps(data))
    import os
    os.utime(registry_path, (2, 2))
    assert verified.look_up().status_code == 503


def test_a_missing_registry_file_says_try_again_later(verified, registry_path):
    registry_path.unlink()
    response = verified.look_up()
    assert response.status_code == 503
    assert "probeer het over een paar minuten opnieuw" in response.get_data(as_text=True)


def test_lookups_are_rate_limited(verified):
    for _ in range(20):
        verified.look_up(kvk="99999999")
    response = verified.look_up()
    assert response.status_code == 429
    assert "te vaak geprobeerd" in response.get_data(as_text=True)
    assert verified.draft()["kvk_number"] is None


def test_a_save_from_an_older_tab_is_refused(verified):
    old_tab = verified.get("/stap/2").get_data(as_text=True)
    from .conftest import hidden_inputs
    stale = hidden_inputs(old_tab)
    assert verified.look_up(kvk="41000002", agb="04071111").status_code == 303
    response = verified.client.post("/stap/2", data={**stale, "kvk_number": "41000001", "agb_code": "01051234"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "in een ander venster of tabblad gewijzigd" in html
    assert 'value="41000001"' in html  # what this tab typed comes back
    assert verified.draft()["kvk_number"] == "41000002"  # and did not overwrite the other tab
    again = verified.client.post("/stap/2", data=hidden_inputs(html) | {"kvk_number": "41000001",
                                                                        "agb_code": "01051234"})
    assert again.status_code == 303  # sent again on purpose, it is saved
    assert verified.draft()["kvk_number"] == "41000001"


def test_another_company_clears_the_confirmation(confirmed):
    assert confirmed.draft()["data_correct"] == "yes"
    confirmed.look_up(kvk="41000002", agb="04071111")
    assert confirmed.draft()["data_correct"] is None
    assert confirmed.get("/stap/4").headers["Location"] == "/stap/3"


def test_a_new_lookup_of_the_same_company_asks_for_confirmation_again(confirmed):
    confirmed.look_up()
    assert confirmed.draft()["data_correct"] is None
    assert confirmed.get("/stap/4").headers["Location"] == "/stap/3"


def test_lookup_is_written_to_the_audit_log(looked_up, db):
    steps = [row["step"] for row in db.conn.execute("SELECT step FROM audit_log ORDER BY id")]
    assert steps == [1, 2]


def test_a_code_the_registry_knows_is_accepted_whatever_its_zorgsoort(verified, registry_path):
    """The app assumes nothing of the registry's content: not even that we know every zorgsoort."""
    import json
    import os
    data = json.loads(registry_path.read_text())
    data["agb"].append({"agbCode": "00012345", "kvkNummer": "41000001", "naam": "Nieuwe zorgsoort",
                        "zorgsoort": "00", "zorgpartijType": "onderneming", "actief": True})
    registry_path.write_text(json.dumps(data))
    os.utime(registry_path, (4, 4))
    assert verified.look_up(agb="00012345").status_code == 303
    assert "00012345" in verified.get("/stap/3").get_data(as_text=True)


def test_a_double_click_without_javascript_goes_on(verified):
    page = verified.get("/stap/2").get_data(as_text=True)
    from .conftest import hidden_inputs
    fields = {**hidden_inputs(page), "kvk_number": "41000001", "agb_code": "01051234"}
    assert verified.client.post("/stap/2", data=fields).headers["Location"] == "/stap/3"
    second = verified.client.post("/stap/2", data=fields)
    assert second.status_code == 303 and second.headers["Location"] == "/stap/3"


def test_the_draft_keeps_only_what_a_step_needs_of_the_officers(looked_up, registry_path):
    import json
    stored = json.loads(looked_up.draft()["company_json"])
    registry = json.loads(registry_path.read_text())
    for officer in stored["functionarissen"]:
        assert "geboortedatum" not in officer and "voornamen" not in officer
        assert {"id", "achternaam", "functie", "bevoegdheid"} <= set(officer)
    everything = looked_up.draft()["company_json"]
    for officer in registry["companies"][0]["functionarissen"]:
        assert officer["geboortedatum"] not in everything


def test_a_migration_removes_what_older_drafts_kept_of_the_officers(tmp_path):
    import json

    from onboarding import store
    path = str(tmp_path / "old.db")
    db = store.connect(path)
    db.conn.execute("BEGIN IMMEDIATE")
    store.migrations.apply(db, stop_before="m004_keep_only_what_a_step_needs")
    db.conn.execute("COMMIT")
    raw = {"kvkNummer": "1", "naam": "x", "functionarissen": [
        {"id": "1", "voornamen": "Jan", "achternaam": "B", "geboortedatum": "1970-01-01", "bevoegdheid": "azb"}]}
    db.conn.execute("INSERT INTO drafts (key, email, company_json, created_at, updated_at) VALUES "
                    "('k', 'a@b.nl', ?, 'x', 'x')", (json.dumps(raw),))
    store.migrate(db)
    stored = db.conn.execute("SELECT company_json FROM drafts").fetchone()[0]
    assert "1970-01-01" not in stored and "Jan" not in stored and '"achternaam": "B"' in stored
    db.close()


def _codes(db):
    return [tuple(row) for row in db.conn.execute(
        "SELECT agb_code, position, name, zorgsoort, party_type, contacts FROM draft_agb_codes ORDER BY position")]


def test_a_lookup_is_saved_in_the_transaction_that_counts_it(looked_up, app, db):
    response, writes, _statements = traced(app, looked_up.look_up)
    assert response.status_code == 303 and writes == 1
    assert db.conn.execute("SELECT hits FROM rate_limits WHERE key LIKE 'lookup-draft:%'").fetchone()[0] == 2


def test_a_lookup_refused_as_stale_still_counts_against_the_limits(verified, db):
    from .conftest import hidden_inputs

    stale = hidden_inputs(verified.get("/stap/2").get_data(as_text=True))
    assert verified.look_up(kvk="41000002", agb="04071111").status_code == 303
    response = verified.client.post("/stap/2", data={**stale, "kvk_number": "41000001", "agb_code": "01051234"})
    assert response.status_code == 409 and verified.draft()["kvk_number"] == "41000002"
    assert db.conn.execute("SELECT hits FROM rate_limits WHERE key LIKE 'lookup-draft:%'").fetchone()[0] == 2


def test_the_same_lookup_sent_again_from_an_older_page_counts_once(verified, db):
    """A second click: the page's version is stale but its answers are stored already, so the
    wizard saves once more; the request is still one try."""
    from .conftest import hidden_inputs

    older = hidden_inputs(verified.get("/stap/2").get_data(as_text=True))
    assert verified.look_up(kvk="41000001", agb="01051234").status_code == 303
    response = verified.client.post("/stap/2", data={**older, "kvk_number": "41000001", "agb_code": "01051234"})
    assert response.status_code == 303
    assert db.conn.execute("SELECT hits FROM rate_limits WHERE key LIKE 'lookup-draft:%'").fetchone()[0] == 2


def test_a_lookup_that_finds_the_codes_as_they_were_writes_none_of_their_rows(looked_up, app, db):
    before = _codes(db)
    response, _writes, statements = traced(app, looked_up.look_up)
    assert response.status_code == 303
    writes = [s for s in statements if s.split()[0] in ("INSERT", "UPDATE", "DELETE")]
    assert writes and [s for s in writes if "draft_agb_codes" in s] == []
    assert _codes(db) == before and len(before) == 3


def test_a_code_renamed_in_the_registry_is_renamed_on_the_next_lookup(looked_up, db, registry_path):
    from .conftest import edit_registry

    edit_registry(registry_path, lambda data: [code.update(naam="De Linde, locatie Plein") for code in data["agb"]
                                               if code["agbCode"] == "37000890"])
    assert looked_up.look_up().status_code == 303
    assert [name for _code, _position, name, *_rest in _codes(db)] == [
        "M. van der Linden", "Huisartsenpraktijk De Linde", "De Linde, locatie Plein"]


def test_the_codes_of_a_draft_stored_before_they_had_a_digest_are_compared_row_by_row(looked_up, db):
    expected = _codes(db)
    db.conn.execute("UPDATE drafts SET agb_codes_sha256 = NULL")
    db.conn.execute("UPDATE draft_agb_codes SET name = 'oud' WHERE agb_code = '37000890'")
    db.conn.execute("DELETE FROM draft_agb_codes WHERE agb_code = '01004567'")
    assert looked_up.look_up().status_code == 303
    assert _codes(db) == expected
    assert looked_up.draft()["agb_codes_sha256"] is not None


def test_codes_whose_values_hold_the_separator_have_digests_of_their_own():
    from onboarding.drafts import agb_codes_sha256
    from onboarding.registry import AgbCode

    def code(name, zorgsoort):
        return AgbCode("01000001", "41000001", name, zorgsoort, "vestiging", True)

    # Joined with NUL, both would read "n NUL z NUL 01".
    assert agb_codes_sha256([code("n\0z", "01")]) != agb_codes_sha256([code("n", "z\0" + "01")])
    assert agb_codes_sha256([code("n", "01")]) == agb_codes_sha256([code("n", "01")])
    assert agb_codes_sha256([code("n", "01")]) != agb_codes_sha256([code("m", "01")])
