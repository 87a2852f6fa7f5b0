"""What the benchmarks run on: a registry file with organisations of 1, 10 and 1,000
AGB codes added to the demo registry, drafts made directly with the domain layer
(never through the e-mail link), the session cookies that hold them, and reading the
hidden inputs and forms of a page."""

import json
import os
import secrets
import time
from html.parser import HTMLParser

from onboarding import drafts, store
from onboarding.registry import Registry

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATA = os.path.join(ROOT, "data")

# KvK number of each generated organisation, by its number of active AGB codes.
ORGANISATIONS = {1: "59990001", 10: "59990010", 1000: "59991000"}
PARTY_TYPES = ("vestiging", "zorgverlener")


def write_registry(directory: str) -> str:
    """The demo registry plus the generated organisations, as a SPEC §6 file; its path."""
    with open(os.path.join(DATA, "registry.json"), encoding="utf-8") as handle:
        data = json.load(handle)
    with open(os.path.join(DATA, "zorgsoorten.json"), encoding="utf-8") as handle:
        zorgsoorten = sorted(json.load(handle))
    taken_kvk = {company["kvkNummer"] for company in data["companies"]}
    taken_codes = {agb["agbCode"] for agb in data["agb"]}
    for count, kvk in ORGANISATIONS.items():
        if kvk in taken_kvk:
            raise RuntimeError(f"KvK number {kvk} of the benchmark is in the demo registry already")
        name = f"Benchzorg {count} B.V."
        data["companies"].append(_company(kvk, name))
        data["agb"].extend(_agb_codes(kvk, name, count, zorgsoorten, taken_codes))
    path = os.path.join(directory, "registry.json")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False)
    return path


def _company(kvk: str, name: str) -> dict:
    return {
        "kvkNummer": kvk,
        "naam": name,
        "handelsnamen": [name.removesuffix(" B.V.")],
        "rechtsvorm": "Besloten Vennootschap",
        "actief": True,
        "hoofdvestiging": {
            "vestigingsnummer": f"0000{kvk}",
            "adres": {"straatnaam": "Benchlaan", "huisnummer": 1, "huisnummerToevoeging": "",
                      "postcode": "3511AA", "plaats": "Utrecht"},
        },
        "functionarissen": [
            {"id": "b1", "voorletters": "B.", "voornamen": "Bea", "tussenvoegsel": "van", "achternaam": "Bank",
             "geboortedatum": "1970-01-01", "functie": "Bestuurder", "bevoegdheid": "azb"},
        ],
    }


def _agb_codes(kvk: str, name: str, count: int, zorgsoorten: list[str], taken: set[str]) -> list[dict]:
    """``count`` active codes, the first the company's own, the zorgsoorten taken in turn."""
    codes = []
    serial = int(kvk[-4:]) * 1000
    for index in range(count):
        zorgsoort = zorgsoorten[index % len(zorgsoorten)]
        code = f"{zorgsoort}{serial % 1_000_000:06d}"
        while code in taken:
            serial += 1
            code = f"{zorgsoort}{serial % 1_000_000:06d}"
        taken.add(code)
        serial += 1
        party_type = "onderneming" if index == 0 else PARTY_TYPES[index % len(PARTY_TYPES)]
        codes.append({"agbCode": code, "kvkNummer": kvk, "naam": f"{name} locatie {index + 1}",
                      "zorgsoort": zorgsoort, "zorgpartijType": party_type, "actief": True})
    return codes


def create_draft(db, registry: Registry, email: str, kvk: str | None = None, confirmed: bool = False) -> str:
    """A draft whose e-mail address is verified (as drafts.verify_email makes it) and,
    given a KvK number, with step 2 saved for it (and step 3 when ``confirmed``). Its key."""
    key = secrets.token_urlsafe(24)
    stamp = store.timestamp()
    with store.write(db):
        draft_id = db.conn.execute(
            "INSERT INTO drafts (key, email, email_verified_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
            (key, email, stamp, stamp, stamp),
        ).lastrowid
        drafts.audit(db, draft_id, 1, "e-mail address verified")
    if kvk:
        draft = drafts.by_key(db, key)
        codes = registry.active_agb_codes(kvk)
        known_contacts = {code.code: registry.contacts(code.code) for code in codes}  # as step 2's save does
        drafts.save_company(db, draft, draft.version, kvk, codes[0].code, registry.company(kvk).raw, codes,
                            known_contacts)
        if confirmed:
            draft = drafts.by_key(db, key)
            drafts.confirm_company(db, draft, draft.version)
    return key


def session_cookie(app, key: str) -> str:
    """The Cookie header of a browser that holds the draft ``key``."""
    from routes.pages import SESSION_DRAFT, SESSION_SEEN

    value = app.session_interface.get_signing_serializer(app).dumps(
        {SESSION_DRAFT: key, SESSION_SEEN: int(time.time())})
    return f"{app.config['SESSION_COOKIE_NAME']}={value}"


def refreshed(app, cookie: str) -> str:
    """``cookie`` with its session's last-seen time moved to now, as a browser holds it
    after its latest answer: the app re-signs (and resends) a session cookie that is a
    minute old, which a load that keeps sending one old cookie would make it do always."""
    from routes.pages import SESSION_SEEN

    name, _, value = cookie.partition("=")
    if name != app.config["SESSION_COOKIE_NAME"]:
        return cookie
    serializer = app.session_interface.get_signing_serializer(app)
    data = serializer.loads(value)
    if SESSION_SEEN not in data:
        return cookie
    data[SESSION_SEEN] = int(time.time())
    return f"{name}={serializer.dumps(data)}"


def updated_cookie(cookie: str, set_cookie: str | None) -> str:
    """The Cookie header after an answer's Set-Cookie (one cookie: the session)."""
    return set_cookie.split(";")[0] if set_cookie else cookie


class _Forms(HTMLParser):
    """The forms of a page's <main> (not the header's log-out form): method, action and
    hidden inputs of each."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self.in_main = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "main":
            self.in_main = True
        elif tag == "form" and self.in_main:
            self.forms.append({"method": (attrs.get("method") or "get").lower(), "action": attrs.get("action"),
                               "hidden": {}})
        elif tag == "input" and attrs.get("type") == "hidden" and attrs.get("name") and self.forms and self.in_main:
            self.forms[-1]["hidden"][attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "main":
            self.in_main = False


def post_form(html: str, action: str | None = None) -> dict:
    """The form of the page's <main> that posts to ``action``, or the first that posts."""
    parser = _Forms()
    parser.feed(html)
    for form in parser.forms:
        if form["method"] == "post" and action in (None, form["action"]):
            return form
    raise RuntimeError(f"the page has no form that posts{f' to {action}' if action else ''}")
