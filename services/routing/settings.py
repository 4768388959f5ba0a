"""routing's settings (environment variables; see docs/configuration.md)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from shared.settings import PlatformSettings


class RoutingSettings(PlatformSettings):
    # The county's routing-rules table; the bundled demonstration table when unset.
    rules_file: Path | None = Field(None, alias="ROUTING_RULES_FILE")
