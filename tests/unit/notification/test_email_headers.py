"""The mail composer refuses unsafe header values and invalid addresses by itself, whatever validation let in
(issue 14 §1; the attack on a real SMTP server is in tests/security/test_header_injection.py). Nothing is sent."""

from __future__ import annotations

import email
from email import policy
from uuid import UUID

import pytest

from services.notification.channels import EmailChannel, PermanentDeliveryFailure, header_value, valid_address
from services.notification.domainmodel import OutgoingNotice
from services.notification.settings import NotificationSettings

SENDER = "示例县信访局 <xinfang@example.gov.cn>"
ADDRESSES = pytest.mark.parametrize("address", ["wangxl@example.cn", "王秀兰@example.cn"], ids=["ASCII", "SMTPUTF8"])


@pytest.fixture
def channel(monkeypatch: pytest.MonkeyPatch) -> EmailChannel:
    for field in NotificationSettings.model_fields.values():
        if field.alias:
            monkeypatch.delenv(field.alias, raising=False)
    return EmailChannel(NotificationSettings(XINFANG_ENV="test", SMTP_HOST="localhost", NOTICE_SENDER=SENDER))


def notice(name: str = "王秀兰", address: str = "wangxl@example.cn", title: str = "信访事项登记回执") -> OutgoingNotice:
    return OutgoingNotice(id=UUID(int=1), petition_id=UUID(int=2), kind="registration_receipt",
                          query_code="7K3M-9QX2-HT4W-0BZ8", recipient={"name": name, "email": address},
                          title=title, body="王秀兰：\n\n您好！", channels=["email"], correlation_id="c")


@ADDRESSES
@pytest.mark.parametrize("name", ["a\r\n\r\n,probe-extra@example.cn", "x\nBcc: probe@example.cn", "x\ry", "a\tb",
                                  "a\x00b", "a\x85b", "a\u2028b", "王\u202e秀兰"])
def test_a_name_that_cannot_stand_in_a_header_is_refused(channel: EmailChannel, address: str, name: str) -> None:
    with pytest.raises(PermanentDeliveryFailure) as refused:
        channel.compose(notice(name=name, address=address))

    assert "To header" in str(refused.value)
    assert "example.cn" not in str(refused.value)  # the delivery record names no address


@ADDRESSES
@pytest.mark.parametrize("title", ["x\r\n\r\nVisit http://evil.example now", "回执\n"])
def test_a_title_that_cannot_stand_in_a_header_is_refused(channel: EmailChannel, address: str, title: str) -> None:
    with pytest.raises(PermanentDeliveryFailure, match="Subject header"):
        channel.compose(notice(title=title, address=address))


@pytest.mark.parametrize("address", ["wangxl@example.cn\r\nBcc: probe-extra@example.cn", "wangxl@example.cn\n",
                                     "wangxl@example.cn, probe-extra@example.cn", "<probe@example.cn>",
                                     "not an address", "wangxl@"])
def test_an_address_that_is_not_exactly_one_valid_address_is_refused(channel: EmailChannel, address: str) -> None:
    with pytest.raises(PermanentDeliveryFailure, match="not valid"):
        channel.compose(notice(address=address))


@pytest.mark.parametrize(("typed", "envelope"), [("wangxl@example.cn", "wangxl@example.cn"),
                                                   ("WangXL@Example.CN", "WangXL@example.cn"),
                                                   ("王秀兰@example.cn", "王秀兰@example.cn"),
                                                   ("wangxl@例子.中国", "wangxl@xn--fsqu00a.xn--fiqs8s")])
def test_the_address_is_parsed_and_normalised_by_email_validator(typed: str, envelope: str) -> None:
    assert valid_address(typed) == envelope


def test_the_to_header_carries_the_validated_address(channel: EmailChannel) -> None:
    raw = channel.compose(notice(name="a, probe-extra@example.cn", address="WangXL@Example.CN")).as_bytes()
    [to] = email.message_from_bytes(raw, policy=policy.default)["To"].addresses

    assert (to.display_name, to.addr_spec) == ("a, probe-extra@example.cn", "WangXL@example.cn")


def test_a_safe_header_value_is_returned_as_it_is() -> None:
    assert header_value("To", "王秀兰") == "王秀兰"
    with pytest.raises(PermanentDeliveryFailure, match="U\\+000D"):
        header_value("To", "a\r\nb")
