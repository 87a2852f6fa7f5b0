import json
import os

import pytest

from onboarding.registry import (
    AgbCodeOfOtherCompany,
    InactiveAgbCode,
    InactiveCompany,
    Registry,
    RegistryFile,
    RegistryUnavailable,
    UnknownAgbCode,
    UnknownCompany,
    company_from_json,
)

from .registry_data import REGISTRY

DEMO_FILE = os.path.join(os.path.dirname(__file__), "..", "data", "registry.json")


@pytest.fixture
def registry():
    return Registry(REGISTRY)


def test_company_by_kvk_number(registry):
    company = registry.company("41000001")
    assert company.name == "Huisartsenpraktijk De Linde B.V."
    assert company.address.city == "Utrecht"
    assert [officer.authority for officer in company.officers] == ["azb", "gb", "nb"]
    assert company.officers[0].full_name == "M. van der Linden"


@pytest.mark.parametrize("kvk, error", [
    ("99999999", UnknownCompany),
    ("41000003", InactiveCompany),
    ("41000004", RegistryUnavailable),
])
def test_company_errors(registry, kvk, error):
    with pytest.raises(error):
        registry.company(kvk)


def test_agb_code_of_the_company(registry):
    assert registry.agb_code("01051234", "41000001").zorgsoort == "01"


@pytest.mark.parametrize("code, kvk, error", [
    ("99999999", "41000001", UnknownAgbCode),
    ("04071111", "41000001", AgbCodeOfOtherCompany),
    ("01009999", "41000001", InactiveAgbCode),
])
def test_agb_code_errors(registry, code, kvk, error):
    with pytest.raises(error):
        registry.agb_code(code, kvk)


def test_active_codes_leave_inactive_ones_out(registry):
    codes = [code.code for code in registry.active_agb_codes("41000001")]
    assert codes == ["01004567", "01051234", "37000890"]


def test_known_contacts_per_code(registry):
    assert [contact.surname for contact in registry.contacts("01051234")] == ["Vries"]
    assert registry.contacts("01004567") == []


def test_every_codes_known_contacts_at_once_cannot_change_the_registry(registry):
    known = registry.known_contacts()
    assert [contact.surname for contact in known["01051234"]] == ["Vries"]
    assert "01004567" not in known
    with pytest.raises(TypeError):
        known["01004567"] = ()
    with pytest.raises(AttributeError):
        known["01051234"].append(known["01051234"][0])
    assert len(registry.contacts("01051234")) == 1


def test_active_codes_are_a_list_of_the_callers_own(registry):
    registry.active_agb_codes("41000001").clear()
    assert len(registry.active_agb_codes("41000001")) == 3


def test_missing_file_is_unavailable(tmp_path):
    with pytest.raises(RegistryUnavailable):
        RegistryFile(str(tmp_path / "missing.json")).get()


@pytest.mark.parametrize("content", [
    "{not json", "[]", "null", "",
    # Valid JSON, but not of the format: a look-up must not answer "not in the register".
    '{"agb": []}', '{"companies": null, "agb": []}', '{"companies": {}, "agb": []}', '{"companies": [], "agb": "x"}',
])
def test_broken_file_is_unavailable(tmp_path, content):
    path = tmp_path / "registry.json"
    path.write_text(content)
    with pytest.raises(RegistryUnavailable):
        RegistryFile(str(path)).get()


def test_file_is_read_again_when_it_changes(tmp_path):
    path = tmp_path / "registry.json"
    path.write_text(json.dumps(REGISTRY))
    registry_file = RegistryFile(str(path))
    assert registry_file.get().company("41000001")
    changed = dict(REGISTRY, unavailable=["41000001"])
    path.write_text(json.dumps(changed))
    os.utime(path, (1, 1))
    with pytest.raises(RegistryUnavailable):
        registry_file.get().company("41000001")


