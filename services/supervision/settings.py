"""supervision's settings (environment variables; see docs/configuration.md)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from shared.runtime.settings import PlatformSettings


class SupervisionSettings(PlatformSettings):
    # The statutory calendar's holiday table for years chinesecalendar does not cover (bundled rules/holidays.yaml).
    holiday_table_file: Path | None = Field(None, alias="HOLIDAY_TABLE_FILE")
    # The deadline rules (bundled rules/deadlines.yaml).
    deadline_rules_file: Path | None = Field(None, alias="DEADLINE_RULES_FILE")
    # How many recently saved cases each supervision process keeps in memory for the events that follow them
    # (0 turns it off). A case is a few kilobytes.
    recent_cases: int = Field(5_000, alias="SUPERVISION_RECENT_CASES", ge=0)
    # A posted opinion (处理意见书, 复查意见书) is presumed received this many days after posting, until the recorded
    # date of receipt says otherwise: no statute fixes a presumed date for petition documents sent by post; this is
    # the county's rule (docs/domain.md §"Deadlines"). The review and re-review windows count from that day.
    postal_receipt_presumed_days: int = Field(7, alias="POSTAL_RECEIPT_PRESUMED_DAYS", ge=0, le=60)
