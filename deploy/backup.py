"""Back up and restore the platform's PostgreSQL stores (docs/operations.md, "Backup and restore").

    python -m deploy.backup schemas                       the schemas of this installation, one a line
    python -m deploy.backup dump --out FILE               pg_dump of those schemas (custom format), one snapshot
    python -m deploy.backup restore FILE [--replace]      pg_restore into schemas that do not exist (--replace drops
                                                          them first), in one transaction
    python -m deploy.backup republish [--amqp-uri URI]    after a restore: empty the consumer queues the services'
                                                          relays feed and rewind each relay to the start of its store

Settings come from the platform's environment (POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USER, POSTGRES_PASSWORD,
POSTGRES_DBNAME, POSTGRES_SCHEMA_PREFIX; XINFANG_NAMESPACE for `republish`), so the same .env the services read
names the same stores. Each command prints the PostgreSQL command line it runs (the password goes in PGPASSWORD,
never on the line), so an operator with only PostgreSQL's own tools can run the same. Exit status 0 done, 1 refused
or failed (the message says why), 2 a usage error.

Every store of the platform is a schema `<prefix><store>`: one per service (its events, the audit ledger sealed
beside them, its checkpoints, its consumers' tracking and its followers' positions) and the integration feed. One
pg_dump run reads them all in one snapshot (a repeatable-read transaction), so what one service recorded having
handled and what its upstream recorded having published agree. The read models (MongoDB) are not in it: they are
rebuilt from the stores after a restore.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import psycopg
from psycopg import sql

from shared.runtime.eventstore import postgres_conninfo, postgres_schema
from shared.runtime.settings import PlatformSettings

SERVICES = ("intake", "routing", "supervision", "notification")  # each with its outbox relay
STORES = (*SERVICES, "feed")  # shared/runtime/feed.py STORE
DEFAULT_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672//"


def schemas(settings: PlatformSettings) -> list[str]:
    return [postgres_schema(settings, store) for store in STORES]


def _connection_options(settings: PlatformSettings) -> list[str]:
    return ["--host", settings.postgres_host, "--port", str(settings.postgres_port),
            "--username", settings.postgres_user, "--dbname", settings.postgres_dbname]


def dump_command(settings: PlatformSettings, out: Path) -> list[str]:
    """pg_dump of every store: custom format (compressed, restored selectively and in parallel by pg_restore), no
    owners or grants (restored as whoever restores, on any server), each schema named exactly (no pattern: another
    installation's schemas on the same server may share the prefix's start)."""
    return ["pg_dump", *_connection_options(settings), "--format=custom", "--no-owner", "--no-privileges",
            *(f"--schema={schema}" for schema in schemas(settings)), f"--file={out}"]


def restore_command(settings: PlatformSettings, dump: Path) -> list[str]:
    """pg_restore in one transaction, stopping at the first error: the stores come back whole or not at all. The
    data is loaded before the triggers are made, so the append-only guards and the sealing trigger do not fire on
    it: the ledger comes back as it was signed."""
    return ["pg_restore", *_connection_options(settings), "--no-owner", "--no-privileges", "--exit-on-error",
            "--single-transaction", str(dump)]


def _run(command: Sequence[str], settings: PlatformSettings) -> int:
    print("$ " + " ".join(command), flush=True)
    env = {**os.environ}
    if settings.postgres_password:
        env["PGPASSWORD"] = settings.postgres_password
    return subprocess.run(list(command), env=env, check=False).returncode


def existing_schemas(settings: PlatformSettings) -> list[str]:
    with psycopg.connect(postgres_conninfo(settings), autocommit=True) as conn:
        rows = conn.execute("SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s) ORDER BY nspname",
                            (schemas(settings),)).fetchall()
    return [name for (name,) in rows]


def drop_schemas(settings: PlatformSettings) -> None:
    """DROP SCHEMA … CASCADE of every store, in one transaction (the append-only guards refuse UPDATE, DELETE and
    TRUNCATE, not DROP: a restore replaces a store whole)."""
    with psycopg.connect(postgres_conninfo(settings)) as conn:
        for schema in existing_schemas(settings):
            print(f"$ DROP SCHEMA \"{schema}\" CASCADE", flush=True)
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def rewind_relays(settings: PlatformSettings) -> None:
    """Forget each outbox relay's position (`<service>_outbox_tracking`): on its next start it publishes its store
    from the first event. Consumers recognise every event they recorded as handled (their tracking came back in
    the same snapshot) and handle the rest once; the integration feed keeps each event once."""
    with psycopg.connect(postgres_conninfo(settings)) as conn:
        for service in SERVICES:
            table = sql.Identifier(postgres_schema(settings, service), f"{service}_outbox_tracking")
            print(f"$ DELETE FROM {table.as_string(conn)}", flush=True)
            conn.execute(sql.SQL("DELETE FROM {}").format(table))


def purge_consumer_queues(amqp_uri: str, namespace: str) -> None:
    """Empty every consumer queue the services' relays feed (never the dead-letter queues, nor intake's queue of a
    province's matters, which only the province can send again). What they held was published from the stores as
    they were before the restore: events the restore lost must not be handled, and the rewound relays publish
    again everything the restored stores hold."""
    from kombu import Connection  # noqa: PLC0415 - only this command talks to the broker

    from shared.runtime.messaging import topology  # noqa: PLC0415

    with Connection(amqp_uri, connect_timeout=10) as connection:
        channel = connection.default_channel
        for subscription in topology.SUBSCRIPTIONS:
            if subscription.publisher == topology.PROVINCE:
                continue
            name = topology.queue_name(namespace, subscription.service, subscription.handler)
            try:
                purged = channel.queue_purge(name)
            except Exception as error:  # noqa: BLE001 - a queue not declared yet holds nothing
                print(f"{name}: not purged ({type(error).__name__}: it does not exist yet?)", flush=True)
                channel = connection.channel()
                continue
            print(f"{name}: {purged or 0} message(s) purged", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.backup", description="Back up and restore the stores.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("schemas", help="the schemas a dump holds")
    dump = commands.add_parser("dump", help="pg_dump every store")
    dump.add_argument("--out", type=Path, required=True)
    restore = commands.add_parser("restore", help="pg_restore a dump")
    restore.add_argument("dump", type=Path)
    restore.add_argument("--replace", action="store_true",
                         help="drop the stores that exist first (every process of the platform stopped)")
    republish = commands.add_parser("republish", help="after a restore, before the platform starts")
    republish.add_argument("--amqp-uri", default=os.environ.get("AMQP_ADMIN_URI", DEFAULT_AMQP_URI),
                           help="a broker administrator of the platform's vhost (default AMQP_ADMIN_URI)")
    args = parser.parse_args(argv)
    settings = PlatformSettings()
    if settings.event_store != "postgres":
        print("EVENT_STORE is not postgres: the embedded stores are SQLite files under DATA_DIR/stores; back them "
              "up with `sqlite3 FILE \".backup COPY\"` each, the platform stopped (docs/operations.md)",
              file=sys.stderr)
        return 1

    if args.command == "schemas":
        print("\n".join(schemas(settings)))
        return 0
    if args.command == "dump":
        if not existing_schemas(settings):
            print(f"nothing to dump: none of {', '.join(schemas(settings))} exists on "
                  f"{settings.postgres_host}:{settings.postgres_port}/{settings.postgres_dbname} "
                  "(POSTGRES_SCHEMA_PREFIX?)", file=sys.stderr)
            return 1
        return 0 if _run(dump_command(settings, args.out), settings) == 0 else 1
    if args.command == "restore":
        if not args.dump.is_file():
            print(f"no dump at {args.dump}", file=sys.stderr)
            return 1
        if (present := existing_schemas(settings)) and not args.replace:
            print(f"not restored: {', '.join(present)} exist; stop every process of the platform and give --replace "
                  "to drop them first", file=sys.stderr)
            return 1
        if args.replace:
            drop_schemas(settings)
        if _run(restore_command(settings, args.dump), settings) != 0:
            print("restore failed; nothing of it was kept (one transaction)", file=sys.stderr)
            return 1
        print(f"restored {', '.join(existing_schemas(settings))}")
        return 0
    purge_consumer_queues(args.amqp_uri, settings.namespace)
    rewind_relays(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
