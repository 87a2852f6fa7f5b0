"""Step 2: the KvK number and AGB code, looked up in the registries."""

from datetime import timedelta

from flask import current_app, g, request

from onboarding import drafts
from onboarding.ratelimit import Limit, RateLimited, hit
from onboarding.registry import (
    AgbCodeOfOtherCompany,
    InactiveAgbCode,
    InactiveCompany,
    RegistryError,
    RegistryUnavailable,
    UnknownAgbCode,
    UnknownCompany,
)

from .. import forms
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..pages import client_id, get_db, registry_file
from ..wizard import FormRejected, Step, rate_limited, step, step_url

LOOKUP_PER_DRAFT = Limit("lookup-draft", hits=20, window=timedelta(minutes=10))
LOOKUP_PER_CLIENT = Limit("lookup-client", hits=100, window=timedelta(minutes=10))


_REGISTRY_MESSAGES = {
    UnknownCompany: ("kvk_number", _l(
        "Dit KvK-nummer staat niet in het Handelsregister. Controleer het nummer op uw uittreksel van de KvK.")),
    InactiveCompany: ("kvk_number", _l(
        "Deze onderneming is niet meer actief in het Handelsregister. "
        "Alleen een actieve onderneming kan een aansluitovereenkomst afsluiten.")),
    UnknownAgbCode: ("agb_code", _l(
        "Deze AGB-code staat niet in het AGB-register van Vektis. Controleer de code.")),
    InactiveAgbCode: ("agb_code", _l(
        "Deze AGB-code is niet actief in het AGB-register. Vul een actieve AGB-code in.")),
    AgbCodeOfOtherCompany: ("agb_code", _l(
        "Deze AGB-code hoort bij een andere onderneming dan dit KvK-nummer. "
        "Vul een AGB-code in die bij dit KvK-nummer is geregistreerd.")),
}


@step
class CompanyStep(Step):
    number = 2
    template = "steps/company.html"
    form_class = forms.CompanyForm

    def load(self, draft):
        return {"kvk_number": draft.kvk_number, "agb_code": draft.agb_code}

    def save(self, draft, form):
        db = get_db()
        kvk_number, agb_code = form.kvk_number.data, form.agb_code.data
        if drafts.replaces_company(draft, kvk_number) and request.form.get("replace") != "yes":
            # Asked before anything is looked up or lost.
            raise FormRejected(_l(
                "U vult een ander KvK-nummer in dan eerst. Met een andere onderneming vervallen de "
                "tekenbevoegde, de hoofdcontactpersoon, de contactpersonen en de ICT-beheerders die u al "
                "heeft opgegeven. Weet u het zeker?"
            ), status=409, notice=True, context={"confirm_replace": True})
        # The registry is read first (it is in memory): a look-up it answers is saved in the
        # transaction that counts the try, so both take one turn of the writer lock.
        try:
            registry = registry_file().get()
            company = registry.company(kvk_number)
            registry.agb_code(agb_code, kvk_number)
            codes = registry.active_agb_codes(kvk_number)
        except RegistryError as error:
            refused = error
        else:
            refused = None
        # One POST is one try: after a stale version with the same answers (a second click) the
        # wizard saves again, and that save must not count the try again.
        limits = [(LOOKUP_PER_DRAFT, draft.key), (LOOKUP_PER_CLIENT, client_id())]
        if g.get("lookup_counted"):
            limits = []
        g.lookup_counted = True
        try:
            if refused is not None:
                hit(db, limits)  # a try the registry refused counts too, and too many tries come first
                raise refused
            drafts.save_company(db, draft, form.based_on(), kvk_number, agb_code, company.raw, codes,
                                registry.known_contacts(), limits=limits)
        except RateLimited as error:
            raise FormRejected(rate_limited(error), status=429, notice=True) from None
        except RegistryUnavailable:
            current_app.logger.warning("registry unavailable for a look-up of KvK %s", kvk_number)
            raise FormRejected(_l(
                "Het Handelsregister of het AGB-register is op dit moment niet bereikbaar. "
                "Wat u heeft ingevuld is niet verloren: probeer het over een paar minuten opnieuw."
            ), status=503, notice=True) from None
        except UnknownAgbCode:
            zorgsoorten = current_app.extensions["aansluiten.zorgsoorten"]
            if agb_code[:2] not in zorgsoorten:
                raise FormRejected(_(
                    "Deze AGB-code staat niet in het AGB-register van Vektis. De eerste twee cijfers zijn de "
                    "zorgsoort, en %(code)s is geen zorgsoort: controleer de code.", code=agb_code[:2]
                ), field="agb_code") from None
            raise FormRejected(_REGISTRY_MESSAGES[UnknownAgbCode][1], field="agb_code") from None
        except tuple(_REGISTRY_MESSAGES) as error:
            field, message = _REGISTRY_MESSAGES[type(error)]
            raise FormRejected(message, field=field) from None
        return step_url(3)
