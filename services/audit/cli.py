"""The operator's audit commands (PostgreSQL stores):

    python -m services.audit.cli keygen KEY_FILE                      a new Ed25519 key; prints the public key (hex)
    python -m services.audit.cli checkpoint SERVICE --key KEY_FILE [--witness NAME=URL ...] [--every SECONDS]
                                                                    sign the ledger, have witnesses cosign it
                                                                    (--every: keep doing so; one active instance)
    python -m services.audit.cli checkpoint-all --keys DIR [--witness NAME=URL ...] [--every SECONDS]
                                                                    the same for every service's log, each with its
                                                                    key DIR/<service>.key (the platform's process)
    python -m services.audit.cli export SERVICE --out FILE            the full log with its latest checkpoint
    python -m services.audit.cli bundle PETITION_ID --out FILE --key SERVICE=KEY_FILE ...
                                                                    one case from every service, with proofs and
                                                                    the case heads each log's key signs (asks
                                                                    notification for the case's notices over RPC:
                                                                    beside a running platform)

Auditors get the same bundle, signed with the running platform's keys, over HTTP from the audit service
(GET /api/v1/audit/petitions/{id}/bundle; services/audit/service.py).

The auditor checks an export with `python -m shared.audit.verifier FILE --public-key HEX`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path
from uuid import UUID

import psycopg

from services.audit.ledger import WitnessEndpoint, ledger_of, origin
from services.audit.stores import SERVICES
from shared.audit.checkpoint import CheckpointError, generate_key, load_private_key
from shared.runtime.eventstore import postgres_conninfo, postgres_schema, sqlite_folder
from shared.runtime.observability import serve_metrics
from shared.runtime.settings import PlatformSettings

__all__ = ["SERVICES", "checkpoint_every_log", "checkpointer_lock", "create_missing_keys", "ledger_of", "main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Audit log: keys, checkpoints, exports.")
    commands = parser.add_subparsers(dest="command", required=True)
    keygen = commands.add_parser("keygen")
    keygen.add_argument("key_file", type=Path)
    checkpoint = commands.add_parser("checkpoint")
    checkpoint.add_argument("service", choices=SERVICES)
    checkpoint.add_argument("--key", type=Path, required=True)
    checkpoint.add_argument("--witness", action="append", default=[], metavar="NAME=URL")
    checkpoint.add_argument("--every", type=float, help="seconds between checkpoints (default: sign once)")
    every_log = commands.add_parser("checkpoint-all")
    every_log.add_argument("--keys", type=Path, required=True, help="a folder holding <service>.key for each log")
    every_log.add_argument("--witness", action="append", default=[], metavar="NAME=URL")
    every_log.add_argument("--every", type=float, help="seconds between checkpoints (default: sign once)")
    every_log.add_argument("--create-missing-keys", action="store_true",
                           help="make a log's key on first start (development and tests only, like make run's "
                                "other secrets); its public key is written beside it as <service>.pub")
    export = commands.add_parser("export")
    export.add_argument("service", choices=SERVICES)
    export.add_argument("--out", type=Path, required=True)
    bundle = commands.add_parser("bundle")
    bundle.add_argument("petition_id", type=UUID)
    bundle.add_argument("--out", type=Path, required=True)
    bundle.add_argument("--key", action="append", default=[], metavar="SERVICE=KEY_FILE",
                        help="a log's signing key, for its case heads (one per service log with a checkpoint)")
    args = parser.parse_args(argv)

    if args.command == "keygen":
        print(generate_key(args.key_file).hex())
        return 0
    settings = PlatformSettings()
    if getattr(args, "every", None) is not None:  # a process of the platform: its witness refusals are alerted on
        serve_metrics(settings.metrics_port)
    with contextlib.ExitStack() as stack:
        conn = None
        if settings.event_store == "postgres":
            conn = stack.enter_context(psycopg.connect(postgres_conninfo(settings), autocommit=True))
        if args.command == "bundle":
            # notification names the case's notices and deliveries over RPC (services/audit/peers.py): loaded only
            # for this command, which runs beside a running platform.
            from services.audit.bundle import BundleProvesNothing, case_bundle  # noqa: PLC0415
            from services.audit.peers import standalone_peers  # noqa: PLC0415
            from services.audit.replay import case_aggregates  # noqa: PLC0415

            ledgers = {service: ledger_of(settings, service, conn) for service in SERVICES}
            for ledger in ledgers.values():
                stack.callback(ledger.close)
            # A key is needed only for a log with a checkpoint (case_bundle says which one is missing).
            keys = {service: load_private_key(Path(file)) for service, file in
                    (item.split("=", 1) for item in args.key) if Path(file).exists()}
            from services.audit.replay import step_event_ids  # noqa: PLC0415
            from services.audit.stores import EventStores  # noqa: PLC0415

            stores = EventStores(settings.for_follower())
            stack.callback(stores.close)
            with standalone_peers(settings) as peers:
                aggregates = case_aggregates(args.petition_id, peers.notification_aggregates(
                    args.petition_id, step_event_ids(stores, settings, args.petition_id)))
            try:
                document = case_bundle(ledgers, settings.county_code, args.petition_id, aggregates, keys)
            except BundleProvesNothing as error:
                print(f"no bundle written: {error}", file=sys.stderr)
                return 3
            except CheckpointError as error:
                print(f"no bundle written: {error} (--key SERVICE=KEY_FILE)", file=sys.stderr)
                return 2
            args.out.write_text(json.dumps(document, ensure_ascii=False, indent=1))
            print(f"case bundle written to {args.out}")
            return 0
        witnesses = [WitnessEndpoint(*item.split("=", 1)) for item in args.witness] if "witness" in args else []
        if args.command == "checkpoint-all":
            if args.create_missing_keys:
                if settings.env == "production":
                    print("--create-missing-keys is for development and tests: in production the logs' keys are "
                          "made once, by the operator, and their public keys published (docs/audit.md)",
                          file=sys.stderr)
                    return 2
                create_missing_keys(args.keys)
            return checkpoint_every_log(settings, conn, args.keys, witnesses, args.every)
        ledger = ledger_of(settings, args.service, conn)
        stack.callback(ledger.close)
        log_origin = origin(settings.county_code, args.service)
        if args.command == "export":
            with args.out.open("w", encoding="utf-8") as out:
                count = ledger.export(log_origin, out)
            print(f"{count} events exported to {args.out}")
            return 0
        if conn is not None:  # one active checkpointer per log (SQLite: one machine, one process)
            lock = checkpointer_lock(settings, args.service)
            if args.every is None:
                if not conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (lock,)).fetchone()[0]:
                    print("another checkpointer of this log is running; not signing", file=sys.stderr)
                    return 1
            else:  # a standby waits here and takes over when the active one stops
                conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (lock,))
        while True:
            note = ledger.checkpoint(log_origin, args.key, witnesses)
            if args.every is None:
                print(note, end="")
                return 0
            time.sleep(args.every)
    return 0


def checkpointer_lock(settings: PlatformSettings, service: str) -> str:
    """The advisory lock one active checkpointer of a log holds: named after the log's store (its schema), so two
    installations on one PostgreSQL server never wait for each other."""
    return f"xinfang:audit-checkpointer:{postgres_schema(settings, service)}"


def create_missing_keys(keys: Path) -> None:
    keys.mkdir(parents=True, exist_ok=True)
    for service in SERVICES:
        if not (keys / f"{service}.key").exists():
            public = generate_key(keys / f"{service}.key").hex()
            (keys / f"{service}.pub").write_text(public + "\n")
            print(f"new signing key of the {service} log; public key {public}", file=sys.stderr, flush=True)


def checkpoint_every_log(settings: PlatformSettings, conn: psycopg.Connection | None, keys: Path,
                         witnesses: list[WitnessEndpoint], every: float | None) -> int:
    """Sign every service's log (each with its own key), have the witnesses cosign, and with `every` keep doing
    so: the platform's checkpointer process (deploy/local/Procfile). Without it a bundle proves nothing: its events
    are not yet covered by a signed checkpoint. On PostgreSQL it holds each log's advisory lock, so a second
    instance waits as a standby; a log whose store does not exist yet is skipped until it does."""
    key_files = {service: keys / f"{service}.key" for service in SERVICES}
    missing = [str(path) for path in key_files.values() if not path.exists()]
    if missing:
        print(f"no checkpoints: missing signing keys {', '.join(missing)} (python -m services.audit.cli keygen FILE)",
              file=sys.stderr)
        return 2
    if conn is not None:
        for service in SERVICES:  # in a fixed order: two instances never hold one lock each
            conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (checkpointer_lock(settings, service),))
    while True:
        for service in SERVICES:
            if conn is None and not (sqlite_folder(settings, service) / "events.sqlite3").exists():
                continue  # the service has not started yet: nothing to sign, and no file to create
            ledger = ledger_of(settings, service, conn)
            try:
                if ledger.exists():
                    ledger.checkpoint(origin(settings.county_code, service), key_files[service], witnesses)
            finally:
                ledger.close()
        if every is None:
            return 0
        time.sleep(every)


if __name__ == "__main__":
    sys.exit(main())
