"""Dates as people in China read them: deadlines and notices count local days (Asia/Shanghai)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def local_date(moment: datetime) -> date:
    """The calendar date in China of an instant."""
    return moment.astimezone(CHINA).date()


def chinese_date(moment: datetime) -> str:
    """e.g. 2026年11月26日 (the date in China)."""
    day = local_date(moment)
    return f"{day.year}年{day.month}月{day.day}日"
