"""The gateway's composition root; served by `python -m services.gateway` (services/gateway/__main__.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from services.gateway import console, errors
from services.gateway.bodylimit import BodySizeLimit
from services.gateway.clients import IntakeHttp, RpcPool
from services.gateway.deps import Gateway, RateLimits
from services.gateway.headers import SecurityHeaders
from services.gateway.headlimit import RequestHeadLimit
from services.gateway.jsonbody import UniqueJsonKeys
from services.gateway.metrics import MetricsMiddleware
from services.gateway.routes import (
    assessment,
    attachments,
    audit,
    auth,
    cases,
    contract,
    docs,
    feed,
    hotspots,
    lifecycle,
    notices,
    petitions,
    reference,
    supervision,
    system,
    warnings,
)
from services.gateway.security import TokenService, UserDirectory
from services.gateway.settings import GatewaySettings
from shared.language.readmodels import connect_read_models
from shared.runtime.callers import GATEWAY, caller_assertions
from shared.runtime.observability import configure_logging, serve_metrics

DESCRIPTION = """
信访事项处理平台的对外接口。信访人凭查询码查询办理进展；工作人员登录后查看完整信息。

Machine fields are English; messages for people (`message`, `text`, `name`) are Chinese.
Integration events (CloudEvents 1.0) are described under *integration*.
"""


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()  # refuses a default JWT secret outside development
    configure_logging("gateway")
    serve_metrics(settings.metrics_port)  # METRICS_PORT: never the public port
    connect_read_models(settings.mongodb_uri)
    gateway = Gateway(
        settings=settings,
        intake=IntakeHttp(settings.intake_url_list, settings.intake_internal_token, settings.intake_timeout_seconds),
        rpc=RpcPool(settings.amqp_uri, settings.rpc_timeout_seconds, caller_assertions(settings, GATEWAY)),
        users=UserDirectory.load(settings.users_file, settings.users_reload_seconds),
        tokens=TokenService(settings.jwt_secret, settings.token_ttl_minutes),
        rate_limits=RateLimits(settings),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        gateway.close()

    app = FastAPI(title="信访事项处理平台 API", version="1.0.0", description=DESCRIPTION, lifespan=lifespan,
                  openapi_url="/openapi.json" if settings.api_docs_enabled else None,
                  docs_url=None, redoc_url=None)  # served from the platform's own assets (routes/docs.py)
    app.state.gateway = gateway
    errors.install(app, page=console.web.browser_page)  # an unknown address asked by a browser: a page, not JSON
    too_large = errors.problem(413, "payload_too_large",
                               f"提交的内容过大（上限{settings.max_body_bytes // 1024}KB），附件请另行上传")
    app.add_middleware(UniqueJsonKeys)  # inside BodySizeLimit: reads only bodies within the limit
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes, refuse=too_large,
                       drain_bytes=settings.max_body_drain_bytes,
                       paths={**attachments.upload_limits(settings.attachment_max_bytes),  # a file, not JSON
                              **console.form_limits(settings)})  # the petition forms, with their files
    app.add_middleware(RequestHeadLimit, max_count=settings.max_header_count, max_bytes=settings.max_header_bytes)
    app.add_middleware(MetricsMiddleware)
    if settings.trusted_proxy_list:  # X-Forwarded-For counts only when the direct peer is a named proxy
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxy_list)
    app.add_middleware(SecurityHeaders)  # outermost: every answer, the refusals above included

    app.include_router(petitions.router)
    app.include_router(lifecycle.router)
    app.include_router(auth.router)
    app.include_router(system.router)
    app.include_router(contract.router)  # the AsyncAPI document of the integration events (docs/integration-events.md)
    app.include_router(audit.router)
    app.include_router(cases.router)  # work lists and the bureau's search (docs/api.md §"Work lists and search")
    app.include_router(reference.router)
    app.include_router(attachments.router)
    app.include_router(notices.router)  # the bureau's notices: print, post, receipt, re-send (docs/api.md)
    app.include_router(assessment.router)  # the assessment rates (docs/api.md §"Assessment rates")
    app.include_router(warnings.router)  # early warnings (docs/api.md §"Early warning and hot spots")
    app.include_router(hotspots.router)  # hot spots and the monthly report (same section)
    app.include_router(supervision.router)  # supervision orders and the backlog ledger (§"Supervision lists")
    app.include_router(feed.router)  # integrators catching up (docs/integration-events.md §"Catching up")
    if settings.api_docs_enabled:
        docs.install(app)
    console.install(app)  # the web pages (/, /petition/new, /status, /console/): docs/console.md
    return app
