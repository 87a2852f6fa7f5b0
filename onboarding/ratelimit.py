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


def hit(db, limits: list[tuple[Limit, str]], now: datetime | None = None) -> None:
    """Count one hit against each (limit, subject); raise RateLimited if any is used up.

    A refused hit is not counted, so waiting out the window always helps.
    """
    now = now or utcnow()
    with write(db):
        for limit, subject in limits:
            start = _window_start(limit, now)
            row = db.conn.execute(
                "SELECT hits FROM rate_limits WHERE key = ? AND window_start = ?",
                (f"{limit.name}:{subject}", timestamp(start)),
            ).fetchone()
            if row and row["hits"] >= limit.hits:
                raise RateLimited(limit, start + limit.window - now)
        for limit, subject in limits:
            db.conn.execute(
                "INSERT INTO rate_limits (key, window_start, hits) VALUES (?, ?, 1) "
                "ON CONFLICT (key, window_start) DO UPDATE SET hits = hits + 1",
                (f"{limit.name}:{subject}", timestamp(_window_start(limit, now))),
            )
        db.conn.execute("DELETE FROM rate_limits WHERE window_start < ?", (timestamp(now - timedelta(days=1)),))
