"""JSON bodies that give a key twice are refused (422 naming the key), as a plain ASGI middleware.

FastAPI's parser keeps the last of two equal keys, so a body with `category` twice would be taken without a word
(shared/language/contracts/jsonkeys.py). This reads the body of a POST, PUT or PATCH that FastAPI would parse as JSON,
checks it, and hands the same bytes on. It sits inside BodySizeLimit, so it never buffers more than the limit.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from services.gateway.bodylimit import read_body, replaying
from shared.language.contracts.errors import validation_problem
from shared.language.contracts.jsonkeys import DuplicateKey, check_unique_keys

_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _is_json(scope: Scope) -> bool:
    """What FastAPI reads as JSON: application/json, application/*+json, or a body without a content type."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            media_type = value.split(b";", 1)[0].strip().lower()
            return media_type == b"application/json" or (
                media_type.startswith(b"application/") and media_type.endswith(b"+json"))
    return True


class UniqueJsonKeys:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _METHODS or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        if body is None:
            return  # the client went away
        try:
            check_unique_keys(body)
        except DuplicateKey as duplicate:
            refusal = JSONResponse(validation_problem([duplicate.error("body")]), status_code=422)
            await refusal(scope, receive, send)
            return
        await self.app(scope, replaying(body, receive), send)
