"""Supervision in the console, in a browser (issue 18): a supervisor issues a supervision order (督办单) on a case
routed to 城关镇 — a missing demand is refused in Chinese and nothing is recorded — the organ's officer finds the
order on the case and answers it in writing, and the supervisor accepts the answer, which closes the order. Every
page visited is kept as a screenshot and checked for labels, button texts and contrast (conftest.Visit).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from shared.language.chinatime import CHINA
from tests.browser.test_console import _text, sign_in, until
from tests.support import samples
from tests.support.waiting import wait_for

TITLE = "城关镇路灯长期不亮"


def routed_case(platform) -> str:
    """A petition submitted online and routed by the rules to 城关镇; its id."""
    with platform.http() as gateway:
        answered = gateway.post("/api/v1/petitions", json=samples.petition(title=TITLE, place_code="330106001",
                                                                           topic="urban_management"))
        assert answered.status_code == 201, answered.text
        code = answered.json()["query_code"]
        wait_for(lambda: gateway.get(f"/api/v1/status/{code}").json()["status"] == "awaiting_acceptance",
                 timeout=60, interval=0.5, what="the routing")
        return answered.json()["id"]


def test_a_supervisor_issues_an_order_the_organ_answers_it_and_the_supervisor_accepts(visit, platform):
    petition_id = routed_case(platform)
    respond_by = (datetime.now(CHINA) + timedelta(days=7)).date().isoformat()

    # --- the supervisor issues the order ------------------------------------------------------------------------
    supervisor = visit("supervisor-orders")
    sign_in(supervisor, "supervisor")
    page = supervisor.page
    page.goto(f"/console/cases/{petition_id}")
    order = page.locator("summary", has_text=re.compile(r"^下达督办$"))
    until(page, lambda: order.count() == 1, "the supervision form")
    supervisor.shot("case")
    order.click()
    page.get_by_label("督办方式", exact=True).select_option(label="督办函")
    page.get_by_label("督办事由", exact=True).select_option(label="拖延")
    page.get_by_role("button", name="下达督办", exact=True).click()  # no demand: the API says what is missing
    page.get_by_role("alert").first.wait_for()
    assert page.get_by_label("督办要求", exact=True).get_attribute("aria-invalid") == "true"
    assert "督办要求" in "".join(page.get_by_role("alert").all_inner_texts())  # the field named in Chinese
    supervisor.shot("order-errors")
    page.get_by_label("督办要求", exact=True).fill("请于期限内书面报告未受理的原因和办理计划。")
    page.get_by_label("书面答复期限", exact=True).fill(respond_by)
    page.get_by_label("督查方式", exact=True).select_option(label="网上督办")
    page.get_by_role("button", name="下达督办", exact=True).click()
    page.get_by_role("status").filter(has_text="已下达督办").wait_for()
    supervisor.shot("order-issued")
    assert "督办答复期限" in _text(page)

    # --- the organ answers it -----------------------------------------------------------------------------------
    organ = visit("organ-answers-order")
    sign_in(organ, "chengguan")
    page = organ.page
    page.goto(f"/console/cases/{petition_id}")
    answer = page.locator("summary", has_text=re.compile(r"^报告督办落实情况$"))
    until(page, lambda: answer.count() == 1, "the order to answer")
    organ.shot("order-to-answer")
    answer.click()
    page.get_by_label("办理情况报告", exact=True).fill("已于今日受理，正在组织现场核查，预计两周内出具处理意见。")
    page.get_by_role("button", name="报告督办落实情况", exact=True).click()
    page.get_by_role("status").filter(has_text="已报告督办落实情况").wait_for()
    organ.shot("order-answered")
    assert page.locator("summary", has_text=re.compile(r"^报告督办落实情况$")).count() == 0  # answered once

    # --- the supervisor accepts the answer ----------------------------------------------------------------------
    page = supervisor.page
    review = page.locator("summary", has_text=re.compile(r"^审核督办报告$"))
    until(page, lambda: review.count() == 1, "the answer to review")
    review.click()
    page.get_by_label("是否认可办理情况报告", exact=True).select_option(label="认可，督办办结")
    page.get_by_label("审核意见", exact=True).fill("报告属实，认可。")
    page.get_by_role("button", name="审核督办报告", exact=True).click()
    page.get_by_role("status").filter(has_text="已审核督办报告").wait_for()
    supervisor.shot("order-closed")
    assert page.locator("summary", has_text=re.compile(r"^审核督办报告$")).count() == 0
