"""The case file per role and the opinions in the petitioner's status view (issue 16), through the real gateway
application on a real SecantusDB read model: the case view is supervision's projection of a real Case history (an
extension, a mediation, the reply, the petitioner's rating and review request, the review opinion); intake behind the
RPC port answers from a dictionary shaped as its `get_petition` does. Also: lifecycle bodies refused with each field's
own Chinese label, and the counter's fields (landline, window, note) in the officer view."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.supervision.domainmodel import Case
from services.supervision.projections import render
from shared.language.contracts import querycode
from shared.language.readmodels import CaseCode
from tests.support import samples
from tests.support.gateway_app import (
    CLERK,
    COUNTY,
    ORGAN_NAMES,
    PETITIONER,
    TOWN,
    RecordedServices,
    headers,
    officer_view,
    save_receipt,
    views_of,
)
from tests.unit.supervision.test_lifecycle import RULES, at, step

TOWN_ORGAN = {"code": TOWN, "name": ORGAN_NAMES[TOWN]}
COUNTY_ORGAN = {"code": COUNTY, "name": ORGAN_NAMES[COUNTY]}
OPINION = "经调查核实，小区北门污水管道系物业管理范围，已责成物业公司于十日内疏通，并由镇城管办跟踪落实。"
REVIEW_OPINION = "原处理意见认定事实清楚，处理适当，予以维持。"
REVIEW_REASONS = "物业公司至今未疏通，我（王秀兰，电话13800138000）不服处理意见"
COMMENT = "物业经理李某态度恶劣"
NOTE = "信访人年事已高，行动不便，由其子陪同来访"


@pytest.fixture
def intake() -> RecordedServices:
    """intake's `get_petition` answered from a dictionary (supervision is not asked on these paths)."""
    return RecordedServices(supervision=False)


@pytest.fixture
def client(gateway_for, intake) -> TestClient:
    return gateway_for(intake)


def reviewed_petition(intake: RecordedServices) -> dict[str, Any]:
    """A visit registered at the counter by a landline-only petitioner, handled by the town and reviewed by the
    county: the record intake keeps, and the case view supervision projects from the Case's real events."""
    body = samples.petition(channel="visit", window="一号接待窗口", note=NOTE)
    body["petitioner"].update(phone=None, landline="0571-87654321")  # as intake stores it (model_dump)
    pid, code = str(uuid.uuid4()), querycode.issue()
    now = datetime.now(UTC)
    intake.petitions[pid] = {
        "id": pid, "query_code": code, "status": "registered", "registered_at": now.isoformat(), "anonymous": False,
        "accused": None, "flags": [], "repeat_of": None, "similar_petitions": [], "representatives": [],
        "joint_signers": [], "registered_by": {**CLERK},
        "received_at": "2026-09-27T15:20:00+08:00",
        **{k: body[k] for k in ("channel", "petitioner", "title", "request", "facts_and_reasons", "category",
                                "topic", "place_code", "people_count", "attachments", "window", "note")}}
    case = Case(petition_id=uuid.UUID(pid), query_code=code, title=body["title"], category="appeal",
                channel="visit", place_code=body["place_code"], at=at("2026-09-28").isoformat(),
                deadlines=[RULES.compute("triage", datetime(2026, 9, 27).date()).as_dict()], correlation_id="c",
                causation_id="x", people_count=1, repeat_of=None, flags=[], accused_organs=[], topic=None,
                received_at="2026-09-27T15:20:00+08:00", provincial=None)
    town = {"role": "organ_officer", "user": "town", "organ": TOWN}
    step(case, "2026-09-28", {"role": "system", "user": "routing-rules", "organ": None}, "route",
         disposition="transfer", organ=TOWN_ORGAN, joining_organs=[], basis="属地管理")
    step(case, "2026-09-29", town, "accept", procedure="ordinary")
    step(case, "2026-10-12", town, "record_handling", kind="mediation", summary="组织信访人与物业公司调解，未达成一致")
    step(case, "2026-10-20", town, "extend", days=15, reasons="需会同住建部门现场勘查", approved_by="镇长张某")
    step(case, "2026-11-02", town, "reply", outcome="explain", opinion=OPINION)
    step(case, "2026-11-03", PETITIONER, "evaluate", rating="dissatisfied", comment=COMMENT)
    step(case, "2026-11-05", PETITIONER, "request_review", reasons=REVIEW_REASONS)
    step(case, "2026-11-06", CLERK, "open_review", organ=COUNTY_ORGAN)
    step(case, "2026-11-20", {"role": "organ_officer", "user": "county", "organ": COUNTY}, "decide_review",
         outcome="uphold", opinion=REVIEW_OPINION)
    render(case.collect_events()).save()
    CaseCode(query_code=code, petition_id=pid).save()
    save_receipt(pid, code, "王秀兰", now)
    return intake.petitions[pid]


def said(shown: dict[str, Any], step_name: str) -> dict[str, Any]:
    [entry] = [e for e in shown["case_file"] if e["step"] == step_name]
    return entry["said"]


def recorded_fields(client: TestClient, pid: str, username: str) -> list[str]:
    return [field for view in views_of(client, pid, user=username) for field in view["fields"]]


