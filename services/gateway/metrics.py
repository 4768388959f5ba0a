"""HTTP metrics (RED): requests by route template, method and status class; latency histogram; /metrics."""

from __future__ import annotations

import time

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response

REQUESTS = Counter("xinfang_http_requests_total", "HTTP requests served by the gateway",
                   ["route", "method", "status_class"])
LATENCY = Histogram("xinfang_http_request_duration_seconds", "HTTP request latency at the gateway",
                    ["route", "method"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


class MetricsMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = request.scope.get("route")
            # The route template, never the raw path: paths carry ids and query codes.
            template = getattr(route, "path", "unmatched")
            REQUESTS.labels(template, request.method, f"{status // 100}xx").inc()
            LATENCY.labels(template, request.method).observe(time.perf_counter() - started)


def metrics_response() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
