import dataclasses
import sqlite3
import threading
from datetime import date, datetime, timedelta, timezone

import pytest
from icalendar import Calendar

from onboarding import appointments, store
from onboarding.appointments import Address, SlotUnavailable

FRIDAY = date(2026, 12, 18)  # Christmas week follows
SLOT = datetime(2026, 12, 22, 9)
OTHER_SLOT = datetime(2026, 12, 23, 14)
ADDRESS = Address("Dorpsstraat", "12a", "1234AB", "Utrecht")


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "t.db")


@pytest.fixture
def db(path):
    database = store.connect(path)
    store.migrate(database)
    yield database
    database.close()


def new_draft(db, key="draft-1") -> int:
    now = store.timestamp()
    return db.conn.execute(
        "INSERT INTO drafts (key, email, created_at, updated_at, status) VALUES (?, ?, ?, ?, 'submitted')",
        (key, f"{key}@example.nl", now, now),
    ).lastrowid


def audit_actions(db, draft_id):
    return [row[0] for row in db.conn.execute(
        "SELECT action FROM audit_log WHERE draft_id = ? AND step = 10 ORDER BY id", (draft_id,))]


def rows(db):
    return [tuple(row) for row in db.conn.execute(
        "SELECT draft_id, slot, cancelled_at IS NULL FROM appointments ORDER BY id")]


# The window

def test_the_window_runs_from_the_second_working_day_to_three_weeks_ahead():
    assert appointments.window(FRIDAY) == (date(2026, 12, 22), date(2027, 1, 8))


def test_weekends_and_christmas_have_no_slots(db):
    days = {slot.date() for slot in appointments.open_slots(db, FRIDAY, per_slot=1)}
    assert days == {
        date(2026, 12, 22), date(2026, 12, 23), date(2026, 12, 24), date(2026, 12, 28), date(2026, 12, 29),
        date(2026, 12, 30), date(2026, 12, 31), date(2027, 1, 4), date(2027, 1, 5), date(2027, 1, 6),
        date(2027, 1, 7), date(2027, 1, 8),
    }


@pytest.mark.parametrize("holiday", [date(2026, 4, 27), date(2026, 5, 14)], ids=["koningsdag", "hemelvaart"])
def test_public_holidays_have_no_slots(db, holiday):
    today = holiday - timedelta(days=7)
    assert not appointments.is_offered(datetime(holiday.year, holiday.month, holiday.day, 10), today)
    assert holiday not in {slot.date() for slot in appointments.open_slots(db, today, per_slot=1)}
    assert holiday + timedelta(days=1) in {slot.date() for slot in appointments.open_slots(db, today, per_slot=1)}


def test_the_last_day_is_today_plus_21_and_the_day_after_is_not_offered():
    today = date(2026, 6, 3)  # a Wednesday: 21 days later is a Wednesday too
    assert appointments.is_offered(datetime(2026, 6, 24, 16), today)
    assert not appointments.is_offered(datetime(2026, 6, 25, 9), today)


def test_visits_start_on_the_hour_from_nine_to_four_so_each_ends_by_five(db):
    hours = [slot.hour for slot in appointments.open_slots(db, FRIDAY, per_slot=1) if slot.date() == SLOT.date()]
    assert hours == [9, 10, 11, 12, 13, 14, 15, 16]
    assert all(slot.minute == 0 for slot in appointments.open_slots(db, FRIDAY, per_slot=1))


@pytest.mark.parametrize("slot", [
    datetime(2026, 12, 22, 17),
    datetime(2026, 12, 22, 8),
    datetime(2026, 12, 22, 9, 30),
    datetime(2026, 12, 22, 9, 0, 30),
    datetime(2026, 12, 22, 9, tzinfo=timezone.utc),
    datetime(2026, 12, 18, 10),  # today
    datetime(2026, 12, 21, 10),  # the first working day after today
    datetime(2026, 12, 19, 10),  # a Saturday
    datetime(2026, 12, 25, 10),  # Christmas
    datetime(2027, 1, 11, 10),  # after the window
], ids=["17:00", "08:00", "09:30", "seconds", "aware", "today", "tomorrow-ish", "saturday", "christmas", "late"])
def test_a_slot_outside_the_rules_is_not_offered(slot):
    assert not appointments.is_offered(slot, FRIDAY)


# Slot values

@pytest.mark.parametrize("text", ["2026-12-22T09:00", "2026-12-22T09:00:00"])
def test_a_local_iso_slot_is_parsed(text):
    assert appointments.parse_slot(text) == SLOT


