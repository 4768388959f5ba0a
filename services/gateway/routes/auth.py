"""Officer sign-in: OAuth2 password flow issuing signed JWT bearer tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from services.gateway.deps import GatewayDep, login_rate_limit
from services.gateway.errors import ApiError
from services.gateway.schemas import Problem, Token

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/token", response_model=Token, dependencies=[Depends(login_rate_limit)],
             responses={401: {"model": Problem}, 429: {"model": Problem}})
def issue_token(gw: GatewayDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    """Sign in with user name and password; returns a bearer token for the officer endpoints."""
    principal = gw.users.authenticate(form.username, form.password)
    if principal is None:
        raise ApiError(401, "invalid_credentials", "用户名或密码错误", headers={"WWW-Authenticate": "Bearer"})
    return Token(access_token=gw.tokens.issue(principal), expires_in=gw.tokens.ttl_seconds,
                 role=principal.role.value, organ_code=principal.organ_code)
