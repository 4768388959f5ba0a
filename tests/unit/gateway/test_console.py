"""The console's parts that need no platform (issue 16): the action forms derive from the steps' declaration, each
with the statute's hint and Chinese labels; the public form uses the issue's labels exactly; the petition form's
parties and lists (agent, representatives, joint signers, the anonymous report, attachments) are the registration
command's body; the CSRF tokens; deadlines in plain words; and every template escapes what users wrote."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from services.gateway.console import forms, labels, officers, petitionform, submission, web
from services.gateway.console.reference import Reference
from services.gateway.console.sessions import CSRF_COOKIE, CsrfRefused, Sessions
from services.gateway.service import create_app
from services.gateway.settings import GatewaySettings
from shared.language.contracts.errors import FIELD_LABELS, validation_problem
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
    assert body["petitioner"] == {"name": "王秀兰"}  # what was left empty is not sent: the API asks for it
    assert body["people_count"] == 3 and body["channel"] == "online" and "topic" not in body
    # The API names these fields by the same words (its 422s: "请填写联系地址", "诉求不能超过2000个字").
    assert {f.name: FIELD_LABELS[f.name] for f in fields} == {f.name: f.label for f in fields}


def refusal(layout: petitionform.PetitionForm, posted: Posted, channel: str = "online") -> dict[str, str]:
    """What the form shows beside each field for `posted`: the API's 422 for the body the form sends (the same
    model and messages as POST /api/v1/petitions)."""
    with pytest.raises(ValidationError) as refused:
        RegisterPetition.model_validate(layout.body(posted, channel))
    return layout.errors(validation_problem(refused.value.errors(), RegisterPetition), layout.values(posted))


def test_a_field_left_empty_is_not_sent_so_the_api_asks_for_it_by_the_forms_label():
    empty = Posted({f.name: "" for f in LAYOUT.fields})
    assert LAYOUT.body(empty, "online") == {"channel": "online", "petitioner": {}}
    errors = refusal(LAYOUT, empty)
    assert errors["category"] == "请填写信访类别" and errors["place_code"] == "请填写问题发生地"
    assert errors["petitioner.phone"] == "请填写手机号码"  # online there is no fixed line to offer instead
    asked = {f.name for f in LAYOUT.petitioner + LAYOUT.matter if f.required and f.default == ""}
    assert asked <= set(errors)
    for field in LAYOUT.petitioner + LAYOUT.matter:
        if field.name in errors:
            assert errors[field.name] == f"请填写{field.label}", field.name
    for message in errors.values():  # no machine codes, no format complaint about nothing
        assert not re.search(r"[a-z]{3}", message) and "格式不正确" not in message and "取值无效" not in message
    # At the counter, where a petitioner without a mobile gives a fixed line, the API's words say so.
    counter = petitionform.petition_form(REFERENCE, online=False, counter=petitionform.counter_fields())
    posted = Posted({**PETITIONER, **MATTER, "petitioner.phone": "", "category": ""})
    errors = refusal(counter, posted, "visit")
    assert errors["petitioner.phone"].startswith("请填写手机号码；没有手机的，请填写固定电话")
    assert errors["category"] == "请填写信访类别"


def test_every_officer_form_field_is_named_as_the_apis_error_names_it():
    """A choice left at 请选择 or a text left empty is not sent, and the API asks for it by the form's own label:
    "请填写有权处理机关" beside 有权处理机关, never the machine codes of the choices."""
    for step in forms.officer_steps():
        form = forms.step_form(step, REFERENCE)
        empty = {f.name: "" for f in form.fields}
        body = forms.form_values(SimpleNamespace(get=empty.get, getlist=lambda _name: []), form.fields)
        assert all(value == [] for value in body.values()), (step.name, body)
        model = step.endpoint.body or step.command
        try:
            model.model_validate(body)
            continue
        except ValidationError as refused:
            errors = {e["field"]: e["message"] for e in validation_problem(refused.errors(), model)["errors"]}
        for field in form.fields:
            if field.name in errors:
                assert errors[field.name] == f"请填写{field.label}", (step.name, field.name, errors[field.name])
    transfer = forms.step_form(STEPS["transfer"], REFERENCE)
    assert transfer.fields[0].label == "有权处理机关" and transfer.fields[0].options


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
    assert web.deadline_words({"due": today.isoformat(), "status": "late", "late_days": 5}) == "逾期完成（逾期5天）"
    assert "暂定" in web.deadline_words({"due": today.isoformat(), "provisional": True})


def test_templates_escape_what_users_wrote():
    env = web._environment()
    assert env.autoescape is True
    page = env.get_template("macros.html").module.timeline([{"at": "2026-12-04T10:00:00+08:00",
                                                            "text": "<script>alert(1)</script>"}])
    assert "<script>" not in str(page) and "&lt;script&gt;" in str(page)


def test_recorded_values_in_words():
    assert labels.said("category", "appeal") == "申诉求决类"
    assert labels.said("opened", [{"label": "办理期限", "due": "2027-02-02"}]) == "办理期限（至2027年2月2日）"
    assert labels.said("organ", {"code": "330106-RSJ", "name": "示例县人力资源和社会保障局"}) == "示例县人力资源和社会保障局"
    assert labels.said("received_on", "2026-12-05") == "2026年12月5日"
    assert labels.said("rule_id", "chengguan-local") == "分流规则“chengguan-local”"
    assert labels.actor_words({"role": "system", "user": "routing-rules"}) == "系统：分流规则"
    assert labels.actor_words({"role": "clerk", "user": "clerk", "organ": "330106-XFJ"}) == "登记人员 clerk"
    assert REFERENCE.place_name("330106") == "示例县" and REFERENCE.place_name("330106001") == "城关镇"


def test_the_case_file_names_the_rules_and_dates_in_words_not_codes():
    record = {"id": "1c637d78-3d97-5488-91e5-aabe96b0557f", "title": "小区污水外溢", "status_text": "待受理",
              "channel": "online", "category": "appeal", "place_code": "330106", "people_count": 1,
              "registered_at": "2026-12-05T09:00:00+08:00", "deadlines": [], "timeline": [], "notices": []}
    said = {"disposition": "transfer", "rule_id": "chengguan-local", "received_on": "2026-12-05",
            "opened": [{"label": "受理告知期限", "due": "2026-12-21"}]}
    case_file = [{"at": "2026-12-05T09:00:01+08:00", "text": "按规则转送", "basis": "属地管理",
                  "actor": {"role": "system", "user": "routing-rules"}, "words": officers.said(said)}]
    page = web._environment().get_template("case.html").render(
        request=None, officer=None, csrf_token="t", reference=REFERENCE, record=record, case=None, actions=[],
        case_file=case_file, errors={}, values={})
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert "（系统：分流规则）" in text and "routing-rules" not in text
    assert "适用规则 分流规则“chengguan-local”" in text and "收到日期 2026年12月5日" in text
    assert "2026年12月21日" in text and not re.search(r"\d{4}-\d{2}-\d{2}", text.replace(record["id"], ""))
    assert "问题发生地 示例县 " in text


def test_a_matter_from_the_province_shows_its_reference_number_and_the_day_to_report_by():
    record = {"id": "1c637d78-3d97-5488-91e5-aabe96b0557f", "title": "小区污水外溢", "status_text": "待受理",
              "channel": "provincial_transfer", "category": "appeal", "place_code": "330106", "people_count": 1,
              "registered_at": "2026-12-05T09:00:00+08:00", "deadlines": [], "timeline": [], "notices": [],
              "provincial": {"reference": "浙信交〔2026〕12号", "mode": "assign", "sent_on": "2026-12-04",
                             "report_by": "2026-12-25"}}
    page = web._environment().get_template("case.html").render(
        request=None, officer=None, csrf_token="t", reference=REFERENCE, record=record, case=None, actions=[],
        case_file=[], errors={}, values={})
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert "信访渠道 上级转送" in text
    assert "上级来文 交办，浙信交〔2026〕12号（2026年12月4日发出）" in text
    assert "上级要求报告期限 2026年12月25日" in text


def test_the_overview_says_its_day_as_people_read_it():
    summary = {"open": 3, "overdue": 1, "due_soon": 1, "today": "2026-12-05", "by_organ": [], "by_status": [],
               "overdue_rows": [], "due_soon_rows": []}
    page = web._environment().get_template("overview.html").render(
        request=None, officer=None, csrf_token="t", reference=REFERENCE, summary=summary, soon_days=5)
    assert "（截至2026年12月5日）" in page and "2026-12-05" not in page


def test_every_console_form_leaves_checking_to_the_server_which_answers_in_chinese():
    """The browser's own bubbles (in the browser's language) never stand in for the page's Chinese messages."""
    templates = Path(web.HERE / "templates")
    for template in templates.glob("*.html"):
        for form in re.findall(r"<form\b[^>]*>", template.read_text("utf-8")):
            assert "novalidate" in form, (template.name, form)


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


