"""One module per step; importing them registers each ``Step`` with the wizard."""

from . import check, company, contacts, email, ict, identify, main_contact, services, signatory, summary  # noqa: F401
