"""Fixed-window rate limits kept in SQLite, so every server process counts together."""

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from .store import timestamp, utcnow, write


@dataclass(frozen=True)
class Limit:
    name: str
    hits: int
    window: timedelta


class RateLimited(Exception):
    def __init__(self, limit: Limit, retry_after: timedelta):
        super().__init__(limit.name)
        self.limit = limit
        self.retry_after = retry_after

    @property
    def minutes(self) -> int:
        return max(1, -(-int(self.retry_after.total_seconds()) // 60))


def _window_start(limit: Limit, now: datetime) -> datetime:
    seconds = int(limit.window.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, timezone.utc)


def hit(db, limits: list[tuple[Limit, str]], now: datetime | None = None, then=None):
    """Count one hit against each (limit, subject); raise RateLimited if any is used up.

    A refused hit is not counted, so waiting out the window always helps.

    ``then`` (no arguments) is the write the hits guard, run in the same transaction once
    they are counted, so that both take one turn of the writer lock; its result is
    returned. If it raises, what it wrote is undone but the hits stay counted (a try
    that failed is a try), and the error is raised again.
    """
    now = now or utcnow()
    failure = result = None
    with write(db):
        for limit, subject in limits:
            start = _window_start(limit, now)
            # Counted only while the window has hits left: no row back is a refusal, and
            # raising undoes this call's other counts too.
            counted = db.conn.execute(
                "INSERT INTO rate_limits (key, window_start, hits) VALUES (?, ?, 1) "
                "ON CONFLICT (key, window_start) DO UPDATE SET hits = hits + 1 WHERE hits < ? RETURNING hits",
                (f"{limit.name}:{subject}", timestamp(start), limit.hits),
            ).fetchone()
            if counted is None:
                raise RateLimited(limit, start + limit.window - now)
        db.conn.execute("DELETE FROM rate_limits WHERE window_start < ?", (timestamp(now - timedelta(days=1)),))
        if then is not None:
            try:
                with write(db):  # a savepoint: undone alone
                    result = then()
            except Exception as error:  # raised again below, once the hits are committed
                failure = error
    if failure is not None:
        raise failure
    return result


def take_back(db, limits: list[tuple[Limit, str]], now: datetime) -> None:
    """Uncount the hits ``hit`` counted at ``now`` for a try that turned out right (a log-in):
    counted first, so that tries at once cannot pass a used-up limit, they limit only the wrong ones."""
    with write(db):
        for limit, subject in limits:
            db.conn.execute("UPDATE rate_limits SET hits = hits - 1 WHERE key = ? AND window_start = ? AND hits > 0",
                            (f"{limit.name}:{subject}", timestamp(_window_start(limit, now))))
