"""The SMS channel's request, without the network: the text (whole if it fits, else the title and the status page),
the masked number it records, the signature the provider checks, the idempotency key, and what each answer means."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid

import pytest

from services.notification.channels import (
    PermanentDeliveryFailure,
    SmsChannel,
    TransientDeliveryFailure,
    mask_mobile,
    sms_outcome,
    sms_request,
    sms_text,
)
from services.notification.domainmodel import Delivery, OutgoingNotice
from services.notification.settings import NotificationSettings

SIGN = "【示例县信访局】"


def settings(**values: object) -> NotificationSettings:
    return NotificationSettings(**{"XINFANG_ENV": "test", "SMS_URL": "http://127.0.0.1:9/sms", "SMS_ACCOUNT": "acct",
                                   "SMS_SECRET": "s3cret", "SMS_SIGNATURE_NAME": SIGN, **values})


def notice(body: str = "王秀兰：\n您的信访事项已登记。", title: str = "登记回执") -> OutgoingNotice:
    return OutgoingNotice(uuid.uuid4(), uuid.uuid4(), "registration_receipt", "7K3M-9QX2-HT4W-0BZ8",
                          {"name": "王秀兰", "phone": "13812345678", "email": None}, title, body, ["inbox", "sms"], "c")


def test_a_short_notice_goes_whole_after_the_signature() -> None:
    text, shortened = sms_text(notice(), settings())
    assert (text, shortened) == (f"{SIGN}王秀兰：\n您的信访事项已登记。", False)


def test_a_long_notice_is_shortened_to_its_title_and_the_status_page() -> None:
    long = notice(body="经调查核实，" * 100, title="处理意见书")

    text, shortened = sms_text(long, settings(NOTICE_STATUS_URL="https://xf.example.gov.cn/status"))
    assert shortened
    assert text == (f"{SIGN}您的信访事项有新的告知：《处理意见书》，查询码7K3M-9QX2-HT4W-0BZ8。"
                    "全文请凭查询码在https://xf.example.gov.cn/status查看。")

    text, _ = sms_text(long, settings())  # no address configured: the page named
    assert text.endswith("全文请凭查询码在信访事项查询页面查看。")


def test_a_title_too_long_for_the_short_text_is_cut_to_fit() -> None:
    text, shortened = sms_text(notice(body="长" * 400, title="标" * 400), settings(SMS_MAX_CHARS=120))
    assert shortened and len(text) == 120 and "标…》" in text and "查询码7K3M-9QX2-HT4W-0BZ8" in text


def test_a_title_with_line_breaks_or_controls_stays_on_one_line() -> None:
    text, _ = sms_text(notice(body="长" * 400, title="告知\r\n\x1b[31m书\u202e"), settings())
    assert "\r" not in text and "\n" not in text and "\x1b" not in text and "\u202e" not in text


def test_the_record_masks_the_number() -> None:
    assert mask_mobile("13812345678") == "138****5678"


def test_the_request_is_signed_over_timestamp_key_and_body_and_carries_the_key() -> None:
    hostile = 'x"}, "to": "13900000000", "y": "\n\u0000'
    key = str(Delivery.create_id(uuid.uuid4(), "sms"))
    body, headers = sms_request("13812345678", hostile, key, settings(), "1764800000")

    assert json.loads(body) == {"to": "13812345678", "text": hostile, "idempotency_key": key}  # JSON keeps it text
    assert headers["Idempotency-Key"] == key and headers["X-Sms-Account"] == "acct"
    assert headers["X-Sms-Timestamp"] == "1764800000"
    expected = hmac.new(b"s3cret", f"1764800000\n{key}\n".encode() + body, hashlib.sha256).hexdigest()
    assert headers["X-Sms-Signature"] == expected
    assert all(value.isascii() and value.isprintable() for value in headers.values())


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_a_2xx_is_delivered(status: int) -> None:
    sms_outcome(status)


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408, 429])
def test_5xx_408_and_429_are_tried_again(status: int) -> None:
    with pytest.raises(TransientDeliveryFailure) as raised:
        sms_outcome(status)
    assert str(status) in raised.value.reason


@pytest.mark.parametrize("status", [401, 403, 407])
def test_a_refusal_of_our_credentials_is_tried_again_and_logged_for_ops(status: int, caplog) -> None:
    """Wrong credentials or a skewed clock fail every message alike: each ends failed (listed, re-sendable once
    ops fixed it), never refused for good."""
    with pytest.raises(TransientDeliveryFailure) as raised:
        sms_outcome(status)
    assert raised.value.reason == f"短信服务商认证失败（HTTP {status}）"
    assert any(r.levelname == "ERROR" and "SMS_SECRET" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("status", [400, 404, 413, 422, 301])
def test_other_answers_are_refusals_for_good_naming_no_number(status: int) -> None:
    with pytest.raises(PermanentDeliveryFailure) as raised:
        sms_outcome(status)
    assert str(raised.value) == f"短信服务商拒绝发送（HTTP {status}）"


def test_a_recipient_without_a_mainland_mobile_is_refused_before_any_request() -> None:
    channel = SmsChannel(settings())
    landline = notice()
    landline.recipient["phone"] = "0571-87001234"
    with pytest.raises(PermanentDeliveryFailure, match="没有大陆手机号码"):
        channel.deliver(landline)
    channel.close()


@pytest.mark.parametrize("account", ["acct\r\nX-Injected: 1", "账户"])
def test_an_account_that_cannot_stand_in_a_header_is_refused_at_start(account: str) -> None:
    with pytest.raises(ValueError, match="SMS_ACCOUNT"):
        SmsChannel(settings(SMS_ACCOUNT=account))


@pytest.mark.parametrize(("values", "refused"), [
    ({"SMS_URL": "not a url"}, r"http\(s\)"),
    ({"XINFANG_ENV": "production", "EVENT_STORE": "postgres"}, "https"),  # http in production
    ({"XINFANG_ENV": "production", "EVENT_STORE": "postgres", "SMS_URL": "https://sms.example.cn/send",
      "SMS_SECRET": ""}, "SMS_SECRET"),
])
def test_a_provider_address_or_secret_that_cannot_be_right_stops_the_channel_at_start(values, refused) -> None:
    with pytest.raises(ValueError, match=refused):
        SmsChannel(settings(**values))
    SmsChannel(settings(XINFANG_ENV="production", EVENT_STORE="postgres", SMS_URL="https://sms.example.cn/send"))
