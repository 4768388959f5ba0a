"""Sealing in the same transaction as each event insert, in PostgreSQL (docs/audit.md, "Sealing (PostgreSQL)").

An AFTER INSERT statement trigger on the library's events table appends, for every stored event, an `audit_leaf` row: a
gapless leaf index (not the notification id, which may have gaps), the per-aggregate chain (the previous event's
leaf index and hash; versions must be contiguous from 1), the hash of the stored bytes and the database clock,
forced non-decreasing. It serialises on the single `audit_log_head` row; the library already holds an exclusive
lock on the table while it inserts, so this costs little. BEFORE UPDATE/DELETE/TRUNCATE triggers refuse changes
to the events and the ledger: a guard against accidents and bugs, not against a superuser — the Merkle log,
signed checkpoints and witnesses are what detect that.

The SQLite embedded mode is sealed by its recorder instead (shared/audit/sealing_sqlite.py).
"""

from __future__ import annotations

import logging
import time
from typing import Any
from uuid import UUID

from psycopg import sql

from shared.audit.entries import NO_PREVIOUS_HASH, NO_PREVIOUS_INDEX, Entry, payload_hash
from shared.audit.merkle import leaf_hash

log = logging.getLogger(__name__)

_DDL = r"""
CREATE TABLE IF NOT EXISTS {schema}.audit_log_head (
    id boolean PRIMARY KEY CHECK (id), size bigint NOT NULL, last_recorded_at bigint NOT NULL);
INSERT INTO {schema}.audit_log_head VALUES (true, 0, 0) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS {schema}.audit_stream_head (
    originator_id uuid PRIMARY KEY, version bigint NOT NULL, leaf_index bigint NOT NULL, leaf_hash bytea NOT NULL);
CREATE TABLE IF NOT EXISTS {schema}.audit_leaf (
    leaf_index bigint PRIMARY KEY,
    notification_id bigint NOT NULL UNIQUE,
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    entry bytea NOT NULL,
    leaf_hash bytea NOT NULL,
    UNIQUE (originator_id, originator_version));
CREATE TABLE IF NOT EXISTS {schema}.audit_checkpoint (
    size bigint PRIMARY KEY, root bytea NOT NULL, note text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS {schema}.audit_witness (name text PRIMARY KEY, size bigint NOT NULL);

CREATE OR REPLACE FUNCTION {schema}.audit_seal() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $seal$
DECLARE
    leaf bigint;
    last_at bigint;
    at_us bigint;
    r record;
    at integer;
    prev_version bigint;
    prev_index bigint;
    prev_hash bytea;
    topic_bytes bytea;
    leaf_entry bytea;
    leaf_digest bytea;
    leaf_indexes bigint[] := '{}';
    notification_ids bigint[] := '{}';
    originators uuid[] := '{}';
    versions bigint[] := '{}';
    entries bytea[] := '{}';
    hashes bytea[] := '{}';
    -- The stream heads this statement moves, written once each at the end; `head_new`: the aggregate starts here.
    head_ids uuid[] := '{}';
    head_versions bigint[] := '{}';
    head_leaves bigint[] := '{}';
    head_hashes bytea[] := '{}';
    head_new boolean[] := '{}';
    payload_tag CONSTANT bytea := convert_to(E'petition-audit/payload/v1\n', 'UTF8');
    entry_tag CONSTANT bytea := convert_to(E'petition-audit/entry/v1\n', 'UTF8');
BEGIN
    -- Once per INSERT statement (the library writes a transaction's events in one): one read and one update of
    -- the log head, one insert of the leaves, one write of the stream heads it moved; the clock is read once.
    SELECT size, last_recorded_at INTO leaf, last_at FROM {schema}.audit_log_head WHERE id FOR UPDATE;
    at_us := greatest(last_at, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint);
    FOR r IN SELECT s.originator_id, s.originator_version, s.topic, s.state, s.notification_id
             FROM sealed_rows AS s ORDER BY s.notification_id LOOP
        at := array_position(head_ids, r.originator_id);  -- an earlier event of this statement
        IF at IS NOT NULL THEN
            prev_version := head_versions[at]; prev_index := head_leaves[at]; prev_hash := head_hashes[at];
        ELSIF r.originator_version = 1 THEN
            -- No earlier event can exist: the events table's key holds version 1 once per aggregate, and a stale
            -- head (a tampered ledger) makes the strict insert below fail.
            prev_version := 0; prev_index := -1;  -- u64 2^64-1: no previous event
            prev_hash := '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea;
        ELSE
            SELECT h.version, h.leaf_index, h.leaf_hash INTO prev_version, prev_index, prev_hash
                FROM {schema}.audit_stream_head AS h WHERE h.originator_id = r.originator_id;
            IF prev_version IS NULL THEN
                RAISE EXCEPTION 'audit: the first event of % has version %, not 1', r.originator_id, r.originator_version;
            END IF;
        END IF;
        IF r.originator_version <> prev_version + 1 THEN
            RAISE EXCEPTION 'audit: event % of % follows version %', r.originator_version, r.originator_id, prev_version;
        END IF;
        topic_bytes := convert_to(r.topic, 'UTF8');
        leaf_entry := entry_tag
            || int8send(leaf) || uuid_send(r.originator_id) || int8send(r.originator_version)
            || int8send(prev_index) || prev_hash
            || substring(int4send(length(topic_bytes)) FROM 3) || topic_bytes  -- u16, as Python's ">H"
            || sha256(payload_tag || r.state)
            || int8send(at_us);
        leaf_digest := sha256('\x00'::bytea || leaf_entry);
        IF at IS NULL THEN
            head_ids := head_ids || r.originator_id;
            head_versions := head_versions || r.originator_version;
            head_leaves := head_leaves || leaf;
            head_hashes := head_hashes || leaf_digest;
            head_new := head_new || (r.originator_version = 1);
        ELSE
            head_versions[at] := r.originator_version; head_leaves[at] := leaf; head_hashes[at] := leaf_digest;
        END IF;
        leaf_indexes := leaf_indexes || leaf;
        notification_ids := notification_ids || r.notification_id;
        originators := originators || r.originator_id;
        versions := versions || r.originator_version;
        entries := entries || leaf_entry;
        hashes := hashes || leaf_digest;
        leaf := leaf + 1;
    END LOOP;
    INSERT INTO {schema}.audit_leaf
        SELECT * FROM unnest(leaf_indexes, notification_ids, originators, versions, entries, hashes);
    INSERT INTO {schema}.audit_stream_head
        SELECT h.i, h.v, h.l, h.d FROM unnest(head_ids, head_versions, head_leaves, head_hashes, head_new)
            AS h(i, v, l, d, n) WHERE h.n;
    UPDATE {schema}.audit_stream_head AS s SET version = h.v, leaf_index = h.l, leaf_hash = h.d
        FROM unnest(head_ids, head_versions, head_leaves, head_hashes, head_new) AS h(i, v, l, d, n)
        WHERE NOT h.n AND s.originator_id = h.i;
    UPDATE {schema}.audit_log_head SET size = leaf, last_recorded_at = at_us WHERE id;
    RETURN NULL;
END
$seal$;

CREATE OR REPLACE FUNCTION {schema}.audit_checkpoint_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $guard$
BEGIN
    -- A kept checkpoint may gain cosignatures (a longer note for the same size and root); nothing else.
    IF TG_OP = 'UPDATE' AND NEW.size = OLD.size AND NEW.root = OLD.root THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'append-only: % on %.% is refused', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME;
END
$guard$;

CREATE OR REPLACE FUNCTION {schema}.audit_refuse() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $refuse$
BEGIN
    RAISE EXCEPTION 'append-only: % on %.% is refused', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME;
END
$refuse$;

"""

