"""The integration feed: every integration event the county published, in one append-only log with a global
position, for integrators catching up after an outage (GET /api/v1/integration/feed, services/gateway/routes/feed.py).

Each service's outbox relay appends the events of a batch just before it publishes them (shared/runtime/outbox.py),
all into one store named `feed` (PostgreSQL schema `<prefix>feed`; SQLite `<DATA_DIR>/stores/feed/events.sqlite3`).
Before, not after: what a consumer does on receiving an event, and publishes in turn, then always comes after that
event in the feed (a petition's routing after its registration), which appending after the broker's confirm would
not ensure. The feed may so run ahead of a broker that is down; the relay publishes the batch once it is back.

The store is an eventsourcing application recorder, so a position is the recorder's notification id: inserts are
serialised (PostgreSQL: an EXCLUSIVE table lock; SQLite: the database's write lock), so a reader never passes over a
position that a slower writer fills in later. Positions increase but need not be consecutive.

A stored record is keyed by uuid5(source, id), version 1: a re-published event (a relay's batch published again
after a crash) is never stored twice. Its topic is the CloudEvents type; its state is the structured-mode JSON exactly
as it was published (`IntegrationEvent.to_json()`).
"""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, InfrastructureFactory, StoredEvent
from eventsourcing.utils import Environment
from psycopg.sql import SQL, Identifier

from shared.language.integration.envelope import IntegrationEvent
from shared.runtime.settings import PlatformSettings

STORE = "feed"
FEED_ID_NAMESPACE = uuid.UUID("0b7f5c1e-4d2a-5e8f-9a3b-6c1d2e3f4a5b")
MAX_LIMIT = 1000


def record_id(source: str, event_id: str) -> uuid.UUID:
    """The feed's key of one published event: (source, id) identifies a CloudEvent."""
    return uuid.uuid5(FEED_ID_NAMESPACE, f"{source}\n{event_id}")


@dataclass(frozen=True)
class FeedPage:
    events: list[tuple[int, dict[str, Any]]]  # (position, the structured CloudEvent as published)
    next: int  # the `after` of the next page
    head: int  # the latest position when the page was read (0: the feed is empty)


