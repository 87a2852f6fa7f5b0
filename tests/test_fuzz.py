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
