"""What the back-office benchmark runs on: a database of many applications made with
direct INSERTs (executemany, a few transactions: the domain layer would take minutes),
and a staff user logged in through the Flask test client (password and second factor,
as a browser does; nothing imported from tests/).

The spread of the applications: most are drafts at every step (a quarter stopped at
step 1, with no company yet), some submitted and some completed (with a reference
VZ-2026-XXXXXX, both people identified), a handful of submitted ones waiting for a
manual identity check; changed over the last 60 days; each with a company snapshot as
``onboarding.registry.company_snapshot`` stores it (the demo registry's companies under
other names and KvK numbers), its AGB codes and, from step 5 on, its signatory and main
contact."""

import json
import os
import random
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp

from onboarding import mail, services, staff, store, validators
from onboarding.registry import company_snapshot

from .fixtures import DATA

STAFF_USERNAME = "bench-staff"
STAFF_PASSWORD = "bench staff password"
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # as onboarding.submission.new_reference
SPREAD_DAYS = 60

KINDS = ("Huisartsenpraktijk", "Tandartspraktijk", "Fysiotherapie", "Apotheek", "Verloskundigenpraktijk",
         "Psychologenpraktijk", "Thuiszorg", "Mondzorg")
NAMES = ("De Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "De Boer", "Mulder", "De Groot", "Bos",
         "Vos", "Peters", "Hendriks", "Van Leeuwen", "Dekker", "Brouwer", "De Wit", "Dijkstra", "Smits",
         "De Graaf", "Van der Meer", "Van der Linden", "Kok", "Jacobs", "De Haan", "Vermeulen", "Van den Berg",
         "Van Dijk", "Schouten", "Willems", "Özdemir", "Yılmaz", "El Amrani", "Nguyen", "Utrecht", "Amersfoort",
         "Zeist", "Houten", "Nieuwegein", "Maarssen", "Bilthoven", "Leusden", "Woerden", "Veenendaal")
SUFFIXES = ("", "", " B.V.", " & Partners", " Centrum", " Oost", " West")
FIRST_NAMES = ("anna", "bram", "carla", "daan", "eva", "fatima", "gijs", "hanna", "ivo", "julia", "kees", "lotte")
DOMAINS = ("praktijk.example", "zorg.example", "mail.example", "kpn.example")


@dataclass
class Applications:
    """What the generated database holds, to search for."""

    count: int
    kvk_number: str          # of one application (with a company)
    reference: str           # of one submitted application
    narrow_prefix: str       # a company-name prefix that matches a few hundred
    broad_prefix: str        # a company-name prefix that matches about an eighth
    by_status: dict
    manual_checks: int
    seconds: float


def _stamp(moment: datetime) -> str:
    return store.timestamp(moment)


def _companies() -> list[dict]:
    with open(os.path.join(DATA, "registry.json"), encoding="utf-8") as handle:
        return [company_snapshot(company) for company in json.load(handle)["companies"]]


def _zorgsoorten() -> list[str]:
    with open(os.path.join(DATA, "zorgsoorten.json"), encoding="utf-8") as handle:
        return sorted(json.load(handle))


