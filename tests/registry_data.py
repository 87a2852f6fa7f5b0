"""The tests' own registry: the shared example plus one company per failure.

Kept apart from the demo file, so the tests show that any file of the SPEC §6
format drives the look-ups.
"""


def _company(kvk, name, officers, active=True, legal_form="Besloten Vennootschap", city="Utrecht"):
    return {
        "kvkNummer": kvk, "naam": name, "handelsnamen": [name], "rechtsvorm": legal_form, "actief": active,
        "hoofdvestiging": {"vestigingsnummer": "0000" + kvk, "adres": {
            "straatnaam": "Markt", "huisnummer": 1, "huisnummerToevoeging": "", "postcode": "1234AB", "plaats": city}},
        "functionarissen": officers,
    }


def _officer(id_, initials, prefix, surname, authority):
    return {"id": id_, "voorletters": initials, "voornamen": initials, "tussenvoegsel": prefix,
            "achternaam": surname, "geboortedatum": "1970-01-01", "functie": "Bestuurder", "bevoegdheid": authority}


def _agb(code, kvk, name, party="onderneming", active=True):
    return {"agbCode": code, "kvkNummer": kvk, "naam": name, "zorgsoort": code[:2], "zorgpartijType": party,
            "actief": active}


REGISTRY = {
    "companies": [
        _company("41000001", "Huisartsenpraktijk De Linde B.V.", [
            _officer("f1", "M.", "van der", "Linden", "azb"),
            _officer("f2", "P.J.", "", "Smit", "gb"),
            _officer("f3", "A.", "", "Bakker", "nb"),
        ]),
        _company("41000002", "Fysiotherapie 't Hoogeland", [_officer("e1", "H.", "", "Dijkstra", "azb")],
                 legal_form="Eenmanszaak", city="'s-Hertogenbosch"),
        _company("41000003", "Oude Praktijk <script>alert(1)</script>", [_officer("o1", "O.", "", "Oud", "azb")],
                 active=False),
        _company("41000004", "Tandartsen Onbereikbaar", [_officer("t1", "T.", "", "Tand", "azb")]),
    ],
    "agb": [
        _agb("01051234", "41000001", "Huisartsenpraktijk De Linde"),
        _agb("01004567", "41000001", "M. van der Linden", party="zorgverlener"),
        _agb("37000890", "41000001", "Gezondheidscentrum Lindeplein", party="vestiging"),
        _agb("01009999", "41000001", "Vertrokken huisarts", party="zorgverlener", active=False),
        _agb("04071111", "41000002", "Fysiotherapie 't Hoogeland"),
        _agb("01077777", "41000003", "Oude Praktijk"),
        _agb("12088888", "41000004", "Tandartsen Onbereikbaar"),
    ],
    "contacts": [
        {"agbCode": "01051234", "voorletters": "S.", "tussenvoegsel": "de", "achternaam": "Vries",
         "email": "s.devries@delinde.example", "telefoon": "030-2345678"},
    ],
    "unavailable": ["41000004"],
}
