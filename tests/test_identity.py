"""Step 10 online: identification with iDIN through the simulated bank."""

import unicodedata
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onboarding import identity, store
from onboarding.identity import Claims, ReturnRejected, SimulatedIdin

REDIRECT = "https://aansluiten.example/identificatie/terug"
SIGNATORY = Claims(initials="J.P.", prefix="van der", surname="Çelik-de Vries", birth_date="1971-03-09")
MAIN_CONTACT = Claims(initials="A.", prefix="", surname="Jansen", birth_date="1985-11-30")


@pytest.fixture
def db(tmp_path):
    database = store.connect(str(tmp_path / "t.db"))
    store.migrate(database)
    yield database
    database.close()


def add_draft(db, key: str) -> int:
    now = store.timestamp()
    draft_id = db.conn.execute(
        "INSERT INTO drafts (key, email, status, created_at, updated_at) VALUES (?, ?, 'submitted', ?, ?)",
        (key, f"{key}@example.nl", now, now),
    ).lastrowid
    for role, person in (("signatory", SIGNATORY), ("main_contact", MAIN_CONTACT)):
        db.conn.execute(
            "INSERT INTO persons (draft_id, role, initials, prefix, surname, birth_date, email, mobile) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, '0612345678')",
            (draft_id, role, person.initials, person.prefix, person.surname, person.birth_date,
             f"{role}@example.nl"),
        )
    return draft_id


@pytest.fixture
def draft(db):
    return add_draft(db, "a")


@pytest.fixture
def bank(db):
    return SimulatedIdin(db, "/demo/idin/authorize")


def go_to_bank(db, draft_id, bank, role="signatory", now=None) -> dict:
    url = identity.start(db, draft_id, role, bank, REDIRECT, now=now)
    query = parse_qs(urlsplit(url).query)
    return {name: values[0] for name, values in query.items()}


def come_back(db, draft_id, bank, sent, claims=SIGNATORY, nonce=None, **kwargs):
    code = bank.issue_code(claims, nonce or sent["nonce"], REDIRECT)
    return identity.finish(db, draft_id=draft_id, state=sent["state"], code=code, error=None,
                           provider=bank, redirect_uri=REDIRECT, **kwargs)


def snapshot(db):
    """Everything a return may change."""
    return [db.conn.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
            for table in ("identifications", "identity_requests", "audit_log", "sim_idin_codes")]


def rows(db, table):
    return [dict(row) for row in db.conn.execute(f"SELECT * FROM {table}")]


# -- matching ---------------------------------------------------------------------------------


@pytest.mark.parametrize("returned", [
    Claims("J.P.", "van der", "Çelik-de Vries", "1971-03-09"),
    Claims("JP", "VAN DER", "CELIK-DE VRIES", "1971-03-09"),
    Claims("j p", "Van  der ", "celik-de vries", "1971-03-09"),
    Claims("J. P.", "  van\tder", " Çelik-de  Vries ", "1971-03-09"),
    Claims("J.-P.", "van der", "Celik - de Vries", "1971-03-09"),
    Claims("jp", "van der", unicodedata.normalize("NFD", "Çelik-de Vries"), "1971-03-09"),
])
def test_matching_ignores_case_diacritics_dots_and_spaces(returned):
    assert identity.matches(SIGNATORY, returned)


@pytest.mark.parametrize("entered, returned", [
    (Claims("A.", "", "Çelik", "1990-01-01"), Claims("a", "", "celik", "1990-01-01")),
    (Claims("A.", "", "Öztürk", "1990-01-01"), Claims("A", "", "OZTURK", "1990-01-01")),
    (Claims("IJ.", "", "IJzerman", "1990-01-01"), Claims("Ĳ", "", "Ĳzerman", "1990-01-01")),
    (Claims("A.", "van 't", "Hof", "1990-01-01"), Claims("A", "Van ’t", "Hof", "1990-01-01")),
    (Claims("A.", "", "O'Neill", "1990-01-01"), Claims("A", "", "O’NEILL", "1990-01-01")),
])
def test_matching_ignores_the_way_letters_and_apostrophes_are_written(entered, returned):
    assert identity.matches(entered, returned)


