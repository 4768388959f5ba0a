"""Every kind of notice (shared/language/contracts/notices.py NOTICES) renders from its template file
(services/notification/templates/<kind>.txt.j2) with the content the rules require (docs/domain.md §"Notices"); a
missing value is an error; no value can add a line to a notice or run as template code; and each rendering names
the template and version that produced it."""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import Any

import pytest
from jinja2 import meta
from jinja2.sandbox import SecurityError

from services.notification import templates
from services.notification.templates import INDENT, MissingValue, render, template_file, template_identity
from shared.language.contracts.notices import NOTICES, PETITIONER_NOTICES, Issuer, NoticeKind

N = NoticeKind
COMMON = {"name": "王秀兰", "title": "小区污水外溢长期无人处理", "registered_date": "2026年11月26日",
          "query_code": "7K3M-9QX2-HT4W-0BZ8", "issued_on": "2026年11月27日"}
BUREAU = "示例县信访局"
TOWN = "示例县城关镇人民政府"
COUNTY = "示例县人民政府"
CITY = "示例市人民政府"
OPINION_TEXT = "经现场查看，小区污水管道堵塞属实。\n已责成物业服务企业于12月10日前疏通，并对受损住户予以补偿。"
SAMPLES: dict[NoticeKind, dict[str, str]] = {
    N.REGISTRATION_RECEIPT: {"issuer_name": BUREAU, "channel_label": "网上信访"},
    N.TRANSFER_NOTICE: {"issuer_name": BUREAU, "organ_name": TOWN, "joining_organ_names": "示例县住房和城乡建设局",
                        "basis": "属地管理：问题发生在城关镇，由城关镇人民政府办理"},
    N.ASSIGNMENT_NOTICE: {"issuer_name": BUREAU, "organ_name": TOWN, "joining_organ_names": "",
                          "basis": "涉及群众切身利益的重要信访事项，交办并要求报送办结报告"},
    N.ACCEPTANCE_NOTICE: {"issuer_name": TOWN, "accepted_on": "2026年11月30日", "procedure": "ordinary",
                          "handling_due": "2027年1月29日"},
    N.NOT_ACCEPTED_NOTICE: {"issuer_name": TOWN, "reason": "已经或者依法应当通过诉讼、仲裁、行政复议等法定途径解决",
                            "basis": "《信访工作条例》第二十二条第二款、第二十八条、第三十一条",
                            "explanation": "您已就同一事项向示例县人民法院提起诉讼。"},
    N.NOT_ACCEPTED_AGAIN_NOTICE: {"issuer_name": BUREAU, "reason": "信访事项已经复核终结，信访人以同一事实和理由再次提出",
                                  "basis": "《信访工作条例》第三十六条", "explanation": ""},
    N.REDIRECT_NOTICE: {"issuer_name": BUREAU, "where_to_go": "问题发生地县（市、区）信访部门或者依法有权处理的机关"},
    N.DIVERSION_NOTICE: {"issuer_name": "示例县人力资源和社会保障局", "procedure": "诉讼、仲裁、行政复议等法定途径",
                         "basis": "《信访工作条例》第三十一条第一项", "explanation": "属于劳动争议，应当先申请劳动人事争议仲裁。"},
    N.EXTENSION_NOTICE: {"issuer_name": TOWN, "previous_due": "2027年1月29日", "days": "30", "new_due": "2027年3月1日",
                         "approved_by": "张镇长", "reasons": "涉及多个部门职责，需要进一步调查核实。"},
    N.OPINION: {"issuer_name": TOWN, "request": "请求疏通小区污水管道。\n请求赔偿财产损失。",
                "facts": "三月起污水多次外溢，物业不予处理。", "opinion": OPINION_TEXT, "outcome": "support",
                "basis": "《城镇排水与污水处理条例》第三十二条", "review_organ": COUNTY},
    N.REVIEW_OPINION: {"issuer_name": COUNTY, "original_organ_name": TOWN, "requested_on": "2026年12月20日",
                       "opinion": "经复查，原处理意见认定事实清楚，适用依据正确。", "outcome": "uphold",
                       "re_review_organ": CITY},
    N.RE_REVIEW_OPINION: {"issuer_name": CITY, "review_organ_name": COUNTY, "requested_on": "2027年1月25日",
                          "opinion": "经复核，复查意见认定事实清楚，处理恰当。", "outcome": "uphold"},
    N.RATING_INVITATION: {"issuer_name": BUREAU, "level": "reply", "organ_name": TOWN,
                          "status_url": "https://xinfang.example.gov.cn/console/status", "rating_due": ""},
    # To an organ: addressed to it, the case by its number only (ORGAN_COMMON).
    N.ORGAN_CASE_NOTICE: {"organ_name": TOWN, "issuer_name": BUREAU, "issued_on": "2026年11月27日",
                          "duty": "transfer", "petition_ref": "0f8e4c1a-3b2d-4e5f-8a9b-1c2d3e4f5a6b",
                          "sent_on": "2026年11月27日", "due": "2026年12月12日",
                          "case_url": "https://xinfang.example.gov.cn/console/cases/0f8e4c1a-3b2d-4e5f-8a9b-1c2d3e4f5a6b",
                          "deadline_label": "", "days_left": "", "order_level": ""},
    # To the bureau's supervisors: an early warning, the cases by their numbers only (ORGAN_COMMON).
    N.WARNING_NOTICE: {"organ_name": "示例县信访局督查督办科", "issuer_name": BUREAU, "issued_on": "2026年11月27日",
                       "warning_kind": "topic_spike", "topic_label": "征地拆迁", "place_name": "城关镇",
                       "window": "2026年11月26日0时至2026年11月27日0时", "count": "12", "threshold": "10",
                       "petition_refs": "0f8e4c1a-3b2d-4e5f-8a9b-1c2d3e4f5a6b\n1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
                       "warning_ref": "7d1e0c3a-9b8f-5e4d-a3c2-b1f0e9d8c7b6", "raised_on": "2026年11月27日",
                       "console_url": "https://xinfang.example.gov.cn"},
    # To each organ a circular names: the bureau's own text (problems, demands), the cases by their count only.
    N.CIRCULAR_NOTICE: {"organ_name": TOWN, "issuer_name": BUREAU, "issued_on": "2026年12月5日",
                        "circular_kind": "typical_problem", "circular_title": "关于11月份重复信访问题的通报",
                        "circular_number": "督通〔2026〕3f9a1c号",
                        "problems": "一是答复意见未载明复查权利。\n二是办结报告超期报送。",
                        "demands": "对照检查，逐件整改。", "report_due": "2026年12月31日", "case_count": "3",
                        "console_url": "https://xinfang.example.gov.cn"},
}