@pytest.mark.parametrize("text", [
    "", "morgen", "2026-13-01T09:00", "2026-02-30T09:00", "2026-12-22T25:00",
    "2026-12-22T09:00+01:00", "2026-12-22T09:00Z",
    "2026-12-22 09:00",  # not the spelling our forms send
    "2026-12-22T09:00:30", "2026-12-22T09:00:00.000", "2026-12-22", "2026-12-22T9:00", " 2026-12-22T09:00",
    "2026-12-22T09:00\n", "٢٠٢٦-١٢-٢٢T٠٩:٠٠", "2026-12-22T09:00" + "0" * 10_000, "x" * 100_000, None,
])
def test_anything_else_is_no_slot(text):
    assert appointments.parse_slot(text) is None


def test_a_slot_value_parses_back_to_the_slot():
    assert appointments.slot_value(SLOT) == "2026-12-22T09:00"
    assert appointments.parse_slot(appointments.slot_value(SLOT)) == SLOT


# Booking, changing, cancelling

def test_a_booked_visit_is_the_draft_s_current_one_and_its_slot_is_no_longer_offered(db):
    draft = new_draft(db)
    booked = appointments.book(db, draft, SLOT, ADDRESS, FRIDAY, per_slot=1)
    assert appointments.current(db, draft) == booked
    assert (booked.slot, booked.address, booked.outcome) == (SLOT, ADDRESS, None)
    assert SLOT not in appointments.open_slots(db, FRIDAY, per_slot=1)
    assert audit_actions(db, draft) == ["visit booked for 2026-12-22T09:00"]


def test_changing_the_visit_offers_the_old_slot_again(db):
    draft = new_draft(db)
    appointments.book(db, draft, SLOT, ADDRESS, FRIDAY, per_slot=1)
    changed = appointments.book(db, draft, OTHER_SLOT, ADDRESS, FRIDAY, per_slot=1)
    assert appointments.current(db, draft) == changed
    assert SLOT in appointments.open_slots(db, FRIDAY, per_slot=1)
    assert OTHER_SLOT not in appointments.open_slots(db, FRIDAY, per_slot=1)
    assert rows(db) == [
        (draft, "2026-12-22T09:00", 0), (draft, "2026-12-23T14:00", 1)]
    assert audit_actions(db, draft)[-1] == "visit changed to 2026-12-23T14:00"


def test_the_own_slot_stays_listed_while_changing(db):
    draft = new_draft(db)
    appointments.book(db, draft, SLOT, ADDRESS, FRIDAY, per_slot=1)
    assert (appointments.open_slots(db, FRIDAY, keep=SLOT, per_slot=1)
            == sorted(appointments.open_slots(db, FRIDAY, per_slot=1) + [SLOT]))


def test_booking_the_same_slot_again_keeps_the_visit(db):
    draft = new_draft(db)
    booked = appointments.book(db, draft, SLOT, ADDRESS, FRIDAY, per_slot=1)
    assert appointments.book(db, draft, SLOT, ADDRESS, FRIDAY, per_slot=1) == booked
    # Even on a later day, when the slot has left the window.
    assert appointments.book(db, draft, SLOT, ADDRESS, date(2026, 12, 21), per_slot=1) == booked
    assert len(rows(db)) == 1
    assert audit_actions(db, draft) == ["visit booked for 2026-12-22T09:00"]


def test_cancelling_offers_the_slot_again(db):
    draft = new_draft(db)
    appointments.book(db, draft, SLOT, ADDRESS, FRIDAY, per_slot=1)
    assert appointments.cancel(db, draft) is True
    assert appointments.current(db, draft) is None
    assert SLOT in appointments.open_slots(db, FRIDAY, per_slot=1)
    assert audit_actions(db, draft)[-1] == "visit cancelled"


def test_cancelling_without_a_visit_does_nothing(db):
    draft = new_draft(db)
    assert appointments.cancel(db, draft) is False
    assert audit_actions(db, draft) == []


def test_a_slot_taken_by_another_application_is_neither_offered_nor_accepted(db):
    first, second = new_draft(db, "a"), new_draft(db, "b")
    appointments.book(db, first, SLOT, ADDRESS, FRIDAY, per_slot=1)
    assert SLOT not in appointments.open_slots(db, FRIDAY, per_slot=1)
    with pytest.raises(SlotUnavailable) as refused:
        appointments.book(db, second, SLOT, ADDRESS, FRIDAY, per_slot=1)
    assert refused.value.reason == "taken"
    assert appointments.current(db, second) is None
    assert audit_actions(db, second) == []


