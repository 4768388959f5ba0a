"""uvicorn's HTTP/1.1 protocol (h11) with the platform's answer to a request it cannot parse.

uvicorn answers a head over its limit (h11's buffer: GATEWAY_MAX_HEADER_BYTES) or a malformed request itself,
before any application code runs: an English text/plain 400, after which it closes the socket at once, so a
client still sending gets a reset instead. This answers in the platform's JSON error form (431 for a head over
the limit, 400 otherwise) and closes gracefully: it half-closes, reads and drops what the client still sends
(bounded in bytes and time), then closes.
"""

from __future__ import annotations

import json

import h11
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from services.gateway.errors import HTTP_MESSAGES
from services.gateway.headlimit import HEAD_TOO_LARGE

DRAIN_BYTES = 1_048_576
DRAIN_SECONDS = 5.0
ANSWERS = {
    431: ("Request Header Fields Too Large", HEAD_TOO_LARGE),
    400: ("Bad Request", dict(zip(("error", "message"), HTTP_MESSAGES[400], strict=True))),
}


class _Connection(h11.Connection):
    """Remembers the parse error uvicorn catches, whose status hint says whether the head was too large."""

    last_error: h11.RemoteProtocolError | None = None

    def next_event(self):  # noqa: ANN202 - h11's own signature
        try:
            return super().next_event()
        except h11.RemoteProtocolError as error:
            self.last_error = error
            raise


class GatewayH11Protocol(H11Protocol):
    def __init__(self, config, server_state, app_state, _loop=None) -> None:  # noqa: ANN001 - uvicorn's signature
        super().__init__(config, server_state, app_state, _loop)
        # The same limit uvicorn set on the connection it made (h11 offers no public reader of it).
        self.conn = _Connection(h11.SERVER, self.conn._max_incomplete_event_size)  # noqa: SLF001
        self._dropping: int | None = None  # bytes dropped since the refusal, once refused

    def send_400_response(self, msg: str) -> None:
        if self.cycle is not None and self.cycle.response_started:
            self._close()  # the application has begun its answer: nothing else can be said
            return
        if self.cycle is not None:
            self.cycle.disconnected = True  # what the application may still send is dropped
        error = self.conn.last_error
        status = 431 if error is not None and error.error_status_hint == 431 else 400
        reason, body = ANSWERS[status]
        data = json.dumps(body, ensure_ascii=False).encode()
        head = (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(data)}\r\n"
                "connection: close\r\nx-content-type-options: nosniff\r\n\r\n").encode("ascii")
        # Written directly: h11's state machine is in its error state after a parse error.
        self.transport.write(head + data)
        self._dropping = 0
        if self.transport.can_write_eof():
            self.transport.write_eof()
            self.loop.call_later(DRAIN_SECONDS, self._close)
        else:
            self._close()

    def data_received(self, data: bytes) -> None:
        if self._dropping is None:
            super().data_received(data)
            return
        self._dropping += len(data)
        if self._dropping > DRAIN_BYTES:
            self._close()

    def _close(self) -> None:
        if not self.transport.is_closing():
            self.transport.close()


class AnsweredErrors:
    """Starlette raises an unexpected error again after its handler (services/gateway/errors.py) has answered 500
    and logged where it happened; uvicorn would then log it once more with its message, which may quote the
    request's data. The error was answered and logged: it ends here."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception:  # noqa: BLE001 - answered with a 500 and logged by the app's handler
            if scope["type"] != "http":
                raise