def test_example_file_of_the_spec_loads():
    registry = RegistryFile(os.path.join(os.path.dirname(__file__), "registry-example.json")).get()
    assert [company.kvk_number for company in registry.companies()] == ["41000001", "41000002"]
    assert registry.company("41000002").address.street == "Hoofdstraat"
    assert [code.code for code in registry.active_agb_codes("41000001")] == ["01004567", "01051234", "37000890"]


def test_demo_registry_covers_the_demo_cases():
    with open(DEMO_FILE, encoding="utf-8") as handle:
        data = json.load(handle)
    registry = Registry(data)
    companies = registry.companies()
    assert len(companies) >= 8
    assert len({company.legal_form for company in companies}) >= 3
    assert max(len(registry.active_agb_codes(company.kvk_number)) for company in companies) >= 150
    assert any(not company.active for company in companies)
    assert any(not code["actief"] for code in data["agb"])
    assert data["unavailable"] and all(registry.is_unavailable(kvk) for kvk in data["unavailable"])
    assert any(c.officers and all(o.authority == "gb" for o in c.officers) for c in companies)
    assert data["contacts"]
    names = " ".join(company.name + company.address.city for company in companies)
    assert "'s-Hertogenbosch" in names and "'t" in names
    assert any(ch in names for ch in "éëöüï")
    assert any(officer.prefix for company in companies for officer in company.officers)
    for code in data["agb"]:
        assert len(code["agbCode"]) == 8 and code["agbCode"][:2] == code["zorgsoort"]


def test_a_broken_record_leaves_the_others_reachable(tmp_path):
    data = dict(REGISTRY, companies=[{"naam": "no kvk number"}, "not an object", *REGISTRY["companies"]],
                agb=[{"kvkNummer": "41000001"}, *REGISTRY["agb"]])
    path = tmp_path / "registry.json"
    path.write_text(json.dumps(data))
    registry = RegistryFile(str(path)).get()
    assert registry.skipped == 3
    assert registry.company("41000001").name == "Huisartsenpraktijk De Linde B.V."
    assert registry.agb_code("01051234", "41000001")


def test_a_company_or_code_whose_record_is_broken_is_unavailable_not_unknown(tmp_path):
    # Its record is there, so "not in the Handelsregister" would be untrue: try again later.
    data = dict(REGISTRY, companies=[{"kvkNummer": "41000009"}, *REGISTRY["companies"]],
                agb=[{"agbCode": "01999999", "naam": "no KvK number"}, *REGISTRY["agb"]])
    registry = Registry(data)
    with pytest.raises(RegistryUnavailable):
        registry.company("41000009")
    with pytest.raises(RegistryUnavailable):
        registry.agb_code("01999999", "41000001")
    assert registry.company("41000001") and registry.skipped == 2


@pytest.mark.parametrize("flag", ["false", "true", 0, 1, None, []])
def test_a_record_whose_actief_is_not_true_or_false_is_broken(flag):
    # "false" is a string, and truthy: such a record must not count as active.
    registry = Registry({"companies": [{"kvkNummer": "12345678", "naam": "Vreemd", "actief": flag}],
                         "agb": [{"agbCode": "01234567", "kvkNummer": "12345678", "actief": flag}]})
    with pytest.raises(RegistryUnavailable):
        registry.company("12345678")
    with pytest.raises(RegistryUnavailable):
        registry.agb_code("01234567", "12345678")


