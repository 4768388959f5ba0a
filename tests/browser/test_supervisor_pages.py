"""The supervisor's pages in a browser (issue 18, 督查督办): the supervision orders awaiting an answer, the backlog
ledger with its resolution rate, the early warnings, the hot spots (a chart of the towns, its table, the towns' grid
and the topics) and the assessment rates with their trend; each chart's figure is in the table beside it and on the
page. An organ officer is refused every one of them (403, in Chinese) and the menu does not offer them.

The cases are made over the API (two petitions to 城关镇 — one on a sensitive topic, which raises a warning — the
first accepted by the town, supervised and owned by a leader); every page visited is kept as a screenshot and
checked for labels, button texts and contrast (conftest.Visit).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from shared.language.chinatime import CHINA
from tests.browser.conftest import PHONE
from tests.browser.test_console import _text, fits_the_screen, sign_in, until
from tests.e2e.conftest import write_users
from tests.e2e.officers import act
from tests.support import samples
from tests.support.platform import TestPlatform, running_platform
from tests.support.waiting import wait_for

ORDERED = "城关镇路灯长期不亮（督办）"
SENSITIVE = "拖欠工资三个月未发放"
LEADER = "张明"
PAGES = ("orders", "backlog", "warnings", "hotspots", "assessment")


@pytest.fixture(scope="module")
def platform(tmp_path_factory, secantus, smtp_sink) -> Iterator[TestPlatform]:
    """The console's platform (tests/browser/conftest.py), its warning detector looking every second."""
    folder = tmp_path_factory.mktemp("supervisor-pages")
    with running_platform(folder, secantus, smtp_sink.port, AUDIT_CHECKPOINT_INTERVAL="2", WARNING_WATCH_INTERVAL="1",
                          GATEWAY_USERS_FILE=str(write_users(folder / "users.json"))) as running:
        yield running


def submitted(gateway, **overrides) -> dict:
    answered = gateway.post("/api/v1/petitions", json=samples.petition(place_code="330106001", **overrides))
    assert answered.status_code == 201, answered.text
    return answered.json()


@pytest.fixture(scope="module")
def cases(platform) -> dict[str, str]:
    """Two petitions to 城关镇 this month: one routed to the town, accepted, supervised and owned by a leader; one
    on a sensitive topic (劳动工资)."""
    today = datetime.now(CHINA).date()
    with platform.http() as gateway:
        ordered = submitted(gateway, title=ORDERED, topic="urban_management")
        sensitive = submitted(gateway, title=SENSITIVE, topic="labour_wages")
        wait_for(lambda: gateway.get(f"/api/v1/status/{ordered['query_code']}").json()["status"]
                 == "awaiting_acceptance", timeout=60, interval=0.5, what="the routing")
        petition_id = ordered["id"]
        act(gateway, "chengguan", petition_id, "acceptance", {"procedure": "ordinary"})
        act(gateway, "supervisor", petition_id, "supervision-orders", {
            "order_level": "letter", "trigger": "delay", "demand": "请于期限内书面报告办理进展。",
            "respond_by": (today + timedelta(days=7)).isoformat()})
        act(gateway, "supervisor", petition_id, "leader-ownership", {
            "leader": LEADER, "leader_title": "副县长", "plan": "实地调研，协调供电部门限期修复。",
            "due": (today + timedelta(days=30)).isoformat()})
    return {"ordered": petition_id, "sensitive": sensitive["id"]}


def chart_titles(page, selector: str) -> list[str]:
    return page.locator(f"{selector} svg title").all_text_contents()


def cell_after(page, table: str, row_header: str) -> str:
    """The text of the cell after the one reading `row_header` (a row's first cell) in `table`."""
    row = page.locator(f"{table} tr").filter(has=page.locator("td, th", has_text=re.compile(f"^{row_header}$"))).first
    if row.count() == 0:
        return ""
    return row.locator("td, th").nth(1).inner_text().strip()


