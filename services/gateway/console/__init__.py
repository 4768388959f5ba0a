"""The console (issue 16): the petitioner's public pages and the officers' pages, served by the gateway.

Server-rendered (Jinja2, autoescape on) over the gateway's own JSON API, called in-process (console/api.py); one
small script and one style sheet, served by the gateway itself (no CDN, system fonts). docs/console.md describes it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from services.gateway.console import notices, officers, public, supervision
from services.gateway.console.web import STATIC_URL, Console, error_page, file_size
from services.gateway.settings import GatewaySettings
from shared.language.contracts.registration import MAX_ATTACHMENTS

STATIC = Path(__file__).parent / "static"
# The petition forms post their files with them (multipart/form-data): the pages that take them.
FORM_PATHS = ("/petition/new", "/console/register")
PART_OVERHEAD = 64 * 1024  # a file part's boundary and headers, with room to spare


def install(app: FastAPI) -> None:
    """The console's routes and assets on the gateway's app (services/gateway/service.py)."""
    app.state.console = Console.build(app.state.gateway)
    app.include_router(public.router)
    app.include_router(officers.router)
    app.include_router(notices.router)
    app.include_router(supervision.router)  # the supervisor's pages (督查督办)
    app.mount(STATIC_URL, StaticFiles(directory=STATIC), name="console-assets")


def form_limit(settings: GatewaySettings) -> int:
    """A petition form's body at most: the form itself and MAX_ATTACHMENTS files of the upload limit each (each file
    is then checked by the attachments API, its own limit included)."""
    return settings.max_body_bytes + MAX_ATTACHMENTS * (settings.attachment_max_bytes + PART_OVERHEAD)


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    """The refusal of a form over its limit (413), as a page in Chinese: nothing of it was read."""
    request = Request(scope, receive)
    settings = request.app.state.gateway.settings
    response = error_page(request, 413, f"提交的内容过大：附件每个不能超过{file_size(settings.attachment_max_bytes)}，"
                                        f"最多{MAX_ATTACHMENTS}个。请返回上一页，减少附件后重新提交。")
    await response(scope, receive, send)


def form_limits(settings: GatewaySettings) -> dict[str, tuple[int, Any]]:
    """The petition forms' body limit and refusal, for BodySizeLimit (services/gateway/service.py)."""
    return {path: (form_limit(settings), _too_large) for path in FORM_PATHS}
