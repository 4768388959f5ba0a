"""A limit on request bodies, as a plain ASGI middleware (no task or stream per request)."""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodySizeLimit:
    """Refuses a body larger than the limit: at once when its declared length says so, and for a chunked body
    (no length) as soon as what arrived passes the limit, before the application reads any of it.

    A client that is still sending when the answer comes gets a connection reset instead of the answer (the
    server closes a socket with unread data), whatever it is: Python's urllib posting 6 MB did, every time. So the
    rest of the body is first read and dropped, up to `drain_bytes` in all; past that bound the connection is
    closed as before. A client that asked `Expect: 100-continue` has sent nothing yet and is answered at once.

    `paths` gives a path of its own limit and refusal (the attachment upload: a file, not a JSON document)."""

    def __init__(self, app: ASGIApp, max_bytes: int, refuse: Any, drain_bytes: int = 0,
                 paths: dict[str, tuple[int, Any]] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.refuse = refuse
        self.drain_bytes = drain_bytes
        self.paths = paths or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes, refuse = self.paths.get(scope["path"], (self.max_bytes, self.refuse))
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None:
            if not length.isdigit() or int(length) > max_bytes:
                if length.isdigit() and int(length) <= self.drain_bytes and b"expect" not in headers:
                    await self._drain(receive, 0)
                await refuse(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        if scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > max_bytes:
                if message.get("more_body", False):
                    await self._drain(receive, size)
                await refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, replaying(b"".join(chunks), receive), send)

    async def _drain(self, receive: Receive, received: int) -> None:
        """Read and drop the rest of the body while the total stays within `drain_bytes`."""
        while received <= self.drain_bytes:
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                return
            received += len(message.get("body", b""))


async def read_body(receive: Receive) -> bytes | None:
    """The whole request body (None: the client went away meanwhile). Used inside BodySizeLimit, which bounds it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the application `body`, already read, as one message, then the server's own."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
