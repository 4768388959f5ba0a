"""Sealing on a real PostgreSQL: every event inserted by the services is sealed in the same transaction, with the
same entry bytes the Python verifier computes; the events and the ledger refuse updates, deletes and truncation;
and a superuser who edits, deletes or reorders events behind the guards is caught, naming the event."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest

from services.intake.application import IntakeApplication
from services.intake.settings import IntakeSettings
from shared.audit.entries import Entry, payload_hash
from shared.audit.verify import Leaf, StoredEvent, verify_ledger
from shared.language.contracts.registration import RegisterPetition
from shared.runtime.eventstore import postgres_conninfo, postgres_schema
from tests.support import samples


@pytest.fixture
def intake(settings_for, closing) -> IntakeApplication:
    app = closing(IntakeApplication(settings_for(IntakeSettings, store="postgres")))
    for _ in range(3):
        app.register_petition(RegisterPetition.model_validate(samples.petition()))
    person = {"id_number": samples.id_number(), "phone": samples.mobile()}
    for _ in range(2):  # one person twice: the petitioner files get a second version
        app.register_petition(RegisterPetition.model_validate(samples.petition(**person)))
    return app


def database(app: IntakeApplication) -> psycopg.Connection:
    return psycopg.connect(postgres_conninfo(app.settings), autocommit=True)


def names(app: IntakeApplication) -> tuple[str, str]:
    schema = postgres_schema(app.settings, "intake")
    return f'"{schema}"', f'"{schema}"."{app.recorder.events_table_name}"'


def read(app: IntakeApplication) -> tuple[list[Leaf], list[StoredEvent]]:
    schema, events = names(app)
    with database(app) as conn:
        leaves = [Leaf(i, bytes(e), bytes(h)) for i, e, h in
                  conn.execute(f"SELECT leaf_index, entry, leaf_hash FROM {schema}.audit_leaf ORDER BY leaf_index")]
        stored = [StoredEvent(UUID(str(o)), v, t, bytes(s)) for o, v, t, s in
                  conn.execute(f"SELECT originator_id, originator_version, topic, state FROM {events}")]
    return leaves, stored


def as_superuser(app: IntakeApplication, *statements: str) -> None:
    """What a DBA can do: switch the guards off, change the table, switch them on."""
    _schema, events = names(app)
    with database(app) as conn:
        conn.execute(f"ALTER TABLE {events} DISABLE TRIGGER USER")
        for statement in statements:
            conn.execute(statement)
        conn.execute(f"ALTER TABLE {events} ENABLE TRIGGER USER")


def test_every_event_is_sealed_with_the_bytes_the_verifier_computes(intake):
    leaves, stored = read(intake)

    assert len(leaves) == len(stored) == 5 * 3  # each petition, and an event on each of its two petitioner files
    assert [leaf.leaf_index for leaf in leaves] == list(range(len(leaves)))
    for leaf in leaves:
        entry = Entry.decode(leaf.entry)
        event = next(e for e in stored if (e.originator_id, e.originator_version)
                     == (entry.originator_id, entry.originator_version))
        again = Entry(entry.leaf_index, event.originator_id, event.originator_version, entry.prev_leaf_index,
                      entry.prev_leaf_hash, event.topic, payload_hash(event.state), entry.recorded_at_us)
        assert again.encode() == leaf.entry  # SQL and Python agree byte for byte
    verdict = verify_ledger(leaves, stored)
    assert verdict.ok, str(verdict)
    assert verdict.checked == len(stored)


@pytest.mark.parametrize("statement", ["UPDATE {events} SET topic = topic", "DELETE FROM {events}",
                                       "TRUNCATE {events}", "DELETE FROM {schema}.audit_leaf",
                                       "UPDATE {schema}.audit_leaf SET entry = entry",
                                       "TRUNCATE {schema}.audit_checkpoint"])
def test_the_events_and_the_ledger_are_append_only(intake, statement):
    schema, events = names(intake)
    with database(intake) as conn, pytest.raises(psycopg.errors.RaiseException, match="append-only"):
        conn.execute(statement.format(schema=schema, events=events))


def some_event(app: IntakeApplication, version: int = 1) -> dict[str, Any]:
    _schema, events = names(app)
    with database(app) as conn:
        row = conn.execute(f"SELECT originator_id, originator_version FROM {events} WHERE originator_version = %s "
                           "ORDER BY notification_id LIMIT 1", (version,)).fetchone()
    return {"id": str(row[0]), "version": row[1]}


def test_a_changed_byte_is_caught_and_the_event_named(intake):
    target = some_event(intake)
    _schema, events = names(intake)
    as_superuser(intake, f"UPDATE {events} SET state = overlay(state placing '\\x20'::bytea from 10 for 1) "
                         f"WHERE originator_id = '{target['id']}' AND originator_version = 1")

    verdict = verify_ledger(*read(intake))

    assert not verdict.ok
    assert target["id"] in str(verdict) and "bytes were changed" in str(verdict)


def test_a_deleted_event_is_caught(intake):
    target = some_event(intake, version=2)
    _schema, events = names(intake)
    as_superuser(intake, f"DELETE FROM {events} WHERE originator_id = '{target['id']}' AND originator_version = 2")

    verdict = verify_ledger(*read(intake))

    assert not verdict.ok and "missing from the store" in str(verdict) and target["id"] in str(verdict)


def test_two_events_swapped_are_caught(intake):
    target = some_event(intake, version=2)
    _schema, events = names(intake)
    as_superuser(intake,
                 f"UPDATE {events} SET originator_version = 99 WHERE originator_id = '{target['id']}' "
                 "AND originator_version = 1",
                 f"UPDATE {events} SET originator_version = 1 WHERE originator_id = '{target['id']}' "
                 "AND originator_version = 2",
                 f"UPDATE {events} SET originator_version = 2 WHERE originator_id = '{target['id']}' "
                 "AND originator_version = 99")

    verdict = verify_ledger(*read(intake))

    assert not verdict.ok and target["id"] in str(verdict)


def test_an_event_inserted_around_the_ledger_is_caught(intake):
    target = some_event(intake, version=2)
    _schema, events = names(intake)
    as_superuser(intake, f"INSERT INTO {events} (originator_id, originator_version, topic, state) "
                         f"SELECT originator_id, 3, topic, state FROM {events} "
                         f"WHERE originator_id = '{target['id']}' AND originator_version = 2")

    verdict = verify_ledger(*read(intake))

    assert not verdict.ok and "not sealed" in str(verdict)


def test_several_events_of_one_aggregate_in_one_transaction_chain_on_each_other(settings_for, closing):
    from services.supervision.bootstrap import build_application as build_supervision
    from services.supervision.settings import SupervisionSettings

    supervision = closing(build_supervision(settings_for(SupervisionSettings, store="postgres")))
    earlier = samples.registered_event(1)
    supervision.open_case(earlier, samples.particulars(earlier))
    # A repeat of an open case is opened and refused in one save: two events of one case in one statement.
    repeat = samples.registered_event(2, repeat_of=earlier.subject,
                                      similar_petitions=[{"petition_id": earlier.subject, "similarity": 90.0}])
    supervision.open_case(repeat, samples.particulars(repeat))
    schema = postgres_schema(supervision.settings, "supervision")
    events = f'"{schema}"."{supervision.recorder.events_table_name}"'
    with psycopg.connect(postgres_conninfo(supervision.settings), autocommit=True) as conn:
        leaves = [Leaf(i, bytes(e), bytes(h)) for i, e, h in
                  conn.execute(f'SELECT leaf_index, entry, leaf_hash FROM "{schema}".audit_leaf')]
        stored = [StoredEvent(UUID(str(o)), v, t, bytes(s)) for o, v, t, s in
                  conn.execute(f"SELECT originator_id, originator_version, topic, state FROM {events}")]

    verdict = verify_ledger(leaves, stored)
    assert verdict.ok, str(verdict)
    assert verdict.checked == 3


def test_statements_from_outside_the_application_are_sealed_or_refused(intake):
    # The trigger writes each stream head once per statement: aggregates interleaved within one statement, heads
    # carried over from an earlier statement, and a version that skips or repeats are all handled in SQL alone.
    schema, events = names(intake)
    a, b, c = (str(uuid4()) for _ in range(3))

    def insert(conn: psycopg.Connection, *rows: tuple[str, int]) -> None:
        values = ", ".join(f"('{o}', {v}, 'tests:Raw', '\\x7b7d'::bytea)" for o, v in rows)
        conn.execute(f"INSERT INTO {events} (originator_id, originator_version, topic, state) VALUES {values}")

    with database(intake) as conn:
        insert(conn, (a, 1), (b, 1), (a, 2), (c, 1), (b, 2), (a, 3))
        insert(conn, (b, 3), (a, 4), (b, 4))
        for refused in [((a, 6),), ((c, 1),), ((uuid4(), 2),), ((b, 5), (c, 3))]:
            with pytest.raises(psycopg.Error):
                insert(conn, *refused)
        heads = dict(conn.execute(f"SELECT originator_id::text, version FROM {schema}.audit_stream_head "
                                  "WHERE originator_id = ANY(%s::uuid[])", ([a, b, c],)).fetchall())

    assert heads == {a: 4, b: 4, c: 1}
    verdict = verify_ledger(*read(intake))
    assert verdict.ok, str(verdict)
    assert verdict.checked == 15 + 9


# --- checkpoints, export and the offline verifier ------------------------------------------------------------------

def ledger_for(app: IntakeApplication, conn: psycopg.Connection):
    from services.audit.ledger import Ledger

    return Ledger.postgres_store(conn, postgres_schema(app.settings, "intake"), app.recorder.events_table_name)


def exported(app: IntakeApplication, key_file, *, checkpoint: bool = True) -> list[str]:
    import io

    from services.audit.ledger import origin

    with database(app) as conn:
        ledger = ledger_for(app, conn)
        if checkpoint:
            ledger.checkpoint(origin("330106", "intake"), key_file)
        out = io.StringIO()
        ledger.export(origin("330106", "intake"), out)
    return out.getvalue().splitlines()


@pytest.fixture
def signing_key(tmp_path):
    from shared.audit.checkpoint import generate_key

    path = tmp_path / "intake-audit.key"
    return path, generate_key(path)


def test_an_export_verifies_offline_with_the_published_key(intake, signing_key, tmp_path):
    from shared.audit.verifier import main as verifier

    key_file, public = signing_key
    export_file = tmp_path / "intake.jsonl"
    export_file.write_text("\n".join(exported(intake, key_file)) + "\n", encoding="utf-8")

    published = ["--origin", "xinfang.330106/intake/audit/v1"]
    assert verifier([str(export_file), "--public-key", public.hex(), *published]) == 0
    assert verifier([str(export_file), "--public-key", bytes(32).hex(), *published]) == 1  # not the published key


def test_a_changed_byte_in_the_export_file_is_named(intake, signing_key):
    from shared.audit.verifier import verify_export

    key_file, public = signing_key
    lines = exported(intake, key_file)
    event_line = next(i for i, line in enumerate(lines) if '"event"' in line)
    record = __import__("json").loads(lines[event_line])
    state = bytearray(__import__("base64").b64decode(record["state"]))
    state[5] ^= 1
    record["state"] = __import__("base64").b64encode(bytes(state)).decode()
    lines[event_line] = __import__("json").dumps(record)

    verdict = verify_export(lines, public)

    assert not verdict.ok and record["event"] in str(verdict) and "bytes were changed" in str(verdict)


def test_a_stream_rewritten_and_resealed_after_the_checkpoint_is_caught(intake, signing_key):
    """The strongest operator attack short of forging a signature: change an event, then recompute its entry and
    leaf hash (and everything chained to it) so the ledger is self-consistent again."""
    from shared.audit.verifier import verify_export

    key_file, public = signing_key
    exported(intake, key_file)  # the checkpoint is signed and kept
    target = some_event(intake)
    schema, events = names(intake)
    leaves, stored = read(intake)
    leaf = next(leaf for leaf in leaves if str(Entry.decode(leaf.entry).originator_id) == target["id"])
    old = Entry.decode(leaf.entry)
    forged_state = next(e.state for e in stored if str(e.originator_id) == target["id"]).replace(b"}", b",\"x\":1}", 1)
    forged = Entry(old.leaf_index, old.originator_id, old.originator_version, old.prev_leaf_index,
                   old.prev_leaf_hash, old.topic, payload_hash(forged_state), old.recorded_at_us)
    from shared.audit.merkle import leaf_hash

    as_superuser(intake, f"UPDATE {events} SET state = '\\x{forged_state.hex()}'::bytea "
                         f"WHERE originator_id = '{target['id']}' AND originator_version = 1")
    with database(intake) as conn:
        conn.execute(f"ALTER TABLE {schema}.audit_leaf DISABLE TRIGGER USER")
        conn.execute(f"UPDATE {schema}.audit_leaf SET entry = %s, leaf_hash = %s WHERE leaf_index = %s",
                     (forged.encode(), leaf_hash(forged.encode()), old.leaf_index))
        conn.execute(f"ALTER TABLE {schema}.audit_leaf ENABLE TRIGGER USER")
    # (This event is the first of its aggregate with no later versions here, so nothing else chains on it.)

    lines = exported(intake, key_file, checkpoint=False)  # the earlier, honest checkpoint travels with it

    verdict = verify_export(lines, public)
    assert not verdict.ok and "do not match the signed checkpoint" in str(verdict)


# --- witnesses -----------------------------------------------------------------------------------------------------

def test_a_witness_cosigns_checkpoints_of_the_growing_log_and_refuses_it_once_rewritten(intake, signing_key, tmp_path,
                                                                                         settings_for):
    import socket

    from prometheus_client import REGISTRY

    from services.audit.ledger import WitnessEndpoint, origin
    from shared.audit.checkpoint import generate_key, load_private_key
    from shared.audit.verifier import verify_export
    from shared.audit.witness import Witness, serve, verify_cosignature

    key_file, public = signing_key
    log_origin = origin("330106", "intake")
    witness_public = generate_key(tmp_path / "witness.key")
    witness = Witness("province", load_private_key(tmp_path / "witness.key"), {log_origin: public},
                      tmp_path / "witness-state.json")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = serve(witness, port)
    endpoint = [WitnessEndpoint("province", f"http://127.0.0.1:{port}")]
    try:
        with database(intake) as conn:
            first = ledger_for(intake, conn).checkpoint(log_origin, key_file, endpoint)
        intake.register_petition(RegisterPetition.model_validate(samples.petition()))
        with database(intake) as conn:
            second = ledger_for(intake, conn).checkpoint(log_origin, key_file, endpoint)
        assert verify_cosignature(first, "province", witness_public) is not None
        assert verify_cosignature(second, "province", witness_public) is not None  # grown: consistency proved
        assert verify_export(exported(intake, key_file, checkpoint=False), public,
                             witnesses={"province": witness_public}).ok

        # Rewrite an early event and re-seal its leaf; the operator signs the rewritten log itself.
        leaves, stored = read(intake)
        old = Entry.decode(leaves[0].entry)
        event = next(e for e in stored if (e.originator_id, e.originator_version)
                     == (old.originator_id, old.originator_version))
        forged_state = event.state.replace(b"}", b",\"x\":1}", 1)
        forged = Entry(old.leaf_index, old.originator_id, old.originator_version, old.prev_leaf_index,
                       old.prev_leaf_hash, old.topic, payload_hash(forged_state), old.recorded_at_us)
        from shared.audit.merkle import leaf_hash

        schema, events = names(intake)
        as_superuser(intake, f"UPDATE {events} SET state = '\\x{forged_state.hex()}'::bytea "
                             f"WHERE originator_id = '{old.originator_id}' AND originator_version = 1")
        with database(intake) as conn:
            conn.execute(f"ALTER TABLE {schema}.audit_leaf DISABLE TRIGGER USER")
            conn.execute(f"UPDATE {schema}.audit_leaf SET entry = %s, leaf_hash = %s WHERE leaf_index = 0",
                         (forged.encode(), leaf_hash(forged.encode())))
            conn.execute(f"ALTER TABLE {schema}.audit_leaf ENABLE TRIGGER USER")
        intake.register_petition(RegisterPetition.model_validate(samples.petition()))

        def refusals(witness_name: str, status: str) -> float:
            return REGISTRY.get_sample_value("xinfang_audit_witness_refusals_total",
                                             {"witness": witness_name, "status": status}) or 0

        # The checkpointer itself will not sign a ledger that no longer extends its last checkpoint ...
        before = refusals("self", "inconsistent")
        with database(intake) as conn:
            assert ledger_for(intake, conn).checkpoint(log_origin, key_file, endpoint) == ""
        assert refusals("self", "inconsistent") == before + 1

        # ... so the DBA also wipes the kept checkpoints (behind the guards) and signs the rewritten log: the
        # witness, which remembers what it cosigned, refuses it.
        with database(intake) as conn:
            conn.execute(f"ALTER TABLE {schema}.audit_checkpoint DISABLE TRIGGER USER")
            conn.execute(f"DELETE FROM {schema}.audit_checkpoint")
            conn.execute(f"ALTER TABLE {schema}.audit_checkpoint ENABLE TRIGGER USER")
        before = refusals("province", "422")
        with database(intake) as conn:
            forged_note = ledger_for(intake, conn).checkpoint(log_origin, key_file, endpoint)
        assert forged_note and verify_cosignature(forged_note, "province", witness_public) is None
        assert refusals("province", "422") == before + 1
        # The rewritten log verifies against the operator's own signature, but not with the witness required.
        rewritten_export = exported(intake, key_file, checkpoint=False)
        assert verify_export(rewritten_export, public).ok
        verdict = verify_export(rewritten_export, public, witnesses={"province": witness_public})
        assert not verdict.ok and "cosigned by 0 of the 1" in str(verdict)
    finally:
        server.shutdown()


def test_a_store_that_held_events_before_sealing_has_them_sealed_when_sealing_is_installed(settings_for, closing):
    class Unsealed(IntakeApplication):
        name = "Intake"  # the same store
        sealed = False

    settings = settings_for(IntakeSettings, store="postgres")
    before = closing(Unsealed(settings))
    before.register_petition(RegisterPetition.model_validate(samples.petition()))
    before.close()

    after = closing(IntakeApplication(settings))  # an upgrade: sealing installed on a store with history
    after.register_petition(RegisterPetition.model_validate(samples.petition()))

    leaves, stored = read(after)
    assert len(leaves) == len(stored) == 6
    assert verify_ledger(leaves, stored).ok


def test_an_export_with_leaves_after_its_checkpoint_says_they_are_not_anchored(intake, signing_key):
    from shared.audit.verifier import verify_export

    key_file, public = signing_key
    exported(intake, key_file)
    intake.register_petition(RegisterPetition.model_validate(samples.petition()))
    lines = exported(intake, key_file, checkpoint=False)

    strict = verify_export(lines, public)
    lenient = verify_export(lines, public, allow_unanchored=True)

    assert not strict.ok and "3 leaves were recorded after the signed checkpoint" in str(strict)
    assert lenient.ok and (lenient.anchored, lenient.unanchored) == (15, 3)


def test_dropped_or_disabled_triggers_are_put_back_when_the_store_is_opened(intake, settings_for, closing):
    schema, events = names(intake)
    with database(intake) as conn:
        conn.execute(f"ALTER TABLE {events} DISABLE TRIGGER audit_seal")
        conn.execute(f"DROP TRIGGER audit_append_only ON {schema}.audit_leaf")

    reopened = closing(IntakeApplication(settings_for(IntakeSettings, store="postgres")))

    with database(reopened) as conn:
        enabled = conn.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'audit%%' AND tgenabled = 'O' "
                               f"AND tgrelid = ANY(ARRAY['{events}', '{schema}.audit_leaf', "
                               f"'{schema}.audit_checkpoint']::regclass[])").fetchone()[0]
    assert enabled == 7  # seal, append-only and no-truncate on the events; two guards each on leaves, checkpoints
    reopened.register_petition(RegisterPetition.model_validate(samples.petition()))
    assert verify_ledger(*read(reopened)).ok



def test_a_kept_checkpoint_may_gain_cosignatures_but_not_be_replaced_or_deleted(intake, signing_key):
    key_file, _public = signing_key
    exported(intake, key_file)
    schema, _events = names(intake)
    with database(intake) as conn:
        conn.execute(f"UPDATE {schema}.audit_checkpoint SET note = note || 'x'")  # more cosignature lines: allowed
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            conn.execute(f"UPDATE {schema}.audit_checkpoint SET root = sha256(root)")
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            conn.execute(f"DELETE FROM {schema}.audit_checkpoint")
