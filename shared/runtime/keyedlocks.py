"""A lock per key (e.g. per petition), created on demand and dropped when no one holds or waits for it.

Handlers in one process that work on the same aggregate take turns, so their group-committed units never conflict
with each other; handlers of different aggregates run, and commit, together. Green under eventlet.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterator
from contextlib import contextmanager


class KeyedLocks:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[Hashable, tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, key: Hashable) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.get(key, (None, 0))
            if lock is None:
                lock = threading.Lock()
            self._locks[key] = (lock, users + 1)
        try:
            lock.acquire()
            try:
                yield
            finally:
                lock.release()
        finally:  # also when the wait itself was interrupted: the use is given back either way
            with self._guard:
                _, users = self._locks[key]
                if users == 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)
