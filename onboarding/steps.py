"""The ten steps of the application and the gate between them."""

from collections.abc import Callable

from .drafts import Draft

STEP_COUNT = 10

# Whether a step is finished, judged from the draft alone (``drafts.by_key`` reads what
# steps 4-6 hold with it).
_DONE: dict[int, Callable[[Draft], bool]] = {
    1: lambda draft: bool(draft.email_verified_at),
    2: lambda draft: bool(draft.kvk_number and draft.company_json),
    3: lambda draft: draft.data_correct == "yes",
    4: lambda draft: bool(draft.has_signatory),
    5: lambda draft: bool(draft.has_main_contact),
    6: lambda draft: bool(draft.contacts_done_at) and not draft.code_without_contact,
    7: lambda draft: bool(draft.ict_done_at),
    8: lambda draft: bool(draft.services_ok_at),
    9: lambda draft: draft.status in ("submitted", "completed"),
    10: lambda draft: draft.status == "completed",
}


def is_frozen(draft: Draft | None) -> bool:
    """Submitted (or completed): the answers of steps 1-9 no longer change."""
    return draft is not None and draft.status != "draft"


def is_done(draft: Draft | None, number: int) -> bool:
    if draft is None:
        return False
    done = _DONE.get(number)
    return bool(done and done(draft))


def first_unfinished(draft: Draft | None) -> int:
    for number in range(1, STEP_COUNT + 1):
        if not is_done(draft, number):
            return number
    return STEP_COUNT


def may_visit(draft: Draft | None, number: int) -> bool:
    """A step may be shown once every step before it is finished."""
    return number <= first_unfinished(draft)
