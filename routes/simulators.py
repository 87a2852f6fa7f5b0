"""The simulated providers' own pages (demo mode and tests): a bank for iDIN and
CM Sign's signer page. In a real deployment these are other sites."""

from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, make_response, redirect, request
from wtforms import HiddenField, RadioField, StringField
from wtforms.fields.choices import SelectChoice

from onboarding import identity

from .forms import Form
from .i18n import gettext as _
from .i18n import lazy_gettext as _l
from .pages import get_db, render_page
from .providers import idin_redirect_uri, identity_provider, signing_provider

bp = Blueprint("simulators", __name__, url_prefix="/demo")

BANKS = ("ABN AMRO", "ASN Bank", "ING", "Rabobank", "RegioBank", "SNS", "Triodos Bank")


@bp.before_request
def simulated_only():
    if not current_app.config["SIMULATED_PROVIDERS"]:
        abort(404)


class BankForm(Form):
    bank = RadioField(_l("Uw bank"), choices=[SelectChoice(bank, bank) for bank in BANKS], default=BANKS[2],
                      validate_choice=False)
    initials = StringField(_l("Voorletters"))
    prefix = StringField(_l("Tussenvoegsel"))
    surname = StringField(_l("Achternaam"))
    birth_date = StringField(_l("Geboortedatum (JJJJ-MM-DD)"))
    state = HiddenField()
    nonce = HiddenField()
    redirect_uri = HiddenField()


def _back(redirect_uri: str, **params):
    return redirect(f"{redirect_uri}?{urlencode(params)}", 303)


@bp.route("/idin/authorize", methods=["GET", "POST"])
def idin_authorize():
    """The bank's page: the attributes it would return (prefilled with what was entered),
    confirm or cancel. It only sends browsers back to this application."""
    values = request.form if request.method == "POST" else request.args
    if values.get("redirect_uri") != idin_redirect_uri() or not values.get("state") or not values.get("nonce"):
        abort(400)
    if request.method == "GET":
        entered = identity.person_for_state(get_db(), request.args["state"])
        data = {"state": request.args["state"], "nonce": request.args["nonce"],
                "redirect_uri": request.args["redirect_uri"]}
        if entered:
            data.update(initials=entered.initials, prefix=entered.prefix, surname=entered.surname,
                        birth_date=entered.birth_date)
        return render_page("demo/bank.html", title=_("Gesimuleerde bank: identificeren met iDIN"),
                           form=BankForm(None, data=data))
    form = BankForm()
    if not form.validate():
        abort(400)
    if request.form.get("outcome") != "confirm":
        return _back(form.redirect_uri.data, error="access_denied", state=form.state.data)
    claims = identity.Claims(initials=form.initials.data.strip(), prefix=form.prefix.data.strip(),
                             surname=form.surname.data.strip(), birth_date=form.birth_date.data.strip())
    code = identity_provider().issue_code(claims, form.nonce.data, form.redirect_uri.data)
    return _back(form.redirect_uri.data, code=code, state=form.state.data)


@bp.get("/ondertekenen/<dossier_id>")
def signer_page(dossier_id: str):
    dossier = signing_provider().dossier(dossier_id) or abort(404)
    return render_page("demo/signer.html", title=_("Gesimuleerd ondertekenen: CM Sign"), dossier=dossier,
                       form=Form(None))


@bp.get("/ondertekenen/<dossier_id>/overeenkomst.pdf")
def signer_document(dossier_id: str):
    dossier = signing_provider().dossier(dossier_id) or abort(404)
    response = make_response(bytes(dossier["pdf"]))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{dossier["reference"]}.pdf"'
    return response


@bp.post("/ondertekenen/<dossier_id>")
def signer_decide(dossier_id: str):
    provider = signing_provider()
    provider.dossier(dossier_id) or abort(404)
    decision = request.form.get("decision")
    if decision not in ("sign", "decline"):
        abort(400)
    return redirect(provider.decide(dossier_id, decision), 303)
