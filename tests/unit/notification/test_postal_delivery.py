"""A notice to a petitioner without a mobile or e-mail goes by registered mail: the clerk records the day it was
posted and its registered-mail number, later the day it was received. Each once (the same record again changes
nothing; another is refused, in Chinese); never for a notice that does not go by post, never on a day after today,
before the notice was issued or (a receipt) before the posting. The relay publishes `notice.posted` and, at the
receipt, `notice.delivered` on the channel `post`, valid against their schemas."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from services.notification import translate
from services.notification.application import REGISTRATION_RECEIPT
from services.notification.bootstrap import build_application
from services.notification.domainmodel import Delivery, Notice, PostalDelivery, mail_number
from services.notification.errors import NoticeError
from services.notification.settings import NotificationSettings
from services.notification.translate import RegisteredPetition
from shared.language.chinatime import local_date
from shared.language.integration.catalog import NOTICE_DELIVERED, NOTICE_POSTED
from tests.support import samples

CLERK = {"role": "clerk", "user": "clerk-li", "organ": None}
SOURCE = "urn:xinfang:330106:notification"
SEQUENCE = itertools.count(1)


@pytest.fixture
def notification(tmp_path) -> Any:
    app = build_application(NotificationSettings(XINFANG_ENV="test", EVENT_STORE="sqlite", DATA_DIR=str(tmp_path)))
    yield app
    app.close()


def receipt(notification: Any, *, phone: str | None = None, email: str | None = None) -> UUID:
    """The registration receipt of a letter petitioner with these contacts; its notice id."""
    event = samples.registered_event(next(SEQUENCE), channel="letter", petitioner={"name": "王秀兰", "phone": phone, "email": email})
    petition = RegisteredPetition.of(event, samples.particulars(event, "notice"))
    notification.request_registration_receipt(event, petition)
    return Notice.create_id(petition.petition_id, REGISTRATION_RECEIPT)


def today() -> str:
    return local_date(datetime.now(UTC)).isoformat()


def days_from_today(days: int) -> str:
    return (local_date(datetime.now(UTC)) + timedelta(days=days)).isoformat()


def refusal(call: Any) -> tuple[str, int, str]:
    with pytest.raises(NoticeError) as refused:
        call()
    return refused.value.code, refused.value.http_status, refused.value.message


def test_a_landline_petitioners_notice_is_posted_then_received(notification) -> None:
    notice = receipt(notification, phone="0571-87654321")

    posted = notification.record_posting(notice, today(), "xa 1234 5678 9cn", CLERK)
    assert posted.id == Delivery.create_id(notice, "post")
    assert (posted.posted_on, posted.registered_mail_number) == (today(), "XA123456789CN")

    received = notification.record_postal_receipt(str(notice), today(), CLERK)
    assert received.received_on == today()
    stored = notification.repository.get(PostalDelivery.create_id(notice))
    assert [type(e).__qualname__ for e in notification.events.get(stored.id)] == [
        "PostalDelivery.Posted", "PostalDelivery.ReceiptRecorded"]


def test_the_same_record_again_changes_nothing_and_another_is_refused(notification) -> None:
    notice = receipt(notification)
    notification.record_posting(notice, today(), "XA123456789CN", CLERK)

    notification.record_posting(notice, today(), "XA 123456789 CN", CLERK)  # the same number, spaced otherwise
    code, status, message = refusal(lambda: notification.record_posting(notice, today(), "XA999999999CN", CLERK))
    assert (code, status) == ("already_posted", 409)
    assert message.startswith("已登记邮寄：") and "XA123456789CN" in message

    notification.record_postal_receipt(notice, today(), CLERK)
    notification.record_postal_receipt(notice, today(), CLERK)
    code, status, message = refusal(lambda: notification.record_postal_receipt(notice, days_from_today(-1), CLERK))
    assert (code, status) == ("already_received", 409) and message.startswith("已登记签收：")
    assert len(list(notification.events.get(PostalDelivery.create_id(notice)))) == 2


@pytest.mark.parametrize(("posted_on", "number", "expected"), [
    (days_from_today(1), "XA123456789CN", ("posted_in_future", 422)),
    (days_from_today(-1), "XA123456789CN", ("posted_before_issued", 422)),  # the notice was issued today
    ("2026/12/05", "XA123456789CN", ("invalid_date", 422)),
    ("2026-12-05T10:00:00+08:00", "XA123456789CN", ("invalid_date", 422)),
    (None, "XA123456789CN", ("invalid_date", 422)),
    (today(), "XA12345", ("invalid_mail_number", 422)),  # too short
    (today(), "XA1234567890123456789", ("invalid_mail_number", 422)),  # too long
    (today(), "XA-1234-5678", ("invalid_mail_number", 422)),
    (today(), "", ("invalid_mail_number", 422)),
])
def test_a_posting_is_refused_for_a_bad_day_or_number(notification, posted_on, number, expected) -> None:
    notice = receipt(notification)

    code, status, message = refusal(lambda: notification.record_posting(notice, posted_on, number, CLERK))

    assert (code, status) == expected
    if code == "invalid_mail_number":
        assert message.startswith("挂号信号码格式不正确")
    assert list(notification.events.get(PostalDelivery.create_id(notice))) == []


def test_only_a_known_notice_for_the_post_is_posted(notification) -> None:
    assert refusal(lambda: notification.record_posting(uuid4(), today(), "XA123456789CN", CLERK)) == (
        "unknown_notice", 404, "没有这份告知")
    assert refusal(lambda: notification.record_posting("not-a-notice", today(), "XA123456789CN", CLERK))[0] == \
        "unknown_notice"
    by_sms = receipt(notification, phone="13800138000")
    assert refusal(lambda: notification.record_posting(by_sms, today(), "XA123456789CN", CLERK)) == (
        "not_by_post", 409, "这份告知不经邮寄送达")
    posted = receipt(notification)
    notification.record_posting(posted, today(), "XA123456789CN", CLERK)
    # a delivery's id is not a notice's
    assert refusal(lambda: notification.record_posting(PostalDelivery.create_id(posted), today(), "XA123456789CN",
                                                       CLERK))[0] == "unknown_notice"


def test_a_receipt_needs_the_posting_and_a_day_from_it_to_today(notification) -> None:
    notice = receipt(notification)
    assert refusal(lambda: notification.record_postal_receipt(notice, today(), CLERK))[:2] == ("not_posted", 409)

    notification.record_posting(notice, today(), "XA123456789CN", CLERK)
    assert refusal(lambda: notification.record_postal_receipt(notice, days_from_today(-1), CLERK))[:2] == (
        "received_before_posted", 422)
    assert refusal(lambda: notification.record_postal_receipt(notice, days_from_today(1), CLERK))[:2] == (
        "received_in_future", 422)
    assert refusal(lambda: notification.record_postal_receipt(notice, "明天", CLERK))[:2] == ("invalid_date", 422)
    assert refusal(lambda: notification.record_postal_receipt(uuid4(), today(), CLERK))[:2] == ("unknown_notice", 404)


def test_a_letter_may_arrive_days_after_it_was_posted(notification) -> None:
    notice = receipt(notification)
    notification.record_posting(notice, today(), "XA123456789CN", CLERK)

    later = datetime.now(UTC) + timedelta(days=5)
    received = notification.record_postal_receipt(notice, days_from_today(4), CLERK, now=later)

    assert received.received_on == days_from_today(4)


@pytest.mark.parametrize("number", ["1234567890123", "XA123456789CN", "xa 1234 5678 9cn", "12345678"])
def test_registered_mail_numbers_are_kept_without_spaces_in_capitals(number) -> None:
    assert mail_number(number) == number.replace(" ", "").upper()


def test_the_relay_publishes_the_posting_and_the_receipt(notification) -> None:
    notice = receipt(notification)
    notification.record_posting(notice, today(), "XA123456789CN", CLERK)
    notification.record_postal_receipt(notice, today(), CLERK)
    posted_event, received_event = notification.events.get(PostalDelivery.create_id(notice))
    requested = next(iter(notification.events.get(notice)))

    posted = translate.to_integration_event(posted_event, 7, SOURCE)
    received = translate.to_integration_event(received_event, 8, SOURCE)

    assert posted.event_type == NOTICE_POSTED and posted.subject == str(requested.petition_id)
    assert posted.data == {"notice_id": str(notice), "petition_id": str(requested.petition_id),
                           "kind": REGISTRATION_RECEIPT, "title": requested.title, "posted_on": today()}
    assert b"XA123456789CN" not in posted.to_json()  # the number is the bureau's record, not the exchange's
    assert received.event_type == NOTICE_DELIVERED
    assert received.data["channel"] == "post" and received.data["delivered_at"] == f"{today()}T00:00:00+08:00"
    for event in (posted, received):
        event.validate()
        assert event.correlation_id == requested.correlation_id
        assert event.causation_id == translate.event_id(SOURCE, notice, 1)
    assert {type(posted_event), type(received_event)} <= set(translate.TRANSLATED)


@pytest.mark.parametrize(("number", "answer"), [("XA123456789CN", "the same"), ("XA999999999CN", "already_posted")])
def test_two_clerks_recording_at_once_make_one_record(notification, monkeypatch, number, answer) -> None:
    notice = receipt(notification)
    notification.record_posting(notice, today(), "XA123456789CN", CLERK)
    looked_up = notification._postal
    calls = []

    def not_yet_there(notice_id):  # the other clerk's record was saved just after this one looked
        calls.append(notice_id)
        return None if len(calls) == 1 else looked_up(notice_id)

    monkeypatch.setattr(notification, "_postal", not_yet_there)

    if answer == "the same":
        assert notification.record_posting(notice, today(), number, CLERK).registered_mail_number == number
    else:
        assert refusal(lambda: notification.record_posting(notice, today(), number, CLERK))[0] == answer
    assert len(calls) == 2  # refused by the store, then answered from the record
    assert len(list(notification.events.get(PostalDelivery.create_id(notice)))) == 1
