"""One module per step; importing them registers each ``Step`` with the wizard."""

from . import check, company, contacts, email, ict, main_contact, services, signatory  # noqa: F401
