"""`make run`'s SMS sink: stands in for the SMS provider on one machine, as the mail sink does for the mail server.

    python -m deploy.local.smssink --port 8026 --dir var/sms     # SMS_SECRET (and SMS_ACCOUNT) from the environment

It answers `POST /send` as a provider does for services/notification/channels.py SmsChannel: 401 unless
X-Sms-Signature is `sms_signature(SMS_SECRET, X-Sms-Timestamp, Idempotency-Key, body)` (and X-Sms-Account is
SMS_ACCOUNT, when that is set); 400 for a body that is not `{"to", "text", "idempotency_key"}` with the header's key and
a mainland mobile; otherwise 200 `{"message_id": ...}`. Each message is "sent" once per Idempotency-Key: appended as
one JSON line {"received_at", "to", "text", "idempotency_key"} to DIR/messages.jsonl, which is also where the keys
are read back from on start, so a request repeated (a retry, a re-send by hand, a dispatcher restart) gets the first
answer again, across restarts of the sink too. Binds 127.0.0.1 only; logs one line per request, the number masked.
No timestamp window: a development stand-in, not a replay guard.
"""

from __future__ import annotations

import argparse
import hmac
import json
import logging
import os
import signal
import sys
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from services.notification.channels import mask_mobile, sms_signature
from shared.language.contracts.identity import mobile_or_none
from shared.runtime.observability import configure_logging

log = logging.getLogger("deploy.local.smssink")

HOST = "127.0.0.1"
PATH = "/send"
MAX_BODY = 64 * 1024  # a provider's request is a few hundred bytes; anything this long is not one


class Outbox:
    """DIR/messages.jsonl: the messages sent, one per idempotency key, and the answer each key got."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "messages.jsonl"
        self._lock = threading.Lock()
        self._answers: dict[str, dict[str, str]] = {}
        self._torn = False
        if self.path.exists():
            data = self.path.read_bytes()
            self._torn = bool(data) and not data.endswith(b"\n")  # a line cut short by a crash: skipped, not ended
            for line in data.splitlines():
                try:
                    key = json.loads(line)["idempotency_key"]
                except (ValueError, KeyError, TypeError):
                    continue
                if isinstance(key, str) and key not in self._answers:
                    self._answers[key] = self._answer()

    def _answer(self) -> dict[str, str]:
        """The answer to the next new message: its number in the file, so the same after a restart."""
        return {"message_id": f"sms-{len(self._answers) + 1:06d}"}

    def send(self, to: str, text: str, key: str) -> tuple[dict[str, str], bool]:
        """(the answer, whether this request sent the message): the first request with `key` appends it."""
        with self._lock:
            answer = self._answers.get(key)
            if answer is not None:
                return answer, False
            record = {"received_at": datetime.now(UTC).isoformat(), "to": to, "text": text, "idempotency_key": key}
            line = json.dumps(record, ensure_ascii=False) + "\n"
            with self.path.open("a", encoding="utf-8") as file:
                if self._torn:
                    file.write("\n")
                    self._torn = False
                file.write(line)
            answer = self._answers[key] = self._answer()
            return answer, True

    def __len__(self) -> int:
        with self._lock:
            return len(self._answers)


class SmsSink(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, folder: Path, secret: str, account: str = "") -> None:
        if not secret:
            raise ValueError("SMS_SECRET is not set: the sink checks each request's signature with it")
        self.outbox = Outbox(folder)
        self.secret = secret
        self.account = account
        super().__init__((HOST, port), Handler)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as SmsChannel's connection pool expects
    server: SmsSink

    def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
        if self.path.split("?", 1)[0] != PATH:
            self._discard_body()
            self._answer(404, {"error": "not found"})
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True  # the rest of the request cannot be told from the next one
            self._refuse(400, "no usable Content-Length")
            return
        body = self.rfile.read(length)
        key = self.headers.get("Idempotency-Key", "")
        timestamp = self.headers.get("X-Sms-Timestamp", "")
        expected = sms_signature(self.server.secret, timestamp, key, body)
        signed = _same(expected, self.headers.get("X-Sms-Signature", ""))
        if not signed or (self.server.account and not _same(self.server.account,
                                                            self.headers.get("X-Sms-Account", ""))):
            self._refuse(401, "bad signature or account")
            return
        message = _message(body, key)
        if message is None:
            self._refuse(400, "malformed body")
            return
        to, text = message
        answer, sent = self.server.outbox.send(to, text, key)
        log.info("%s SMS to %s (%d characters, key %s): %s", "recorded" if sent else "repeated, not sent again:",
                 mask_mobile(to), len(text), key, answer["message_id"])
        self._answer(200, answer)

    def do_GET(self) -> None:  # noqa: N802
        self._answer(405, {"error": "POST only"})

    def _discard_body(self) -> None:
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if 0 <= length <= MAX_BODY:
            self.rfile.read(length)
        else:
            self.close_connection = True

    def _refuse(self, status: int, why: str) -> None:
        log.warning("refused a request (%d): %s", status, why)
        self._answer(status, {"error": why})

    def _answer(self, status: int, document: dict[str, Any]) -> None:
        payload = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        pass  # one line per message above, never the request line


def _same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode("utf-8", "replace"), given.encode("utf-8", "replace"))


def _message(body: bytes, key: str) -> tuple[str, str] | None:
    """(to, text) of a well-formed request, or None."""
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(document, dict) or not key or document.get("idempotency_key") != key:
        return None
    to, text = document.get("to"), document.get("text")
    if not isinstance(to, str) or not isinstance(text, str) or not text or mobile_or_none(to) != to:
        return None
    return to, text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.local.smssink", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("SMS_PORT", "8026")))
    parser.add_argument("--dir", type=Path, required=True, help="where messages.jsonl is kept")
    args = parser.parse_args(argv)
    configure_logging("smssink")
    try:
        sink = SmsSink(args.port, args.dir, os.environ.get("SMS_SECRET", ""), os.environ.get("SMS_ACCOUNT", ""))
    except ValueError as error:
        sys.exit(str(error))
    log.info("SMS sink on http://%s:%d%s, %d messages so far in %s", HOST, args.port, PATH, len(sink.outbox),
             sink.outbox.path)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # honcho's stop: close the socket on the way out
    try:
        sink.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sink.server_close()


if __name__ == "__main__":
    main()
