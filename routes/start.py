"""The start page (Voorbereiding)."""

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, redirect, request, url_for
from flask_babel import gettext as _

from onboarding.registry import RegistryUnavailable

from .pages import LANGUAGE_COOKIE, LANGUAGES, current_draft, registry_file, render_page
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


@bp.get("/taal/<code>")
def language(code: str):
    """Switch the interface language and go back to the page the applicant was on."""
    if code not in LANGUAGES:
        abort(404)
    response = redirect(_back_to_this_site(), 303)
    response.set_cookie(LANGUAGE_COOKIE, code, max_age=365 * 24 * 3600, httponly=True, samesite="Lax",
                        secure=request.is_secure)
    return response


def _back_to_this_site() -> str:
    """The page to return to: the referrer knows it even after htmx pushed a new
    address; ``next`` is the fallback. Only a path of this site, else the start page."""
    try:
        referrer = urlsplit(request.referrer or "")
        if referrer.netloc == request.host and referrer.path.startswith("/"):
            target = referrer.path + (f"?{referrer.query}" if referrer.query else "")
        else:
            target = request.args.get("next", "")
        parts = urlsplit(target)
    except ValueError:  # not a URL at all
        return url_for("start.index")
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("start.index")
    return target
