"""The bureau's notices in the console, in a browser: a clerk registers a letter from a petitioner who has only a
fixed line, so its 信访事项登记回执 goes by post; the clerk prints it (PDF), records the posting (a malformed
registered-mail number is refused in Chinese and nothing is recorded) and then the receipt, and sees it leave the
county's list of letters to post (待邮寄的告知); a supervisor opens 告知送达, the list of failed deliveries; the
petitioner downloads each notice of the status page as a PDF.

Elements are found by their Chinese labels and button names; every page visited is kept as a screenshot and checked
for labels, button texts and contrast (conftest.Visit).
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess
from datetime import datetime, timedelta

from shared.language.chinatime import CHINA
from tests.browser.conftest import PHONE, SCREENSHOTS
from tests.browser.test_console import _text, fill_matter, look_up, sign_in, until
from tests.support import samples

RECEIPT = "信访事项登记回执"


def section_shot(visit, locator, name: str) -> None:
    """A screenshot of one part of the page (named as Visit.shot names its pages), the page's contract checked."""
    visit.shot(name)  # the whole page, with the accessibility contract
    visit.count += 1
    locator.screenshot(path=str(SCREENSHOTS / f"{visit.who}-{visit.count:02d}-{name}-section.png"))


def open_pdf(page, link) -> bytes:
    """Click a 打印（PDF） link (it opens a tab of its own): the browser is answered with a PDF; its bytes."""
    href = link.get_attribute("href")
    with page.context.expect_event("response", predicate=lambda r: r.url.endswith(href)) as answered, \
            page.context.expect_page() as opened:
        link.click()
    response = answered.value
    assert response.status == 200, f"{href}: {response.status}"
    assert response.headers["content-type"].startswith("application/pdf"), response.headers
    opened.value.close()
    again = page.context.request.get(href)  # the same address, with this browser's cookies: the document itself
    assert again.ok and again.headers["content-type"].startswith("application/pdf")
    body = again.body()
    assert body.startswith(b"%PDF-"), body[:20]
    return body


def pdf_text(pdf: bytes) -> str | None:
    """The PDF's text as poppler reads it, spaces and line breaks left out; None without poppler-utils (which
    deploy/local/ensure-services.sh installs)."""
    if shutil.which("pdftotext") is None:
        return None
    return subprocess.run(["pdftotext", "-q", "-", "-"], input=pdf, capture_output=True, check=True,
                          timeout=30).stdout.decode("utf-8").replace(" ", "").replace("\n", "")


def landline() -> str:
    return f"0571-8{random.randint(0, 9_999_999):07d}"


