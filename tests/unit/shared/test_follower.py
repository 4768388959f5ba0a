"""The log follower with fakes of its ports: an application (recorder + mapper), a position store and a
single-active lock. `settings=None` makes it poll with `Sleep`, so nothing here touches a database.

Threads are driven by events; every wait has a generous upper bound so a regression fails instead of hanging.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from shared.runtime.follower import Gathering, LogFollower, Sleep, may_concern

PATIENCE = 10.0  # seconds; an upper bound for waits, never expected to be reached
# Longer than any test runs: a position deferred with this interval is never due before the test flushes it.
LONG_INTERVAL = 3600.0


@dataclass(frozen=True)
class FakeNotification:
    id: int
    topic: str


class FakeRecorder:
    """The store's notification log: ids 1..n in order, each with a topic."""

    def __init__(self, topics: Sequence[str] = ()) -> None:
        self._lock = threading.Lock()
        self._log: list[FakeNotification] = []
        self.selects: list[tuple[int, int]] = []
        self.max_asked = 0
        for topic in topics:
            self.append(topic)

    def append(self, topic: str = "case:Opened") -> int:
        with self._lock:
            notification = FakeNotification(len(self._log) + 1, topic)
            self._log.append(notification)
            return notification.id

    def select_notifications(self, start: int, limit: int, inclusive_of_start: bool = False) -> list[FakeNotification]:
        assert inclusive_of_start is False, "the follower reads strictly after its position"
        with self._lock:
            self.selects.append((start, limit))
            return [n for n in self._log if n.id > start][:limit]

    def max_notification_id(self) -> int | None:
        with self._lock:
            self.max_asked += 1
            return self._log[-1].id if self._log else None


class FakeMapper:
    """Decodes a notification into a recognisable 'domain event' and remembers what it decoded."""

    def __init__(self) -> None:
        self.decoded: list[int] = []

    def to_domain_event(self, notification: FakeNotification) -> tuple[str, int, str]:
        self.decoded.append(notification.id)
        return ("event", notification.id, notification.topic)


class FakeApplication:
    def __init__(self, topics: Sequence[str] = ()) -> None:
        self.recorder = FakeRecorder(topics)
        self.mapper = FakeMapper()


class FakePositionStore:
    """Keeps the durable position and records every write."""

    def __init__(self, position: int = 0) -> None:
        self.position = position
        self.writes: list[int] = []
        self.reads = 0
        self.closed = False

    def get(self) -> int:
        self.reads += 1
        return self.position

    def set(self, position: int) -> None:
        self.writes.append(position)
        self.position = position

    def close(self) -> None:
        self.closed = True


class LockTable:
    """What the database knows about one single-active lock: who holds it."""

    def __init__(self) -> None:
        self.holder: FakeLock | None = None


class FakeLock:
    """One instance's handle on the shared lock; `connection_lost` makes `still_held` fail like a dead session."""

    def __init__(self, table: LockTable) -> None:
        self._table = table
        self.connection_lost = False
        self.releases = 0
        self.attempted = threading.Event()

    def try_acquire(self) -> bool:
        self.attempted.set()
        if self._table.holder is None or self._table.holder is self:
            self._table.holder = self
            self.connection_lost = False
            return True
        return False

    def still_held(self) -> bool:
        return self._table.holder is self and not self.connection_lost

    def release(self) -> None:
        self.releases += 1
        if self._table.holder is self:
            self._table.holder = None


class RecordingHandler:
    """The batch handler: records every batch it was handed; can be told to fail the next calls."""

    def __init__(self) -> None:
        self.batches: list[list[tuple[int, Any]]] = []
        self.failures_to_come = 0
        self.on_batch: Callable[[list[tuple[int, Any]]], None] | None = None

    def __call__(self, items: Sequence[tuple[int, Any]]) -> None:
        batch = list(items)
        self.batches.append(batch)
        if self.on_batch is not None:
            self.on_batch(batch)
        if self.failures_to_come:
            self.failures_to_come -= 1
            raise RuntimeError("the handler failed")

    def ids(self) -> list[list[int]]:
        return [[sequence for sequence, _event in batch] for batch in self.batches]


