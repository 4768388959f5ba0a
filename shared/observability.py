"""Logging and the Prometheus endpoint of every process.

Metric names follow Prometheus conventions: prefix `xinfang_`, base units, `_total` for counters; labels never
carry petition ids or personal data.
"""

from __future__ import annotations

import logging
import os
import sys

from prometheus_client import start_http_server

_started_ports: set[int] = set()


def configure_logging(process: str) -> None:
    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format=f"%(asctime)s %(levelname)s {process} %(name)s: %(message)s",
    )
    for noisy in ("amqp", "kombu", "pymongo", "httpx", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def serve_metrics(port: int) -> None:
    """Expose /metrics on `port` (0 means this process exposes none); idempotent per process."""
    if port and port not in _started_ports:
        start_http_server(port, addr=os.environ.get("METRICS_ADDRESS", "127.0.0.1"))
        _started_ports.add(port)
