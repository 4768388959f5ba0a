"""A clock the tests move (supervision's deadlines are counted from the application's clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

CN = timezone(timedelta(hours=8))


class MovableClock:
    """Starts now. `set` a Beijing day (10:00), `advance` by days; with `tick`, every reading moves on by it (so
    consecutive steps are recorded in order without the test moving the clock)."""

    def __init__(self, tick: timedelta | None = None) -> None:
        self.now = datetime.now(UTC)
        self._tick = tick

    def __call__(self) -> datetime:
        if self._tick:
            self.now += self._tick
        return self.now

    def set(self, day: str) -> None:
        self.now = datetime.fromisoformat(f"{day}T10:00:00").replace(tzinfo=CN)

    def advance(self, days: int) -> None:
        self.now += timedelta(days=days)
