"""Sealing for the SQLite embedded mode: the same ledger as on PostgreSQL (shared/audit/sealing.py), written in
Python inside the recorder's own insert transaction (SQLite has no SHA-256 function for a trigger), with the same
entry bytes (shared/audit/entries.py). Append-only guards are SQLite triggers."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from shared.audit.entries import NO_PREVIOUS_HASH, NO_PREVIOUS_INDEX, Entry, payload_hash
from shared.audit.merkle import leaf_hash


def create_statements(events_table: str) -> list[str]:
    guards = [
        f"CREATE TRIGGER IF NOT EXISTS audit_no_{op.lower()}_{table} BEFORE {op} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'append-only: {op} on {table} is refused'); END"
        for table in (events_table, "audit_leaf") for op in ("UPDATE", "DELETE")
    ]
    return [
        "CREATE TABLE IF NOT EXISTS audit_log_head (id INTEGER PRIMARY KEY CHECK (id = 1), size INTEGER NOT NULL, "
        "last_recorded_at INTEGER NOT NULL)",
        "INSERT OR IGNORE INTO audit_log_head VALUES (1, 0, 0)",
        "CREATE TABLE IF NOT EXISTS audit_stream_head (originator_id TEXT PRIMARY KEY, version INTEGER NOT NULL, "
        "leaf_index INTEGER NOT NULL, leaf_hash BLOB NOT NULL)",
        "CREATE TABLE IF NOT EXISTS audit_leaf (leaf_index INTEGER PRIMARY KEY, notification_id INTEGER NOT NULL "
        "UNIQUE, originator_id TEXT NOT NULL, originator_version INTEGER NOT NULL, entry BLOB NOT NULL, "
        "leaf_hash BLOB NOT NULL, UNIQUE (originator_id, originator_version))",
        "CREATE TABLE IF NOT EXISTS audit_checkpoint (size INTEGER PRIMARY KEY, root BLOB NOT NULL, note TEXT NOT NULL, "
        "created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)",
        "CREATE TABLE IF NOT EXISTS audit_witness (name TEXT PRIMARY KEY, size INTEGER NOT NULL)",
        *guards,
        # A kept checkpoint may only gain cosignatures (a longer note for the same size and root).
        "CREATE TRIGGER IF NOT EXISTS audit_checkpoint_kept BEFORE UPDATE ON audit_checkpoint "
        "WHEN NEW.size <> OLD.size OR NEW.root <> OLD.root "
        "BEGIN SELECT RAISE(ABORT, 'append-only: UPDATE on audit_checkpoint is refused'); END",
        "CREATE TRIGGER IF NOT EXISTS audit_no_delete_audit_checkpoint BEFORE DELETE ON audit_checkpoint "
        "BEGIN SELECT RAISE(ABORT, 'append-only: DELETE on audit_checkpoint is refused'); END",
    ]


def seal(cursor: Any, events_table: str, stored_events: Sequence[Any], notification_ids: Sequence[int]) -> None:
    """Append a leaf per event, in the caller's transaction (after the events were inserted). A store that held
    events before sealing was installed has them sealed first, in their order, at that moment."""
    cursor.execute("SELECT size, last_recorded_at FROM audit_log_head WHERE id = 1")
    size, last_at = cursor.fetchone()
    recorded_at = max(last_at, time.time_ns() // 1000)
    if size == 0:
        cursor.execute(f"SELECT rowid, originator_id, originator_version, topic, state FROM {events_table} "
                       "WHERE rowid < ? ORDER BY rowid", (min(notification_ids),))  # rowid: the notification id
        earlier = [(row[0], _Stored(row[1], row[2], row[3], row[4])) for row in cursor.fetchall()]
        if earlier:
            size = _seal(cursor, [e for _, e in earlier], [n for n, _ in earlier], size, recorded_at)
    size = _seal(cursor, stored_events, notification_ids, size, recorded_at)
    cursor.execute("UPDATE audit_log_head SET size = ?, last_recorded_at = ? WHERE id = 1", (size, recorded_at))


class _Stored:
    def __init__(self, originator_id: str, originator_version: int, topic: str, state: bytes) -> None:
        self.originator_id, self.originator_version, self.topic, self.state = (
            originator_id, originator_version, topic, bytes(state))


def _seal(cursor: Any, stored_events: Sequence[Any], notification_ids: Sequence[int], size: int,
          recorded_at: int) -> int:
    for event, notification_id in zip(stored_events, notification_ids, strict=True):
        originator = event.originator_id if isinstance(event.originator_id, UUID) else UUID(str(event.originator_id))
        cursor.execute("SELECT version, leaf_index, leaf_hash FROM audit_stream_head WHERE originator_id = ?",
                       (originator.hex,))
        head = cursor.fetchone()
        if head is None:
            if event.originator_version != 1:
                raise ValueError(f"audit: the first event of {originator} has version {event.originator_version}")
            prev_index, prev_hash = NO_PREVIOUS_INDEX, NO_PREVIOUS_HASH
        elif event.originator_version != head[0] + 1:
            raise ValueError(f"audit: event {event.originator_version} of {originator} follows version {head[0]}")
        else:
            prev_index, prev_hash = head[1], bytes(head[2])
        entry = Entry(size, originator, event.originator_version, prev_index, prev_hash, event.topic,
                      payload_hash(event.state), recorded_at).encode()
        digest = leaf_hash(entry)
        cursor.execute("INSERT INTO audit_leaf VALUES (?, ?, ?, ?, ?, ?)",
                       (size, notification_id, originator.hex, event.originator_version, entry, digest))
        cursor.execute("INSERT INTO audit_stream_head VALUES (?, ?, ?, ?) ON CONFLICT (originator_id) DO UPDATE "
                       "SET version = excluded.version, leaf_index = excluded.leaf_index, "
                       "leaf_hash = excluded.leaf_hash", (originator.hex, event.originator_version, size, digest))
        size += 1
    return size
