"""Security headers on every response, as a plain ASGI middleware (as are bodylimit.py and metrics.py).

- The API answers JSON only: its policy forbids loading anything (`default-src 'none'`), so a response that a
  browser is tricked into rendering runs nothing.
- The documentation pages (/docs, /redoc and their assets under /static/docs) load scripts and styles from the
  gateway itself only. Swagger UI and ReDoc set inline styles, hence `style-src 'unsafe-inline'`; ReDoc runs a
  worker from a blob. Swagger UI's one inline start-up script is allowed by its hash (routes/docs.py).
- The console's pages (/, /petition/, /status, /console/; services/gateway/console) load their one script, style
  sheet and images from the gateway itself only, with no inline script or style at all, and post forms to it only.
  They show personal data (a case file, a status page): `no-store` too. Its assets (/static/console/) may be cached.
- No page may be framed (clickjacking), no Referer leaves (paths carry query codes), no content sniffing.
- `Cache-Control: no-store` on everything under /api/v1 but the published event schemas: status views, records
  and receipts carry personal data or query codes, and no shared or browser cache may keep them.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_POLICY = b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
DOCS_POLICY = (b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
               b"font-src 'self'; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
               b"frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
DOCS_PATHS = ("/docs", "/redoc", "/static/docs/")
CONSOLE_POLICY = (b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
                  b"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
CONSOLE_PAGES = ("/petition/", "/status", "/console/")
# The published JSON Schemas and the AsyncAPI document (routes/contract.py): no personal data, cacheable.
PUBLIC_STATIC = ("/api/v1/schemas", "/api/v1/asyncapi.json")

COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),  # for browsers that predate frame-ancestors
]


def _console(path: str) -> bool:
    return path == "/" or path == "/console" or path.startswith(CONSOLE_PAGES)


def _policy(path: str) -> bytes:
    if path.startswith(DOCS_PATHS):
        return DOCS_POLICY
    return CONSOLE_POLICY if _console(path) else API_POLICY


def _personal(path: str) -> bool:
    return (path.startswith("/api/v1") and not path.startswith(PUBLIC_STATIC)) or _console(path)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        added = list(COMMON)
        if _personal(path):
            added.append((b"cache-control", b"no-store"))
        replaced = {name for name, _ in added} | {b"server"}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in replaced]
                # A page may bring its own policy (the docs pages name their inline script's hash).
                if not any(k.lower() == b"content-security-policy" for k, _ in kept):
                    kept.append((b"content-security-policy", _policy(path)))
                message = {**message, "headers": kept + added}
            await send(message)

        await self.app(scope, receive, send_with_headers)