def values(kind: NoticeKind, **changed: str) -> dict[str, str]:
    return {**({} if NOTICES[kind].to_organ else COMMON), **SAMPLES[kind], **changed}


def body(kind: NoticeKind, **changed: str) -> str:
    return render(kind, **values(kind, **changed)).body


def one_paragraph(text: str) -> str:
    """The body with the indented lines of a text value joined, to find a sentence that wraps."""
    return text.replace("\n" + INDENT, "")


# --- every kind ------------------------------------------------------------------------------------------------------
def test_the_samples_cover_every_kind_with_exactly_its_values() -> None:
    assert set(SAMPLES) == set(NoticeKind)
    for kind, spec in NOTICES.items():
        assert set(values(kind)) == set(spec.values), kind


@pytest.mark.parametrize("kind", PETITIONER_NOTICES)
def test_every_kind_renders_addressed_titled_dated_and_signed_by_its_issuer(kind: NoticeKind) -> None:
    rendered = render(kind, **values(kind))
    lines = rendered.body.rstrip("\n").split("\n")

    assert rendered.title == NOTICES[kind].title
    assert lines[0] == "王秀兰："
    assert COMMON["query_code"] in rendered.body and f"《{COMMON['title']}》" in rendered.body
    signature = [line for line in lines if line == SAMPLES[kind]["issuer_name"]]
    assert signature and lines[lines.index(signature[0]) + 1] == COMMON["issued_on"]
    assert "{{" not in rendered.body and "{%" not in rendered.body and "\n\n\n" not in rendered.body


