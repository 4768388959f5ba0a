"""The active deadline watch exports how many open cases are overdue and due soon (xinfang_cases_overdue,
xinfang_cases_due_soon: deploy/prometheus/alerts.yml, the Grafana dashboard); a standing-by watch does not count.
The counting itself reads the read model: tests/integration/test_deadline_gauges.py."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

from prometheus_client import REGISTRY

from services.supervision.watch import DeadlineWatch

CN = timezone(timedelta(hours=8))


class Lock:
    def __init__(self, free: bool) -> None:
        self.free = free

    def try_acquire(self) -> bool:
        return self.free

    def still_held(self) -> bool:
        return self.free

    def release(self) -> None:
        self.free = False


class Calendar:
    def add_working_days(self, day: date, days: int) -> SimpleNamespace:
        return SimpleNamespace(day=day + timedelta(days=days))


def application() -> SimpleNamespace:
    return SimpleNamespace(clock=lambda: datetime(2026, 10, 15, 9, tzinfo=CN),
                           rules=SimpleNamespace(calendar=Calendar()), watch=lambda candidates, reminders, **_: 0)


def gauges() -> tuple[float | None, float | None]:
    return REGISTRY.get_sample_value("xinfang_cases_overdue"), REGISTRY.get_sample_value("xinfang_cases_due_soon")


def test_the_active_watch_sets_the_counts_of_its_day():
    asked: list[date] = []

    def counts(today: date) -> tuple[int, int]:
        asked.append(today)
        return 4, 11

    watch = DeadlineWatch(application(), (3, 1), lock=Lock(free=True), candidates=lambda horizon: [],
                          counts=counts)
    assert watch.tick() == 0
    assert asked == [date(2026, 10, 15)]  # China's day
    assert gauges() == (4, 11)


def test_a_standing_by_watch_leaves_the_counts_alone():
    watch = DeadlineWatch(application(), (3, 1), lock=Lock(free=True), candidates=lambda horizon: [],
                          counts=lambda today: (2, 5))
    watch.tick()
    standby = DeadlineWatch(application(), (3, 1), lock=Lock(free=False), candidates=lambda horizon: [],
                            counts=lambda today: (99, 99))
    assert standby.tick() is None
    assert gauges() == (2, 5)
