"""Group commit: concurrent callers' events are saved together in one transaction.

A store write costs one commit (and, on PostgreSQL, one turn of the library's EXCLUSIVE table lock) whether it
holds one petition or a hundred, so under concurrency batching multiplies throughput. Each caller still returns
only after *its* events are durable; a caller alone waits for nothing extra (the committer takes whatever is
queued, without a timer).

A batch refused for one item's sake (an IntegrityError) is retried item by item, so that one bad item fails only
its own caller; any other failure (e.g. the database is down) fails every caller at once, without retries that
would keep them all waiting. Works in plain threads and, under eventlet's monkey patching, in green threads.

Callers that wrap their whole unit of work — deciding and committing — in `working()` let the committer pace the
batches: a batch takes at most half of the callers at work, so one half prepares its next units while the other
half's batch is in the database. Left to itself, a closed group of callers falls into lockstep: all of them wait
in one batch while the process idles, then all of them compute while the database idles (measured in intake: a
quarter of the time idle, and the database's time, the audit sealing included, added to every batch).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from eventsourcing.persistence import IntegrityError
from prometheus_client import Histogram

from shared.runtime.observability import describe_error

log = logging.getLogger(__name__)

BATCH_SIZE = Histogram(
    "xinfang_group_commit_batch_size",
    "Number of callers whose events were saved in one transaction",
    ["store"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)


class _Pending:
    __slots__ = ("done", "error", "events")

    def __init__(self, events: Sequence[Any]) -> None:
        self.events = events
        self.done = threading.Event()
        self.error: BaseException | None = None


_STOP = object()


class GroupCommitter:
    def __init__(self, save_events: Callable[..., Any], *, store: str, max_batch: int = 200) -> None:
        self._save_events = save_events
        self._store = store
        self._max_batch = max_batch
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._working = 0

    def commit(self, events: Sequence[Any]) -> None:
        """Block until `events` are durably stored (raises what saving them alone would raise)."""
        if self._closed:
            raise RuntimeError("the group committer is closed")
        self._ensure_started()
        pending = _Pending(events)
        self._queue.put(pending)
        pending.done.wait()
        if pending.error is not None:
            raise pending.error

    @contextlib.contextmanager
    def working(self) -> Iterator[None]:
        """Around a caller's unit of work, from deciding what to save until `commit()` returns."""
        with self._lock:
            self._working += 1
        try:
            yield
        finally:
            with self._lock:
                self._working -= 1

    def _batch_limit(self) -> int:
        working = self._working
        return min(self._max_batch, (working + 1) // 2) if working > 1 else self._max_batch

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout=10)
            self._thread = None
        self._fail_leftovers()

    def _fail_leftovers(self) -> None:
        """Wake callers that queued behind the stop marker: their events were not saved."""
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not _STOP:
                item.error = RuntimeError("the group committer closed before saving")
                item.done.set()

    def _ensure_started(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name=f"group-commit-{self._store}", daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            stop_after = False
            limit = self._batch_limit()
            while len(batch) < limit:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop_after = True
                    break
                batch.append(item)
            self._commit_batch(batch)
            if stop_after:
                return

    def _commit_batch(self, batch: list[_Pending]) -> None:
        BATCH_SIZE.labels(self._store).observe(len(batch))
        try:
            self._save_events(*[event for pending in batch for event in pending.events])
        except IntegrityError as error:
            # One unit was refused (a duplicate, a version conflict): save each alone, so only its caller fails.
            if len(batch) == 1:
                batch[0].error = error
            else:
                log.info("group commit of %d refused (%s); saving one by one", len(batch), describe_error(error))
                for pending in batch:
                    try:
                        self._save_events(*pending.events)
                    except BaseException as single_error:  # noqa: BLE001 - each caller gets its own outcome
                        pending.error = single_error
        except BaseException as error:  # noqa: BLE001 - e.g. the database is down: every caller must be woken
            for pending in batch:
                pending.error = error
        for pending in batch:
            pending.done.set()