def test_a_change_to_a_taken_slot_keeps_the_old_visit(db):
    first, second = new_draft(db, "a"), new_draft(db, "b")
    appointments.book(db, first, SLOT, ADDRESS, FRIDAY, per_slot=1)
    kept = appointments.book(db, second, OTHER_SLOT, ADDRESS, FRIDAY, per_slot=1)
    with pytest.raises(SlotUnavailable, match="taken"):
        appointments.book(db, second, SLOT, ADDRESS, FRIDAY, per_slot=1)
    assert appointments.current(db, second) == kept
    assert not db.conn.in_transaction


@pytest.mark.parametrize("slot", [datetime(2026, 12, 21, 10), datetime(2026, 12, 22, 17), datetime(2026, 12, 25, 10)])
def test_a_slot_not_offered_is_refused(db, slot):
    draft = new_draft(db)
    with pytest.raises(SlotUnavailable) as refused:
        appointments.book(db, draft, slot, ADDRESS, FRIDAY, per_slot=1)
    assert refused.value.reason == "not_offered"
    assert rows(db) == []


def test_two_applicants_posting_the_same_slot_at_once_get_it_once(db, path):
    drafts = [new_draft(db, "a"), new_draft(db, "b")]
    barrier = threading.Barrier(len(drafts))
    results = {}

    def post(draft_id):
        own = store.connect(path)
        try:
            barrier.wait(5)
            results[draft_id] = appointments.book(own, draft_id, SLOT, ADDRESS, FRIDAY, per_slot=1)
        except SlotUnavailable as error:
            results[draft_id] = error
        finally:
            own.close()

    threads = [threading.Thread(target=post, args=(draft_id,)) for draft_id in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)

    booked = [r for r in results.values() if isinstance(r, appointments.Appointment)]
    refused = [r for r in results.values() if isinstance(r, SlotUnavailable)]
    assert len(booked) == 1 and len(refused) == 1
    assert refused[0].reason == "taken"
    holders = db.conn.execute(
        "SELECT draft_id FROM appointments WHERE slot = ? AND cancelled_at IS NULL", ("2026-12-22T09:00",))
    assert [row["draft_id"] for row in holders] == [booked[0].draft_id]


def test_a_slot_takes_as_many_visits_as_there_are_visitors(db):
    """A slot is taken for all only once it holds ``per_slot`` visits, of any applications."""
    first, second, third = new_draft(db, "a"), new_draft(db, "b"), new_draft(db, "c")
    appointments.book(db, first, SLOT, ADDRESS, FRIDAY, per_slot=2)
    assert SLOT in appointments.open_slots(db, FRIDAY, per_slot=2)
    appointments.book(db, second, SLOT, ADDRESS, FRIDAY, per_slot=2)
    assert SLOT not in appointments.open_slots(db, FRIDAY, per_slot=2)
    assert SLOT in appointments.open_slots(db, FRIDAY, keep=SLOT, per_slot=2)  # a holder's own, when changing
    with pytest.raises(SlotUnavailable, match="taken"):
        appointments.book(db, third, SLOT, ADDRESS, FRIDAY, per_slot=2)
    # A holder changing only the address keeps the place it has.
    moved = appointments.book(db, second, SLOT, dataclasses.replace(ADDRESS, city="Zeist"), FRIDAY, per_slot=2)
    assert moved.address.city == "Zeist"
    appointments.cancel(db, first)
    appointments.book(db, third, SLOT, ADDRESS, FRIDAY, per_slot=2)


def test_the_database_refuses_a_second_current_visit_for_an_application(db):
    draft = new_draft(db)
    appointments.book(db, draft, SLOT, ADDRESS, FRIDAY, per_slot=1)
    with pytest.raises(sqlite3.IntegrityError):
        db.conn.execute(
            "INSERT INTO appointments (draft_id, slot, street, house_number, postcode, city, created_at)"
            " VALUES (?, ?, '', '', '', '', '')", (draft, "2026-12-23T09:00"))


# The calendar file

def visit_ics(db, **kwargs):
    booked = appointments.book(db, new_draft(db), SLOT, ADDRESS, FRIDAY, per_slot=1)
    data = appointments.ics(
        booked, reference="AAN-2026-0001", summary="Identificatiebezoek AMP Groep",
        description="Beide personen tonen een geldig identiteitsbewijs.",
        location="Dorpsstraat 12a, 1234AB Utrecht", organizer_email="aansluiten@example.nl", **kwargs)
    return booked, Calendar.from_ical(data)


