"""Reading a service store's audit ledger and events (PostgreSQL), and signing checkpoints of it: what the
checkpoint and export commands run on the operator's side. The verifier never imports this module."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO
from uuid import UUID

import psycopg
from psycopg import sql

from shared.audit.checkpoint import load_private_key
from shared.audit.verify import Leaf, StoredEvent

EXPORT_FORMAT = "petition-audit/export/v1"


def origin(county_code: str, service: str) -> str:
    """The log's permanent identity (bump v1 only if a log must ever be restarted)."""
    return f"xinfang.{county_code}/{service}/audit/v1"


@dataclass(frozen=True)
class WitnessEndpoint:
    name: str
    url: str  # e.g. http://witness.province.example:8600


class Ledger:
    def __init__(self, conn: psycopg.Connection, schema: str, events_table: str) -> None:
        self.conn = conn
        self.schema = sql.Identifier(schema)
        self.events = sql.Identifier(schema, events_table)

    def leaves(self, upto: int | None = None) -> Iterator[Leaf]:
        query = sql.SQL("SELECT leaf_index, entry, leaf_hash FROM {}.audit_leaf {} ORDER BY leaf_index").format(
            self.schema, sql.SQL("WHERE leaf_index < %s" if upto is not None else ""))
        for index, entry, leaf_hash in self.conn.execute(query, (upto,) if upto is not None else ()):
            yield Leaf(index, bytes(entry), bytes(leaf_hash))

    def events_stored(self) -> Iterator[StoredEvent]:
        query = sql.SQL("SELECT originator_id, originator_version, topic, state FROM {} ORDER BY notification_id")
        for originator, version, topic, state in self.conn.execute(query.format(self.events)):
            yield StoredEvent(UUID(str(originator)), version, topic, bytes(state))

    def checkpoint(self, log_origin: str, key_file: Path, witnesses: list[WitnessEndpoint] | None = None) -> str:
        """Sign the ledger as it stands, have the witnesses cosign it, keep the note (shared/audit/checkpointer)."""
        from shared.audit.checkpointer import Checkpointer

        return Checkpointer(self, log_origin, load_private_key(key_file), witnesses or []).run_once()

    def store_checkpoint(self, size: int, tree_root: bytes, note: str) -> None:
        """Keep a signed note. A second note for the same size replaces the first only for the same root (it
        carries more cosignatures); a note for another root at a kept size is never stored."""
        self.conn.execute(sql.SQL("INSERT INTO {0}.audit_checkpoint (size, root, note) VALUES (%s, %s, %s) "
                                  "ON CONFLICT (size) DO UPDATE SET note = EXCLUDED.note "
                                  "WHERE {0}.audit_checkpoint.root = EXCLUDED.root "
                                  "AND length(EXCLUDED.note) > length({0}.audit_checkpoint.note)")
                          .format(self.schema), (size, tree_root, note))

    def latest_signed(self) -> tuple[int, bytes] | None:
        row = self.conn.execute(sql.SQL("SELECT size, root FROM {}.audit_checkpoint ORDER BY size DESC LIMIT 1")
                                .format(self.schema)).fetchone()
        return (row[0], bytes(row[1])) if row else None

    def witness_size(self, name: str) -> int:
        row = self.conn.execute(sql.SQL("SELECT size FROM {}.audit_witness WHERE name = %s").format(self.schema),
                                (name,)).fetchone()
        return row[0] if row else 0

    def set_witness_size(self, name: str, size: int) -> None:
        self.conn.execute(sql.SQL("INSERT INTO {}.audit_witness VALUES (%s, %s) ON CONFLICT (name) DO UPDATE "
                                  "SET size = EXCLUDED.size").format(self.schema), (name, size))

    def latest_checkpoint(self) -> str | None:
        row = self.conn.execute(sql.SQL("SELECT note FROM {}.audit_checkpoint ORDER BY size DESC LIMIT 1")
                                .format(self.schema)).fetchone()
        return row[0] if row else None

    def export(self, log_origin: str, out: TextIO) -> int:
        """The full log as JSON lines: a header with the latest checkpoint, every leaf, every stored event."""
        out.write(json.dumps({"format": EXPORT_FORMAT, "origin": log_origin,
                              "checkpoint": self.latest_checkpoint()}, ensure_ascii=False) + "\n")
        count = 0
        for leaf in self.leaves():
            out.write(json.dumps({"leaf": leaf.leaf_index, "entry": base64.b64encode(leaf.entry).decode(),
                                  "leaf_hash": leaf.leaf_hash.hex()}) + "\n")
        for event in self.events_stored():
            out.write(json.dumps(_event_line(event)) + "\n")
            count += 1
        return count


def _event_line(event: StoredEvent) -> dict[str, Any]:
    return {"event": str(event.originator_id), "version": event.originator_version, "topic": event.topic,
            "state": base64.b64encode(event.state).decode()}
