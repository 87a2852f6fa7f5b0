"""What every view shares: the database on ``g``, the applicant's draft, and the
one place that decides between a full page and an htmx fragment."""

import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from flask import (current_app, flash, g, get_flashed_messages, has_request_context, redirect, render_template,
                   request, session, url_for)
from babel import Locale
from flask_babel import format_timedelta
from flask_htmx import make_response as htmx_response
from jinja2_fragments.flask import render_block
from markupsafe import Markup
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from onboarding import drafts, person_links, store, tokens, validators
from onboarding.registry import RegistryFile
from onboarding.steps import STEP_COUNT

from . import unsent
from .i18n import language
from .i18n import gettext as _
from .i18n import ngettext

LANGUAGES = ("nl", "en")
# Parsed once: Flask-Babel would parse the chosen code again on every request.
_LOCALES = {code: Locale.parse(code) for code in LANGUAGES}
LANGUAGE_COOKIE = "taal"
SESSION_DRAFT = "draft"
# Flask-WTF's CSRF token (its default WTF_CSRF_FIELD_NAME).
CSRF_SESSION_KEY = "csrf_token"
SESSION_SEEN = "seen"
# A random id of this browser: which links it asked for (tokens.issue).
SESSION_BROWSER = "browser"
# The grant of a person link (the main contact's own device): ends with the idle timeout too.
SESSION_PERSON = "person"
# Sent by a page that polls for news (the status page): not the applicant's activity,
# so it does not keep an idle session alive.
POLL_HEADER = "X-Aansluiten-Poll"


class RowIdConverter(IntegerConverter):
    """``<id:...>``: the id of a stored row, at most 18 digits. A longer number matches no route (a
    404), where a look-up past SQLite's largest integer (2**63 - 1) would fail with an OverflowError.
    (A ``max`` would make werkzeug answer a POST with 405, from the GET rule of the same path.)"""

    regex = r"\d{1,18}"


def get_db():
    """The worker thread's kept connection (see ``store.kept_connection``)."""
    if "db" not in g:
        g.db = store.kept_connection(current_app.config["DATABASE"], current_app.config["WRITE_TIMEOUT"])
        if not current_app.extensions.get("aansluiten.migrated"):
            store.migrate(g.db)
            current_app.extensions["aansluiten.migrated"] = True
    return g.db


def release_db(_error=None):
    db = g.pop("db", None)
    if db is not None:
        store.release(db)


def chosen_locale() -> Locale:
    """Dutch unless the applicant chose English (a cookie of its own: no personal data)."""
    chosen = request.cookies.get(LANGUAGE_COOKIE) if has_request_context() else None
    return _LOCALES[chosen if chosen in LANGUAGES else LANGUAGES[0]]


def registry_file() -> RegistryFile:
    return current_app.extensions["aansluiten.registry"]


def current_draft():
    """The applicant's draft, read afresh from the store on every call (and kept on
    ``g`` for the page header)."""
    key = session.get(SESSION_DRAFT)
    g.draft = drafts.by_key(get_db(), key) if key else None
    return g.draft


def header_draft():
    """The draft whose address the header shows, with the button to log out."""
    if SESSION_DRAFT not in session:
        return None
    return g.draft if "draft" in g else current_draft()


def bind_draft(draft) -> None:
    # The CSRF token stays: the page's htmx headers still carry it. A signed
    # cookie cannot be fixed by an attacker, and the draft key is fresh anyway.
    session[SESSION_DRAFT] = draft.key
    session[SESSION_SEEN] = int(time.time())


def sign_out() -> None:
    """End this session, and on the server every session on its draft and its person's grant."""
    draft = current_draft()
    if draft is not None:
        drafts.sign_out(get_db(), draft)
    person_links.sign_out(get_db(), session.get(SESSION_PERSON))
    # Flask-WTF's token stays: it is no one's data, and the back office open in another tab of
    # this browser posts with it.
    csrf_token = session.get(CSRF_SESSION_KEY)
    session.clear()
    if csrf_token:
        session[CSRF_SESSION_KEY] = csrf_token
    g.draft = None


def browser_id() -> str:
    """This browser's random id, made when first needed."""
    if SESSION_BROWSER not in session:
        session[SESSION_BROWSER] = secrets.token_urlsafe(16)
    return session[SESSION_BROWSER]


def remembered_email() -> str | None:
    """The address to show and prefill again (WCAG 3.3.7): the draft's, else the one
    this browser last asked a link for. It was typed here, so showing it reveals nothing."""
    draft = header_draft()
    if draft is not None:
        return draft.email
    browser = session.get(SESSION_BROWSER)
    return tokens.last_requested(get_db(), tokens.browser_hash(browser)) if browser else None


