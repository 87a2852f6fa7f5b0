"""The identity and signing providers of step 10, behind their interfaces.

Only the simulated ones exist so far (demo mode and tests, ``AANSLUITEN_SIMULATED_PROVIDERS``,
on in demo mode): a real iDIN broker (OpenID Connect) and CM Sign plug in here later.
Without a provider, step 10 offers the visit only.
"""

from flask import current_app, url_for

from onboarding import identity, signing

from .pages import external_url, get_db


class ProviderUnavailable(Exception):
    """No identity or signing provider is configured."""


def available() -> bool:
    return bool(current_app.config["SIMULATED_PROVIDERS"])


def identity_provider() -> identity.IdentityProvider:
    if not available():
        raise ProviderUnavailable()
    return identity.SimulatedIdin(get_db(), url_for("simulators.idin_authorize"))


def idin_redirect_uri() -> str:
    """Where the bank sends the browser back (registered with the broker)."""
    return external_url("person.idin_return")


def signing_secret() -> str:
    """The shared secret of the signing callbacks: ``AANSLUITEN_SIGNING_SECRET``, else (for
    the simulated provider only, which runs here) one derived from the secret key."""
    configured = current_app.config.get("SIGNING_SECRET")
    if configured:
        return configured
    if not available():
        raise ProviderUnavailable()  # a real provider needs its own secret
    cache = current_app.extensions
    if "aansluiten.signing_secret" not in cache:
        cache["aansluiten.signing_secret"] = signing.derive_secret(current_app.config["SECRET_KEY"])
    return cache["aansluiten.signing_secret"]


def signing_provider() -> signing.SigningProvider:
    if not available():
        raise ProviderUnavailable()
    from .callbacks import receive  # the simulated provider calls back in-process

    page = url_for("simulators.signer_page", dossier_id="DOSSIER").replace("DOSSIER", "{dossier_id}")
    return signing.SimulatedSigning(get_db(), page, deliver=lambda body, headers: receive(body, headers),
                                    secret=signing_secret())
