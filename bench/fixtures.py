"""What the benchmarks run on: a registry file with organisations of 1, 10 and 1,000
AGB codes added to the demo registry, drafts made directly with the domain layer
(never through the e-mail link) at any step up to submitted with the method of step 10
chosen, the session cookies that hold them, and reading the forms of a page."""

import json
import os
import secrets
import time
from html.parser import HTMLParser

from onboarding import drafts, people, services, store, submission
from onboarding.registry import Registry, load_names

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


# The people of steps 4 and 5 (the signatory is the bench organisations' officer "b1",
# or the first officer of a demo company who may sign alone), as the forms store them.
SIGNATORY = {"initials": "B.", "prefix": "van", "surname": "Bank", "birth_date": "1970-01-01",
             "email": "b.bank@bench.example", "mobile": "+31612345678"}
MAIN_CONTACT = {"initials": "J.", "prefix": "", "surname": "Jansen", "birth_date": "1980-05-01",
                "email": "j.jansen@bench.example", "mobile": "+31687654321"}
SUBMITTED = 9  # ``done`` of a submitted application
METHOD_CHOSEN = 10  # ``done`` of a submitted application whose method of step 10 is chosen (online)


class Catalogue:
    """What submitting needs besides the draft: the service catalogue and the zorgsoort names."""

    def __init__(self):
        self.services = services.load(os.path.join(DATA, "services.json"))
        self.zorgsoorten = load_names(os.path.join(DATA, "zorgsoorten.json"))


_catalogue: Catalogue | None = None


def catalogue() -> Catalogue:
    global _catalogue
    if _catalogue is None:
        _catalogue = Catalogue()
    return _catalogue


def create_draft(db, registry: Registry, email: str, kvk: str | None = None, confirmed: bool = False,
                 done: int | None = None) -> str:
    """A draft whose e-mail address is verified (as drafts.verify_email makes it) and,
    given a KvK number, with the steps up to ``done`` finished with the domain layer as
    the steps save them: 2 (the company looked up), 3 (confirmed; also ``confirmed``),
    4 and 5 (signatory and main contact), 6 (every code filled with the main contact,
    confirmed), 7 (no ICT administrators), 8 (services confirmed), 9 (submitted: the
    agreement PDF rendered) and 10 (method "online" chosen; step 10 itself is never
    finished here). Its key."""
    key = secrets.token_urlsafe(24)
    stamp = store.timestamp()
    with store.write(db):
        draft_id = db.conn.execute(
            "INSERT INTO drafts (key, email, email_verified_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
            (key, email, stamp, stamp, stamp),
        ).lastrowid
        drafts.audit(db, draft_id, 1, "e-mail address verified")
    if not kvk:
        return key
    done = max(done or 2, 3 if confirmed else 2)
    draft = drafts.by_key(db, key)
    codes = registry.active_agb_codes(kvk)
    known_contacts = {code.code: registry.contacts(code.code) for code in codes}  # as step 2's save does
    drafts.save_company(db, draft, draft.version, kvk, codes[0].code, registry.company(kvk).raw, codes,
                        known_contacts)
    for step in range(3, done + 1):
        _finish(db, drafts.by_key(db, key), step)
    return key


def _finish(db, draft, step: int) -> None:
    if step == 3:
        drafts.confirm_company(db, draft, draft.version)
    elif step in (4, 5):
        officer = next(officer for officer in draft.company.officers if people.may_sign(officer))
        role = people.SIGNATORY if step == 4 else people.MAIN_CONTACT
        if step == 4:
            chosen = people.Person(**SIGNATORY, officer_id=officer.id)
        else:
            chosen = people.Person(**MAIN_CONTACT, employed=True)
        people.save_person(db, draft, draft.version, role, chosen)
    elif step == 6:
        people.fill_with_main_contact(db, draft, draft.version)
        draft = drafts.by_key(db, draft.key)
        people.finish_contacts(db, draft, draft.version)
    elif step == 7:
        people.finish_ict(db, draft, draft.version)
    elif step == 8:
        drafts.confirm_services(db, draft, draft.version, None)
    elif step == SUBMITTED:
        made = catalogue()
        submission.submit(db, draft, draft.version, made.services, made.zorgsoorten)
    elif step == METHOD_CHOSEN:
        submission.choose_method(db, draft, draft.version, submission.ONLINE)


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
    """The forms of a page's <main> (not the header's log-out form): method, action, the
    hidden inputs of each, and every field as a browser would send it when the button is
    pressed without a change (text inputs with their value, checked radios and
    checkboxes, textareas, the selected option of a select)."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self.in_main = False
        self.textarea: str | None = None
        self.select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        form = self.forms[-1] if self.forms and self.in_main else None
        if tag == "main":
            self.in_main = True
        elif tag == "form" and self.in_main:
            self.forms.append({"method": (attrs.get("method") or "get").lower(), "action": attrs.get("action"),
                               "hidden": {}, "fields": {}})
        elif form is None or not attrs.get("name") and tag not in ("option",):
            return
        elif tag == "input":
            kind = (attrs.get("type") or "text").lower()
            name, value = attrs["name"], attrs.get("value") or ""
            if kind == "hidden":
                form["hidden"][name] = value
                form["fields"][name] = value
            elif kind in ("radio", "checkbox"):
                if "checked" in attrs:
                    form["fields"][name] = attrs.get("value") or "on"
            elif kind not in ("submit", "button", "reset", "file", "image"):
                form["fields"][name] = value
        elif tag == "textarea":
            self.textarea = attrs["name"]
            form["fields"][self.textarea] = ""
        elif tag == "select":
            self.select = attrs["name"]
        elif tag == "option" and self.select and ("selected" in attrs or self.select not in form["fields"]):
            form["fields"][self.select] = attrs.get("value") or ""

    def handle_data(self, data):
        if self.textarea and self.forms:
            self.forms[-1]["fields"][self.textarea] += data

    def handle_endtag(self, tag):
        if tag == "main":
            self.in_main = False
        elif tag == "textarea" and self.textarea:
            fields = self.forms[-1]["fields"]
            if fields[self.textarea].startswith("\n"):  # as a browser reads it: the first newline is markup
                fields[self.textarea] = fields[self.textarea][1:]
            self.textarea = None
        elif tag == "select":
            self.select = None


def forms(html: str) -> list[dict]:
    """Every form of the page's <main>."""
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def post_form(html: str, action: str | None = None) -> dict:
    """The form of the page's <main> that posts to ``action``, or the first that posts."""
    for form in forms(html):
        if form["method"] == "post" and action in (None, form["action"]):
            return form
    raise RuntimeError(f"the page has no form that posts{f' to {action}' if action else ''}")