def make_follower(
    application: FakeApplication,
    handler: Callable[[Sequence[tuple[int, Any]]], None],
    position: FakePositionStore,
    lock: FakeLock | None = None,
    **options: Any,
) -> LogFollower:
    # No lag watcher unless a test asks for one: its reads would count among those the tests count.
    options.setdefault("watch_interval", 0)
    return LogFollower("unit.follower", application, handler, position, lock or FakeLock(LockTable()),
                       settings=None, **options)


def test_without_settings_the_follower_polls_instead_of_listening() -> None:
    follower = make_follower(FakeApplication(), RecordingHandler(), FakePositionStore())

    assert isinstance(follower._wakeup, Sleep)  # noqa: SLF001 - the wakeup is chosen at construction


def test_run_once_hands_batches_in_order_and_records_the_position_after_the_handler_returned() -> None:
    application = FakeApplication(["case:Opened"] * 5)
    position = FakePositionStore()
    handler = RecordingHandler()
    follower = make_follower(application, handler, position, batch_size=2)
    writes_seen_by_handler: list[list[int]] = []
    handler.on_batch = lambda _batch: writes_seen_by_handler.append(list(position.writes))

    handled = [follower.run_once() for _ in range(4)]

    assert handled == [2, 2, 1, 0]
    assert handler.ids() == [[1, 2], [3, 4], [5]]
    assert handler.batches[0] == [(1, ("event", 1, "case:Opened")), (2, ("event", 2, "case:Opened"))]
    # Each batch's position is written only after its handler returned: never before or during.
    assert writes_seen_by_handler == [[], [2], [2, 4]]
    assert position.writes == [2, 4, 5]


def test_run_once_starts_after_the_durable_position() -> None:
    application = FakeApplication(["case:Opened"] * 4)
    handler = RecordingHandler()
    follower = make_follower(application, handler, FakePositionStore(position=2))

    follower.run_once()

    assert handler.ids() == [[3, 4]]
    assert application.recorder.selects[0] == (2, 100)


def test_an_empty_log_hands_nothing_and_writes_no_position() -> None:
    position = FakePositionStore()
    handler = RecordingHandler()
    follower = make_follower(FakeApplication(), handler, position)

    assert follower.run_once() == 0
    assert handler.batches == []
    assert position.writes == []


def test_a_handler_exception_leaves_the_durable_position_unchanged_and_the_batch_is_handed_again() -> None:
    application = FakeApplication(["case:Opened"] * 3)
    position = FakePositionStore()
    handler = RecordingHandler()
    follower = make_follower(application, handler, position, batch_size=2)
    follower.run_once()
    handler.failures_to_come = 1

    with pytest.raises(RuntimeError, match="the handler failed"):
        follower.run_once()
    durable_after_failure = position.position
    follower.run_once()

    assert durable_after_failure == 2
    assert handler.ids() == [[1, 2], [3], [3]]
    assert position.writes == [2, 3]


def test_after_a_failed_batch_run_re_reads_the_durable_position_and_hands_the_batch_after_it_again() -> None:
    # Positions are deferred, so the durable position (2) lags the one in memory (4) when batch [5, 6] fails:
    # the retry must start from what is durable, not from memory, and say that it may be repeating itself.
    application = FakeApplication(["case:Opened"] * 6)
    position = FakePositionStore()
    handler = RecordingHandler()
    follower = make_follower(application, handler, position, batch_size=2, save_position_every=LONG_INTERVAL)
    resuming_per_batch: list[bool] = []
    retried = threading.Event()

    def on_batch(batch: list[tuple[int, Any]]) -> None:
        resuming_per_batch.append(follower.resuming)
        if batch[0][0] == 5 and len(handler.batches) == 3:
            handler.failures_to_come = 1  # fail the first attempt at [5, 6]
        if len(handler.batches) == 4:
            retried.set()

    handler.on_batch = on_batch
    thread = threading.Thread(target=follower.run, daemon=True)
    thread.start()
    try:
        assert retried.wait(PATIENCE), "the follower never retried after the failure"
    finally:
        follower.stop()
        thread.join(PATIENCE)
    assert not thread.is_alive()

    assert handler.ids()[:4] == [[1, 2], [3, 4], [5, 6], [3, 4]]
    assert resuming_per_batch[:4] == [True, False, False, True]
    assert position.reads >= 2  # loaded on activation, and again after the failure
    assert position.writes[0] == 2