@pytest.mark.parametrize("returned", [
    Claims("J.P.", "van der", "Çelik-de Vriesch", "1971-03-09"),  # another surname
    Claims("J.P.", "van der", "Çelik de Vries", "1971-03-09"),  # the hyphen is part of the name
    Claims("J.", "van der", "Çelik-de Vries", "1971-03-09"),  # fewer initials
    Claims("J.Q.", "van der", "Çelik-de Vries", "1971-03-09"),  # another initial
    Claims("J.P.", "van de", "Çelik-de Vries", "1971-03-09"),  # another prefix
    Claims("J.P.", "", "Çelik-de Vries", "1971-03-09"),  # no prefix
    Claims("J.P.", "van der", "Çelik-de Vries", "1971-09-03"),  # another birth date
])
def test_a_different_name_initial_or_birth_date_does_not_match(returned):
    assert not identity.matches(SIGNATORY, returned)


def test_an_apostrophe_in_a_surname_is_significant():
    assert not identity.matches(Claims("A", "", "O'Neill", "1990-01-01"), Claims("A", "", "ONeill", "1990-01-01"))


_LETTERS = "abcdefghijklmnopqrstuvwxyzéèëêáàäâíïîóöôúüûçñ"
_word = st.text(alphabet=_LETTERS, min_size=1, max_size=8)


@st.composite
def claims(draw):
    return Claims(
        initials="".join(f"{letter.upper()}." for letter in draw(st.text(alphabet=_LETTERS, min_size=1, max_size=4))),
        prefix=" ".join(draw(st.lists(_word, max_size=2))),
        surname=" ".join(draw(st.lists(_word, min_size=1, max_size=3))),
        birth_date=draw(st.dates(date(1900, 1, 1), date(2010, 12, 31))).isoformat(),
    )


@st.composite
def variant(draw, original: Claims):
    """The same person written otherwise: other case, with or without diacritics (or
    decomposed), other dots and spaces in the initials, more spaces between words."""

    def letters(text):
        form = draw(st.sampled_from(["as is", "bare", "decomposed"]))
        if form == "bare":
            text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
        elif form == "decomposed":
            text = unicodedata.normalize("NFD", text)
        return "".join(c.upper() if draw(st.booleans()) else c.lower() for c in text)

    def spaced(text):
        gaps = [" " * draw(st.integers(1, 3)) for _ in text.split()]
        words = [word + gap for word, gap in zip(text.split(), gaps)]
        return " " * draw(st.integers(0, 2)) + "".join(words).rstrip() + " " * draw(st.integers(0, 2))

    bare_initials = original.initials.replace(".", "")
    initials = "".join(letter + draw(st.sampled_from(["", ".", ". ", " "])) for letter in letters(bare_initials))
    return Claims(initials, spaced(letters(original.prefix)), spaced(letters(original.surname)), original.birth_date)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), original=claims())
def test_the_same_person_written_otherwise_matches(data, original):
    assert identity.matches(original, data.draw(variant(original)))


# -- the simulated bank -----------------------------------------------------------------------


def test_the_bank_url_carries_the_authorization_request(db, bank):
    url = bank.authorization_url(state="s", nonce="n", redirect_uri=REDIRECT)
    assert url.startswith("/demo/idin/authorize?")
    assert parse_qs(urlsplit(url).query) == {
        "response_type": ["code"], "client_id": ["aansluiten"], "scope": ["openid idin.name idin.birthdate"],
        "redirect_uri": [REDIRECT], "state": ["s"], "nonce": ["n"],
    }


def test_a_code_is_exchanged_once_for_its_claims_and_nonce(db, bank):
    code = bank.issue_code(SIGNATORY, "n", REDIRECT)
    assert code not in str(rows(db, "sim_idin_codes"))
    assert bank.exchange(code, REDIRECT) == (SIGNATORY, "n")
    with pytest.raises(identity.IdentityError):
        bank.exchange(code, REDIRECT)


@pytest.mark.parametrize("code, redirect_uri, later", [
    ("made-up", REDIRECT, timedelta(0)),
    (None, "https://elsewhere.example/terug", timedelta(0)),
    (None, REDIRECT, identity.CODE_LIFETIME),
])
def test_the_bank_refuses_an_unknown_misdirected_or_expired_code(db, bank, code, redirect_uri, later):
    now = store.utcnow()
    issued = bank.issue_code(SIGNATORY, "n", REDIRECT, now=now)
    with pytest.raises(identity.IdentityError):
        bank.exchange(code or issued, redirect_uri, now=now + later)


# -- start and finish -------------------------------------------------------------------------


