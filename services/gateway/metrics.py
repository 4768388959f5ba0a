"""HTTP metrics (RED): requests by route template, method and status class; latency histogram (on METRICS_PORT).

A plain ASGI middleware (as is bodylimit.py): Starlette's BaseHTTPMiddleware costs a task and a stream per request.
"""

from __future__ import annotations

import time

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter("xinfang_http_requests_total", "HTTP requests served by the gateway",
                   ["route", "method", "status_class"])
LATENCY = Histogram("xinfang_http_request_duration_seconds", "HTTP request latency at the gateway",
                    ["route", "method"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
# Sign-in (services/gateway/signin.py). No user name as a label: it is personal, and an attacker picks it.
SIGN_IN_LOCKOUTS = Counter("xinfang_sign_in_lockouts_total",
                           "User names locked after too many consecutive wrong passwords")
SIGN_IN_ATTEMPTS = Counter("xinfang_sign_in_attempts_total", "Sign-in attempts by outcome", ["outcome"])
for _outcome in ("success", "wrong_password", "locked"):
    SIGN_IN_ATTEMPTS.labels(_outcome)  # present at 0 from the start, so rates work from the first one
# The petitioner's second factor at the public lifecycle endpoints (routes/lifecycle.py). No query code as a label:
# it is the petitioner's credential.
QUERY_CODE_LOCKOUTS = Counter("xinfang_query_code_lockouts_total",
                              "Query codes locked after too many consecutive wrong ID-number tails")
SECOND_FACTOR_CHECKS = Counter("xinfang_second_factor_checks_total",
                               "Petitioner second-factor checks by outcome", ["outcome"])
SECOND_FACTOR_OUTCOMES = ("verified", "wrong_tail", "locked", "anonymous", "unknown_code")
for _outcome in SECOND_FACTOR_OUTCOMES:
    SECOND_FACTOR_CHECKS.labels(_outcome)


class MetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            # The route template, never the raw path: paths carry ids and query codes.
            template = getattr(scope.get("route"), "path", "unmatched")
            REQUESTS.labels(template, scope["method"], f"{status // 100}xx").inc()
            LATENCY.labels(template, scope["method"]).observe(time.perf_counter() - started)

