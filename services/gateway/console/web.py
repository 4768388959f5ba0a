"""What every console page shares: the templates (Jinja2, autoescape on for everything), the page renderer (CSRF
token, no-store), and the words for dates and deadlines."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader
from pymongo.errors import PyMongoError
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.responses import Response

from services.gateway.clients import ServiceUnavailable
from services.gateway.console import labels
from services.gateway.console.reference import Reference
from services.gateway.console.sessions import CsrfRefused, Sessions
from services.gateway.deps import Gateway
from services.gateway.errors import ApiError
from services.gateway.headers import CONSOLE_POLICY
from services.gateway.security import Principal
from shared.language.chinatime import CHINA, chinese_date, chinese_day

HERE = Path(__file__).parent
STATIC_URL = "/static/console"


def _local_time(moment: datetime | str | None) -> str:
    if moment is None or moment == "":
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    local = moment.astimezone(CHINA)
    return f"{chinese_date(local)} {local:%H:%M}"


def _day(text: str | date | None) -> str:
    return chinese_day(text) if text else ""


def today() -> date:
    return datetime.now(CHINA).date()


def days_left(due: str) -> int:
    return (date.fromisoformat(due[:10]) - today()).days


def deadline_words(deadline: Any) -> str:
    """A deadline in plain words: 'by 11 December (5 days left)', 'overdue by 3 days', 'met'."""
    get = deadline.get if isinstance(deadline, dict) else lambda k, d=None: getattr(deadline, k, d)
    state = get("status") or "open"
    if state == "late" and get("late_days"):
        return f"{labels.DEADLINE_STATUS[state]}（逾期{get('late_days')}天）"
    if state in labels.DEADLINE_STATUS:
        return labels.DEADLINE_STATUS[state]
    due = str(get("due"))
    left = days_left(due)
    when = f"{_day(due)}前"
    if left > 0:
        words = f"{when}（还有{left}天）"
    elif left == 0:
        words = f"{when}（今天到期）"
    else:
        words = f"已超过期限{-left}天（应于{when}）"
    if get("provisional"):
        words += "；暂定，节假日安排公布后可能调整"
    return words


def file_size(size: Any) -> str:
    """A file's size as people read it: 820字节, 12.5KB, 3.2MB."""
    if not isinstance(size, int) or isinstance(size, bool):
        return ""
    if size < 1024:
        return f"{size}字节"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f}KB".replace(".0KB", "KB")
    return f"{size / 1048576:.1f}MB".replace(".0MB", "MB")


def _json(value: Any) -> str:
    """A value as JSON text, escaped by the template like any other text (for a form field's value)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True)
    env.globals.update(static=STATIC_URL, labels=labels, deadline_words=deadline_words, days_left=days_left)
    env.filters.update(local_time=_local_time, day=_day, file_size=file_size, json=_json)
    return env


FORM_MAX_FILES = 100  # files in one post of a form at most (their bytes are bounded by the path's body limit)


async def read_form(request: Request) -> FormData:
    """The posted form: URL-encoded, or multipart with files (spooled to disk, closed once the answer is sent). A form
    the parser refuses (malformed, too many files or fields) is a page in Chinese, not the framework's JSON."""
    try:
        form = await request.form(max_files=FORM_MAX_FILES)
    except (HTTPException, MultiPartException):
        raise ApiError(400, "invalid_form", "提交的内容格式不正确，或者一次选择的文件过多，请返回上一页重新提交。") from None
    stack = request.scope.get("fastapi_middleware_astack")
    if stack is not None and not getattr(request.state, "form_closes", False):
        request.state.form_closes = True
        stack.push_async_callback(form.close)
    return form


@dataclass
class Console:
    """The console's collaborators, built once by `install` (services/gateway/console/__init__.py)."""

    sessions: Sessions
    reference: Reference
    templates: Environment

    @classmethod
    def build(cls, gw: Gateway) -> Console:
        return cls(Sessions(gw.settings.jwt_secret), Reference.load(gw.settings.routing_rules_file), _environment())

    def render(self, request: Request, gw: Gateway, template: str, *, officer: Principal | None = None,
               status: int = 200, **context: Any) -> HTMLResponse:
        token, fresh = self.sessions.csrf_token(request, officer)
        html = self.templates.get_template(template).render(
            request=request, officer=officer, csrf_token=token, reference=self.reference, **context)
        response = HTMLResponse(html, status_code=status)
        if fresh:
            self.sessions.give_csrf_cookie(response, request, gw, fresh)
        return response


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def console_of(request: Request) -> Console:
    return request.app.state.console


def gateway_of(request: Request) -> Gateway:
    return request.app.state.gateway


def error_page(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> HTMLResponse:
    console = console_of(request)
    response = console.render(request, gateway_of(request), "error.html", status=status, message=message,
                              officer=getattr(request.state, "officer", None))
    response.headers.update(headers or {})
    return response


# What the router refuses a browser (services/gateway/errors.py), said as a page: an address the gateway does not
# serve, or a page that only takes a form (its address bookmarked or typed).
BROWSER_MESSAGES = {404: ("页面不存在", "您要访问的页面不存在，请检查网址是否正确，或者返回首页。"),
                    405: ("无法打开该页面", "该页面不能直接打开，请返回首页重新进入。")}


def browser_page(request: Request, status: int) -> HTMLResponse | None:
    """The console's error page, in Chinese with a link home, for a browser (it accepts text/html) asking an address
    the router refused outside the API; None — the API's JSON problem — under /api/ and for every other client. The
    page carries the console's policy (services/gateway/headers.py gives an unknown path the API's, which would
    refuse the page's style sheet) and is not kept in caches."""
    path = request.url.path
    wants_html = "text/html" in request.headers.get("accept", "")
    if (status not in BROWSER_MESSAGES or not wants_html or path == "/api" or path.startswith("/api/")
            or getattr(request.app.state, "console", None) is None):
        return None
    home = "/console/" if path == "/console" or path.startswith("/console/") else "/"
    heading, message = BROWSER_MESSAGES[status]
    response = console_of(request).render(request, gateway_of(request), "error.html", status=status,
                                          heading=heading, message=message, home=home)
    response.headers.update({"Content-Security-Policy": CONSOLE_POLICY.decode(), "Cache-Control": "no-store"})
    return response


class SignInNeeded(Exception):
    """An officer's page without a valid session: to the sign-in page, and back afterwards."""


class ConsoleRoute(APIRoute):
    """A console page: the API's refusals (ApiError: 403, 404, 409, 429 ...), a form without its CSRF token and a
    service that does not answer become a page in Chinese, not JSON."""

    def get_route_handler(self):  # noqa: ANN201 - Starlette's handler type
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except SignInNeeded:
                back = request.url.path if request.method == "GET" else "/console/"
                return see_other(f"/console/login?{urlencode({'next': back})}")
            except CsrfRefused:
                return error_page(request, 403, "页面已过期或者来源不明，请返回上一页，刷新后重新提交。")
            except ApiError as error:
                return error_page(request, error.status, error.message, error.headers)
            except (ServiceUnavailable, PyMongoError):
                return error_page(request, 503, "服务暂时无法访问，请稍后重试。")

        return handler
