"""Notices on a real SMTP server (aiosmtpd), a real store and real read models: a notice is requested once
however often its event arrives, concluded once per channel, an e-mail that cannot be sent is retried and then
recorded as failed, and an e-mail outage never holds back the inbox."""

from __future__ import annotations

import uuid

import pytest

from services.notification import translate as notice_translate
from services.notification.application import REGISTRATION_RECEIPT, NoLongerActive, NotificationApplication
from services.notification.channels import EmailChannel, InboxChannel
from services.notification.dispatcher import build_dispatchers
from services.notification.domainmodel import DELIVERED, FAILED, REFUSED, Delivery, Notice
from services.notification.settings import NotificationSettings
from shared.language.readmodels import InboxMessage
from shared.runtime.eventstore import DUPLICATE, PROCESSED
from tests.support import samples


@pytest.fixture
def settings(settings_for, smtp, read_models) -> NotificationSettings:
    return settings_for(NotificationSettings, store="sqlite", SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port,
                        SMTP_TIMEOUT=3, DELIVERY_BACKOFF_SECONDS=0.01)


@pytest.fixture
def notification(settings, closing) -> NotificationApplication:
    return closing(NotificationApplication(settings))


def requested(notification: NotificationApplication, event) -> list:
    """The notice's Requested event, as the dispatcher reads it from the store."""
    notice_id = Notice.create_id(uuid.UUID(event.subject), REGISTRATION_RECEIPT)
    return list(notification.events.get(notice_id))


def outcome(notification: NotificationApplication, notice_id, channel: str) -> str:
    return notification.repository.get(Delivery.create_id(notice_id, channel)).outcome


def test_a_receipt_is_requested_once_however_often_its_event_arrives(notification):
    event = samples.registered_event(3)
    assert notification.request_registration_receipt(event,
        notice_translate.RegisteredPetition.of(event, samples.particulars(event, "notice"))) == PROCESSED
    assert notification.request_registration_receipt(event,
        notice_translate.RegisteredPetition.of(event, samples.particulars(event, "notice"))) == DUPLICATE

    [request] = requested(notification, event)
    assert request.channels == ["inbox", "email", "sms"]
    assert samples.particulars(event)["query_code"] in request.body


def test_each_channel_delivers_once_with_a_stable_message_id(notification, settings, smtp):
    event = samples.registered_event(4)
    notification.request_registration_receipt(event,
        notice_translate.RegisteredPetition.of(event, samples.particulars(event, "notice")))
    batch = requested(notification, event)
    notice_id = batch[0].originator_id
    email = EmailChannel(settings)

    assert notification.deliver(batch, email, may_repeat=False) == 1
    assert notification.deliver(batch, email, may_repeat=True) == 0  # a repeated batch: never sent again
    assert notification.deliver(batch, InboxChannel(), may_repeat=False) == 1
    assert notification.deliver(batch, InboxChannel(), may_repeat=True) == 0
    email.close()

    received = smtp.received()
    assert len(received) == 1
    assert received[0]["Message-ID"] == f"<{notice_id}.email@example.gov.cn>"
    assert smtp.recipients == [["wangxl@example.cn"]]
    assert samples.particulars(event)["query_code"] in received[0].get_payload(decode=True).decode("utf-8")
    assert InboxMessage.objects(notice_id=str(notice_id)).count() == 1
    assert outcome(notification, notice_id, "email") == outcome(notification, notice_id, "inbox") == DELIVERED


def test_the_inbox_shows_a_notice_delivered_twice_once_as_first_delivered(notification):
    # A crash after the inbox write but before its Delivery was saved delivers the batch again.
    event = samples.registered_event(6)
    notification.request_registration_receipt(event,
        notice_translate.RegisteredPetition.of(event, samples.particulars(event, "notice")))
    [request] = requested(notification, event)
    notice_id = str(request.originator_id)
    inbox = InboxChannel()

    assert notification.deliver([request], inbox, may_repeat=False) == 1
    first = InboxMessage.objects(notice_id=notice_id).first()
    assert notification.deliver([request], inbox, may_repeat=False) == 1  # not checked first: delivered again

    [message] = InboxMessage.objects(notice_id=notice_id)
    assert (message.delivered_at, message.title, message.query_code) == (
        first.delivered_at, request.title, samples.particulars(event)["query_code"])