def test_the_calendar_file_holds_the_visit_in_dutch_time(db):
    booked, calendar = visit_ics(db)
    [event] = calendar.walk("VEVENT")
    assert calendar["METHOD"] == "PUBLISH"
    assert str(calendar["VERSION"]) == "2.0" and calendar["PRODID"]
    assert str(event["UID"]) == f"visit-{booked.id}-AAN-2026-0001@aansluiten"
    assert event["DTSTART"].params["TZID"] == "Europe/Amsterdam"
    assert event["DTSTART"].dt.replace(tzinfo=None) == SLOT
    assert event["DTSTART"].dt.utcoffset() == timedelta(hours=1)
    assert event["DTEND"].dt - event["DTSTART"].dt == timedelta(hours=1)
    assert str(event["LOCATION"]) == "Dorpsstraat 12a, 1234AB Utrecht"
    assert "DTSTAMP" in event and event["SEQUENCE"] == 0
    assert [tz.tz_name for tz in calendar.timezones] == ["Europe/Amsterdam"]


def test_a_cancellation_file_cancels_the_same_event(db):
    booked, calendar = visit_ics(db, cancelled=True)
    [event] = calendar.walk("VEVENT")
    assert calendar["METHOD"] == "CANCEL"
    assert event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] == 1
    assert str(event["UID"]) == f"visit-{booked.id}-AAN-2026-0001@aansluiten"


def event_of(db, visit, **kwargs):
    data = appointments.ics(visit, reference="AAN-2026-0001", summary="s", description="d", location="l",
                            organizer_email="aansluiten@example.nl", **kwargs)
    [event] = Calendar.from_ical(data).walk("VEVENT")
    return str(event["UID"]), event["SEQUENCE"], str(event["STATUS"])


def test_changing_the_visit_updates_the_same_calendar_event(db):
    # RFC 5545: one UID for the visit, a higher SEQUENCE for each change, so that a
    # calendar replaces the event instead of keeping the old one beside the new.
    draft = new_draft(db)
    first = appointments.book(db, draft, SLOT, ADDRESS, FRIDAY, per_slot=1)
    changed = appointments.book(db, draft, OTHER_SLOT, ADDRESS, FRIDAY, per_slot=1)
    again = appointments.book(db, draft, SLOT, ADDRESS, FRIDAY, per_slot=1)
    events = [event_of(db, visit) for visit in (first, changed, again)]
    assert len({uid for uid, _sequence, _status in events}) == 1
    assert [sequence for _uid, sequence, _status in events] == [0, 1, 2]
    assert appointments.current(db, draft) == again


def test_a_cancellation_names_the_visit_s_event_with_a_higher_sequence(db):
    draft = new_draft(db)
    appointments.book(db, draft, SLOT, ADDRESS, FRIDAY, per_slot=1)
    changed = appointments.book(db, draft, OTHER_SLOT, ADDRESS, FRIDAY, per_slot=1)
    uid, sequence, _status = event_of(db, changed)
    assert appointments.cancel(db, draft)
    assert event_of(db, changed, cancelled=True) == (uid, sequence + 1, "CANCELLED")


def test_a_visit_booked_after_a_cancellation_is_a_new_event(db):
    draft = new_draft(db)
    cancelled = appointments.book(db, draft, SLOT, ADDRESS, FRIDAY, per_slot=1)
    appointments.cancel(db, draft)
    booked = appointments.book(db, draft, OTHER_SLOT, ADDRESS, FRIDAY, per_slot=1)
    assert event_of(db, booked)[0] != event_of(db, cancelled)[0]
    assert event_of(db, booked)[1] == 0


def test_a_visit_with_an_outcome_is_neither_cancelled_nor_moved(db):
    draft = new_draft(db)
    booked = appointments.book(db, draft, SLOT, ADDRESS, FRIDAY, per_slot=1)
    db.conn.execute("UPDATE appointments SET outcome = 'identified'")
    assert appointments.cancel(db, draft) is False
    with pytest.raises(SlotUnavailable, match="closed"):
        appointments.book(db, draft, OTHER_SLOT, ADDRESS, FRIDAY, per_slot=1)
    assert appointments.current(db, draft) == dataclasses.replace(booked, outcome="identified")


@pytest.mark.parametrize("outcome, now, expected", [
    (None, SLOT - timedelta(minutes=1), True),
    (None, SLOT, False),
    (None, SLOT + timedelta(days=1), False),
    ("identified", SLOT - timedelta(days=1), False),
])
def test_only_a_visit_still_to_come_can_be_called_off(outcome, now, expected):
    visit = appointments.Appointment(1, 1, SLOT, ADDRESS, outcome, 1, 0)
    assert appointments.upcoming(visit, now) is expected