@pytest.mark.parametrize("kind", PETITIONER_NOTICES)
def test_an_empty_name_is_addressed_to_the_petitioner(kind: NoticeKind) -> None:
    assert body(kind, name="").startswith("信访人：\n")


@pytest.mark.parametrize("kind", list(NoticeKind))
def test_each_template_uses_exactly_the_values_its_kind_declares(kind: NoticeKind) -> None:
    source = template_file(kind.value).read_text("utf-8")

    assert meta.find_undeclared_variables(templates._ENVIRONMENT.parse(source)) == set(NOTICES[kind].values)


def test_there_is_one_template_file_per_kind_and_no_other() -> None:
    folder = resources.files("services.notification").joinpath("templates")

    assert sorted(entry.name for entry in folder.iterdir() if entry.is_file()) == sorted(
        f"{kind.value}.txt.j2" for kind in NoticeKind)


def test_opinions_are_issued_by_the_organ_that_decided_and_routing_notices_by_the_bureau() -> None:
    assert {k for k, spec in NOTICES.items() if spec.issuer == Issuer.BUREAU} == {
        N.REGISTRATION_RECEIPT, N.TRANSFER_NOTICE, N.ASSIGNMENT_NOTICE, N.RATING_INVITATION, N.ORGAN_CASE_NOTICE,
        N.WARNING_NOTICE, N.CIRCULAR_NOTICE}
    for kind in (N.ACCEPTANCE_NOTICE, N.EXTENSION_NOTICE, N.OPINION, N.REVIEW_OPINION, N.RE_REVIEW_OPINION):
        assert NOTICES[kind].issuer == Issuer.DECIDER


# --- what each must say ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("duty", "said"), [
    ("transfer", ["向贵单位转送信访事项一件", "15日内书面告知信访人受理", "5个工作日内提出异议"]),
    ("assign", ["向贵单位交办信访事项一件", "办结报告"]),
    ("join", ["需贵单位配合办理"]),
    ("review", ["确定由贵单位复查", "30日内提出复查意见"]),
    ("re_review", ["确定由贵单位复核", "30日内提出复核意见"]),
])
def test_the_organ_notice_says_what_is_asked_and_nothing_of_the_petitioner(duty: str, said: list[str]) -> None:
    rendered = render(N.ORGAN_CASE_NOTICE, **values(N.ORGAN_CASE_NOTICE, duty=duty))
    lines = rendered.body.rstrip("\n").split("\n")

    assert lines[0] == f"{TOWN}：" and lines[-2:] == [BUREAU, "2026年11月27日"]
    assert "编号：0f8e4c1a-3b2d-4e5f-8a9b-1c2d3e4f5a6b" in rendered.body and "当前办理期限：2026年12月12日。" in rendered.body
    for words in said:
        assert words in rendered.body
    assert "查询码" not in rendered.body and "请勿转发" in rendered.body


@pytest.mark.parametrize(("duty", "days_left", "said"), [
    ("reminder", "3", ["受理告知期限将于2026年12月12日届满（尚余3个工作日）", "按期办理"]),
    ("reminder", "0", ["受理告知期限将于2026年12月12日届满（今日届满）"]),
    ("overdue", "", ["受理告知期限已于2026年12月12日届满，至今未办理，已记录超期。现予催办", "第三十八条、第四十四条"]),
])
def test_the_deadline_watchs_notices_name_the_deadline_and_its_day(duty: str, days_left: str,
                                                                    said: list[str]) -> None:
    rendered = render(N.ORGAN_CASE_NOTICE, **values(N.ORGAN_CASE_NOTICE, duty=duty, deadline_label="受理告知期限",
                                                    days_left=days_left))
    for words in said:
        assert words in rendered.body
    assert "当前办理期限" not in rendered.body  # the day is in the sentence
    assert "编号：0f8e4c1a-3b2d-4e5f-8a9b-1c2d3e4f5a6b" in rendered.body and "查询码" not in rendered.body


