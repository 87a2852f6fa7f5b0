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