# Created once per store: re-creating a trigger takes an exclusive lock on a table other processes write to.
_TRIGGERS = """
CREATE TRIGGER audit_seal AFTER INSERT ON {schema}.{events} REFERENCING NEW TABLE AS sealed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {schema}.audit_seal();
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON {schema}.{events}
    FOR EACH ROW EXECUTE FUNCTION {schema}.audit_refuse();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON {schema}.{events}
    FOR EACH STATEMENT EXECUTE FUNCTION {schema}.audit_refuse();
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON {schema}.audit_leaf
    FOR EACH ROW EXECUTE FUNCTION {schema}.audit_refuse();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON {schema}.audit_leaf
    FOR EACH STATEMENT EXECUTE FUNCTION {schema}.audit_refuse();
CREATE TRIGGER audit_checkpoint_kept BEFORE UPDATE OR DELETE ON {schema}.audit_checkpoint
    FOR EACH ROW EXECUTE FUNCTION {schema}.audit_checkpoint_guard();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON {schema}.audit_checkpoint
    FOR EACH STATEMENT EXECUTE FUNCTION {schema}.audit_refuse();
"""
TRIGGER_COUNT = 7  # every trigger above: all present and enabled, or sealing is re-installed


def install(conn: Any, schema: str, events_table: str) -> None:
    """Create the ledger tables, functions and triggers on `schema`.`events_table` (idempotent; the caller holds the
    store-creation lock). Events stored before sealing was installed are sealed first, in their order."""

    def render(template: str) -> str:
        return template.replace("{schema}", sql.Identifier(schema).as_string(conn)).replace(
            "{events}", sql.Identifier(events_table).as_string(conn))

    conn.execute(render(_DDL))
    tables = [render("{schema}.{events}"), render("{schema}.audit_leaf"), render("{schema}.audit_checkpoint")]
    enabled = conn.execute(
        "SELECT count(*) FROM pg_trigger WHERE tgrelid = ANY(%s::regclass[]) AND tgname LIKE 'audit%%' "
        "AND tgenabled = 'O'", (tables,)).fetchone()[0]
    if enabled == TRIGGER_COUNT:
        return
    with conn.transaction():
        # No insert may slip between sealing what is there and the triggers taking over.
        conn.execute(render("LOCK TABLE {schema}.{events} IN EXCLUSIVE MODE"))
        if enabled:  # some were dropped or disabled: put them all back, and say so
            log.error("SECURITY: audit triggers on %s were missing or disabled; re-installing them", tables[0])
            for table in tables:
                for (name,) in conn.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass "
                                            "AND tgname LIKE 'audit%%'", (table,)).fetchall():
                    conn.execute(f"DROP TRIGGER {sql.Identifier(name).as_string(conn)} ON {table}")
        _seal_existing(conn, render)
        conn.execute(render(_TRIGGERS))


