"""The console's parts that need no platform (issue 16): the action forms derive from the steps' declaration, each
with the statute's hint and Chinese labels; the public form uses the issue's labels exactly; the petition form's
parties and lists (agent, representatives, joint signers, the anonymous report, attachments) are the registration
command's body; the CSRF tokens; deadlines in plain words; and every template escapes what users wrote."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest

from services.gateway.console import forms, labels, petitionform, submission, web
from services.gateway.console.reference import Reference
from services.gateway.console.sessions import CSRF_COOKIE, CsrfRefused, Sessions
from shared.language.contracts.lifecycle import STEPS
from shared.language.contracts.registration import MAX_REPRESENTATIVES, RegisterPetition

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


class Posted(dict):
    """A posted form as Starlette gives it: one value per name, and `getlist` for names given several times."""

    def __init__(self, values: dict, lists: dict | None = None) -> None:
        super().__init__(values)
        self.lists = lists or {}

    def getlist(self, name: str) -> list:
        return self.lists.get(name, [])


PETITIONER = {"petitioner.name": "王秀兰", "petitioner.id_number": "11010519491231002X",
              "petitioner.phone": "13800138000", "petitioner.address": "示例县城关镇人民路1号"}
MATTER = {"title": "小区污水外溢", "request": "请求疏通", "facts_and_reasons": "多次外溢", "category": "appeal",
          "place_code": "330106001", "people_count": "1"}
LAYOUT = petitionform.petition_form(REFERENCE, online=True)


def test_the_petition_forms_further_parts_are_the_commands_fields_with_chinese_labels_of_their_own():
    counter = petitionform.petition_form(REFERENCE, online=False, counter=petitionform.counter_fields())
    for layout in (LAYOUT, counter):
        names = [f.name for f in layout.fields]
        assert len(names) == len(set(names))
        found = [f.label for f in layout.fields]
        assert len(found) == len(set(found)), "every label names one input (the browser tests find them by it)"
        assert all(CHINESE.search(label) for label in found)
    assert len(LAYOUT.representatives) == MAX_REPRESENTATIVES and len(LAYOUT.joint_signers) == 5
    assert [f.label for f in LAYOUT.representatives[1]] == ["第2个代表姓名", "第2个代表身份证号码", "第2个代表手机号码"]
    assert [f.label for f in LAYOUT.agent] == ["代理人姓名", "代理人身份证号码", "代理人手机号码", "代理人与信访人关系"]
    assert LAYOUT.anonymous.label == "匿名检举控告" and LAYOUT.anonymous.widget == "checkbox"
    assert [f.name for f in LAYOUT.accused] == ["accused.name", "accused.organisation", "accused.position"]
    assert LAYOUT.accused[0].max_length == 100 and LAYOUT.agent[0].max_length == 50


def test_representatives_rows_are_the_commands_list_in_order_and_shown_again_as_sent():
    posted = Posted({**PETITIONER, **MATTER, "people_count": "6",
                     "representatives.1.name": "张建国", "representatives.1.phone": "13900139000",
                     "representatives.3.name": "刘芳", "representatives.3.id_number": "11010519491231002X",
                     "representatives.4.name": "  ", "joint_signers.0.name": ""})
    body = LAYOUT.body(posted, "visit")
    assert body["representatives"] == [{"name": "张建国", "phone": "13900139000"},
                                       {"name": "刘芳", "id_number": "11010519491231002X"}]
    assert "joint_signers" not in body and "anonymous" not in body and "accused" not in body
    command = RegisterPetition.model_validate(body)
    assert [p.name for p in command.representatives] == ["张建国", "刘芳"] and "group" in command.flags
    # Shown again as sent (rows moved up), so that the API's 第2个代表 is the second row on the page.
    values = LAYOUT.values(posted)
    assert (values["representatives.0.name"], values["representatives.1.name"]) == ("张建国", "刘芳")
    assert values["representatives.3.name"] == "" and values["representatives.4.name"] == ""
    assert LAYOUT.opened(values, {}) == {"representatives"}


def test_joint_signers_and_the_agent_go_where_the_command_takes_them():
    posted = Posted({**PETITIONER, **MATTER, "joint_signers.0.name": "赵一", "joint_signers.2.name": "钱二",
                     "joint_signers.2.phone": "13700137000", "petitioner.agent.name": "李明",
                     "petitioner.agent.phone": "13600136000", "petitioner.agent.relation": "儿子",
                     "petitioner.agent.id_number": ""})
    body = LAYOUT.body(posted, "letter")
    assert body["joint_signers"] == [{"name": "赵一"}, {"name": "钱二", "phone": "13700137000"}]
    assert body["petitioner"]["agent"] == {"name": "李明", "phone": "13600136000", "relation": "儿子"}
    command = RegisterPetition.model_validate(body)
    assert command.petitioner.agent.relation == "儿子" and "joint_signature" in command.flags
    assert "agent" not in LAYOUT.body(Posted({**PETITIONER, **MATTER}), "online")["petitioner"]
    assert LAYOUT.opened(LAYOUT.values(posted), {}) == {"agent", "joint_signers"}


def test_an_anonymous_report_is_sent_without_its_petitioner_whatever_was_typed_there():
    posted = Posted({**PETITIONER, **MATTER, "category": "report", "anonymous": "true",
                     "accused.name": "某某收费站", "accused.position": "收费员", "accused.organisation": ""})
    body = LAYOUT.body(posted, "online")
    assert body["anonymous"] is True and "petitioner" not in body
    assert body["accused"] == {"name": "某某收费站", "position": "收费员"}
    assert RegisterPetition.model_validate(body).anonymous
    assert LAYOUT.values(posted)["anonymous"] == "true"  # the box stays ticked when the form comes back
    assert not any(f.required for f in LAYOUT.shown(LAYOUT.values(posted)).petitioner)  # 必填 no longer
    assert LAYOUT.shown({}).petitioner == LAYOUT.petitioner
    assert "anonymous" not in LAYOUT.body(Posted({**posted, "anonymous": ""}), "online")
    # A report not anonymous keeps its petitioner and may name the accused; the report's part opens for it.
    named = LAYOUT.body(Posted({**posted, "anonymous": ""}), "online")
    assert named["petitioner"]["name"] == "王秀兰" and named["accused"]["name"] == "某某收费站"
    assert "report" in LAYOUT.opened({"category": "report"}, {})


def test_uploaded_attachments_are_kept_as_the_upload_answered_and_their_refusals_shown_beside_the_files():
    entry = {"file_name": "现场照片.png", "size": 67, "sha256": "ab" * 32, "content_type": "image/png",
             "upload_token": "q3JZ"}
    posted = Posted({**PETITIONER, **MATTER}, {"attachments": [web._json(entry), "not json", "[1]"]})
    kept = petitionform.kept_attachments(posted)
    assert kept == [entry]
    assert LAYOUT.body(posted, "online", kept)["attachments"] == [entry]
    problem = {"errors": [{"field": "attachments.0.upload_token", "message": "第1个附件的上传凭证与文件不符"},
                          {"field": "attachments.1.sha256", "message": "第2个附件的文件不在附件存储中"},
                          {"field": "representatives.0.phone", "message": "第1个代表手机号码格式不正确"}]}
    errors = petitionform.field_errors(problem)
    assert errors["attachments"] == "第1个附件的上传凭证与文件不符；第2个附件的文件不在附件存储中"
    assert errors["representatives.0.phone"].startswith("第1个代表")


def test_the_petition_form_escapes_what_was_typed_and_uploaded():
    hostile = "<script>alert(1)</script>"
    outcome = submission.Outcome(
        key="k", values={"representatives.0.name": hostile, "accused.name": f'"><b>{hostile}'},
        errors={"representatives": hostile, "attachments": f"“{hostile}.exe”未能上传"},
        attachments=[{"file_name": f"{hostile}'\".png", "size": 2048, "sha256": "a" * 64}])
    request = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(gateway=SimpleNamespace(
        settings=SimpleNamespace(attachment_max_bytes=10 * 1024 * 1024)))))
    page = web._environment().get_template("petition_form.html").render(
        request=None, officer=None, csrf_token="t", reference=REFERENCE,
        **submission.context(request, LAYOUT, outcome))
    assert "<script>" not in page and "<b>" not in page and "&lt;script&gt;" in page
    assert 'enctype="multipart/form-data"' in page and 'type="file" multiple' in page
    assert '<details class="section" id="f-representatives" open>' in page  # opened: it holds an error
    assert "（2KB）" in page and "单个" not in page and "每个文件不超过10MB，最多20个" in page


@pytest.mark.parametrize(("size", "words"), [(820, "820字节"), (2048, "2KB"), (12_800, "12.5KB"),
                                             (10 * 1024 * 1024, "10MB"), (3_400_000, "3.2MB")])
def test_file_sizes_in_words(size, words):
    assert web.file_size(size) == words
