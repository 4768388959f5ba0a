"""Notices by SMS through a real HTTP server standing in for the provider (tests/support/sms_provider.py: it checks
the signature and sends once per idempotency key), on notification's store on PostgreSQL and the read models on
SecantusDB: a provider answering 500s and then recovering delivers once; one timing out through every retry leaves
the delivery failed, and a re-send by hand (the RPC a clerk's console calls) delivers it once; and the dispatcher
process killed after the provider accepted a message but before the delivery was recorded sends it again on restart
with the same key, so the petitioner receives one message."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.notification.application import REGISTRATION_RECEIPT, NotificationApplication
from services.notification.bootstrap import build_application
from services.notification.dispatcher import ChannelDispatcher, build_dispatchers
from services.notification.domainmodel import DELIVERED, FAILED, Delivery, Notice
from services.notification.service import NotificationService
from services.notification.settings import NotificationSettings
from services.notification.translate import RegisteredPetition
from shared.runtime.callers import GATEWAY, CallerAssertions
from shared.runtime.nameko_support import ServiceCallers
from tests.support import samples
from tests.support.sms_provider import ACCOUNT, SECRET, SmsProvider
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
MOBILE = "13800138000"  # the samples' petitioner
CLERK = {"role": "clerk", "user": "clerk-li", "organ": None}


@pytest.fixture
def provider() -> Iterator[SmsProvider]:
    server = SmsProvider(hang_seconds=10)
    yield server
    server.stop()


def sms_settings(provider: SmsProvider, **values: Any) -> dict[str, Any]:
    return {"SMS_URL": provider.url, "SMS_ACCOUNT": ACCOUNT, "SMS_SECRET": SECRET, "SMS_TIMEOUT": 0.5,
            "DELIVERY_ATTEMPTS": 4, "DELIVERY_BACKOFF_SECONDS": 0.05, "SMTP_HOST": "", **values}


@pytest.fixture
def settings(settings_for, provider, read_models) -> NotificationSettings:
    return settings_for(NotificationSettings, store="postgres", **sms_settings(provider))


@pytest.fixture
def notification(settings, closing) -> NotificationApplication:
    return closing(build_application(settings))


@pytest.fixture
def sms(settings, notification) -> Iterator[ChannelDispatcher]:
    dispatchers = build_dispatchers(settings, notification)
    [dispatcher] = [d for d in dispatchers if d.channel.name == "sms"]
    assert dispatcher.follower.try_activate()
    yield dispatcher
    for each in dispatchers:
        each.close()


def receipt(notification: NotificationApplication, sequence: int) -> uuid.UUID:
    event = samples.registered_event(sequence)
    notification.request_registration_receipt(event, RegisteredPetition.of(event, samples.particulars(event, "notice")))
    return Notice.create_id(uuid.UUID(event.subject), REGISTRATION_RECEIPT)


def sms_delivery(notification: NotificationApplication, notice_id: uuid.UUID) -> Delivery:
    return notification.repository.get(Delivery.create_id(notice_id, "sms"))


def test_a_provider_answering_500s_then_recovering_delivers_once(notification, sms, provider) -> None:
    notice_id = receipt(notification, 1)
    provider.then("500", "503", "drop")

    assert sms.follower.run_once() >= 1

    [message] = provider.received()
    assert message["to"] == MOBILE and "ABCD-EFGH-JKMN-PQRS" in message["text"]
    assert message["text"].startswith("【示例县信访局】")
    key = str(Delivery.create_id(notice_id, "sms"))
    assert provider.keys() == [key] * 4  # the same idempotency key on every attempt
    assert all(request.signed for request in provider.requests)
    delivered = sms_delivery(notification, notice_id)
    assert delivered.outcome == DELIVERED
    [concluded] = notification.events.get(delivered.id)
    assert concluded.detail in ("已发送短信至138****8000", "已发送短信摘要至138****8000")
    assert MOBILE not in concluded.detail


def test_a_provider_timing_out_through_the_retries_fails_and_a_resend_by_hand_delivers_once(
        notification, settings, sms, provider) -> None:
    notice_id = receipt(notification, 2)
    later = receipt(notification, 3)
    provider.then("hang", "hang", "hang", "hang")

    sms.follower.run_once()

    failed = sms_delivery(notification, notice_id)
    assert failed.outcome == FAILED
    [concluded] = notification.events.get(failed.id)
    assert concluded.detail == "尝试发送4次仍未送达（服务器无应答）"
    assert sms_delivery(notification, later).outcome == DELIVERED  # nothing held back behind it
    assert [m["to"] for m in provider.received()] == [MOBILE]  # the later notice's only

    # A clerk re-sends it from the console: the gateway's RPC, with the clerk as its signed actor.
    rpc = NotificationService()
    rpc.notification = notification
    rpc.callers = ServiceCallers(CallerAssertions(settings.rpc_secret, "notification"), "notification")
    gateway = CallerAssertions(settings.rpc_secret, GATEWAY)

    def resend(notice: str, actor: dict[str, Any] = CLERK, channel: str = "sms") -> dict[str, Any]:
        return rpc.resend(notice, channel, caller=gateway.assertion("notification", "resend", actor))

    organ = resend(str(notice_id), {"role": "organ_officer", "user": "o", "organ": "330106001-ZF"})
    assert (organ["ok"], organ["http_status"], organ["problem"]["error"]) == (False, 403, "not_permitted")
    assert resend(str(later))["problem"] == {"error": "not_failed", "message": "只有发送失败的告知才能重新发送"}
    assert resend("not-a-notice")["http_status"] == 404
    assert resend(str(notice_id)) == {"ok": True, "notice_id": str(notice_id), "channel": "sms",
                                      "outcome": "resend_requested"}
    assert resend(str(notice_id))["problem"]["error"] == "resend_pending"

    sms.follower.run_once()

    resent = sms_delivery(notification, notice_id)
    assert (resent.outcome, resent.resend_pending) == (DELIVERED, False)
    assert [m["to"] for m in provider.received()] == [MOBILE, MOBILE]  # once each notice
    key = str(Delivery.create_id(notice_id, "sms"))
    assert provider.keys().count(key) == 5  # four attempts, then the re-send: one key
    sms.follower._position = None  # as after a restart: the re-send request is read again
    sms.follower.run_once()
    assert len(provider.requests) == 6 and len(provider.received()) == 2  # answered: not attempted again


def dispatcher_env(settings: NotificationSettings, provider: SmsProvider) -> dict[str, str]:
    values = {"XINFANG_ENV": "test", "XINFANG_NAMESPACE": settings.namespace, "EVENT_STORE": "postgres",
              "DATA_DIR": str(settings.data_dir), "POSTGRES_SCHEMA_PREFIX": settings.postgres_schema_prefix,
              "MONGODB_URI": settings.mongodb_uri, "FOLLOWER_POLL_INTERVAL": "0.05", "LOG_LEVEL": "INFO",
              "PYTHONPATH": str(ROOT), "METRICS_PORT": "0",
              **{k: str(v) for k, v in sms_settings(provider, SMS_TIMEOUT=30).items()}}
    return {**os.environ, **values}


def test_a_dispatcher_killed_between_the_providers_acceptance_and_the_record_sends_one_message(
        notification, settings, provider, tmp_path) -> None:
    notice_id = receipt(notification, 4)
    key = str(Delivery.create_id(notice_id, "sms"))
    provider.then("accept-then-hang")  # the message goes out; the answer never comes back
    env = dispatcher_env(settings, provider)
    log = tmp_path / "dispatcher.log"

    def start() -> subprocess.Popen[bytes]:
        with log.open("ab") as output:
            return subprocess.Popen([sys.executable, "-m", "services.notification.dispatcher"], cwd=ROOT, env=env,
                                    stdout=output, stderr=subprocess.STDOUT, start_new_session=True)

    first = start()
    try:
        wait_for(lambda: provider.received(), timeout=30, what="the provider to accept the message")
        os.killpg(first.pid, signal.SIGKILL)  # killed mid-send: nothing recorded
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
    assert not notification._exists(Delivery.create_id(notice_id, "sms"))

    second = start()
    try:
        wait_for(lambda: notification._exists(Delivery.create_id(notice_id, "sms")), timeout=30,
                 what=f"the restarted dispatcher to record the SMS\n{log.read_text(errors='replace')[-3000:]}")
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(second.pid, signal.SIGKILL)
            second.wait()

    assert sms_delivery(notification, notice_id).outcome == DELIVERED
    assert provider.keys() == [key, key]  # sent again after the restart, with the same key
    assert len(provider.received(MOBILE)) == 1  # the petitioner's phone got one message
