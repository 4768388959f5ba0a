"""Each service's own event store: an eventsourcing Application on PostgreSQL (a schema per service) or SQLite
(a folder per service), chosen by `EVENT_STORE`.

The recorder is always a *process* recorder, so a consumer can write the events it causes together with the
tracking record of the integration event that caused them, in one transaction (exactly-once effect).
Tracking is multi-row: the unique key is (upstream source, upstream sequence). The library's default single-row
tracking only ever advances, which would silently drop an event that a competing consumer finished out of order.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import psycopg
from eventsourcing.application import Application
from eventsourcing.persistence import (
    InfrastructureFactory,
    IntegrityError,
    StoredEvent,
    Tracking,
    TrackingRecorder,
)
from eventsourcing.utils import Environment

from shared.audit import sealing
from shared.runtime.groupcommit import GroupCommitter
from shared.runtime.keyedlocks import KeyedLocks
from shared.runtime.settings import PlatformSettings

__all__ = [
    "DUPLICATE", "PROCESSED", "IntegrityError", "ServiceApplication", "Tracking", "open_position_recorder", "store_env",
]

# What processing an integration event came to.
PROCESSED = "processed"
DUPLICATE = "duplicate"  # already processed before: a redelivery or a re-publish; nothing changed


class ConcurrencyConflict(RuntimeError):
    """Other writers kept moving the aggregates on; the caller retries later."""


class NotYet(RuntimeError):
    """An event arrived before what it builds on (e.g. a routing before its case was opened). The consumer
    tries it again shortly, in-process (see shared/runtime/messaging/consumer.py)."""


def postgres_schema(settings: PlatformSettings, service: str) -> str:
    return f"{settings.postgres_schema_prefix}{service}"


def sqlite_folder(settings: PlatformSettings, service: str) -> Path:
    return settings.data_dir / "stores" / service


def store_env(settings: PlatformSettings, service: str, *, single_row_tracking: bool = False) -> dict[str, str]:
    """The eventsourcing environment for `service`'s store."""
    tracking = "yes" if single_row_tracking else "no"
    if settings.event_store == "postgres":
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": settings.postgres_dbname,
            "POSTGRES_HOST": settings.postgres_host,
            "POSTGRES_PORT": str(settings.postgres_port),
            "POSTGRES_USER": settings.postgres_user,
            "POSTGRES_PASSWORD": settings.postgres_password,
            "POSTGRES_SCHEMA": postgres_schema(settings, service),
            "POSTGRES_POOL_SIZE": str(settings.postgres_pool_size),
            # No pre-ping: it costs a round trip per checkout, and the library retries operational errors.
            "SINGLE_ROW_TRACKING": tracking,
            "PROCESS_RECORDER_TOPIC": "shared.runtime.recorders:PostgresRecorderWithTrackings",
        }
    folder = sqlite_folder(settings, service)
    folder.mkdir(parents=True, exist_ok=True)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(folder / "events.sqlite3"),
        "SQLITE_LOCK_TIMEOUT": "10",
        "SINGLE_ROW_TRACKING": tracking,
        "PROCESS_RECORDER_TOPIC": "shared.runtime.recorders:SQLiteRecorderWithTrackings",
    }


def postgres_conninfo(settings: PlatformSettings) -> str:
    return psycopg.conninfo.make_conninfo(
        dbname=settings.postgres_dbname,
        host=settings.postgres_host,
        port=settings.postgres_port,
        user=settings.postgres_user,
        password=settings.postgres_password or None,
    )


@contextlib.contextmanager
def creating_store(settings: PlatformSettings, service: str) -> Iterator[psycopg.Connection | None]:
    """Create the service's schema, and hold a lock while the caller lets the library create its tables.

    The library creates tables but not the schema that holds them. `CREATE ... IF NOT EXISTS` is not safe when
    several processes start at once (PostgreSQL reports a unique violation), so creation is serialised across
    processes with an advisory lock. SQLite serialises it by itself.
    """
    if settings.event_store != "postgres":
        yield None
        return
    with psycopg.connect(postgres_conninfo(settings), autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext('xinfang:create-store'))")
        try:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{postgres_schema(settings, service)}"')
            yield conn
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext('xinfang:create-store'))")


