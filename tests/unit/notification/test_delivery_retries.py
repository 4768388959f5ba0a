"""Retries of a channel where a second delivery is not harmless (e-mail, SMS): exponential back-off with full jitter
up to DELIVERY_ATTEMPTS, then the delivery is recorded as failed and the next notice goes on; a failed delivery is
re-sent by hand once (ResendRequested, then Attempted), and a successful re-send is published as notice.delivered.
On a fake of our own Channel port; the store is SQLite in a temporary folder."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from services.notification import translate
from services.notification.application import (
    REGISTRATION_RECEIPT,
    NoLongerActive,
    NotificationApplication,
    backoff_delay,
)
from services.notification.bootstrap import build_application
from services.notification.channels import PermanentDeliveryFailure, TransientDeliveryFailure
from services.notification.domainmodel import DELIVERED, FAILED, REFUSED, Delivery, Notice, OutgoingNotice
from services.notification.errors import NoticeError
from services.notification.settings import NotificationSettings
from services.notification.translate import RegisteredPetition
from shared.language.integration.catalog import NOTICE_DELIVERED
from tests.support import samples

CLERK = {"role": "clerk", "user": "clerk1", "organ": None}


class FlakyChannel:
    """Fails as told (`failures`: exceptions to raise, one per attempt, in order), then delivers."""

    name = "sms"
    idempotent = False

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.attempts: list[OutgoingNotice] = []
        self.delivered: list[OutgoingNotice] = []

    def deliver(self, notice: OutgoingNotice) -> str:
        self.attempts.append(notice)
        if self.failures:
            raise self.failures.pop(0)
        self.delivered.append(notice)
        return "已发送短信至138****8000"

    def close(self) -> None:
        pass


def down(times: int) -> list[Exception]:
    return [TransientDeliveryFailure("timed out", "服务器无应答") for _ in range(times)]


@pytest.fixture
def notification(tmp_path) -> Iterator[NotificationApplication]:
    app = build_application(NotificationSettings(XINFANG_ENV="test", EVENT_STORE="sqlite", DATA_DIR=str(tmp_path),
                                                 DELIVERY_ATTEMPTS=5, DELIVERY_BACKOFF_SECONDS=1.0,
                                                 DELIVERY_BACKOFF_CAP_SECONDS=3.0))
    yield app
    app.close()


def receipt(notification: NotificationApplication, sequence: int) -> Any:
    """A registration receipt to a petitioner with a mobile: its Requested event."""
    event = samples.registered_event(sequence)
    petition = RegisteredPetition.of(event, samples.particulars(event, "notice"))
    notification.request_registration_receipt(event, petition)
    [requested] = notification.events.get(Notice.create_id(petition.petition_id, REGISTRATION_RECEIPT))
    return requested


def delivery(notification: NotificationApplication, requested: Any) -> Delivery:
    return notification.repository.get(Delivery.create_id(requested.originator_id, "sms"))


def test_the_back_off_grows_exponentially_to_the_cap_with_full_jitter() -> None:
    assert [backoff_delay(n, 1.0, 60.0, draw=lambda: 1.0) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert backoff_delay(5, 1.0, 60.0, draw=lambda: 0.0) == 0
    assert 0 <= backoff_delay(3, 1.0, 60.0) <= 4


def test_a_transient_failure_is_tried_again_after_a_pause_and_delivered_once(notification) -> None:
    requested = receipt(notification, 1)
    channel, waits = FlakyChannel(*down(3)), []

    assert notification.deliver([requested], channel, may_repeat=False, pause=waits.append) == 1

    assert len(channel.attempts) == 4 and len(channel.delivered) == 1
    assert len(waits) == 3 and all(0 <= w <= cap for w, cap in zip(waits, (1, 2, 3), strict=True))
    assert delivery(notification, requested).outcome == DELIVERED


def test_through_the_limit_the_delivery_is_failed_and_the_next_notice_goes_on(notification) -> None:
    first, second = receipt(notification, 2), receipt(notification, 3)
    channel = FlakyChannel(*down(5))

    assert notification.deliver([first, second], channel, may_repeat=False, pause=lambda _s: None) == 1

    assert len(channel.attempts) == 6 and channel.delivered == [OutgoingNotice.from_requested(second)]
    failed = delivery(notification, first)
    assert failed.outcome == FAILED
    [concluded] = notification.events.get(failed.id)
    assert concluded.detail == "尝试发送5次仍未送达（服务器无应答）"
    assert delivery(notification, second).outcome == DELIVERED


def test_a_refusal_for_good_is_not_tried_again(notification) -> None:
    requested = receipt(notification, 4)
    channel = FlakyChannel(PermanentDeliveryFailure("短信服务商拒绝发送（HTTP 400）"))

    assert notification.deliver([requested], channel, may_repeat=False, pause=lambda _s: None) == 0
    assert len(channel.attempts) == 1 and delivery(notification, requested).outcome == REFUSED


def test_a_dispatcher_that_lost_its_lock_while_waiting_does_not_try_again_nor_record(notification) -> None:
    requested = receipt(notification, 5)
    channel = FlakyChannel(*down(1))
    active = iter([True, False])

    with pytest.raises(NoLongerActive):
        notification.deliver([requested], channel, may_repeat=False, still_active=lambda: next(active),
                             pause=lambda _s: None)
    assert len(channel.attempts) == 1
    assert not notification._exists(Delivery.create_id(requested.originator_id, "sms"))


def test_an_idempotent_channel_is_not_retried_here(notification) -> None:
    requested = receipt(notification, 6)
    channel = FlakyChannel(*down(1))
    channel.name, channel.idempotent = "inbox", True

    with pytest.raises(TransientDeliveryFailure):
        notification.deliver([requested], channel, may_repeat=False, pause=lambda _s: None)
    assert len(channel.attempts) == 1


def failed_delivery(notification: NotificationApplication, sequence: int) -> Any:
    requested = receipt(notification, sequence)
    notification.deliver([requested], FlakyChannel(*down(5)), may_repeat=False, pause=lambda _s: None)
    return requested


def refusal(call: Any) -> tuple[str, int]:
    with pytest.raises(NoticeError) as refused:
        call()
    return refused.value.code, refused.value.http_status


def test_only_a_failed_delivery_may_be_resent_and_once_at_a_time(notification) -> None:
    requested = failed_delivery(notification, 7)
    notice_id = requested.originator_id
    delivered = receipt(notification, 8)
    notification.deliver([delivered], FlakyChannel(), may_repeat=False)

    assert refusal(lambda: notification.request_resend(Notice.create_id(
        samples.registered_event(9).subject, REGISTRATION_RECEIPT), "sms", CLERK)) == ("unknown_notice", 404)
    assert refusal(lambda: notification.request_resend(notice_id, "fax", CLERK)) == ("unknown_notice", 404)
    assert refusal(lambda: notification.request_resend(notice_id, "email", CLERK)) == ("not_failed", 409)
    assert refusal(lambda: notification.request_resend(notice_id, "inbox", CLERK)) == ("not_failed", 409)
    assert refusal(lambda: notification.request_resend(delivered.originator_id, "sms", CLERK)) == ("not_failed", 409)

    notification.request_resend(notice_id, "sms", CLERK)
    assert refusal(lambda: notification.request_resend(notice_id, "sms", CLERK)) == ("resend_pending", 409)
    asked = delivery(notification, requested)
    assert asked.resend_pending
    [_concluded, resend_requested] = notification.events.get(asked.id)
    assert isinstance(resend_requested, Delivery.ResendRequested) and resend_requested.by == CLERK


def test_a_resend_is_attempted_once_however_often_its_request_is_read(notification) -> None:
    requested = failed_delivery(notification, 10)
    notification.request_resend(requested.originator_id, "sms", CLERK)
    asked = [e for e in notification.events.get(delivery(notification, requested).id)
             if isinstance(e, Delivery.ResendRequested)]
    channel = FlakyChannel(*down(2))

    assert notification.resend(asked, channel, pause=lambda _s: None) == 1
    assert notification.resend(asked, channel, pause=lambda _s: None) == 0  # read again after a restart
    other = FlakyChannel()
    other.name = "email"
    assert notification.resend(asked, other) == 0  # another channel's dispatcher leaves it alone

    assert len(channel.attempts) == 3 and len(channel.delivered) == 1
    assert channel.delivered[0] == OutgoingNotice.from_requested(requested)  # the notice as first requested
    resent = delivery(notification, requested)
    assert (resent.outcome, resent.resend_pending) == (DELIVERED, False)
    attempted = list(notification.events.get(resent.id))[-1]
    assert isinstance(attempted, Delivery.Attempted) and attempted.detail == "已发送短信至138****8000"

    published = translate.to_integration_event(attempted, 7, "urn:xinfang:330106:notification")
    assert published is not None and published.event_type == NOTICE_DELIVERED
    assert published.data["channel"] == "sms" and published.data["notice_id"] == str(requested.originator_id)
    assert published.data["delivered_at"] == attempted.at


def test_a_resend_that_fails_again_may_be_asked_again(notification) -> None:
    requested = failed_delivery(notification, 11)
    notice_id = requested.originator_id
    for _round in range(2):
        notification.request_resend(notice_id, "sms", CLERK)
        asked = [e for e in notification.events.get(delivery(notification, requested).id)
                 if isinstance(e, Delivery.ResendRequested)][-1:]
        assert notification.resend(asked, FlakyChannel(*down(5)), pause=lambda _s: None) == 0
        assert delivery(notification, requested).outcome == FAILED
    failed_again = list(notification.events.get(delivery(notification, requested).id))[-1]
    assert translate.to_integration_event(failed_again, 9, "urn:xinfang:330106:notification") is None
