"""Fixtures: an app on a fresh database and a small registry of its own per test,
and an ``Applicant`` that uses the site as a browser without JavaScript would."""

import json
import re
from html.parser import HTMLParser

import pytest

from app import create_app
from onboarding import mail, store, validators

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


def traced(app, send):
    """``send()``'s answer, the SQL statements the app ran meanwhile (on its connection in this
    thread), and how many write transactions they began."""
    connection = store.kept_connection(app.config["DATABASE"]).conn
    statements = []
    connection.set_trace_callback(statements.append)
    try:
        response = send()
    finally:
        connection.set_trace_callback(None)
    return response, statements.count("BEGIN IMMEDIATE"), statements


def age_links(db):
    """Let a few minutes pass: every link older than a double click, the address's cooldown over."""
    db.conn.execute("UPDATE email_tokens SET created_at = '2000-01-01T00:00:00+00:00'")
    db.conn.execute("DELETE FROM rate_limits WHERE key LIKE 'mail-address:%'")


LINK = re.compile(r"https?://[^/\s]+(/bevestig/[\w-]+)")


class Applicant:
    """A person at a browser: opens a page, fills its form, follows the answer."""

    def __init__(self, client, db):
        self.client = client
        self.db = db

    def get(self, url, htmx=False, **kwargs):
        headers = {"HX-Request": "true"} if htmx else {}
        return self.client.get(url, headers=headers, **kwargs)

    def submit(self, url, data=None, htmx=False, page=None, follow_page=False, **kwargs):
        """Open ``page`` (default: ``url``; ``follow_page``: where it redirects) for its hidden
        fields, then post ``data`` to ``url``."""
        opened = self.client.get(page or url, follow_redirects=follow_page)
        fields = hidden_inputs(opened.get_data(as_text=True))
        fields.update(data or {})
        headers = {**({"HX-Request": "true"} if htmx else {}), **kwargs.pop("headers", {})}
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


# -- steps 4-7 ------------------------------------------------------------------------------

# What an applicant types on steps 4 and 5 (the signatory is officer f1 of KvK 41000001).
SIGNATORY = {
    "signatory": "f1", "initials": "M.", "prefix": "van der", "surname": "Linden", "birth_date": "09-03-1971",
    "email": "m.vanderlinden@delinde.example", "mobile": "06 1234 5678",
}
MAIN_CONTACT = {
    "initials": "j", "prefix": "", "surname": "Jansen", "birth_date": "1980-05-01",
    "email": "j.jansen@delinde.example", "mobile": "+31 6 8765 4321", "employed": "y",
}
CONTACT = {"initials": "a.s.", "prefix": "", "surname": "El Amrani", "email": "a.elamrani@delinde.example",
           "phone": "030-2345678"}
ICT_ADMIN = {"name": "ICT & Zorg B.V.", "email": "servicedesk@ict.example", "phone": "085-1234567"}


def sign(applicant, htmx=False, **changes):
    """Step 4 without JavaScript: choose officer f1 (a GET), then save the details."""
    data = SIGNATORY | changes
    return applicant.submit("/stap/4", data, htmx=htmx, page=f"/stap/4?signatory={data['signatory']}")


def name_main_contact(applicant, htmx=False, **changes):
    return applicant.submit("/stap/5", MAIN_CONTACT | changes, htmx=htmx)


_registry_edits = iter(range(10_000, 1_000_000))


@pytest.fixture
def phones_formatted(monkeypatch):
    """The numbers phonenumbers formats from here on (about 25 µs for a landline)."""
    formatted = []
    format_number = validators.phonenumbers.format_number
    monkeypatch.setattr(validators.phonenumbers, "format_number",
                        lambda number, *rest: formatted.append(number) or format_number(number, *rest))
    return formatted


def edit_registry(registry_path, change):
    """Change the tests' registry file; the app reads it again when its mtime changes."""
    import os
    data = json.loads(registry_path.read_text(encoding="utf-8"))
    change(data)
    registry_path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    moment = next(_registry_edits)
    os.utime(registry_path, (moment, moment))


@pytest.fixture
def signed(confirmed):
    """Steps 1-4 done: officer f1 is the signatory."""
    assert sign(confirmed).status_code == 303
    return confirmed


@pytest.fixture
def with_main_contact(signed):
    """Steps 1-5 done."""
    assert name_main_contact(signed).status_code == 303
    return signed