def test_start_stores_the_state_hashed_with_the_draft_role_and_nonce(db, draft, bank):
    sent = go_to_bank(db, draft, bank, "main_contact")
    [request] = rows(db, "identity_requests")
    assert sent["state"] not in str(request)
    assert (request["draft_id"], request["role"], request["nonce"]) == (draft, "main_contact", sent["nonce"])
    assert sent["redirect_uri"] == REDIRECT
    assert rows(db, "audit_log")[-1]["action"] == "identification of the main_contact started"
    assert rows(db, "audit_log")[-1]["actor"] == "main_contact"


@pytest.mark.parametrize("role, person", [("signatory", SIGNATORY), ("main_contact", MAIN_CONTACT)])
def test_matching_attributes_identify_the_person(db, draft, bank, role, person):
    sent = go_to_bank(db, draft, bank, role)
    outcome = come_back(db, draft, bank, sent, claims=person)
    assert outcome == identity.Outcome(role, "identified")
    found = identity.identifications(db, draft)
    assert list(found) == [role]
    assert (found[role].state, found[role].via, found[role].due_on) == ("identified", "idin", None)
    assert rows(db, "identifications")[0]["claims"] is None
    # Who: the person at the bank, not "applicant" (the main contact identifies on their own device).
    assert (rows(db, "audit_log")[-1]["step"], rows(db, "audit_log")[-1]["actor"]) == (10, role)


def test_matching_attributes_written_otherwise_identify_the_person(db, draft, bank):
    sent = go_to_bank(db, draft, bank)
    returned = Claims("JP", "VAN DER", "CELIK-DE VRIES", "1971-03-09")
    assert come_back(db, draft, bank, sent, claims=returned).result == "identified"


def test_different_attributes_go_to_a_manual_check_within_five_working_days(db, draft, bank):
    sent = go_to_bank(db, draft, bank)
    returned = Claims("J.P.", "van der", "Celik", "1971-03-09")
    outcome = come_back(db, draft, bank, sent, claims=returned, today=date(2026, 12, 23))
    # Christmas (25 and 26 December) and a weekend fall in between.
    assert outcome == identity.Outcome("signatory", "manual_check", date(2026, 12, 31))
    found = identity.identifications(db, draft)["signatory"]
    assert (found.state, found.via, found.due_on) == ("manual_check", "idin", date(2026, 12, 31))
    assert '"surname": "Celik"' in rows(db, "identifications")[0]["claims"]
    assert "manual check due 2026-12-31" in rows(db, "audit_log")[-1]["action"]


def test_a_later_try_replaces_a_manual_check(db, draft, bank):
    come_back(db, draft, bank, go_to_bank(db, draft, bank), claims=Claims("X", "", "Other", "1971-03-09"))
    assert come_back(db, draft, bank, go_to_bank(db, draft, bank)).result == "identified"
    assert identity.identifications(db, draft)["signatory"].state == "identified"
    assert rows(db, "identifications")[0]["claims"] is None


def test_a_later_difference_leaves_an_identification_as_it_is(db, draft, bank):
    come_back(db, draft, bank, go_to_bank(db, draft, bank))
    outcome = come_back(db, draft, bank, go_to_bank(db, draft, bank), claims=Claims("X", "", "Other", "1971-03-09"))
    assert outcome.result == "identified"
    assert identity.identifications(db, draft)["signatory"].state == "identified"


def test_cancelling_at_the_bank_identifies_nobody(db, draft, bank):
    sent = go_to_bank(db, draft, bank)
    outcome = identity.finish(db, draft_id=draft, state=sent["state"], code=None, error="access_denied",
                              provider=bank, redirect_uri=REDIRECT)
    assert outcome == identity.Outcome("signatory", "cancelled")
    assert identity.identifications(db, draft) == {}
    assert rows(db, "audit_log")[-1]["action"] == "identification of the signatory cancelled at the bank"


def test_another_error_from_the_bank_is_a_failure(db, draft, bank):
    sent = go_to_bank(db, draft, bank)
    outcome = identity.finish(db, draft_id=draft, state=sent["state"], code=None, error="server_error",
                              provider=bank, redirect_uri=REDIRECT)
    assert outcome == identity.Outcome("signatory", "failed")
    assert identity.identifications(db, draft) == {}


def test_a_replayed_return_is_rejected_and_changes_nothing(db, draft, bank):
    sent = go_to_bank(db, draft, bank)
    code = bank.issue_code(SIGNATORY, sent["nonce"], REDIRECT)
    finish = dict(draft_id=draft, state=sent["state"], code=code, error=None, provider=bank, redirect_uri=REDIRECT)
    identity.finish(db, **finish)
    before = snapshot(db)
    with pytest.raises(ReturnRejected) as rejected:
        identity.finish(db, **finish)
    assert rejected.value.reason == "used"
    assert snapshot(db) == before


