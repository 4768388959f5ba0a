"""The gateway alone as a real process, started with deploy/local/Procfile's command (as `make run` does), for
tests of what only the real HTTP server shows: forwarded addresses, socket behaviour, headers it adds itself."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import httpx

from services.gateway.security import Role
from services.gateway.users import add_user
from tests.support.platform import ROOT, metrics_prefix, procfile_commands
from tests.support.servers import free_port
from tests.support.waiting import wait_for

PASSWORD = "a long enough password"


class GatewayProcess:
    """`gateway` from the Procfile on a free port, with read models and no intake behind it (503s, never 500s)."""

    def __init__(self, folder: Path, mongodb_uri: str, **settings: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        users = folder / "users.json"
        add_user(users, "clerk", Role.CLERK, "330106-XFJ", "登记员", PASSWORD)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = procfile_commands()["gateway"]
        self.env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore", "XINFANG_ENV": "test",
            "GATEWAY_HOST": "127.0.0.1", "GATEWAY_PORT": str(self.port), "METRICS_PORT_PREFIX": metrics_prefix(),
            "GATEWAY_JWT_SECRET": "test-secret-" + uuid.uuid4().hex * 2, "GATEWAY_USERS_FILE": str(users),
            "MONGODB_URI": mongodb_uri, "INTAKE_URLS": f"http://127.0.0.1:{free_port()}",  # nothing listens
            "AMQP_URI": "amqp://guest:guest@127.0.0.1:5672/", "LOG_LEVEL": "WARNING", **settings,
        }
        self.metrics_url = f"http://127.0.0.1:{self.env['METRICS_PORT_PREFIX']}05/metrics"
        self.log = folder / "gateway.log"
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(self.command, shell=True, cwd=ROOT, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for(self._answers, timeout=60, interval=0.2, what="the gateway process to answer")
        except BaseException:
            self.stop()
            raise

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"the gateway exited:\n{self.log.read_text(errors='replace')}")
        try:
            return httpx.get(f"{self.url}/healthz", timeout=2).status_code in (200, 503)
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