def add_code(registry_path, code: str, zorgsoort: str, name: str = "Nieuwe locatie") -> None:
    """One more active code of the practice 41000001, of the zorgsoort given."""
    edit_registry(registry_path, lambda data: data["agb"].append({
        "agbCode": code, "kvkNummer": "41000001", "naam": name, "zorgsoort": zorgsoort,
        "zorgpartijType": "vestiging", "actief": True}))


@pytest.fixture
def unknown_zorgsoort(registry_path):
    """The practice has a code of zorgsoort 97 too, which the Vektis list lacks. Request it
    before the fixture that looks the practice up (``looked_up`` and every one after it)."""
    add_code(registry_path, "97000123", "97")
    return "97000123"


LARGE_KVK = "41001000"
LARGE_ZORGSOORTEN = ("01", "04", "06", "12")


@pytest.fixture
def large_registry(registry_path):
    """A company with 1,000 active AGB codes (and one inactive), in the registry file."""
    def add(data):
        data["companies"].append({**data["companies"][0], "kvkNummer": LARGE_KVK, "naam": "Zorggroep Groot B.V."})
        data["agb"] += [
            {"agbCode": f"{LARGE_ZORGSOORTEN[number % 4]}{number:06d}", "kvkNummer": LARGE_KVK,
             "naam": f"Locatie {number:04d}", "zorgsoort": LARGE_ZORGSOORTEN[number % 4],
             "zorgpartijType": "vestiging", "actief": True}
            for number in range(1000)
        ]
        data["agb"].append({"agbCode": "01999999", "kvkNummer": LARGE_KVK, "naam": "Gesloten locatie",
                            "zorgsoort": "01", "zorgpartijType": "vestiging", "actief": False})
    edit_registry(registry_path, add)
    return LARGE_KVK


class _Elements(HTMLParser):
    """Every element's attributes, by id."""

    def __init__(self):
        super().__init__()
        self.by_id = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.by_id.setdefault(attrs["id"], {"tag": tag, **attrs})


def element(html: str, id_: str) -> dict:
    """The attributes of the element with ``id_`` (and its ``tag``); {} when there is none."""
    parser = _Elements()
    parser.feed(html)
    return parser.by_id.get(id_, {})


class _Forms(HTMLParser):
    """The forms of a page: their attributes, and the types of the buttons in each (``buttons``)."""

    def __init__(self):
        super().__init__()
        self.forms = []
        self.open = None

    def handle_starttag(self, tag, attrs):
        if tag == "form":
            self.open = {**dict(attrs), "buttons": []}
            self.forms.append(self.open)
        elif tag == "button" and self.open is not None:
            self.open["buttons"].append(dict(attrs).get("type"))

    def handle_endtag(self, tag):
        if tag == "form":
            self.open = None


def assert_htmx_posts_disable_their_button(html: str) -> None:
    """Every form on the page that htmx posts disables its submit button while it is sent, so
    that a second click (a double click, an impatient one) cannot post it again."""
    parser = _Forms()
    parser.feed(html)
    posts = [form for form in parser.forms if "hx-post" in form]
    assert posts, "no form on this page is posted with htmx"
    for form in posts:
        assert form.get("hx-disabled-elt") == "find button[type=submit]", form
        assert "submit" in form["buttons"], form
        if form["buttons"].count("submit") > 1:
            # hx-disabled-elt's "find" disables the first button only: the form drops a second send.
            assert form.get("hx-sync") == "this:drop", form


def table(db, name: str) -> list[dict]:
    """A whole table as plain rows, to compare the database before and after a request."""
    return [dict(row) for row in db.conn.execute(f"SELECT * FROM {name} ORDER BY rowid")]


def shown(template: str, message: str, html: str) -> bool:
    """Whether ``message`` stands in ``html`` in the place of ``{}`` in ``template`` (escaped or
    not: a translated message is markup of ours and may keep its apostrophe)."""
    from markupsafe import escape
    return any(template.format(text) in html for text in (message, escape(message)))


def assert_field_refused(html: str, field: str, typed: str, message: str) -> None:
    """What a user sees of a refused field: the message in the summary (linking to the field)
    and next to it, the field marked invalid and tied to its message, what was typed back."""
    assert "<title>Fout: " in html
    assert shown(f'<a href="#{field}">{{}}</a>', message, html)
    assert shown(f'<p class="field-error" id="{field}-error"><span class="visually-hidden">Fout:</span> {{}}</p>',
                 message, html)
    attributes = element(html, field)
    assert attributes["aria-invalid"] == "true"
    assert f"{field}-error" in attributes["aria-describedby"].split()
    if typed.isprintable():
        assert attributes.get("value", "") == typed


