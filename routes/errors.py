"""Friendly full pages for what goes wrong, so that nobody meets a bare error."""

import sqlite3

from flask import current_app, g, redirect, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import MethodNotAllowed, SecurityError

from onboarding import store

from .access import form_expired
from .i18n import gettext as _
from .pages import header_draft, navigate, render_page, shows_page, wants_fragment


def _error_page(status: int):
    title, message = _MESSAGES[status]
    if status >= 500:
        g.setdefault("draft", None)  # the header's draft: the store may be what failed
    else:
        try:
            header_draft()
        except (store.Unavailable, sqlite3.OperationalError) as error:
            if not store.unavailable(error):
                raise
            # Raised in an error handler, it would make this page a 500: the page goes without it.
            current_app.logger.warning("store unavailable for the header of a %s page: %s", status, error)
            g.draft = None
    return render_page("error.html", title=title(), status=status, message=message())


_MESSAGES = {
    400: (lambda: _("Dit verzoek kunnen wij niet verwerken"),
          lambda: _("Controleer het adres, of begin op de startpagina.")),
    404: (lambda: _("Pagina niet gevonden"),
          lambda: _("Deze pagina bestaat niet. Controleer het adres, of begin op de startpagina.")),
    405: (lambda: _("Dit kan zo niet"),
          lambda: _("Deze pagina kan niet op deze manier worden gebruikt. Begin op de startpagina.")),
    410: (lambda: _("Deze pagina bestaat niet meer"), lambda: _("Begin op de startpagina.")),
    413: (lambda: _("Te veel gegevens verstuurd"),
          lambda: _("Wat u verstuurde was groter dan wij aannemen. Ga terug en verstuur minder tekst.")),
    500: (lambda: _("Er ging iets mis aan onze kant"),
          lambda: _("Wat u eerder heeft opgeslagen is bewaard. Probeer het over een paar minuten opnieuw.")),
    503: (lambda: _("Deze dienst is even niet beschikbaar"),
          lambda: _("Wat u eerder heeft opgeslagen is bewaard. Probeer het over een paar minuten opnieuw.")),
}


def page_of(path: str) -> str | None:
    """The nearest URL above ``path`` that shows a page: ``/stap/10/afspraak`` -> ``/stap/10``,
    ``/beheer/aanvraag/7/identificatie/signatory`` -> ``/beheer/aanvraag/7``; None when only the
    start page is (a URL for machines, such as a callback, stays a 405)."""
    parts = path.rstrip("/").split("/")
    while len(parts) > 2:
        parts.pop()
        candidate = "/".join(parts)
        if shows_page(candidate):
            return request.script_root + candidate
    return None


def register(app) -> None:
    @app.errorhandler(SecurityError)
    def untrusted_host(error):
        # A Host other than AANSLUITEN_BASE_URL's: no URL can be built for it, so no page either.
        current_app.logger.info("refused: %s", error.description)
        return "Bad request: this host is not served here.\n", 400, {"Content-Type": "text/plain; charset=utf-8"}

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        current_app.logger.info("CSRF refused: %s", error.description)
        if wants_fragment():
            return navigate(url_for("access.form_expired"))
        try:
            return form_expired()
        except (store.Unavailable, sqlite3.OperationalError) as failed:
            # The page reads the draft for its way back; raised in an error handler, a store that
            # cannot be read would make it a 500.
            return store_failed(failed)

    @app.errorhandler(MethodNotAllowed)
    def method_not_allowed(error):
        # A GET of a URL that only takes a form (the address bar after a form came back with its
        # errors, the language switch from there) goes to the page that form belongs to.
        page = page_of(request.path) if request.method in ("GET", "HEAD") else None
        if page is not None:
            return redirect(page, 303)
        return handle_405(error)

    def handler(status):
        def handle(error):
            if status == 500:
                current_app.logger.exception("unhandled error", exc_info=getattr(error, "original_exception", error))
            if wants_fragment():
                # htmx does not swap an error answer: load the page whole instead.
                return navigate(url_for("errors_page", status=status))
            response = current_app.make_response(_error_page(status))
            if status == 405 and getattr(error, "valid_methods", None):
                response.headers["Allow"] = ", ".join(error.valid_methods)
            return response
        return handle

    for status in _MESSAGES:
        if status != 405:
            app.register_error_handler(status, handler(status))
    handle_405 = handler(405)

    unavailable = handler(503)

    @app.errorhandler(store.Unavailable)
    @app.errorhandler(sqlite3.OperationalError)
    def store_failed(error):
        if not store.unavailable(error):
            raise error  # a statement's fault: a bug, answered as any other
        current_app.logger.warning("store unavailable: %s", error)
        return unavailable(error)

    @app.get("/fout/<int:status>", endpoint="errors_page")
    def errors_page(status: int):
        return _error_page(status if status in _MESSAGES else 404)
