"""Sealing in the SQLite embedded mode: the same ledger and entry bytes as on PostgreSQL, written by the recorder
in the insert's own transaction; the same guards; the same checks catch the same tampering."""

from __future__ import annotations

import sqlite3
from uuid import UUID

import pytest

from services.intake.application import IntakeApplication
from services.intake.settings import IntakeSettings
from shared.audit.verify import Leaf, StoredEvent, verify_ledger
from shared.language.contracts.registration import RegisterPetition
from shared.runtime.eventstore import sqlite_folder
from tests.support import samples


@pytest.fixture
def intake(settings_for, closing) -> IntakeApplication:
    app = closing(IntakeApplication(settings_for(IntakeSettings, store="sqlite")))
    person = {"id_number": samples.id_number(), "phone": samples.mobile()}
    for _ in range(3):
        app.register_petition(RegisterPetition.model_validate(samples.petition()))
    for _ in range(2):
        app.register_petition(RegisterPetition.model_validate(samples.petition(**person)))
    return app


def connect(app: IntakeApplication) -> sqlite3.Connection:
    return sqlite3.connect(sqlite_folder(app.settings, "intake") / "events.sqlite3", isolation_level=None)


def read(app: IntakeApplication) -> tuple[list[Leaf], list[StoredEvent]]:
    table = app.recorder.events_table_name
    with connect(app) as conn:
        leaves = [Leaf(i, bytes(e), bytes(h)) for i, e, h in
                  conn.execute("SELECT leaf_index, entry, leaf_hash FROM audit_leaf ORDER BY leaf_index")]
        events = [StoredEvent(UUID(o), v, t, bytes(s)) for o, v, t, s in
                  conn.execute(f"SELECT originator_id, originator_version, topic, state FROM {table}")]
    return leaves, events


def test_every_event_is_sealed_and_the_ledger_verifies(intake):
    leaves, events = read(intake)

    assert len(leaves) == len(events) == 15
    verdict = verify_ledger(leaves, events)
    assert verdict.ok and verdict.checked == 15, str(verdict)


@pytest.mark.parametrize("statement", ["UPDATE {events} SET topic = topic", "DELETE FROM {events}",
                                       "DELETE FROM audit_leaf", "UPDATE audit_leaf SET entry = entry"])
def test_the_events_and_the_ledger_are_append_only(intake, statement):
    with connect(intake) as conn, pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute(statement.format(events=intake.recorder.events_table_name))


def test_a_changed_byte_behind_the_guards_is_caught(intake):
    table = intake.recorder.events_table_name
    with connect(intake) as conn:
        originator = conn.execute(f"SELECT originator_id FROM {table} LIMIT 1").fetchone()[0]
        conn.execute(f"DROP TRIGGER audit_no_update_{table}")
        conn.execute(f"UPDATE {table} SET state = CAST(replace(CAST(state AS TEXT), '\"', '''') AS BLOB) "
                     "WHERE originator_id = ? AND originator_version = 1", (originator,))

    verdict = verify_ledger(*read(intake))

    assert not verdict.ok and str(UUID(originator)) in str(verdict) and "bytes were changed" in str(verdict)


def test_a_store_that_held_events_before_sealing_has_them_sealed_first(settings_for, closing):
    app = closing(IntakeApplication(settings_for(IntakeSettings, store="sqlite")))
    app.register_petition(RegisterPetition.model_validate(samples.petition()))
    with connect(app) as conn:  # as if the store was written by a version without sealing
        conn.execute("DROP TRIGGER audit_no_delete_audit_leaf")
        conn.execute("DELETE FROM audit_leaf")
        conn.execute("DELETE FROM audit_stream_head")
        conn.execute("UPDATE audit_log_head SET size = 0")

    app.register_petition(RegisterPetition.model_validate(samples.petition()))

    leaves, events = read(app)
    assert len(leaves) == len(events) == 6
    assert verify_ledger(leaves, events).ok


def test_the_embedded_mode_is_checkpointed_exported_and_verified_like_postgres(intake, tmp_path):
    import io

    from services.audit.ledger import Ledger, origin
    from shared.audit.checkpoint import generate_key
    from shared.audit.verifier import verify_export

    public = generate_key(tmp_path / "intake.key")
    ledger = Ledger.sqlite_store(sqlite_folder(intake.settings, "intake") / "events.sqlite3",
                                 intake.recorder.events_table_name)
    try:
        note = ledger.checkpoint(origin("330106", "intake"), tmp_path / "intake.key")
        out = io.StringIO()
        ledger.export(origin("330106", "intake"), out)
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            ledger.conn.execute("DELETE FROM audit_checkpoint")
    finally:
        ledger.close()

    assert note.startswith("xinfang.330106/intake/audit/v1\n15\n")
    verdict = verify_export(out.getvalue().splitlines(), public, "xinfang.330106/intake/audit/v1")
    assert verdict.ok and verdict.anchored == 15, str(verdict)
