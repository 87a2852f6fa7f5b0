"""Step 10's visit: an AMP Groep employee identifies both persons at the company's address.

A slot takes as many visits at once as there are employees visiting (``per_slot``, the app's
``VISITS_PER_SLOT``), whichever applications book them. The count is read and the visit written
under the writer lock, so two applicants posting the last place at once get it once. Slots are
naive datetimes on the Dutch wall clock (Europe/Amsterdam).
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from . import drafts, workdays
from .store import timestamp, utcnow, write

SLOT_HOURS = range(9, 17)
VISIT = timedelta(hours=1)
# The window: from the second working day after today (time to plan the visit) to three weeks ahead.
FIRST_WORKING_DAY = 2
LAST_DAY = timedelta(days=21)

ZONE = "Europe/Amsterdam"
_SLOT_FORMAT = "%Y-%m-%dT%H:%M"
# The one spelling the forms send (slot_value); a space for the "T" is not it.
_SLOT_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::00)?")


@dataclass(frozen=True)
class Address:
    street: str
    house_number: str
    postcode: str  # normalised "1234AB" (the caller validated it)
    city: str


@dataclass(frozen=True)
class Appointment:
    id: int
    draft_id: int
    slot: datetime  # naive local
    address: Address
    outcome: str | None
    # Its calendar event: the first visit of the booking series it changed (the UID), and
    # how many changes came before it in that series (the SEQUENCE).
    series: int
    sequence: int


class SlotUnavailable(Exception):
    """The slot is not offered (outside the window, not a working day, not on the hour), was
    just taken, the application is no longer waiting for a visit ("closed"), or the visit was
    changed since the page that asked was shown ("changed")."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # "taken", "not_offered", "closed" or "changed"


def _check_based_on(before: Appointment | None, based_on: int | None) -> None:
    """``based_on``: the id of the visit the page showed, 0 for none (None: not checked). Another
    window, or the other person, may have booked, moved or cancelled it since (SPEC §2, two tabs)."""
    if based_on is not None and based_on != (before.id if before is not None else 0):
        raise SlotUnavailable("changed")


def local_now() -> datetime:
    """Now on the Dutch wall clock, naive like a slot."""
    return utcnow().astimezone(ZoneInfo(ZONE)).replace(tzinfo=None)


def upcoming(appointment: Appointment, now: datetime) -> bool:
    """Still to come: no outcome recorded and not begun. Only such a visit can be called off."""
    return appointment.outcome is None and appointment.slot > now


def parse_slot(text) -> datetime | None:
    """A slot as a form sends it, 'YYYY-MM-DDTHH:MM' (':00' seconds allowed); None for anything else."""
    if not isinstance(text, str) or not _SLOT_TEXT.fullmatch(text):
        return None
    try:
        return datetime.strptime(text[:16], _SLOT_FORMAT)
    except ValueError:  # 2026-13-01, 25:00 and the like
        return None


def slot_value(slot: datetime) -> str:
    return slot.strftime(_SLOT_FORMAT)


def window(today: date) -> tuple[date, date]:
    """The first and the last day a visit is offered."""
    return workdays.add_working_days(today, FIRST_WORKING_DAY), today + LAST_DAY


def is_offered(slot: datetime, today: date) -> bool:
    first, last = window(today)
    return (
        slot.tzinfo is None
        and first <= slot.date() <= last
        and workdays.is_working_day(slot.date())
        and slot.hour in SLOT_HOURS
        and slot.time() == time(slot.hour)
    )


def _offered(today: date) -> list[datetime]:
    first, last = window(today)
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return [datetime.combine(day, time(hour)) for day in days if workdays.is_working_day(day) for hour in SLOT_HOURS]


def open_slots(db, today: date, keep: datetime | None = None, *, per_slot: int) -> list[datetime]:
    """Every offered slot with a place left (``per_slot`` visits each), in order; ``keep`` (the
    applicant's own slot when changing) stays listed while it is offered."""
    first, last = window(today)
    # One statement outside a transaction reads one snapshot; a slot taken after it is
    # refused by book().
    taken = {row[0] for row in db.conn.execute(
        "SELECT slot FROM appointments WHERE cancelled_at IS NULL AND slot >= ? AND slot < ? "
        "GROUP BY slot HAVING count(*) >= ?",
        (first.isoformat(), (last + timedelta(days=1)).isoformat(), per_slot),
    )}
    if keep is not None:
        taken.discard(slot_value(keep))
    return [slot for slot in _offered(today) if slot_value(slot) not in taken]


def _appointment(row) -> Appointment:
    return Appointment(
        id=row["id"],
        draft_id=row["draft_id"],
        slot=datetime.strptime(row["slot"], _SLOT_FORMAT),
        address=Address(row["street"], row["house_number"], row["postcode"], row["city"]),
        outcome=row["outcome"],
        series=row["series"],
        sequence=row["sequence"],
    )


def current(db, draft_id: int) -> Appointment | None:
    row = db.conn.execute(
        "SELECT * FROM appointments WHERE draft_id = ? AND cancelled_at IS NULL", (draft_id,)
    ).fetchone()
    return _appointment(row) if row else None


