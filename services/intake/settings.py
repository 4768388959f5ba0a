"""intake's settings (environment variables; see docs/configuration.md)."""

from __future__ import annotations

from pydantic import Field

from shared.settings import PlatformSettings


class IntakeSettings(PlatformSettings):
    # Upper bound of petitions saved in one transaction by the group committer.
    group_commit_max_batch: int = Field(200, alias="INTAKE_GROUP_COMMIT_MAX_BATCH")
