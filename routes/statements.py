"""The statements every page links to from its footer, the service desk's contact in that
footer, and the short help on every step ("Hulp bij deze stap").

- ``/privacy``: which personal data an application holds, why, who receives it, how long it
  is kept (the same settings ``flask purge`` reads), the rights of the people involved.
- ``/toegankelijkheid``: the accessibility statement, in the structure of the Dutch model
  statement (digitoegankelijk.nl).
"""

from datetime import date

import phonenumbers
from flask import Blueprint, current_app

from onboarding.retention import KEEP_RATE_LIMITS, KEEP_SPENT_LINKS

from .i18n import gettext as _
from .i18n import lazy_gettext as _l
from .i18n import ngettext
from .pages import idle_duration, render_page

bp = Blueprint("statements", __name__)

# The day the accessibility statement was drawn up or last reviewed: move it with every change
# of its content (the model statement requires the date).
ACCESSIBILITY_STATEMENT_DATE = date(2026, 11, 29)
# Whom to ask about personal data unless AANSLUITEN_PRIVACY_EMAIL says otherwise: an example
# address (.example), never mistaken for a working one.
PRIVACY_EMAIL = "privacy@vecozo.example"
VECOZO_SUPPORT = "https://www.vecozo.nl/support/"
DATA_PROTECTION_AUTHORITY = "https://www.autoriteitpersoonsgegevens.nl/"
HUMAN_RIGHTS_COLLEGE = "https://www.mensenrechten.nl/"

# "Hulp bij deze stap": a few sentences per step, in the words of SPEC §1.
STEP_HELP = {
    1: _l("Vul een e-mailadres in dat u zelf leest. U krijgt een e-mail met een link die 24 uur geldig is en "
          "één keer werkt; vraagt u een nieuwe link aan, dan werkt de vorige niet meer. Met de link bevestigt u "
          "uw e-mailadres en gaat u verder waar u was gebleven, ook later of op een ander apparaat."),
    2: _l("Vul het KvK-nummer van uw onderneming in (8 cijfers) en een AGB-code die bij dat KvK-nummer hoort "
          "(8 cijfers). Spaties, punten en streepjes mag u meetypen. Wij zoeken uw onderneming op in het "
          "Handelsregister van de KvK en nemen alle actieve AGB-codes uit het AGB-register van Vektis mee. Is "
          "een register even niet bereikbaar, probeer het dan later opnieuw: wat u heeft ingevuld, blijft bewaard."),
    3: _l("Hier ziet u wat het Handelsregister en het AGB-register over uw onderneming weten. Klopt er iets niet, "
          "kies dan \u2018Nee\u2019: wij leggen uit waar u het laat verbeteren (bij de KvK of bij Vektis). Daarna "
          "begint u opnieuw bij stap 2; uw bevestigde e-mailadres blijft bewaard."),
    4: _l("De tekenbevoegde ondertekent de aansluitovereenkomst. U kunt alleen een functionaris kiezen die "
          "volgens het Handelsregister alleen of zelfstandig bevoegd is; wie gezamenlijk of niet bevoegd is, "
          "ziet u wel, met de reden. Vul de namen in precies zoals op het identiteitsbewijs, en een zakelijk "
          "e-mailadres en zakelijk mobiel nummer van de tekenbevoegde zelf."),
    5: _l("De hoofdcontactpersoon is het eerste aanspreekpunt voor VECOZO en moet in dienst zijn van uw "
          "onderneming. Vul de namen in zoals op het identiteitsbewijs, de geboortedatum en een persoonlijk "
          "zakelijk e-mailadres en mobiel nummer. Is de tekenbevoegde ook de hoofdcontactpersoon, neem dan "
          "diens gegevens over."),
    6: _l("Elke AGB-code heeft een contactpersoon nodig (hooguit twee per code). Contactpersonen die VECOZO al "
          "kent, zijn ingevuld; u mag ze wijzigen. Met \u00e9\u00e9n knop vult u alle lege regels met de "
          "hoofdcontactpersoon. U gaat verder zodra elke AGB-code een contactpersoon heeft."),
    7: _l("Een ICT-beheerder is een persoon, afdeling of organisatie die uw ICT regelt, bijvoorbeeld uw "
          "softwareleverancier. U kunt er hooguit vijf opgeven en ze ook weer verwijderen. Deze stap is "
          "optioneel: zonder ICT-beheerder gaat u gewoon verder."),
    8: _l("Dit zijn de diensten van VECOZO die voor uw onderneming openstaan, afgeleid van de zorgsoort van uw "
          "AGB-codes; bij elke dienst staat met welke codes u toegang krijgt. Mist u een dienst of klopt er iets "
          "niet, schrijf dat dan in het opmerkingenveld: een medewerker van VECOZO leest het."),
    9: _l("Controleer alles wat u in stap 1 tot en met 8 heeft ingevuld. Met \u2018Wijzigen\u2019 past u een "
          "onderdeel aan en komt u daarna direct hier terug. Na het versturen krijgt uw aanmelding een kenmerk en "
          "maken wij de aansluitovereenkomst als PDF. Tot het ondertekenen begint, kunt u de aanmelding nog "
          "openen om iets te wijzigen."),
    10: _l("De tekenbevoegde en de hoofdcontactpersoon identificeren zich allebei: online met iDIN bij hun eigen "
           "bank, of tijdens een bezoek van AMP Groep op het adres van uw onderneming, met een paspoort, "
           "identiteitskaart of rijbewijs. Komen de gegevens van de bank niet overeen met wat u invulde, dan "
           "controleert een medewerker ze binnen 5 werkdagen. Is de tekenbevoegde ge\u00efdentificeerd, dan "
           "ondertekent die de overeenkomst online met CM Sign."),
}


