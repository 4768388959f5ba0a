"""Process recorders that record several tracking records with the events of one batch, so that consumers' effects
can be group-committed (each unit of a batch brings its own tracking record). The library records one per insert.
Selected through the library's PROCESS_RECORDER_TOPIC (see shared/runtime/eventstore.py). On SQLite the recorder also
seals events into the audit ledger (on PostgreSQL a trigger does: shared/audit/sealing.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, ProgrammingError, StoredEvent
from eventsourcing.postgres import PostgresProcessRecorder
from eventsourcing.sqlite import SQLiteProcessRecorder
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier, Literal

from shared.audit import sealing_sqlite

# PostgreSQL refuses a NOTIFY payload of 8000 bytes or more; a longer list of topics is sent as '' (unknown).
NOTIFY_PAYLOAD_LIMIT = 7900


class PostgresRecorderWithTrackings(PostgresProcessRecorder):
    """Writes a batch — its tracking records and its events — with one call of a database function, in one
    round trip and one implicit transaction, each column sent as one array in PostgreSQL's binary format.

    The library sends an array of composite values in text, escaping every event's bytes twice with regular
    expressions (measured: a sixth of the CPU a group-committed registration costs in intake), then commits in a
    second round trip. Under eventlet every round trip also waits for the ready green threads to yield, so it is
    the round trips that stretch a group commit. The function does what the library's transaction does: the
    tracking records first, then the EXCLUSIVE table lock (commit order = notification order), NOTIFY, and the
    insert RETURNING the notification ids in order; the audit trigger seals the events inside it. The NOTIFY
    names the topics it recorded (space-separated; '' when too many to name), so that a follower of some topics
    only reads the store when it may find one of them (shared/runtime/follower.py). eventsourcing is pinned, and
    tests/integration/test_recorder_contract.py compares what this stores with the library's recorder.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.datastore.single_row_tracking:
            raise ProgrammingError("the services' process recorder needs multi-row tracking (SINGLE_ROW_TRACKING=no)")
        schema = Identifier(self.datastore.schema)
        function = Identifier(f"xinfang_insert_{self.events_table_name}"[:63])
        id_type = SQL(self.datastore.originator_id_type)  # "uuid" or "text", checked by the library
        self._insert_batch = SQL(
            "SELECT notification_id FROM {schema}.{function}(%b::{id_type}[], %b::bigint[], %b::text[], %b::bytea[], "
            "%b::text[], %b::bigint[]) AS notification_id").format(schema=schema, function=function, id_type=id_type)
        self.sql_create_statements.append(SQL(
            "CREATE OR REPLACE FUNCTION {schema}.{function}(ids {id_type}[], versions bigint[], topics text[], "
            "states bytea[], tracking_names text[], tracking_ids bigint[]) RETURNS SETOF bigint "
            "LANGUAGE plpgsql AS $insert$ DECLARE recorded text; BEGIN "
            "INSERT INTO {schema}.{tracking} (application_name, notification_id) "
            "  SELECT * FROM unnest(tracking_names, tracking_ids); "
            "IF cardinality(ids) > 0 THEN "
            "  SET LOCAL lock_timeout = '{lock_timeout}s'; "
            "  LOCK TABLE {schema}.{events} IN EXCLUSIVE MODE; "
            "  recorded := (SELECT string_agg(DISTINCT topic, ' ') FROM unnest(topics) AS topic); "
            "  PERFORM pg_notify({channel}, CASE WHEN octet_length(recorded) <= {payload_limit} "
            "    THEN recorded ELSE '' END); "
            "  RETURN QUERY INSERT INTO {schema}.{events} (originator_id, originator_version, topic, state) "
            "    SELECT * FROM unnest(ids, versions, topics, states) RETURNING notification_id; "
            "END IF; "
            "END $insert$"
        ).format(schema=schema, function=function, id_type=id_type, tracking=Identifier(self.tracking_table_name),
                 events=Identifier(self.events_table_name), channel=Literal(self.channel_name),
                 payload_limit=Literal(NOTIFY_PAYLOAD_LIMIT),
                 lock_timeout=self.datastore.lock_timeout))

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        trackings = kwargs.get("trackings", ())
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            if trackings:
                self._check_has_multi_row_tracking_table(curs)  # once per process, as the library does
            curs.execute(self._insert_batch, (
                [event.originator_id for event in stored_events],
                [event.originator_version for event in stored_events],
                [event.topic for event in stored_events],
                [event.state for event in stored_events],
                [tracking.application_name for tracking in trackings],
                [tracking.notification_id for tracking in trackings],
            ), prepare=True)
            return [row["notification_id"] for row in curs.fetchall()] if stored_events else []


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
