"""A letter petitioner with a landline only, on the real stores (notification's on PostgreSQL, the notice records on
SecantusDB, the exchange on RabbitMQ): her receipt goes to the status page and by post; the notice record shows it
awaiting the post; the clerk's posting publishes `notice.posted`, the receipt she signed `notice.delivered` on the
channel `post`; the record shows each step; and replaying or rebuilding the records from the store gives the same
documents. The clerk's RPCs answer refusals as data, and only to a clerk or an admin."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from kombu import Connection

from services.notification import translate
from services.notification.application import REGISTRATION_RECEIPT, NotificationApplication
from services.notification.bootstrap import build_application
from services.notification.channels import InboxChannel
from services.notification.domainmodel import Notice
from services.notification.records import TOPICS, NoticeRecordProjection
from services.notification.service import NotificationService
from services.notification.settings import NotificationSettings
from shared.language.chinatime import local_date
from shared.language.integration.catalog import NOTICE_DELIVERED, NOTICE_POSTED
from shared.language.integration.envelope import IntegrationEvent
from shared.language.readmodels import NoticeRecord
from shared.runtime.callers import GATEWAY, CallerAssertions
from shared.runtime.messaging import topology
from shared.runtime.nameko_support import ServiceCallers
from shared.runtime.outbox import OutboxRelay
from shared.runtime.projector import Projector, rebuild
from tests.support import samples

AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"
CLERK = {"role": "clerk", "user": "clerk-li", "organ": None}
LANDLINE = {"name": "李大爷", "phone": "0571-87654321", "email": None}


@pytest.fixture
def settings(settings_for, read_models) -> NotificationSettings:
    return settings_for(NotificationSettings, store="postgres")


@pytest.fixture
def notification(settings, closing) -> NotificationApplication:
    return closing(build_application(settings))


def drain(namespace: str, handler: str) -> list[IntegrationEvent]:
    name = topology.queue_name(namespace, "supervision", handler)
    events = []
    with Connection(AMQP_URI) as connection:
        channel = connection.default_channel
        while (message := channel.basic_get(queue=name, no_ack=False)) is not None:
            events.append(IntegrationEvent.from_json(message.body))
            channel.basic_ack(message.delivery_tag)
    return events


def records(notice_ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    return list(NoticeRecord._get_collection().find({"_id": {"$in": [str(n) for n in notice_ids]}}, sort=[("_id", 1)]))


def landline_receipt(notification: NotificationApplication, sequence: int) -> uuid.UUID:
    event = samples.registered_event(sequence, channel="letter", petitioner=dict(LANDLINE))
    notification.request_registration_receipt(
        event, translate.RegisteredPetition.of(event, samples.particulars(event, "notice")))
    return Notice.create_id(uuid.UUID(event.subject), REGISTRATION_RECEIPT)


def test_a_letter_is_posted_received_published_and_recorded(settings, notification, closing, namespace) -> None:
    today = local_date(datetime.now(UTC)).isoformat()
    notice = landline_receipt(notification, 1)
    other = landline_receipt(notification, 2)  # never posted: still awaiting the post at the end
    [request] = notification.events.get(notice)
    assert request.channels == ["inbox", "post"]  # a status-page listing, and the letter (no mobile, no e-mail)

    projector = Projector(settings, "notification", notification, NoticeRecordProjection(notification),
                          topics=TOPICS)
    relay = closing(OutboxRelay(settings, "notification", notification, translate.to_integration_event,
                                translated=translate.TRANSLATED))

    def project() -> dict[str, Any]:
        while projector.follower.run_once():
            pass
        return NoticeRecord._get_collection().find_one({"_id": str(notice)})

    record = project()
    assert record["awaiting_post"] is True and record["failed"] == []
    assert record["deliveries"] == {"inbox": {"outcome": "pending"}, "post": {"outcome": "pending"}}
    assert NoticeRecord.objects(awaiting_post=True).count() == 2
    assert NoticeRecord.objects(notice_id=str(notice)).first().kind == REGISTRATION_RECEIPT

    notification.deliver([request], InboxChannel(), may_repeat=False)
    record = project()
    assert record["deliveries"]["inbox"]["outcome"] == "delivered" and record["awaiting_post"] is True

    notification.record_posting(notice, today, "XA 1234 5678 9CN", CLERK)
    record = project()
    assert record["awaiting_post"] is False
    assert record["deliveries"]["post"] == {
        "outcome": "posted", "at": record["deliveries"]["post"]["at"], "posted_on": today,
        "registered_mail_number": "XA123456789CN", "recorded_by": "clerk-li"}

    while relay.follower.run_once():
        pass
    [posted] = drain(namespace, "handle_notice_posted")
    posted.validate()  # against notice.posted.v1.json
    assert posted.event_type == NOTICE_POSTED and posted.subject == str(request.petition_id)
    assert posted.data == {"notice_id": str(notice), "petition_id": str(request.petition_id),
                           "kind": REGISTRATION_RECEIPT, "title": request.title, "posted_on": today}
    inbox = drain(namespace, "handle_notice_delivered")
    assert [e.data["channel"] for e in inbox] == ["inbox"]  # a listing on the status page, not the receipt

    notification.record_postal_receipt(notice, today, CLERK)
    record = project()
    assert record["deliveries"]["post"]["outcome"] == "received"
    assert record["deliveries"]["post"]["received_on"] == today
    while relay.follower.run_once():
        pass
    [received] = drain(namespace, "handle_notice_delivered")
    received.validate()
    assert received.event_type == NOTICE_DELIVERED
    assert (received.data["channel"], received.data["delivered_at"]) == ("post", f"{today}T00:00:00+08:00")
    assert drain(namespace, "handle_notice_posted") == []

    before = records([notice, other])
    assert [r["awaiting_post"] for r in before] == [r["_id"] == str(other) for r in before]

    # A crash before the position was written: the same events are folded again, and change nothing.
    projector.position.reset()
    projector.follower._position = None
    project()
    assert records([notice, other]) == before
    # A projection restarted from its position, remembering nothing: the next event lands on the stored record.
    projector.close()
    notification.record_posting(other, today, "1234567890123", CLERK)
    projector = Projector(settings, "notification", notification, NoticeRecordProjection(notification),
                          topics=TOPICS)
    project()
    after = records([notice, other])
    assert [r["awaiting_post"] for r in after] == [False, False]
    projector.close()

    # Rebuilt from zero: the same documents.
    replayed = rebuild(settings, "notification", notification, NoticeRecordProjection(notification))
    assert replayed > 0
    assert records([notice, other]) == after


def service(notification: NotificationApplication, settings: NotificationSettings) -> NotificationService:
    """The nameko service's RPC methods with its dependencies in place (as its container injects them)."""
    rpc = NotificationService()
    rpc.notification = notification
    rpc.callers = ServiceCallers(CallerAssertions(settings.rpc_secret, "notification"), "notification")
    return rpc


