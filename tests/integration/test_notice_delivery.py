"""Notices on a real SMTP server (aiosmtpd), a real store and real read models: a notice is requested once
however often its event arrives, delivered at most once per channel, and an e-mail outage never holds back the
in-app inbox."""

from __future__ import annotations

import smtplib

import pytest

from services.notification.application import REGISTRATION_RECEIPT, NotificationApplication
from services.notification.channels import EmailChannel, InboxChannel
from services.notification.dispatcher import build_dispatchers
from services.notification.domainmodel import Notice
from services.notification.settings import NotificationSettings
from shared.eventstore import DUPLICATE, PROCESSED
from shared.readmodels import InboxMessage
from tests.support import samples


@pytest.fixture
def settings(settings_for, smtp, read_models) -> NotificationSettings:
    return settings_for(NotificationSettings, store="sqlite", SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port,
                        SMTP_TIMEOUT=3)


@pytest.fixture
def notification(settings, closing) -> NotificationApplication:
    return closing(NotificationApplication(settings))


def receipt_id(event) -> object:
    return Notice.create_id(samples.uuid.UUID(event.subject), REGISTRATION_RECEIPT)


def test_a_receipt_is_requested_once_however_often_its_event_arrives(notification):
    event = samples.registered_event(3)
    assert notification.request_registration_receipt(event) == PROCESSED
    assert notification.request_registration_receipt(event) == DUPLICATE

    notice = notification.repository.get(receipt_id(event))
    assert notice.version == 1
    assert notice.channels == ["inbox", "email"]
    assert event.data["query_code"] in notice.body


def test_each_channel_delivers_once_with_a_stable_message_id(notification, settings, smtp):
    event = samples.registered_event(4)
    notification.request_registration_receipt(event)
    notice_id = receipt_id(event)
    email = EmailChannel(settings)

    assert notification.deliver(notice_id, email) is True
    assert notification.deliver(notice_id, email) is False  # already delivered: never sent again
    assert notification.deliver(notice_id, InboxChannel()) is True
    assert notification.deliver(notice_id, InboxChannel()) is False

    received = smtp.received()
    assert len(received) == 1
    assert received[0]["Message-ID"] == f"<{notice_id}.email@example.gov.cn>"
    assert smtp.recipients == [["wangxl@example.cn"]]
    assert event.data["query_code"] in received[0].get_payload(decode=True).decode("utf-8")
    assert InboxMessage.objects(notice_id=str(notice_id)).count() == 1
    assert set(notification.repository.get(notice_id).delivered) == {"email", "inbox"}


def test_a_refused_address_is_recorded_once_and_not_retried(notification, settings, smtp):
    event = samples.registered_event(5)
    notification.request_registration_receipt(event)
    notice_id = receipt_id(event)
    smtp.refuse_with = "550 5.1.1 mailbox unavailable"

    assert notification.deliver(notice_id, EmailChannel(settings)) is False
    assert notification.deliver(notice_id, EmailChannel(settings)) is False

    notice = notification.repository.get(notice_id)
    assert "email" in notice.failed and "email" not in notice.delivered
    assert [type(e).__name__ for e in notification.events.get(notice_id)] == ["Requested", "DeliveryFailed"]


def test_while_the_mail_server_is_down_nothing_is_recorded_and_it_is_sent_once_it_is_back(notification, settings,
                                                                                          smtp):
    event = samples.registered_event(6)
    notification.request_registration_receipt(event)
    notice_id = receipt_id(event)
    smtp.stop()
    try:
        with pytest.raises((smtplib.SMTPException, OSError)):
            notification.deliver(notice_id, EmailChannel(settings))
        assert notification.repository.get(notice_id).version == 1
    finally:
        smtp.start()

    assert notification.deliver(notice_id, EmailChannel(settings)) is True
    assert len(smtp.received()) == 1


def test_an_email_outage_does_not_hold_back_the_inbox(notification, settings, smtp):
    event = samples.registered_event(7)
    notification.request_registration_receipt(event)
    notice_id = receipt_id(event)
    inbox, email = build_dispatchers(settings, notification)
    smtp.stop()
    try:
        with pytest.raises((smtplib.SMTPException, OSError)):
            email.follower.run_once()
        assert inbox.follower.run_once() == 1
        assert InboxMessage.objects(notice_id=str(notice_id)).count() == 1
        assert email.position.get() == 0  # the e-mail follower will try that notice again
    finally:
        smtp.start()
        for dispatcher in (inbox, email):
            dispatcher.close()
