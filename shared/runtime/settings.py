"""Platform-wide settings, read from the environment (see docs/configuration.md).

Every process builds one `PlatformSettings` in its composition root; services extend it with their own keys.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT = "development"
DEFAULT_COUNTY_CODE = "330106"
DEVELOPMENT_RPC_SECRET = "development-only-rpc-secret-do-not-use-in-production"  # noqa: S105 - refused in production


def county_code_from_environment() -> str:
    """The county code alone, for code that needs no other setting (e.g. nameko entrypoints)."""
    return os.environ.get("XINFANG_COUNTY_CODE", DEFAULT_COUNTY_CODE)


def province_sources_from_environment() -> frozenset[str]:
    """The CloudEvents `source`s whose matters the county takes (PROVINCE_SOURCES, comma-separated; by default its
    own province's, `urn:xinfang:province:<the county code's first two digits>0000`): anything else is
    dead-lettered."""
    configured = os.environ.get("PROVINCE_SOURCES", "")
    sources = {source.strip() for source in configured.split(",") if source.strip()}
    return frozenset(sources or {f"urn:xinfang:province:{county_code_from_environment()[:2]}0000"})


class PlatformSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    env: Literal["development", "test", "production"] = Field("production", alias="XINFANG_ENV")
    county_code: str = Field(DEFAULT_COUNTY_CODE, alias="XINFANG_COUNTY_CODE")
    # Prefix of every exchange and queue this deployment declares, so two deployments (or test runs) can
    # share one broker without seeing each other's messages.
    namespace: str = Field("xinfang", alias="XINFANG_NAMESPACE")

    amqp_uri: str = Field("amqp://guest:guest@127.0.0.1:5672/", alias="AMQP_URI")
    mongodb_uri: str = Field("mongodb://127.0.0.1:27017/xinfang", alias="MONGODB_URI")

    event_store: Literal["sqlite", "postgres"] = Field("sqlite", alias="EVENT_STORE")
    data_dir: Path = Field(Path("var"), alias="DATA_DIR")
    postgres_host: str = Field("127.0.0.1", alias="POSTGRES_HOST")
    postgres_port: int = Field(5432, alias="POSTGRES_PORT")
    postgres_user: str = Field("postgres", alias="POSTGRES_USER")
    postgres_password: str = Field("", alias="POSTGRES_PASSWORD")
    postgres_dbname: str = Field("postgres", alias="POSTGRES_DBNAME")
    postgres_schema_prefix: str = Field("xinfang_", alias="POSTGRES_SCHEMA_PREFIX")
    postgres_pool_size: int = Field(5, alias="POSTGRES_POOL_SIZE")
    # Log followers (relays, projectors, dispatchers) read in one thread: a small pool is plenty.
    follower_pool_size: int = Field(2, alias="FOLLOWER_POSTGRES_POOL_SIZE")

    # The county's organs and routing rules (versioned YAML; the bundled demonstration table when unset): routing
    # applies the rules, supervision checks the organ codes officers name.
    routing_rules_file: Path | None = Field(None, alias="ROUTING_RULES_FILE")

    # Signs the assertions of who calls a service over RPC (shared/runtime/callers.py): the same value on the gateway and
    # every service, never given to integrators. Required (at least 32 characters) outside development.
    rpc_secret: str = Field(DEVELOPMENT_RPC_SECRET, alias="PLATFORM_RPC_SECRET")
    rpc_assertion_ttl_seconds: float = Field(60.0, alias="PLATFORM_RPC_ASSERTION_TTL", gt=0, le=600)
    # How long a service waits for another's RPC reply before giving the message back to its retry (shared/runtime/
    # nameko_support.py, BoundedRpcProxy): nameko 2.14 would wait for ever, and a reply can be lost.
    rpc_reply_timeout_seconds: float = Field(30.0, alias="PLATFORM_RPC_TIMEOUT", gt=0, le=600)

    metrics_port: int = Field(0, alias="METRICS_PORT")  # 0: no metrics server in this process
    # 0-19: how far this process stands back for the others on a shared machine (shared/runtime/priority.py).
    process_niceness: int = Field(0, alias="PROCESS_NICENESS", ge=0, le=19)
    follower_poll_interval: float = Field(0.05, alias="FOLLOWER_POLL_INTERVAL")
    # Seconds between measurements of each log follower's lag (store head minus recorded position), taken on a thread
    # of its own so that a wedged follower shows (shared/runtime/follower.py, LagWatcher).
    follower_watch_interval: float = Field(5.0, alias="FOLLOWER_WATCH_INTERVAL", gt=0, le=300)

    # Where attached files are kept, by the SHA-256 of their content (shared/runtime/storage.py): `folder`, under
    # DATA_DIR/attachments (one machine), or `s3`, an S3-compatible bucket (several gateway instances, production).
    attachment_store: Literal["folder", "s3"] = Field("folder", alias="ATTACHMENT_STORE")
    attachment_s3_endpoint_url: str | None = Field(None, alias="ATTACHMENT_S3_ENDPOINT_URL")  # None: AWS itself
    attachment_s3_bucket: str = Field("", alias="ATTACHMENT_S3_BUCKET")
    attachment_s3_prefix: str = Field("attachments/", alias="ATTACHMENT_S3_PREFIX")
    attachment_s3_region: str = Field("us-east-1", alias="ATTACHMENT_S3_REGION")
    # Unset: boto3's own chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, the instance's role).
    attachment_s3_access_key_id: str | None = Field(None, alias="ATTACHMENT_S3_ACCESS_KEY_ID")
    attachment_s3_secret_access_key: SecretStr | None = Field(None, alias="ATTACHMENT_S3_SECRET_ACCESS_KEY")
    attachment_s3_addressing_style: Literal["path", "virtual", "auto"] = Field(
        "path", alias="ATTACHMENT_S3_ADDRESSING_STYLE")
    attachment_s3_timeout_seconds: float = Field(10.0, gt=0, le=120, alias="ATTACHMENT_S3_TIMEOUT")

    @field_validator("county_code")
    @classmethod
    def _county_code_is_six_digits(cls, value: str) -> str:
        if len(value) != 6 or not value.isdigit():
            raise ValueError("XINFANG_COUNTY_CODE must be a 6-digit administrative division code")
        return value

    @model_validator(mode="after")
    def _store_chosen_outside_development(self) -> Self:
        # A forgotten EVENT_STORE must not quietly keep a county's records in a container's local SQLite file.
        if self.env == "production" and "event_store" not in self.model_fields_set:
            raise ValueError("EVENT_STORE must be set explicitly in production (postgres, or sqlite for a "
                             "single-machine installation)")
        return self

    @model_validator(mode="after")
    def _bucket_named_for_s3(self) -> Self:
        if self.attachment_store == "s3" and not self.attachment_s3_bucket:
            raise ValueError("ATTACHMENT_S3_BUCKET must name the bucket when ATTACHMENT_STORE=s3")
        return self

    def for_follower(self) -> Self:
        """These settings for a log-follower process (a smaller connection pool)."""
        return self.model_copy(update={"postgres_pool_size": self.follower_pool_size})

    @property
    def is_development(self) -> bool:
        return self.env == DEVELOPMENT

    def event_source(self, service: str) -> str:
        """CloudEvents `source` of events published by `service` in this county."""
        return f"urn:xinfang:{self.county_code}:{service}"