class ServiceApplication(Application):
    """Base of every service's application. Subclasses set `service_name`."""

    service_name: ClassVar[str]
    # Every store is sealed into the audit ledger (shared/audit/sealing.py); only the bench turns it off, to
    # measure what sealing costs.
    sealed: ClassVar[bool] = True

    def __init__(self, settings: PlatformSettings, env: dict[str, str] | None = None) -> None:
        self.settings = settings
        with creating_store(settings, self.service_name) as conn:
            super().__init__(env={**store_env(settings, self.service_name), **(env or {})})
            if conn is not None and self.sealed:  # every event is sealed into the audit ledger as it is inserted (shared/audit)
                sealing.install(conn, postgres_schema(settings, self.service_name), self.recorder.events_table_name)
        if self.snapshots is not None or self.repository.cache is not None:
            # Group commits insert stored events directly (insert_stored), past Application.save(), which is what
            # would take snapshots and fill the cache.
            raise ValueError("a service's store supports neither snapshotting nor the aggregate cache")
        # Consumers' effects are group-committed: concurrent workers share one transaction.
        self._processed = GroupCommitter(self.insert_stored, store=f"{self.service_name}-processed")
        self._turns = KeyedLocks()

    def construct_recorder(self):  # noqa: ANN201 - the library's own return type
        return self.factory.process_recorder()

    def save_processed(self, *aggregates: Any, tracking: Tracking) -> None:
        """Save the aggregates' new events and the tracking record in one transaction (which concurrent callers
        may share: group commit).

        Raises IntegrityError if the tracking record exists (a redelivery) or an aggregate moved on meanwhile
        (a concurrent writer); `is_processed()` tells the two apart.
        """
        events = [event for aggregate in aggregates for event in aggregate.collect_events()]
        self._processed.commit([*self.to_stored(events), tracking])

    def to_stored(self, events: Sequence[Any]) -> list[StoredEvent]:
        """Map domain events to the bytes the store keeps. Callers of a group committer do this in their own
        (green) thread, before they queue: it is most of the CPU a save costs, so it overlaps with the committer's
        wait on the database instead of lengthening every batch."""
        return [self.mapper.to_stored_event(event) for event in events]

    def insert_stored(self, *items: StoredEvent | Tracking) -> None:
        """Insert already-mapped events and any tracking records in one transaction: the library's
        `Application.save()` minus the mapping (a service's store has no snapshots and no cache: see __init__)."""
        trackings = [item for item in items if isinstance(item, Tracking)]
        self.recorder.insert_events([item for item in items if not isinstance(item, Tracking)], trackings=trackings)

    def process(self, tracking: Tracking, decide: Callable[[], Sequence[Any]], *, key: Hashable,
                attempts: int = 5, on_processed: Callable[[], None] | None = None) -> str:
        """Apply an integration event exactly once.

        `decide()` loads what it needs, calls domain methods and returns the changed aggregates; their new events
        are saved with `tracking` in one transaction. A redelivered event changes nothing (DUPLICATE): the tracking
        record's unique key refuses it, so no check is paid up front for the rare redelivery. If another writer
        moved an aggregate on meanwhile, `decide()` runs again on fresh state. Handlers with the same `key` (the
        aggregate they change) take turns in this process, so a group-committed batch never holds two conflicting
        units. `NotYet` from `decide()` goes to the caller (the turn is released meanwhile). `on_processed` runs
        after a save, still in the turn (e.g. to keep the saved aggregate: the next handler of the key sees it).
        """
        with self._turns.hold(key):
            outcome = self._process(tracking, decide, attempts)
            if outcome == PROCESSED and on_processed is not None:
                on_processed()
            return outcome

    def _process(self, tracking: Tracking, decide: Callable[[], Sequence[Any]], attempts: int) -> str:
        for _attempt in range(attempts):
            aggregates = decide()
            try:
                self.save_processed(*aggregates, tracking=tracking)
            except IntegrityError:
                if self.is_processed(tracking):
                    return DUPLICATE
                continue
            return PROCESSED
        raise ConcurrencyConflict(f"{tracking} kept conflicting with concurrent writers")

    def is_processed(self, tracking: Tracking) -> bool:
        """Exact lookup of one tracking record (the library only offers the maximum)."""
        recorder: Any = self.recorder
        datastore = recorder.datastore
        if self.settings.event_store == "postgres":
            query = psycopg.sql.SQL(
                "SELECT 1 FROM {}.{} WHERE application_name = %s AND notification_id = %s"
            ).format(psycopg.sql.Identifier(datastore.schema), psycopg.sql.Identifier(recorder.tracking_table_name))
        else:
            query = "SELECT 1 FROM tracking WHERE application_name = ? AND notification_id = ?"
        with datastore.transaction(commit=False) as cursor:
            cursor.execute(query, (tracking.application_name, tracking.notification_id))
            return cursor.fetchone() is not None

    def close(self) -> None:
        # Idempotent: the library's __del__ calls close() again at exit, when eventlet's hub is already gone.
        if getattr(self, "_closed", False):
            return
        self._closed = True
        if hasattr(self, "_processed"):
            self._processed.close()
        with contextlib.suppress(Exception):
            super().close()


def open_position_recorder(
    settings: PlatformSettings, service: str, follower: str
) -> tuple[InfrastructureFactory, TrackingRecorder]:
    """A single-row tracking recorder that keeps a log follower's position next to `service`'s store, and the
    infrastructure the caller must close.

    PostgreSQL: table `<service>_<follower>_tracking` in the service's schema. SQLite: its own file, because the
    SQLite recorder's tracking table name is fixed and already used (multi-row) by the application.
    """
    env = store_env(settings, service, single_row_tracking=True)
    env["POSTGRES_POOL_SIZE"] = "1"  # one small read and one small write per batch
    if settings.event_store == "sqlite":
        env["SQLITE_DBNAME"] = str(sqlite_folder(settings, service) / f"{follower}-position.sqlite3")
    with creating_store(settings, service):
        factory = InfrastructureFactory.construct(Environment(name=f"{service}_{follower}", env=env))
        return factory, factory.tracking_recorder()
