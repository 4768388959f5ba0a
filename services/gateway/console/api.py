"""The console's way to the platform: the gateway's own JSON API, called in-process (ASGI, no network), with the
signed-in officer's bearer token or as the anonymous petitioner, from the browser's own address.

So the console holds no rule of its own about who may see or do what: every page shows what the API answered this
caller and every form is the API's request, with its validation, permission checks, rate limits, sign-in throttling
and records of personal-data views (for which the API sees the browser's address, as if the browser had called it).
It also depends only on the API's published contract (docs/api.md: extended, never renamed), not on how its routes
are written.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import Request

from services.gateway.errors import ApiError

BASE = "http://gateway.internal"


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: Mapping[str, str]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def problem(self) -> ApiError:
        body = self.body if isinstance(self.body, dict) else {}
        extra = {k: v for k, v in body.items() if k not in ("error", "message")}
        retry = {"Retry-After": self.headers["retry-after"]} if "retry-after" in self.headers else None
        return ApiError(self.status, body.get("error", "error"), body.get("message", "请求无法处理"), headers=retry,
                        extra=extra)

    def result(self) -> Any:
        """The body of a 2xx answer; otherwise the API's refusal, raised as it was given (ApiError)."""
        if not self.ok:
            raise self.problem()
        return self.body


async def call(request: Request, method: str, path: str, *, token: str | None = None, json_body: Any = None,
               form: dict[str, str] | None = None, params: Mapping[str, Any] | None = None,
               headers: Mapping[str, str] | None = None) -> Answer:
    """`method path` on this gateway's API for the browser that made `request`."""
    client = (request.client.host, request.client.port) if request.client else ("127.0.0.1", 0)
    sent = {"X-Correlation-ID": str(uuid.uuid4()), **(headers or {})}
    if token:
        sent["Authorization"] = f"Bearer {token}"
    transport = httpx.ASGITransport(app=request.app, client=client)
    async with httpx.AsyncClient(transport=transport, base_url=BASE, timeout=60) as api:
        response = await api.request(method, path, json=json_body, data=form, params=params, headers=sent)
    try:
        body = response.json() if response.content else None
    except json.JSONDecodeError:
        body = None
    return Answer(response.status_code, body, response.headers)
