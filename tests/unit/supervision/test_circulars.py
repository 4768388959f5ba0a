"""A circular's rules (services/supervision/circulars.py), on supervision's application over a SQLite store in a
temporary folder: who may issue one, what it must say (each refusal naming the field in Chinese), the organs in the
directory and the cases on the platform, the day after today, its number, and once per Idempotency-Key; what it
publishes (shared/language/integration/schemas/circular.issued.v1.json) carries no free text."""

from __future__ import annotations

import itertools
import json
import re
import uuid
from datetime import date
from typing import Any

import pytest

from services.supervision import translate
from services.supervision.bootstrap import build_application
from services.supervision.circulars import Circular, circular_id, issue_circular, particulars
from services.supervision.lifecycle import CaseError
from services.supervision.settings import SupervisionSettings
from shared.language.contracts.actor import Actor
from shared.language.contracts.circulars import circular_number
from shared.language.integration.envelope import InvalidIntegrationEvent
from tests.support import samples
from tests.support.clock import MovableClock

SUPERVISOR = {"role": "supervisor", "user": "ducha", "organ": "330106-XFJ"}
TOWN, LABOUR = "330106001-ZF", "330106-RSJ"
SEQUENCE = itertools.count(1)


@pytest.fixture
def app(tmp_path: Any) -> Any:
    clock = MovableClock()
    clock.set("2026-12-04")
    settings = SupervisionSettings(XINFANG_ENV="test", EVENT_STORE="sqlite", DATA_DIR=str(tmp_path))
    application = build_application(settings, clock=clock)
    yield application
    application.close()


def case(app: Any) -> str:
    registered = samples.registered_event(next(SEQUENCE))
    app.open_case(registered, samples.particulars(registered))
    return registered.subject


def payload(**changed: Any) -> dict[str, Any]:
    return {"title": "关于11月份重复信访问题的通报", "kind": "typical_problem",
            "problems": "一是答复意见未载明复查权利。\n二是办结报告超期报送。", "demands": "对照检查，逐件整改。",
            "report_due": "2026-12-31", "organ_codes": [TOWN, LABOUR], "petition_ids": [], **changed}


def refusal(app: Any, body: dict[str, Any], actor: dict[str, Any] = SUPERVISOR, **kw: Any) -> CaseError:
    with pytest.raises(CaseError) as refused:
        issue_circular(app, body, actor, **kw)
    return refused.value


def test_a_circular_is_issued_with_its_number_organs_and_cases(app):
    cited = [case(app), case(app)]
    issued, created = issue_circular(app, payload(petition_ids=cited, organ_codes=[TOWN, LABOUR, TOWN]), SUPERVISOR)

    assert created
    assert issued["number"] == f"督通〔2026〕{uuid.UUID(issued['id']).hex[:6]}号"
    assert re.fullmatch(r"督通〔2026〕[0-9a-f]{6}号", issued["number"])
    assert issued["organs"] == [{"code": TOWN, "name": "示例县城关镇人民政府"},
                                {"code": LABOUR, "name": "示例县人力资源和社会保障局"}]  # each organ once
    assert issued["petitions"] == cited and issued["kind_text"] == "典型问题通报"
    assert (issued["issued_on"], issued["report_due"]) == ("2026-12-04", "2026-12-31")
    assert issued["issued_by"] == SUPERVISOR
    stored = app.repository.get(uuid.UUID(issued["id"]))
    assert isinstance(stored, Circular) and stored.problems == payload()["problems"]
    assert particulars(app, issued["id"])["demands"] == "对照检查，逐件整改。"
    assert particulars(app, cited[0]) is None and particulars(app, "nope") is None


def test_the_number_comes_from_the_day_and_the_id_not_a_counter():
    day, first = date(2027, 1, 3), uuid.UUID("3f9a1c00-0000-4000-8000-000000000000")
    assert circular_number(day, first) == "督通〔2027〕3f9a1c号"
    assert circular_number(day, str(first)) == circular_number(day, first)


def test_an_idempotency_key_names_one_circular_per_issuer():
    supervisor, admin = Actor.model_validate(SUPERVISOR), Actor(role="admin", user="root")
    assert circular_id(supervisor, "k-1") == circular_id(supervisor, "k-1")
    assert circular_id(supervisor, "k-1") != circular_id(admin, "k-1") != circular_id(supervisor, "k-2")
    assert circular_id(supervisor, None) != circular_id(supervisor, None)  # uuid4 without a key


def test_a_retried_request_issues_once_and_a_reused_key_is_refused(app):
    first, created = issue_circular(app, payload(), SUPERVISOR, idempotency_key="retry-1")
    again, created_again = issue_circular(app, payload(), SUPERVISOR, idempotency_key="retry-1")

    assert (created, created_again) == (True, False) and again == first
    assert app.recorder.select_events(uuid.UUID(first["id"]), limit=10)[0].originator_version == 1
    assert len(app.recorder.select_events(uuid.UUID(first["id"]), limit=10)) == 1
    reused = refusal(app, payload(title="另一份通报"), idempotency_key="retry-1")
    assert (reused.http_status, reused.code) == (409, "idempotency_key_reused")
    other, created = issue_circular(app, payload(), SUPERVISOR)  # no key: a new circular each time
    assert created and other["id"] != first["id"]


