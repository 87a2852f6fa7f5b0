"""The start page (Voorbereiding)."""

from flask import Blueprint, current_app
from flask_babel import gettext as _

from onboarding.registry import RegistryUnavailable

from .pages import current_draft, registry_file, render_page
from .wizard import TITLES

bp = Blueprint("start", __name__)


def demo_cases() -> list[dict]:
    """Every company of the registry file with its AGB codes, to try in demo mode."""
    try:
        registry = registry_file().get()
    except RegistryUnavailable:
        return []
    return [
        {"company": company, "codes": registry.agb_codes_of(company.kvk_number),
         "unavailable": registry.is_unavailable(company.kvk_number)}
        for company in registry.companies()
    ]


@bp.get("/")
def index():
    return render_page(
        "start.html",
        title=_("Aansluiten bij VECOZO"),
        titles=TITLES,
        draft=current_draft(),
        demo_cases=demo_cases() if current_app.config["DEMO"] else [],
    )
