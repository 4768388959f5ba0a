"""gateway's settings (environment variables; see docs/configuration.md)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from shared.settings import PlatformSettings

DEVELOPMENT_JWT_SECRET = "development-only-secret-do-not-use-in-production"


class GatewaySettings(PlatformSettings):
    jwt_secret: str = Field(DEVELOPMENT_JWT_SECRET, alias="GATEWAY_JWT_SECRET")
    token_ttl_minutes: int = Field(480, alias="GATEWAY_TOKEN_TTL_MINUTES")
    users_file: Path | None = Field(None, alias="GATEWAY_USERS_FILE")
    # Per client address, for the public (petitioner) endpoints and the login endpoint (limits' syntax).
    public_rate_limit: str = Field("60/minute", alias="GATEWAY_PUBLIC_RATE_LIMIT")
    login_rate_limit: str = Field("10/minute", alias="GATEWAY_LOGIN_RATE_LIMIT")
    rate_limit_storage: str = Field("memory://", alias="GATEWAY_RATE_LIMIT_STORAGE")
    # intake's internal HTTP address(es), comma-separated when several intake instances run.
    intake_urls: str = Field("http://127.0.0.1:8101", alias="INTAKE_URLS")
    intake_internal_token: str = Field("", alias="INTAKE_INTERNAL_TOKEN")
    intake_timeout_seconds: float = Field(15.0, alias="GATEWAY_INTAKE_TIMEOUT")
    rpc_timeout_seconds: float = Field(10.0, alias="GATEWAY_RPC_TIMEOUT")
    max_body_bytes: int = Field(1_048_576, alias="GATEWAY_MAX_BODY_BYTES")

    @model_validator(mode="after")
    def _no_default_secret_outside_development(self) -> GatewaySettings:
        if not self.is_development and (self.jwt_secret == DEVELOPMENT_JWT_SECRET or len(self.jwt_secret) < 32):
            raise ValueError(
                "GATEWAY_JWT_SECRET must be set to a random value of at least 32 characters outside development "
                "(XINFANG_ENV=development); refusing to start with the default secret"
            )
        return self

    @property
    def intake_url_list(self) -> list[str]:
        return [u.strip().rstrip("/") for u in self.intake_urls.split(",") if u.strip()]
