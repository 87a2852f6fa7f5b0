"""The start page (Voorbereiding)."""

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, redirect, request, url_for

from onboarding import staff
from onboarding.registry import RegistryUnavailable

from .i18n import gettext as _
from .mailer import seal
from .pages import LANGUAGE_COOKIE, LANGUAGES, current_draft, get_db, registry_file, render_page
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
        demo_staff=demo_staff() if current_app.config["DEMO"] else None,
    )


def demo_staff() -> dict | None:
    """The demo's back-office login (made by `init-db` and `demo-reset` in demo mode), with
    the code its authenticator would show now: a demo has no phone to read it from."""
    user = staff.by_username(get_db(), staff.DEMO_USERNAME)
    if user is None or not user.totp_enrolled:
        return None
    return {"username": staff.DEMO_USERNAME, "password": staff.DEMO_PASSWORD,
            "code": staff.current_code(get_db(), user.id, seal())}


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
    address; ``next`` is the fallback. Only a path of this site (printable: no line break may reach
    the Location header), else the start page."""
    try:
        referrer = urlsplit(request.referrer or "")
        if referrer.netloc == request.host and referrer.path.startswith("/"):
            target = referrer.path + (f"?{referrer.query}" if referrer.query else "")
        else:
            target = request.args.get("next", "")
        parts = urlsplit(target)
    except ValueError:  # not a URL at all
        return url_for("start.index")
    if (parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target
            or not target.isprintable()):
        return url_for("start.index")
    return target
