"""intake's settings (environment variables; see docs/configuration.md)."""

from __future__ import annotations

from pydantic import Field

from shared.settings import PlatformSettings


class IntakeSettings(PlatformSettings):
    # Upper bound of petitions saved in one transaction by the group committer. Concurrency (and so the batch
    # size reached) is bounded by the intake process's nameko workers (INTAKE_MAX_WORKERS in the Procfile).
    group_commit_max_batch: int = Field(200, alias="INTAKE_GROUP_COMMIT_MAX_BATCH")
