"""The backup helper's PostgreSQL command lines (deploy/backup.py): what docs/operations.md tells an operator to run
by hand is what the helper runs (tests/e2e/test_backup_restore.py runs the helper against a real platform)."""

from __future__ import annotations

from pathlib import Path

from deploy import backup
from shared.runtime.settings import PlatformSettings


def settings(**values: str) -> PlatformSettings:
    return PlatformSettings(**{"XINFANG_ENV": "test", "EVENT_STORE": "postgres", "POSTGRES_HOST": "db.internal",
                               "POSTGRES_PORT": "6432", "POSTGRES_USER": "xinfang", "POSTGRES_PASSWORD": "s3cret",
                               "POSTGRES_DBNAME": "county", **values})


def test_a_dump_names_every_store_of_the_installation_and_no_other():
    command = backup.dump_command(settings(POSTGRES_SCHEMA_PREFIX="xinfang_"), Path("/backups/x.dump"))

    assert command == [
        "pg_dump", "--host", "db.internal", "--port", "6432", "--username", "xinfang", "--dbname", "county",
        "--format=custom", "--no-owner", "--no-privileges",
        "--schema=xinfang_intake", "--schema=xinfang_routing", "--schema=xinfang_supervision",
        "--schema=xinfang_notification", "--schema=xinfang_feed", "--file=/backups/x.dump"]
    assert "s3cret" not in " ".join(command)  # PGPASSWORD, never on the command line


def test_a_restore_is_one_transaction_that_stops_at_the_first_error():
    command = backup.restore_command(settings(), Path("x.dump"))

    assert command[0] == "pg_restore" and command[-1] == "x.dump"
    assert {"--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges"} <= set(command)
    assert "s3cret" not in " ".join(command)


def test_the_schemas_follow_the_prefix():
    assert backup.schemas(settings(POSTGRES_SCHEMA_PREFIX="t1_")) == [
        "t1_intake", "t1_routing", "t1_supervision", "t1_notification", "t1_feed"]


def test_the_embedded_stores_are_refused_with_what_to_do_instead(monkeypatch, capsys):
    monkeypatch.setenv("XINFANG_ENV", "test")
    monkeypatch.setenv("EVENT_STORE", "sqlite")

    assert backup.main(["schemas"]) == 1
    assert "sqlite3" in capsys.readouterr().err
