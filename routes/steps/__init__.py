"""One module per step; importing them registers each ``Step`` with the wizard."""

from . import check, company, email  # noqa: F401
