"""Working days in the Netherlands: Monday to Friday, Dutch public holidays excluded."""

from datetime import date, timedelta
from functools import lru_cache


@lru_cache(maxsize=16)
def _holidays(year: int) -> frozenset[date]:
    import holidays  # about 10 MB: loaded when first needed

    return frozenset(holidays.country_holidays("NL", years=year))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def add_working_days(start: date, count: int) -> date:
    """The ``count``-th working day after ``start`` (``start`` itself never counts)."""
    day = start
    while count > 0:
        day += timedelta(days=1)
        count -= is_working_day(day)
    return day
