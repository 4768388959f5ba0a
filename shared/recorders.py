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

from shared.audit import sealing_sqlite


class PostgresRecorderWithTrackings(PostgresProcessRecorder):
    def _insert_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        for tracking in kwargs.get("trackings", ()):
            self._insert_tracking(curs, tracking=tracking)
        super()._insert_events(curs, stored_events, **kwargs)


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
