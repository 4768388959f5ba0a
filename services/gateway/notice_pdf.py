"""A notice as a printable A4 PDF, for post (issue 17): the clerk prints it, posts it by registered mail and records
the posting and, later, the receipt.

Laid out as an official document (党政机关公文格式, GB/T 9704-2012): A4, margins of 37 mm (top), 35 mm (bottom),
28 mm (binding side, left) and 26 mm (right), so the type area is 156 x 225 mm; the title centred in a larger serif
face (二号, 22 pt), the body in 三号 (16 pt), 22 lines to the page. The body is the notice's text as its template
wrote it (services/notification/templates/*.txt.j2): every line break kept, the indents of the text values kept;
its last lines, the issuer and the date, are set as the signature: the date four characters from the right edge
and the issuer centred above it (GB/T 9704-2012 §7.3.5.1). The footer gives "第 N 页 共 M 页" and the query code.

Fonts come from the system only (fontconfig): Noto Serif CJK SC, else Noto Sans CJK SC (Debian's fonts-noto-cjk,
installed by deploy/local/ensure-services.sh and deploy/docker/Dockerfile); WeasyPrint embeds the subsets used.
Every text is hostile: it is escaped into the HTML by Jinja2 (autoescape), so markup in a title or an opinion
prints as the characters it is, and nothing can reach the style sheet. WeasyPrint is given a URL fetcher that
refuses everything, so a document can make it load nothing (no file, no URL). Nothing is cached: every text of a
notice is personal data.
"""

from __future__ import annotations

import re
import threading
from typing import Any, NoReturn

from jinja2 import Environment
from markupsafe import Markup

from shared.language.contracts.text import one_line

# The line breaks of a body (as services/notification/templates.py's body_lines reads them).
_LINE_BREAKS = re.compile("\r\n|[\n\r\x0b\x0c\x85\u2028\u2029]")
# The date a template writes last: chinese_date, e.g. 2026年12月4日.
_CHINESE_DATE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日")

# A constant (no value reaches it), inserted as it stands: <style> is raw text, where an escape would not be read.
_STYLE = Markup("""
@page {
  size: A4;
  margin: 37mm 26mm 35mm 28mm;
  @bottom-left { content: element(query-code); vertical-align: top; padding-top: 8mm; }
  @bottom-center {
    content: "第 " counter(page) " 页 共 " counter(pages) " 页";
    vertical-align: top; padding-top: 8mm;
    font-family: "Noto Serif CJK SC", "Noto Sans CJK SC", serif; font-size: 10.5pt; line-height: 1.2;
  }
}
html { font-family: "Noto Serif CJK SC", "Noto Sans CJK SC", serif; font-size: 16pt; line-height: 28.9pt; }
body { margin: 0; }
.query-code { position: running(query-code); font-size: 10.5pt; line-height: 1.2; white-space: nowrap; }
h1 { font-size: 22pt; line-height: 1.4; font-weight: bold; text-align: center; margin: 0 0 28.9pt; }
p { margin: 0; min-height: 28.9pt; white-space: pre-wrap; text-align: justify; overflow-wrap: anywhere; }
.signature { text-align: right; padding-right: 4em; margin-top: 28.9pt; break-inside: avoid; }
.signature > div { display: inline-block; text-align: center; }
.signature p { text-align: center; }
""")

# Autoescape on for everything: every value is text, never markup.
_PAGE = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True).from_string("""\
<!DOCTYPE html>
<html lang="zh-CN">
<head><meta charset="utf-8"><title>{{ title }}</title><style>{{ style }}</style></head>
<body>
{% if query_code %}
<div class="query-code">查询码：{{ query_code }}</div>
{% endif %}
<h1>{{ title }}</h1>
{% for line in before %}
<p>{{ line }}</p>
{% endfor %}
{% if signature %}
<div class="signature"><div>{% for line in signature %}<p>{{ line }}</p>{% endfor %}</div></div>
{% endif %}
{% for line in after %}
<p>{{ line }}</p>
{% endfor %}
</body>
</html>
""")

# WeasyPrint calls into pango, harfbuzz and fontconfig and does not promise to be thread-safe: renders are one at
# a time per process (a clerk prints a notice now and then; one render takes ~0.15 s warm).
_RENDERING = threading.Lock()


def _refuse(url: str, *_args: Any, **_kwargs: Any) -> NoReturn:
    """WeasyPrint's URL fetcher: a notice loads nothing (its only inputs are the texts given)."""
    raise PermissionError("a notice PDF loads no resource")


def _lines(body: str) -> list[str]:
    """The body's lines, each as one line (no control or bidi character), trailing blanks and blank lines dropped,
    the leading indent (ideographic spaces) kept."""
    lines = [one_line(line).rstrip() for line in _LINE_BREAKS.split(body)]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return lines


def _signature_at(lines: list[str], issuer: str | None) -> int | None:
    """Where the signature starts: the last date the body writes flush left on a line of its own, after the issuer's
    name on the line before (`issuer` if given, else any flush-left line); None when there is none."""
    wanted = one_line(issuer).strip() if issuer is not None else None
    for at in range(len(lines) - 1, 0, -1):
        if not _CHINESE_DATE.fullmatch(lines[at]):
            continue
        name = lines[at - 1]
        if name and name == name.lstrip() and (wanted is None or name == wanted):
            return at - 1
        return None
    return None


def notice_html(*, title: str, body: str, issuer: str | None = None, query_code: str | None = None) -> str:
    """The HTML that render_notice_pdf prints (every text escaped)."""
    lines = _lines(body)
    at = _signature_at(lines, issuer)
    before, signature, after = (lines, [], []) if at is None else (lines[:at], lines[at:at + 2], lines[at + 2:])
    while before and not before[-1]:  # the blank line before the signature is the signature's top margin
        before.pop()
    code = one_line(query_code).strip() if query_code else ""
    return _PAGE.render(title=one_line(title).strip(), query_code=code, before=before, signature=signature,
                        after=after, style=_STYLE)


def render_notice_pdf(*, title: str, body: str, issuer: str | None = None, query_code: str | None = None) -> bytes:
    """The notice as an A4 PDF: `title` (the kind's, e.g. 信访事项处理意见书) over `body` (the rendered text, ending
    with the issuer and the date), `issuer` to find the signature by (the notice's issuer_name), `query_code` in the
    footer.

    Blocking, in C (pango, harfbuzz): call it in a worker thread (run_in_threadpool, or a sync endpoint, which
    FastAPI runs in its thread pool; the gateway runs under uvicorn with threads, not eventlet), never on the
    event loop.
    """
    # Imported here: WeasyPrint loads pango and the system's font configuration, ~0.5 s the gateway does not pay
    # at start (and a process that forks after loading fontconfig may crash, Kozea/WeasyPrint#167).
    from weasyprint import HTML  # noqa: PLC0415

    html = notice_html(title=title, body=body, issuer=issuer, query_code=query_code)
    with _RENDERING:
        return HTML(string=html, url_fetcher=_refuse, media_type="print").write_pdf()
