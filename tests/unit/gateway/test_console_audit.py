"""The auditor's page (/console/audit/{id}) without a platform: the history reads in Chinese — each event by its
name (the lifecycle steps' texts, the notices' titles), each service, notice kind, channel, delivery outcome,
deadline, place and flag in words, nothing empty or None — with the machine names kept beside it, and hostile text
escaped; the case bundle is downloaded through the console as the API serves it (a 409 shown on the page in the
API's words); and verifying keeps the moment whose state the page was showing."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from services.gateway.console import labels, officers, web
from services.gateway.console.reference import Reference
from services.gateway.console.sessions import SESSION_COOKIE, Sessions
from services.gateway.security import Principal, Role
from shared.language.contracts.deadlines import DEADLINE_LABELS
from shared.language.contracts.lifecycle import STEPS

ROOT = Path(__file__).resolve().parents[3]
REFERENCE = Reference.load()
PID = "2e759628-722b-509a-8cf4-b518a6e8f9bf"
HOSTILE = "<script>alert(1)</script>"
AS_OF = "2026-12-05T09:30:00"


def event(service: str, name: str, **fields: object) -> dict[str, object]:
    return {"recorded_at": "2026-12-05T01:37:00+00:00", "service": service, "aggregate": name.split(".")[0],
            "aggregate_id": PID, "version": 1, "event": name, "event_id": "urn:e/1", "caused_by": None,
            "correlation_id": "c-1", **fields}


RECEIPT = "registration_receipt"
HISTORY = [
    event("intake", "Petition.Registered", actor={"role": "clerk", "user": "clerk", "organ": "330106-XFJ"},
          title=f"{HOSTILE}来信", category="appeal", topic="urban_management", place_code="330106001",
          people_count=1, anonymous=False, channel="letter", flags=["group"]),
    event("routing", "Assignment.Routed", actor={"role": "system", "user": "routing-rules", "organ": None},
          basis="属地管理：问题发生在城关镇", disposition="transfer",
          organ={"code": "330106001-ZF", "name": "示例县城关镇人民政府"},
          facts={"category": "appeal", "topic": None, "place_code": "330106001", "flags": [], "accused_organs": []},
          rule_id="chengguan-local", rules_version="2026.12-demo.2"),
    event("supervision", "Case.Opened", title="来信", category="appeal", place_code="330106001", channel="letter"),
    event("notification", "Notice.Requested", title="信访事项登记回执", kind=RECEIPT, channels=["inbox", "email"]),
    event("notification", "Delivery.Concluded", title="信访事项登记回执", kind=RECEIPT, channel="inbox",
          outcome="delivered", notice_id="n-1"),
    event("notification", "Delivery.Concluded", title="信访事项登记回执", kind=RECEIPT, channel="email",
          outcome="refused", notice_id="n-1"),
    event("supervision", "Case.Transferred", action="route", status="awaiting_acceptance",
          actor={"role": "system", "user": "routing-rules", "organ": None}, disposition="transfer",
          opened=[{"kind": "acceptance", "label": "受理告知期限", "due": "2026-12-21"},
                  {"kind": "objection", "label": "异议期限", "due": "2026-12-11"}],
          closed={"triage": "met"}),
    event("supervision", "Case.NoticeDelivered", title="信访事项登记回执", kind=RECEIPT, channel="inbox",
          notice_id="n-1"),
    event("supervision", "Case.Accepted", action="accept", status="handling", procedure="ordinary",
          closed={"acceptance": "met", "objection": "stopped"}),
    event("supervision", "Case.Replied", action="reply", status="replied", outcome="support", outcome_text="支持",
          opinion=HOSTILE, level="reply"),
    event("supervision", "Case.Evaluated", action="evaluate", rating="satisfied", rating_text="满意",
          taken_by="petitioner", channel="online", level="reply"),
]
# The machine words the walkthrough found in the history's Chinese lines.
RAW = re.compile(r"registration_receipt|inbox|email|delivered|refused|\bmet\b|stopped|triage|acceptance|None"
                 r"|flags|accused_organs|urban_management|330106001|：；|：$")


def test_deadline_labels_are_the_bundled_rules_labels():
    rules = yaml.safe_load((ROOT / "services/supervision/rules/deadlines.yaml").read_text(encoding="utf-8"))["rules"]
    assert {kind: rule["label"] for kind, rule in rules.items()} == DEADLINE_LABELS


def test_the_history_names_each_event_and_service_in_chinese():
    rows = officers.history_rows(HISTORY, REFERENCE)
    assert [(row["name"], row["service"]) for row in rows] == [
        ("登记信访事项", "受理登记"), ("按规则分流", "分流"), ("开始督办", "督办"),
        ("生成信访事项登记回执", "告知"), ("信访事项登记回执已送达", "告知"), ("信访事项登记回执无法送达", "告知"),
        (STEPS["route"].text, "督办"), ("信访事项登记回执已送达（记入案卷）", "督办"), (STEPS["accept"].text, "督办"),
        (STEPS["reply"].text, "督办"), (STEPS["evaluate"].text, "督办")]
    assert labels.event_name({"event": "Notice.Requested", "kind": "a_new_kind"}) == "生成告知书"
    assert labels.event_name({"event": "Case.SomethingNew"}) == "Case.SomethingNew"  # unknown: its machine name


def test_what_each_event_said_reads_in_chinese_without_empty_keys():
    rows = {(row["event"]["event"], row["event"].get("channel")): dict(row["said"])
            for row in officers.history_rows(HISTORY, REFERENCE)}
    for said in rows.values():
        for label, text in said.items():
            assert not RAW.search(label) and not RAW.search(text), (label, text)
    registered = rows[("Petition.Registered", "letter")]
    assert registered["问题发生地"] == "城关镇" and registered["标记"] == "集体访" and registered["信访渠道"] == "来信"
    assert rows[("Assignment.Routed", None)]["分流依据的事实"] == "信访类别：申诉求决类；问题发生地：城关镇"
    assert rows[("Notice.Requested", None)] == {"标题": "信访事项登记回执", "告知书": "信访事项登记回执",
                                                "送达渠道": "查询页面、电子邮件"}
    delivered = rows[("Delivery.Concluded", "inbox")]
    assert (delivered["告知书"], delivered["送达渠道"], delivered["送达结果"]) == ("信访事项登记回执", "查询页面", "已送达")
    assert "办理方式" not in delivered and "信访渠道" not in delivered and "处理结论" not in delivered
    assert rows[("Delivery.Concluded", "email")]["送达结果"] == "无法送达"  # refused for good (the address); "failed" is 发送失败
    transferred = rows[("Case.Transferred", None)]
    assert transferred["结束的期限"] == "转送交办期限：已按期完成"
    assert transferred["开始计算的期限"].startswith("受理告知期限（至")
    assert rows[("Case.Accepted", None)]["结束的期限"] == "受理告知期限：已按期完成；异议期限：已停止计算"
    assert rows[("Case.Replied", None)] == {"处理结论": "支持", "意见": HOSTILE, "意见层级": "处理意见"}  # 支持 once
    assert rows[("Case.Evaluated", "online")]["评价渠道"] == "网上"


def test_a_closed_deadline_is_named_as_the_case_recorded_it():
    context = labels.Recorded({"action": "accept"}, REFERENCE, {"acceptance": "本县受理告知期限"})
    assert labels.recorded("closed", {"acceptance": "met", "review": "stopped"}, context) == \
        "本县受理告知期限：已按期完成；复查期限：已停止计算"
    assert labels.recorded("closed", {"a_new_kind": "met"}, context) == "a_new_kind：已按期完成"


def test_the_history_page_shows_the_names_and_keeps_the_machine_names_beside_them_escaped():
    page = render_audit_page(officers.history_rows(HISTORY, REFERENCE))
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert '<strong title="Case.Replied">出具处理意见</strong>' in page
    assert "<code>Case.Replied</code> <code>reply</code>" in page and "<code>notification</code>" in page
    assert "（受理登记）" in page and "（告知）" in page and "（督办，route）" not in page
    assert "操作人：系统：分流规则" in page and "routing-rules" not in page


def render_audit_page(events: list[dict], **context: object) -> str:
    values = {"petition_id": PID, "events": events, "state": None, "state_error": "", "as_of": "", "verified": None,
              "verify_error": "", "may_verify": True, **context}
    return web._environment().get_template("audit_case.html").render(
        request=None, officer=None, csrf_token="t", reference=REFERENCE, **values)


def test_the_page_offers_the_bundles_download_to_auditors_and_carries_the_moment_into_verification():
    page = render_audit_page([], as_of=AS_OF)
    assert f'href="/console/audit/{PID}/bundle?as_of=2026-12-05T09%3A30%3A00"' in page
    assert '<input type="hidden" name="as_of" value="2026-12-05T09:30:00">' in page
    assert f"case-{PID}.json" in page
    assert "下载审计证据包" not in render_audit_page([], may_verify=False)


# --- the routes, over a stand-in of the API ------------------------------------------------------------------------
BUNDLE = {"format": "petition-audit/case-bundle/v2", "logs": []}
NOT_YET = "审计日志尚未签署覆盖该事项的检查点，请稍后再试"


class Officers(Sessions):
    """The session cookie names the officer's role (the real console asks the API's own dependency)."""

    async def officer(self, request: Request, gw: object) -> Principal | None:
        role = request.cookies.get(SESSION_COOKIE)
        return Principal(role, Role(role), "330106-XFJ", token_id=f"jti-{role}") if role else None


def stand_in_api(checkpointed: dict[str, bool], downloads: list[str]) -> APIRouter:
    api = APIRouter(prefix="/api/v1/audit/petitions/{petition_id}")

    @api.get("/history")
    def history(petition_id: str) -> dict:
        return {"petition_id": petition_id, "events": HISTORY}

    @api.get("/state")
    def state(petition_id: str, as_of: str) -> dict:
        return {"status": "replied", "status_text": "已出具处理意见", "organ": None, "deadlines": [], "as_of": as_of}

    @api.get("/bundle")
    def bundle(petition_id: str, request: Request) -> JSONResponse:
        if request.headers.get("authorization") != "Bearer auditor":
            return JSONResponse({"error": "forbidden", "message": "您的角色无权执行此操作"}, status_code=403)
        if not checkpointed["yes"]:
            return JSONResponse({"error": "not_yet_checkpointed", "message": NOT_YET}, status_code=409)
        downloads.append(petition_id)  # the API records each download; the console adds no record of its own
        return JSONResponse(BUNDLE, headers={"Content-Disposition": f'attachment; filename="case-{petition_id}.json"'})

    return api


@pytest.fixture
def console(tmp_path):
    checkpointed, downloads = {"yes": True}, []
    app = FastAPI()
    app.state.gateway = SimpleNamespace(settings=SimpleNamespace(audit_public_keys_path=tmp_path,
                                                                 secure_cookies="false"))
    sessions = Officers("s" * 40)
    app.state.console = web.Console(sessions, REFERENCE, web._environment())
    app.include_router(officers.router)
    app.include_router(stand_in_api(checkpointed, downloads))
    client = TestClient(app)
    return SimpleNamespace(client=client, sessions=sessions, checkpointed=checkpointed, downloads=downloads)


def signed_in(console, role: str) -> TestClient:
    console.client.cookies.set(SESSION_COOKIE, role)
    return console.client


def test_the_bundle_is_downloaded_through_the_console_as_the_api_serves_it(console):
    answer = signed_in(console, "auditor").get(f"/console/audit/{PID}/bundle")
    assert answer.status_code == 200 and answer.json() == BUNDLE
    assert answer.headers["content-disposition"] == f'attachment; filename="case-{PID}.json"'
    assert console.downloads == [PID]


def test_a_bundle_not_yet_checkpointed_is_told_on_the_page_with_the_moment_kept(console):
    console.checkpointed["yes"] = False
    answer = signed_in(console, "auditor").get(f"/console/audit/{PID}/bundle", params={"as_of": AS_OF})
    assert answer.status_code == 409 and "text/html" in answer.headers["content-type"]
    assert NOT_YET in answer.text and "当时状态" in answer.text and "已出具处理意见" in answer.text
    assert console.downloads == []


def test_whether_an_officer_may_download_the_bundle_is_the_apis(console):
    answer = signed_in(console, "supervisor").get(f"/console/audit/{PID}/bundle")
    assert answer.status_code == 403 and "您的角色无权执行此操作" in answer.text
    assert "下载审计证据包" not in signed_in(console, "supervisor").get(f"/console/audit/{PID}").text


def test_verifying_keeps_the_state_as_of_the_moment_the_page_showed(console):
    client = signed_in(console, "auditor")
    shown = client.get(f"/console/audit/{PID}", params={"as_of": AS_OF}).text
    assert "当时状态" in shown and f'name="as_of" value="{AS_OF}"' in shown
    token, _ = console.sessions.csrf_token(SimpleNamespace(cookies={}), Principal("auditor", Role.AUDITOR, None,
                                                                                  token_id="jti-auditor"))
    answer = client.post(f"/console/audit/{PID}/verification", data={"csrf_token": token, "as_of": AS_OF})
    assert answer.status_code == 200
    assert 'id="verification-result"' in answer.text  # the verification's result (no keys here: not verified) ...
    assert "当时状态" in answer.text and "已出具处理意见" in answer.text  # ... and the state as of the moment, both
    assert f'value="{AS_OF}"' in answer.text


def test_a_case_files_step_reads_its_organs_by_name_and_its_words_by_its_action() -> None:
    """The officer's case page gives each step's record the context the auditor's history has (officers.py)."""
    from services.gateway.console import labels
    from services.gateway.console.reference import Reference

    context = labels.Recorded({"action": "object"}, Reference.load())
    assert labels.recorded_fields({"organ_code": "330106001-ZF"}, context=context) == [
        ("提出异议的机关", "示例县城关镇人民政府")]
