"""The console's way to the platform: the gateway's own JSON API, called in-process (ASGI, no network), with the
signed-in officer's bearer token or as the anonymous petitioner, from the browser's own address.

So the console holds no rule of its own about who may see or do what: every page shows what the API answered this
caller and every form is the API's request, with its validation, permission checks, rate limits, sign-in throttling
and records of personal-data views (for which the API sees the browser's address, as if the browser had called it).
It also depends only on the API's published contract (docs/api.md: extended, never renamed), not on how its routes
are written.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

import httpx
from fastapi import Request
from fastapi.responses import Response

from services.gateway.errors import ApiError

BASE = "http://gateway.internal"
# A download's headers the page passes on as the API gave them: the file's name and type, `attachment`, nosniff and
# the API's sandboxing Content-Security-Policy (a response's own policy is kept: services/gateway/headers.py).
SHA256 = re.compile(r"[0-9a-f]{64}")  # how the API names a stored file
FILE_HEADERS = ("content-type", "content-disposition", "x-content-type-options", "content-security-policy", "etag")
# A multipart upload's parts: (field, (file name, file object, declared type)), as httpx takes them.
Files = list[tuple[str, tuple[str, BinaryIO, str]]]


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: Mapping[str, str]

    @classmethod
    def of(cls, response: httpx.Response) -> Answer:
        try:
            body = response.json() if response.content else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        return cls(response.status_code, body, response.headers)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def problem(self) -> ApiError:
        body = self.body if isinstance(self.body, dict) else {}
        extra = {k: v for k, v in body.items() if k not in ("error", "message")}
        retry = {"Retry-After": self.headers["retry-after"]} if "retry-after" in self.headers else None
        return ApiError(self.status, body.get("error", "error"), body.get("message", "请求无法处理"), headers=retry,
                        extra=extra)

    def words(self) -> str:
        """The refusal in words: the message of each field the API named, or its one message."""
        problem = self.problem()
        errors = problem.extra.get("errors") or []
        return "；".join(e.get("message", "") for e in errors if isinstance(e, dict)) or problem.message

    def result(self) -> Any:
        """The body of a 2xx answer; otherwise the API's refusal, raised as it was given (ApiError)."""
        if not self.ok:
            raise self.problem()
        return self.body


async def send(request: Request, method: str, path: str, *, token: str | None = None, json_body: Any = None,
               form: dict[str, str] | None = None, files: Files | None = None,
               params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None) -> httpx.Response:
    """`method path` on this gateway's API for the browser that made `request`: the raw answer (a download)."""
    client = (request.client.host, request.client.port) if request.client else ("127.0.0.1", 0)
    sent = {"X-Correlation-ID": str(uuid.uuid4()), **(headers or {})}
    if token:
        sent["Authorization"] = f"Bearer {token}"
    transport = httpx.ASGITransport(app=request.app, client=client)
    async with httpx.AsyncClient(transport=transport, base_url=BASE, timeout=60) as api:
        return await api.request(method, path, json=json_body, data=form, files=files, params=params, headers=sent)


async def call(request: Request, method: str, path: str, *, token: str | None = None, json_body: Any = None,
               form: dict[str, str] | None = None, files: Files | None = None,
               params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None) -> Answer:
    """`method path` on this gateway's API for the browser that made `request`; a JSON answer."""
    return Answer.of(await send(request, method, path, token=token, json_body=json_body, form=form, files=files,
                                params=params, headers=headers))


# A step's answer carries the version of the case it made; the pages read the views, which follow within moments.
FOLLOW_WAITS = (0.1, 0.2, 0.3, 0.5, 0.8, 1.0)  # seconds between reads (each read counts toward a rate limit)


def version_asked(request: Request) -> int | None:
    """The case version a page was sent to show (`?v=`, from a step's answer), or None."""
    value = request.query_params.get("v", "")
    return int(value) if value.isdigit() and len(value) <= 9 else None


async def current(request: Request, path: str, version: int | None, *, token: str | None = None) -> Answer:
    """GET `path` (a view with a `version`) once it shows `version` or later, so the page after a step shows that
    step; after FOLLOW_WAITS the view as it is (the page says what the step did either way)."""
    answer = await call(request, "GET", path, token=token)
    for wait in FOLLOW_WAITS if version is not None else ():
        if not answer.ok or not isinstance(answer.body, dict) or (answer.body.get("version") or 0) >= version:
            break
        await asyncio.sleep(wait)
        answer = await call(request, "GET", path, token=token)
    return answer


def file_response(response: httpx.Response) -> Response:
    """A file the API served (a download), passed on to the browser as the API served it."""
    return Response(response.content, status_code=response.status_code,
                    headers={k: v for k, v in response.headers.items() if k in FILE_HEADERS})