@pytest.mark.parametrize(("duty", "said"), [
    ("supervision", ["以督办函方式对贵单位办理的信访事项（编号：0f8e4c1a-3b2d-4e5f-8a9b-1c2d3e4f5a6b）进行督办",
                     "于2026年12月12日前书面报告办理情况"]),
    ("answer_rejected", ["审核未予认可", "于2026年12月12日前重新书面报告办理情况"]),
    ("accountability", ["提出责任追究建议", "第四十四条至第四十六条"]),
])
def test_the_supervision_notices_say_what_is_asked_by_when_and_no_more(duty: str, said: list[str]) -> None:
    rendered = render(N.ORGAN_CASE_NOTICE, **values(N.ORGAN_CASE_NOTICE, duty=duty, order_level="督办函"))
    for words in said:
        assert words in rendered.body
    assert "当前办理期限" not in rendered.body and "查询码" not in rendered.body


def test_the_transfer_and_assignment_notices_say_where_it_went_and_why() -> None:
    transfer, assignment = body(N.TRANSFER_NOTICE), body(N.ASSIGNMENT_NOTICE)

    assert f"转送{TOWN}办理，示例县住房和城乡建设局配合办理。" in transfer
    assert "转送理由：\n" + INDENT + "属地管理：问题发生在城关镇，由城关镇人民政府办理" in transfer
    assert "第二十二条" in transfer and "15日内" in transfer
    assert f"交办{TOWN}办理，并要求其反馈办理结果、报送办结报告" in assignment  # no joining organ: nothing said
    assert "交办理由：" in assignment and "第二十二条第三款" in assignment


@pytest.mark.parametrize(("procedure", "said"), [
    ("ordinary", ["按照普通程序办理", "60日内办结，即于2027年1月29日前", "第三十四条", "延长期限不得超过30日"]),
    ("simplified", ["适用简易程序", "10个工作日内", "即于2027年1月29日前", "《信访事项简易办理办法》"]),
])
def test_the_acceptance_notice_says_the_route_procedure_and_due_date(procedure: str, said: list[str]) -> None:
    text = body(N.ACCEPTANCE_NOTICE, procedure=procedure)

    assert "本机关已于2026年11月30日受理" in text and "第二十三条" in text
    for words in said:
        assert words in text


@pytest.mark.parametrize(("kind", "decision"), [(N.NOT_ACCEPTED_NOTICE, "决定不予受理"),
                                                 (N.NOT_ACCEPTED_AGAIN_NOTICE, "决定不再受理")])
def test_the_decline_notices_give_the_reason_and_its_basis(kind: NoticeKind, decision: str) -> None:
    text = body(kind)

    assert f"本机关经审查认为：{SAMPLES[kind]['reason']}。依照{SAMPLES[kind]['basis']}的规定，本机关{decision}。" in text


def test_a_decline_with_an_explanation_says_it_and_one_without_leaves_the_heading_out() -> None:
    assert "具体说明：\n" + INDENT + "您已就同一事项向示例县人民法院提起诉讼。" in body(N.NOT_ACCEPTED_NOTICE)
    assert "具体说明" not in body(N.NOT_ACCEPTED_NOTICE, explanation="")


def test_the_out_of_remit_answer_says_where_to_go() -> None:
    text = body(N.REDIRECT_NOTICE)

    assert "不属于本机关、本系统职权范围" in text and "第二十三条" in text
    assert "请您向以下有权处理的机关、单位提出：\n\n" + INDENT + SAMPLES[N.REDIRECT_NOTICE]["where_to_go"] in text


def test_the_diversion_notice_names_the_statutory_procedure() -> None:
    text = body(N.DIVERSION_NOTICE)

    assert "您的请求应当通过诉讼、仲裁、行政复议等法定途径解决" in text
    assert "依照《信访工作条例》第三十一条第一项的规定" in text and "不再按照信访程序办理" in text


def test_the_extension_notice_gives_the_reasons_the_approval_and_the_new_deadline() -> None:
    text = body(N.EXTENSION_NOTICE)

    assert "经本机关负责人张镇长批准" in text and "第三十四条" in text
    assert "办理期限延长30日，本机关将于2027年3月1日前办结" in text
    assert "延期理由：\n" + INDENT + "涉及多个部门职责，需要进一步调查核实。" in text


