"""Group commit with a fake store (the `save_events` port): batching, per-caller results, shutdown.

Threads wait on events, never on sleeps; every wait has a generous upper bound so a regression fails the test
instead of hanging it.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError, OperationalError

from shared.runtime.groupcommit import GroupCommitter

PATIENCE = 10.0  # seconds; an upper bound for waits, never expected to be reached


class FakeStore:
    """Records each call of `save_events`; can hold the first call until released, and refuses chosen events."""

    def __init__(self, *, hold_first_call: bool = False, refuse: Sequence[Any] = ()) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.saved: list[Any] = []
        self.first_call_started = threading.Event()
        self.release = threading.Event()
        self._hold_first_call = hold_first_call
        self._refuse = set(refuse)
        self.down = False
        self._lock = threading.Lock()

    def save_events(self, *events: Any) -> None:
        with self._lock:
            self.calls.append(events)
            first = len(self.calls) == 1
        if first:
            self.first_call_started.set()
            if self._hold_first_call:
                assert self.release.wait(PATIENCE), "the test never released the store"
        refused = [e for e in events if e in self._refuse]
        if refused:
            raise IntegrityError(f"cannot save {refused[0]}")  # what the store raises when it refuses a unit
        if self.down:
            raise OperationalError("the database is down")
        with self._lock:
            self.saved.extend(events)

    def saved_now(self) -> set[Any]:
        with self._lock:
            return set(self.saved)


class Caller(threading.Thread):
    """One client of the committer: commits its events, then notes what the store held when it returned."""

    def __init__(self, committer: GroupCommitter, store: FakeStore, events: list[Any],
                 linger: threading.Event | None = None) -> None:
        super().__init__(daemon=True)
        self.committer, self.store, self.events = committer, store, events
        self.error: BaseException | None = None
        self.returned = threading.Event()
        self.saved_when_returned: set[Any] = set()
        self.linger = linger  # set: the caller works inside `working()` and stays at work until it is set

    def run(self) -> None:
        with self.committer.working() if self.linger else contextlib.nullcontext():
            try:
                self.committer.commit(self.events)
            except BaseException as error:  # noqa: BLE001 - the test inspects it
                self.error = error
            self.saved_when_returned = self.store.saved_now()
            self.returned.set()
            if self.linger:
                assert self.linger.wait(PATIENCE)


@pytest.fixture
def make_committer(request: pytest.FixtureRequest) -> Iterator[Callable[..., GroupCommitter]]:
    committers: list[GroupCommitter] = []

    def make(store: FakeStore, **kwargs: Any) -> GroupCommitter:
        committer = GroupCommitter(store.save_events, store=f"unit-{request.node.name}", **kwargs)
        committers.append(committer)
        return committer

    yield make
    for committer in committers:
        committer.close()


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.001)


def queued(committer: GroupCommitter) -> int:
    return committer._queue.qsize()  # noqa: SLF001 - the only way to know callers are waiting, without sleeping


def start_behind_a_held_save(committer: GroupCommitter, store: FakeStore, batches: list[list[Any]],
                             linger: threading.Event | None = None) -> tuple[Caller, list[Caller]]:
    """One caller's save is held in the store while the callers of `batches` queue up behind it."""
    first = Caller(committer, store, ["first"])
    first.start()
    assert store.first_call_started.wait(PATIENCE)
    callers = [Caller(committer, store, events, linger) for events in batches]
    for caller in callers:
        caller.start()
    wait_until(lambda: queued(committer) == len(callers))
    return first, callers


def join_all(callers: Sequence[Caller]) -> None:
    for caller in callers:
        caller.join(PATIENCE)
        assert not caller.is_alive(), "a caller never returned"


def test_a_single_callers_events_are_saved_in_one_call(make_committer: Callable[..., GroupCommitter]) -> None:
    store = FakeStore()
    committer = make_committer(store)

    committer.commit(["petition-registered", "query-code-issued"])

    assert store.calls == [("petition-registered", "query-code-issued")]


def test_sequential_callers_are_saved_one_call_each(make_committer: Callable[..., GroupCommitter]) -> None:
    store = FakeStore()
    committer = make_committer(store)

    for n in range(3):
        committer.commit([f"e{n}"])

    assert store.calls == [("e0",), ("e1",), ("e2",)]


def test_concurrent_callers_are_batched_and_each_returns_only_after_its_events_are_saved(
    make_committer: Callable[..., GroupCommitter],
) -> None:
    store = FakeStore(hold_first_call=True)
    committer = make_committer(store)
    batches = [[f"p{n}-registered", f"p{n}-indexed"] for n in range(8)]

    first, callers = start_behind_a_held_save(committer, store, batches)
    nobody_returned_while_held = not any(c.returned.is_set() for c in [first, *callers])
    store.release.set()
    join_all([first, *callers])

    assert nobody_returned_while_held
    assert len(store.calls) == 2 < len(callers) + 1
    assert sorted(store.calls[1]) == sorted(e for events in batches for e in events)
    for caller in [first, *callers]:
        assert caller.error is None
        assert set(caller.events) <= caller.saved_when_returned


