"""intake's settings (environment variables; see docs/configuration.md)."""

from __future__ import annotations

from pydantic import Field, model_validator

from shared.settings import PlatformSettings


class IntakeSettings(PlatformSettings):
    # Upper bound of petitions saved in one transaction by the group committer. Concurrency (and so the batch
    # size reached) is bounded by the intake process's nameko workers (INTAKE_MAX_WORKERS in the Procfile).
    group_commit_max_batch: int = Field(200, alias="INTAKE_GROUP_COMMIT_MAX_BATCH")
    # Shared with the gateway: the internal HTTP API answers only requests that carry it (when set).
    internal_token: str = Field("", alias="INTAKE_INTERNAL_TOKEN")

    @model_validator(mode="after")
    def _token_outside_development(self) -> IntakeSettings:
        if self.env == "production" and len(self.internal_token) < 32:
            raise ValueError("INTAKE_INTERNAL_TOKEN must be set (at least 32 random characters) in production")
        return self