def test_the_opinion_states_the_request_the_facts_the_opinion_its_basis_and_the_review_right() -> None:
    text = body(N.OPINION)

    assert "一、您的信访请求\n" + INDENT + "请求疏通小区污水管道。\n" + INDENT + "请求赔偿财产损失。" in text
    assert "二、您反映的事实和理由\n" + INDENT + "三月起污水多次外溢，物业不予处理。" in text
    assert "三、处理意见\n" + "\n".join(INDENT + line for line in OPINION_TEXT.split("\n")) in text
    assert "四、处理依据\n" + INDENT + "《城镇排水与污水处理条例》第三十二条" in text
    assert ("依照《信访工作条例》第三十五条的规定，您对本处理意见不服的，可以自收到本意见书之日起30日内，"
            f"向{COUNTY}请求复查。") in text


@pytest.mark.parametrize(("outcome", "said"), [("support", "对您的请求予以支持"),
                                               ("explain", "您的请求事由合理，但缺乏法律依据"),
                                               ("not_support", "对您的请求不予支持")])
def test_the_opinion_states_its_outcome(outcome: str, said: str) -> None:
    assert "处理结果：" + said in body(N.OPINION, outcome=outcome)


@pytest.mark.parametrize(("outcome", "said"), [("uphold", f"维持{TOWN}作出的处理意见"),
                                               ("change", f"变更{TOWN}作出的处理意见")])
def test_the_review_opinion_gives_the_re_review_right(outcome: str, said: str) -> None:
    text = body(N.REVIEW_OPINION, outcome=outcome)

    assert said in text and "第三十五条" in text
    assert ("依照《信访工作条例》第三十六条的规定，您对本复查意见不服的，可以自收到本意见书之日起30日内，"
            f"向{CITY}请求复核。") in text


def test_a_review_that_orders_re_handling_says_so_and_needs_no_re_reviewing_organ() -> None:
    text = body(N.REVIEW_OPINION, outcome="rehandle", re_review_organ="")

    assert f"撤销{TOWN}作出的处理意见，责令其重新办理" in text and "重新出具书面处理意见" in text
    assert "请求复核" not in text


def test_a_review_opinion_whose_re_reviewing_organ_is_not_known_names_it_as_the_statute_does() -> None:
    text = body(N.REVIEW_OPINION, outcome="uphold", re_review_organ="")

    assert "可以自收到本意见书之日起30日内，向本机关的上一级机关、单位请求复核。" in text


def test_an_opinion_without_a_recorded_basis_leaves_the_section_out_and_names_the_reviewer_as_the_statute_does():
    text = body(N.OPINION, basis="", review_organ="")

    assert "处理依据" not in text and "五、" not in text
    assert ("四、复查权利\n依照《信访工作条例》第三十五条的规定，您对本处理意见不服的，可以自收到本意见书之日起30日内，"
            "向本机关的上一级机关、单位请求复查。") in text


def test_an_invitation_to_rate_without_the_status_pages_address_still_says_how() -> None:
    text = body(N.RATING_INVITATION, status_url="")

    assert "一、打开信访事项查询页面，输入查询码7K3M-9QX2-HT4W-0BZ8和您的身份证号码后六位" in text


@pytest.mark.parametrize("outcome", ["uphold", "change"])
def test_the_re_review_opinion_is_final(outcome: str) -> None:
    text = body(N.RE_REVIEW_OPINION, outcome=outcome)

    assert "第三十六条" in text and "该信访事项已经终结" in text
    assert "您对本复核意见不服，仍然以同一事实和理由提出信访请求的，不再受理。" in text
    assert "30日内" not in text  # no further remedy


@pytest.mark.parametrize(("level", "document", "remedy"), [("reply", "处理意见书", "复查"),
                                                             ("review", "复查意见书", "复核"),
                                                             ("re_review", "复核意见书", None)])