def _seal_existing(conn: Any, render: Any) -> None:
    """A store that held events before sealing was installed has them sealed now, in their order."""
    if conn.execute(render("SELECT size FROM {schema}.audit_log_head")).fetchone()[0] != 0:
        return
    rows = conn.execute(render("SELECT notification_id, originator_id, originator_version, topic, state "
                               "FROM {schema}.{events} ORDER BY notification_id")).fetchall()
    recorded_at = time.time_ns() // 1000
    heads: dict[UUID, tuple[int, int, bytes]] = {}
    for leaf, (notification_id, originator, version, topic, state) in enumerate(rows):
        previous = heads.get(originator)
        prev_index, prev_hash = (NO_PREVIOUS_INDEX, NO_PREVIOUS_HASH) if previous is None else previous[1:]
        entry = Entry(leaf, originator, version, prev_index, prev_hash, topic, payload_hash(bytes(state)),
                      recorded_at).encode()
        heads[originator] = (version, leaf, leaf_hash(entry))
        conn.execute(render("INSERT INTO {schema}.audit_leaf VALUES (%s, %s, %s, %s, %s, %s)"),
                     (leaf, notification_id, originator, version, entry, leaf_hash(entry)))
    for originator, (version, leaf, digest) in heads.items():
        conn.execute(render("INSERT INTO {schema}.audit_stream_head VALUES (%s, %s, %s, %s)"),
                     (originator, version, leaf, digest))
    conn.execute(render("UPDATE {schema}.audit_log_head SET size = %s, last_recorded_at = %s"),
                 (len(rows), recorded_at))
