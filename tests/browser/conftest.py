"""Browser tests of the console (issue 16): Playwright for Python (sync API) driving Debian's Chromium headless
(/usr/bin/chromium; no browser is downloaded) against the whole platform, started from the Procfile as `make run`
starts it.

Every page a test visits goes through `Visit.shot`, which keeps a full-page screenshot under
tests/output/screenshots/ (git-ignored) and checks the accessibility contract on it: every visible input, select
and text area has a visible label bound to it, every button has text, and text meets WCAG 2.1 AA contrast.
Elements are found by their Chinese labels and names (get_by_label, get_by_role), so the tests are the contract.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import write_users
from tests.support.platform import ROOT, TestPlatform, running_platform

CHROMIUM = os.environ.get("XINFANG_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = ROOT / "tests" / "output" / "screenshots"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}

# What the accessibility contract checks on every page (run in the page).
AUDIT_PAGE = """() => {
  const problems = [];
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length)
      && getComputedStyle(el).visibility !== 'hidden';
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden' || !visible(el)) continue;
    const labels = [...(el.labels || [])].filter((l) => visible(l) && l.textContent.trim());
    if (!labels.length) problems.push(`no visible label: ${el.outerHTML.slice(0, 120)}`);
  }
  for (const el of document.querySelectorAll('button, a.button, [role=button]')) {
    if (visible(el) && !el.textContent.trim()) problems.push(`button without text: ${el.outerHTML.slice(0, 120)}`);
  }
  const rgb = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; })
      .reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0);
  const background = (el) => {
    for (let node = el; node; node = node.parentElement) {
      const [r, g, b, a = 1] = rgb(getComputedStyle(node).backgroundColor);
      if (a > 0) return [r, g, b];
    }
    return [255, 255, 255];
  };
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !visible(el)) continue;
    const style = getComputedStyle(el);
    const [L1, L2] = [lum(rgb(style.color)), lum(background(el))].sort((a, b) => b - a);
    const ratio = (L1 + 0.05) / (L2 + 0.05);
    const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight, 10) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < needed) problems.push(`contrast ${ratio.toFixed(2)} < ${needed}: ${el.tagName} "${el.textContent.trim().slice(0, 30)}"`);
  }
  return problems;
}"""


@pytest.fixture(scope="module")
def platform(tmp_path_factory, secantus, smtp_sink) -> Iterator[TestPlatform]:
    folder = tmp_path_factory.mktemp("console")
    with running_platform(folder, secantus, smtp_sink.port, AUDIT_CHECKPOINT_INTERVAL="2",
                          GATEWAY_USERS_FILE=str(write_users(folder / "users.json"))) as running:
        yield running


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: deploy/local/ensure-services.sh installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session", autouse=True)
def screenshot_folder() -> Path:
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    return SCREENSHOTS


class Visit:
    """One person's browser (a context of its own: cookies, viewport), and the screenshots of the pages it saw."""

    def __init__(self, browser, platform: TestPlatform, who: str, device: dict) -> None:
        self.context = browser.new_context(base_url=platform.gateway_url, locale="zh-CN",
                                           timezone_id="Asia/Shanghai", **device)
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.who = who
        self.count = 0
        self.problems: list[str] = []
        # Script errors and CSP refusals ("Refused to load ..."), and any asset that failed: pages answer 4xx on
        # purpose (a form with errors is a 422), their assets never.
        self.page.on("console", lambda message: message.type == "error" and not message.text.startswith(
            "Failed to load resource") and self.problems.append(message.text))
        self.page.on("response", lambda response: response.status >= 400 and response.request.resource_type != "document"
                     and self.problems.append(f"{response.status} {response.url}"))

    def shot(self, name: str) -> Path:
        """Keep a screenshot of the page as it is now, and check the accessibility contract on it."""
        self.count += 1
        path = SCREENSHOTS / f"{self.who}-{self.count:02d}-{re.sub(r'[^A-Za-z0-9_-]+', '-', name)}.png"
        self.page.screenshot(path=str(path), full_page=True)
        problems = self.page.evaluate(AUDIT_PAGE)
        assert problems == [], f"{self.page.url}: {problems}"
        assert self.problems == [], f"{self.page.url}: the browser reported {self.problems}"  # CSP refusals too
        return path

    def close(self) -> None:
        self.context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.failed_call = report.failed
    return report


@pytest.fixture
def visit(request, browser, platform):
    opened: list[Visit] = []

    def open_for(who: str, device: dict | None = None) -> Visit:
        opened.append(Visit(browser, platform, who, device or DESKTOP))
        return opened[-1]

    yield open_for
    for each in opened:
        if getattr(request.node, "failed_call", False):  # where each browser was when the test failed
            each.page.screenshot(path=str(SCREENSHOTS / f"FAILED-{each.who}.png"), full_page=True)
        each.close()
