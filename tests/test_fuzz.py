"""Whatever is typed, the answer is a page with a message or the next step: never a 500."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ANSWERS = {303, 409, 422, 429, 503}
anything = st.text(max_size=60)
fuzz = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@fuzz
@given(email=anything)
def test_step_1_takes_any_text(applicant, email):
    response = applicant.submit("/stap/1", {"email": email})
    assert response.status_code in ANSWERS


@fuzz
@given(kvk=anything, agb=anything, version=st.one_of(st.none(), anything))
def test_step_2_takes_any_text(verified, kvk, agb, version):
    data = {"kvk_number": kvk, "agb_code": agb}
    if version is not None:
        data["version"] = version
    response = verified.submit("/stap/2", data)
    assert response.status_code in ANSWERS
    if response.status_code != 303:
        assert verified.draft()["kvk_number"] is None


@fuzz
@given(answer=anything)
def test_step_3_takes_any_text(looked_up, answer):
    response = looked_up.submit("/stap/3", {"data_correct": answer})
    assert response.status_code in ANSWERS
    assert looked_up.draft()["data_correct"] in (None, "yes", "no")


PERSON_FIELDS = ("initials", "prefix", "surname", "birth_date", "email", "mobile")
CONTACT_FIELDS = ("initials", "prefix", "surname", "email", "phone")


def _answers(fields, values):
    return dict(zip(fields, values))


@fuzz
@given(values=st.tuples(*(anything for _ in PERSON_FIELDS)), officer=anything, version=st.one_of(st.none(), anything))
def test_step_4_takes_any_text(confirmed, values, officer, version):
    data = {**_answers(PERSON_FIELDS, values), "signatory": officer}
    if version is not None:
        data["version"] = version
    response = confirmed.submit("/stap/4", data, page="/stap/4?signatory=f1")
    assert response.status_code in ANSWERS
    stored = confirmed.db.conn.execute("SELECT officer_id FROM persons WHERE role = 'signatory'").fetchall()
    assert [row[0] for row in stored] in ([], ["f1"])


@fuzz
@given(values=st.tuples(*(anything for _ in PERSON_FIELDS)), employed=anything)
def test_step_5_takes_any_text(signed, values, employed):
    response = signed.submit("/stap/5", {**_answers(PERSON_FIELDS, values), "employed": employed})
    assert response.status_code in ANSWERS


@fuzz
@given(values=st.tuples(*(anything for _ in CONTACT_FIELDS)), code=anything,
       position=st.integers(min_value=-3, max_value=2**70), version=anything, htmx=st.booleans())
def test_step_6_rows_take_any_text(with_main_contact, values, code, position, version, htmx):
    from urllib.parse import quote
    url = f"/stap/6/code/{quote(code, safe='') or '01004567'}/{position}"
    response = with_main_contact.submit(url, {**_answers(CONTACT_FIELDS, values), "version": version},
                                        page="/stap/6", htmx=htmx)
    # 308: "a/b" quoted in a path is a path with one more slash, which Werkzeug tidies; 405: a code of
    # slashes alone ("/stap/6/code///0") is tidied into a row's own URL ("/stap/6/code/0"), which takes no POST.
    assert response.status_code in ANSWERS | {200, 308, 404, 405}
    removed = with_main_contact.submit(url + "/verwijder", {"version": version}, page="/stap/6", htmx=htmx)
    assert removed.status_code in ANSWERS | {200, 308, 404, 405}


@fuzz
@given(query=anything, page=anything)
def test_step_6_lists_take_any_filter_and_page(with_main_contact, query, page):
    response = with_main_contact.client.get("/stap/6", query_string={"zoek": query, "pagina": page})
    assert response.status_code == 200


@fuzz
@given(values=st.tuples(anything, anything, anything), admin=st.integers(min_value=-3, max_value=2**70))
def test_step_7_takes_any_text(with_main_contact, values, admin):
    from .conftest import hidden_inputs
    page = with_main_contact.get("/stap/6").get_data(as_text=True)
    with_main_contact.client.post("/stap/6/aanvullen", data=hidden_inputs(page))
    with_main_contact.submit("/stap/6", {})
    response = with_main_contact.submit("/stap/7/toevoegen", dict(zip(("name", "email", "phone"), values)))
    assert response.status_code in ANSWERS
    removed = with_main_contact.submit(f"/stap/7/beheerder/{admin}/verwijder", {}, page="/stap/7")
    assert removed.status_code in ANSWERS | {404}


@fuzz
@given(ok=anything, remark=st.text(max_size=1200))
def test_step_8_takes_any_text(at_step_8, ok, remark):
    response = at_step_8.submit("/stap/8", {"services_ok": ok, "services_remark": remark})
    assert response.status_code in ANSWERS


@fuzz
@given(declaration=anything, version=st.one_of(st.none(), anything))
def test_step_9_takes_any_text(at_step_9, declaration, version):
    data = {"declaration": declaration}
    if version is not None:
        data["version"] = version
    # The token from a page that stays (the first valid example submits, and /stap/9 then redirects).
    response = at_step_9.submit("/stap/9", data, page="/")
    assert response.status_code in ANSWERS


VISIT_FIELDS = ("street", "house_number", "postcode", "city", "slot")


@fuzz
@given(values=st.tuples(*(anything for _ in VISIT_FIELDS)))
def test_step_10_visit_takes_any_text(submitted, values):
    submitted.submit("/stap/10", {"method": "appointment"})
    response = submitted.submit("/stap/10/afspraak", _answers(VISIT_FIELDS, values), page="/stap/10")
    assert response.status_code in ANSWERS


@fuzz
@given(method=anything, state=anything, code=anything, error=anything)
def test_step_10_method_and_bank_returns_take_any_text(submitted, method, state, code, error):
    assert submitted.submit("/stap/10", {"method": method}).status_code in ANSWERS
    response = submitted.client.get("/idin/terug", query_string={"state": state, "code": code, "error": error})
    assert response.status_code in (303, 400)
    assert submitted.db.conn.execute("SELECT count(*) FROM identifications").fetchone()[0] == 0


@fuzz
@given(body=st.binary(max_size=300), headers=st.dictionaries(
    st.sampled_from(["webhook-id", "webhook-timestamp", "webhook-signature", "content-type"]),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80)))
def test_signing_callbacks_take_any_bytes(client, body, headers):
    response = client.post("/callbacks/signing", data=body, headers=headers)
    assert 400 <= response.status_code < 500
