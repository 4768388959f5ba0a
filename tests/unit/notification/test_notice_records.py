"""The notice records' fold (services/notification/records.py): one record per notice, each requested channel
pending until its delivery concludes; a failed one listed to re-send until it is sent again; a letter awaiting the
post until the clerk records its posting, then its receipt. Each record says the store position it shows."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from services.notification.domainmodel import Delivery, Notice, PostalDelivery
from services.notification.records import PENDING, MissingRecord, fold

CLERK = {"role": "clerk", "user": "clerk-li", "organ": None}
SUPERVISOR = {"role": "supervisor", "user": "du-cha", "organ": None}


def requested(channels: list[str]) -> tuple[Notice, Any]:
    notice = Notice(petition_id=uuid.uuid4(), kind="opinion", query_code="ABCD-EFGH-JKMN-PQRS",
                    recipient={"name": "王秀兰", "email": None, "phone": None}, title="处理意见书", body="……",
                    channels=channels, correlation_id="c-1", causation_id="e-1", template="opinion@v1", step="reply")
    [event] = notice.collect_events()
    return notice, event


def concluded(notice: Notice, channel: str, outcome: str, detail: str = "") -> tuple[Delivery, Any]:
    delivery = Delivery(notice_id=notice.id, channel=channel, outcome=outcome, at="2026-12-05T09:00:00+00:00",
                        detail=detail, petition_id=str(notice.petition_id), kind=notice.kind, title=notice.title,
                        correlation_id="c-1")
    [event] = delivery.collect_events()
    return delivery, event


def test_a_request_opens_the_record_with_every_channel_pending() -> None:
    notice, event = requested(["inbox", "email", "sms"])

    record = fold(None, 3, event)

    assert record == {"_id": str(notice.id), "petition_id": str(notice.petition_id), "kind": "opinion",
                      "title": "处理意见书", "step": "reply", "requested_at": event.timestamp,
                      "channels": ["inbox", "email", "sms"],
                      "deliveries": {"inbox": {"outcome": PENDING}, "email": {"outcome": PENDING},
                                     "sms": {"outcome": PENDING}},
                      "failed": [], "awaiting_post": False, "version": 3}


def test_each_channel_shows_how_it_went_and_a_failed_one_is_listed_until_it_is_sent_again() -> None:
    notice, event = requested(["inbox", "email", "sms"])
    record = fold(None, 1, event)
    _inbox, inbox = concluded(notice, "inbox", "delivered", "已在查询页面公布")
    _email, email = concluded(notice, "email", "refused", "550 mailbox unavailable")
    sms_delivery, sms = concluded(notice, "sms", "failed", "短信服务商无应答")

    for position, each in ((2, inbox), (3, email), (4, sms)):
        record = fold(record, position, each)

    assert record["deliveries"]["inbox"] == {"outcome": "delivered", "at": "2026-12-05T09:00:00+00:00",
                                             "detail": "已在查询页面公布", "attempts": 1}
    assert record["deliveries"]["email"]["outcome"] == "refused"
    assert record["failed"] == ["email", "sms"] and record["version"] == 4  # refused (post it), failed (re-send)

    sms_delivery.request_resend(by=SUPERVISOR, at="2026-12-05T10:00:00+00:00")
    [resend] = sms_delivery.collect_events()
    record = fold(record, 5, resend, "sms")  # a re-send's request does not say its channel
    assert record["deliveries"]["sms"]["outcome"] == PENDING and record["failed"] == ["email"]

    sms_delivery.record_attempt(outcome="delivered", at="2026-12-05T10:00:05+00:00", detail="138****0000")
    [attempt] = sms_delivery.collect_events()
    record = fold(record, 6, attempt)
    assert record["deliveries"]["sms"] == {"outcome": "delivered", "at": "2026-12-05T10:00:05+00:00",
                                           "detail": "138****0000", "attempts": 2}
    assert record["failed"] == ["email"] and record["version"] == 6


def test_a_letter_awaits_the_post_until_posted_then_shows_its_receipt() -> None:
    notice, event = requested(["inbox", "post"])
    record = fold(None, 1, event)
    assert record["awaiting_post"] is True and record["deliveries"]["post"] == {"outcome": PENDING}

    posted = PostalDelivery(notice_id=notice.id, posted_on="2026-12-05", registered_mail_number="XA123456789CN",
                            by=CLERK, at="2026-12-05T03:00:00+00:00", petition_id=str(notice.petition_id),
                            kind=notice.kind, title=notice.title, correlation_id="c-1")
    [posting] = posted.collect_events()
    record = fold(record, 7, posting)
    assert record["awaiting_post"] is False
    assert record["deliveries"]["post"] == {"outcome": "posted", "at": "2026-12-05T03:00:00+00:00",
                                            "posted_on": "2026-12-05", "registered_mail_number": "XA123456789CN",
                                            "recorded_by": "clerk-li"}

    posted.record_receipt(received_on="2026-12-08", by=CLERK, at="2026-12-09T01:00:00+00:00")
    [receipt] = posted.collect_events()
    record = fold(record, 9, receipt)
    assert record["deliveries"]["post"]["outcome"] == "received"
    assert record["deliveries"]["post"]["received_on"] == "2026-12-08"
    assert record["deliveries"]["post"]["posted_on"] == "2026-12-05"  # kept beside the receipt
    assert record["version"] == 9 and record["failed"] == []


def test_a_delivery_of_a_notice_without_a_record_is_not_made_up() -> None:
    notice, _event = requested(["inbox"])
    _delivery, inbox = concluded(notice, "inbox", "delivered")

    with pytest.raises(MissingRecord):
        fold(None, 2, inbox)
