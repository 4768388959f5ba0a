"""(c) The audit log: verifying a full export (events per second) beside a plain loop that only parses and hashes
the same lines (the ceiling), and replaying a 50-event case from the stores beside the library's plain load of
the same case, on the same PostgreSQL."""

from __future__ import annotations

import hashlib
import io
import json
import statistics
import time
from binascii import a2b_base64
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import psycopg

from services.audit.ledger import Ledger, origin
from services.audit.replay import case_aggregates, history
from services.audit.stores import EventStores
from services.intake.application import IntakeApplication
from services.intake.settings import IntakeSettings
from services.notification.application import case_aggregates as notification_aggregates
from services.supervision.bootstrap import build_application as build_supervision
from services.supervision.settings import SupervisionSettings
from shared.audit.checkpoint import generate_key
from shared.audit.entries import TAG_PAYLOAD
from shared.audit.merkle import root
from shared.audit.verifier import verify_export
from shared.language.contracts.registration import RegisterPetition
from shared.runtime.eventstore import postgres_conninfo, postgres_schema
from shared.runtime.settings import PlatformSettings
from tests.support import samples

TOWN = {"role": "organ_officer", "user": "bench", "organ": "330106001-ZF"}


def _settings(cls: type, prefix: str):  # noqa: ANN202
    return cls(EVENT_STORE="postgres", POSTGRES_SCHEMA_PREFIX=prefix, XINFANG_ENV="test")


def plain_parse_and_hash(lines: list[str]) -> None:
    """The ceiling: read every line and compute the hashes verification cannot do without — each entry's leaf
    hash, each event's payload hash, the Merkle root over the leaves — checking nothing."""
    leaves = []
    for line in lines[1:]:
        record = json.loads(line)
        if "leaf" in record:
            leaves.append(hashlib.sha256(b"\x00" + a2b_base64(record["entry"])).digest())
        else:
            hashlib.sha256(TAG_PAYLOAD + a2b_base64(record["state"])).digest()
    root(leaves)


def verification(prefix: str, petitions: int, key_dir: Path) -> dict[str, float]:
    intake = IntakeApplication(_settings(IntakeSettings, prefix))
    for _ in range(petitions):
        intake.register_petition(RegisterPetition.model_validate(samples.petition()))
    key = key_dir / "bench-audit.key"
    public = generate_key(key)
    with psycopg.connect(postgres_conninfo(intake.settings), autocommit=True) as conn:
        ledger = Ledger.postgres_store(conn, postgres_schema(intake.settings, "intake"),
                                       intake.recorder.events_table_name)
        ledger.checkpoint(origin("330106", "intake"), key)
        out = io.StringIO()
        events = ledger.export(origin("330106", "intake"), out)
    intake.close()
    lines = out.getvalue().splitlines()
    verify_s, ceiling_s = [], []
    for _ in range(3):
        started = time.perf_counter()
        verdict = verify_export(lines, public)
        verify_s.append(time.perf_counter() - started)
        assert verdict.ok, str(verdict)
        started = time.perf_counter()
        plain_parse_and_hash(lines)
        ceiling_s.append(time.perf_counter() - started)
    verify_rate, ceiling_rate = events / statistics.median(verify_s), events / statistics.median(ceiling_s)
    return {"events": events, "verify_per_s": verify_rate, "ceiling_per_s": ceiling_rate,
            "ratio": verify_rate / ceiling_rate}


def replay(prefix: str, steps: int = 50) -> dict[str, float]:
    clock_at = [datetime(2026, 9, 28, 2, tzinfo=UTC)]
    supervision = build_supervision(_settings(SupervisionSettings, prefix), clock=lambda: clock_at[0])
    registered = samples.registered_event(1, registered_at=clock_at[0].isoformat())
    supervision.open_case(registered, samples.particulars(registered))
    supervision.record_routing(samples.routed_event(2, registered.subject, routed_at=clock_at[0]))
    clock_at[0] += timedelta(days=1)
    supervision.perform(registered.subject, "accept", {"procedure": "ordinary"}, TOWN)
    while supervision.get_case(registered.subject)["version"] < steps:
        supervision.perform(registered.subject, "record_handling", {"kind": "investigation", "summary": "走访核实"},
                            TOWN)
    petition_id = UUID(registered.subject)
    settings = _settings(PlatformSettings, prefix)
    stores = EventStores(settings)  # as the audit service reads them: raw stored events, no domain class
    aggregates = case_aggregates(petition_id, notification_aggregates(petition_id))  # notification's answer
    replay_ms, plain_ms = [], []
    for _ in range(20):
        started = time.perf_counter()
        replayed = history(stores, settings, aggregates)
        replay_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        supervision.repository.get(petition_id)
        plain_ms.append((time.perf_counter() - started) * 1000)
    assert len([s for s in replayed if s.service == "supervision"]) == steps
    stores.close()
    supervision.close()
    return {"events": len(replayed), "replay_ms": statistics.median(replay_ms),
            "plain_load_ms": statistics.median(plain_ms)}


def run(prefix: str, key_dir: Path, petitions: int = 3000) -> dict[str, object]:
    return {"verification": verification(f"{prefix}v_", petitions, key_dir), "replay": replay(f"{prefix}r_")}
