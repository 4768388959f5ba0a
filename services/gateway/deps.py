"""FastAPI dependencies: the process's collaborators, the caller's identity, rate limits.

They are `async`: none of them blocks (an in-memory rate-limit store checked inline or a shared one through
`limits.aio`, a JWT check, a dictionary lookup), and FastAPI runs a plain `def` dependency in its thread pool, a
thread hand-off per dependency per request. The one blocking step, the revoked-token lookup, is handed to the thread
pool explicitly, and only for requests that carry a token (the anonymous registration path pays nothing).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.security import OAuth2PasswordBearer
from limits import RateLimitItem, parse
from limits import strategies as sync_strategies
from limits.aio import strategies
from limits.storage import storage_from_string
from starlette.concurrency import run_in_threadpool

from services.gateway.attachments import UploadTokens
from services.gateway.clients import IntakeHttp, RpcPool
from services.gateway.errors import ApiError
from services.gateway.security import Principal, Role, TokenError, TokenService, UserDirectory
from services.gateway.settings import GatewaySettings
from services.gateway.signin import QueryCodeThrottle, RevokedTokens, SignInThrottle
from shared.language.contracts.actor import PLAIN_TOKEN
from shared.runtime.storage import BlobStore, open_blob_store

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


class RateLimits:
    """Moving-window limits per client address (the `limits` library; shared storage when configured)."""

    def __init__(self, settings: GatewaySettings) -> None:
        uri = settings.rate_limit_storage
        # The process's own memory is checked inline: nothing there blocks, and the asyncio flavour hands each
        # key's expiry to a thread on every hit (measured: ~25-50 against ~90-120 us of CPU per hit). A shared
        # store (redis://, ...) is reached through its asyncio flavour, on the event loop.
        self._local = uri.removeprefix("async+").startswith("memory://")
        self._limiter: Any = (
            sync_strategies.MovingWindowRateLimiter(storage_from_string(uri.removeprefix("async+"))) if self._local
            else strategies.MovingWindowRateLimiter(
                storage_from_string(uri if uri.startswith("async+") else f"async+{uri}")))
        self.public = parse(settings.public_rate_limit)
        self.login = parse(settings.login_rate_limit)

    async def check(self, item: RateLimitItem, scope: str, client: str) -> None:
        allowed = self._limiter.hit(item, scope, client)
        if not (allowed if self._local else await allowed):
            stats = self._limiter.get_window_stats(item, scope, client)
            reset = (stats if self._local else await stats).reset_time
            retry_after = str(max(int(reset - time.time()), 1))
            raise ApiError(429, "rate_limited", "请求过于频繁，请稍后再试", headers={"Retry-After": retry_after})


@dataclass
class Gateway:
    """Everything the endpoints use, built once by the composition root (service.create_app)."""

    settings: GatewaySettings
    intake: IntakeHttp
    rpc: RpcPool
    users: UserDirectory
    tokens: TokenService
    rate_limits: RateLimits
    sign_in: SignInThrottle = field(init=False)  # in the shared database, built from the settings
    query_codes: QueryCodeThrottle = field(init=False)  # the petitioner's second factor, per query code
    revoked_tokens: RevokedTokens = field(init=False)
    attachments: BlobStore = field(init=False)  # the attachment store (ATTACHMENT_STORE: folder or S3)
    upload_tokens: UploadTokens = field(init=False)  # an upload's proof, checked at registration (attachments.py)

    def __post_init__(self) -> None:
        s = self.settings
        self.sign_in = SignInThrottle(
            s.jwt_secret, s.sign_in_max_failures, timedelta(seconds=s.sign_in_lockout_seconds),
            timedelta(seconds=s.sign_in_lockout_max_seconds), timedelta(seconds=s.sign_in_forget_after_seconds))
        self.query_codes = QueryCodeThrottle(  # lock-outs as long as sign-in's (docs/security.md)
            s.jwt_secret, s.second_factor_max_failures, timedelta(seconds=s.sign_in_lockout_seconds),
            timedelta(seconds=s.sign_in_lockout_max_seconds), timedelta(seconds=s.sign_in_forget_after_seconds))
        self.revoked_tokens = RevokedTokens()
        self.attachments = open_blob_store(s)
        self.upload_tokens = UploadTokens(s.jwt_secret)

    def close(self) -> None:
        self.intake.close()
        self.rpc.close()


async def gateway(request: Request) -> Gateway:
    return request.app.state.gateway


GatewayDep = Annotated[Gateway, Depends(gateway)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def public_rate_limit(request: Request, gw: GatewayDep) -> None:
    await gw.rate_limits.check(gw.rate_limits.public, "public", client_address(request))


async def login_rate_limit(request: Request, gw: GatewayDep) -> None:
    await gw.rate_limits.check(gw.rate_limits.login, "login", client_address(request))


async def optional_principal(gw: GatewayDep, token: Annotated[str | None, Depends(oauth2)]) -> Principal | None:
    """The signed-in officer, or None for an anonymous petitioner. A bad token is refused, not ignored; so is an
    integrator's (403): it reads the integration feed alone, and never acts as an officer or a petitioner."""
    principal = await account_principal(gw, token)
    if principal is not None and principal.role is Role.INTEGRATOR:
        raise ApiError(403, "integrator_account", "集成方账号只能用于集成事件订阅源（/api/v1/integration/feed）")
    return principal


async def account_principal(gw: GatewayDep, token: Annotated[str | None, Depends(oauth2)]) -> Principal | None:
    """The signed-in account, officer or integrator, or None without a token. A bad token is refused."""
    if token is None:
        return None
    try:
        principal = gw.tokens.verify(token)
    except TokenError:
        raise ApiError(401, "invalid_token", "登录已失效，请重新登录", headers={"WWW-Authenticate": "Bearer"}) from None
    if not gw.users.still_holds(principal):  # removed, moved to another role or organ, or a new password
        raise ApiError(401, "invalid_token", "账号信息已变更，请重新登录", headers={"WWW-Authenticate": "Bearer"})
    # One lookup by primary key in the shared database, off the event loop (only for requests with a token).
    if await run_in_threadpool(gw.revoked_tokens.is_revoked, principal.token_id):
        raise ApiError(401, "invalid_token", "您已退出登录，请重新登录", headers={"WWW-Authenticate": "Bearer"})
    return principal


def require_roles(*roles: Role):  # noqa: ANN201 - returns a FastAPI dependency
    async def dependency(principal: Annotated[Principal | None, Depends(optional_principal)]) -> Principal:
        if principal is None:
            raise ApiError(401, "unauthorized", "请先登录", headers={"WWW-Authenticate": "Bearer"})
        if principal.role not in roles:
            raise ApiError(403, "forbidden", "您的角色无权执行此操作")
        return principal

    return dependency




async def correlation_id(x_correlation_id: Annotated[str | None, Header()] = None) -> str:
    """The caller's X-Correlation-ID (checked: it travels in AMQP properties and logs), or a new one."""
    if x_correlation_id is None:
        return str(uuid.uuid4())
    if not PLAIN_TOKEN.fullmatch(x_correlation_id):
        raise ApiError(422, "invalid_correlation_id", "X-Correlation-ID 只能包含1至64个英文字母、数字及 . _ : - 字符")
    return x_correlation_id


CorrelationIdDep = Annotated[str, Depends(correlation_id)]

OFFICER_ROLES = (Role.CLERK, Role.ORGAN_OFFICER, Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN)