def test_the_invitation_to_rate_says_how_and_until_when(level: str, document: str, remedy: str | None) -> None:
    text = body(N.RATING_INVITATION, level=level)

    assert f"{TOWN}已出具{document}" in text
    assert "https://xinfang.example.gov.cn/console/status" in text
    assert f"输入查询码{COMMON['query_code']}和您的身份证号码后六位" in text
    assert "“满意”“基本满意”“不满意”" in text
    assert "不设截止日期" in text
    assert (f"不影响您依法请求{remedy}的权利" in text) if remedy else ("不影响" not in text)
    assert "请于2027年2月28日前作出评价" in body(N.RATING_INVITATION, level=level, rating_due="2027年2月28日")


def test_the_registration_receipt_is_unchanged_by_the_move_to_jinja() -> None:
    assert body(N.REGISTRATION_RECEIPT) == (
        "王秀兰：\n\n您好！您于2026年11月26日通过网上信访提交的信访事项《小区污水外溢长期无人处理》已登记。\n\n"
        "查询码：7K3M-9QX2-HT4W-0BZ8\n\n请妥善保管查询码。您可以凭查询码随时查询办理进展、查看告知书，"
        "并在办结后对办理情况进行满意度评价。\n依照《信访工作条例》，有权处理的机关将自收到信访事项之日起15日内告知您是否受理。"
        "\n\n示例县信访局\n2026年11月27日\n\n（本回执由信访信息系统自动发送，请勿直接回复。）\n")


@pytest.mark.parametrize(("kind", "said", "unsaid"), [
    ("topic_spike", ["同类事项集中信访", "事项类别：征地拆迁", "统计时段：2026年11月26日0时至2026年11月27日0时",
                     "信访事项数：12（预警阈值：10）。"], []),
    ("group", ["规模性集体访", "信访人数：35（预警阈值：30）。"], ["统计时段"]),
    ("sensitive", ["敏感事项信访", "信访事项数：1。"], ["预警阈值", "统计时段"]),
    ("repeat", ["重复信访", "信访次数：3（预警阈值：3）。"], ["统计时段"]),
])
def test_the_warning_notice_says_what_was_counted_and_names_the_cases_by_number_only(kind: str, said: list[str],
                                                                                     unsaid: list[str]) -> None:
    changed = {"topic_spike": {}, "group": {"count": "35", "threshold": "30", "window": ""},
               "sensitive": {"count": "1", "threshold": "", "window": ""},
               "repeat": {"count": "3", "threshold": "3", "window": "", "place_name": ""}}[kind]
    rendered = render(N.WARNING_NOTICE, **values(N.WARNING_NOTICE, warning_kind=kind, **changed))
    lines = rendered.body.rstrip("\n").split("\n")

    assert rendered.title == "信访信息预警通知"
    assert lines[0] == "示例县信访局督查督办科：" and lines[-2:] == [BUREAU, "2026年11月27日"]
    assert "预警编号：7d1e0c3a-9b8f-5e4d-a3c2-b1f0e9d8c7b6" in rendered.body
    assert INDENT + "0f8e4c1a-3b2d-4e5f-8a9b-1c2d3e4f5a6b" in lines and INDENT + "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d" in lines
    for words in said:
        assert words in rendered.body
    for words in unsaid:
        assert words not in rendered.body
    assert "查询码" not in rendered.body and "请勿转发" in rendered.body


@pytest.mark.parametrize(("kind", "report_due", "said", "unsaid"), [
    ("typical_problem", "2026年12月31日", ["现将示例县信访局典型问题通报《关于11月份重复信访问题的通报》（督通〔2026〕3f9a1c号）印发贵单位",
                                         "第三十九条、第四十条", "并于2026年12月31日前将整改情况书面报告示例县信访局。"], ["通报批评"]),
    ("criticism", "", ["现将示例县信访局通报批评《关于11月份重复信访问题的通报》"], ["典型问题通报", "书面报告"]),
])
def test_the_circular_notice_says_the_circular_its_problems_demands_and_day_and_nothing_of_petitioners(
        kind: str, report_due: str, said: list[str], unsaid: list[str]) -> None:
    rendered = render(N.CIRCULAR_NOTICE, **values(N.CIRCULAR_NOTICE, circular_kind=kind, report_due=report_due))
    lines = rendered.body.rstrip("\n").split("\n")

    assert rendered.title == "信访工作通报"
    assert lines[0] == f"{TOWN}：" and lines[-2:] == [BUREAU, "2026年12月5日"]
    assert "一、存在的问题\n" + INDENT + "一是答复意见未载明复查权利。\n" + INDENT + "二是办结报告超期报送。" in rendered.body
    assert "二、整改要求\n" + INDENT + "对照检查，逐件整改。" in rendered.body
    assert "本通报涉及信访事项3件" in rendered.body and "https://xinfang.example.gov.cn" in rendered.body
    for words in said:
        assert words in rendered.body
    for words in unsaid:
        assert words not in rendered.body
    assert "查询码" not in rendered.body and "请勿转发" in rendered.body
    without = render(N.CIRCULAR_NOTICE, **values(N.CIRCULAR_NOTICE, case_count="", console_url="")).body
    assert "本通报涉及" not in without and "请登录信访工作平台查阅通报全文。" in without


