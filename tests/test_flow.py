"""The whole flow so far as a browser without JavaScript walks it: 303 after every post."""

import re

from .conftest import hidden_inputs


def follow(client, response):
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    return page


def post(client, page, url, data):
    return client.post(url, data={**hidden_inputs(page.get_data(as_text=True)), **data})


def test_steps_1_to_3_without_javascript(client, db):
    page = client.get("/")
    assert 'href="/stap/1"' in page.get_data(as_text=True)
    page = client.get("/stap/1")
    page = follow(client, post(client, page, "/stap/1", {"email": "zonder-js@example.nl"}))
    assert "Kijk in uw mailbox" in page.get_data(as_text=True)

    mailbox = client.get("/demo/mailbox").get_data(as_text=True)
    link = re.search(r'href="http://localhost(/bevestig/[^"]+)"', mailbox).group(1)
    page = client.get(link, follow_redirects=True)
    page = follow(client, post(client, page, "/bevestig", {}))
    assert "Vul uw KvK-nummer en AGB-code in" in page.get_data(as_text=True)

    page = follow(client, post(client, page, "/stap/2", {"kvk_number": "41 00 00 01", "agb_code": "0105-1234"}))
    assert "Controleer de gegevens" in page.get_data(as_text=True)

    page = follow(client, post(client, page, "/stap/3", {"data_correct": "yes"}))
    assert "Selecteer uw tekenbevoegde" in page.get_data(as_text=True)
    assert "Stap 4 van 10" in page.get_data(as_text=True)

    # Vorige leads back through every step, each a full page.
    for number in (3, 2, 1):
        html = client.get(f"/stap/{number}").get_data(as_text=True)
        assert "<html" in html and f"Stap {number} van 10" in html