def phone_formatter():
    """The request's ``validators.phone_formatter``: each phone number formatted once per request,
    as a page's rows mostly share a few people."""
    if "phones" not in g:
        g.phones = validators.phone_formatter()
    return g.phones


def shown_phone(value: str) -> str:
    """A stored phone number as people write it: the template filter ``phone``."""
    return phone_formatter()(value)


def too_many_tries(minutes: int) -> str:
    """What a rate limit says (steps 1 and 2, the back office's log-in)."""
    return ngettext("U heeft dit te vaak geprobeerd. Probeer het over %(num)s minuut opnieuw.",
                    "U heeft dit te vaak geprobeerd. Probeer het over %(num)s minuten opnieuw.", minutes)


def idle_timeout() -> int:
    return int(current_app.config["IDLE_TIMEOUT"])


def idle_duration():
    """The idle timeout in words ("30 minuten"), for the pages that name it."""
    return format_timedelta(timedelta(seconds=idle_timeout()), threshold=1)


def idle_texts() -> dict | None:
    """The idle warning of an applicant's page (with a session), built from the configured
    timeout (AANSLUITEN_IDLE_TIMEOUT)."""
    if SESSION_DRAFT not in session:
        return None
    return idle_warning(idle_timeout())


def idle_warning(timeout: int, staff: bool = False) -> dict:
    """The idle warning of a page (the layout's dialog): when it comes, what it says, where the
    page asks to stay and where one starts again once the session has ended; for an applicant,
    or for staff in the back office (``staff``)."""
    return per_locale(f"idle-warning-{timeout}-{staff}", lambda: _idle_warning(timeout, staff))


