"""Backup and restore, as docs/operations.md's runbook says, step by step (the same commands, run here as an operator
would): stop the platform, sign a last checkpoint, dump the stores (`python -m deploy.backup dump`); the stores and
the read models are then destroyed; restore (`python -m deploy.backup restore`), and the auditors' verifier accepts
each restored log against the checkpoint signed before the dump; the read models rebuild to the same documents;
after `python -m deploy.backup republish` the platform starts again, handles a new petition, and does nothing twice
for the old ones."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pymongo import MongoClient

from services.audit.ledger import origin
from tests.e2e.conftest import write_users
from tests.e2e.officers import act, submit_routed
from tests.support.platform import PG_CONNINFO, ROOT, TestPlatform, drop_schemas, metric_value, running_platform
from tests.support.waiting import wait_for

SERVICES = ("intake", "routing", "supervision", "notification")
# What `--rebuild` makes again from the stores: supervision's projector, notification's records, intake's index.
REBUILT = ("case_views", "case_codes", "case_rows", "case_counts", "assessment_cases", "assessment_days",
           "warnings", "circulars", "projection_positions", "notice_records", "petition_search_keys")
REBUILDS = (("services.supervision.projector", "--rebuild"), ("services.notification.records", "--rebuild"),
            ("services.intake.search", "--rebuild"))
# Written from the clock when a document is (re)written, not from an event: a rebuild writes its own.
TIME_OF_WRITE = ("updated_at",)
# The case's version when the document's content last changed: the followers skip writing a work-list row or the
# assessment facts an event leaves as they were (services/supervision/worklists.py, assessment.py), so as followed
# it stays at that event's version, while a rebuild, which folds a case's events at once, writes the last one.
VERSION_OF_LAST_CHANGE = ("case_rows", "assessment_cases")


@pytest.fixture
def platform(tmp_path, secantus, smtp) -> Iterator[TestPlatform]:
    with running_platform(tmp_path, secantus, smtp.port, AUDIT_CHECKPOINT_INTERVAL="1",
                          GATEWAY_USERS_FILE=str(write_users(tmp_path / "users.json"))) as running:
        yield running


def run(platform: TestPlatform, *args: str, status: int = 0) -> subprocess.CompletedProcess[str]:
    """One command of the runbook, with the platform's environment (its .env, as the operator's shell has it)."""
    done = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=platform.env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == status, f"{' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done


def read_models(platform: TestPlatform) -> dict[str, list[dict[str, Any]]]:
    with MongoClient(platform.env["MONGODB_URI"]) as client:
        database = client.get_default_database()
        present = set(database.list_collection_names())
        return {name: [strip(name, doc) for doc in database[name].find().sort("_id", 1)] for name in REBUILT
                if name in present}


def strip(collection: str, document: dict[str, Any]) -> dict[str, Any]:
    """A read-model document without what legitimately differs after a rebuild (see TIME_OF_WRITE and
    VERSION_OF_LAST_CHANGE; a day of assessment facts packs each case's entry with its version)."""
    ignored = TIME_OF_WRITE + (("version",) if collection in VERSION_OF_LAST_CHANGE else ())
    kept = {key: value for key, value in document.items() if key not in ignored}
    if collection == "assessment_days":
        kept["cases"] = {case: {k: v for k, v in entry.items() if k != "version"}
                         for case, entry in document["cases"].items()}
    return kept


def differences(before: dict[str, list[dict[str, Any]]], after: dict[str, list[dict[str, Any]]]) -> list[str]:
    """What differs, field by field (a failure says which field of which document, not just that they differ)."""
    found = [f"collection {name}: {'gone' if name in before else 'new'}" for name in set(before) ^ set(after)]
    for name in set(before) & set(after):
        old, new = {d["_id"]: d for d in before[name]}, {d["_id"]: d for d in after[name]}
        found += [f"{name} {key}: {'gone' if key in old else 'new'}" for key in set(old) ^ set(new)]
        for key in set(old) & set(new):
            found += [f"{name} {key} {field}: {old[key].get(field)!r} -> {new[key].get(field)!r}"
                      for field in set(old[key]) | set(new[key]) if old[key].get(field) != new[key].get(field)]
    return found


def by_petition(prefix: str, service: str, topic: str, key: str = "originator_id::text",
                where: str = "true") -> dict[str, int]:
    """How many events of `topic` a store holds per `key` (SQL over the row and its stored JSON, `doc`)."""
    with psycopg.connect(PG_CONNINFO, autocommit=True) as connection:
        return dict(connection.execute(
            f"SELECT {key}, count(*) FROM (SELECT originator_id, topic, convert_from(state, 'UTF8')::jsonb AS doc "
            f'FROM "{prefix}{service}"."{service}_events") e WHERE topic LIKE %s AND {where} GROUP BY 1',
            (f"%{topic}",)).fetchall())


def stored_counts(prefix: str) -> dict[str, int]:
    with psycopg.connect(PG_CONNINFO, autocommit=True) as connection:
        return {service: connection.execute(f'SELECT count(*) FROM "{prefix}{service}"."{service}_events"')
                .fetchone()[0] for service in SERVICES}


def settled(platform: TestPlatform) -> dict[str, Any]:
    """Wait until neither the stores nor the read models change for a few seconds: every follower caught up."""
    prefix = platform.env["POSTGRES_SCHEMA_PREFIX"]
    last: list[Any] = [None]

    def unchanged() -> Any:
        now = (stored_counts(prefix), read_models(platform))
        same, last[0] = now == last[0], now
        return same and now

    return wait_for(unchanged, timeout=60, interval=3, what="the platform to settle")


def export_header(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as export:
        return json.loads(export.readline())


def test_the_stores_restored_from_a_dump_verify_against_earlier_checkpoints_and_rebuild_the_same_read_models(
    platform, tmp_path, smtp
):
    prefix = platform.env["POSTGRES_SCHEMA_PREFIX"]
    keys = Path(platform.env["DATA_DIR"]) / "audit-keys"
    county = platform.env.get("XINFANG_COUNTY_CODE", "330106")
    with platform.http() as gateway:
        old = [submit_routed(gateway) for _ in range(3)]
        act(gateway, "chengguan", old[0]["id"], "acceptance", {"procedure": "ordinary"})
        act(gateway, "chengguan", old[0]["id"], "reply", {"outcome": "explain", "opinion": "已向信访人解释说明相关政策"})
        act(gateway, "chengguan", old[1]["id"], "acceptance", {"procedure": "simplified"})
    settled(platform)
    wait_for(lambda: all((keys / f"{s}.pub").exists() for s in SERVICES), what="the checkpointer's keys")

    # 1. Stop every process of the platform (nothing writes while the stores are replaced).
    platform.stop()
    # 2. Sign each log once more, so every event the dump holds is anchored by a checkpoint signed before it.
    run(platform, "services.audit.cli", "checkpoint-all", "--keys", str(keys))
    before = read_models(platform)
    assert before.keys() >= set(REBUILT) - {"warnings", "circulars"}, before.keys()  # none raised or issued here
    assert before["case_views"] and before["notice_records"] and before["petition_search_keys"]
    signed: dict[str, Any] = {}
    for service in SERVICES:
        run(platform, "services.audit.cli", "export", service, "--out", str(tmp_path / f"before-{service}.jsonl"))
        signed[service] = export_header(tmp_path / f"before-{service}.jsonl")["checkpoint"]
        assert signed[service], f"no checkpoint of the {service} log"
    counts = stored_counts(prefix)
    # 3. Dump.
    dump = tmp_path / "backups" / "xinfang.dump"
    dump.parent.mkdir()
    run(platform, "deploy.backup", "dump", "--out", str(dump))

    # Two stores and the read models are lost (the other stores are there, but no longer to be trusted).
    drop_schemas(f"{prefix}supervision")
    drop_schemas(f"{prefix}feed")
    with MongoClient(platform.env["MONGODB_URI"]) as client:
        for name in REBUILT:
            client.get_default_database().drop_collection(name)

    # 4. Restore: refused while any store exists, unless told to replace them.
    refused = run(platform, "deploy.backup", "restore", str(dump), status=1)
    assert f"{prefix}intake" in refused.stderr and "--replace" in refused.stderr
    run(platform, "deploy.backup", "restore", str(dump), "--replace")
    assert stored_counts(prefix) == counts
    # 5. Verify each restored log with the auditors' verifier, against the checkpoint signed before the dump.
    for service in SERVICES:
        export = tmp_path / f"restored-{service}.jsonl"
        run(platform, "services.audit.cli", "export", service, "--out", str(export))
        assert export_header(export)["checkpoint"] == signed[service]  # no checkpoint was signed since
        public_key = (keys / f"{service}.pub").read_text().strip()
        verified = run(platform, "shared.audit.verifier", str(export), "--origin", origin(county, service),
                       "--public-key", public_key)
        assert "VERIFIED" in verified.stdout and " 0 recorded after it" in verified.stdout, verified.stdout
    # 6. Rebuild the read models from the restored stores.
    for command in REBUILDS:
        run(platform, *command)
    changed = differences(before, read_models(platform))
    assert not changed, "\n".join(changed)

    # 7. Empty the consumer queues and rewind the relays, then start the platform.
    run(platform, "deploy.backup", "republish", "--amqp-uri", platform.env["AMQP_URI"])
    platform.start()
    platform.wait_ready()
    with platform.http() as gateway:
        new = submit_routed(gateway)
        for receipt in old:  # the old petitions still answer, as they were
            assert gateway.get(f"/api/v1/status/{receipt['query_code']}").status_code == 200

    # The relays published their whole stores again: each consumer of registrations saw the old ones again and
    # recognised them (duplicate), and handled the new one once.
    def handled(service: str, outcome: str) -> float:
        return metric_value(platform.metrics(service), "xinfang_events_handled_total",
                            handler="handle_petition_registered", outcome=outcome)

    for service in ("routing", "supervision", "notification"):
        wait_for(lambda s=service: handled(s, "duplicate") >= len(old) and handled(s, "processed") == 1,
                 what=f"{service} to be sent every registration again")
    receipt_of_new = f"doc->>'kind' = 'registration_receipt' AND doc->'petition_id'->>'_data_' = '{new['id'].replace('-', '')}'"

    def new_receipt_mailed() -> bool:
        notices = by_petition(prefix, "notification", "Notice.Requested", where=receipt_of_new)
        return bool(notices) and any(m["Message-ID"].startswith(f"<{next(iter(notices))}.") for m in smtp.received())

    wait_for(new_receipt_mailed, what="the new petition's receipt e-mail")
    receipts = by_petition(prefix, "notification", "Notice.Requested", "doc->'petition_id'->>'_data_'",
                           "doc->>'kind' = 'registration_receipt'")
    petitions = [receipt["id"] for receipt in (*old, new)]
    assert by_petition(prefix, "intake", "Petition.Registered") == dict.fromkeys(petitions, 1)
    assert by_petition(prefix, "routing", "Assignment.Routed") == dict.fromkeys(petitions, 1)
    assert by_petition(prefix, "supervision", "Case.Opened") == dict.fromkeys(petitions, 1)
    assert receipts == dict.fromkeys((p.replace("-", "") for p in petitions), 1)
    mailed = [m["Message-ID"] for m in smtp.received()]
    assert len(mailed) == len(set(mailed)), "an e-mail was sent twice"
