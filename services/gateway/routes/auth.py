"""Officer sign-in and sign-out: OAuth2 password flow issuing signed JWT bearer tokens.

Sign-in is limited per client address (deps.login_rate_limit) and per user name across all gateway instances
(signin.SignInThrottle, docs/security.md): a name locked after repeated wrong passwords is refused, the right
password included, until its lock-out ends.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from services.gateway.deps import GatewayDep, account_principal, client_address, login_rate_limit
from services.gateway.errors import ApiError
from services.gateway.metrics import SIGN_IN_ATTEMPTS
from services.gateway.schemas import Problem, Token
from services.gateway.security import Principal
from services.gateway.signin import Lockout

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


def _locked(lockout: Lockout) -> ApiError:
    return lockout.refusal("account_locked", "登录失败次数过多，账号已暂时锁定")


@router.post("/token", response_model=Token, dependencies=[Depends(login_rate_limit)],
             responses={401: {"model": Problem}, 429: {"model": Problem}})
def issue_token(request: Request, gw: GatewayDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    """Sign in with user name and password; returns a bearer token for the officer endpoints. After too many
    consecutive wrong passwords for a user name, it is locked for a while: 429 `account_locked` with
    `Retry-After` (seconds), whatever the password."""
    attempt = gw.sign_in.begin(gw.sign_in.key(form.username))
    if isinstance(attempt, Lockout):  # before the password: argon2's CPU is not spent on a locked name
        SIGN_IN_ATTEMPTS.labels("locked").inc()
        raise _locked(attempt)
    principal = gw.users.authenticate(form.username, form.password)
    if principal is None:
        SIGN_IN_ATTEMPTS.labels("wrong_password").inc()
        known = form.username if gw.users.exists(form.username) else None  # never store a made-up name
        lockout = gw.sign_in.failed(attempt, known, client_address(request))
        if lockout is not None:
            raise _locked(lockout)
        raise ApiError(401, "invalid_credentials", "用户名或密码错误", headers={"WWW-Authenticate": "Bearer"})
    SIGN_IN_ATTEMPTS.labels("success").inc()
    gw.sign_in.succeeded(attempt.key)
    return Token(access_token=gw.tokens.issue(principal), expires_in=gw.tokens.ttl_seconds,
                 role=principal.role.value, organ_code=principal.organ_code)


@router.post("/sign-out", status_code=204, response_class=Response, responses={401: {"model": Problem}})
def sign_out(gw: GatewayDep, principal: Annotated[Principal | None, Depends(account_principal)]) -> Response:
    """Revoke the bearer token presented: every gateway instance refuses it from now on (401). The officer's
    other tokens (other devices) stay valid."""
    if principal is None:
        raise ApiError(401, "unauthorized", "请先登录", headers={"WWW-Authenticate": "Bearer"})
    gw.revoked_tokens.revoke(principal.token_id, principal.token_expires)
    return Response(status_code=204)
