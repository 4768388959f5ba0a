"""intake's settings (environment variables; see docs/configuration.md)."""

from __future__ import annotations

from pydantic import Field, model_validator

from shared.runtime.settings import PlatformSettings


class IntakeSettings(PlatformSettings):
    # Upper bound of petitions saved in one transaction by the group committer. Concurrency (and so the batch
    # size reached) is bounded by the intake process's nameko workers (INTAKE_MAX_WORKERS in the Procfile).
    group_commit_max_batch: int = Field(200, alias="INTAKE_GROUP_COMMIT_MAX_BATCH")
    # Shared with the gateway: the internal HTTP API answers only requests that carry it (when set).
    internal_token: str = Field("", alias="INTAKE_INTERNAL_TOKEN")
    # Key of the keyed hash that turns an identity (ID number, name + phone, accused party) into a petitioner-file
    # id (services/intake/repeats.py). Changing it starts every file afresh: earlier petitions are no longer found.
    person_key_secret: str = Field("development-only-person-key-secret", alias="INTAKE_PERSON_KEY_SECRET")
    # From which similarity (0-100, rapidfuzz set ratio on character bigrams) two petitions of one person are
    # the same matter (同事; docs/domain.md §"Repeats and finality").
    repeat_similarity: float = Field(60.0, ge=0, le=100, alias="INTAKE_REPEAT_SIMILARITY")

    @model_validator(mode="after")
    def _token_outside_development(self) -> IntakeSettings:
        if self.env == "production" and len(self.internal_token) < 32:
            raise ValueError("INTAKE_INTERNAL_TOKEN must be set (at least 32 random characters) in production")
        if self.env == "production" and ("person_key_secret" not in self.model_fields_set
                                          or len(self.person_key_secret) < 32):
            raise ValueError("INTAKE_PERSON_KEY_SECRET must be set (at least 32 random characters) in production")
        return self