@pytest.mark.parametrize("actor", [{"role": "clerk", "user": "c", "organ": "330106-XFJ"},
                                   {"role": "organ_officer", "user": "o", "organ": TOWN},
                                   {"role": "auditor", "user": "a", "organ": "330106-XFJ"}])
def test_only_a_supervisor_or_admin_issues_one(app, actor):
    refused = refusal(app, payload(), actor)
    assert (refused.http_status, refused.code) == (403, "not_permitted")
    issue_circular(app, payload(), {"role": "admin", "user": "root", "organ": None})


@pytest.mark.parametrize(("changed", "field", "label", "said"), [
    ({"title": "通" * 101}, "title", "通报标题", "通报标题不能超过100个字"),
    ({"title": "一\n二"}, "title", "通报标题", "不能包含换行符"),
    ({"problems": " "}, "problems", "典型问题", "典型问题不能为空"),
    ({"demands": None}, "demands", "整改要求", "整改要求应为文字"),
    ({"kind": "praise"}, "kind", "通报类型", "typical_problem（典型问题通报）、criticism（通报批评）"),
    ({"organ_codes": []}, "organ_codes", "通报对象机关", "通报对象机关不能为空"),
    ({"organ_codes": [f"330106-X{i}" for i in range(51)]}, "organ_codes", "通报对象机关", "不能超过50项"),
    ({"petition_ids": ["nope"]}, "petition_ids.0", "第1个所涉信访事项", "应为信访事项编号"),
    ({"report_due": "2026-12-04"}, "report_due", "整改情况报告期限", "应晚于今天（2026-12-04）"),
    ({"report_due": "2026-11-30"}, "report_due", "整改情况报告期限", "应晚于今天"),
    ({"organ_codes": [TOWN, "330106-NOPE"]}, "organ_codes.1", "第2个通报对象机关", "机关代码“330106-NOPE”不在本县机关名录中"),
])
def test_a_bad_circular_is_a_422_naming_the_field_in_chinese(app, changed, field, label, said):
    refused = refusal(app, payload(**changed))
    problem = refused.as_problem()

    assert (refused.http_status, problem["error"]) == (422, "validation_failed")
    [error] = problem["errors"]
    assert (error["field"], error["label"]) == (field, label) and said in error["message"], error


def test_the_cases_cited_must_be_cases_of_this_store(app):
    known = case(app)
    warning_or_circular, _ = issue_circular(app, payload(), SUPERVISOR)  # an id of this store, not a case's
    unknown = str(uuid.uuid4())
    refused = refusal(app, payload(petition_ids=[known, unknown, warning_or_circular["id"]]))

    assert [(e["field"], e["code"]) for e in refused.as_problem()["errors"]] == [
        ("petition_ids.1", "unknown_petition"), ("petition_ids.2", "unknown_petition")]
    assert unknown in refused.as_problem()["errors"][0]["message"]


def test_the_published_circular_carries_codes_dates_and_ids_only(app):
    cited = case(app)
    issued, _ = issue_circular(app, payload(petition_ids=[cited]), SUPERVISOR, correlation_id="corr-1")
    [stored] = app.recorder.select_events(uuid.UUID(issued["id"]), limit=1)
    published = translate.to_integration_event(app.mapper.to_domain_event(stored), 9, "urn:xinfang:330106:supervision")

    published.validate()
    assert published.type == "cn.xinfang.case.circular_issued.v1" and published.subject == issued["id"]
    assert published.data == {"circular_id": issued["id"], "number": issued["number"], "kind": "typical_problem",
                               "issued_at": issued["issued_at"], "issued_on": "2026-12-04",
                               "report_due": "2026-12-31", "organs": [TOWN, LABOUR], "petitions": [cited]}
    assert published.correlation_id == "corr-1"
    text = json.dumps(published.data, ensure_ascii=False)
    for private in ("重复信访问题", "复查权利", "逐件整改", "王秀兰", "小区污水外溢"):
        assert private not in text
    assert Circular.Issued in translate.TRANSLATED


@pytest.mark.parametrize("bad", [{"title": "关于重复信访问题的通报"}, {"organs": []}, {"number": "第3号"},
                                 {"kind": "praise"}, {"petitions": ["王秀兰"]}, {"organs": ["城关镇"]}])
def test_a_published_circular_with_anything_else_is_refused(app, bad):
    issued, _ = issue_circular(app, payload(), SUPERVISOR)
    [stored] = app.recorder.select_events(uuid.UUID(issued["id"]), limit=1)
    published = translate.to_integration_event(app.mapper.to_domain_event(stored), 9, "urn:xinfang:330106:supervision")
    published.data.update(bad)

    with pytest.raises(InvalidIntegrationEvent):
        published.validate()
