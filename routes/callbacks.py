"""``POST /callbacks/signing``: the signing provider reports a dossier's state
(Standard Webhooks). Anything not verified changes nothing and is answered 4xx."""

import logging

from flask import Blueprint, request

from onboarding import signing

from . import providers
from .notify import after_change
from .pages import get_db
from .providers import signing_provider, signing_secret

bp = Blueprint("callbacks", __name__, url_prefix="/callbacks")
log = logging.getLogger(__name__)

_STATUS = {"signature": 401, "timestamp": 400, "headers": 400, "payload": 422, "dossier": 404}


def receive(body: bytes, headers) -> tuple[str, int]:
    """Verify and apply one callback; the route and the in-process simulated provider share it."""
    db = get_db()
    try:
        callback = signing.verify_callback(db, signing_secret(), body, headers)
        # Applied again when repeated: states only move forward, so a repeat changes nothing,
        # and a retry after a failed first attempt still takes effect.
        changed = signing.apply_callback(db, callback, signing_provider())
    except providers.ProviderUnavailable:
        log.warning("signing callback while no signing provider is configured")
        return "no signing provider", 503
    except signing.DocumentUnavailable:
        log.warning("signed document of dossier %s not available: the provider is asked to retry",
                    callback.dossier_id)
        return "signed document not available, retry later", 503
    except signing.CallbackRejected as rejected:
        log.warning("signing callback rejected (%s) from %s", rejected.reason, request.remote_addr)
        return rejected.reason, _STATUS.get(rejected.reason, 400)
    if changed is not None:
        after_change(changed)
    return "", 204


@bp.post("/signing")
def signing_callback():
    return receive(request.get_data(cache=False), request.headers)