def test_the_clerks_rpcs_answer_records_and_refusals(settings, notification) -> None:
    today = local_date(datetime.now(UTC)).isoformat()
    notice = str(landline_receipt(notification, 1))
    gateway = CallerAssertions(settings.rpc_secret, GATEWAY)
    rpc = service(notification, settings)

    def call(method: str, *args: Any, actor: dict[str, Any] = CLERK) -> dict[str, Any]:
        return getattr(rpc, method)(*args, caller=gateway.assertion("notification", method, actor))

    refused = call("record_posting", notice, today, "XA123456789CN",
                   actor={"role": "supervisor", "user": "du-cha", "organ": None})
    assert refused["ok"] is False and refused["http_status"] == 403
    assert call("record_postal_receipt", notice, today)["problem"]["error"] == "not_posted"

    answer = call("record_posting", notice, today, "XA123456789CN")
    assert answer == {"ok": True, "notice_id": notice, "channel": "post", "outcome": "posted", "posted_on": today,
                      "registered_mail_number": "XA123456789CN", "received_on": None}
    assert call("record_posting", notice, today, "XA123456789CN") == answer  # sent again: the same answer
    conflict = call("record_posting", notice, today, "XA000000000CN")
    assert (conflict["http_status"], conflict["problem"]["error"]) == (409, "already_posted")
    bad = call("record_posting", notice, today, "??")
    assert bad["http_status"] == 422 and bad["problem"]["message"].startswith("挂号信号码格式不正确")

    received = call("record_postal_receipt", notice, today, actor={"role": "admin", "user": "root", "organ": None})
    assert (received["outcome"], received["received_on"]) == ("received", today)
    unknown = call("record_postal_receipt", str(uuid.uuid4()), today)
    assert (unknown["http_status"], unknown["problem"]) == (404, {"error": "unknown_notice", "message": "没有这份告知"})


