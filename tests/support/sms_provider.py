"""A real HTTP server standing in for the SMS provider (services/notification/channels.py SmsChannel), started by
the tests: it checks each request's signature as a provider does, sends (records) a message once per
Idempotency-Key however often it is asked (a repeated key gets the first answer again), and can be told to answer
an error, to hang past the client's timeout, to accept a message and then hang, or to drop the connection."""

from __future__ import annotations

import hmac
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from deploy.local.rabbitmq import free_port
from services.notification.channels import sms_signature

SECRET = "test-sms-secret"
ACCOUNT = "xinfang-test"


@dataclass
class SmsRequest:
    headers: dict[str, str]
    body: bytes
    signed: bool
    answered: int | None = None  # the status answered; None: no answer (hung or dropped)

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class SmsProvider:
    """`behaviours`: what to do with the next requests, in order (then: accept), each one of "500" (or any status),
    "hang" (answer nothing, send nothing, until `hang_seconds` passed), "accept-then-hang" (send the message, then
    hang), "drop" (close the connection without an answer)."""

    secret: str = SECRET
    hang_seconds: float = 30.0
    port: int = field(default_factory=free_port)
    requests: list[SmsRequest] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)  # what reached the phones
    behaviours: deque[str] = field(default_factory=deque)

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self._answers: dict[str, dict[str, Any]] = {}  # Idempotency-Key -> the answer given the first time
        provider = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a provider's API

            def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
                provider._handle(self)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sms/send"

    def then(self, *behaviours: str) -> SmsProvider:
        with self.lock:
            self.behaviours.extend(behaviours)
        return self

    def received(self, to: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.messages if to is None or m["to"] == to]

    def keys(self) -> list[str]:
        """The Idempotency-Key of every request, in order."""
        with self.lock:
            return [r.headers.get("Idempotency-Key", "") for r in self.requests]

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    # --- the provider ---------------------------------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in handler.headers.items()}
        key = headers.get("Idempotency-Key", "")
        expected = sms_signature(self.secret, headers.get("X-Sms-Timestamp", ""), key, body)
        request = SmsRequest(headers, body, hmac.compare_digest(expected, headers.get("X-Sms-Signature", "")))
        with self.lock:
            self.requests.append(request)
            behaviour = self.behaviours.popleft() if self.behaviours else "accept"
        if behaviour == "drop":
            handler.close_connection = True
            handler.connection.close()
            return
        if behaviour == "hang":
            self.stopping.wait(self.hang_seconds)
            handler.close_connection = True
            return
        if behaviour.isdigit():
            self._answer(handler, request, int(behaviour), {"error": "provider error"})
            return
        if not request.signed or headers.get("X-Sms-Account") != ACCOUNT:
            self._answer(handler, request, 401, {"error": "bad signature"})
            return
        try:
            message = json.loads(body)
            assert message["idempotency_key"] == key and key
        except (ValueError, KeyError, AssertionError):
            self._answer(handler, request, 400, {"error": "bad request"})
            return
        with self.lock:
            answer = self._answers.get(key)
            if answer is None:  # sent once per key: a repeated request gets the first answer
                answer = self._answers[key] = {"message_id": f"m{len(self._answers) + 1}", "status": "accepted"}
                self.messages.append(message)
        if behaviour == "accept-then-hang":
            self.stopping.wait(self.hang_seconds)
            handler.close_connection = True
            return
        self._answer(handler, request, 200, answer)

    @staticmethod
    def _answer(handler: BaseHTTPRequestHandler, request: SmsRequest, status: int, document: dict[str, Any]) -> None:
        payload = json.dumps(document).encode()
        request.answered = status
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)
