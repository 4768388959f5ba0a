"""Keyed locks: holders of one key take turns, holders of different keys don't wait for each other, and the
table of locks is empty again once everyone has left.

Threads are driven by events; every wait has a generous upper bound so a regression fails instead of hanging.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable

import pytest

from shared.runtime.keyedlocks import KeyedLocks

PATIENCE = 10.0  # seconds; an upper bound for waits, never expected to be reached
GLIMPSE = 0.05  # seconds; how long a blocked holder is given to (wrongly) get in


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        threading.Event().wait(0.001)


def users_of(locks: KeyedLocks, key: Hashable) -> int:
    # The only way to know a second holder is queued on the key, without sleeping.
    entry = locks._locks.get(key)  # noqa: SLF001
    return entry[1] if entry else 0


class Holder(threading.Thread):
    """Holds `key` until told to leave; notes when it got in and whether its body raised."""

    def __init__(self, locks: KeyedLocks, key: Hashable, journal: list[str], name: str, *,
                 raise_inside: bool = False) -> None:
        super().__init__(daemon=True)
        self.locks, self.key, self.journal, self.label = locks, key, journal, name
        self.raise_inside = raise_inside
        self.entered = threading.Event()
        self.leave = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with self.locks.hold(self.key):
                self.journal.append(f"{self.label} in")
                self.entered.set()
                assert self.leave.wait(PATIENCE), "the test never let the holder leave"
                self.journal.append(f"{self.label} out")
                if self.raise_inside:
                    raise RuntimeError(f"{self.label} failed")
        except BaseException as error:  # noqa: BLE001 - the test inspects it
            self.error = error


def finish(*holders: Holder) -> None:
    for holder in holders:
        holder.leave.set()
    for holder in holders:
        holder.join(PATIENCE)
        assert not holder.is_alive(), f"{holder.label} never left"


def test_a_second_holder_of_the_same_key_waits_until_the_first_leaves() -> None:
    locks = KeyedLocks()
    journal: list[str] = []
    first = Holder(locks, "petition-1", journal, "first")
    second = Holder(locks, "petition-1", journal, "second")
    first.start()
    assert first.entered.wait(PATIENCE)

    second.start()
    wait_until(lambda: users_of(locks, "petition-1") == 2)  # the second is queued on the key
    second_got_in_early = second.entered.wait(GLIMPSE)
    first.leave.set()
    assert second.entered.wait(PATIENCE), "the second holder never got in after the first left"
    finish(first, second)

    assert second_got_in_early is False
    assert journal == ["first in", "first out", "second in", "second out"]


def test_holders_of_different_keys_do_not_wait_for_each_other() -> None:
    locks = KeyedLocks()
    journal: list[str] = []
    first = Holder(locks, "petition-1", journal, "first")
    second = Holder(locks, "petition-2", journal, "second")
    first.start()
    assert first.entered.wait(PATIENCE)

    second.start()
    second_got_in_while_first_holds = second.entered.wait(PATIENCE)
    first_still_inside = not first.leave.is_set() and first.is_alive()
    finish(first, second)

    assert second_got_in_while_first_holds
    assert first_still_inside
    assert journal[:2] == ["first in", "second in"]


def test_the_table_is_empty_after_a_single_holder_leaves() -> None:
    locks = KeyedLocks()

    with locks.hold("petition-1"):
        inside = users_of(locks, "petition-1")

    assert inside == 1
    assert locks._locks == {}  # noqa: SLF001


def test_the_table_is_empty_after_a_holder_whose_body_raised() -> None:
    locks = KeyedLocks()

    with pytest.raises(ValueError, match="boom"), locks.hold("petition-1"):
        raise ValueError("boom")

    assert locks._locks == {}  # noqa: SLF001
    with locks.hold("petition-1"):  # and the key can be held again at once
        assert users_of(locks, "petition-1") == 1


def test_a_waiter_gets_in_after_the_holder_raised_and_the_table_is_empty_afterwards() -> None:
    locks = KeyedLocks()
    journal: list[str] = []
    failing = Holder(locks, "petition-1", journal, "failing", raise_inside=True)
    waiting = Holder(locks, "petition-1", journal, "waiting")
    failing.start()
    assert failing.entered.wait(PATIENCE)
    waiting.start()
    wait_until(lambda: users_of(locks, "petition-1") == 2)

    failing.leave.set()
    assert waiting.entered.wait(PATIENCE), "the waiter never got in after the holder raised"
    finish(failing, waiting)

    assert isinstance(failing.error, RuntimeError)
    assert waiting.error is None
    assert journal == ["failing in", "failing out", "waiting in", "waiting out"]
    assert locks._locks == {}  # noqa: SLF001


def test_many_holders_of_a_few_keys_never_overlap_per_key_and_leave_no_locks_behind() -> None:
    locks = KeyedLocks()
    keys = ["petition-1", "petition-2", "petition-3"]
    inside = {key: 0 for key in keys}
    most_inside = {key: 0 for key in keys}
    counting = threading.Lock()
    start = threading.Event()
    errors: list[BaseException] = []

    def work(key: str, raise_inside: bool) -> None:
        assert start.wait(PATIENCE)
        for _ in range(50):
            try:
                with locks.hold(key):
                    with counting:
                        inside[key] += 1
                        most_inside[key] = max(most_inside[key], inside[key])
                    with counting:
                        inside[key] -= 1
                    if raise_inside:
                        raise KeyError(key)
            except KeyError:
                pass
            except BaseException as error:  # noqa: BLE001 - the test inspects it
                errors.append(error)

    threads = [threading.Thread(target=work, args=(keys[n % 3], n % 2 == 0), daemon=True) for n in range(12)]
    for thread in threads:
        thread.start()
    start.set()
    for thread in threads:
        thread.join(PATIENCE)
        assert not thread.is_alive(), "a holder never finished"

    assert errors == []
    assert most_inside == {key: 1 for key in keys}
    assert locks._locks == {}  # noqa: SLF001