@pytest.fixture
def at_step_8(with_main_contact):
    """Steps 1-7 done: every code has the main contact, no ICT administrators."""
    assert with_main_contact.submit("/stap/6/aanvullen", page="/stap/6").status_code == 303
    assert with_main_contact.submit("/stap/6").headers["Location"] == "/stap/7"
    assert with_main_contact.submit("/stap/7").headers["Location"] == "/stap/8"
    return with_main_contact


@pytest.fixture
def at_step_9(at_step_8):
    """Steps 1-8 done."""
    assert at_step_8.submit("/stap/8", {"services_ok": "y"}).headers["Location"] == "/stap/9"
    return at_step_8


@pytest.fixture
def submitted(at_step_9):
    """Step 9 done: the application is submitted and frozen."""
    assert at_step_9.submit("/stap/9", {"declaration": "y"}).headers["Location"] == "/stap/10"
    return at_step_9


# -- the way back to the summary (``?terug=overzicht``) ---------------------------------------

class _Targets(HTMLParser):
    """Where a page's links and forms lead: every ``href``, ``hx-get``, ``hx-post`` and form ``action``,
    with for a GET form its hidden fields (a GET form's action loses its query when sent)."""

    def __init__(self):
        super().__init__()
        self.targets = []
        self.hidden = None  # of the GET form being read

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        hidden = {}
        if tag == "form" and attrs.get("method", "get").lower() == "get":
            self.hidden = hidden
        for name in ("href", "hx-get", "hx-post", "action"):
            if attrs.get(name) and not attrs[name].startswith(("#", "http")):
                self.targets.append({"tag": tag, "attribute": name, "url": attrs[name], "hidden": hidden})
        if tag == "input" and attrs.get("type") == "hidden" and self.hidden is not None:
            self.hidden[attrs.get("name")] = attrs.get("value")

    def handle_endtag(self, tag):
        if tag == "form":
            self.hidden = None


def targets(html: str) -> list[dict]:
    parser = _Targets()
    parser.feed(html)
    return parser.targets


def keeps_way_back(target: dict | str) -> bool:
    """Whether a URL (or a link or form of ``targets``) leads on with the way back to the summary."""
    from urllib.parse import parse_qs, urlsplit
    url, hidden = (target, {}) if isinstance(target, str) else (target["url"], target["hidden"])
    return parse_qs(urlsplit(url).query).get("terug") == ["overzicht"] or hidden.get("terug") == "overzicht"


def link(html: str, text: str) -> dict:
    """The attributes of the one link whose text begins with ``text``."""
    found = [dict(re.findall(r'([\w-]+)="([^"]*)"', attributes))
             for attributes, inner in re.findall(r"<a ([^>]*)>(.*?)</a>", html, re.S)
             if re.sub(r"<[^>]+>", "", inner).strip().startswith(text)]
    assert len(found) == 1, f"{len(found)} links begin with {text!r}"
    return {name: value.replace("&amp;", "&") for name, value in found[0].items()}


def form_action(html: str, button: str) -> str:
    """The action of the one form with a button whose text begins with ``button``."""
    found = [action.replace("&amp;", "&")
             for action, inner in re.findall(r'<form [^>]*action="([^"]*)"[^>]*>(.*?)</form>', html, re.S)
             if any(re.sub(r"<[^>]+>", "", text).strip().startswith(button)
                    for text in re.findall(r"<button[^>]*>(.*?)</button>", inner, re.S))]
    assert len(found) == 1, f"{len(found)} forms have a button {button!r}"
    return found[0]


def destination(response) -> str:
    """Where a successful POST leads: the 303's Location, or the URL htmx pushes or replaces."""
    if response.status_code == 303:
        return response.headers["Location"]
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.headers.get("HX-Push-Url") or response.headers["HX-Replace-Url"]


def assert_within_step_keeps_the_way_back(html: str, number: int) -> None:
    """Every link and form of ``html`` that stays within step ``number`` (the step, its rows, its further
    pages) keeps the way back to the summary: the step was opened from it and is not saved yet."""
    within = [target for target in targets(html) if re.match(rf"/stap/{number}(?:[/?#]|$)", target["url"])]
    assert within, f"no link or form within step {number}"
    assert [target for target in within if not keeps_way_back(target)] == []