def test_a_clerk_prints_a_receipt_for_the_post_records_its_posting_and_receipt(visit):
    today = datetime.now(CHINA).date()
    arrived = (today - timedelta(days=2)).isoformat()
    fixed_line = landline()

    # --- the clerk registers a letter from a petitioner with only a fixed line -------------------------------------
    clerk = visit("clerk-notices")
    sign_in(clerk, "clerk")
    page = clerk.page
    page.get_by_role("link", name="登记信访事项").click()
    page.get_by_label("信访渠道", exact=True).select_option(label="来信")
    page.get_by_label("姓名", exact=True).fill("赵桂芳")
    page.get_by_label("身份证号码", exact=True).fill(samples.id_number())
    page.get_by_label("固定电话", exact=True).fill(fixed_line)
    page.get_by_label("联系地址", exact=True).fill("示例县城关镇解放路8号")
    fill_matter(page, "来信反映路口积水无人处理")
    page.get_by_label(re.compile(r"^收到(时间|日期)$")).fill(arrived)
    clerk.shot("register-letter-landline")
    page.get_by_role("button", name="登记", exact=True).click()
    page.get_by_role("heading", name="登记成功").wait_for()
    code = page.locator("#query-code").inner_text().strip()
    petition_id = page.locator("#petition-id").inner_text().strip()
    page.get_by_role("link", name="打开该事项").click()
    page.wait_for_url(re.compile(f"/console/cases/{petition_id}"))
    assert fixed_line in _text(page)

    # --- the case page lists the receipt, to be posted --------------------------------------------------------------
    section = page.get_by_role("region", name="告知书", exact=True)
    notice = section.locator("li[id^=notice-]").filter(has_text=RECEIPT)
    until(page, lambda: notice.count() == 1, "the registration receipt on the case page")
    notice_id = notice.get_attribute("id").removeprefix("notice-")
    post = notice.get_by_role("row", name=re.compile("^邮寄"))
    assert "待发送" in post.inner_text()
    section_shot(clerk, section, "case-notices-to-post")

    printed = pdf_text(open_pdf(page, notice.get_by_role("link", name="打印（PDF）")))
    assert printed is None or (RECEIPT in printed and "赵桂芳" in printed), printed

    # --- the county's list of letters to post holds it --------------------------------------------------------------
    page.get_by_role("link", name="告知送达").click()
    page.get_by_role("heading", name="未能送达的告知").wait_for()
    page.get_by_role("link", name="待邮寄的告知").click()
    page.get_by_role("heading", name="待邮寄的告知").wait_for()
    assert "尚未登记邮寄" in page.locator("p.lead").inner_text()
    listed = page.locator(f"#notice-{notice_id}")
    until(page, lambda: listed.count() == 1, "the receipt on the list of letters to post")
    assert listed.get_by_role("link", name="打开信访事项").get_attribute("href") == f"/console/cases/{petition_id}"
    clerk.shot("notices-awaiting-post")
    listed.get_by_role("link", name="打开信访事项").click()
    page.wait_for_url(re.compile(f"/console/cases/{petition_id}"))

    # --- a malformed registered-mail number: refused in Chinese, nothing recorded ----------------------------------
    notice = page.locator(f"#notice-{notice_id}")
    notice.get_by_label("邮寄日期", exact=True).fill(today.isoformat())
    notice.get_by_label("挂号信号码", exact=True).fill("12")
    notice.get_by_role("button", name="登记邮寄").click()
    page.get_by_role("alert").filter(has_text="挂号信号码格式不正确").wait_for()
    assert page.get_by_role("heading", level=1).inner_text().strip(), "the error page has its Chinese heading"
    clerk.shot("posting-refused")
    page.goto(f"/console/cases/{petition_id}")
    post = page.locator(f"#notice-{notice_id}").get_by_role("row", name=re.compile("^邮寄"))
    assert "待发送" in post.inner_text() and "挂号信号码 12" not in post.inner_text()

    # --- the posting, then the receipt ------------------------------------------------------------------------------
    number = f"XA{random.randint(0, 999_999_999):09d}CN"
    notice.get_by_label("邮寄日期", exact=True).fill(today.isoformat())
    notice.get_by_label("挂号信号码", exact=True).fill(number.lower())  # recorded in capitals
    notice.get_by_role("button", name="登记邮寄").click()
    page.get_by_role("status").filter(has_text="已登记邮寄").wait_for()
    post = page.locator(f"#notice-{notice_id}").get_by_role("row", name=re.compile("^邮寄"))
    until(page, lambda: "已邮寄" in post.inner_text(), "the posting on the case page")
    assert number in post.inner_text() and f"{today.month}月{today.day}日邮寄" in post.inner_text()
    section_shot(clerk, page.get_by_role("region", name="告知书", exact=True), "case-notices-posted")

    page.goto("/console/notices?state=awaiting_post")
    page.get_by_role("heading", name="待邮寄的告知").wait_for()
    until(page, lambda: page.locator(f"#notice-{notice_id}").count() == 0, "the receipt off the list to post")

    page.goto(f"/console/cases/{petition_id}")
    notice.get_by_label("签收日期", exact=True).fill(today.isoformat())
    notice.get_by_role("button", name="登记签收").click()
    page.get_by_role("status").filter(has_text="已登记签收").wait_for()
    until(page, lambda: "已签收" in post.inner_text(), "the receipt's date on the case page")
    assert number in post.inner_text() and f"{today.month}月{today.day}日签收" in post.inner_text()
    assert notice.get_by_label("签收日期", exact=True).count() == 0, "a receipt is recorded once"
    section_shot(clerk, page.get_by_role("region", name="告知书", exact=True), "case-notices-received")

    # --- the petitioner downloads each notice of the status page as a PDF -----------------------------------------
    petitioner = visit("petitioner-notices", PHONE)
    look_up(petitioner, code)
    page = petitioner.page
    documents = page.get_by_role("region", name="告知书和处理意见")
    until(page, lambda: RECEIPT in documents.inner_text(), "the receipt on the status page")
    titles = documents.locator("ul.notices > li")
    links = documents.get_by_role("link", name="下载打印（PDF）")
    assert titles.count() >= 1 and links.count() == titles.count(), "a PDF link on each notice"
    petitioner.shot("status-notices")
    for each in range(links.count()):
        title = titles.nth(each).get_by_role("heading").inner_text().replace("下载打印（PDF）", "").strip()
        printed = pdf_text(open_pdf(page, links.nth(each)))
        assert printed is None or title in printed, (title, printed)


def test_a_supervisor_opens_the_failed_deliveries(visit):
    supervisor = visit("supervisor-notices")
    sign_in(supervisor, "supervisor")
    page = supervisor.page
    page.get_by_role("navigation", name="工作台菜单").get_by_role("link", name="告知送达").click()
    page.wait_for_url(re.compile(r"/console/notices"))
    page.get_by_role("heading", name="未能送达的告知", level=1).wait_for()
    assert "未能送达信访人的短信和电子邮件" in page.locator("p.lead").inner_text()
    tabs = page.get_by_role("navigation", name="告知清单")
    assert tabs.get_by_role("link", name="未能送达的告知").get_attribute("aria-current") == "page"
    failed = page.locator("ul.notices.records > li")
    assert failed.count() > 0 or "暂无告知书" in _text(page)
    assert page.get_by_role("button", name="登记邮寄").count() == 0, "posting is the counter's"
    supervisor.shot("notices-failed")
