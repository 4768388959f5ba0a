"""Following a store's notification log: the machinery under the outbox relay, the read-model projector and the
notice dispatcher.

A `LogFollower` reads the store's notifications in order, hands each batch to its handler, and records its
position only after the handler returned. So a crash replays what was handled since the last recorded position:
one batch, or for followers that record it at most every `save_position_every` seconds (the relays, the
projector and the inbox dispatcher), the batches of that interval. Every handler tolerates it: consumers dedupe;
projections are version-guarded; the inbox is keyed by notice id; the e-mail dispatcher records its position after
every batch and checks what was already delivered in the first batch after a restart.

Only one instance per (store, follower) is active: it holds a PostgreSQL advisory lock (or, with SQLite stores,
an exclusive lock on a file beside the store). Other instances wait as hot standbys and take over when the lock
is released, which the database does when the holder's connection or process dies.

Reading in notification-id order is gap-safe: the eventsourcing PostgreSQL recorder takes an EXCLUSIVE table lock
for each insert, so ids become visible in order (SQLite has a single writer).
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any, Protocol

import psycopg
import psycopg_pool
from eventsourcing import persistence
from eventsourcing.persistence import Tracking
from prometheus_client import Counter, Gauge
from pymongo.errors import ConnectionFailure

from shared.runtime.eventstore import open_position_recorder, postgres_conninfo, postgres_schema, sqlite_folder
from shared.runtime.observability import describe_error
from shared.runtime.settings import PlatformSettings

log = logging.getLogger(__name__)

# A store or read-model database that is down or restarting: the batch is retried, and the follower says so at
# WARNING (an operator sees the outage in the databases' own alerts); any other failure is an ERROR with its trace.
OUTAGES = (persistence.OperationalError, persistence.InterfaceError, psycopg.OperationalError, psycopg.InterfaceError,
           psycopg_pool.PoolTimeout, ConnectionFailure, ConnectionError, TimeoutError)

FOLLOWER_ACTIVE = Gauge("xinfang_follower_active", "1 if this instance is the active one for the follower", ["follower"])
FOLLOWER_LAG = Gauge("xinfang_follower_lag_events",
                     "Stored events after the follower's recorded position (the store's head minus that position)",
                     ["follower"])
FOLLOWER_LAST_PROGRESS = Gauge(
    "xinfang_follower_last_progress_timestamp_seconds",
    "When the follower's recorded position was last seen to advance, or to be at the store's head (Unix time)",
    ["follower"])
FOLLOWER_LAG_CHECKED = Gauge("xinfang_follower_lag_checked_timestamp_seconds",
                             "When the follower's lag was last measured (Unix time)", ["follower"])
FOLLOWER_LISTEN_RECONNECTS = Counter(
    "xinfang_follower_listen_reconnects_total",
    "Times a follower's LISTEN connection was lost and is opened again (the follower polls once a second meanwhile)",
    ["follower"])
FOLLOWER_FAILURES = Counter("xinfang_follower_failures_total", "Batches a follower failed to handle", ["follower"])
FOLLOWER_NOTIFICATIONS_PASSED = Counter(
    "xinfang_follower_notifications_passed_total",
    "Store notifications a follower slept on through, because they named none of its topics", ["follower"])


class SingleActiveLock(Protocol):
    def try_acquire(self) -> bool: ...
    def still_held(self) -> bool: ...
    def release(self) -> None: ...


class PostgresAdvisoryLock:
    """A session-level advisory lock on a dedicated connection: released by PostgreSQL if we die."""

    def __init__(self, conninfo: str, key: str) -> None:
        self._conninfo = conninfo
        self._key = key
        self._connection: psycopg.Connection | None = None

    def try_acquire(self) -> bool:
        try:
            if self._connection is None or self._connection.closed:
                self._connection = psycopg.connect(self._conninfo, autocommit=True)
            row = self._connection.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (self._key,)).fetchone()
            return bool(row and row[0])
        except psycopg.Error:
            self._drop()
            return False

    def still_held(self) -> bool:
        try:
            if self._connection is None:
                return False
            self._connection.execute("SELECT 1")
            return True
        except psycopg.Error:
            self._drop()
            return False

    def release(self) -> None:
        # Unlock before closing: PostgreSQL frees a closed session's locks only once its backend has noticed the
        # disconnect, so a standby asking at once could still find the lock held.
        if self._connection is not None and not self._connection.closed:
            try:
                self._connection.execute("SELECT pg_advisory_unlock(hashtext(%s))", (self._key,))
            except psycopg.Error:
                log.debug("ignoring error while unlocking; closing the connection releases the lock", exc_info=True)
        self._drop()

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except psycopg.Error:
                log.debug("ignoring error while closing the lock connection", exc_info=True)


class FileLock:
    """An exclusive flock on a file: released by the kernel if we die."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def still_held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor releases the flock


