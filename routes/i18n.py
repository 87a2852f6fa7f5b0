"""The request's language: its message catalogue looked up once per request, and the gettext
functions of Python code and templates that read it directly.

Flask-Babel finds the domain, then the catalogue, through Flask's context proxies for every
string it translates, and a step page translates dozens: its texts, and its form's labels, hints
and messages (lazy strings, translated where they are shown). That was a third of a fragment's
time. These functions mean the same as Flask-Babel's, with the catalogue read from the request.
Import them from here, not from ``flask_babel``; the names are the ones ``pybabel extract`` knows.
"""

import contextvars
from contextlib import contextmanager
from functools import cached_property

import flask_babel
from flask import current_app, has_request_context
from flask_babel import Babel, Domain
from flask_babel.speaklater import LazyString
from jinja2 import pass_eval_context
from markupsafe import Markup

# The request's catalogue: set afresh for every request (``forget_translations`` runs before
# anything else), read without going through Flask's context proxies.
_translations: contextvars.ContextVar = contextvars.ContextVar("aansluiten_translations", default=None)
_language: contextvars.ContextVar = contextvars.ContextVar("aansluiten_language", default=None)


def forget_translations(_error=None):
    _translations.set(None)
    _language.set(None)


def language() -> str:
    """The request's language code, "nl" or "en": what the app's locale selector chose, asked once
    per request. (Flask-Babel's ``get_locale()`` reaches it through Flask's context proxies four
    times, and ``str()`` spells the locale out again; Flask-Babel's ``force_locale()`` does not
    reach this, and nothing here uses it.)"""
    code = _language.get()
    if code is None:
        if not has_request_context():
            return str(flask_babel.get_locale())
        babel = current_app.extensions["babel"]
        code = str((babel.locale_selector and babel.locale_selector()) or babel.instance.default_locale)
        _language.set(code)
    return code


@contextmanager
def in_language(code: str):
    """Texts, dates and times in ``code`` for a while, whatever the request's language (the mails a
    staff action sends go out in the service's language, not in the one the back office is read in)."""
    with flask_babel.force_locale(code):
        language_token, translations_token = _language.set(code), _translations.set(None)
        try:
            yield
        finally:
            _language.reset(language_token)
            _translations.reset(translations_token)


def translations():
    """The catalogue of this request's language, kept per language and process by the app
    (Flask-Babel finds its cache through the context proxies on every lookup)."""
    found = _translations.get()
    if found is None:
        if not has_request_context():
            return flask_babel.get_translations()
        catalogues = current_app.extensions.setdefault("aansluiten.catalogues", {})
        code = language()
        found = catalogues.get(code)
        if found is None:
            found = catalogues[code] = Domain.get_translations(flask_babel.get_domain())
        _translations.set(found)
    return found


class RequestDomain(Domain):
    """Flask-Babel's own lookups (its formatting of dates, its lazy strings) read the same catalogue."""

    def get_translations(self):
        return translations() if has_request_context() else super().get_translations()


class RequestBabel(Babel):
    @cached_property
    def domain_instance(self):
        return RequestDomain(domain=self.domain)

    def init_app(self, app, *args, **kwargs):
        super().init_app(app, *args, **kwargs)
        # Jinja's i18n extension would call through two more layers: these templates' `_()`
        # means what it means with the extension's "newstyle" gettext.
        app.jinja_env.globals.update(_=template_gettext, gettext=template_gettext, ngettext=template_ngettext)


def gettext(string: str, **variables) -> str:
    translated = translations().ugettext(string)
    return translated % variables if variables else translated


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    return translations().ungettext(singular, plural, num) % variables


def lazy_gettext(string: str, **variables) -> LazyString:
    """Translated each time it is shown, in the language of that request (labels, titles)."""
    return LazyString(gettext, string, **variables)


# Given the evaluation context, not the template context: Jinja derives a new template context for a
# function that takes one, on every call inside a block or loop that set a variable.
@pass_eval_context
def template_gettext(eval_ctx, string: str, **variables):
    translated = translations().ugettext(string)
    if eval_ctx.autoescape:
        translated = Markup(translated)
    # Most strings have nothing to fill in: formatting them would only turn "%%" into "%".
    return translated % variables if variables or "%" in translated else translated


@pass_eval_context
def template_ngettext(eval_ctx, singular: str, plural: str, num: int, **variables):
    variables.setdefault("num", num)
    translated = translations().ungettext(singular, plural, num)
    if eval_ctx.autoescape:
        translated = Markup(translated)
    return translated % variables
