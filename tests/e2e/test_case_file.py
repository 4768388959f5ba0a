"""The case file, the opinion text and registration at a counter through the whole platform (issue 16): gateway →
intake → the exchange → supervision → projector → the views; the refusals in Chinese and per caller."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from services.notification.domainmodel import Delivery, Notice
from services.supervision.deadlines import load_deadline_rules
from shared.language.chinatime import local_date
from tests.e2e.officers import act, by_code, signed_in, submit_routed
from tests.support import samples
from tests.support.platform import stored_events
from tests.support.waiting import wait_for

OPINION = "经调查，小区北门污水井外溢系管道老化所致，镇城管办已于11月1日完成疏通，并纳入老旧管网改造计划。"


def status(gateway, code: str) -> dict:
    answer = gateway.get(f"/api/v1/status/{code}")
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_opinion_text_reaches_the_petitioner_and_the_case_file_the_officers(platform, gateway):
    receipt = submit_routed(gateway)
    pid, code = receipt["id"], receipt["query_code"]
    act(gateway, "chengguan", pid, "acceptance", {"procedure": "ordinary"})
    act(gateway, "chengguan", pid, "extension", {"days": 10, "reasons": "需会同住建部门现场勘查", "approved_by": "镇长张某"})
    act(gateway, "chengguan", pid, "reply", {"outcome": "support", "opinion": OPINION})
    by_code(gateway, code, "review-request", {"reasons": "疏通后又外溢，不服"})

    shown = wait_for(lambda: (s := status(gateway, code))["status"] == "review_requested" and s,
                     what="the review request in the status view")
    [opinion] = shown["opinions"]
    assert (opinion["label"], opinion["organ"]["code"], opinion["outcome_text"], opinion["opinion"]) == (
        "处理意见", "330106001-ZF", "支持", OPINION)

    organ = gateway.get(f"/api/v1/petitions/{pid}", headers=signed_in(gateway, "chengguan")).json()
    steps = {e["step"]: e["said"] for e in organ["case_file"]}
    assert steps["reply"]["opinion"] == OPINION and steps["extend"]["approved_by"] == "镇长张某"
    assert steps["request_review"]["reasons"] == "疏通后又外溢，不服"
    auditor = gateway.get(f"/api/v1/petitions/{pid}", headers=signed_in(gateway, "auditor")).json()
    assert {e["step"]: e["said"] for e in auditor["case_file"]}["reply"]["opinion"] == OPINION
    assert "reasons" not in {e["step"]: e["said"] for e in auditor["case_file"]}["request_review"]
    assert "case_file.reasons" in auditor["withheld"]


def test_a_refused_step_lists_only_what_the_caller_may_do_and_bad_input_names_fields_in_chinese(platform, gateway):
    pid = submit_routed(gateway)["id"]

    organ = act(gateway, "chengguan", pid, "reply", {"outcome": "support", "opinion": "同意"}, expect=409)
    assert organ["allowed_actions"] == ["object", "accept", "decline", "decline_again", "divert"]
    assert organ["message"].endswith("您当前可以：提出异议、受理、不予受理、不再受理、导入法定程序")
    bureau = act(gateway, "clerk", pid, "review", {"organ_code": "330106-ZF"}, expect=409)
    assert bureau["allowed_actions"] == ["transfer", "assign", "report_up", "decline", "decline_again", "withdraw"]

    refused = act(gateway, "chengguan", pid, "extension", {"days": 10, "approved_by": "张局长"}, expect=422)
    assert [(e["field"], e["label"], e["message"]) for e in refused["errors"]] == [
        ("reasons", "延期理由", "请填写延期理由")]


def test_a_clerk_registers_a_letter_by_its_arrival_date_for_a_landline_only_petitioner(platform, gateway):
    arrived = local_date(datetime.now(UTC)) - timedelta(days=6)
    letter = samples.petition(channel="letter", received_at=arrived.isoformat(), window="二号窗口",
                              note="信访人无手机，留固定电话")
    letter["petitioner"].update(phone=None, landline="0571-87654321", email=None)

    online = gateway.post("/api/v1/petitions", json={**samples.petition(), "window": "二号窗口"})
    assert online.status_code == 403 and online.json()["error"] == "counter_fields_clerk_only"
    assert "接待窗口" in online.json()["message"]
    future = {**letter, "received_at": (arrived + timedelta(days=30)).isoformat()}
    late = gateway.post("/api/v1/petitions", json=future, headers=signed_in(gateway, "clerk"))
    assert late.status_code == 422
    assert [(e["label"], e["message"]) for e in late.json()["errors"]] == [("收到时间", "收到时间不能晚于现在")]
    no_phone = {**letter, "petitioner": {k: v for k, v in letter["petitioner"].items() if k != "landline"}}
    neither = gateway.post("/api/v1/petitions", json=no_phone, headers=signed_in(gateway, "clerk"))
    assert [e["code"] for e in neither.json()["errors"]] == ["phone_or_landline_required"]

    receipt = gateway.post("/api/v1/petitions", json=letter, headers=signed_in(gateway, "clerk"))
    assert receipt.status_code == 201, receipt.text
    code, pid = receipt.json()["query_code"], receipt.json()["id"]

    shown = wait_for(lambda: (s := status(gateway, code))["deadlines"] and s, what="the case opened")
    triage = {d["kind"]: d for d in shown["deadlines"]}["triage"]
    assert triage["due"] == load_deadline_rules().compute("triage", arrived).due  # from arrival, not from typing
    assert shown["received_at"] == arrived.isoformat()
    assert shown["timeline"][0]["text"] == f"信访事项已登记（来信，{arrived.year}年{arrived.month}月{arrived.day}日收到）"
    record = gateway.get(f"/api/v1/petitions/{pid}", headers=signed_in(gateway, "clerk")).json()
    assert (record["petitioner"]["landline"], record["window"], record["note"]) == (
        "0571-87654321", "二号窗口", "信访人无手机，留固定电话")

    # The receipt is published on the status page, as every notice is (not a receipt: no clock counts from it), and
    # goes by post, which awaits the clerk's record of posting: no delivery by post is claimed, none by SMS or e-mail.
    notice = str(Notice.create_id(uuid.UUID(pid), "registration_receipt"))
    wait_for(lambda: stored_events(platform.namespace, "notification", "Notice.Requested", notice) == 1,
             what="the receipt requested")
    wait_for(lambda: status(gateway, code)["notices"], what="the receipt on the status page")
    for channel in ("post", "sms", "email"):
        delivery = str(Delivery.create_id(uuid.UUID(notice), channel))
        assert stored_events(platform.namespace, "notification", "Delivery.Concluded", delivery) == 0, channel
