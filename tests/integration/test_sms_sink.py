"""`make run`'s SMS sink (deploy/local/smssink.py), run as the Procfile runs it (`python -m deploy.local.smssink`) and
sent to with the platform's own SmsChannel and sms_request: a signed message is recorded once in messages.jsonl and
answered 200; the same key again gets the same answer and no second line, after a restart of the sink too; a bad
signature or account is answered 401 and a malformed body 400, neither recorded; the log masks the number."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.notification.channels import SmsChannel, sms_request, sms_signature
from services.notification.domainmodel import Delivery, OutgoingNotice
from services.notification.settings import NotificationSettings
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
SECRET = "sink-test-secret"
ACCOUNT = "xinfang-local"
MOBILE = "13812345678"


class Sink:
    """The sink in a child process, on a free port, logging to a file."""

    def __init__(self, folder: Path, log: Path, port: int | None = None) -> None:
        self.folder, self.log = folder, log
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/send"

    @property
    def lines(self) -> list[dict[str, Any]]:
        path = self.folder / "messages.jsonl"
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []

    def start(self) -> Sink:
        env = {**os.environ, "SMS_SECRET": SECRET, "SMS_ACCOUNT": ACCOUNT, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(  # noqa: S603 - our own module
            [sys.executable, "-m", "deploy.local.smssink", "--port", str(self.port), "--dir", str(self.folder)],
            cwd=ROOT, env=env, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)  # noqa: SIM115
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the SMS sink exited: {self.log.read_text()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the SMS sink did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[Sink]:
    running = Sink(tmp_path / "sms", tmp_path / "smssink.log").start()
    yield running
    running.stop()


def settings(sink: Sink, **values: Any) -> NotificationSettings:
    return NotificationSettings(**{"XINFANG_ENV": "test", "SMS_URL": sink.url, "SMS_ACCOUNT": ACCOUNT,
                                   "SMS_SECRET": SECRET, "SMS_SIGNATURE_NAME": "【示例县信访局】", **values})


def send(sink: Sink, key: str, text: str = "【示例县信访局】您的信访事项已登记。", *,
         config: NotificationSettings | None = None, body: bytes | None = None) -> httpx.Response:
    signed_body, headers = sms_request(MOBILE, text, key, config or settings(sink), str(int(time.time())))
    if body is not None:  # another body, signed as the sink expects
        headers["X-Sms-Signature"] = sms_signature(SECRET, headers["X-Sms-Timestamp"], key, body)
    return httpx.post(sink.url, content=signed_body if body is None else body, headers=headers, timeout=5)


def test_a_notice_sent_by_the_sms_channel_is_recorded_once_per_key(sink: Sink) -> None:
    notice = OutgoingNotice(uuid.uuid4(), uuid.uuid4(), "registration_receipt", "7K3M-9QX2-HT4W-0BZ8",
                            {"name": "王秀兰", "phone": MOBILE, "email": None}, "登记回执",
                            "王秀兰：\n您的信访事项已登记。", ["inbox", "sms"], "c")
    channel = SmsChannel(settings(sink))
    try:
        assert channel.deliver(notice) == "已发送短信至138****5678"
        assert channel.deliver(notice) == "已发送短信至138****5678"  # a retry: the same Delivery id as its key
    finally:
        channel.close()

    [line] = sink.lines
    assert line["to"] == MOBILE and line["text"] == "【示例县信访局】王秀兰：\n您的信访事项已登记。"
    assert line["idempotency_key"] == str(Delivery.create_id(notice.id, "sms"))
    assert set(line) == {"received_at", "to", "text", "idempotency_key"}
    log = sink.log.read_text(encoding="utf-8")
    assert "138****5678" in log and MOBILE not in log


def test_a_repeated_key_gets_the_first_answer_and_is_not_recorded_again_even_after_a_restart(
        sink: Sink, tmp_path: Path) -> None:
    key = str(uuid.uuid4())
    first = send(sink, key)
    assert first.status_code == 200 and first.json()["message_id"]
    again = send(sink, key)
    assert again.status_code == 200 and again.json() == first.json()
    other = send(sink, str(uuid.uuid4()), "第二条")
    assert other.status_code == 200 and other.json() != first.json()
    assert [line["idempotency_key"] for line in sink.lines] == [key, other.request.headers["Idempotency-Key"]]

    sink.stop()
    sink.start()  # the same folder: the keys are read back from messages.jsonl
    after = send(sink, key)
    assert after.status_code == 200 and after.json() == first.json()
    assert send(sink, other.request.headers["Idempotency-Key"], "第二条").json() == other.json()
    assert len(sink.lines) == 2
    third = send(sink, str(uuid.uuid4()), "第三条")
    assert third.status_code == 200 and third.json() not in (first.json(), other.json())
    assert len(sink.lines) == 3


def test_a_bad_signature_or_account_is_refused_with_401_and_nothing_is_recorded(sink: Sink) -> None:
    assert send(sink, str(uuid.uuid4()), config=settings(sink, SMS_SECRET="not-the-secret")).status_code == 401
    assert send(sink, str(uuid.uuid4()), config=settings(sink, SMS_ACCOUNT="someone-else")).status_code == 401

    body, headers = sms_request(MOBILE, "改过的", str(uuid.uuid4()), settings(sink), str(int(time.time())))
    tampered = body.replace("改过的".encode(), "篡改的".encode())
    assert httpx.post(sink.url, content=tampered, headers=headers, timeout=5).status_code == 401
    assert sink.lines == []


def test_a_malformed_body_is_refused_with_400_and_nothing_is_recorded(sink: Sink) -> None:
    key = str(uuid.uuid4())
    for body in (b"not json", b"[]", json.dumps({"to": MOBILE, "text": "x"}).encode(),  # no key in the body
                 json.dumps({"to": MOBILE, "text": "x", "idempotency_key": "another"}).encode(),
                 json.dumps({"to": "12345", "text": "x", "idempotency_key": key}).encode(),
                 json.dumps({"to": MOBILE, "text": 7, "idempotency_key": key}).encode()):
        assert send(sink, key, body=body).status_code == 400, body
    assert sink.lines == []
    assert send(sink, key).status_code == 200  # the key was not taken by the refused requests
    assert len(sink.lines) == 1


def test_the_sink_listens_on_the_loopback_only(sink: Sink) -> None:
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
    except socket.gaierror:
        addresses = set()
    addresses.add("127.0.0.2")  # on the loopback network, but not the address it binds
    for address in addresses - {"127.0.0.1"}:
        with pytest.raises(OSError):
            socket.create_connection((address, sink.port), timeout=1).close()