def test_only_notifications_of_the_given_topics_are_handed_over_but_the_position_passes_the_others() -> None:
    application = FakeApplication(["notice:Requested", "notice:Delivered", "notice:Delivered", "notice:Requested",
                                   "notice:Failed"])
    position = FakePositionStore()
    handler = RecordingHandler()
    follower = make_follower(application, handler, position, topics=["notice:Requested"])

    follower.run_once()

    assert handler.ids() == [[1, 4]]
    assert [event[2] for _sequence, event in handler.batches[0]] == ["notice:Requested", "notice:Requested"]
    assert application.mapper.decoded == [1, 4]  # the others are skipped undecoded
    assert position.writes == [5]


def test_a_batch_without_any_wanted_topic_calls_no_handler_and_still_advances_the_position() -> None:
    application = FakeApplication(["case:Opened", "case:OrganAssigned"])
    position = FakePositionStore()
    handler = RecordingHandler()
    follower = make_follower(application, handler, position, topics=["notice:Requested"])

    assert follower.run_once() == 2
    assert handler.batches == []
    assert application.mapper.decoded == []
    assert position.writes == [2]


def test_resuming_is_true_on_the_first_batch_after_loading_the_position_and_false_after_a_successful_one() -> None:
    application = FakeApplication(["case:Opened"] * 4)
    handler = RecordingHandler()
    follower = make_follower(application, handler, FakePositionStore(), batch_size=1)
    seen: list[bool] = []
    handler.on_batch = lambda _batch: seen.append(follower.resuming)

    follower.run_once()
    after_first = follower.resuming
    follower.run_once()

    assert seen == [True, False]
    assert after_first is False


def test_resuming_is_true_again_once_the_position_is_reloaded_after_reactivation() -> None:
    application = FakeApplication(["case:Opened"] * 3)
    handler = RecordingHandler()
    table = LockTable()
    lock = FakeLock(table)
    follower = make_follower(application, handler, FakePositionStore(), lock, batch_size=1)
    seen: list[bool] = []
    handler.on_batch = lambda _batch: seen.append(follower.resuming)
    assert follower.try_activate()
    follower.run_once()
    follower.run_once()

    lock.connection_lost = True  # the lock is lost, and at once regained: the position is loaded afresh
    assert follower.try_activate()
    follower.run_once()

    assert seen == [True, False, True]


def test_a_failed_batch_leaves_resuming_as_it_was() -> None:
    application = FakeApplication(["case:Opened"])
    handler = RecordingHandler()
    handler.failures_to_come = 1
    follower = make_follower(application, handler, FakePositionStore())

    with pytest.raises(RuntimeError):
        follower.run_once()

    assert follower.resuming is True


def test_a_deferred_position_is_written_for_the_first_batch_but_not_for_a_second_within_the_interval() -> None:
    application = FakeApplication(["case:Opened"] * 4)
    position = FakePositionStore()
    follower = make_follower(application, RecordingHandler(), position, batch_size=2,
                             save_position_every=LONG_INTERVAL)

    follower.run_once()
    writes_after_first = list(position.writes)
    follower.run_once()

    assert writes_after_first == [2]
    assert position.writes == [2]


def test_flush_position_writes_the_deferred_position_once() -> None:
    application = FakeApplication(["case:Opened"] * 4)
    position = FakePositionStore()
    follower = make_follower(application, RecordingHandler(), position, batch_size=2,
                             save_position_every=LONG_INTERVAL)
    follower.run_once()
    follower.run_once()

    follower.flush_position()
    follower.flush_position()  # nothing is deferred any more

    assert position.writes == [2, 4]


def test_flush_position_without_a_deferred_position_writes_nothing() -> None:
    application = FakeApplication(["case:Opened"] * 2)
    position = FakePositionStore()
    follower = make_follower(application, RecordingHandler(), position)
    follower.run_once()

    follower.flush_position()

    assert position.writes == [2]


def test_run_once_asks_nothing_about_the_head_of_the_log() -> None:
    application = FakeApplication(["case:Opened"] * 5)
    follower = make_follower(application, RecordingHandler(), FakePositionStore(), batch_size=2)

    while follower.run_once():
        pass

    # The lag is the watcher's business (tests/unit/shared/test_lag_watcher.py): a batch loop that wedges could
    # never report it, and one less query per batch.
    assert application.recorder.max_asked == 0


