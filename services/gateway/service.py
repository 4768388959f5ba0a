"""The gateway's composition root: `uvicorn --factory services.gateway.service:create_app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.gateway import errors
from services.gateway.clients import IntakeHttp, RpcPool
from services.gateway.deps import Gateway, RateLimits
from services.gateway.bodylimit import BodySizeLimit
from services.gateway.metrics import MetricsMiddleware
from services.gateway.routes import audit, auth, lifecycle, petitions, system
from services.gateway.security import TokenService, UserDirectory
from services.gateway.settings import GatewaySettings
from shared.observability import configure_logging
from shared.readmodels import connect_read_models

DESCRIPTION = """
信访事项处理平台的对外接口。信访人凭查询码查询办理进展；工作人员登录后查看完整信息。

Machine fields are English; messages for people (`message`, `text`, `name`) are Chinese.
Integration events (CloudEvents 1.0) are described under *integration*.
"""


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()  # refuses a default JWT secret outside development
    configure_logging("gateway")
    connect_read_models(settings.mongodb_uri)
    gateway = Gateway(
        settings=settings,
        intake=IntakeHttp(settings.intake_url_list, settings.intake_internal_token, settings.intake_timeout_seconds),
        rpc=RpcPool(settings.amqp_uri, settings.rpc_timeout_seconds),
        users=UserDirectory.load(settings.users_file),
        tokens=TokenService(settings.jwt_secret, settings.token_ttl_minutes),
        rate_limits=RateLimits(settings),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        gateway.close()

    app = FastAPI(title="信访事项处理平台 API", version="1.0.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.gateway = gateway
    errors.install(app)
    too_large = errors.problem(413, "payload_too_large",
                               f"提交的内容过大（上限{settings.max_body_bytes // 1024}KB），附件请另行上传")
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes, refuse=too_large)
    app.add_middleware(MetricsMiddleware)

    app.include_router(petitions.router)
    app.include_router(lifecycle.router)
    app.include_router(auth.router)
    app.include_router(system.router)
    app.include_router(audit.router)
    return app
