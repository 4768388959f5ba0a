"""gateway's settings (environment variables; see docs/configuration.md)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from shared.language.contracts.registration import MAX_ATTACHMENT_BYTES
from shared.runtime.settings import PlatformSettings

DEVELOPMENT_JWT_SECRET = "development-only-secret-do-not-use-in-production"  # noqa: S105 - refused outside development


class GatewaySettings(PlatformSettings):
    jwt_secret: str = Field(DEVELOPMENT_JWT_SECRET, alias="GATEWAY_JWT_SECRET")
    token_ttl_minutes: int = Field(480, alias="GATEWAY_TOKEN_TTL_MINUTES")
    users_file: Path | None = Field(None, alias="GATEWAY_USERS_FILE")
    # How often, at most, the users file is checked for changes (seconds; 0: on every request that needs it).
    users_reload_seconds: float = Field(15.0, ge=0, le=60, alias="GATEWAY_USERS_RELOAD_SECONDS")
    # Per user name, across all gateway instances (services/gateway/signin.py): after this many consecutive wrong
    # passwords the name is locked for the lock-out time, doubled at each further lock-out up to the maximum; a
    # quiet period this long forgets the name's failures and lock-outs.
    sign_in_max_failures: int = Field(5, ge=1, alias="GATEWAY_SIGN_IN_MAX_FAILURES")
    sign_in_lockout_seconds: int = Field(60, ge=1, alias="GATEWAY_SIGN_IN_LOCKOUT_SECONDS")
    sign_in_lockout_max_seconds: int = Field(3600, ge=1, alias="GATEWAY_SIGN_IN_LOCKOUT_MAX_SECONDS")
    sign_in_forget_after_seconds: int = Field(86_400, ge=60, alias="GATEWAY_SIGN_IN_FORGET_AFTER_SECONDS")
    # Per query code: wrong ID-number tails (the petitioner's second factor) before the code is locked for the
    # sign-in lock-out times above (routes/lifecycle.py, docs/security.md).
    second_factor_max_failures: int = Field(5, ge=1, le=20, alias="GATEWAY_SECOND_FACTOR_MAX_FAILURES")
    # Per client address, for the public (petitioner) endpoints and the login endpoint (limits' syntax). One
    # address can be a whole bureau or service hall behind NAT, so these only stop floods; guessing is stopped by
    # 80-bit query codes and per-account sign-in throttling (sizing: docs/configuration.md).
    public_rate_limit: str = Field("300/minute", alias="GATEWAY_PUBLIC_RATE_LIMIT")
    login_rate_limit: str = Field("120/minute", alias="GATEWAY_LOGIN_RATE_LIMIT")
    # The reverse proxies whose X-Forwarded-For/-Proto the gateway believes (comma-separated IPs or CIDRs). Empty:
    # none, the direct peer is the client. services/gateway/__main__.py keeps uvicorn's own proxy handling off.
    trusted_proxies: str = Field("", alias="GATEWAY_TRUSTED_PROXIES")
    # /docs, /redoc and /openapi.json: on in development and test, off in production unless set to true.
    api_docs: bool | None = Field(None, alias="GATEWAY_API_DOCS")
    # The console's cookies (services/gateway/console/sessions.py): Secure always (true), never (false), or when the
    # request came over TLS, as the scheme or a trusted proxy's X-Forwarded-Proto says (auto).
    secure_cookies: Literal["auto", "true", "false"] = Field("auto", alias="GATEWAY_SECURE_COOKIES")
    # The audit logs' published public keys (<service>.pub) the auditor's console page verifies a case bundle with;
    # default <DATA_DIR>/audit-keys, where make run's checkpointer publishes them.
    audit_public_keys_dir: Path | None = Field(None, alias="GATEWAY_AUDIT_PUBLIC_KEYS_DIR")
    # Request head limits: bytes of the request line plus headers (uvicorn/h11's buffer), and header fields.
    max_header_bytes: int = Field(16_384, ge=1024, alias="GATEWAY_MAX_HEADER_BYTES")
    max_header_count: int = Field(100, ge=10, alias="GATEWAY_MAX_HEADER_COUNT")
    rate_limit_storage: str = Field("memory://", alias="GATEWAY_RATE_LIMIT_STORAGE")
    # intake's internal HTTP address(es), comma-separated when several intake instances run.
    # The broker's address as integrators reach it from outside (the AsyncAPI document's server); without it, the
    # host and port of this gateway's own AMQP_URI (never its user or password).
    integration_broker_uri: str = Field("", alias="INTEGRATION_BROKER_URI")
    intake_urls: str = Field("http://127.0.0.1:8101", alias="INTAKE_URLS")
    intake_internal_token: str = Field("", alias="INTAKE_INTERNAL_TOKEN")
    intake_timeout_seconds: float = Field(15.0, alias="GATEWAY_INTAKE_TIMEOUT")
    rpc_timeout_seconds: float = Field(10.0, alias="GATEWAY_RPC_TIMEOUT")
    max_body_bytes: int = Field(1_048_576, alias="GATEWAY_MAX_BODY_BYTES")
    # How much of a body over the limit is read and discarded before the 413, so that a client still sending gets
    # the answer instead of a reset; past this the connection is closed.
    max_body_drain_bytes: int = Field(16_777_216, ge=0, alias="GATEWAY_MAX_BODY_DRAIN_BYTES")
    # One uploaded attachment (POST /api/v1/attachments, routes/attachments.py); that route's body may be this much
    # plus the multipart framing, instead of GATEWAY_MAX_BODY_BYTES. At most the registration's per-file limit.
    attachment_max_bytes: int = Field(10_485_760, ge=1, le=MAX_ATTACHMENT_BYTES, alias="GATEWAY_ATTACHMENT_MAX_BYTES")
    # The assessment rates (GET /api/v1/assessment/rates; docs/assessment.md), where the definitions leave a choice;
    # every report shows them in its `settings`. Items whose deadline had not passed by the cut-off count in the
    # timely-acceptance and on-time-reply denominators (not by default: they could still be met).
    assessment_not_yet_due_counts: bool = Field(False, alias="ASSESSMENT_NOT_YET_DUE_COUNTS")
    # 基本满意 counts as satisfied in the satisfaction rate's numerator (the common local rule).
    assessment_basically_satisfied_counts: bool = Field(True, alias="ASSESSMENT_BASICALLY_SATISFIED_COUNTS")
    # A rating a clerk took on a return visit (回访) counts as a rating, as the petitioner's own online one does.
    assessment_return_visits_count: bool = Field(True, alias="ASSESSMENT_RETURN_VISITS_COUNT")
    # The longest period one report may cover (days, both ends included): about three years.
    assessment_max_period_days: int = Field(1096, ge=1, le=3660, alias="ASSESSMENT_MAX_PERIOD_DAYS")

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        # uvicorn would take a mistyped entry as a literal host name that never matches: say so at start instead.
        for entry in (p.strip() for p in value.split(",") if p.strip()):
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"GATEWAY_TRUSTED_PROXIES: {entry!r} is not an IP address or network") from None
        return value

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

    @property
    def trusted_proxy_list(self) -> list[str]:
        return [p.strip() for p in self.trusted_proxies.split(",") if p.strip()]

    @property
    def api_docs_enabled(self) -> bool:
        return self.api_docs if self.api_docs is not None else self.env != "production"

    @property
    def audit_public_keys_path(self) -> Path:
        return self.audit_public_keys_dir or self.data_dir / "audit-keys"
