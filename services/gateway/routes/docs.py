"""The API documentation pages (/docs, /redoc), with Swagger UI and ReDoc served by the gateway itself.

FastAPI's default pages load both from a CDN, so they stay blank on a bureau's offline network. The assets come
from the pinned `fastapi-offline` package (its static folder only); the pages are FastAPI's own HTML with local
URLs. The one inline script (Swagger UI's start-up) is allowed by its hash, so the page's Content-Security-Policy
still forbids every other script (headers.py sets the policy of all other responses).
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from services.gateway.headers import DOCS_POLICY

ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSETS_URL = "/static/docs"
INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def _with_script_hashes(page: HTMLResponse) -> HTMLResponse:
    hashes = b" ".join(b"'sha256-" + base64.b64encode(hashlib.sha256(body).digest()) + b"'"
                       for body in INLINE_SCRIPT.findall(page.body))
    policy = DOCS_POLICY.replace(b"script-src 'self'", b"script-src 'self' " + hashes) if hashes else DOCS_POLICY
    page.headers["content-security-policy"] = policy.decode()
    return page


def install(app: FastAPI) -> None:
    """/docs, /redoc and their assets; only called when the documentation is enabled (GATEWAY_API_DOCS)."""
    title = app.title
    swagger = _with_script_hashes(get_swagger_ui_html(
        openapi_url=app.openapi_url, title=f"{title} — Swagger UI",
        swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js", swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_URL}/favicon.png", oauth2_redirect_url=None))
    redoc = _with_script_hashes(get_redoc_html(
        openapi_url=app.openapi_url, title=f"{title} — ReDoc", redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
        redoc_favicon_url=f"{ASSETS_URL}/favicon.png", with_google_fonts=False))

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return swagger

    @app.get("/redoc", include_in_schema=False)
    async def redoc_ui() -> HTMLResponse:
        return redoc

    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")