def single_active_lock(settings: PlatformSettings, service: str, follower: str) -> SingleActiveLock:
    if settings.event_store == "postgres":
        return PostgresAdvisoryLock(postgres_conninfo(settings), f"{postgres_schema(settings, service)}:{follower}")
    return FileLock(sqlite_folder(settings, service) / f"{follower}.lock")


class Wakeup(Protocol):
    def wait(self, seconds: float, topics: Collection[str] = ()) -> None:
        """Return when the store may hold new events of `topics` (of any topic when empty), or after `seconds`."""
    def sleep(self, seconds: float) -> None:
        """Return after `seconds` whatever is notified meanwhile (a gathering follower's wait: `Gathering`)."""
    def close(self) -> None: ...


class Sleep:
    """Polling: SQLite has no notifications."""

    def __init__(self, stopping: threading.Event) -> None:
        self._stopping = stopping

    def wait(self, seconds: float, topics: Collection[str] = ()) -> None:
        self._stopping.wait(seconds)

    def sleep(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def close(self) -> None:
        pass


class PostgresNotifications:
    """Sleep until the store says it has new events: every insert transaction issues `NOTIFY <table>`, delivered at
    commit. Much cheaper than polling, and a new event is picked up at once.

    The services' recorder names the topics it recorded in the payload (shared/runtime/recorders.py). A follower of some
    topics sleeps on through a notification that names none of them: the notification dispatchers, for instance,
    are not woken to read the store by the deliveries they record themselves. A notification without a payload
    (another writer) may concern anything, and wakes every follower.

    A lost connection (the server restarted, the backend was terminated, the network dropped it) is logged at
    WARNING with its reason and counted; the follower then polls once a second until LISTEN works again."""

    def __init__(self, conninfo: str, channel: str, follower: str = "") -> None:
        self._conninfo = conninfo
        self._channel = channel
        self._name = follower or channel
        self._passed = FOLLOWER_NOTIFICATIONS_PASSED.labels(self._name)
        self._reconnects = FOLLOWER_LISTEN_RECONNECTS.labels(self._name)
        self._connection: psycopg.Connection | None = None
        self._lost: str | None = None  # why the last connection was lost, until LISTEN works again

    def wait(self, seconds: float, topics: Collection[str] = ()) -> None:
        self._read_notifications(seconds, lambda payloads: any(may_concern(p, topics) for p in payloads))

    def sleep(self, seconds: float) -> None:
        """Sleep, reading and dropping what is notified meanwhile (the next read of the store finds those events):
        a listener that stopped reading would hold back the server's notification queue, which no listening
        session's unread notifications may leave, and a gathering follower under steady load never `wait`s."""
        self._read_notifications(seconds, lambda _payloads: False)

    def _read_notifications(self, seconds: float, wakes: Callable[[list[str]], bool]) -> None:
        """Read notifications for up to `seconds`, returning early on those that `wakes`; the others are passed."""
        deadline = time.monotonic() + seconds
        try:
            if self._connection is None:
                self._connection = self._listen()
            while (remaining := deadline - time.monotonic()) > 0:
                # Every notification already received is looked at (several arrive in one packet), not just one.
                notified = [n.payload for n in self._connection.notifies(timeout=remaining, stop_after=1)]
                if not notified or wakes(notified):
                    return
                self._passed.inc(len(notified))
        except psycopg.Error as error:
            self._note_lost(error)
            self.close()
            time.sleep(min(seconds, 1.0))

    def _listen(self) -> psycopg.Connection:
        connection = psycopg.connect(
            self._conninfo, autocommit=True,
            # Named, so that operators find it in pg_stat_activity (63 bytes: PostgreSQL's limit).
            application_name=f"xinfang-listen {self._name}"[:63],
            # Keepalives, so that a connection the network dropped without a word is noticed too (within about a
            # minute) instead of leaving the follower asleep until its one-second poll.
            keepalives=1, keepalives_idle=30, keepalives_interval=10, keepalives_count=3)
        try:
            connection.execute(psycopg.sql.SQL("LISTEN {}").format(psycopg.sql.Identifier(self._channel)))
        except psycopg.Error:
            connection.close()
            raise
        if self._lost is not None:
            log.info("%s: listening for store notifications again (the connection was lost: %s)", self._name,
                     self._lost)
            self._lost = None
        return connection

    def _note_lost(self, error: psycopg.Error) -> None:
        reason = connection_error_reason(error)
        if self._connection is not None:  # it was listening: a drop, which the next wait reconnects
            self._reconnects.inc()
            log.warning("%s: LISTEN connection lost (%s); reconnecting, and polling the store once a second until "
                        "then", self._name, reason)
        elif self._lost is None:  # the first connection failed: not a reconnect, but just as worth knowing
            log.warning("%s: cannot LISTEN for store notifications (%s); polling the store once a second until it can",
                        self._name, reason)
        else:  # still down: said once already
            log.debug("%s: reconnecting the LISTEN connection failed again (%s)", self._name, reason)
        self._lost = reason

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except psycopg.Error:
                log.debug("ignoring error while closing the LISTEN connection", exc_info=True)


def connection_error_reason(error: psycopg.Error) -> str:
    """Why a connection failed, for a log line: the error's class, SQLSTATE and the first line of its message.
    Unlike a query's error, a connection's says nothing about data (a LISTEN connection carries none): it is the
    server's or libpq's own words, e.g. "consuming input failed: server closed the connection unexpectedly"."""
    message = str(error).strip().splitlines()
    state = f" {error.sqlstate}" if error.sqlstate else ""
    return f"{describe_error(error)}{state}: {message[0]}" if message else f"{describe_error(error)}{state}"


def may_concern(payload: str, topics: Collection[str]) -> bool:
    """Whether a store notification may announce events of `topics` (any, when empty): its payload lists the
    recorded topics, or is empty when it does not say."""
    return not topics or not payload or not set(payload.split(" ")).isdisjoint(topics)


def wakeup_for(settings: PlatformSettings, application: Any, stopping: threading.Event, follower: str = "") -> Wakeup:
    channel = getattr(application.recorder, "channel_name", None)
    if settings.event_store == "postgres" and channel:
        return PostgresNotifications(postgres_conninfo(settings), channel, follower)
    return Sleep(stopping)


class PositionStore(Protocol):
    def get(self) -> int: ...
    def set(self, position: int) -> None: ...
    def close(self) -> None: ...


class StorePosition:
    """The follower's position, kept next to the store it follows (single-row tracking)."""

    def __init__(self, settings: PlatformSettings, service: str, follower: str) -> None:
        self._name = follower
        self._factory, self._recorder = open_position_recorder(settings, service, follower)

    def get(self) -> int:
        return self._recorder.max_tracking_id(self._name) or 0

    def set(self, position: int) -> None:
        self._recorder.insert_tracking(Tracking(self._name, position))

    def close(self) -> None:
        self._factory.close()


BatchHandler = Callable[[Sequence[tuple[int, Any]]], None]
DEFAULT_WATCH_INTERVAL = 5.0  # seconds; FOLLOWER_WATCH_INTERVAL


class LagWatcher:
    """Measures a follower's lag from outside its batch loop: the store's head (its highest notification id) minus
    the position the follower recorded, read every `interval` seconds on a thread of its own.

    A follower wedged in a batch (a query that never returns, a handler that blocks) runs none of its own code, so
    a gauge it set itself would keep its last value, typically 0; this one keeps growing with the store. It also
    exports when the follower last made progress: its recorded position moved, or was found at the head (nothing
    to do is no stall). The stall alert fires on lag > 0 with no progress for a while (docs/operations.md).

    Every instance measures, standbys too: they read the same store and position, so their values agree, and a
    wedged active instance is also seen from its standby's."""

    def __init__(self, follower: str, head: Callable[[], int | None], position: Callable[[], int], *,
                 on_lag: Callable[[int], None] | None = None, clock: Callable[[], float] = time.time) -> None:
        self.follower = follower
        self._head = head
        self._position = position
        self._on_lag = on_lag
        self._clock = clock
        self._last_position: int | None = None
        self._failing = False

    def check(self) -> int:
        """Measure once, set the gauges and return the lag."""
        # The head first: a position read after it that reaches it shows the follower had caught up at least that far.
        head = self._head() or 0
        position = self._position()
        lag = max(head - position, 0)
        now = self._clock()
        # The first measurement counts as progress: it is where the watch starts (a process that starts with a
        # backlog and never moves is then reported after the alert's interval, not at once).
        if lag == 0 or position != self._last_position:
            FOLLOWER_LAST_PROGRESS.labels(self.follower).set(now)
        self._last_position = position
        FOLLOWER_LAG.labels(self.follower).set(lag)
        if self._on_lag is not None:
            self._on_lag(lag)
        FOLLOWER_LAG_CHECKED.labels(self.follower).set(now)
        return lag

    def run(self, interval: float, stopping: threading.Event) -> None:
        """Measure every `interval` seconds until `stopping` is set; failures are logged, never fatal."""
        while True:
            try:
                self.check()
                if self._failing:
                    log.info("%s: measuring the lag again", self.follower)
                    self._failing = False
            except Exception as error:  # noqa: BLE001 - the store may be down: measure again next time
                # Once per outage at WARNING: the follower's own failures are logged by its loop.
                level = logging.DEBUG if self._failing else logging.WARNING
                log.log(level, "%s: cannot measure the lag (%s); trying again every %gs", self.follower,
                        describe_error(error), interval)
                self._failing = True
            if stopping.wait(interval):
                return


class LogFollower:
    def __init__(
        self,
        name: str,
        application: Any,
        handle_batch: BatchHandler,
        position: PositionStore,
        lock: SingleActiveLock,
        *,
        poll_interval: float = 0.05,
        batch_size: int = 100,
        on_lag: Callable[[int], None] | None = None,
        settings: PlatformSettings | None = None,
        topics: Collection[str] = (),
        save_position_every: float = 0.0,
        lock_check_every: float = 1.0,
        watch_interval: float | None = None,
        gather: float = 0.0,
    ) -> None:
        """`save_position_every` > 0 writes the durable position at most that often (and on stop): only for
        handlers that tolerate replaying more than one batch after a crash (consumers dedupe; views are
        version-guarded). `lock_check_every`: how often, at most, the database is asked whether the lock is
        still held. `watch_interval`: seconds between lag measurements while `run()` runs (`LagWatcher`; 0: none);
        by default the settings' FOLLOWER_WATCH_INTERVAL. `on_lag` is called with each measurement. `gather` > 0:
        while events stream in (a batch read within `gather` seconds of the one before), wait that long after a
        short batch before reading on, so the next batch holds what came meanwhile (`Gathering`)."""
        self.name = name
        self._application = application
        self._handle_batch = handle_batch
        self._position_store = position
        self._lock = lock
        self._batch_size = batch_size
        self.watcher = LagWatcher(name, lambda: application.recorder.max_notification_id(), position.get,
                                  on_lag=on_lag)
        if watch_interval is None:
            watch_interval = settings.follower_watch_interval if settings else DEFAULT_WATCH_INTERVAL
        self._watch_interval = watch_interval
        # Only these event topics are decoded and handed over (all when empty); the rest are skipped unread.
        self._topics = frozenset(topics)
        self._position: int | None = None
        self._active = False
        # -inf, not 0: time.monotonic() counts from boot, so on a machine up for less than an interval a 0 would
        # defer the first write or check.
        self._lock_checked = float("-inf")
        self._save_every = save_position_every
        self._gathering = Gathering(gather)
        self._lock_check_every = lock_check_every
        self._saved_at = float("-inf")
        self._unsaved: int | None = None
        # True while the next batch may repeat one handled before: after (re)loading the durable position.
        self.resuming = True
        self.stopping = threading.Event()
        # On PostgreSQL the follower sleeps on LISTEN and polls only as a fallback (every second).
        self._wakeup = wakeup_for(settings, application, self.stopping, name) if settings else Sleep(self.stopping)
        self._idle_wait = 1.0 if isinstance(self._wakeup, PostgresNotifications) else poll_interval

    def run(self) -> None:
        """Follow until `stop()`; errors are logged and retried with back-off, never fatal. The lag is measured
        meanwhile on a thread of its own (`LagWatcher`)."""
        watching = self._start_watching()
        backoff = 0.5
        while not self.stopping.is_set():
            if not self.try_activate():
                self.stopping.wait(1.0)
                continue
            try:
                # A batch shorter than the limit read to the end of the log: wait for the next notification rather
                # than ask again at once (that second read found nothing nearly always, and was half of every
                # store's reads). Nothing is missed: a NOTIFY sent meanwhile is waiting on the LISTEN connection.
                handled = self.run_once()
                caught_up = handled < self._batch_size
                gather = self._gathering.should_wait(handled)
                if caught_up and self._unsaved is not None:
                    self._save_position()  # write a deferred position if due
                backoff = 0.5
            except Exception as error:
                self._position = None  # re-read the durable position before retrying
                self._unsaved = None
                if self.stopping.is_set():  # given up on the way out (a dispatcher stands down mid-retry): not a fault
                    log.info("%s: batch left unfinished on the way out (%s); it is handled again on the next start",
                             self.name, describe_error(error))
                    break
                FOLLOWER_FAILURES.labels(self.name).inc()
                if isinstance(error, OUTAGES):  # expected while a database restarts: a line, not a traceback
                    log.warning("%s: batch failed (%s); retrying in %.1fs", self.name, describe_error(error), backoff)
                else:
                    log.exception("%s: batch failed; retrying in %.1fs", self.name, backoff)
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            if caught_up and gather:
                self._wakeup.sleep(self._gathering.seconds)
            elif caught_up:
                self._wakeup.wait(self._idle_wait if self._unsaved is None
                                  else min(self._idle_wait, self._save_every), self._topics)
        try:
            if self._active:
                self.flush_position()
        except Exception:  # the replay it causes on the next start is harmless for these followers
            log.exception("%s: could not write the position on the way out", self.name)
        finally:
            self._deactivate()
            self._wakeup.close()
            if watching is not None:
                watching.join(timeout=1.0)  # it ends at its next wait, or with the process if blocked in a query

    def _start_watching(self) -> threading.Thread | None:
        if self._watch_interval <= 0:
            return None
        thread = threading.Thread(target=self.watcher.run, args=(self._watch_interval, self.stopping),
                                  name=f"{self.name}-lag-watch", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.stopping.set()

    def still_active(self) -> bool:
        """Whether this instance still holds its single-active lock: asks the database at most once a second
        (the lock is lost only with its connection, which that check notices)."""
        if not self._active:
            return False
        if self._due_lock_check() and not self._lock.still_held():
            self._deactivate()
            return False
        return True

    def flush_position(self) -> None:
        """Write a position that was deferred (see `save_position_every`)."""
        if self._unsaved is not None:
            self._save_position(force=True)

    def run_once(self) -> int:
        """Handle the next batch, if any; return how many notifications were handled."""
        if self._position is None:
            self._position = self._position_store.get()
            self.resuming = True
        recorder = self._application.recorder
        notifications = recorder.select_notifications(
            start=self._position, limit=self._batch_size, inclusive_of_start=False
        )
        if notifications:
            mapper = self._application.mapper
            wanted = [n for n in notifications if not self._topics or n.topic in self._topics]
            if wanted:
                self._handle_batch([(n.id, mapper.to_domain_event(n)) for n in wanted])
            self._position = notifications[-1].id
            self._save_position(force=not self._save_every)
            self.resuming = False
        # The lag is not measured here: a wedged batch would never get to it (LagWatcher measures it).
        return len(notifications)

    def _save_position(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._saved_at >= self._save_every:
            self._position_store.set(self._position)
            self._saved_at = now
            self._unsaved = None
        else:
            self._unsaved = self._position

    def try_activate(self) -> bool:
        """Become (or stay) the active instance if the lock allows; False while another instance holds it."""
        if self._active and (not self._due_lock_check() or self._lock.still_held()):
            return True
        if self._active:
            log.warning("%s: lost the single-active lock; standing by", self.name)
            self._deactivate()
        if self._lock.try_acquire():
            log.info("%s: active", self.name)
            self._active = True
            self._position = None
            FOLLOWER_ACTIVE.labels(self.name).set(1)
            return True
        FOLLOWER_ACTIVE.labels(self.name).set(0)
        return False

    def _due_lock_check(self) -> bool:
        due, self._lock_checked = _once_every(self._lock_check_every, self._lock_checked)
        return due

    def _deactivate(self) -> None:
        self._active = False
        self._position = None
        self._unsaved = None
        FOLLOWER_ACTIVE.labels(self.name).set(0)
        self._lock.release()


class Gathering:
    """When a follower whose reader is not on anyone's path should let events gather before reading on: after a
    short batch, while batches come within `seconds` of each other (events streaming in, as under load). A read
    model server pays per request and per document written, and a projection writes each document it touches once
    per batch: one batch a second instead of one per commit writes a busy case, or a day's assessment document,
    once instead of many times. An event after a quiet spell is read at once (a clerk's click, a test's step)."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._last_batch = float("-inf")

    def should_wait(self, handled: int) -> bool:
        """Called after each read with how many notifications it handled."""
        if self.seconds <= 0 or not handled:
            return False
        now, last = self._clock(), self._last_batch
        self._last_batch = now
        return now - last <= self.seconds * 2  # the wait itself stands between two batches of a stream


def _once_every(interval: float, last: float) -> tuple[bool, float]:
    """(whether `interval` seconds have passed since `last`, the new `last`)."""
    now = time.monotonic()
    return (True, now) if now - last >= interval else (False, last)
