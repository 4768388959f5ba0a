"""The registration receipt's template and how an e-mail notice is composed (nothing is sent). Every other kind of
notice: test_notice_templates.py."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage
from uuid import UUID

import pytest

from services.notification.channels import EmailChannel, mask_email
from services.notification.domainmodel import Notice
from services.notification.settings import NotificationSettings
from services.notification.templates import render
from shared.language.chinatime import chinese_date

RECEIPT_VALUES = {
    "name": "王秀兰",
    "registered_date": "2026年11月26日",
    "channel_label": "网上信访",
    "title": "小区污水外溢长期无人处理",
    "query_code": "7K3M-9QX2-HT4W-0BZ8",
    "issuer_name": "示例县信访局",
    "issued_on": "2026年11月27日",
}
PETITION_ID = UUID("3f2c1a4e-8b7d-4e6f-9a1b-2c3d4e5f6a7b")
SENDER = "示例县信访局 <xinfang@example.gov.cn>"


# ---------------------------------------------------------------------------------------------------------------
# The registration receipt
# ---------------------------------------------------------------------------------------------------------------


def test_the_registration_receipt_is_addressed_and_carries_the_query_code() -> None:
    rendered = render("registration_receipt", **RECEIPT_VALUES)
    title, body = rendered.title, rendered.body

    assert title == "信访事项登记回执"
    assert body.startswith("王秀兰：\n")
    assert "您于2026年11月26日通过网上信访提交的信访事项《小区污水外溢长期无人处理》已登记。" in body
    assert "查询码：7K3M-9QX2-HT4W-0BZ8" in body
    assert "示例县信访局\n2026年11月27日" in body


def test_the_registration_receipt_cites_the_fifteen_day_acceptance_notice() -> None:
    body = render("registration_receipt", **RECEIPT_VALUES).body

    assert "15日内" in body
    assert "《信访工作条例》" in body


def test_the_registration_receipt_has_no_placeholder_left() -> None:
    body = render("registration_receipt", **RECEIPT_VALUES).body

    assert "$" not in body
    assert "{{" not in body and "{%" not in body


@pytest.mark.parametrize("missing", sorted(RECEIPT_VALUES))
def test_a_missing_value_is_an_error_never_a_blank_in_a_legal_notice(missing: str) -> None:
    values = {k: v for k, v in RECEIPT_VALUES.items() if k != missing}

    with pytest.raises(KeyError) as refused:
        render("registration_receipt", **values)

    assert refused.value.args == (missing,)


def test_an_unknown_kind_of_notice_is_an_error() -> None:
    with pytest.raises(KeyError):
        render("summons", **RECEIPT_VALUES)


def test_a_value_with_a_dollar_sign_is_inserted_literally() -> None:
    body = render("registration_receipt", **{**RECEIPT_VALUES, "title": "欠薪$5000元"}).body

    assert "《欠薪$5000元》" in body


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        pytest.param(datetime(2026, 11, 26, 2, 0, tzinfo=UTC), "2026年11月26日", id="a day in November"),
        pytest.param(datetime(2026, 11, 30, 17, 0, tzinfo=UTC), "2026年12月1日",
                     id="the date in China, without leading zeros"),
        pytest.param(datetime(2026, 12, 31, 16, 0, tzinfo=UTC), "2027年1月1日",
                     id="new year in China while still the old year in UTC"),
        pytest.param(datetime(2026, 3, 5, 23, 0, tzinfo=timezone(timedelta(hours=8))), "2026年3月5日",
                     id="a moment already in China time"),
    ],
)
def test_dates_are_written_the_chinese_way_in_china_time(moment: datetime, text: str) -> None:
    assert chinese_date(moment) == text


# ---------------------------------------------------------------------------------------------------------------
# E-mail composition
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> NotificationSettings:
    for field in NotificationSettings.model_fields.values():
        if field.alias:
            monkeypatch.delenv(field.alias, raising=False)
    return NotificationSettings(XINFANG_ENV="test", SMTP_HOST="localhost", NOTICE_SENDER=SENDER)


@pytest.fixture
def notice() -> Notice:
    rendered = render("registration_receipt", **RECEIPT_VALUES)
    title, body = rendered.title, rendered.body
    return Notice(
        petition_id=PETITION_ID,
        kind="registration_receipt",
        query_code=RECEIPT_VALUES["query_code"],
        recipient={"name": "王秀兰", "email": "wangxl@example.cn", "phone": "13800138000"},
        title=title,
        body=body,
        channels=["inbox", "email"],
        correlation_id="c",
        causation_id="x",
        template=str(rendered.template),
        step=None,
    )


@pytest.fixture
def message(settings: NotificationSettings, notice: Notice) -> EmailMessage:
    """The e-mail as the petitioner's mail program reads it: its bytes, parsed."""
    raw = EmailChannel(settings).compose(notice).as_bytes()
    return email.message_from_bytes(raw, policy=policy.default)


def test_the_email_is_addressed_to_the_petitioner(message: EmailMessage) -> None:
    [address] = message["To"].addresses

    assert address.addr_spec == "wangxl@example.cn"
    assert address.display_name == "王秀兰"


def test_the_email_comes_from_the_configured_sender(message: EmailMessage) -> None:
    [address] = message["From"].addresses

    assert (address.display_name, address.addr_spec) == ("示例县信访局", "xinfang@example.gov.cn")


def test_the_email_subject_is_the_notice_title(message: EmailMessage, notice: Notice) -> None:
    assert str(message["Subject"]) == notice.title == "信访事项登记回执"


def test_the_email_body_is_the_notice_body_in_utf8(message: EmailMessage, notice: Notice) -> None:
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert message.get_payload(decode=True).decode("utf-8") == notice.body
    assert message.get_content() == notice.body


def test_the_message_id_is_stable_and_names_the_notice(settings: NotificationSettings, notice: Notice) -> None:
    channel = EmailChannel(settings)

    first, second = channel.compose(notice)["Message-ID"], channel.compose(notice)["Message-ID"]

    assert first == second == f"<{notice.id}.email@example.gov.cn>"
    assert str(notice.id) in first


def test_the_message_id_is_the_same_for_the_same_petition_and_kind(settings: NotificationSettings,
                                                                   notice: Notice) -> None:
    again = Notice(petition_id=PETITION_ID, kind=notice.kind, query_code=notice.query_code, recipient=notice.recipient,
                   title=notice.title, body=notice.body, channels=notice.channels, correlation_id="c2",
                   causation_id="x2", template=notice.template, step=None)

    assert EmailChannel(settings).compose(again)["Message-ID"] == f"<{notice.id}.email@example.gov.cn>"


def test_the_whole_message_serialises_to_ascii_headers(message: EmailMessage) -> None:
    raw = message.as_bytes()

    assert b"wangxl@example.cn" in raw
    assert all(byte < 128 for byte in raw.split(b"\n\n", 1)[0])


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("wangxl@example.cn", "w***@example.cn"),
        ("a@example.cn", "a***@example.cn"),
        ("Li.Si+petition@mail.example.gov.cn", "L***@mail.example.gov.cn"),
    ],
)
def test_an_email_address_is_masked_to_its_first_letter_and_domain(address: str, masked: str) -> None:
    assert mask_email(address) == masked