def test_a_batch_reaches_the_inbox_in_one_write_and_a_notice_in_it_delivered_before_stays_as_it_was(
        notification, monkeypatch):
    events = [samples.registered_event(n) for n in (21, 22, 23)]
    for event in events:
        notification.request_registration_receipt(event,
            notice_translate.RegisteredPetition.of(event, samples.particulars(event, "notice")))
    batch = [r for event in events for r in requested(notification, event)]
    inbox = InboxChannel()
    assert notification.deliver(batch[1:2], inbox, may_repeat=False) == 1  # the middle one, before a crash
    first = InboxMessage.objects(notice_id=str(batch[1].originator_id)).first()
    writes: list[int] = []
    collection = InboxMessage._get_collection()
    insert_many = collection.insert_many
    monkeypatch.setattr(type(collection), "insert_many",
                        lambda self, documents, **kw: (writes.append(len(documents)), insert_many(documents, **kw))[1])

    assert notification.deliver(batch, inbox, may_repeat=False) == 3

    assert writes == [3]
    for request in batch:
        assert InboxMessage.objects(notice_id=str(request.originator_id)).count() == 1
        assert outcome(notification, request.originator_id, "inbox") == DELIVERED
    assert InboxMessage.objects(notice_id=str(batch[1].originator_id)).first().delivered_at == first.delivered_at


def test_a_refused_address_is_recorded_once_and_not_retried(notification, settings, smtp):
    event = samples.registered_event(5)
    notification.request_registration_receipt(event,
        notice_translate.RegisteredPetition.of(event, samples.particulars(event, "notice")))
    batch = requested(notification, event)
    smtp.refuse_with = "550 5.1.1 mailbox unavailable"

    assert notification.deliver(batch, EmailChannel(settings), may_repeat=False) == 0
    assert notification.deliver(batch, EmailChannel(settings), may_repeat=True) == 0

    assert outcome(notification, batch[0].originator_id, "email") == REFUSED
    assert smtp.received() == []


