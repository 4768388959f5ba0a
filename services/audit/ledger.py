"""Reading a service store's audit ledger and events, and signing checkpoints of it: what the operator's commands
run on (PostgreSQL or the SQLite embedded mode). The verifier never imports this module."""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO
from uuid import UUID

from psycopg import sql

from services.audit.checkpointer import Checkpointer
from shared.audit.checkpoint import load_private_key
from shared.audit.verify import Leaf, StoredEvent
from shared.runtime.eventstore import postgres_schema, sqlite_folder
from shared.runtime.settings import PlatformSettings

EXPORT_FORMAT = "petition-audit/export/v1"


def origin(county_code: str, service: str) -> str:
    """The log's permanent identity (bump v1 only if a log must ever be restarted)."""
    return f"xinfang.{county_code}/{service}/audit/v1"


def ledger_of(settings: PlatformSettings, service: str, conn: Any = None) -> Ledger:
    """The service's ledger: on PostgreSQL through `conn` (a psycopg connection), in the embedded mode in the
    service's SQLite file."""
    if settings.event_store == "postgres":
        if conn is None:
            raise ValueError("a PostgreSQL ledger is read through a connection")
        return Ledger.postgres_store(conn, postgres_schema(settings, service), f"{service}_events")
    return Ledger.sqlite_store(sqlite_folder(settings, service) / "events.sqlite3")


@dataclass(frozen=True)
class WitnessEndpoint:
    name: str
    url: str  # e.g. http://witness.province.example:8600


class Ledger:
    """One service store's ledger. Queries are written once, with `?` placeholders and `{table}` names that each
    dialect fills in (`Ledger.postgres`, `Ledger.sqlite`)."""

    def __init__(self, conn: Any, tables: dict[str, str], placeholder: str, notification_id: str,
                 id_param: Any) -> None:
        self.conn, self._tables, self._placeholder = conn, tables, placeholder
        self._notification_id, self._id_param = notification_id, id_param
        self.postgres = placeholder == "%s"

    @classmethod
    def postgres_store(cls, conn: Any, schema: str, events_table: str) -> Ledger:
        def name(*parts: str) -> str:
            return sql.Identifier(*parts).as_string(conn)

        tables = {"events": name(schema, events_table), "leaf": name(schema, "audit_leaf"),
                  "checkpoint": name(schema, "audit_checkpoint"), "witness": name(schema, "audit_witness")}
        return cls(conn, tables, "%s", "notification_id", lambda u: u)

    @classmethod
    def sqlite_store(cls, path: Path, events_table: str = "stored_events") -> Ledger:
        # A service that never stored anything has no file yet: its ledger is empty (`exists()` is False).
        conn = sqlite3.connect(path if path.exists() else ":memory:", isolation_level=None)
        tables = {"events": events_table, "leaf": "audit_leaf", "checkpoint": "audit_checkpoint",
                  "witness": "audit_witness"}
        return cls(conn, tables, "?", "rowid", lambda u: u.hex)

    def _q(self, text: str, params: Iterable[Any] = ()) -> Any:
        statement = text.replace("{nid}", self._notification_id).format(**self._tables)
        return self.conn.execute(statement.replace("?", self._placeholder), tuple(params))

    def exists(self) -> bool:
        if self.postgres:
            return self._q("SELECT to_regclass(?)", (self._tables["leaf"],)).fetchone()[0] is not None
        return self._q("SELECT 1 FROM sqlite_master WHERE name = 'audit_leaf'").fetchone() is not None

    def leaves(self, upto: int | None = None) -> Iterator[Leaf]:
        where, params = ("WHERE leaf_index < ?", (upto,)) if upto is not None else ("", ())
        for index, entry, leaf_hash in self._q(f"SELECT leaf_index, entry, leaf_hash FROM {{leaf}} {where} "
                                               "ORDER BY leaf_index", params):
            yield Leaf(index, bytes(entry), bytes(leaf_hash))

    def events_stored(self) -> Iterator[StoredEvent]:
        for originator, version, topic, state in self._q(
                "SELECT originator_id, originator_version, topic, state FROM {events} ORDER BY {nid}"):
            yield StoredEvent(UUID(str(originator)), version, topic, bytes(state))

    def case_rows(self, aggregate_ids: list[UUID]) -> list[tuple[int, bytes, str, bytes]]:
        """(leaf index, entry, topic, stored bytes) of every event of these aggregates, in leaf order."""
        marks = ", ".join("?" for _ in aggregate_ids)
        return [(index, bytes(entry), topic, bytes(state)) for index, entry, topic, state in self._q(
            "SELECT l.leaf_index, l.entry, e.topic, e.state FROM {leaf} AS l JOIN {events} AS e "
            "ON e.originator_id = l.originator_id AND e.originator_version = l.originator_version "
            f"WHERE l.originator_id IN ({marks}) ORDER BY l.leaf_index", [self._id_param(a) for a in aggregate_ids])]

    def checkpoint(self, log_origin: str, key_file: Path, witnesses: list[WitnessEndpoint] | None = None) -> str:
        """Sign the ledger as it stands, have the witnesses cosign it, keep the note (services/audit/checkpointer)."""
        return Checkpointer(self, log_origin, load_private_key(key_file), witnesses or []).run_once()

    def store_checkpoint(self, size: int, tree_root: bytes, note: str) -> None:
        """Keep a signed note. A second note for the same size replaces the first only for the same root and not
        with fewer cosignatures; a note for another root at a kept size is never stored."""
        self._q("INSERT INTO {checkpoint} (size, root, note) VALUES (?, ?, ?) ON CONFLICT (size) DO UPDATE "
                "SET note = excluded.note WHERE {checkpoint}.root = excluded.root "
                "AND length(excluded.note) >= length({checkpoint}.note)", (size, tree_root, note))

    def latest_signed(self) -> tuple[int, bytes] | None:
        row = self._q("SELECT size, root FROM {checkpoint} ORDER BY size DESC LIMIT 1").fetchone()
        return (row[0], bytes(row[1])) if row else None

    def latest_checkpoint(self) -> str | None:
        row = self._q("SELECT note FROM {checkpoint} ORDER BY size DESC LIMIT 1").fetchone()
        return row[0] if row else None

    def witness_size(self, name: str) -> int:
        row = self._q("SELECT size FROM {witness} WHERE name = ?", (name,)).fetchone()
        return row[0] if row else 0

    def set_witness_size(self, name: str, size: int) -> None:
        self._q("INSERT INTO {witness} VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET size = excluded.size",
                (name, size))

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

    def close(self) -> None:
        if not self.postgres:
            self.conn.close()


def _event_line(event: StoredEvent) -> dict[str, Any]:
    return {"event": str(event.originator_id), "version": event.originator_version, "topic": event.topic,
            "state": base64.b64encode(event.state).decode()}
