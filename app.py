"""Aansluiten: apply for a VECOZO connection agreement.

``create_app()`` builds the application: configuration, extensions, blueprints,
security headers and CLI commands. Everything else lives in ``routes/`` (HTTP)
and ``onboarding/`` (the domain).
"""

import io
import os
import secrets
from datetime import datetime
from urllib.parse import urlsplit

import click
from flask import Flask, current_app, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import format_date, format_datetime
from flask_htmx import HTMX
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import RoutingException

from onboarding import mail, retention, services, staff, store, validators
from onboarding.registry import RegistryFile, load_names
from routes.forms import described_by, shown_value
from routes.i18n import RequestBabel, forget_translations, language
from routes.i18n import gettext as _
from routes.templating import EscapingTemplate, TemplateMacros

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")

CSP = "; ".join([
    "default-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
])

csrf = CSRFProtect()


class SessionInterface(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the request came in over HTTPS."""

    def get_cookie_secure(self, app):
        return request.is_secure or super().get_cookie_secure(app)


class ChunkedBodyLimit:
    """Give a body sent without a Content-Length (``Transfer-Encoding: chunked``) one.

    Flask refuses an oversized body by its Content-Length; a chunked body has none,
    and Werkzeug's form parser would read it whole. This reads at most one byte more
    than the limit: a body within it is handed on with its length, a larger one is
    handed on as "one byte too many", so that the usual 413 answers it.
    """

    def __init__(self, wsgi_app, app: Flask):
        self.wsgi_app = wsgi_app
        self.app = app

    def __call__(self, environ, start_response):
        # HTTP: a Transfer-Encoding overrides any Content-Length sent beside it.
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            limit = body_limit(self.app, _endpoint(self.app, environ))
            body = environ["wsgi.input"].read(limit + 1)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            environ.pop("HTTP_TRANSFER_ENCODING")
        return self.wsgi_app(environ, start_response)


def body_limit(app: Flask, endpoint: str | None) -> int:
    """MAX_CONTENT_LENGTH, or UPLOAD_MAX_BYTES for a view marked ``large_body`` (step 6's upload)."""
    large = getattr(app.view_functions.get(endpoint), "large_body", False)
    return int(app.config["UPLOAD_MAX_BYTES" if large else "MAX_CONTENT_LENGTH"])


def _endpoint(app: Flask, environ) -> str | None:
    try:
        return app.url_map.bind_to_environ(environ).match(method=environ.get("REQUEST_METHOD"))[0]
    except (HTTPException, RoutingException):
        return None


def allow_large_body():
    """Before the CSRF check reads the form: a view marked ``large_body`` takes a body, and a
    multipart part, of UPLOAD_MAX_BYTES (Werkzeug holds a whole 64 KB read beside what it buffers,
    so a part limit of 64 KB would refuse any larger file)."""
    if getattr(current_app.view_functions.get(request.endpoint), "large_body", False):
        request.max_content_length = request.max_form_memory_size = current_app.config["UPLOAD_MAX_BYTES"]


def _secret_key(path: str) -> str:
    """The key stored in ``path``, made on first start."""
    try:
        with open(path, encoding="ascii") as handle:
            return handle.read().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Another worker made it first: use theirs.
        return _secret_key(path)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key)
    return key


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, template_folder="partials", static_folder="static")
    app.config.from_mapping(
        DATABASE=os.path.join(DATA, "aansluiten.db"),
        # Seconds a write waits for a store another process holds, before a save answers 503
        # with what was typed (store.WRITE_TIMEOUT says why 5).
        WRITE_TIMEOUT=store.WRITE_TIMEOUT,
        REGISTRY=os.path.join(DATA, "registry.json"),
        SERVICES=os.path.join(DATA, "services.json"),
        ZORGSOORTEN=os.path.join(DATA, "zorgsoorten.json"),
        SMTP_HOST=None,
        SMTP_PORT=25,
        MAIL_FROM="VECOZO Aansluiten <noreply@aansluiten.example>",
        BASE_URL=None,
        DEMO=False,
        PROXIES=0,
        IDLE_TIMEOUT=30 * 60,
        # Step 10's visits: how many AMP Groep employees visit at one time, so how many applications
        # one slot takes.
        VISITS_PER_SLOT=4,
        # The simulated iDIN bank and signing provider (and their pages); on in demo mode.
        SIMULATED_PROVIDERS=None,
        # The shared secret of the signing callbacks (Standard Webhooks, "whsec_..."); derived
        # from SECRET_KEY when unset, which serves the simulated provider.
        SIGNING_SECRET=None,
        # The back office's own session: at most 8 hours, ended after 30 minutes without a request.
        STAFF_MAX_AGE=8 * 3600,
        STAFF_IDLE_TIMEOUT=30 * 60,
        SECRET_KEY=None,
        # Flask-WTF's token otherwise expires after an hour; the session's own timeout rules.
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=64 * 1024,
        # Step 6's spreadsheet upload alone takes a larger body (its view is marked large_body).
        UPLOAD_MAX_BYTES=4 * 1024 * 1024,
        MAX_FORM_MEMORY_SIZE=64 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="aansluiten",
        BABEL_DEFAULT_LOCALE="nl",
        BABEL_DEFAULT_TIMEZONE="Europe/Amsterdam",
        # flask purge: drafts nobody touched for this many days go, with their personal data;
        RETENTION_DRAFT_DAYS=30,
        # completed applications are kept ten years (the agreement is a contract);
        RETENTION_COMPLETED_DAYS=3650,
        # sent mails keep who got what when, their bodies only this long.
        RETENTION_MAIL_DAYS=7,
        # The service desk in every page's footer (and the accessibility statement): phone number,
        # opening hours on working days, postal address. Examples in VECOZO's style: set the real
        # ones with AANSLUITEN_HELP_PHONE, AANSLUITEN_HELP_HOURS and AANSLUITEN_HELP_ADDRESS.
        HELP_PHONE="088 - 123 4567",
        HELP_HOURS="08:30-17:00",
        HELP_ADDRESS="VECOZO, Postbus 1234, 3700 AA Zeist",
    )
    app.config.from_prefixed_env("AANSLUITEN")
    if test_config:
        app.config.from_mapping(test_config)
    app.config["WRITE_TIMEOUT"] = float(app.config["WRITE_TIMEOUT"])  # a bad value stops the start, not a write
    app.config["VISITS_PER_SLOT"] = int(app.config["VISITS_PER_SLOT"])
    if app.config["VISITS_PER_SLOT"] < 1:  # no visit could be booked: stop the start, as a bad value does
        raise ValueError("AANSLUITEN_VISITS_PER_SLOT must be 1 or more")
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _secret_key(os.path.join(DATA, ".secret_key"))
    base_url = str(app.config.get("BASE_URL") or "")
    app.config["SESSION_COOKIE_SECURE"] = base_url.startswith("https://")
    if base_url:
        # Links in e-mails carry tokens: no request may pose as another host.
        # (Flask defines TRUSTED_HOSTS as None: setdefault would do nothing.)
        if not app.config.get("TRUSTED_HOSTS"):
            app.config["TRUSTED_HOSTS"] = [urlsplit(base_url).hostname]
    elif not app.config["DEMO"]:
        raise RuntimeError(
            "AANSLUITEN_BASE_URL is not set. Outside demo mode it is required: it is the public address "
            "used in the links of e-mails (for example AANSLUITEN_BASE_URL=https://aansluiten.example), and "
            "only its host is served. For a demo on this machine, set AANSLUITEN_DEMO=true instead."
        )
    if app.config["SIMULATED_PROVIDERS"] is None:
        app.config["SIMULATED_PROVIDERS"] = bool(app.config["DEMO"])
    app.session_interface = SessionInterface()
    # Made here, once the configuration is read (its auto-reload), and before any template is loaded.
    app.jinja_env.template_class = EscapingTemplate
    app.wsgi_app = ChunkedBodyLimit(app.wsgi_app, app)
    if app.config["PROXIES"]:
        # Only behind proxies that set these headers: else any client could choose its own
        # address (rate limits) and host (the links in e-mails).
        hops = int(app.config["PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    app.extensions["aansluiten.registry"] = RegistryFile(app.config["REGISTRY"])
    app.extensions["aansluiten.seal"] = mail.Seal(app.config["SECRET_KEY"])
    app.extensions["aansluiten.seal.unsent"] = mail.Seal(app.config["SECRET_KEY"], purpose=b"aansluiten unsent form")
    app.extensions["aansluiten.zorgsoorten"] = load_names(app.config["ZORGSOORTEN"])
    app.extensions["aansluiten.services"] = services.load(app.config["SERVICES"])

    from routes import (  # noqa: F401 (steps registers them)
        access, backoffice, callbacks, demo, errors, notify, pages, person, simulators, start, statements, status,
        steps, wizard)

    # The language may differ from the last request on this thread: nothing outlives a request.
    app.before_request(forget_translations)
    app.teardown_request(forget_translations)
    # Before CSRF protection: a form posted after the idle timeout meets the expiry page.
    app.before_request(pages.check_idle)
    app.before_request(allow_large_body)
    csrf.init_app(app)
    HTMX(app)
    RequestBabel(app, locale_selector=pages.chosen_locale)
    app.teardown_appcontext(pages.release_db)

    app.url_map.converters["id"] = pages.RowIdConverter
    for blueprint in (start.bp, wizard.bp, access.bp, status.bp, person.bp, callbacks.bp, backoffice.bp, demo.bp,
                      simulators.bp, statements.bp):
        app.register_blueprint(blueprint)
    csrf.exempt(callbacks.bp)  # the provider authenticates its callbacks with a signature instead
    errors.register(app)
    app.after_request(security_headers)
    app.add_template_filter(validators.format_postcode, "postcode")
    app.add_template_global(validators.house_number_text, "house_number_text")
    app.add_template_filter(pages.shown_phone, "phone")
    app.add_template_filter(local_date, "local_date")
    app.add_template_filter(lambda stamp: format_datetime(datetime.fromisoformat(stamp), "short"), "local_time")
    app.add_template_filter(validators.format_date, "birth_date")
    app.add_template_filter(lambda day: format_date(day, "long"), "day")
    app.add_template_filter(notify.visit_time, "visit_time")
    # The form macros, in every template without an import: `{{ forms.text_field(form.email) }}`.
    app.jinja_env.globals["forms"] = TemplateMacros(app.jinja_env, "_forms.html")
    app.add_template_global(described_by)
    app.add_template_global(shown_value)
    # The tasks of a submitted application (step 10, the status page, a person's own page).
    app.jinja_env.globals["tasklist"] = TemplateMacros(app.jinja_env, "_tasks.html")
    # Step 6's rows, for its table and a row on its own.
    app.jinja_env.globals["contact_table"] = TemplateMacros(app.jinja_env, "steps/_contact_row.html")
    app.context_processor(lambda: {
        "demo": app.config["DEMO"],
        "locale": language(),
        "account": pages.header_draft(),
        "idle": pages.idle_texts(),
    })

    register_commands(app)
    return app


def local_date(stamp: str) -> str:
    """A stored UTC timestamp as a date in the Netherlands, in the page's language."""
    return format_date(datetime.fromisoformat(stamp), "long")


# Sent with every answer unless a view set its own; pages and fragments depend on the htmx
# headers, so caches must keep them apart.
SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
)
VARY = ("HX-Request", "HX-Target", "HX-History-Restore-Request",
        "X-Aansluiten-Unsaved-Rows")  # step 6's rows being typed in (routes/steps/contacts.py)


def security_headers(response):
    headers = response.headers
    present = {name.lower() for name, _value in headers.items()}
    if request.is_secure or str(current_app.config.get("BASE_URL") or "").startswith("https://"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    headers.extend([(name, value) for name, value in SECURITY_HEADERS if name.lower() not in present])
    if "vary" in present:
        response.vary.update(VARY)
    else:
        headers["Vary"] = ", ".join(VARY)
    if request.endpoint != "static":
        # Every page may show personal data or carry a form token.
        headers["Cache-Control"] = "no-store"
    return response


# The stylesheet and script that pages load, minified from the sources beside them (SPEC §8's page
# weight): `make assets` writes them, and tests/test_assets.py checks they are up to date.
ASSETS = {"app.min.js": "app.js", "app.min.css": "app.css"}


def minified_assets() -> dict[str, str]:
    """Each asset's minified text, by its file name in ``static/`` (rjsmin and rcssmin: test tools)."""
    import rcssmin
    import rjsmin

    minify = {".js": rjsmin.jsmin, ".css": rcssmin.cssmin}
    minified = {}
    for name, source in ASSETS.items():
        with open(os.path.join(HERE, "static", source), encoding="utf-8") as handle:
            minified[name] = minify[os.path.splitext(source)[1]](handle.read()) + "\n"
    return minified


def register_commands(app: Flask) -> None:
    def database():
        return store.connect(app.config["DATABASE"], app.config["WRITE_TIMEOUT"])

    def demo_staff(db):
        """Demo mode: the back office's demo user, its second factor enrolled (the start page shows its code)."""
        if app.config["DEMO"]:
            staff.ensure_demo_user(db, mail.Seal(app.config["SECRET_KEY"]))
            click.echo(f"Demo staff user: {staff.DEMO_USERNAME} / {staff.DEMO_PASSWORD} (code on the start page)")

    @app.cli.command("init-db")
    def init_db():
        """Create the database or bring its schema up to date."""
        with database() as db:
            store.migrate(db)
            demo_staff(db)
        click.echo(f"Database ready: {app.config['DATABASE']}")

    def staff_account(change, *args):
        with database() as db:
            store.migrate(db)
            try:
                return change(db, *args)
            except staff.AccountError as error:
                raise click.ClickException(str(error)) from None

    password_option = click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
                                   help="Asked for (hidden, twice) when left out.")

    @app.cli.command("create-user")
    @click.argument("username")
    @password_option
    def create_user(username, password):
        """Make a staff user for the back office."""
        staff_account(staff.create_user, username, password)
        click.echo(f"Staff user {username} created; they enrol their second factor at the first login "
                   "at /beheer/login.")

    @app.cli.command("disable-user")
    @click.argument("username")
    def disable_user(username):
        """Disable a staff user: they can no longer log in, and every session of theirs ends."""
        staff_account(staff.disable_user, username)
        click.echo(f"Staff user {username} disabled; every session of theirs has ended.")

    @app.cli.command("reset-password")
    @click.argument("username")
    @password_option
    def reset_password(username, password):
        """Give a staff user a new password; every session of theirs ends, the second factor stays."""
        staff_account(staff.reset_password, username, password)
        click.echo(f"Password of staff user {username} reset; every session of theirs has ended.")

    @app.cli.command("demo-reset")
    def demo_reset():
        """Demo mode only: remove every application, mail and token, and make the demo staff user."""
        if not app.config["DEMO"]:
            raise click.ClickException("demo-reset works in demo mode only (AANSLUITEN_DEMO=true).")
        with database() as db:
            store.reset(db)
            demo_staff(db)
        click.echo(f"Demo database emptied: {app.config['DATABASE']}")

    @app.cli.command("send-mail")
    def send_mail():
        """Deliver what waits in the outbox (run from cron when SMTP was down)."""
        from routes.mailer import smtp_settings

        with app.test_request_context(), database() as db:
            sent = mail.deliver_pending(db, smtp_settings(), limit=1000)
        click.echo(_("%(count)s e-mail(s) verstuurd", count=sent))

    @app.cli.command("purge")
    @click.option("--draft-days", type=click.IntRange(min=1), help="Instead of RETENTION_DRAFT_DAYS.")
    @click.option("--completed-days", type=click.IntRange(min=1), help="Instead of RETENTION_COMPLETED_DAYS.")
    @click.option("--mail-days", type=click.IntRange(min=1), help="Instead of RETENTION_MAIL_DAYS.")
    def purge(draft_days, completed_days, mail_days):
        """Delete what is kept no longer (run daily): old drafts, mail bodies, spent links."""
        days = {
            "draft_days": int(app.config["RETENTION_DRAFT_DAYS"] if draft_days is None else draft_days),
            "completed_days": int(app.config["RETENTION_COMPLETED_DAYS"] if completed_days is None
                                  else completed_days),
            "mail_days": int(app.config["RETENTION_MAIL_DAYS"] if mail_days is None else mail_days),
        }
        with database() as db:
            store.migrate(db)
            report = retention.purge(db, **days)
        click.echo(
            f"Removed: {report.drafts} drafts untouched for {days['draft_days']} days, "
            f"{report.completed} completed applications older than {days['completed_days']} days, "
            f"{report.mail_bodies} mail bodies older than {days['mail_days']} days, "
            f"{report.mails} mails tied to no application older than {days['draft_days']} days, "
            f"{report.tokens} used or expired links, {report.identity_requests} identity requests, "
            f"{report.rate_limits} rate-limit windows, {report.uploads} unconfirmed spreadsheet uploads.")

    @app.cli.command("backup")
    @click.argument("file", type=click.Path(dir_okay=False))
    def backup(file):
        """Copy the database to FILE: a consistent copy, also while the app serves."""
        with database() as db:
            store.migrate(db)
            try:
                retention.backup(db, file)
            except ValueError as error:
                raise click.ClickException(str(error)) from None
        click.echo(f"Backup written to {file} ({os.path.getsize(file)} bytes)")