# --- the gateway's answers to a browser (the whole application; nothing here reaches a service or a database) -------
@pytest.fixture(scope="module")
def browser() -> TestClient:
    app = create_app(GatewaySettings(
        XINFANG_ENV="test", GATEWAY_JWT_SECRET="c" * 40, INTAKE_URLS="http://127.0.0.1:9",
        MONGODB_URI="mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=200", AMQP_URI="amqp://guest:guest@127.0.0.1:9/"))
    return TestClient(app, raise_server_exceptions=False)


HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.mark.parametrize(("path", "home"), [("/no/such/page", "/"), ("/petition/old", "/"),
                                            ("/console/no-such-page", "/console/")])
def test_an_unknown_address_is_a_page_in_chinese_for_a_browser(browser, path, home):
    answer = browser.get(path, headers=HTML)
    assert answer.status_code == 404 and answer.headers["content-type"].startswith("text/html")
    assert "页面不存在" in answer.text and f'<a href="{home}">返回首页</a>' in answer.text
    assert answer.headers["content-security-policy"].startswith("default-src 'none'; script-src 'self'; style-src 'self'")
    assert answer.headers["x-frame-options"] == "DENY" and answer.headers["cache-control"] == "no-store"
    assert answer.headers["x-content-type-options"] == "nosniff" and answer.headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize(("path", "headers"), [("/api/v1/no-such-thing", HTML), ("/no/such/page", {}),
                                               ("/no/such/page", {"Accept": "application/json"})])
def test_the_api_and_clients_not_asking_for_html_keep_the_json_problem(browser, path, headers):
    answer = browser.get(path, headers=headers)
    assert answer.status_code == 404
    assert answer.json() == {"error": "not_found", "message": "未找到请求的资源"}
    assert answer.headers["content-security-policy"].startswith("default-src 'none'; frame-ancestors")


def test_a_query_code_not_accepted_stays_in_the_input_to_correct(browser):
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/status").text).group(1)
    answer = browser.post("/status", data={"csrf_token": token, "query_code": "ABCD-EFGH-<b>"})
    assert answer.status_code == 422 and "查询码格式不正确" in answer.text
    assert 'value="ABCD-EFGH-&lt;b&gt;"' in answer.text and 'aria-invalid="true"' in answer.text