# --- missing and wrong values --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("kind", "missing"), [(kind, name) for kind in NoticeKind for name in NOTICES[kind].values])
def test_a_missing_value_is_an_error_never_a_blank_in_a_legal_notice(kind: NoticeKind, missing: str) -> None:
    given = {name: value for name, value in values(kind).items() if name != missing}

    with pytest.raises(MissingValue) as refused:
        render(kind, **given)

    assert refused.value.args == (missing,)


@pytest.mark.parametrize(("kind", "name"), [(kind, name) for kind in NoticeKind
                                            for name, value in NOTICES[kind].values.items()
                                            if not value.optional and value.unless is None])
def test_a_required_value_given_blank_is_missing(kind: NoticeKind, name: str) -> None:
    with pytest.raises(MissingValue):
        render(kind, **values(kind, **{name: " \u200b\n"}))


def test_a_value_the_kind_does_not_declare_is_refused() -> None:
    with pytest.raises(TypeError, match="no such value: opinion"):
        render(N.ACCEPTANCE_NOTICE, **values(N.ACCEPTANCE_NOTICE), opinion="x")


def test_a_choice_outside_its_values_is_refused() -> None:
    with pytest.raises(ValueError, match="procedure must be one of ordinary, simplified"):
        render(N.ACCEPTANCE_NOTICE, **values(N.ACCEPTANCE_NOTICE, procedure="{{ 1 }}"))


def test_an_unknown_kind_is_an_error() -> None:
    with pytest.raises(KeyError):
        render("summons", **COMMON)


# --- hostile values ----------------------------------------------------------------------------------------------
HOSTILE = ("甲\n\n乙\r\n丙\r丁\u2028戊\u2029己\x0b庚\x0c辛\x85壬\u202e癸\u2066\x1b[31m\t"
           "{{ 7 * 7 }}{% if true %}真{% endif %}{# c #}<b onclick=\"x\">&amp;</b>")


def line_cases() -> list[tuple[NoticeKind, str]]:
    return [(kind, name) for kind in NoticeKind for name, value in NOTICES[kind].values.items() if value.form == "line"]


def text_cases() -> list[tuple[NoticeKind, str]]:
    return [(kind, name) for kind in NoticeKind for name, value in NOTICES[kind].values.items() if value.form == "text"]


@pytest.mark.parametrize(("kind", "name"), line_cases())
def test_a_one_line_value_cannot_add_lines_or_run_as_template_code(kind: NoticeKind, name: str) -> None:
    # The values only the deadline watch's organ notice shows, on the duty that shows them.
    shown_by = {"duty": "reminder", "deadline_label": "受理告知期限", "days_left": "3"} \
        if kind == N.ORGAN_CASE_NOTICE and name in ("deadline_label", "days_left") else \
        {"duty": "supervision", "order_level": "督办函"} if kind == N.ORGAN_CASE_NOTICE and name == "order_level" else {}
    benign, hostile = body(kind, **shown_by), body(kind, **{**shown_by, name: HOSTILE})

    assert hostile.count("\n") == benign.count("\n")
    assert "{{ 7 * 7 }}{% if true %}真{% endif %}{# c #}" in hostile and "49" not in hostile
    assert '<b onclick="x">&amp;</b>' in hostile  # plain text: shown as written, not interpreted nor escaped
    assert not any(ch in hostile for ch in "\r\x0b\x0c\x1b\x85\u2028\u2029\u202e\u2066\t")


