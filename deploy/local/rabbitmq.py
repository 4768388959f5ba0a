"""A private RabbitMQ node under a data folder, on a free port, from the installed rabbitmq-server.

Used by `make run` when no broker is reachable, and by the chaos tests, which stop and start a broker of their
own. It runs as the current user (the Debian wrapper would switch to the `rabbitmq` user, who cannot write the
folder), with its own Erlang cookie, node name and ports, so it never touches the system's node.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import socket
import subprocess
import time
from pathlib import Path

REAL_SCRIPTS = Path("/usr/lib/rabbitmq/bin")


class BrokerUnavailable(RuntimeError):
    pass


def reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port(exclude: int | None = None) -> int:
    """A free port below the kernel's ephemeral range, so outgoing connections cannot take it meanwhile."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for _ in range(200):
        port = random.randint(10000, min(low, 32768) - 1)  # noqa: S311 - a port to try, not a secret
        if port == exclude:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise OSError("no free port below the ephemeral range")


def _script(name: str) -> str | None:
    if (REAL_SCRIPTS / name).exists():
        return str(REAL_SCRIPTS / name)
    return shutil.which(name)


def installed() -> bool:
    return _script("rabbitmq-server") is not None and _script("rabbitmqctl") is not None


class PrivateNode:
    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.folder = folder.resolve()
        digest = hashlib.sha256(str(self.folder).encode()).hexdigest()[:8]  # a name for the node, not a secret
        self.nodename = f"xinfang-{digest}@localhost"
        port_file = self.folder / "port"
        if port is None and port_file.exists():
            port, _, dist = port_file.read_text().partition(" ")
            self.port, self.dist_port = int(port), int(dist or free_port(int(port)))
        else:
            self.port = port or free_port()
            self.dist_port = free_port(self.port)

    @property
    def amqp_uri(self) -> str:
        """The administrator's (guest, this machine only): for set-up and tests, not for the platform's processes."""
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def _env(self) -> dict[str, str]:
        f = self.folder
        return {
            **os.environ,
            "HOME": str(f),  # its own Erlang cookie
            "RABBITMQ_NODENAME": self.nodename,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(f / "mnesia"),
            "RABBITMQ_LOG_BASE": str(f / "log"),
            "RABBITMQ_PID_FILE": str(f / "rabbitmq.pid"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(f / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(f / "rabbitmq.conf"),
        }

    def _ctl(self, *args: str, timeout: float = 90, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([_script("rabbitmqctl") or "rabbitmqctl", "-n", self.nodename, *args], input=stdin,
                              env=self._env(), capture_output=True, text=True, timeout=timeout, check=False)

    def rabbitmqctl(self, args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """rabbitmqctl against this node (e.g. to create the platform's broker users: deploy/rabbitmq/users.py)."""
        return self._ctl("-q", *args, stdin=stdin)

    def start(self) -> None:
        if not installed():
            raise BrokerUnavailable("rabbitmq-server is not installed")
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "enabled_plugins").write_text("[].\n")
        (self.folder / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.port}\nloopback_users = none\n"
        )
        if self.running():
            return
        if reachable("127.0.0.1", self.port):  # our old port now belongs to someone else
            self.port = free_port()
            self.dist_port = free_port(self.port)
            (self.folder / "rabbitmq.conf").write_text(
                f"listeners.tcp.default = 127.0.0.1:{self.port}\nloopback_users = none\n"
            )
        (self.folder / "port").write_text(f"{self.port} {self.dist_port}")
        subprocess.run([_script("rabbitmq-server") or "rabbitmq-server", "-detached"], env=self._env(),
                       capture_output=True, timeout=60, check=False)
        waited = self._ctl("wait", str(self.folder / "rabbitmq.pid"), "--timeout", "90", timeout=120)
        if waited.returncode != 0 or not self.wait_reachable(30):
            raise BrokerUnavailable(f"private RabbitMQ node did not start (see {self.folder / 'log'}): "
                                    f"{waited.stderr.strip()[-300:]}")

    def running(self) -> bool:
        return reachable("127.0.0.1", self.port) and self._ctl("status", timeout=30).returncode == 0

    def wait_reachable(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if reachable("127.0.0.1", self.port):
                return True
            time.sleep(0.2)
        return False

    def stop_app(self) -> None:
        """Stop the broker application but keep the Erlang node (a broker outage)."""
        self._ctl("stop_app")

    def start_app(self) -> None:
        self._ctl("start_app")
        self.wait_reachable(30)

    def stop(self) -> None:
        self._ctl("stop", timeout=60)