def _idle_warning(timeout: int, staff: bool) -> dict:
    warn_before = min(120, timeout // 2)
    idle = format_timedelta(timedelta(seconds=timeout - warn_before), threshold=1)
    warning = {
        "timeout": timeout,
        "warn_before": warn_before,
        "title": _("Uw sessie verloopt over %(time)s",
                   time=format_timedelta(timedelta(seconds=warn_before), threshold=1)),
        # Once it has ended (the warning left open, or the page in the background).
        "ended_title": _("Uw sessie is verlopen"),
    }
    ended = format_timedelta(timedelta(seconds=timeout), threshold=1)
    if staff:
        return warning | {
            "text": _("U bent %(time)s niet actief geweest. Wat u op deze pagina heeft ingevuld maar nog niet "
                      "verstuurd, gaat verloren als uw sessie verloopt.", time=idle),
            "ended_text": _("U was %(time)s niet actief. Om de gegevens van de aanmeldingen te beschermen, "
                            "bent u uitgelogd. Wat u op deze pagina invulde, staat er nog: sluit deze melding om "
                            "het over te nemen, en log daarna opnieuw in.", time=ended),
            "keep_alive": "backoffice.keep_alive", "restart": "backoffice.login_get",
            "restart_label": _("Opnieuw inloggen"),
        }
    return warning | {
        "text": _("U bent %(time)s niet actief geweest. Wat u per stap heeft opgeslagen, blijft bewaard. "
                  "Wat u op deze pagina heeft ingevuld maar nog niet verstuurd, wordt niet bewaard als uw "
                  "sessie verloopt.", time=idle),
        "ended_text": _("U was %(time)s niet actief. Om uw gegevens te beschermen, hebben wij u uitgelogd.",
                        time=ended) + " " + _(
            "Wat u per stap heeft opgeslagen, is bewaard. Sluit deze melding en verstuur wat u op deze pagina "
            "invulde: wij bewaren het in deze browser tot u terugkomt met een nieuwe link."),
        "keep_alive": "access.keep_alive", "restart": "access.session_expired",
        "restart_label": _("Vraag een nieuwe link aan"),
    }


# Requests that may pass an expired session: the page that says so, and the e-mail
# link with which the applicant comes back in.
_PAST_EXPIRY = {"static", "access.session_expired", "access.open_link", "access.verify_get", "access.verify_post",
                "person.open_link", "person.confirm_get", "person.confirm_post"}


def idle_lag(timeout: int) -> int:
    """Moving `seen` re-signs and resends the cookie: only once it is a minute old (a thirtieth of
    a shorter timeout), not on every request. So `seen` may be that much older than the last
    request, from which the page counts: the session lasts that much longer, so that it never
    ends before the page's countdown does. (The applicant's session and the staff session.)"""
    return min(60, timeout // 30)


def _idle_lag() -> int:
    return idle_lag(idle_timeout())


def idle_seconds_left() -> int:
    """How long this session lasts without another request (the idle warning asks, at the end
    of its countdown: another tab may have kept it alive, or the lag above still runs)."""
    return max(0, session.get(SESSION_SEEN, 0) + idle_timeout() + _idle_lag() - int(time.time()))


def has_session() -> bool:
    """Whether this browser is signed in: to a draft, or with a person link."""
    return SESSION_DRAFT in session or SESSION_PERSON in session


def check_idle():
    """End an applicant's session after the idle timeout and say so plainly.

    Registered before CSRF protection, so that a form posted after the timeout
    meets this page rather than a CSRF error.
    """
    if not has_session() or request.endpoint in (None, "static"):
        return None
    now = int(time.time())
    seen = session.get(SESSION_SEEN, 0)
    lag = _idle_lag()
    if now - seen <= idle_timeout() + lag:
        if now - seen >= lag and not request.headers.get(POLL_HEADER):
            session[SESSION_SEEN] = now
        return None
    if request.headers.get(POLL_HEADER) or request.endpoint == "access.keep_alive":
        # Asked by the page, not sent by the applicant (the idle warning, the status page's poll):
        # it has ended, but ending it is left to the applicant's next request, which then meets
        # the page that says so rather than a blank step 1.
        return navigate(url_for("access.session_expired"))
    if request.method == "POST" and SESSION_DRAFT in session:
        unsent.keep(drafts.by_key(get_db(), session[SESSION_DRAFT]))
    session.pop(SESSION_DRAFT, None)
    session.pop(SESSION_PERSON, None)
    session.pop(SESSION_SEEN, None)
    if request.endpoint in _PAST_EXPIRY:
        return None
    return navigate(url_for("access.session_expired"))


def per_locale(name: str, build):
    """What ``build()`` makes of translated texts (labels, titles), made once per language and
    process: a lazy string looks its language up again each time it is used."""
    cache = current_app.extensions.setdefault("aansluiten.per_locale", {})
    key = (name, language())
    if key not in cache:
        cache[key] = build()
    return cache[key]


def translated(name: str, texts: dict) -> dict:
    """``texts`` (lazy strings by key) translated, once per language and process."""
    return per_locale(name, lambda: {key: str(text) for key, text in texts.items()})


def page_title(title, number: int | None = None, error: bool = False) -> str:
    """"Fout: " when the page shows errors, the step, and the service: SPEC §2."""
    texts = _title_texts()
    title = str(title)
    parts = [f"{texts['error']}: {title}" if error else title]
    if number:
        parts.append(texts["steps"][number])
    if title != texts["service"]:
        parts.append(texts["service"])
    return " - ".join(parts)


def error_prefix() -> str:
    """What a title with errors begins with, before its ": " ("Fout")."""
    return _title_texts()["error"]


def _title_texts() -> dict:
    return per_locale("page_title", lambda: {
        "service": _("Aansluiten bij VECOZO"),
        "error": _("Fout"),
        "steps": {step: _("Stap %(number)s van %(count)s", number=step, count=STEP_COUNT)
                  for step in range(1, STEP_COUNT + 1)},
    })


def fixed_url(endpoint: str, **values) -> str:
    """``url_for`` for a URL that is the same on every request (a step, a page: never one
    made of what a visitor sent), built once per process and mount point."""
    key = (request.script_root, endpoint, *sorted(values.items()))
    cache = current_app.extensions.setdefault("aansluiten.urls", {})
    url = cache.get(key)
    if url is None:
        url = cache[key] = url_for(endpoint, **values)
    return url


def shows_page(path: str) -> bool:
    """Whether a GET of ``path`` (within the app, without its query) shows a page here: not a
    URL that only takes a form, redirects or does not exist."""
    try:
        current_app.url_map.bind_to_environ(request.environ).match(path, method="GET")
    except HTTPException:
        return False
    return True


def wants_fragment() -> bool:
    htmx = current_app.htmx
    return bool(htmx) and not htmx.history_restore_request


def fragment_block(template: str) -> str:
    """The block an htmx request asks for: the one named after its target when the
    template has it (``#agb-codes`` asks for ``{% block agb_codes %}``; a row's
    ``#row-01051234`` for ``{% block row %}``), else ``main``."""
    target = current_app.htmx.target or ""
    blocks = current_app.jinja_env.get_template(template).blocks
    for name in (target.replace("-", "_"), target.partition("-")[0]):
        if name and name != "main" and name in blocks:
            return name
    return "main"


@dataclass(frozen=True)
class Pager:
    """One page of a long list, chosen with ``?pagina=N`` (links work without JavaScript)."""

    page: int
    size: int
    total: int

    @classmethod
    def from_request(cls, total: int, size: int = 50) -> "Pager":
        """The page asked for, or the nearest one that exists."""
        asked = request.args.get("pagina", type=int) or 1
        return cls(page=min(max(asked, 1), cls(1, size, total).pages), size=size, total=total)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    @property
    def last_shown(self) -> int:
        return min(self.offset + self.size, self.total)


# What an action without JavaScript did, for the next page to say (Flask's flash, one category);
# and what the next page must say above its form (a NOTICE), with or without JavaScript.
DONE = "done"
NOTICE = "notice"
STATUS_REGION = Markup('<div id="status" hx-swap-oob="innerHTML">{}</div>')
ANNOUNCE_EVENT = "aansluiten:announce"
# A part of the page swapped alone says whether the page now shows an error: its <title> stays the
# page's, and app.js puts "Fout: " before it or takes it away (SPEC §2), as a whole page's title would.
ERROR_EVENT = "aansluiten:error"


def render_page(template: str, *, title, status: int = 200, number: int | None = None, error: bool = False,
                whole: bool = False, **context):
    """The whole page on a plain request; for htmx the ``main`` block, after a ``<title>``
    that htmx moves into the document head, and the live region's new text: what
    ``advance()`` announces, else nothing, so that no earlier "saved" outlives an error.
    ``whole``: the ``main`` block even when a part of the page was asked for (an answer
    about the page as a whole, such as an error summary), and htmx is told to put it there."""
    context.update(page_title=page_title(title, number, error), heading=title, number=number)
    if g.get("unsent_restored") and not context.get("notice"):
        context["notice"] = str(unsent.RESTORED)
    if (noticed := get_flashed_messages(category_filter=[NOTICE])) and not context.get("notice"):
        context["notice"] = noticed[-1]
    if wants_fragment() and not whole and (block := fragment_block(template)) != "main":
        # A part of the page alone (a table row among them: nothing may stand beside it), so
        # what it announces, and whether it shows an error, travel in events for app.js.
        announce = g.pop("announce", None) if status < 300 else None
        events = {ERROR_EVENT: {"prefix": error_prefix(), "shown": error}}
        if announce:
            events[ANNOUNCE_EVENT] = str(announce)
        # ``part``: the block rendered alone, for what it sends beside itself (hx-swap-oob).
        return htmx_response(Markup(render_block(template, block, part=block, **context)), status,
                             trigger_after_settle=events)
    if wants_fragment():
        body = (
            Markup("<title>{}</title>").format(context["page_title"])
            + Markup(render_block(template, "main", **context))
            + STATUS_REGION.format(g.pop("announce", "") if status < 300 else "")
        )
        return into_main(htmx_response(body, status))
    if done := get_flashed_messages(category_filter=[DONE]):
        context["done"] = done[-1]
    return render_template(template, **context), status


def advance(url: str, announce: str | None = None, *, shown: bool = True):
    """After a successful POST (or a GET that is an action: ``Step.redirect``): 303 to ``url``, or
    for htmx that page's fragment, pushed.

    ``announce`` is said by screen readers through the page's live region (htmx), or without
    JavaScript shown at the top of the page ``url`` (``DONE``), which otherwise would not say
    that a row was saved or an administrator removed. Not ``shown`` when the new page is
    announcement enough (the next step). The next page's view is called directly, so ``url``
    must be a page whose view needs no blueprint hook.
    """
    if not wants_fragment():
        if announce and shown:
            flash(str(announce), DONE)
        return redirect(url, 303)
    adapter = current_app.url_map.bind_to_environ(request.environ)
    endpoint, values = adapter.match(url.partition("?")[0], method="GET")
    if announce:
        g.announce = announce
    response = current_app.make_response(current_app.view_functions[endpoint](**values))
    if response.status_code < 300:
        # The page it stays on (step 6's bulk fill, step 7's removal of an administrator) replaces its
        # history entry: Back goes to the page before, not to the same page again.
        same = urlsplit(current_app.htmx.current_url or "")
        staying = url == (f"{same.path}?{same.query}" if same.query else same.path)
        response.headers["HX-Replace-Url" if staying else "HX-Push-Url"] = url
    return response


def into_main(response):
    """A ``main`` block sent in answer to a request for a part of a page (a row, a list: sent
    on to another step by the gate, or an error about the whole page) goes where ``main``
    goes, not into the part."""
    if (current_app.htmx.target or "main") != "main":
        response.headers["HX-Retarget"] = "#main"
        response.headers["HX-Reswap"] = "innerHTML"
    return response


def navigate(url: str):
    """Leave the current page entirely: a redirect, or for htmx a full page load."""
    if current_app.htmx:
        return htmx_response("", 200, redirect=url)
    return redirect(url, 303)


def base_url() -> str:
    return (current_app.config.get("BASE_URL") or request.host_url).rstrip("/")


def external_url(endpoint: str, **values) -> str:
    return base_url() + url_for(endpoint, **values)


def client_id() -> str:
    return request.remote_addr or "unknown"