def test_run_measures_the_lag_on_a_thread_of_its_own_while_a_batch_is_wedged() -> None:
    application = FakeApplication(["case:Opened"] * 3)
    position = FakePositionStore()
    handler = RecordingHandler()
    entered, release = threading.Event(), threading.Event()

    def wedge(_batch: list[tuple[int, Any]]) -> None:
        entered.set()
        assert release.wait(PATIENCE)

    handler.on_batch = wedge
    lags: list[int] = []
    follower = make_follower(application, handler, position, on_lag=lags.append, watch_interval=0.01)
    thread = threading.Thread(target=follower.run, daemon=True)
    thread.start()
    try:
        assert entered.wait(PATIENCE)
        application.recorder.append()
        assert wait_until(lambda: lags and lags[-1] == 4), "the watcher measured the lag of the wedged follower"
        release.set()
        assert wait_until(lambda: lags[-1] == 0), "the lag went back to 0 once the follower moved on"
    finally:
        release.set()
        follower.stop()
        thread.join(PATIENCE)
    assert not thread.is_alive()


def wait_until(probe: Callable[[], object]) -> bool:
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        if probe():
            return True
        time.sleep(0.005)
    return False


def test_try_activate_is_false_while_another_instance_holds_the_lock_and_true_after_it_is_released() -> None:
    table = LockTable()
    other = FakeLock(table)
    assert other.try_acquire()
    follower = make_follower(FakeApplication(), RecordingHandler(), FakePositionStore(), FakeLock(table))

    while_held = follower.try_activate()
    other.release()
    after_release = follower.try_activate()

    assert while_held is False
    assert after_release is True
    assert follower.still_active() is True


def test_an_active_instance_stays_active_on_the_next_try() -> None:
    table = LockTable()
    lock = FakeLock(table)
    follower = make_follower(FakeApplication(), RecordingHandler(), FakePositionStore(), lock)

    assert follower.try_activate()
    assert follower.try_activate()
    assert table.holder is lock


def test_still_active_reflects_the_lock() -> None:
    table = LockTable()
    lock = FakeLock(table)
    follower = make_follower(FakeApplication(), RecordingHandler(), FakePositionStore(), lock, lock_check_every=0)

    before_activation = follower.still_active()
    follower.try_activate()
    while_held = follower.still_active()
    lock.connection_lost = True
    after_losing_it = follower.still_active()

    assert before_activation is False
    assert while_held is True
    assert after_losing_it is False


def test_an_instance_that_lost_the_lock_to_another_stands_by_and_releases_its_handle() -> None:
    table = LockTable()
    lock = FakeLock(table)
    follower = make_follower(FakeApplication(), RecordingHandler(), FakePositionStore(), lock)
    assert follower.try_activate()

    lock.connection_lost = True
    table.holder = FakeLock(table)  # the database released our session's lock and another instance took it

    assert follower.try_activate() is False
    assert follower.still_active() is False
    assert lock.releases == 1


def test_run_stops_on_request_and_writes_the_deferred_position_on_the_way_out() -> None:
    application = FakeApplication(["case:Opened"] * 4)
    position = FakePositionStore()
    handler = RecordingHandler()
    table = LockTable()
    lock = FakeLock(table)
    follower = make_follower(application, handler, position, lock, batch_size=2, save_position_every=LONG_INTERVAL)
    last_handled = threading.Event()
    writes_while_running: list[int] = []

    def on_batch(batch: list[tuple[int, Any]]) -> None:
        if batch[-1][0] == 4:
            writes_while_running.extend(position.writes)
            last_handled.set()

    handler.on_batch = on_batch
    thread = threading.Thread(target=follower.run, daemon=True)
    thread.start()
    assert last_handled.wait(PATIENCE), "the follower never handled the second batch"
    follower.stop()
    thread.join(PATIENCE)

    assert not thread.is_alive(), "run() did not end after stop()"
    assert handler.ids() == [[1, 2], [3, 4]]
    assert writes_while_running == [2]  # the second batch's position was deferred...
    assert position.writes == [2, 4]  # ...and written on the way out
    assert table.holder is None  # and the lock was given back