def test_the_supervisor_opens_each_page_and_reads_the_charts_figures_in_their_tables(visit, cases):
    this_month = datetime.now(CHINA)
    month_words = f"{this_month.year}年{this_month.month}月"
    supervisor = visit("supervisor-pages")
    sign_in(supervisor, "supervisor")
    page = supervisor.page

    # --- 督办事项: the order awaiting the organ's answer, linking to the case page ---------------------------------
    page.get_by_role("link", name="督查督办", exact=True).click()
    page.wait_for_url(re.compile(r"/console/supervision/orders"))
    until(page, lambda: ORDERED in _text(page), "the order in the list")
    supervisor.shot("orders")
    waiting = page.locator("table.orders", has=page.locator("caption", has_text="待答复"))
    row = waiting.locator("tr", has_text=ORDERED)
    assert "示例县城关镇人民政府" in row.inner_text()
    assert row.get_by_role("link", name=ORDERED).get_attribute("href") == f"/console/cases/{cases['ordered']}"
    assert "督办函" in row.inner_text() and "拖延" in row.inner_text()

    # --- 积案台账: the leader's case, the resolution rate -------------------------------------------------------
    page.locator("nav.tabs").get_by_role("link", name="积案台账").click()
    until(page, lambda: LEADER in _text(page), "the backlog ledger")
    supervisor.shot("backlog")
    assert page.locator("#resolution-rate").inner_text() == "0.0%"  # owned 1, resolved 0
    assert "已化解 0 件 / 包案 1 件" in _text(page)
    assert page.locator("table.backlog tr", has_text=LEADER).get_by_role("link", name=ORDERED).count() == 1

    # --- 预警信息: the sensitive topic's warning, the newest first, filtered by kind ------------------------------
    page.locator("nav.tabs").get_by_role("link", name="预警信息").click()
    until(page, lambda: "敏感事项信访" in page.locator("table.warnings tbody").inner_text(), "the warning")
    page.get_by_label("预警类型", exact=True).select_option(label="敏感事项信访")
    page.get_by_role("button", name="查询", exact=True).click()
    page.wait_for_url(re.compile(r"kind=sensitive"))
    supervisor.shot("warnings")
    warned = page.locator("table.warnings tbody tr", has_text="敏感事项信访").first
    assert "劳动工资" in warned.inner_text()
    assert warned.locator(f"a[href='/console/cases/{cases['sensitive']}']").count() == 1
    page.get_by_label("预警日期起", exact=True).fill("2026-12-31")
    page.get_by_label("预警日期止", exact=True).fill("2026-01-01")
    page.get_by_role("button", name="查询", exact=True).click()
    page.get_by_role("alert").first.wait_for()
    assert page.get_by_label("预警日期止", exact=True).get_attribute("aria-invalid") == "true"
    assert "预警日期止不能早于预警日期起" in _text(page)
    supervisor.shot("warnings-errors")

    # --- 热点分析: the towns' chart and its table agree, the grid shows the month; the topics -------------------
    page.locator("nav.tabs").get_by_role("link", name="热点分析").click()
    until(page, lambda: cell_after(page, "#town-chart table", "城关镇") == "2", "the hot spots by town")
    supervisor.shot("hotspots")
    assert "城关镇：2件" in chart_titles(page, "#town-chart")
    assert "城关镇" in page.locator("#town-chart svg").inner_html()
    cell = page.locator(".town-grid li", has_text="城关镇")
    assert "2件" in cell.inner_text() and "环比增加2件" in cell.inner_text()
    assert "heat-4" in (cell.get_attribute("class") or "")  # the busiest town, the darkest
    assert "0件" in page.locator(".town-grid li", has_text="西山乡").inner_text()  # every town has its cell
    assert cell_after(page, "#topic-chart table", "劳动工资") == "1"
    assert "劳动工资：1件" in chart_titles(page, "#topic-chart")
    assert f"{month_words}：2件" in chart_titles(page, "#month-chart")
    month_row = page.locator("#month-chart table tr", has_text=month_words)
    assert month_row.locator("td").nth(1).inner_text() == "2"
    # a range ending before it starts: the API's words beside the field
    last_month = (this_month.replace(day=1) - timedelta(days=1))
    page.get_by_label("统计起始月份", exact=True).select_option(label=month_words)
    page.get_by_label("统计截止月份", exact=True).select_option(label=f"{last_month.year}年{last_month.month}月")
    page.get_by_role("button", name="统计", exact=True).click()
    page.get_by_role("alert").first.wait_for()
    assert page.get_by_label("统计截止月份", exact=True).get_attribute("aria-invalid") == "true"
    assert "统计截止月份不能早于统计起始月份" in _text(page)
    supervisor.shot("hotspots-errors")

    # --- 考核指标: the accepted case in time, in the rates, the trend's table and its chart --------------------
    page.locator("nav.tabs").get_by_role("link", name="考核指标").click()
    until(page, lambda: "100.0%（1/1）" in cell_after(page, "table.rates", "及时受理率"), "the rates")
    supervisor.shot("assessment")
    trend_row = page.locator("#trend-chart table tr", has_text=month_words)
    assert trend_row.locator("td").nth(1).inner_text().startswith("100.0%")  # 及时受理率 this month
    assert f"及时受理率 {month_words}：100.0%" in chart_titles(page, "#trend-chart")
    assert len(page.locator("#trend-chart table tbody tr").all()) == 12
    page.get_by_label("办理机关", exact=True).select_option(label="示例县城关镇人民政府")
    page.get_by_role("button", name="统计", exact=True).click()
    page.wait_for_url(re.compile(r"organ=330106001-ZF"))
    assert "100.0%（1/1）" in cell_after(page, "table.rates", "及时受理率")
    assert "示例县城关镇人民政府" in page.locator("table.rates caption").inner_text()
    supervisor.shot("assessment-organ")

    # --- on a phone: the hot spots and the rates fit the screen ----------------------------------------------
    phone = visit("supervisor-phone", PHONE)
    sign_in(phone, "supervisor")
    for name in ("hotspots", "assessment"):
        phone.page.goto(f"/console/supervision/{name}")
        phone.shot(name)
        assert fits_the_screen(phone.page), name


def test_an_organ_officer_is_refused_the_supervisors_pages(visit, platform):
    officer = visit("organ-refused")
    sign_in(officer, "chengguan")
    page = officer.page
    assert page.get_by_role("link", name="督查督办", exact=True).count() == 0  # the menu does not offer them
    for name in PAGES:
        answer = page.goto(f"/console/supervision/{name}")
        assert answer is not None and answer.status == 403, name
        assert "您的角色无权使用此页面" in _text(page)
    officer.shot("refused")
