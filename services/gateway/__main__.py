"""Serving the gateway: `python -m services.gateway --host HOST --port PORT` (deploy/local/Procfile, compose,
Kubernetes, the image).

uvicorn's options that are security decisions are made here, from the gateway's settings, not on a command
line where they could be left out:
- uvicorn's own X-Forwarded-For handling is off: it trusts 127.0.0.1 by default (and `FORWARDED_ALLOW_IPS=*`
  trusted everyone), so a client could choose its own address and step around the rate limits. The app applies
  the proxies named in GATEWAY_TRUSTED_PROXIES itself (service.create_app).
- no `server: uvicorn` header, no access log (paths carry query codes);
- the request head limit (GATEWAY_MAX_HEADER_BYTES) and the platform's JSON answer when it is exceeded
  (server.GatewayH11Protocol).
"""

from __future__ import annotations

import argparse

import uvicorn

from services.gateway.server import AnsweredErrors, GatewayH11Protocol
from services.gateway.service import create_app
from services.gateway.settings import GatewaySettings
from shared.runtime.observability import install_redaction


def config(host: str, port: int, settings: GatewaySettings | None = None,
           timeout_graceful_shutdown: int | None = None) -> uvicorn.Config:
    settings = settings or GatewaySettings()
    served = uvicorn.Config(
        AnsweredErrors(create_app(settings)), host=host, port=port, http=GatewayH11Protocol, ws="none",
        lifespan="on", proxy_headers=False, forwarded_allow_ips="", server_header=False, access_log=False,
        h11_max_incomplete_event_size=settings.max_header_bytes, timeout_graceful_shutdown=timeout_graceful_shutdown,
    )
    install_redaction()  # uvicorn.Config set up uvicorn's own log handlers: they redact too
    return served


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m services.gateway", description="the platform's HTTP API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--timeout-graceful-shutdown", type=int, default=None)
    args = parser.parse_args(argv)
    uvicorn.Server(config(args.host, args.port, timeout_graceful_shutdown=args.timeout_graceful_shutdown)).run()


if __name__ == "__main__":
    main()
