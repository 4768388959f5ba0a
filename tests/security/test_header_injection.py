"""Issue 14 §1: e-mail header injection through the petitioner's name, and a key given twice in a JSON body.

The attack: a petitioner name `"a\\r\\n\\r\\n,probe-extra@example.cn"` with an e-mail address produced a receipt
whose envelope had an extra recipient (and From/Subject/Date pushed into the body); `"x\\r\\n\\r\\nVisit
http://evil.example now"` put the attacker's line into an official receipt. Python 3.11.7's email package does
not refuse newlines in headers (CVE-2024-6923), so each layer is tested on its own: the gateway refuses the input,
and the mail composer refuses such a notice even if one got through, on a real SMTP server (aiosmtpd).
"""

from __future__ import annotations

import json
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from services.gateway.security import Role
from services.gateway.service import create_app
from services.gateway.settings import GatewaySettings
from services.gateway.users import add_user
from services.notification.channels import EmailChannel, PermanentDeliveryFailure
from services.notification.domainmodel import OutgoingNotice
from services.notification.settings import NotificationSettings
from services.notification.templates import render
from tests.support import samples
from tests.support.servers import free_port

SECRET = "x" * 40
EXTRA_RECIPIENT = "a\r\n\r\n,probe-extra@example.cn"
INJECTED_LINE = "x\r\n\r\nVisit http://evil.example now"
ATTACKS = [pytest.param(EXTRA_RECIPIENT, id="extra recipient"), pytest.param(INJECTED_LINE, id="injected line")]


@pytest.fixture
def gateway(tmp_path, read_models) -> TestClient:
    """The real gateway app, in-process; nothing listens where intake should be, so a petition that passed
    validation would come back 503, not 422."""
    users = tmp_path / "users.json"
    add_user(users, "clerk", Role.CLERK, "330106-XFJ", "登记员", "a long enough password")
    settings = GatewaySettings(
        XINFANG_ENV="test", GATEWAY_JWT_SECRET=SECRET, MONGODB_URI=read_models, GATEWAY_USERS_FILE=str(users),
        INTAKE_URLS=f"http://127.0.0.1:{free_port()}", AMQP_URI="amqp://guest:guest@127.0.0.1:5672/")
    return TestClient(create_app(settings), raise_server_exceptions=False)


# ---------------------------------------------------------------------------------------------------------------
# At the gateway: the name never gets in
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ATTACKS)
def test_a_petitioner_name_with_line_breaks_is_refused_at_the_gateway_naming_the_field(gateway, name):
    response = gateway.post("/api/v1/petitions", json=samples.petition(name=name, email="wangxl@example.cn"))

    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert (error["field"], error["label"], error["code"]) == ("petitioner.name", "姓名", "line_break")
    assert error["message"] == "姓名不能包含换行符，请在一行内填写"


def test_a_category_given_twice_is_refused_naming_the_key(gateway):
    # Today's parsers keep the last one: an appeal (申诉求决) silently became a report (检举控告).
    body = json.dumps(samples.petition(category="appeal"), ensure_ascii=False)
    body = body[:-1] + ', "category": "report"}'

    response = gateway.post("/api/v1/petitions", content=body.encode(),
                            headers={"Content-Type": "application/json"})

    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert (error["field"], error["label"], error["code"]) == ("category", "信访类别", "duplicate_key")
    assert "信访类别" in error["message"] and "重复" in error["message"]


def test_a_key_given_twice_is_refused_on_every_json_endpoint(gateway):
    response = gateway.post("/api/v1/status/ZZZZ-ZZZZ-ZZZZ-ZZZZ/evaluation",
                            content=b'{"rating": "satisfied", "rating": "dissatisfied"}',
                            headers={"Content-Type": "application/json; charset=utf-8"})

    assert response.status_code == 422, response.text
    assert [(e["field"], e["label"]) for e in response.json()["errors"]] == [("rating", "满意度评价")]


# ---------------------------------------------------------------------------------------------------------------
# In the mail composer: refused even if such a name were stored (validation bypassed, or older data)
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture
def email_channel(smtp, monkeypatch) -> EmailChannel:
    for field in NotificationSettings.model_fields.values():
        if field.alias:
            monkeypatch.delenv(field.alias, raising=False)
    settings = NotificationSettings(XINFANG_ENV="test", SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port,
                                    NOTICE_SENDER="示例县信访局 <xinfang@example.gov.cn>")
    channel = EmailChannel(settings)
    yield channel
    channel.close()


def notice(name: str = "王秀兰", address: str = "wangxl@example.cn", title: str = "信访事项登记回执") -> OutgoingNotice:
    return OutgoingNotice(id=UUID(int=1), petition_id=UUID(int=2), kind="registration_receipt",
                          query_code="7K3M-9QX2-HT4W-0BZ8", recipient={"name": name, "email": address},
                          title=title, body="王秀兰：\n\n您好！", channels=["email"], correlation_id="c")


# An ASCII address is composed with the classic (compat32) API, which wrote the name's CRLF as it was. (For an
# address that needs SMTPUTF8 the modern API refused a newline already; tests/unit/notification covers both.)


@pytest.mark.parametrize("name", ATTACKS)
def test_a_recipient_name_with_line_breaks_is_refused_and_nothing_is_sent(email_channel, smtp, name):
    with pytest.raises(PermanentDeliveryFailure):
        email_channel.deliver(notice(name=name))

    assert smtp.received() == []
    assert smtp.recipients == []


@pytest.mark.parametrize("title", ATTACKS)
def test_a_subject_with_line_breaks_is_refused_and_nothing_is_sent(email_channel, smtp, title):
    with pytest.raises(PermanentDeliveryFailure):
        email_channel.deliver(notice(title=title))

    assert smtp.received() == []


@pytest.mark.parametrize("address", ["wangxl@example.cn, probe-extra@example.cn",
                                     '"wangxl@example.cn" <probe-extra@example.cn>'])
def test_an_address_that_is_not_one_valid_address_is_refused(email_channel, smtp, address):
    with pytest.raises(PermanentDeliveryFailure):
        email_channel.deliver(notice(address=address))

    assert smtp.recipients == []


def test_the_envelope_is_the_validated_address_only(email_channel, smtp):
    # A name a header parser could read as more addresses, and an address as a petitioner may type it.
    email_channel.deliver(notice(name="a, probe-extra@example.cn", address="WangXL@Example.CN"))

    assert smtp.recipients == [["WangXL@example.cn"]]  # as email-validator normalises it: the domain lower-cased
    [received] = smtp.received()
    assert "probe-extra" not in received["To"].split("<")[-1]


def test_a_name_with_line_breaks_adds_no_line_to_the_receipt_body():
    body = render("registration_receipt", name=INJECTED_LINE, registered_date="2026年11月26日",
                  channel_label="网上信访", title="小区污水外溢", query_code="7K3M-9QX2-HT4W-0BZ8",
                  issuer_name="示例县信访局", issued_on="2026年11月27日").body

    first_line, rest = body.split("\n", 1)
    assert first_line == "x    Visit http://evil.example now："
    assert "evil.example" not in rest
    assert "\r" not in body
