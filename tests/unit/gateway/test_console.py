"""The console's parts that need no platform (issue 16): the action forms derive from the steps' declaration, each
with the statute's hint and Chinese labels; the public form uses the issue's labels exactly; the CSRF tokens;
deadlines in plain words; and every template escapes what users wrote."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest

from services.gateway.console import forms, labels, petitionform, web
from services.gateway.console.reference import Reference
from services.gateway.console.sessions import CSRF_COOKIE, CsrfRefused, Sessions
from shared.language.contracts.lifecycle import STEPS

REFERENCE = Reference.load()
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def test_every_officer_step_is_a_form_with_the_statutes_hint_and_chinese_labels():
    steps = forms.officer_steps()
    assert {s.name for s in steps} == {s.name for s in STEPS.values() if s.endpoint and s.command}
    for step in steps:
        form = forms.step_form(step, REFERENCE)
        assert CHINESE.search(form.hint), f"{step.name}: no statute hint (forms.STATUTE_HINTS)"
        assert form.title == step.text and form.summary == step.endpoint.summary
        body = step.endpoint.body or step.command
        assert [f.name for f in form.fields] == list(body.model_fields)
        for field in form.fields:
            assert CHINESE.search(field.label), f"{step.name}.{field.name}: label {field.label!r}"
            for _value, text in field.options or []:
                assert CHINESE.search(text), f"{step.name}.{field.name}: option {text!r}"


def test_a_posted_form_is_the_request_body_the_api_validates():
    reply = forms.step_form(STEPS["reply"], REFERENCE)
    posted = {"outcome": "support", "opinion": "已疏通", "csrf_token": "x"}
    body = forms.form_values(SimpleNamespace(get=posted.get, getlist=lambda _name: []), reply.fields)
    assert STEPS["reply"].command.model_validate(body).opinion == "已疏通"

    transfer = forms.step_form(STEPS["transfer"], REFERENCE)
    picked = {"organ_code": "330106-RSJ", "basis": ""}
    lists = {"joining_organ_codes": ["330106-ZJJ", ""]}
    body = forms.form_values(SimpleNamespace(get=picked.get, getlist=lambda name: lists.get(name, [])),
                             transfer.fields)
    assert body == {"organ_code": "330106-RSJ", "joining_organ_codes": ["330106-ZJJ"]}  # empty optional: left out

    objection = forms.step_form(STEPS["decide_objection"], REFERENCE)
    upheld = {"upheld": "false", "reasons": "职责明确"}
    body = forms.form_values(SimpleNamespace(get=upheld.get, getlist=lambda _name: []), objection.fields)
    assert body["upheld"] is False


def test_the_public_form_uses_the_issues_labels_exactly():
    fields = petitionform.petitioner_fields() + petitionform.matter_fields(REFERENCE)
    assert [f.label for f in fields] == ["姓名", "身份证号码", "手机号码", "联系地址", "电子邮箱", "标题", "诉求", "事实和理由",
                                         "信访类别", "问题类别", "问题发生地", "涉及人数"]
    posted = {"petitioner.name": "王秀兰", "petitioner.email": "", "people_count": "3", "title": "标题"}
    body = petitionform.petition_body(posted, fields, "online")
    assert body["petitioner"] == {"name": "王秀兰", "id_number": "", "phone": "", "address": ""}
    assert body["people_count"] == 3 and body["channel"] == "online" and "topic" not in body


def test_the_counter_form_shows_what_the_registration_command_adds():
    names = {f.name for f in petitionform.counter_fields()}
    declared = set(petitionform.RegisterPetition.model_fields) - petitionform.LAID_OUT
    assert {n for n in declared if n in names} == {n for n in names if "." not in n}


def test_a_form_token_belongs_to_its_browser():
    sessions = Sessions("s" * 40)
    browser = SimpleNamespace(cookies={})
    token, fresh = sessions.csrf_token(browser, None)
    assert fresh and len(fresh) >= 32
    browser.cookies[CSRF_COOKIE] = fresh
    sessions.check(browser, {"csrf_token": token}, None)
    other = SimpleNamespace(cookies={CSRF_COOKIE: "another browser's cookie value, long enough"})
    for form in ({"csrf_token": token}, {}, {"csrf_token": ""}):
        with pytest.raises(CsrfRefused):
            sessions.check(other, form, None)
    officer = SimpleNamespace(token_id="jti-1")
    officer_token, none = sessions.csrf_token(SimpleNamespace(cookies={}), officer)
    assert none is None and officer_token != token
    sessions.check(SimpleNamespace(cookies={}), {"csrf_token": officer_token}, officer)
    with pytest.raises(CsrfRefused):
        sessions.check(SimpleNamespace(cookies={}), {"csrf_token": officer_token}, SimpleNamespace(token_id="jti-2"))


def test_deadlines_in_plain_words():
    today = web.today()
    assert web.deadline_words({"due": (today + timedelta(days=5)).isoformat()}).endswith("前（还有5天）")
    assert web.deadline_words({"due": today.isoformat()}).endswith("（今天到期）")
    assert web.deadline_words({"due": (today - timedelta(days=3)).isoformat()}).startswith("已超过期限3天")
    assert web.deadline_words({"due": today.isoformat(), "status": "met"}) == "已按期完成"
    assert "暂定" in web.deadline_words({"due": today.isoformat(), "provisional": True})


def test_templates_escape_what_users_wrote():
    env = web._environment()
    assert env.autoescape is True
    page = env.get_template("macros.html").module.timeline([{"at": "2026-12-04T10:00:00+08:00",
                                                            "text": "<script>alert(1)</script>"}])
    assert "<script>" not in str(page) and "&lt;script&gt;" in str(page)


def test_recorded_values_in_words():
    assert labels.said("category", "appeal") == "申诉求决类"
    assert labels.said("opened", [{"label": "办理期限", "due": "2027-02-02"}]) == "办理期限（至2027-02-02）"
    assert labels.said("organ", {"code": "330106-RSJ", "name": "示例县人力资源和社会保障局"}) == "示例县人力资源和社会保障局"


@pytest.mark.parametrize(("emailed", "said"), [(True, True), (False, False)])
def test_the_receipt_page_promises_an_e_mail_only_to_who_gave_an_address(emailed, said):
    page = web._environment().get_template("petition_done.html").render(
        request=None, officer=None, csrf_token="t", reference=REFERENCE, emailed=emailed,
        receipt={"query_code": "WMFS-1284-GT3M-1752"})
    assert "WMFS-1284-GT3M-1752" in page
    assert ("登记回执也会发送到您填写的电子邮箱" in page) is said