@pytest.mark.parametrize("company, code", [
    ({"handelsnamen": "Een naam, geen lijst"}, {}),
    ({"handelsnamen": ["Goed", 7]}, {}),
    ({"naam": 12345678}, {}),
    ({"kvkNummer": 12345678}, {"kvkNummer": 12345678}),
    ({"functionarissen": [{"id": "f1", "voorletters": "J.", "achternaam": 5, "bevoegdheid": "azb"}]}, {}),
    ({"functionarissen": [{"id": {"x": 1}, "achternaam": "Berg"}]}, {}),
    ({"functionarissen": [{"id": "f1", "achternaam": "Berg", "bevoegdheid": True}]}, {}),
    ({"functionarissen": [{"voorletters": "J.", "achternaam": "Berg", "bevoegdheid": "azb"}]}, {}),  # no id
    ({"hoofdvestiging": {"adres": {"plaats": ["Utrecht"]}}}, {}),
    ({"hoofdvestiging": {"adres": {"huisnummer": {"nr": 1}}}}, {}),
    ({}, {"naam": ["Praktijk"]}),
    ({}, {"zorgsoort": 1}),
])
def test_a_record_whose_text_is_not_text_is_broken(company, code):
    """Not guessed: a string of trade names would show letter by letter, a number as surname would be
    an officer who may sign alone but whom step 4 cannot name."""
    registry = Registry({"companies": [{"kvkNummer": "12345678", "naam": "Vreemd", "actief": True, **company}],
                         "agb": [{"agbCode": "01234567", "kvkNummer": "12345678", "actief": True, **code}]})
    with pytest.raises(RegistryUnavailable):
        registry.company("12345678")
        registry.agb_code("01234567", "12345678")


def test_numbers_and_nulls_where_the_format_allows_them():
    registry = Registry({"companies": [{
        "kvkNummer": "12345678", "naam": "Nummers", "actief": True, "handelsnamen": None, "rechtsvorm": None,
        "hoofdvestiging": {"vestigingsnummer": None, "adres": {"huisnummer": 12, "huisnummerToevoeging": None}},
        "functionarissen": [{"id": 1, "voorletters": "J.", "tussenvoegsel": None, "achternaam": "Berg"}]}],
        "agb": [{"agbCode": "01234567", "kvkNummer": "12345678", "actief": True, "naam": None}]})
    company = registry.company("12345678")
    assert company.address.number == 12 and company.trade_names == () and company.officers[0].id == "1"
    assert Registry({"companies": [{"kvkNummer": "12345678", "naam": "Nul", "actief": True,
                                    "functionarissen": [{"id": 0, "achternaam": "Berg"}]}], "agb": []}
                    ).company("12345678").officers[0].id == "0"
    assert registry.agb_code("01234567", "12345678").name == ""


def test_a_drafts_snapshot_taken_by_an_earlier_more_lenient_check_is_still_shown():
    """A draft keeps the record of its look-up; one taken before the texts were checked strictly
    is read as it is (its page must not fail), not refused as a registry file's record is."""
    snapshot = {"kvkNummer": "12345678", "naam": "Oud", "actief": True, "handelsnamen": "Eén naam",
                "hoofdvestiging": {"vestigingsnummer": 123, "adres": {"plaats": "Utrecht"}},
                "functionarissen": [{"id": "f1", "voorletters": 5, "achternaam": "Berg", "bevoegdheid": "azb"}]}
    company = company_from_json(snapshot, stored=True)
    assert company.trade_names == ("Eén naam",) and company.branch_number == "123"
    assert company.officers[0].initials == "5"
    with pytest.raises(ValueError):
        company_from_json(snapshot)


def test_a_file_nested_too_deep_to_read_is_unavailable(tmp_path):
    path = tmp_path / "registry.json"
    path.write_text('{"companies": ' + "[" * 100_000 + "]" * 100_000 + ', "agb": []}')
    with pytest.raises(RegistryUnavailable):
        RegistryFile(str(path)).get()


def test_a_minimal_record_of_the_format_is_enough():
    registry = Registry({"companies": [{"kvkNummer": "12345678", "naam": "Minimaal", "actief": True}],
                         "agb": [{"agbCode": "01234567", "kvkNummer": "12345678", "actief": True}]})
    company = registry.company("12345678")
    assert company.officers == () and company.trade_names == () and company.address.city == ""
    assert registry.agb_code("01234567", "12345678").zorgsoort == "01"
