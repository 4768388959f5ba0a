"""The lag watcher of a log follower, with the store's head, the recorded position and the clock as plain values:
the lag, the time of the last progress and when it measured, as Prometheus exports them."""

from __future__ import annotations

import logging
import threading
import uuid

import psycopg
from prometheus_client import REGISTRY

from shared.runtime.follower import LagWatcher, connection_error_reason

PATIENCE = 10.0  # seconds; an upper bound for waits, never expected to be reached


class Store:
    """What the watcher reads: the store's head, the follower's recorded position, and the time."""

    def __init__(self) -> None:
        self.head: int | None = None
        self.position = 0
        self.now = 1_000.0
        self.failing = False

    def read_head(self) -> int | None:
        if self.failing:
            raise psycopg.OperationalError("the store is down")
        return self.head


def sample(name: str, follower: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"follower": follower})


def watcher_for(store: Store, **options: object) -> LagWatcher:
    return LagWatcher(f"unit.{uuid.uuid4().hex[:8]}", store.read_head, lambda: store.position,
                      clock=lambda: store.now, **options)


def lag(watcher: LagWatcher) -> float | None:
    return sample("xinfang_follower_lag_events", watcher.follower)


def last_progress(watcher: LagWatcher) -> float | None:
    return sample("xinfang_follower_last_progress_timestamp_seconds", watcher.follower)


def test_the_lag_is_the_head_minus_the_recorded_position() -> None:
    store = Store()
    store.head, store.position = 12, 5
    watcher = watcher_for(store)

    assert watcher.check() == 7
    assert lag(watcher) == 7
    assert sample("xinfang_follower_lag_checked_timestamp_seconds", watcher.follower) == store.now


def test_an_empty_store_and_a_position_beyond_a_head_read_earlier_are_no_lag() -> None:
    store = Store()
    watcher = watcher_for(store)
    assert watcher.check() == 0
    store.head, store.position = 3, 4  # the follower moved on between the two reads
    assert watcher.check() == 0


def test_nothing_is_exported_before_the_first_measurement() -> None:
    watcher = watcher_for(Store())

    assert lag(watcher) is None
    assert last_progress(watcher) is None


def test_progress_is_a_position_that_moved_or_one_at_the_head() -> None:
    store = Store()
    store.head, store.position = 10, 2
    watcher = watcher_for(store)
    watcher.check()
    started = store.now
    assert last_progress(watcher) == started  # where the watch starts

    store.now, store.head = started + 60, 20  # the head moves, the position does not: no progress
    watcher.check()
    assert last_progress(watcher) == started

    store.now, store.position = started + 70, 3  # the position moves, still behind
    watcher.check()
    assert last_progress(watcher) == started + 70

    store.now, store.position = started + 80, 20  # at the head
    watcher.check()
    store.now = started + 90  # nothing more to do: still no stall
    watcher.check()
    assert last_progress(watcher) == started + 90


def test_the_stall_condition_holds_while_the_head_moves_and_the_position_does_not() -> None:
    store = Store()
    store.head, store.position = 4, 4
    watcher = watcher_for(store)
    watcher.check()

    def stalled(after: float) -> bool:  # the alert's expression (docs/operations.md), over these samples
        return (lag(watcher) or 0) > 0 and store.now - (last_progress(watcher) or 0) > after

    store.head = 9
    store.now += 5
    watcher.check()
    assert not stalled(after=30)
    store.now += 30
    watcher.check()
    assert stalled(after=30)
    store.position = 9
    watcher.check()
    assert not stalled(after=30)


def test_on_lag_gets_every_measurement() -> None:
    store = Store()
    lags: list[int] = []
    watcher = watcher_for(store, on_lag=lags.append)
    store.head = 3
    watcher.check()
    store.position = 3
    watcher.check()

    assert lags == [3, 0]


def test_run_measures_until_stopped_and_logs_a_failing_store_once_at_warning(caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="shared.runtime.follower")
    store = Store()
    store.failing = True
    watcher = LagWatcher("unit.failing", store.read_head, lambda: store.position, clock=lambda: store.now)
    failed_thrice, measured = threading.Event(), threading.Event()
    failures = 0
    measure = watcher.check

    def observed_check() -> int:
        nonlocal failures
        try:
            lag = measure()
        except psycopg.Error:
            failures += 1
            if failures >= 3:
                failed_thrice.set()
            raise
        measured.set()
        return lag

    watcher.check = observed_check  # type: ignore[method-assign]
    stopping = threading.Event()
    thread = threading.Thread(target=watcher.run, args=(0.001, stopping), daemon=True)
    thread.start()
    assert failed_thrice.wait(PATIENCE)
    store.head = 2
    store.failing = False
    assert measured.wait(PATIENCE)
    stopping.set()
    thread.join(PATIENCE)

    assert not thread.is_alive()
    warnings = [r for r in caplog.records if r.name == "shared.runtime.follower" and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "OperationalError" in warnings[0].getMessage()
    assert "the store is down" not in warnings[0].getMessage()  # a query's error: its class only
    assert any("measuring the lag again" in r.getMessage() for r in caplog.records)
    assert sample("xinfang_follower_lag_events", "unit.failing") == 2


def test_a_connection_error_is_described_by_class_state_and_first_line() -> None:
    error = psycopg.OperationalError("server closed the connection unexpectedly\n\tThis probably means ...")

    assert connection_error_reason(error) == "OperationalError: server closed the connection unexpectedly"
    assert connection_error_reason(psycopg.OperationalError()) == "OperationalError"
