"""supervision's settings (environment variables; see docs/configuration.md)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

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
    # The deadline watch (services/supervision/watch.py): reminders to the holder of a duty this many working days
    # before its due day (comma-separated; the nearest only when several fall due at once), and how often each
    # instance looks (seconds; one instance acts, the others stand by).
    deadline_reminders: tuple[int, ...] = Field((3, 1), alias="DEADLINE_REMINDERS")
    deadline_watch_interval: float = Field(60.0, alias="DEADLINE_WATCH_INTERVAL", gt=0, le=3600)
    # A case open this many days or more is proposed for leader ownership (领导包案; docs/domain.md §"Supervision").
    leader_ownership_after_days: int = Field(120, alias="LEADER_OWNERSHIP_AFTER_DAYS", ge=1, le=3650)

    @field_validator("deadline_reminders", mode="before")
    @classmethod
    def _reminder_days(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                value = tuple(int(part) for part in value.split(",") if part.strip())
            except ValueError:
                raise ValueError("DEADLINE_REMINDERS: working days before the due day, e.g. 3,1") from None
        if isinstance(value, tuple | list) and any(not 0 <= int(n) <= 30 for n in value):
            raise ValueError("DEADLINE_REMINDERS: each between 0 and 30 working days")
        return value

    # Early warning (services/supervision/warnings.py; docs/domain.md §"Early warning and hot spots"): a spike is
    # WARNING_SPIKE_THRESHOLD registrations or more on one topic, or in one town, within one window of
    # WARNING_SPIKE_WINDOW_HOURS (fixed windows from Monday 2000-01-03 00:00 China time); a group petition of
    # WARNING_GROUP_SIZE people or more; a topic of WARNING_SENSITIVE_TOPICS (comma-separated topic codes); a matter
    # petitioned WARNING_REPEAT_OCCURRENCES times or more. Each tick looks back WARNING_LOOKBACK_DAYS; each instance
    # looks every WARNING_WATCH_INTERVAL seconds (one acts, the others stand by).
    warning_spike_window_hours: int = Field(24, alias="WARNING_SPIKE_WINDOW_HOURS", ge=1, le=24 * 31)
    warning_spike_threshold: int = Field(10, alias="WARNING_SPIKE_THRESHOLD", ge=2)
    warning_group_size: int = Field(30, alias="WARNING_GROUP_SIZE", ge=5)
    warning_sensitive_topics: str = Field("land_requisition,labour_wages,social_security,fundraising,environment,"
                                          "veterans",
                                          alias="WARNING_SENSITIVE_TOPICS")
    warning_repeat_occurrences: int = Field(3, alias="WARNING_REPEAT_OCCURRENCES", ge=2, le=100)
    warning_lookback_days: int = Field(7, alias="WARNING_LOOKBACK_DAYS", ge=1, le=90)
    warning_watch_interval: float = Field(60.0, alias="WARNING_WATCH_INTERVAL", gt=0, le=3600)

    @field_validator("warning_sensitive_topics")
    @classmethod
    def _sensitive_topics(cls, value: str) -> str:
        from shared.language.contracts.registration import Topic  # noqa: PLC0415 - only to check the codes

        unknown = sorted({code.strip() for code in value.split(",") if code.strip()} - {t.value for t in Topic})
        if unknown:
            raise ValueError(f"WARNING_SENSITIVE_TOPICS: not topic codes: {', '.join(unknown)} "
                             f"(one of {', '.join(t.value for t in Topic)})")
        return value

    @property
    def sensitive_topics(self) -> frozenset[str]:
        return frozenset(code.strip() for code in self.warning_sensitive_topics.split(",") if code.strip())