def test_a_batch_given_up_on_the_way_out_ends_the_run_quietly_and_writes_no_position(caplog) -> None:
    # A dispatcher asked to stop stands down in the middle of a batch (NoLongerActive): not a failure, no traceback.
    application = FakeApplication(["case:Opened"] * 2)
    position = FakePositionStore()
    handler = RecordingHandler()
    follower = make_follower(application, handler, position, batch_size=2)

    def stand_down(_batch: list[tuple[int, Any]]) -> None:
        follower.stop()
        raise RuntimeError("dispatcher lost its lock; standing down")

    handler.on_batch = stand_down
    thread = threading.Thread(target=follower.run, daemon=True)
    with caplog.at_level(logging.INFO, logger="shared.runtime.follower"):
        thread.start()
        thread.join(PATIENCE)

    assert not thread.is_alive(), "run() did not end"
    assert handler.ids() == [[1, 2]] and position.writes == []
    assert [r.levelname for r in caplog.records if "on the way out" in r.getMessage()] == ["INFO"]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_run_of_a_standby_instance_ends_on_stop_without_handling_or_writing_anything() -> None:
    table = LockTable()
    assert FakeLock(table).try_acquire()  # another instance is active
    application = FakeApplication(["case:Opened"] * 2)
    position = FakePositionStore()
    handler = RecordingHandler()
    lock = FakeLock(table)
    follower = make_follower(application, handler, position, lock)

    thread = threading.Thread(target=follower.run, daemon=True)
    thread.start()
    assert lock.attempted.wait(PATIENCE), "the standby never asked for the lock"
    follower.stop()
    thread.join(PATIENCE)

    assert not thread.is_alive(), "a standby did not end after stop()"
    assert handler.batches == []
    assert position.writes == []
    assert position.reads == 0


class FailingAfterFirstWrite(FakePositionStore):
    """A position store that goes away after its first write (e.g. MongoDB down between two batches)."""

    def set(self, position: int) -> None:
        if self.writes:
            self.writes.append(-1)  # an attempt
            raise ConnectionError("position store down")
        super().set(position)


def test_a_failing_deferred_position_write_is_retried_and_never_ends_the_follower() -> None:
    application = FakeApplication(["case:Opened"] * 4)
    position = FailingAfterFirstWrite()
    handler = RecordingHandler()
    follower = make_follower(application, handler, position, batch_size=2, save_position_every=0.01)
    thread = threading.Thread(target=follower.run, daemon=True)
    thread.start()
    # Wait until the deferred write has been attempted (and failed) at least once while idle.
    deadline = threading.Event()
    for _ in range(int(PATIENCE / 0.01)):
        if -1 in position.writes:
            break
        deadline.wait(0.01)
    alive_after_failure = thread.is_alive()
    follower.stop()
    thread.join(PATIENCE)

    assert -1 in position.writes, "the deferred write was never attempted"
    assert alive_after_failure, "a failed position write ended the follower"
    assert not thread.is_alive()


def test_still_active_asks_the_database_at_most_once_per_interval() -> None:
    table = LockTable()
    lock = FakeLock(table)
    follower = make_follower(FakeApplication(), RecordingHandler(), FakePositionStore(), lock,
                             lock_check_every=LONG_INTERVAL)
    follower.try_activate()

    assert follower.still_active() is True
    lock.connection_lost = True
    assert follower.still_active() is True  # within the interval: the last answer stands


class StoppingWakeup:
    """Records the reads made before each wait, then ends the run after `waits` waits."""

    def __init__(self, follower: LogFollower, waits: int) -> None:
        self._follower = follower
        self._waits = waits
        self.reads_before_wait: list[int] = []
        self.slept: list[float] = []

    def wait(self, seconds: float, topics: Collection[str] = ()) -> None:
        self.topics = topics
        self.reads_before_wait.append(len(self._follower._application.recorder.selects))
        if len(self.reads_before_wait) >= self._waits:
            self._follower.stop()

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)

    def close(self) -> None:
        pass


def test_a_short_batch_reached_the_end_so_the_follower_waits_instead_of_reading_again() -> None:
    application = FakeApplication(["case:Opened"] * 5)
    follower = make_follower(application, RecordingHandler(), FakePositionStore(), batch_size=2)
    follower._wakeup = wakeup = StoppingWakeup(follower, waits=1)

    follower.run()

    # [1, 2] and [3, 4] were full, so more could follow at once; [5] was short: the follower waited after it.
    assert application.recorder.selects == [(0, 2), (2, 2), (4, 2)]
    assert wakeup.reads_before_wait == [3]