class IntegrationFeed:
    """The feed's store, opened (and created if need be) on first use; safe to share between threads."""

    def __init__(self, settings: PlatformSettings, *, pool_size: int = 1) -> None:
        self.settings = settings
        self._pool_size = pool_size
        self._factory: InfrastructureFactory | None = None
        self._recorder: ApplicationRecorder | None = None
        self._append_sql: Any = None
        self._opening = threading.Lock()

    # --- opening ---------------------------------------------------------------------------------------------
    def _open(self) -> ApplicationRecorder:
        # Imported here: the gateway serves the feed but opens no service's store, and loads not even the module
        # that opens them (tests/unit/gateway/test_gateway_imports.py) until an integrator reads the feed.
        from shared.runtime.eventstore import creating_store, store_env  # noqa: PLC0415

        with self._opening:
            if self._recorder is None:
                env = store_env(self.settings, STORE)
                env["POSTGRES_POOL_SIZE"] = str(self._pool_size)
                # The gateway answers an integrator 503 while the database is down: it must not wait the library's
                # default 30 s per attempt first (a relay retries its batch either way).
                env["POSTGRES_CONNECT_TIMEOUT"] = "5"
                with creating_store(self.settings, STORE) as conn:
                    factory = InfrastructureFactory.construct(Environment(name="Feed", env=env))
                    recorder = factory.application_recorder()  # creates feed_events if it is not there
                    if conn is not None:
                        self._append_sql = _create_append_function(conn, recorder)
                self._factory, self._recorder = factory, recorder
        return self._recorder

    # --- writing ---------------------------------------------------------------------------------------------
    def append(self, events: Iterable[IntegrationEvent]) -> list[int]:
        """Record published events, skipping those recorded before, in one round trip; returns the positions given
        to the new ones. Raises if the store cannot be written (the relay then publishes the batch again)."""
        records: dict[uuid.UUID, StoredEvent] = {}
        for event in events:
            key = record_id(event.source, event.id)
            records.setdefault(key, StoredEvent(key, 1, event.type, event.to_json()))
        if not records:
            return []
        recorder = self._open()
        if self._append_sql is not None:
            return self._append_postgres(recorder, list(records.values()))
        return self._append_sqlite(recorder, list(records.values()))

    def _append_postgres(self, recorder: Any, records: Sequence[StoredEvent]) -> list[int]:
        # One call of a database function: lock, insert what is new, in one implicit transaction.
        with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(self._append_sql, ([r.originator_id for r in records], [r.topic for r in records],
                                              [r.state for r in records]))
            return [row["notification_id"] for row in cursor.fetchall()]

    def _append_sqlite(self, recorder: Any, records: Sequence[StoredEvent]) -> list[int]:
        table = recorder.events_table_name
        positions = []
        with recorder.datastore.transaction(commit=True) as cursor:
            for record in records:
                cursor.execute(f"INSERT OR IGNORE INTO {table} VALUES (?,?,?,?)",  # noqa: S608 - the library's name
                               (record.originator_id.hex, 1, record.topic, record.state))
                if cursor.sqlite_cursor.rowcount:  # 0: the event was there already
                    positions.append(cursor.lastrowid)
        return positions

    # --- reading ---------------------------------------------------------------------------------------------
    def head(self) -> int:
        return self._open().max_notification_id() or 0

    def read(self, after: int, limit: int, types: Iterable[str] | None = None) -> FeedPage:
        """Up to `limit` events after position `after`, of the given types (None: every type), in order.

        `next` is the position to read after next time: the last event's, or, when fewer than `limit` matched, the
        head read before the query (every position up to it was committed then: nothing can appear below it later).
        """
        recorder = self._open()
        topics = sorted(set(types)) if types is not None else []
        if types is not None and not topics:
            head = self.head()
            return FeedPage([], max(after, head), head)
        head = recorder.max_notification_id() or 0
        notifications = recorder.select_notifications(after, limit, topics=topics, inclusive_of_start=False)
        events = [(n.id, json.loads(n.state)) for n in notifications]
        last = notifications[-1].id if notifications else after
        next_after = last if len(notifications) >= limit else max(last, head, after)
        return FeedPage(events, next_after, max(head, last))

    def close(self) -> None:
        factory, self._factory, self._recorder = self._factory, None, None
        if factory is not None:
            with contextlib.suppress(Exception):
                factory.close()


def _create_append_function(conn: Any, recorder: Any) -> Any:
    """The feed's insert, as a function in the feed's schema (created under creating_store's lock): the recorder's
    EXCLUSIVE table lock (commit order = position order, as the library does), then the records whose key is not
    there yet, in the order given. Under the lock the check is exact: concurrent relays never race on a key, and
    no position is spent on a duplicate."""
    schema = Identifier(recorder.datastore.schema)
    table = Identifier(recorder.events_table_name)
    function = Identifier(f"xinfang_append_{recorder.events_table_name}"[:63])
    conn.execute(SQL(
        "CREATE OR REPLACE FUNCTION {schema}.{function}(ids uuid[], topics text[], states bytea[]) "
        "RETURNS SETOF bigint LANGUAGE plpgsql AS $append$ BEGIN "
        "SET LOCAL lock_timeout = '{lock_timeout}s'; "
        "LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE; "
        "RETURN QUERY INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
        "  SELECT n.id, 1, n.topic, n.state FROM unnest(ids, topics, states) WITH ORDINALITY AS n(id, topic, state, o) "
        "  WHERE NOT EXISTS (SELECT 1 FROM {schema}.{table} AS e WHERE e.originator_id = n.id) ORDER BY n.o "
        "  ON CONFLICT DO NOTHING RETURNING notification_id; "
        "END $append$").format(schema=schema, function=function, table=table,
                               lock_timeout=recorder.datastore.lock_timeout))
    return SQL("SELECT notification_id FROM {schema}.{function}(%s::uuid[], %s::text[], %s::bytea[]) "
               "AS notification_id").format(schema=schema, function=function)
