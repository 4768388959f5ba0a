"""supervision's settings (environment variables; see docs/configuration.md)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from shared.settings import PlatformSettings


class SupervisionSettings(PlatformSettings):
    # The statutory calendar's holiday table for years chinesecalendar does not cover (bundled rules/holidays.yaml).
    holiday_table_file: Path | None = Field(None, alias="HOLIDAY_TABLE_FILE")
    # The deadline rules (bundled rules/deadlines.yaml).
    deadline_rules_file: Path | None = Field(None, alias="DEADLINE_RULES_FILE")