def test_while_the_mail_server_is_down_the_email_is_retried_and_sent_once_it_is_back(notification, settings,
                                                                                     smtp):
    event = samples.registered_event(6)
    notification.request_registration_receipt(event,
        notice_translate.RegisteredPetition.of(event, samples.particulars(event, "notice")))
    batch = requested(notification, event)
    waits: list[float] = []

    def back_after_two_waits(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:
            smtp.start()

    smtp.stop()
    assert notification.deliver(batch, EmailChannel(settings), may_repeat=False, pause=back_after_two_waits) == 1

    assert len(waits) == 2 and all(0 <= w <= settings.delivery_backoff_seconds * 2 for w in waits)
    assert len(smtp.received()) == 1
    assert outcome(notification, batch[0].originator_id, "email") == DELIVERED


def test_an_email_that_cannot_be_sent_through_its_retries_is_recorded_as_failed_and_the_next_goes_on(
        notification, settings, smtp):
    events = [samples.registered_event(n) for n in (31, 32)]
    for event in events:
        notification.request_registration_receipt(event,
            notice_translate.RegisteredPetition.of(event, samples.particulars(event, "notice")))
    first, second = (requested(notification, event)[0] for event in events)
    smtp.stop()
    try:
        assert notification.deliver([first], EmailChannel(settings), may_repeat=False) == 0
    finally:
        smtp.start()
    assert notification.deliver([first, second], EmailChannel(settings), may_repeat=True) == 1

    failed = notification.repository.get(Delivery.create_id(first.originator_id, "email"))
    assert failed.outcome == FAILED
    [concluded] = [e for e in notification.events.get(failed.id) if isinstance(e, Delivery.Concluded)]
    assert concluded.detail == f"尝试发送{settings.delivery_attempts}次仍未送达（服务器无应答）"
    assert outcome(notification, second.originator_id, "email") == DELIVERED
    assert len(smtp.received()) == 1


def test_what_was_sent_before_a_failure_is_recorded_and_not_sent_again(notification, settings, smtp):
    events = [samples.registered_event(10 + i) for i in range(3)]
    for event in events:
        notification.request_registration_receipt(event,
            notice_translate.RegisteredPetition.of(event, samples.particulars(event, "notice")))
    batch = [requested(notification, event)[0] for event in events]
    email = EmailChannel(settings)
    sent_before_failure = []
    original = email.deliver

    class Crash(BaseException):
        """The process dies at the third (nothing the retries catch)."""

    def fail_on_the_third(notice):
        if len(sent_before_failure) == 2:
            raise Crash
        sent_before_failure.append(notice.id)
        return original(notice)

    email.deliver = fail_on_the_third  # type: ignore[method-assign]
    with pytest.raises(Crash):
        notification.deliver(batch, email, may_repeat=False)
    email.deliver = original  # type: ignore[method-assign]

    assert notification.deliver(batch, email, may_repeat=True) == 1  # only the third
    email.close()
    assert len(smtp.received()) == 3


def test_an_email_outage_does_not_hold_back_the_inbox(notification, settings, smtp):
    event = samples.registered_event(7)
    notification.request_registration_receipt(event,
        notice_translate.RegisteredPetition.of(event, samples.particulars(event, "notice")))
    notice_id = requested(notification, event)[0].originator_id
    inbox, email = build_dispatchers(settings, notification)
    assert inbox.follower.try_activate() and email.follower.try_activate()
    smtp.stop()
    try:
        assert inbox.follower.run_once() >= 1  # first: the inbox does not wait for e-mail's retries
        assert InboxMessage.objects(notice_id=str(notice_id)).count() == 1
        assert email.follower.run_once() >= 1  # retried, then recorded as failed (re-sendable by hand)
        assert outcome(notification, notice_id, "email") == FAILED
        assert outcome(notification, notice_id, "inbox") == DELIVERED
    finally:
        smtp.start()
        for dispatcher in (inbox, email):
            dispatcher.close()


def test_a_dispatcher_that_lost_its_lock_sends_nothing(notification, settings, smtp):
    event = samples.registered_event(20)
    notification.request_registration_receipt(event,
        notice_translate.RegisteredPetition.of(event, samples.particulars(event, "notice")))
    batch = requested(notification, event)

    with pytest.raises(NoLongerActive):
        notification.deliver(batch, EmailChannel(settings), may_repeat=False, still_active=lambda: False)
    assert smtp.received() == []
    assert not notification._exists(Delivery.create_id(batch[0].originator_id, "email"))


def test_an_address_with_a_chinese_local_part_is_delivered_with_smtputf8(notification, settings, smtp):
    event = samples.registered_event(21, petitioner={"name": "王秀兰", "phone": "13800138000", "address": "人民路1号",
                                                     "email": "王秀兰@example.cn"})
    notification.request_registration_receipt(event,
        notice_translate.RegisteredPetition.of(event, samples.particulars(event, "notice")))

    assert notification.deliver(requested(notification, event), EmailChannel(settings), may_repeat=False) == 1
    assert smtp.recipients == [["王秀兰@example.cn"]]


def test_a_crash_between_sending_and_recording_sends_the_same_message_again_which_mail_systems_recognise(
        notification, settings, smtp):
    """SMTP offers no exactly-once: a dispatcher that dies after the server accepted an e-mail and before it recorded
    the delivery sends that one e-mail again on restart — the same message, under the same Message-ID, so the
    petitioner's mail system shows it once (RFC 5322 §3.6.4). (SMS has the provider's idempotency key instead:
    tests/integration/test_sms_delivery.py.)"""
    event = samples.registered_event(40)
    notification.request_registration_receipt(event,
        notice_translate.RegisteredPetition.of(event, samples.particulars(event, "notice")))
    batch = requested(notification, event)
    email = EmailChannel(settings)

    class Crash(BaseException):
        """The process dies between the server's acceptance and the record."""

    recording = notification._save_deliveries

    def die_before_recording(deliveries):
        if deliveries:
            raise Crash
        recording(deliveries)

    notification._save_deliveries = die_before_recording  # type: ignore[method-assign]
    with pytest.raises(Crash):
        notification.deliver(batch, email, may_repeat=False)
    notification._save_deliveries = recording  # type: ignore[method-assign]
    assert notification.deliver(batch, email, may_repeat=True) == 1  # on restart: nothing recorded, sent again
    assert notification.deliver(batch, email, may_repeat=True) == 0  # and recorded now
    email.close()

    first, again = smtp.received()
    assert first["Message-ID"] == again["Message-ID"] == f"<{batch[0].originator_id}.email@example.gov.cn>"
    assert first.get_payload(decode=True) == again.get_payload(decode=True)
    assert first["Subject"] == again["Subject"]
