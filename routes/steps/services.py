"""Step 8: the VECOZO services open to this applicant, and per service the codes that give access.

With many codes a zorgsoort opens several services: its line ("Huisartsen (01): 12 codes") is
made once here and listed under each, rather than worked out again in the template every time.
"""

from dataclasses import dataclass

from flask import current_app


from onboarding import drafts, services
from onboarding.registry import zorgsoort_name

from .. import forms
from ..i18n import language, ngettext
from ..i18n import lazy_gettext as _l
from ..pages import get_db
from ..wizard import FormRejected, Step, step, step_url


@dataclass(frozen=True)
class GroupLine:
    """A zorgsoort among the codes giving access: its name, its number, and its codes (or how many)."""

    name: str
    zorgsoort: str
    codes: str


@dataclass(frozen=True)
class ShownService:
    id: str
    name: str
    description: str
    access: str  # with how many codes
    lines: tuple[GroupLine, ...]  # none when every code gives access


def shown_services(groups: list[services.CodeGroup]) -> list[ShownService]:
    lang = language()
    zorgsoorten = current_app.extensions["aansluiten.zorgsoorten"]
    total = sum(group.count for group in groups)
    counted = {}  # "12 codes", translated once per number: many zorgsoorten share one

    def how_many(count: int) -> str:
        if count not in counted:
            counted[count] = ngettext("%(num)s code", "%(num)s codes", count)
        return counted[count]

    lines = {
        group.zorgsoort: GroupLine(
            name=zorgsoort_name(zorgsoorten, group.zorgsoort),
            zorgsoort=group.zorgsoort,
            codes=", ".join(group.codes) if group.codes else how_many(group.count),
        )
        for group in groups
    }
    shown = []
    for open in services.open_services(current_app.extensions["aansluiten.services"], groups):
        every_code = open.code_count == total
        shown.append(ShownService(
            id=open.service.id,
            name=open.service.name[lang],
            description=open.service.description[lang],
            access=(ngettext("Toegang met uw AGB-code.", "Toegang met al uw %(num)s AGB-codes.", total) if every_code
                    else ngettext("Toegang met %(num)s van uw AGB-codes:", "Toegang met %(num)s van uw AGB-codes:",
                                  open.code_count)),
            lines=() if every_code else tuple(lines[group.zorgsoort] for group in open.groups),
        ))
    return shown


NO_SERVICE = _l("Schrijf welke diensten u verwacht: voor de zorgsoorten van uw AGB-codes vinden wij er geen")


def _none_open(draft) -> bool:
    """No service of the catalogue is open to the draft's zorgsoorten: the remark must say which are expected."""
    groups = services.code_groups(get_db(), draft.id)
    return not services.open_services(current_app.extensions["aansluiten.services"], groups)


@step
class ServicesStep(Step):
    number = 8
    template = "steps/services.html"
    form_class = forms.ServicesForm

    def load(self, draft):
        return {"services_ok": bool(draft.services_ok_at), "services_remark": draft.services_remark or ""}

    def context(self, draft):
        return {"services": shown_services(services.code_groups(get_db(), draft.id))}

    def save(self, draft, form):
        if not form.services_remark.data and _none_open(draft):
            # "Correct and complete" cannot be all there is to say about an agreement without a service.
            raise FormRejected(NO_SERVICE, field="services_remark")
        drafts.confirm_services(get_db(), draft, form.based_on(), form.services_remark.data)
        return step_url(9)
