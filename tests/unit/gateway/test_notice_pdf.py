"""Issue 17: a notice as a printable A4 PDF (services/gateway/notice_pdf.py), read back with poppler's tools: a real
处理意见书 rendered from its template prints on A4 with the Noto CJK font embedded, and its extracted text holds
the query code, the opinion and the review-right sentence; the issuer and date are the signature; hostile markup
in the title or the body prints as the characters it is, and the document loads nothing."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from services.gateway import notice_pdf
from services.gateway.notice_pdf import notice_html, render_notice_pdf
from services.notification.templates import render

ROOT = Path(__file__).resolve().parents[3]
QUERY_CODE = "7K3M-9QX2-HT4W-0BZ8"
TOWN = "示例县城关镇人民政府"
OPINION_TEXT = "经现场查看，小区污水管道堵塞属实。\n已责成物业服务企业于12月10日前疏通，并对受损住户予以补偿。"
OPINION = {"name": "王秀兰", "title": "小区污水外溢长期无人处理", "registered_date": "2026年11月26日",
           "query_code": QUERY_CODE, "issued_on": "2026年12月4日", "issuer_name": TOWN,
           "request": "请求疏通小区污水管道。\n请求赔偿财产损失。",
           "facts": "今年三月起，小区3号楼前污水井多次外溢，污水流入单元门和地下室，物业服务企业接到报修后一直不予处理。",
           "opinion": OPINION_TEXT, "outcome": "support", "basis": "《城镇排水与污水处理条例》第三十二条",
           "review_organ": "示例县人民政府"}
HOSTILE_TITLE = '<script>alert(1)</script></style><title>x</title>'
HOSTILE_BODY = ('王秀兰：\n\n<img src="file:///etc/passwd"> & &amp; </p><p style="color:red">{{ 7*7 }}\n'
                '</style><style>@import url(http://127.0.0.1:9/x.css);</style>\n\n'
                f"{TOWN}\n2026年12月4日")


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"`{name}` (Debian's poppler-utils) is not installed: the notice PDFs are read back with it. "
                    "`make test` installs poppler-utils (its services target runs deploy/local/ensure-services.sh), "
                    "or: apt-get install -y poppler-utils")
    return found


def run(name: str, *args: str) -> str:
    done = subprocess.run([tool(name), *args], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def opinion_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    notice = render("opinion", **OPINION)
    path = tmp_path_factory.mktemp("pdf") / "opinion.pdf"
    path.write_bytes(render_notice_pdf(title=notice.title, body=notice.body, issuer=TOWN, query_code=QUERY_CODE))
    return path


def text_of(path: Path) -> str:
    return run("pdftotext", "-layout", "-enc", "UTF-8", str(path), "-")


def squeezed(text: str) -> str:
    """The text without its white space: pdftotext breaks the lines where the page did, and spaces where it wants."""
    return re.sub(r"\s+", "", text)


def test_the_opinion_prints_with_the_query_code_the_opinion_and_the_review_right(opinion_pdf: Path) -> None:
    text = text_of(opinion_pdf)
    flat = squeezed(text)
    assert "信访事项处理意见书" in text
    assert QUERY_CODE in text
    for line in OPINION_TEXT.splitlines():
        assert line in flat
    assert ("依照《信访工作条例》第三十五条的规定，您对本处理意见不服的，可以自收到本意见书之日起30日内，"
            "向示例县人民政府请求复查。") in flat
    assert flat.index("特此答复。") < flat.index(TOWN + "2026年12月4日")  # the signature closes the body


def test_it_is_a4_with_the_cjk_font_embedded(opinion_pdf: Path) -> None:
    info = run("pdfinfo", str(opinion_pdf))
    width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info).groups())
    assert (round(width, 2), round(height, 2)) == (595.28, 841.89)  # 210 x 297 mm
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert "第1页共" + str(pages) + "页" in squeezed(text_of(opinion_pdf))
    fonts = run("pdffonts", str(opinion_pdf)).splitlines()[2:]
    assert fonts, "no font in the PDF"
    cjk = [row for row in fonts if re.search(r"Noto.*CJK", row.split()[0])]
    assert cjk, f"no Noto CJK font: {fonts}"
    # columns: name type... encoding emb sub uni object ID: every font is embedded, as a subset
    assert all(row.split()[-5:-2] == ["yes", "yes", "yes"] for row in fonts), fonts


def test_the_issuer_and_the_date_are_the_signature() -> None:
    body = render("opinion", **OPINION).body
    html = notice_html(title="信访事项处理意见书", body=body, issuer=TOWN)
    assert re.search(rf'<div class="signature"><div><p>{TOWN}</p><p>2026年12月4日</p></div></div>', html)
    # Found without the issuer too; not taken when the issuer named is another; never from an (indented) value.
    assert 'class="signature"' in notice_html(title="t", body=body)
    assert 'class="signature"' not in notice_html(title="t", body=body, issuer="示例县人民政府")
    assert 'class="signature"' not in notice_html(title="t", body=f"甲：\n\u3000\u3000{TOWN}\n\u3000\u30002026年1月1日")


def test_hostile_markup_prints_as_text_and_nothing_is_loaded(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    fetched: list[str] = []

    def recording(url: str, *args: object, **kwargs: object) -> None:
        fetched.append(url)
        raise PermissionError(url)

    monkeypatch.setattr(notice_pdf, "_refuse", recording)
    html = notice_html(title=HOSTILE_TITLE, body=HOSTILE_BODY, issuer=TOWN, query_code='<b>"x"</b>')
    tags = re.findall(r"<(/?[a-zA-Z][a-zA-Z0-9]*)", html)
    assert set(tags) <= {"html", "head", "meta", "title", "style", "body", "div", "h1", "p"} | {
        "/html", "/head", "/title", "/style", "/body", "/div", "/h1", "/p"}, tags
    assert tags.count("style") == tags.count("/style") == tags.count("title") == tags.count("/title") == 1
    assert tags.count("p") == tags.count("/p")  # the hostile </p><p ...> is text, not tags
    path = tmp_path / "hostile.pdf"
    path.write_bytes(render_notice_pdf(title=HOSTILE_TITLE, body=HOSTILE_BODY, issuer=TOWN, query_code='<b>"x"</b>'))
    text = text_of(path)
    assert fetched == []
    for literal in (HOSTILE_TITLE, '<img src="file:///etc/passwd"> & &amp; </p><p style="color:red">{{ 7*7 }}',
                    "</style><style>@import url(http://127.0.0.1:9/x.css);</style>", '查询码：<b>"x"</b>'):
        assert squeezed(literal) in squeezed(text), literal


def test_the_url_fetcher_refuses_everything() -> None:
    for url in ("file:///etc/passwd", "http://127.0.0.1/x.css", "data:text/css,p{}"):
        with pytest.raises(PermissionError):
            notice_pdf._refuse(url)


def test_control_and_bidi_characters_print_as_spaces_and_line_breaks_are_kept() -> None:
    html = notice_html(title="处理\u202e意见书\x00", body="甲：\r\n第一行\u2028第二行\x1b[31m", query_code=None)
    assert "\u202e" not in html and "\x00" not in html and "\x1b" not in html
    assert "<p>第一行</p>\n<p>第二行 [31m</p>" in html
    assert "查询码" not in html


def test_fonts_are_subset_by_harfbuzz_which_is_fast() -> None:
    from weasyprint.text.ffi import harfbuzz_subset

    assert harfbuzz_subset is not None, (
        "libharfbuzz-subset0 is not installed: WeasyPrint falls back to fontTools, ~10 s a notice for the CJK "
        "fonts instead of ~0.1 s. `make test` installs it (deploy/local/ensure-services.sh); the image has it "
        "(deploy/docker/Dockerfile)")


def test_importing_the_module_does_not_load_weasyprint() -> None:
    program = ("import json, sys; import services.gateway.notice_pdf; "
               "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('weasyprint', 'fontTools'))))")
    done = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
