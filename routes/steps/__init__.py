"""One module per step; importing them registers each ``Step`` with the wizard."""

from . import (  # noqa: F401
    check, company, contacts, contacts_upload, email, ict, identify, main_contact, services, signatory, summary)