@pytest.mark.parametrize(("kind", "name"), text_cases())
def test_a_text_value_keeps_its_lines_indented_and_nothing_else(kind: NoticeKind, name: str) -> None:
    benign, hostile = body(kind, **{name: "良"}), body(kind, **{name: HOSTILE + "\n\n" + BUREAU + "\n特此告知。"})
    own = [line for line in benign.split("\n") if not line.startswith(INDENT)]

    # Every line the value added is indented: the notice's own lines (addressee, headings, issuer, date) are the same.
    assert [line for line in hostile.split("\n") if not line.startswith(INDENT)] == own
    for line in ("甲", "乙", "丙", "丁", "戊", "己", "庚", "辛", BUREAU, "特此告知。"):
        assert INDENT + line in hostile.split("\n")
    assert INDENT + "壬 癸  [31m {{ 7 * 7 }}{% if true %}真{% endif %}{# c #}<b onclick=\"x\">&amp;</b>" in hostile
    assert not any(ch in hostile for ch in "\r\x0b\x0c\x1b\x85\u2028\u2029\u202e\u2066\t")


def test_the_templates_run_sandboxed() -> None:
    with pytest.raises(SecurityError):
        templates._ENVIRONMENT.from_string("{{ ''.__class__.__mro__[1].__subclasses__() }}").render()


# --- which template produced a notice ----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", list(NoticeKind))
def test_a_rendering_names_its_template_its_version_and_the_files_digest(kind: NoticeKind) -> None:
    identity = render(kind, **values(kind)).template
    digest = hashlib.sha256(template_file(kind.value).read_bytes()).hexdigest()[:12]

    assert (identity.kind, identity.version, identity.digest) == (kind.value, NOTICES[kind].version, digest)
    assert str(identity) == f"{kind.value}@v{NOTICES[kind].version}+sha256:{digest}"
    assert template_identity(kind.value) == identity


# The wording each version stands for. Changing a template changes its digest: bump the kind's `version` in
# shared/language/contracts/notices.py and record the new pair here, so a notice's recorded version names one text.
WORDING: dict[NoticeKind, tuple[int, str]] = {
    N.REGISTRATION_RECEIPT: (1, "e1a14ff638bb"),
    N.TRANSFER_NOTICE: (1, "38c906e85d09"),
    N.ASSIGNMENT_NOTICE: (1, "a11b6cade11c"),
    N.ACCEPTANCE_NOTICE: (1, "00dcc30e708e"),
    N.NOT_ACCEPTED_NOTICE: (1, "65f015374567"),
    N.NOT_ACCEPTED_AGAIN_NOTICE: (1, "eab87ebf0f27"),
    N.REDIRECT_NOTICE: (1, "1830b871c2b1"),
    N.DIVERSION_NOTICE: (1, "f962fa26c317"),
    N.EXTENSION_NOTICE: (1, "5dd51993d9cd"),
    N.OPINION: (2, "97273f6e6010"),
    N.REVIEW_OPINION: (2, "2cd96d3c56a8"),
    N.RE_REVIEW_OPINION: (1, "f8b462379b63"),
    N.RATING_INVITATION: (2, "dffaa9d42fb0"),
    N.ORGAN_CASE_NOTICE: (2, "e9f6bbd4e1c1"),
    N.WARNING_NOTICE: (1, "a40f696a7344"),
    N.CIRCULAR_NOTICE: (1, "87f36c30b5c6"),
}


@pytest.mark.parametrize("kind", list(NoticeKind))
def test_a_template_changes_only_with_its_version(kind: NoticeKind) -> None:
    identity = template_identity(kind.value)

    assert (identity.version, identity.digest) == WORDING[kind], \
        f"{kind}: the template changed; bump its version in notices.py and record (version, digest) in WORDING"


def _show(kinds: Any = NoticeKind) -> None:  # pragma: no cover - a helper to print the pairs for WORDING
    for kind in kinds:
        identity = template_identity(kind.value)
        print(f"    N.{kind.name}: ({identity.version}, \"{identity.digest}\"),")
