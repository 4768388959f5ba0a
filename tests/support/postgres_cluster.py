"""A PostgreSQL cluster of a test's own (initdb and pg_ctl from the installed server), on a free port, which the
test may stop, restart and destroy; never the machine's shared server on 5432.

PostgreSQL refuses to run as root, and a data folder must belong to the user that runs it: as root, the cluster
runs as the `postgres` system user (runuser) in a folder of its own under the system's temporary folder, since
pytest's (/tmp/pytest-of-root, mode 700) cannot be entered by that user; otherwise as the current user, in the
folder given.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import psycopg

from tests.support.servers import free_port

SERVER_USER = "postgres"  # the Debian package's system user, who runs the cluster when the tests run as root


def server_bin() -> Path:
    """The newest installed server's binaries (/usr/lib/postgresql/<major>/bin), or the folder of pg_ctl on PATH."""
    installed = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    if installed:
        return installed[-1].parent
    found = shutil.which("pg_ctl")
    if found is None:
        raise RuntimeError("no PostgreSQL server installed (pg_ctl not found)")
    return Path(found).parent


class PrivateCluster:
    """One cluster: `start()` makes it on first use; `stop()`, `start()` and `restart()` as an operator would."""

    def __init__(self, folder: Path, *, max_connections: int = 200) -> None:
        self.bin = server_bin()
        self.as_root = os.geteuid() == 0
        # As root, a folder the server's user owns outside pytest's: removed by close().
        self.folder = Path(tempfile.mkdtemp(prefix="xinfang-pg-")) if self.as_root else folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.port = free_port()
        self.max_connections = max_connections
        if self.as_root:
            account = pwd.getpwnam(SERVER_USER)
            os.chown(self.folder, account.pw_uid, account.pw_gid)

    @property
    def conninfo(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"

    def settings(self) -> dict[str, str]:
        """The platform's settings for this cluster (platform_env's overrides)."""
        return {"POSTGRES_HOST": "127.0.0.1", "POSTGRES_PORT": str(self.port), "POSTGRES_USER": "postgres",
                "POSTGRES_DBNAME": "postgres"}

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        command: Sequence[str] = (["runuser", "-u", SERVER_USER, "--"] if self.as_root else []) + list(args)
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({done.returncode}): {done.stderr or done.stdout}\n"
                               f"{self.server_log()}")
        return done

    def _pg_ctl(self, *args: str) -> None:
        self._run(str(self.bin / "pg_ctl"), "--pgdata", str(self.data), "--log", str(self.log), "--wait",
                  "--timeout", "60", *args)

    def start(self) -> None:
        if not (self.data / "PG_VERSION").exists():
            self._run(str(self.bin / "initdb"), "--pgdata", str(self.data), "--username", "postgres",
                      "--auth", "trust", "--encoding", "UTF8", "--no-locale", "--no-sync")
            with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
                # Its own socket folder and port: nothing shared with the machine's server. fsync off: a test's
                # data is thrown away (a fast shutdown still writes everything out).
                conf.write(f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                           f"unix_socket_directories = '{self.folder}'\nmax_connections = {self.max_connections}\n"
                           "fsync = off\nfull_page_writes = off\nshared_buffers = 64MB\n")
        self._pg_ctl("start")

    def stop(self, mode: str = "fast") -> None:
        """`pg_ctl stop -m fast`: every session is ended (the platform's connections break), then it shuts down."""
        self._pg_ctl("stop", "--mode", mode)

    def restart(self, mode: str = "fast") -> None:
        self._pg_ctl("restart", "--mode", mode)

    def running(self) -> bool:
        try:
            with psycopg.connect(self.conninfo, connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    def server_log(self, tail: int = 40) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-tail:])

    def close(self) -> None:
        with contextlib.suppress(Exception):
            if (self.data / "postmaster.pid").exists():
                self.stop("immediate")
        if self.as_root:
            shutil.rmtree(self.folder, ignore_errors=True)


@contextlib.contextmanager
def private_cluster(folder: Path) -> Iterator[PrivateCluster]:
    cluster = PrivateCluster(folder)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.close()


def count_events(conninfo: str, schema: str, table: str, topic_suffix: str, where: str = "",
                 params: Sequence[object] = ()) -> int:
    """How many stored events whose topic ends with `topic_suffix` a store holds (and match `where`, SQL over the
    stored JSON as `doc`)."""
    query = (f'SELECT count(*) FROM (SELECT convert_from(state, \'UTF8\')::jsonb AS doc, topic, originator_id '
             f'FROM "{schema}"."{table}") e WHERE topic LIKE %s' + (f" AND {where}" if where else ""))
    with psycopg.connect(conninfo, autocommit=True) as connection:
        return connection.execute(query, [f"%{topic_suffix}", *params]).fetchone()[0]
