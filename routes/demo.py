"""Demo tools, only in demo mode: the outbox as a mailbox."""

import re

from flask import Blueprint, abort, current_app
from flask_babel import gettext as _

from onboarding import mail

from .pages import get_db, render_page

bp = Blueprint("demo", __name__, url_prefix="/demo")

_LINK = re.compile(r"https?://\S+")


@bp.before_request
def demo_only():
    if not current_app.config["DEMO"]:
        abort(404)


@bp.get("/mailbox")
def mailbox():
    messages = [
        {"message": row, "links": _LINK.findall(row["body_text"])}
        for row in mail.recent(get_db())
    ]
    return render_page("demo/mailbox.html", title=_("Demo-mailbox"), messages=messages)