def test_a_return_to_another_draft_is_rejected_and_the_state_stays_usable(db, draft, bank):
    other = add_draft(db, "b")
    sent = go_to_bank(db, draft, bank)
    before = snapshot(db)
    with pytest.raises(ReturnRejected) as rejected:
        come_back(db, other, bank, sent)
    assert rejected.value.reason == "foreign"
    # Only the bank's unused code is new; the state, the identifications and the log are as they were.
    assert snapshot(db)[:3] == before[:3]
    assert identity.identifications(db, other) == {}
    assert come_back(db, draft, bank, sent).result == "identified"


@pytest.mark.parametrize("state, later, reason", [
    ("made-up-state", timedelta(0), "unknown"),
    (None, identity.REQUEST_LIFETIME, "expired"),
])
def test_an_unknown_or_expired_state_is_rejected_and_changes_nothing(db, draft, bank, state, later, reason):
    now = store.utcnow()
    sent = go_to_bank(db, draft, bank, now=now)
    code = bank.issue_code(SIGNATORY, sent["nonce"], REDIRECT)
    before = snapshot(db)
    with pytest.raises(ReturnRejected) as rejected:
        identity.finish(db, draft_id=draft, state=state or sent["state"], code=code, error=None,
                        provider=bank, redirect_uri=REDIRECT, now=now + later)
    assert rejected.value.reason == reason
    assert snapshot(db) == before


def test_a_code_issued_for_another_nonce_is_rejected_and_records_nothing(db, draft, bank):
    sent = go_to_bank(db, draft, bank)
    log_before = rows(db, "audit_log")
    with pytest.raises(ReturnRejected) as rejected:
        come_back(db, draft, bank, sent, nonce="someone-elses-nonce")
    assert rejected.value.reason == "nonce"
    assert identity.identifications(db, draft) == {}
    assert rows(db, "audit_log") == log_before
    # The state was spent by bringing a code: the person starts again.
    with pytest.raises(ReturnRejected):
        come_back(db, draft, bank, sent)


def test_a_code_used_twice_fails(db, draft, bank):
    code = bank.issue_code(SIGNATORY, "n", REDIRECT)
    bank.exchange(code, REDIRECT)
    sent = go_to_bank(db, draft, bank)
    outcome = identity.finish(db, draft_id=draft, state=sent["state"], code=code, error=None,
                              provider=bank, redirect_uri=REDIRECT)
    assert outcome == identity.Outcome("signatory", "failed")
    assert identity.identifications(db, draft) == {}
    assert rows(db, "audit_log")[-1]["action"] == "identification of the signatory failed: the bank refused the code"
    [request] = rows(db, "identity_requests")
    assert request["used_at"] is not None


def test_a_code_exchanged_with_another_redirect_uri_fails(db, draft, bank):
    sent = go_to_bank(db, draft, bank)
    code = bank.issue_code(SIGNATORY, sent["nonce"], "https://elsewhere.example/terug")
    outcome = identity.finish(db, draft_id=draft, state=sent["state"], code=code, error=None,
                              provider=bank, redirect_uri=REDIRECT)
    assert outcome.result == "failed"
    assert identity.identifications(db, draft) == {}


def test_reopening_clears_identifications_and_open_requests(db, draft, bank):
    come_back(db, draft, bank, go_to_bank(db, draft, bank))
    open_request = go_to_bank(db, draft, bank, "main_contact")
    with store.write(db):
        identity.clear(db, draft)
    assert identity.identifications(db, draft) == {}
    with pytest.raises(ReturnRejected) as rejected:
        come_back(db, draft, bank, open_request, claims=MAIN_CONTACT)
    assert rejected.value.reason == "unknown"


def test_the_bank_is_asked_outside_a_transaction_with_the_state_already_spent(db, draft, bank):
    seen = []

    class Watching:
        authorization_url = bank.authorization_url
        issue_code = bank.issue_code

        def exchange(self, code, redirect_uri):
            seen.append((db.conn.in_transaction, rows(db, "identity_requests")[0]["used_at"] is not None))
            return bank.exchange(code, redirect_uri)

    sent = go_to_bank(db, draft, Watching())
    assert come_back(db, draft, Watching(), sent).result == "identified"
    assert seen == [(False, True)]
