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
    return chinese_day(local_date(moment))


def chinese_day(day: date | str) -> str:
    """A calendar day as people read it: 2027年2月3日 for date(2027, 2, 3) or "2027-02-03" (a deadline's due day, as
    the records keep it). Every date a person reads is written so, never in ISO form."""
    if not isinstance(day, date):
        day = date.fromisoformat(str(day)[:10])
    return f"{day.year}年{day.month}月{day.day}日"