def test_the_petitioner_reads_every_opinion_with_its_text_and_their_notices(client, intake):
    record = reviewed_petition(intake)

    answer = client.get(f"/api/v1/status/{record['query_code']}")

    assert answer.status_code == 200, answer.text
    shown = answer.json()
    assert [(o["label"], o["organ"]["name"], o["outcome_text"], o["opinion"], o["on"]) for o in shown["opinions"]] == [
        ("处理意见", "示例县城关镇人民政府", "解释说明", OPINION, "2026-11-02"),
        ("复查意见", "示例县人民政府", "维持", REVIEW_OPINION, "2026-11-20"),
    ]
    assert [n["title"] for n in shown["notices"]] == ["信访事项登记回执"]
    assert shown["received_at"] == "2026-09-27T15:20:00+08:00"
    assert shown["timeline"][0]["text"] == "信访事项已登记（来访，2026年9月27日收到）"
    triage = {d["kind"]: d for d in shown["deadlines"]}["triage"]
    assert triage["due"] == RULES.compute("triage", datetime(2026, 9, 27).date()).due  # from the visit, not the typing


@pytest.mark.parametrize("who", ["clerk", "supervisor", "admin", "town"])
def test_the_bureau_and_the_organ_responsible_see_the_whole_case_file_and_the_view_is_recorded(client, intake, who):
    record = reviewed_petition(intake)

    shown = officer_view(client, who, record["id"])

    steps = [e["step"] for e in shown["case_file"]]
    assert steps == ["route", "accept", "record_handling", "extend", "reply", "evaluate", "request_review",
                     "open_review", "decide_review"]
    assert said(shown, "reply")["opinion"] == OPINION and said(shown, "decide_review")["opinion"] == REVIEW_OPINION
    assert (said(shown, "extend")["reasons"], said(shown, "extend")["approved_by"]) == ("需会同住建部门现场勘查",
                                                                                        "镇长张某")
    assert said(shown, "record_handling")["summary"] == "组织信访人与物业公司调解，未达成一致"
    assert said(shown, "request_review")["reasons"] == REVIEW_REASONS and said(shown, "evaluate")["comment"] == COMMENT
    assert [o["label"] for o in shown["opinions"]] == ["处理意见", "复查意见"]
    assert shown["case_file"][3]["text"] == "延长办理期限" and shown["case_file"][3]["actor"]["organ"] == TOWN
    assert (shown["window"], shown["note"], shown["received_at"]) == ("一号接待窗口", NOTE, "2026-09-27T15:20:00+08:00")
    assert shown["petitioner"]["landline"] == "0571-87654321" and shown["petitioner"]["phone"] is None
    assert not {"case_file.reasons", "case_file.comment", "note"} & set(shown["withheld"])
    fields = recorded_fields(client, record["id"], who)
    assert {"petitioner.landline", "note", "case_file.reasons", "case_file.comment"} <= set(fields)


@pytest.mark.parametrize("who", ["county", "auditor"])
def test_officers_who_may_not_see_the_petitioner_see_the_steps_but_not_the_petitioners_words(client, intake, who):
    """The county reviewed it and is done; auditors audit the process. Both see what the officers said at each step
    (the matter they handle), not what the petitioner wrote after registering, nor the counter's note."""
    record = reviewed_petition(intake)

    answer = client.get(f"/api/v1/petitions/{record['id']}", headers=headers(client, who))

    assert answer.status_code == 200, answer.text
    shown = answer.json()
    assert shown["identity_withheld"] is True and shown["petitioner"] is None
    assert said(shown, "reply")["opinion"] == OPINION and said(shown, "extend")["approved_by"] == "镇长张某"
    assert "reasons" not in said(shown, "request_review") and "comment" not in said(shown, "evaluate")
    assert said(shown, "evaluate")["rating"] == "dissatisfied"  # the rating itself is part of the process
    assert shown["note"] is None and shown["window"] == "一号接待窗口"
    assert {"case_file.reasons", "case_file.comment", "note", "petitioner"} <= set(shown["withheld"])
    for secret in (REVIEW_REASONS, COMMENT, NOTE, "0571-87654321", "13800138000"):
        assert secret not in answer.text
    assert recorded_fields(client, record["id"], who) == []  # nothing personal shown: nothing to record


def test_an_organ_never_involved_gets_no_case_file(client, intake):
    record = reviewed_petition(intake)

    answer = client.get(f"/api/v1/petitions/{record['id']}", headers=headers(client, "labour"))

    assert answer.status_code == 403 and OPINION not in answer.text


@pytest.mark.parametrize(("path", "body", "field", "label", "message"), [
    ("reply", {"outcome": "support", "opinion": ""}, "opinion", "处理意见", "处理意见不能为空"),
    ("extension", {"days": 10, "approved_by": "张局长"}, "reasons", "延期理由", "请填写延期理由"),
    ("review/decision", {"outcome": "quash", "opinion": "撤销"}, "outcome", "复查结果",
     "复查结果取值无效，可选值：uphold（维持）、change（变更）、rehandle（撤销并责令重新办理）"),
    ("objection", {"reasons": "不属于本机关职责", "suggested_organ_code": ""}, "suggested_organ_code",
     "建议的有权处理机关", "建议的有权处理机关不能为空"),
])
def test_a_lifecycle_body_is_refused_naming_each_field_by_its_own_label(client, path, body, field, label, message):
    answer = client.post(f"/api/v1/petitions/{uuid.uuid4()}/{path}", json=body, headers=headers(client, "town"))

    assert answer.status_code == 422, answer.text
    [error] = answer.json()["errors"]
    assert (error["field"], error["label"], error["message"]) == (field, label, message)


def test_the_petitioners_review_request_is_refused_in_chinese_too(client):
    answer = client.post("/api/v1/status/ZZZZ-ZZZZ-ZZZZ-ZZZZ/review-request", json={"id_number_tail": "12345X"})

    [error] = answer.json()["errors"]
    assert (answer.status_code, error["label"], error["message"]) == (422, "请求复查或者复核的理由",
                                                                      "请填写请求复查或者复核的理由")
