"""Who is calling a service over RPC, proven rather than claimed.

The broker is not a trust boundary: anyone with broker credentials can publish an RPC request. So a call carries a
short-lived signed assertion (a JWT, HS256 with PLATFORM_RPC_SECRET, which only the platform's own processes hold):
the gateway asserts the officer or petitioner it acts for (`actor`), a service asserts only itself. The callee
checks the signature, its own name as the audience, the expiry and that the issuer is one it serves, and refuses
anything else (docs/security.md, "Callers of the services").
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from pydantic import ValidationError

from shared.language.contracts.actor import Actor
from shared.runtime.settings import DEVELOPMENT_RPC_SECRET, PlatformSettings

GATEWAY = "gateway"
AUDIT = "audit"  # the audit service: asks supervision and notification for their part of a case
NOTIFICATION = "notification"  # asks supervision what a step recorded, to compose its notice
ALGORITHM = "HS256"
LEEWAY_SECONDS = 5  # clocks of two machines of one installation


class CallerRefused(Exception):
    """The call carries no valid assertion from a caller this service serves."""


@dataclass(frozen=True)
class Caller:
    issuer: str  # "gateway" or a service's name
    actor: dict[str, Any] | None  # whom the gateway acts for; None for a service calling on its own account


class CallerAssertions:
    def __init__(self, secret: str, issuer: str, ttl_seconds: float = 60) -> None:
        self._secret = secret
        self.issuer = issuer
        self._ttl = timedelta(seconds=ttl_seconds)

    def assertion(self, audience: str, method: str, actor: dict[str, Any] | None = None) -> str:
        """A token saying this process calls `audience`.`method` (for `actor`, which only the gateway may assert):
        bound to the method, so a copy cannot be replayed against another one."""
        now = datetime.now(UTC)
        claims: dict[str, Any] = {"iss": self.issuer, "aud": audience, "rpc": method, "iat": now,
                                  "exp": now + self._ttl}
        if actor is not None:
            claims["act"] = Actor.model_validate(actor).model_dump()
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: Any, *, audience: str, method: str, issuers: Collection[str]) -> Caller:
        """The proven caller; refuses a missing, forged, expired or misdirected token (another service or
        method), an issuer `audience` does not serve, an actor asserted by anyone but the gateway, and an actor
        the gateway did not assert."""
        if not isinstance(token, str):
            raise CallerRefused("no caller assertion")
        try:
            claims = jwt.decode(token, self._secret, algorithms=[ALGORITHM], audience=audience,
                                leeway=LEEWAY_SECONDS, options={"require": ["iss", "aud", "iat", "exp", "rpc"]})
        except jwt.PyJWTError as error:
            raise CallerRefused(f"caller assertion refused: {type(error).__name__}") from None
        if claims["rpc"] != method:
            raise CallerRefused(f"an assertion for {audience}.{claims['rpc']!r} is not one for {method}")
        issuer = claims["iss"]
        if issuer not in issuers:
            raise CallerRefused(f"{audience} does not serve {issuer!r} here")
        actor = claims.get("act")
        if (actor is not None) != (issuer == GATEWAY):
            raise CallerRefused("only the gateway asserts an actor, and always")
        if actor is not None:
            try:
                actor = Actor.model_validate(actor).model_dump()
            except ValidationError:
                raise CallerRefused("malformed actor") from None
        return Caller(issuer, actor)


def caller_assertions(settings: PlatformSettings, issuer: str) -> CallerAssertions:
    """This process's assertions; outside development and tests the shared secret must be set (≥ 32 chars)."""
    secret = settings.rpc_secret
    if settings.env == "production" and (secret == DEVELOPMENT_RPC_SECRET or len(secret) < 32):
        raise ValueError("PLATFORM_RPC_SECRET must be set to the same random value (at least 32 characters) on the "
                         "gateway and every service outside development; refusing to start with the default")
    return CallerAssertions(secret, issuer, settings.rpc_assertion_ttl_seconds)
