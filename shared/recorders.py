"""Process recorders that record several tracking records with one insert, so that consumers' effects can be
group-committed (each unit of a batch brings its own tracking record). The library records one per insert.
Selected through the library's PROCESS_RECORDER_TOPIC (see shared/eventstore.py). On SQLite the recorder also
seals events into the audit ledger (on PostgreSQL a trigger does: shared/audit/sealing.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresProcessRecorder
from eventsourcing.sqlite import SQLiteProcessRecorder
from psycopg.sql import SQL, Identifier

from shared.audit import sealing_sqlite


class PostgresRecorderWithTrackings(PostgresProcessRecorder):
    """Also sends a batch as one array per column in PostgreSQL's binary format. The library sends an array of
    composite values in text, escaping every event's bytes twice with regular expressions: measured, that was a
    sixth of the CPU a group-committed registration costs in the intake process. Same statement shape (insert
    from unnest, RETURNING the notification ids in order), same table lock and NOTIFY; eventsourcing is pinned and
    tests/integration/test_recorder_contract.py fails if the library's insert path changes under this."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        schema, table = Identifier(self.datastore.schema), Identifier(self.events_table_name)
        id_type = SQL(self.datastore.originator_id_type)  # "uuid" or "text", checked by the library
        self._insert_columns = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%b::{id_type}[], %b::bigint[], %b::text[], %b::bytea[]) RETURNING notification_id"
        ).format(schema=schema, table=table, id_type=id_type)
        self._insert_trackings = SQL(
            "INSERT INTO {schema}.{table} (application_name, notification_id) "
            "SELECT * FROM unnest(%b::text[], %b::bigint[])"
        ).format(schema=schema, table=Identifier(self.tracking_table_name))

    def _insert_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        trackings = kwargs.get("trackings", ())
        if trackings and not self.datastore.single_row_tracking:
            self._check_has_multi_row_tracking_table(curs)
            curs.execute(self._insert_trackings, ([t.application_name for t in trackings],
                                                  [t.notification_id for t in trackings]), prepare=True)
        else:
            for tracking in trackings:
                self._insert_tracking(curs, tracking=tracking)
        super()._insert_events(curs, stored_events, **kwargs)

    def _insert_stored_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        self._lock_table(curs)
        self._notify_channel(curs)
        curs.execute(self._insert_columns, (
            [event.originator_id for event in stored_events],
            [event.originator_version for event in stored_events],
            [event.topic for event in stored_events],
            [event.state for event in stored_events],
        ), prepare=True)


class SQLiteRecorderWithTrackings(SQLiteProcessRecorder):
    """Also seals every event into the audit ledger in the same transaction (shared/audit/sealing_sqlite.py)."""

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *sealing_sqlite.create_statements(self.events_table_name)]

    def _insert_events(self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        returning = super()._insert_events(c, stored_events, **kwargs)
        if stored_events:
            sealing_sqlite.seal(c, self.events_table_name, stored_events, returning or [])
        for tracking in kwargs.get("trackings", ()):
            self._insert_tracking(c, tracking)
        return returning
