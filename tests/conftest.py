"""Fixtures: an app on a fresh database and a small registry of its own per test,
and an ``Applicant`` that uses the site as a browser without JavaScript would."""

import json
import re
from html.parser import HTMLParser

import pytest

from app import create_app
from onboarding import mail, store

from .registry_data import REGISTRY


@pytest.fixture
def registry_path(tmp_path):
    path = tmp_path / "registry.json"
    path.write_text(json.dumps(REGISTRY, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def app(tmp_path, registry_path):
    return create_app({
        "TESTING": True,
        "DATABASE": str(tmp_path / "test.db"),
        "REGISTRY": str(registry_path),
        "SECRET_KEY": "test-secret",
        "DEMO": True,
    })


@pytest.fixture
def db(app):
    database = store.connect(app.config["DATABASE"])
    store.migrate(database)
    yield database
    database.close()


@pytest.fixture
def client(app):
    return app.test_client()


class _Inputs(HTMLParser):
    """The hidden inputs of the page's forms (csrf_token, version)."""

    def __init__(self):
        super().__init__()
        self.hidden = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") == "hidden" and attrs.get("name"):
            self.hidden[attrs["name"]] = attrs.get("value", "")


def hidden_inputs(html: str) -> dict:
    parser = _Inputs()
    parser.feed(html)
    return parser.hidden


LINK = re.compile(r"https?://[^/\s]+(/bevestig/[\w-]+)")


class Applicant:
    """A person at a browser: opens a page, fills its form, follows the answer."""

    def __init__(self, client, db):
        self.client = client
        self.db = db

    def get(self, url, htmx=False, **kwargs):
        headers = {"HX-Request": "true"} if htmx else {}
        return self.client.get(url, headers=headers, **kwargs)

    def submit(self, url, data=None, htmx=False, page=None, **kwargs):
        """Open ``page`` (default: ``url``) for its hidden fields, then post ``data`` to ``url``."""
        opened = self.client.get(page or url)
        fields = hidden_inputs(opened.get_data(as_text=True))
        fields.update(data or {})
        headers = {"HX-Request": "true"} if htmx else {}
        return self.client.post(url, data=fields, headers=headers, **kwargs)

    def last_mail(self, email: str) -> tuple[str, str]:
        """The text and HTML body of the newest mail to ``email``, links filled in."""
        row = self.db.conn.execute(
            "SELECT * FROM outbox WHERE recipient = ? ORDER BY id DESC LIMIT 1", (email,)
        ).fetchone()
        assert row is not None, f"no mail to {email}"
        return mail.bodies(row, self.client.application.extensions["aansluiten.seal"])

    def last_link(self, email: str) -> str:
        return LINK.search(self.last_mail(email)[0]).group(1)

    def open_link(self, link: str, htmx=False, **data):
        """Open the link from the mail (it answers with the link page) and press its button."""
        opened = self.client.get(link, follow_redirects=True)
        fields = hidden_inputs(opened.get_data(as_text=True))
        fields.update(data)
        headers = {"HX-Request": "true"} if htmx else {}
        return self.client.post("/bevestig", data=fields, headers=headers)

    def verify(self, email: str = "praktijk@example.nl"):
        """Step 1 done: ask for a link, open it, press the button."""
        response = self.submit("/stap/1", {"email": email})
        assert response.status_code == 303, response.get_data(as_text=True)
        return self.open_link(self.last_link(email))

    def look_up(self, kvk="41000001", agb="01051234", **kwargs):
        return self.submit("/stap/2", {"kvk_number": kvk, "agb_code": agb}, **kwargs)

    def confirm(self, answer="yes", **kwargs):
        return self.submit("/stap/3", {"data_correct": answer}, **kwargs)

    def draft(self):
        return self.db.conn.execute("SELECT * FROM drafts ORDER BY id DESC LIMIT 1").fetchone()


@pytest.fixture
def applicant(client, db):
    return Applicant(client, db)


@pytest.fixture
def verified(applicant):
    applicant.verify()
    return applicant


@pytest.fixture
def looked_up(verified):
    assert verified.look_up().status_code == 303
    return verified


@pytest.fixture
def confirmed(looked_up):
    assert looked_up.confirm().status_code == 303
    return looked_up
