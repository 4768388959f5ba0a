"""The bureau's notices over HTTP (services/gateway/routes/notices.py): a case's notices with each channel's
delivery, the lists of failed deliveries and letters to post, the PDF of a notice for the bureau (recorded as a view
of personal data) and for the petitioner by query code, and the writes — posting, receipt, re-send — passed to
notification, whose refusals come back in Chinese. The real gateway application in-process on a real SecantusDB
read model, the records written as notification's projection writes them; notification's RPC port answered by a
recording object (the real RPCs are tested against the real service: tests/integration/test_postal_delivery.py and
the SMS tests)."""

from __future__ import annotations

import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shared.language.contracts import querycode
from shared.language.readmodels import InboxMessage, NoticeRecord
from tests.support.gateway_app import headers, views_of


class NotificationPort:
    """notification's RPCs as the gateway calls them: records each call and answers as told."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.refusal: dict[str, Any] | None = None

    def call(self, service: str, method: str, *args: Any, actor: dict[str, Any]) -> Any:
        assert service == "notification", (service, method)
        self.calls.append((method, args, actor))
        if self.refusal is not None:
            return {"ok": False, **self.refusal}
        return {"ok": True}

    def close(self) -> None:
        pass


@pytest.fixture
def port() -> NotificationPort:
    return NotificationPort()


@pytest.fixture
def client(gateway_for, port) -> TestClient:
    return gateway_for(port)


def notice(petition_id: str, code: str, *, kind: str = "opinion", title: str = "信访事项处理意见书",
           deliveries: dict[str, Any] | None = None, age: int = 0) -> str:
    notice_id = str(uuid.uuid4())
    deliveries = deliveries or {"inbox": {"outcome": "delivered"}, "post": {"outcome": "pending"}}
    at = datetime.now(UTC) - timedelta(minutes=age)
    NoticeRecord(notice_id=notice_id, petition_id=petition_id, kind=kind, title=title, step="reply",
                 requested_at=at, channels=list(deliveries), deliveries=deliveries,
                 failed=[c for c, d in deliveries.items() if d["outcome"] == "failed"],
                 awaiting_post=deliveries.get("post", {}).get("outcome") == "pending").save()
    InboxMessage(notice_id=notice_id, petition_id=petition_id, query_code=code, kind=kind, title=title,
                 body=f"王秀兰：\n\n您于2026年11月26日提出的信访事项（查询码：{code}）……\n\n特此答复。\n\n示例县城关镇人民政府\n2026年12月4日\n",
                 delivered_at=at).save()
    return notice_id


def test_the_bureau_sees_each_notice_of_a_case_with_each_channels_delivery(client):
    pid, code = str(uuid.uuid4()), querycode.issue()
    first = notice(pid, code, kind="registration_receipt", title="信访事项登记回执", age=10,
                   deliveries={"inbox": {"outcome": "delivered"}, "sms": {"outcome": "failed", "attempts": 5,
                                                                          "detail": "重试5次仍未送达"}})
    second = notice(pid, code, deliveries={"inbox": {"outcome": "delivered"}, "post": {
        "outcome": "posted", "posted_on": "2026-12-04", "registered_mail_number": "XA123456789CN",
        "recorded_by": "clerk"}})

    answer = client.get(f"/api/v1/petitions/{pid}/notices", headers=headers(client, "supervisor"))

    assert answer.status_code == 200, answer.text
    listed = answer.json()["notices"]
    assert [n["notice_id"] for n in listed] == [first, second]
    assert listed[0]["kind_label"] == "信访事项登记回执"
    sms = listed[0]["deliveries"][1]
    assert (sms["channel_label"], sms["outcome_label"], sms["attempts"]) == ("短信", "发送失败", 5)
    post = listed[1]["deliveries"][1]
    assert (post["outcome_label"], post["posted_on"], post["registered_mail_number"]) == (
        "已邮寄", "2026-12-04", "XA123456789CN")
    assert listed[1]["pdf"] is None  # the notice holds the query code: printed at the counter only
    by_clerk = client.get(f"/api/v1/petitions/{pid}/notices", headers=headers(client, "clerk")).json()["notices"]
    assert by_clerk[1]["pdf"] == f"/api/v1/notices/{second}/pdf"
    organ_officer = client.get(f"/api/v1/petitions/{pid}/notices", headers=headers(client, "town"))
    assert organ_officer.status_code == 403


def test_failed_deliveries_and_letters_to_post_are_listed_oldest_first(client):
    pid, code = str(uuid.uuid4()), querycode.issue()
    failed = notice(pid, code, age=60 * 24 * 400, deliveries={"inbox": {"outcome": "delivered"},
                                                             "email": {"outcome": "failed"}})
    to_post = notice(pid, code, age=60 * 24 * 400)
    auditor = headers(client, "auditor")

    failing = client.get("/api/v1/notices", params={"state": "failed"}, headers=auditor).json()["notices"]
    posting = client.get("/api/v1/notices", params={"state": "awaiting_post"}, headers=auditor).json()["notices"]

    assert failing[0]["notice_id"] == failed and to_post not in [n["notice_id"] for n in failing]
    assert posting[0]["notice_id"] == to_post and failed not in [n["notice_id"] for n in posting]
    assert client.get("/api/v1/notices", params={"state": "everything"}, headers=auditor).status_code == 422


def test_the_pdf_holds_the_notice_and_its_view_is_recorded(client, tmp_path):
    pid, code = str(uuid.uuid4()), querycode.issue()
    notice_id = notice(pid, code)

    answer = client.get(f"/api/v1/notices/{notice_id}/pdf", headers=headers(client, "clerk"))

    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    assert answer.headers["cache-control"] == "no-store"
    (tmp_path / "notice.pdf").write_bytes(answer.content)
    text = subprocess.run(["pdftotext", str(tmp_path / "notice.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert code in text and "特此答复" in text
    assert [v["fields"] for v in views_of(client, pid)] == [["notices.body", "query_code", "petitioner.name"]]
    for role in ("supervisor", "auditor", "town"):  # no query code for them: no printed notice either
        assert client.get(f"/api/v1/notices/{notice_id}/pdf", headers=headers(client, role)).status_code == 403


def test_the_petitioner_prints_their_own_notice_by_query_code_and_no_one_elses(client):
    pid, code = str(uuid.uuid4()), querycode.issue()
    notice_id = notice(pid, code)
    other = notice(str(uuid.uuid4()), querycode.issue())

    own = client.get(f"/api/v1/status/{code}/notices/{notice_id}/pdf")
    stolen = client.get(f"/api/v1/status/{code}/notices/{other}/pdf")

    assert own.status_code == 200 and own.content.startswith(b"%PDF")
    assert stolen.status_code == 404 and stolen.json()["message"] == "未找到该告知"
    assert client.get(f"/api/v1/status/{code}/notices/not-a-uuid/pdf").status_code == 404


def test_posting_receipt_and_resend_are_passed_to_notification_for_the_officer(client, port):
    pid, code = str(uuid.uuid4()), querycode.issue()
    notice_id = notice(pid, code)
    clerk = headers(client, "clerk")

    posted = client.post(f"/api/v1/notices/{notice_id}/posting", headers=clerk,
                         json={"posted_on": "2026-12-04", "registered_mail_number": "XA123456789CN"})
    received = client.post(f"/api/v1/notices/{notice_id}/receipt", headers=clerk, json={"received_on": "2026-12-07"})
    resent = client.post(f"/api/v1/notices/{notice_id}/deliveries/sms/resend", headers=headers(client, "supervisor"))

    assert posted.status_code == received.status_code == resent.status_code == 200, posted.text
    assert [(m, a) for m, a, _ in port.calls] == [
        ("record_posting", (notice_id, "2026-12-04", "XA123456789CN")),
        ("record_postal_receipt", (notice_id, "2026-12-07")),
        ("resend", (notice_id, "sms"))]
    assert [actor["user"] for _, _, actor in port.calls] == ["clerk", "clerk", "supervisor"]


def test_a_refusal_comes_back_in_chinese_and_bad_input_names_the_field(client, port):
    pid, code = str(uuid.uuid4()), querycode.issue()
    notice_id = notice(pid, code)
    clerk = headers(client, "clerk")
    port.refusal = {"http_status": 409, "problem": {"error": "not_failed", "message": "只有发送失败的告知才能重新发送"}}

    refused = client.post(f"/api/v1/notices/{notice_id}/deliveries/email/resend", headers=clerk)
    bad = client.post(f"/api/v1/notices/{notice_id}/posting", headers=clerk, json={"posted_on": "昨天"})
    organ = client.post(f"/api/v1/notices/{notice_id}/posting", headers=headers(client, "town"),
                        json={"posted_on": "2026-12-04", "registered_mail_number": "XA123456789CN"})
    unknown = client.post(f"/api/v1/notices/{uuid.uuid4()}/receipt", headers=clerk, json={"received_on": "2026-12-07"})

    assert refused.status_code == 409 and refused.json()["message"] == "只有发送失败的告知才能重新发送"
    assert bad.status_code == 422
    labels = {e["label"] for e in bad.json()["errors"]}
    assert {"邮寄日期", "挂号信号码"} <= labels, bad.json()
    assert organ.status_code == 403 and unknown.status_code == 404
    assert [m for m, _, _ in port.calls] == ["resend"]
