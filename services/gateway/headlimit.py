"""Limits on the request head that the HTTP server does not enforce itself, answered in the platform's JSON form.

uvicorn's h11 parser bounds the whole head in bytes (GATEWAY_MAX_HEADER_BYTES, set by services/gateway/__main__.py;
what it sends when that is exceeded is services/gateway/server.py's) but not the number of header fields. This
checks both, so the configured limits hold whichever way the app is served.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

HEAD_TOO_LARGE = {"error": "request_header_too_large", "message": "请求头过大或字段过多，请精简后重试"}
TOO_LARGE = JSONResponse(HEAD_TOO_LARGE, status_code=431)


class RequestHeadLimit:
    def __init__(self, app: ASGIApp, max_count: int, max_bytes: int) -> None:
        self.app = app
        self.max_count = max_count
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope["headers"]
            if len(headers) > self.max_count or sum(len(k) + len(v) + 4 for k, v in headers) > self.max_bytes:
                await TOO_LARGE(scope, receive, send)
                return
        await self.app(scope, receive, send)
