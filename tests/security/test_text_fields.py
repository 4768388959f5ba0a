"""Issue 14 §1: every text field of every request refuses control characters (line breaks only in free text),
bidi overrides and isolates, and values made only of invisible characters, with a 422 naming the field in
Chinese; text is stored NFC-normalised. Checked at the real gateway (in-process; intake is down, so input that
passed validation would come back 503) and on the shared contracts both the gateway and the services use."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from services.gateway.security import Role
from services.gateway.service import create_app
from services.gateway.settings import GatewaySettings
from services.gateway.users import add_user
from shared.language.contracts import lifecycle
from shared.language.contracts.errors import validation_problem
from shared.language.contracts.registration import RegisterPetition
from tests.support import samples
from tests.support.servers import free_port

SECRET = "x" * 40
PASSWORD = "a long enough password"
PETITION_ID = "00000000-0000-0000-0000-000000000001"

HOSTILE_TITLES = [
    pytest.param("发票\u202egpj.exe", "bidi_control", "标题包含不允许的文字方向控制字符（U+202E），请删除后重新填写",
                 id="right-to-left override"),
    pytest.param("小区\u2066污水\u2069外溢", "bidi_control", "标题包含不允许的文字方向控制字符（U+2066），请删除后重新填写",
                 id="bidi isolate"),
    pytest.param("\u200b\u200d\u2060", "invisible_only", "标题不能只包含空白或者不可见字符", id="zero-width only"),
    pytest.param("小区污水\x9b外溢", "control_character", "标题包含不允许的控制字符（U+009B），请删除后重新填写",
                 id="C1 control"),
    pytest.param("小区污水\x1b[2J外溢", "control_character", "标题包含不允许的控制字符（U+001B），请删除后重新填写",
                 id="terminal escape"),
    pytest.param("小区污水\r\n外溢", "line_break", "标题不能包含换行符，请在一行内填写", id="line break"),
]


@pytest.fixture
def gateway(tmp_path, read_models) -> TestClient:
    users = tmp_path / "users.json"
    add_user(users, "clerk", Role.CLERK, "330106-XFJ", "登记员", PASSWORD)
    settings = GatewaySettings(
        XINFANG_ENV="test", GATEWAY_JWT_SECRET=SECRET, MONGODB_URI=read_models, GATEWAY_USERS_FILE=str(users),
        INTAKE_URLS=f"http://127.0.0.1:{free_port()}", AMQP_URI="amqp://guest:guest@127.0.0.1:5672/")
    return TestClient(create_app(settings), raise_server_exceptions=False)


def only_error(response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    return error


@pytest.mark.parametrize(("title", "code", "message"), HOSTILE_TITLES)
def test_a_hostile_title_is_refused_at_the_gateway_naming_the_field(gateway, title, code, message):
    error = only_error(gateway.post("/api/v1/petitions", json=samples.petition(title=title)))

    assert error == {"field": "title", "label": "标题", "code": code, "message": message}


@pytest.mark.parametrize(("field", "label"), [("address", "联系地址"), ("name", "姓名")])
def test_invisible_only_personal_fields_are_refused(gateway, field, label):
    error = only_error(gateway.post("/api/v1/petitions", json=samples.petition(**{field: "\ufeff\u200b \u3000"})))

    assert (error["label"], error["code"]) == (label, "invisible_only")


def test_free_text_may_span_lines_but_not_hold_bidi_controls(gateway):
    facts = "自今年三月起，小区北门污水井多次外溢。\r\n多次向物业反映未果。\u202e"

    error = only_error(gateway.post("/api/v1/petitions", json=samples.petition(facts_and_reasons=facts)))

    assert (error["field"], error["label"], error["code"]) == ("facts_and_reasons", "事实和理由", "bidi_control")


def test_a_petitioners_lifecycle_text_is_checked_too(gateway):
    error = only_error(gateway.post("/api/v1/status/ZZZZ-ZZZZ-ZZZZ-ZZZZ/review-request",
                                    json={"reasons": "\u200b\u2060", "id_number_tail": "123456"}))

    assert (error["field"], error["label"], error["code"]) == ("reasons", "请求复查或者复核的理由", "invisible_only")


@pytest.mark.parametrize(("path", "body", "field", "label", "code"), [
    ("report-up", {"reasons": "重大紧急\u202e事项"}, "reasons", "报请理由", "bidi_control"),
    ("extension", {"days": 10, "reasons": "需要补充调查", "approved_by": "张三\r\nBcc: x@example.cn"},
     "approved_by", "批准人", "line_break"),
    ("transfer", {"organ_code": "330106-RSJ\x00"}, "organ_code", "有权处理机关", "control_character"),
    ("reply", {"outcome": "support", "opinion": "\u200b"}, "opinion", "处理意见", "invisible_only"),
])
def test_an_officers_lifecycle_text_is_checked_too(gateway, path, body, field, label, code):
    token = gateway.post("/api/v1/auth/token", data={"username": "clerk", "password": PASSWORD}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}

    error = only_error(gateway.post(f"/api/v1/petitions/{PETITION_ID}/{path}", json=body, headers=headers))

    assert (error["field"], error["label"], error["code"]) == (field, label, code)


# ---------------------------------------------------------------------------------------------------------------
# What is stored: NFC, line breaks as LF
# ---------------------------------------------------------------------------------------------------------------


def test_a_decomposed_e_acute_in_the_title_is_stored_composed():
    petition = RegisterPetition.model_validate(samples.petition(title="Cafe\u0301门前污水", name="王秀兰"))

    assert petition.title == "Caf\u00e9门前污水"
    assert len(petition.title) == 8  # one character for é, not two


def test_names_and_free_text_are_normalised_and_free_text_line_endings_are_lf():
    petition = RegisterPetition.model_validate(samples.petition(
        name="Zoe\u0308 王", facts_and_reasons="第一段\r\n第二段\u2028第三段 e\u0301"))

    assert petition.petitioner is not None and petition.petitioner.name == "Zo\u00eb 王"
    assert petition.facts_and_reasons == "第一段\n第二段\n第三段 \u00e9"


def test_lifecycle_free_text_keeps_its_lines_and_is_normalised():
    reply = lifecycle.Reply(outcome="support", opinion="经调查核实：\r\n一、情况属实。\r\n二、Cafe\u0301已整改。")

    assert reply.opinion == "经调查核实：\n一、情况属实。\n二、Caf\u00e9已整改。"


@pytest.mark.parametrize(("model", "payload", "field"), [
    (lifecycle.Withdraw, {"reasons": "撤回\x07"}, "reasons"),
    (lifecycle.Decline, {"reason_code": "repeat\u202e", "explanation": ""}, "reason_code"),
    (lifecycle.Evaluation, {"rating": "satisfied", "comment": "\u200b"}, "comment"),
])
def test_supervision_refuses_the_same_text_when_it_validates_a_command_again(model, payload, field):
    with pytest.raises(ValidationError) as refused:
        model.model_validate(payload)

    [error] = validation_problem(refused.value.errors())["errors"]
    assert error["field"] == field
