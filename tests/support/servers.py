"""Real servers the tests start themselves: SecantusDB (MongoDB wire protocol) and an SMTP sink (aiosmtpd)."""

from __future__ import annotations

import email
import socket
import subprocess
import sys
import threading
import time
from email.message import Message
from pathlib import Path

from aiosmtpd.controller import Controller

from deploy.local.rabbitmq import free_port  # one implementation: below the ephemeral port range


class ServerProcess:
    """A server in a child process on a free port, ready once it accepts a connection."""

    name = "the server"

    def __init__(self, command: list[str]) -> None:
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


class SecantusServer(ServerProcess):
    """A SecantusDB server in a child process (the way `make run` runs it)."""

    name = "SecantusDB"

    def __init__(self, storage: str = ":memory:", *options: str) -> None:
        self.port = free_port()
        executable = Path(sys.executable).parent / "secantusd-py"
        super().__init__([str(executable), "--host", "127.0.0.1", "--port", str(self.port), "--storage-path", storage,
                          "--log-level", "WARNING", *options])

    def uri(self, database: str) -> str:
        return f"mongodb://127.0.0.1:{self.port}/{database}"


class MailServerProcess(ServerProcess):
    """A mail server that accepts and discards every message, in its own process (aiosmtpd's Sink handler): for
    the benchmark, so that the platform's mail goes to a separate server, as it does in a county, and its cost is
    not mixed up with the load generator's."""

    name = "the mail server"

    def __init__(self) -> None:
        self.port = free_port()
        super().__init__([sys.executable, "-m", "aiosmtpd", "-n", "-u", "-c", "aiosmtpd.handlers.Sink", "-l",
                          f"127.0.0.1:{self.port}"])


class _Collect:
    def __init__(self, sink: SmtpSink) -> None:
        self._sink = sink

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802 - aiosmtpd's hook name
        if self._sink.refuse_with:
            return self._sink.refuse_with
        with self._sink.lock:
            self._sink.messages.append(email.message_from_bytes(envelope.original_content or envelope.content))
            self._sink.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


class SmtpSink:
    """A real SMTP server (aiosmtpd) that keeps what it receives; can be told to refuse or be stopped."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[Message] = []
        self.recipients: list[list[str]] = []
        self.lock = threading.Lock()
        self.refuse_with: str | None = None
        self._controller = Controller(_Collect(self), hostname="127.0.0.1", port=self.port, enable_SMTPUTF8=True)
        self._controller.start()

    def received(self, message_id: str | None = None) -> list[Message]:
        with self.lock:
            return [m for m in self.messages if message_id is None or m["Message-ID"] == message_id]

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()
            self.recipients.clear()
        self.refuse_with = None

    def stop(self) -> None:
        self._controller.stop()

    def start(self) -> None:
        self._controller = Controller(self._controller.handler, hostname="127.0.0.1", port=self.port,
                                      enable_SMTPUTF8=True)
        self._controller.start()