@bp.app_template_global()
def step_help(number: int | None):
    """The help text of step ``number`` (None for a page that is no step). A plain string, so
    that autoescaping applies (a lazy string would pass as markup)."""
    text = STEP_HELP.get(number) if number else None
    return str(text) if text else None


@bp.app_context_processor
def help_context() -> dict:
    return {"help_contact": help_contact()}


def help_contact() -> dict:
    """The service desk as the footer shows it (``AANSLUITEN_HELP_PHONE``, ``_HOURS``, ``_ADDRESS``),
    worked out once per setting."""
    config = current_app.config
    key = (config["HELP_PHONE"], config["HELP_HOURS"], config["HELP_ADDRESS"])
    cache = current_app.extensions.setdefault("aansluiten.help_contact", {})
    if key not in cache:
        phone, hours, address = (str(value or "").strip() for value in key)
        cache[key] = {"phone": phone, "tel": tel_uri(phone), "hours": hours, "address": address,
                      "support": VECOZO_SUPPORT}
    return cache[key]


def tel_uri(phone: str) -> str | None:
    """``tel:+31...`` for a number as people write it ("088 - 123 4567"); None when it is no number."""
    try:
        number = phonenumbers.parse(phone, "NL")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return "tel:" + phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def days(count: int) -> str:
    """A retention period in words: "30 dagen", and "3650 dagen (10 jaar)" for whole years."""
    text = ngettext("%(num)s dag", "%(num)s dagen", count)
    if count >= 365 and count % 365 == 0:
        text += " (" + ngettext("%(num)s jaar", "%(num)s jaar", count // 365) + ")"
    return text


def retention_periods() -> dict:
    """How long what is kept, from the settings ``flask purge`` reads (``RETENTION_*_DAYS``)."""
    config = current_app.config
    return {
        "draft": days(int(config["RETENTION_DRAFT_DAYS"])),
        "completed": days(int(config["RETENTION_COMPLETED_DAYS"])),
        "mail": days(int(config["RETENTION_MAIL_DAYS"])),
        "links": days(KEEP_SPENT_LINKS.days),
        "rate_limits": days(KEEP_RATE_LIMITS.days),
    }


@bp.get("/privacy")
def privacy():
    return render_page(
        "privacy.html",
        title=_("Privacyverklaring"),
        retention=retention_periods(),
        privacy_email=current_app.config.get("PRIVACY_EMAIL") or PRIVACY_EMAIL,
        authority_url=DATA_PROTECTION_AUTHORITY,
        idle_duration=idle_duration(),
    )


@bp.get("/toegankelijkheid")
def accessibility():
    return render_page(
        "accessibility.html",
        title=_("Toegankelijkheidsverklaring"),
        statement_date=ACCESSIBILITY_STATEMENT_DATE,
        idle_duration=idle_duration(),
        complaints_url=HUMAN_RIGHTS_COLLEGE,
    )