def test_the_audit_replays_the_posting_and_the_receipt_with_the_notice(settings_for, settings, notification) -> None:
    """The post channel's record has the post Delivery's id, which notification names to the audit service with the
    notice's other deliveries (case_aggregates): the replay shows who recorded the posting and the receipt, when."""
    from services.audit.replay import case_aggregates, history
    from services.audit.stores import EventStores
    from services.notification.application import case_aggregates as notification_aggregates
    from shared.runtime.settings import PlatformSettings

    today = local_date(datetime.now(UTC)).isoformat()
    notice = landline_receipt(notification, 1)
    [request] = notification.events.get(notice)
    notification.record_posting(notice, today, "XA123456789CN", CLERK)
    notification.record_postal_receipt(notice, today, CLERK)

    stores = EventStores(settings_for(PlatformSettings, store="postgres"))
    try:
        steps = [s for s in history(stores, settings, case_aggregates(request.petition_id, notification_aggregates(
            request.petition_id))) if s.service == "notification"]
    finally:
        stores.close()

    assert [s.event for s in steps] == ["Notice.Requested", "PostalDelivery.Posted", "PostalDelivery.ReceiptRecorded"]
    posted, received = steps[1].fields, steps[2].fields
    assert (posted["posted_on"], posted["registered_mail_number"], posted["by"]) == (today, "XA123456789CN", CLERK)
    assert (received["received_on"], received["by"]) == (today, CLERK)
    assert steps[1].caused_by is None and steps[1].correlation_id == request.correlation_id


def test_a_failed_delivery_is_listed_until_its_re_send_is_delivered(settings, notification) -> None:
    """A re-send's request names only its delivery: a projection that did not see the delivery concluded (restarted
    since) finds its notice and channel in the store."""
    from services.notification.domainmodel import FAILED, Delivery

    notice = landline_receipt(notification, 1)
    [request] = notification.events.get(notice)
    delivery = Delivery(notice_id=notice, channel="email", outcome=FAILED, at="2026-12-05T09:00:00+00:00",
                        detail="尝试发送5次仍未送达（服务器无应答）", petition_id=str(request.petition_id),
                        kind=request.kind, title=request.title, correlation_id=request.correlation_id)
    notification.save(delivery)

    def stored_since(position: int) -> list[tuple[int, Any]]:
        return [(n.id, notification.mapper.to_domain_event(n))
                for n in notification.recorder.select_notifications(start=position, limit=100, inclusive_of_start=False)]

    first = stored_since(0)
    NoticeRecordProjection(notification).apply_batch(first)
    record = NoticeRecord._get_collection().find_one({"_id": str(notice)})
    assert record["failed"] == ["email"] and record["deliveries"]["email"]["outcome"] == FAILED

    delivery.request_resend(by=CLERK, at="2026-12-05T10:00:00+00:00")
    notification.save(delivery)
    restarted = NoticeRecordProjection(notification)
    restarted.apply_batch(stored_since(first[-1][0]))
    record = NoticeRecord._get_collection().find_one({"_id": str(notice)})
    assert record["failed"] == [] and record["deliveries"]["email"]["outcome"] == "pending"

    delivery.record_attempt(outcome="delivered", at="2026-12-05T10:00:01+00:00", detail="w***@example.cn")
    notification.save(delivery)
    restarted.apply_batch(stored_since(record["version"]))
    record = NoticeRecord._get_collection().find_one({"_id": str(notice)})
    assert record["deliveries"]["email"] == {"outcome": "delivered", "at": "2026-12-05T10:00:01+00:00",
                                             "detail": "w***@example.cn", "attempts": 2}
    assert record["failed"] == [] and record["awaiting_post"] is True


def test_the_dispatcher_process_keeps_the_notice_records(settings, notification) -> None:
    from services.notification.dispatcher import build_workers

    workers = build_workers(settings, notification)
    try:
        records_worker = workers[-1]
        assert isinstance(records_worker, Projector) and records_worker.follower.name == "notification.notice_records"
        notice = landline_receipt(notification, 1)
        assert records_worker.follower.run_once() == 1
        assert NoticeRecord.objects(notice_id=str(notice)).first().awaiting_post is True
    finally:
        for worker in workers:
            worker.close()
