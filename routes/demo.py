"""Demo tools, only in demo mode: the outbox as a mailbox."""

from datetime import datetime

from flask import Blueprint, abort, current_app
from flask_babel import format_datetime

from onboarding import mail

from .i18n import gettext as _
from .mailer import seal
from .pages import get_db, render_page

bp = Blueprint("demo", __name__, url_prefix="/demo")


@bp.before_request
def demo_only():
    if not current_app.config["DEMO"]:
        abort(404)


@bp.get("/mailbox")
def mailbox():
    messages = [
        {"message": row, "links": mail.links(row, seal()), "text": mail.bodies(row, seal())[0],
         "created": format_datetime(datetime.fromisoformat(row["created_at"]), "medium")}
        for row in mail.recent(get_db())
    ]
    return render_page("demo/mailbox.html", title=_("Demo-mailbox"), messages=messages)