def generate(db, count: int, manual_checks: int = 20, seed: int = 2026) -> Applications:
    """``count`` applications in ``db`` (migrated, empty), in a few transactions."""
    started = time.perf_counter()
    rng = random.Random(seed)
    companies = _companies()
    zorgsoorten = _zorgsoorten()
    now = store.utcnow()
    today = now.date()
    references: set[str] = set()
    drafts_rows, code_rows, person_rows, identification_rows = [], [], [], []
    by_status = {"draft": 0, "submitted": 0, "completed": 0}
    kvk_pick = reference_pick = None
    submitted_ids = []

    for draft_id in range(1, count + 1):
        updated = now - timedelta(seconds=rng.randrange(SPREAD_DAYS * 86400))
        created = updated - timedelta(seconds=rng.randrange(5 * 86400))
        roll = rng.random()
        status = "completed" if roll < 0.05 else "submitted" if roll < 0.12 else "draft"
        by_status[status] += 1
        # How far a draft got: 1 (e-mail only) .. 8 (services confirmed); 9 = submitted.
        reached = 9 if status != "draft" else rng.choice((1, 1, 2, 3, 3, 4, 5, 6, 7, 8))
        email = f"{rng.choice(FIRST_NAMES)}.{draft_id}@{rng.choice(DOMAINS)}"
        stamp, created_stamp = _stamp(updated), _stamp(created)
        kvk = company_json = company_name = agb = looked_up = data_correct = None
        contacts_done = ict_done = services_ok = reference = submitted_at = completed_at = method = None
        if reached >= 2:
            template = companies[draft_id % len(companies)]
            kvk = f"{rng.randrange(10_000_000, 100_000_000)}"
            company_name = f"{rng.choice(KINDS)} {rng.choice(NAMES)}{rng.choice(SUFFIXES)}"
            company_json = json.dumps({**template, "kvkNummer": kvk, "naam": company_name,
                                       "handelsnamen": [company_name]}, ensure_ascii=False)
            looked_up = created_stamp
            codes = 1 + (draft_id % 7 == 0) * rng.randrange(1, 12)  # most one code, some a dozen
            for position in range(codes):
                zorgsoort = zorgsoorten[(draft_id + position) % len(zorgsoorten)]
                code = f"{zorgsoort}{(draft_id * 13 + position) % 1_000_000:06d}"
                if position == 0:
                    agb = code
                code_rows.append((draft_id, code, position, f"{company_name} locatie {position + 1}", zorgsoort,
                                  "onderneming" if position == 0 else "vestiging", 1, int(reached >= 7)))
            if kvk_pick is None:
                kvk_pick = kvk
        if reached >= 4:
            data_correct = "yes"
        if reached >= 5:
            officer = (json.loads(company_json)["functionarissen"] or [{}])[0]
            for role in ("signatory", "main_contact"):
                person_rows.append((draft_id, role, officer.get("id"), officer.get("voorletters") or "A.",
                                    officer.get("tussenvoegsel") or "", officer.get("achternaam") or "Bench",
                                    "1970-01-01", email, "+31612345678", 1))
        if reached >= 7:
            contacts_done = stamp
        if reached >= 8:
            ict_done = stamp
        if reached >= 9:
            services_ok = stamp
            while reference is None or reference in references:
                reference = "VZ-2026-" + "".join(rng.choice(REFERENCE_ALPHABET) for _ in range(6))
            references.add(reference)
            submitted_at = stamp
            method = "online" if rng.random() < 0.8 else "appointment"
            submitted_ids.append(draft_id)
            reference_pick = reference_pick or (reference if status == "submitted" else None)
            if status == "completed":
                completed_at = stamp
        drafts_rows.append((
            draft_id, secrets.token_urlsafe(24), 1 + reached * 2, status, email, created_stamp, kvk, agb,
            company_json, looked_up, data_correct, created_stamp, stamp, contacts_done, ict_done, services_ok,
            reference, submitted_at, completed_at, method, company_name,
            validators.searchable(company_name) if company_name else None))

    checked = set(rng.sample([draft_id for draft_id in submitted_ids
                              if drafts_rows[draft_id - 1][3] == "submitted"], manual_checks))
    for draft_id in submitted_ids:
        at = drafts_rows[draft_id - 1][12]
        for role in ("signatory", "main_contact"):
            if role == "signatory" and draft_id in checked:
                claims = json.dumps({"initials": "A.", "prefix": "", "surname": "Anders", "birth_date": "1970-01-01"})
                due_on = (today + timedelta(days=rng.randrange(-4, 8))).isoformat()
                identification_rows.append((draft_id, role, "manual_check", claims, due_on, "idin", at))
            else:
                identification_rows.append((draft_id, role, "identified", None, None, "idin", at))

    with store.write(db):
        db.conn.executemany(
            "INSERT INTO drafts (id, key, version, status, email, email_verified_at, kvk_number, agb_code, "
            "company_json, looked_up_at, data_correct, created_at, updated_at, contacts_done_at, ict_done_at, "
            "services_ok_at, reference, submitted_at, completed_at, method, company_name, company_name_searchable) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", drafts_rows)
        db.conn.executemany(
            "INSERT INTO draft_agb_codes (draft_id, agb_code, position, name, zorgsoort, party_type, version, "
            "contacts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", code_rows)
        db.conn.executemany(
            "INSERT INTO persons (draft_id, role, officer_id, initials, prefix, surname, birth_date, email, mobile, "
            "employed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", person_rows)
        db.conn.executemany(
            "INSERT INTO identifications (draft_id, role, state, claims, due_on, via, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)", identification_rows)
        services.store_code_groups(db)
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    broad = KINDS[0]
    narrow = f"{KINDS[2]} {NAMES[2]}"[:-1]  # "Fysiotherapie Bakke": half a word typed
    return Applications(count, kvk_pick, reference_pick, narrow, broad, by_status, len(checked),
                        time.perf_counter() - started)


# --------------------------------------------------------------------------- a staff user


def _token(client, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    if not match:
        raise RuntimeError(f"GET {path}: no csrf_token")
    return match.group(1)


def staff_client(app, db):
    """A test client of a staff user: created, second factor enrolled, logged in with
    password and the next TOTP code."""
    seal = mail.Seal(app.config["SECRET_KEY"])
    user = staff.create_user(db, STAFF_USERNAME, STAFF_PASSWORD)
    secret = staff.start_enrolment(db, user.id, seal)
    staff.confirm_enrolment(db, user.id, pyotp.TOTP(secret).now(), seal)
    client = app.test_client()
    answer = client.post("/beheer/login", data={"csrf_token": _token(client, "/beheer/login"),
                                                "username": STAFF_USERNAME, "password": STAFF_PASSWORD})
    if answer.status_code != 303:
        raise RuntimeError(f"POST /beheer/login: status {answer.status_code}")
    code = pyotp.TOTP(secret).at(time.time() + 30)  # the enrolment used the current one
    answer = client.post("/beheer/code", data={"csrf_token": _token(client, "/beheer/code"), "code": code})
    if answer.status_code != 303 or answer.headers.get("Location") != "/beheer":
        raise RuntimeError(f"POST /beheer/code: status {answer.status_code}, Location {answer.headers.get('Location')}")
    return client


def staff_cookie(client) -> str:
    """The Cookie header the logged-in staff browser sends to /beheer."""
    from routes import staff_session

    cookie = client.get_cookie(staff_session.COOKIE, path=staff_session.PATH)
    if cookie is None:
        raise RuntimeError("no staff session cookie after logging in")
    return f"{staff_session.COOKIE}={cookie.value}"
