def test_start_page_full(client):
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" in html and "Aansluiten bij VECOZO" in html
    assert "Handelsregister" in html and "AGB-register" in html
    for title in ("Vul uw e-mailadres in", "Identificeren en ondertekenen"):
        assert title in html
    assert 'href="/stap/1"' in html


def test_start_page_fragment(client):
    response = client.get("/", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert "<html" not in html and "<title>" in html
    assert "Vary" in response.headers and "HX-Request" in response.headers["Vary"]


def test_demo_numbers_on_the_start_page_come_from_the_registry_file(client):
    html = client.get("/").get_data(as_text=True)
    for kvk in ("41000001", "41000002", "41000003", "41000004"):
        assert kvk in html
    assert "onderneming niet actief" in html
    assert "register niet bereikbaar" in html
    assert "heeft een inactieve AGB-code" in html


def test_registry_names_are_escaped(client):
    html = client.get("/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_start_page_explains_the_roles_and_that_registry_corrections_take_time(client):
    html = client.get("/").get_data(as_text=True)
    assert "<dt>Tekenbevoegde</dt>" in html and "<dt>Hoofdcontactpersoon</dt>" in html
    assert "welke-rollen-kent-de-aansluitovereenkomst" in html
    assert "reken op een paar werkdagen" in html


def test_every_page_offers_a_real_way_to_get_help(client):
    html = client.get("/stap/1").get_data(as_text=True)
    footer = html[html.index("<footer"):]
    assert 'href="https://www.vecozo.nl/support/"' in footer and "bel de servicedesk" not in footer


def test_one_verb_for_going_on(confirmed):
    for url in ("/", "/stap/1", "/stap/3", "/stap/4"):
        assert "Ga verder" not in confirmed.get(url).get_data(as_text=True), url


def test_the_demo_mailbox_shows_local_times(applicant, db):
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo
    applicant.submit("/stap/1", {"email": "tijd@example.nl"})
    stamp = db.conn.execute("SELECT created_at FROM outbox").fetchone()[0]
    local = datetime.fromisoformat(stamp).astimezone(ZoneInfo("Europe/Amsterdam"))
    html = applicant.get("/demo/mailbox").get_data(as_text=True)
    assert local.strftime("%H:%M:%S") in html
    assert datetime.fromisoformat(stamp).astimezone(timezone.utc).strftime("%H:%M:%S") not in html