def missed(db, draft_id: int) -> Appointment | None:
    """The last visit, when nobody was there (staff recorded "no_show") and none is booked since."""
    row = db.conn.execute(
        "SELECT * FROM appointments WHERE draft_id = ? ORDER BY id DESC LIMIT 1", (draft_id,)
    ).fetchone()
    return _appointment(row) if row and row["outcome"] == "no_show" else None


def book(db, draft_id: int, slot: datetime, address: Address, today: date,
         actor: str = drafts.APPLICANT, based_on: int | None = None, *, per_slot: int) -> Appointment:
    """Book the visit, or move the draft's current one to ``slot`` (not one with an outcome),
    when it is still the one the page showed (``based_on``, see ``_check_based_on``) and the slot
    holds fewer than ``per_slot`` visits of other applications.

    Posting the current slot and address again changes nothing (and is accepted even
    when that slot has since left the window, or from a page of the visit it replaced: a
    second click). A refused or lost slot leaves the old appointment as it was: the cancel
    and the insert are one transaction. A change continues the old visit's series (the same
    calendar event, one sequence higher).
    """
    with write(db):
        status = db.conn.execute("SELECT status FROM drafts WHERE id = ?", (draft_id,)).fetchone()
        if status is None or status["status"] != "submitted":
            raise SlotUnavailable("closed")  # reopened or completed meanwhile
        before = current(db, draft_id)
        if before is not None and before.slot == slot and before.address == address:
            return before
        if before is not None and before.outcome is not None:
            raise SlotUnavailable("closed")  # the visit took place: what it established stays
        _check_based_on(before, based_on)
        if not is_offered(slot, today):
            raise SlotUnavailable("not_offered")
        held = db.conn.execute(
            "SELECT count(*) FROM appointments WHERE slot = ? AND cancelled_at IS NULL AND draft_id != ?",
            (slot_value(slot), draft_id),
        ).fetchone()[0]
        if held >= per_slot:
            raise SlotUnavailable("taken")
        now = timestamp()
        if before is not None:
            db.conn.execute("UPDATE appointments SET cancelled_at = ? WHERE id = ?", (now, before.id))
        sequence = before.sequence + 1 if before is not None else 0
        cursor = db.conn.execute(
            "INSERT INTO appointments (draft_id, slot, street, house_number, postcode, city, created_at,"
            " series, sequence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (draft_id, slot_value(slot), address.street, address.house_number, address.postcode,
             address.city, now, before.series if before is not None else None, sequence),
        )
        series = before.series if before is not None else cursor.lastrowid
        if before is None:
            db.conn.execute("UPDATE appointments SET series = id WHERE id = ?", (series,))
        verb = "changed to" if before is not None else "booked for"
        drafts.audit(db, draft_id, 10, f"visit {verb} {slot_value(slot)}", actor)
    return Appointment(cursor.lastrowid, draft_id, slot, address, None, series, sequence)


def cancel(db, draft_id: int, actor: str = drafts.APPLICANT, based_on: int | None = None) -> bool:
    """Cancel the draft's current visit, when it is still the one the page showed (``based_on``);
    False when it had none (a second click), or none without an outcome (a visit that took place
    is not undone: its outcome stays the application's)."""
    with write(db):
        before = current(db, draft_id)
        if before is not None and before.outcome is None:  # one that took place is not called off anyway
            _check_based_on(before, based_on)
        cursor = db.conn.execute(
            "UPDATE appointments SET cancelled_at = ? WHERE draft_id = ? AND cancelled_at IS NULL AND outcome IS NULL",
            (timestamp(), draft_id),
        )
        if cursor.rowcount:
            drafts.audit(db, draft_id, 10, "visit cancelled", actor)
    return cursor.rowcount > 0


def ics(appointment: Appointment, *, reference: str, summary: str, description: str, location: str,
        organizer_email: str, cancelled: bool = False) -> bytes:
    """The visit as an iCalendar file. A change keeps its series' UID with a higher SEQUENCE,
    and so does the cancellation of ``appointment`` (RFC 5546): a calendar replaces or
    removes the event it has, rather than keeping it beside a new one."""
    start = appointment.slot.replace(tzinfo=ZoneInfo(ZONE))
    from icalendar import Calendar, Event  # loaded when the first visit is mailed (about 9 MB)

    event = Event.new(
        uid=f"visit-{appointment.series}-{reference}@aansluiten",
        stamp=utcnow(),
        start=start,
        end=start + VISIT,
        summary=summary,
        description=description,
        location=location,
        organizer=f"mailto:{organizer_email}",
        sequence=appointment.sequence + 1 if cancelled else appointment.sequence,
        status="CANCELLED" if cancelled else "CONFIRMED",
    )
    calendar = Calendar.new(
        prodid="-//VECOZO//Aansluiten//NL",
        method="CANCEL" if cancelled else "PUBLISH",
        subcomponents=[event],
    )
    # Calendar.new gives the file a random UID of its own; the event's UID is the one that counts.
    calendar.uid = None
    # Only the zone's rules around the visit, not decades of them.
    calendar.add_missing_timezones(first_date=start.date() - timedelta(days=366),
                                   last_date=start.date() + timedelta(days=366))
    return calendar.to_ical()