def test_the_follower_waits_for_notifications_of_its_own_topics() -> None:
    application = FakeApplication(["case:Opened"])
    follower = make_follower(application, RecordingHandler(), FakePositionStore(), topics=["notice:Requested"])
    follower._wakeup = wakeup = StoppingWakeup(follower, waits=1)

    follower.run()

    assert set(wakeup.topics) == {"notice:Requested"}


@pytest.mark.parametrize(("payload", "topics", "concerns"), [
    ("notice:Requested", ["notice:Requested"], True),
    ("delivery:Concluded", ["notice:Requested"], False),
    ("delivery:Concluded notice:Requested", ["notice:Requested"], True),
    ("", ["notice:Requested"], True),  # a writer that did not say what it recorded
    ("delivery:Concluded", [], True),  # a follower of every topic
    ("notice:Requested:x", ["notice:Requested"], False),  # whole topics, not prefixes
])
def test_a_notification_concerns_a_follower_if_it_names_one_of_its_topics_or_none(payload, topics, concerns) -> None:
    assert may_concern(payload, topics) is concerns


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_gathering_waits_only_while_batches_stream_in() -> None:
    clock = FakeClock()
    gathering = Gathering(0.5, clock=clock)

    assert gathering.should_wait(1) is False  # the first batch after a quiet spell: read on at once
    clock.now += 0.3
    assert gathering.should_wait(2) is True  # a second batch right after it: events are streaming, gather
    clock.now += 0.6  # the gathering wait and the batch's own handling
    assert gathering.should_wait(40) is True
    assert gathering.should_wait(0) is False  # nothing came: wait for a notification, as without gathering
    clock.now += 5.0
    assert gathering.should_wait(1) is False  # a clerk's step after a pause is not held back


def test_a_follower_that_does_not_gather_never_waits_between_batches() -> None:
    clock = FakeClock()
    gathering = Gathering(0.0, clock=clock)

    assert [gathering.should_wait(1) for _ in range(3)] == [False, False, False]


def test_while_events_stream_in_a_gathering_follower_reads_them_in_fewer_batches() -> None:
    application = FakeApplication()
    handler = RecordingHandler()
    follower = make_follower(application, handler, FakePositionStore(), gather=0.2, poll_interval=0.01)
    appended = threading.Event()

    def append_stream() -> None:  # an event every 10 ms for 0.6 s, as under load
        for _ in range(60):
            application.recorder.append()
            time.sleep(0.01)
        appended.set()

    writer = threading.Thread(target=append_stream, daemon=True)
    thread = threading.Thread(target=follower.run, daemon=True)
    writer.start()
    thread.start()
    assert appended.wait(PATIENCE)
    deadline = time.monotonic() + PATIENCE
    while sum(len(batch) for batch in handler.batches) < 60 and time.monotonic() < deadline:
        time.sleep(0.01)
    follower.stop()
    thread.join(PATIENCE)

    assert [i for ids in handler.ids() for i in ids] == list(range(1, 61))  # each event once, in order
    # Polling every 10 ms without gathering reads the stream in about 60 batches; gathering 0.2 s at a time, a few.
    assert len(handler.batches) <= 10


def test_a_gathering_follower_sleeps_through_notifications_while_batches_stream_in() -> None:
    application = FakeApplication(["case:Opened"] * 3)
    follower = make_follower(application, RecordingHandler(), FakePositionStore(), gather=0.5)
    follower._wakeup = wakeup = StoppingWakeup(follower, waits=1)
    follower._gathering = Gathering(0.5, clock=lambda: 1000.0)  # noqa: SLF001 - every batch within the time
    follower._gathering.should_wait(1)  # noqa: SLF001 - a batch was read just before this run

    def more(_batch: list[tuple[int, Any]]) -> None:
        if len(application.recorder.selects) < 3:
            application.recorder.append()

    follower._handle_batch = more  # noqa: SLF001 - a batch arrives after each read
    follower.run()

    # Each short batch that came while others streamed in was followed by a sleep of the gathering time; the
    # follower waited for a notification only once a read found nothing.
    assert wakeup.slept == [0.5, 0.5, 0.5]
    assert wakeup.reads_before_wait == [4]