def test_a_callers_events_stay_together_and_in_order_within_a_batch(
    make_committer: Callable[..., GroupCommitter],
) -> None:
    store = FakeStore(hold_first_call=True)
    committer = make_committer(store)
    batches = [[f"p{n}-a", f"p{n}-b", f"p{n}-c"] for n in range(4)]

    first, callers = start_behind_a_held_save(committer, store, batches)
    store.release.set()
    join_all([first, *callers])

    batch = list(store.calls[1])
    for events in batches:
        start = batch.index(events[0])
        assert batch[start:start + len(events)] == events


def test_a_batch_never_exceeds_max_batch_callers(make_committer: Callable[..., GroupCommitter]) -> None:
    store = FakeStore(hold_first_call=True)
    committer = make_committer(store, max_batch=2)

    first, callers = start_behind_a_held_save(committer, store, [[f"e{n}"] for n in range(5)])
    store.release.set()
    join_all([first, *callers])

    assert [len(call) for call in store.calls] == [1, 2, 2, 1]


def test_a_batch_takes_at_most_half_of_the_callers_at_work(make_committer: Callable[..., GroupCommitter]) -> None:
    # Six callers at work: three commit while the other three prepare, instead of all six in lockstep.
    store = FakeStore(hold_first_call=True)
    committer = make_committer(store)
    at_work = threading.Event()

    first, callers = start_behind_a_held_save(committer, store, [[f"e{n}"] for n in range(6)], linger=at_work)
    store.release.set()
    for caller in callers:
        assert caller.returned.wait(PATIENCE)
    at_work.set()
    join_all([first, *callers])

    assert [len(call) for call in store.calls] == [1, 3, 3]
    assert all(caller.error is None for caller in callers)


def test_when_one_item_spoils_a_batch_only_its_caller_fails_and_the_others_are_saved_one_by_one(
    make_committer: Callable[..., GroupCommitter],
) -> None:
    store = FakeStore(hold_first_call=True, refuse=["bad"])
    committer = make_committer(store)

    first, callers = start_behind_a_held_save(committer, store, [["good-1"], ["bad"], ["good-2"]])
    store.release.set()
    join_all([first, *callers])
    by_event = {caller.events[0]: caller for caller in callers}

    assert isinstance(by_event["bad"].error, IntegrityError)
    assert str(by_event["bad"].error) == "cannot save bad"
    assert by_event["good-1"].error is None and by_event["good-2"].error is None
    assert sorted(store.saved) == ["first", "good-1", "good-2"]
    assert sorted(store.calls[1]) == ["bad", "good-1", "good-2"]  # the batch that failed
    assert sorted(store.calls[2:]) == [("bad",), ("good-1",), ("good-2",)]  # then one by one


def test_a_lone_caller_gets_the_stores_exception_and_the_committer_keeps_working(
    make_committer: Callable[..., GroupCommitter],
) -> None:
    store = FakeStore(refuse=["conflicting"])
    committer = make_committer(store)

    with pytest.raises(IntegrityError, match="cannot save conflicting"):
        committer.commit(["conflicting"])
    committer.commit(["fine"])

    assert store.calls == [("conflicting",), ("fine",)]
    assert store.saved == ["fine"]


def _committer_threads(name: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"group-commit-{name}" and t.is_alive()]


def test_close_stops_the_committer_thread() -> None:
    store = FakeStore()
    committer = GroupCommitter(store.save_events, store="unit-close")
    committer.commit(["e"])
    running_before = len(_committer_threads("unit-close"))

    committer.close()

    assert running_before == 1
    assert _committer_threads("unit-close") == []


def test_close_before_any_commit_starts_nothing_and_returns() -> None:
    store = FakeStore()
    committer = GroupCommitter(store.save_events, store="unit-never-started")

    committer.close()

    assert _committer_threads("unit-never-started") == []
    assert store.calls == []


def test_a_closed_committer_refuses_new_work_instead_of_leaving_the_caller_waiting() -> None:
    saved: list[tuple] = []
    committer = GroupCommitter(lambda *events: saved.append(events), store="closing")
    committer.commit(["first"])
    committer.close()

    with pytest.raises(RuntimeError, match="closed"):
        committer.commit(["too late"])
    assert saved == [("first",)]


def test_when_the_database_is_down_every_caller_fails_at_once_without_retries(
    make_committer: Callable[..., GroupCommitter],
) -> None:
    store = FakeStore(hold_first_call=True)
    committer = make_committer(store)

    first, callers = start_behind_a_held_save(committer, store, [["a"], ["b"], ["c"]])
    store.down = True
    store.release.set()
    join_all([first, *callers])

    assert all(isinstance(caller.error, OperationalError) for caller in callers)
    assert len(store.calls) == 2  # the held first call, then the batch: no saves one by one
