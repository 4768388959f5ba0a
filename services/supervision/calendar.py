"""The statutory calendar: which days are working days, and how a deadline is counted.

Working days come from the chinesecalendar package (the State Council's annual holiday notices, with the
adjusted working days, 调休) for the years it covers, and from a holiday table file that ops extend for the
years it does not cover yet (HOLIDAY_TABLE_FILE; the bundled rules/holidays.yaml). A year in the table overrides
the package's year, so a late correction needs no release.

For a year in neither, days are counted with the statutory holidays *by rule* (the `holidays` package): the
holidays of 《全国年节及纪念日放假办法》 (with a make-up day for one that falls on a weekend) that fall on
Monday to Friday are days off. The rule gives the holidays but not the adjusted working days (调休) that string
them into a week off: those only the State Council's notice for the year (published each autumn) gives, and it is
the authority. So every deadline that touched such a day is still marked *provisional*: never a crash, never
silently wrong. Provisional deadlines are recomputed once the table covers their year
(SupervisionApplication.recompute_provisional_deadlines).

Counting (docs/domain.md §"Day counting"): the day of the trigger is not counted; the count starts the next day.
A period in calendar days (the regulations' "日") that ends on a non-working day ends on the next working day
instead, where the rule says so (the general rule of Chinese law on periods); a period in working days ("工作日")
counts working days only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
from holidays import PUBLIC, country_holidays

from shared.language.datafiles import DataFileError, read_yaml


class HolidayTableError(ValueError):
    pass


@dataclass(frozen=True)
class YearDays:
    holidays: frozenset[date]  # days off that would otherwise be working days (Monday to Friday)
    workdays: frozenset[date]  # adjusted working days (调休) that would otherwise be weekend days


@dataclass(frozen=True)
class Counted:
    day: date
    provisional: bool  # some day on the way lies in a year the calendar does not cover


class StatutoryCalendar:
    def __init__(self, years: dict[int, YearDays]) -> None:
        self._years = years
        self._by_rule: dict[int, frozenset[date]] = {}  # holidays by rule of the years not covered, on first use

    @classmethod
    def load(cls, table: Path | None = None) -> StatutoryCalendar:
        """The package's years, overridden and extended by the holiday table (the bundled one when None)."""
        years = _package_years()
        years.update(load_holiday_table(table))
        return cls(years)

    def covers(self, year: int) -> bool:
        return year in self._years

    @property
    def covered_years(self) -> list[int]:
        return sorted(self._years)

    def is_working_day(self, day: date) -> bool:
        """Whether `day` is a working day; for a year not covered, Monday to Friday but for the holidays by rule
        (provisional: see `covers`)."""
        year = self._years.get(day.year)
        if year is None:
            by_rule = self._by_rule.get(day.year)
            if by_rule is None:
                by_rule = self._by_rule[day.year] = holidays_by_rule(day.year)
            return day.weekday() < 5 and day not in by_rule
        if day in year.workdays:
            return True
        return day.weekday() < 5 and day not in year.holidays

    def add_calendar_days(self, start: date, days: int, *, roll_forward: bool) -> Counted:
        due = start + timedelta(days=days)
        provisional = not self.covers(due.year)
        if roll_forward:
            while not self.is_working_day(due):
                due += timedelta(days=1)
                provisional = provisional or not self.covers(due.year)
        return Counted(due, provisional)

    def add_working_days(self, start: date, days: int) -> Counted:
        """The day on which the `days`-th working day after `start` falls (`start` itself not counted)."""
        day, counted, provisional = start, 0, False
        while counted < days:
            day += timedelta(days=1)
            provisional = provisional or not self.covers(day.year)
            if self.is_working_day(day):
                counted += 1
        return Counted(day, provisional)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start`, up to and including `end`."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count


def holidays_by_rule(year: int) -> frozenset[date]:
    """The public holidays of `year` by rule that fall on Monday to Friday (make-up days included); no adjusted
    working days. Public only: the half days (三八妇女节, 五四青年节, …) are for some groups of people."""
    return frozenset(d for d in country_holidays("CN", years=year, categories=PUBLIC)
                     if d.year == year and d.weekday() < 5)


def _package_years() -> dict[int, YearDays]:
    years: dict[int, YearDays] = {}
    for day in chinese_calendar.holidays:
        years.setdefault(day.year, YearDays(frozenset(), frozenset()))
    for year in list(years):
        holidays = frozenset(d for d in chinese_calendar.holidays if d.year == year and d.weekday() < 5)
        workdays = frozenset(d for d in chinese_calendar.workdays if d.year == year and d.weekday() >= 5)
        years[year] = YearDays(holidays, workdays)
    return years


def load_holiday_table(path: Path | None = None) -> dict[int, YearDays]:
    """Read a holiday table: `years: {2027: {holidays: [dates], workdays: [dates]}}`. A bad table stops the
    service with a message naming the problem (a wrong calendar would silently move every deadline)."""
    try:
        document, origin = read_yaml(path, "services.supervision", "rules", "holidays.yaml", what="the holiday table")
    except DataFileError as error:
        raise HolidayTableError(str(error)) from None
    document = document or {}
    years: dict[int, YearDays] = {}
    for year, entry in (document.get("years") or {}).items():
        entry = entry or {}
        try:
            holidays = frozenset(_dates(entry.get("holidays")))
            workdays = frozenset(_dates(entry.get("workdays")))
        except (TypeError, ValueError) as error:
            raise HolidayTableError(f"holiday table {origin}, year {year}: {error}") from None
        wrong_year = sorted(d.isoformat() for d in holidays | workdays if d.year != int(year))
        if wrong_year:
            raise HolidayTableError(f"holiday table {origin}, year {year}: dates of another year: {wrong_year}")
        if holidays & workdays:
            raise HolidayTableError(f"holiday table {origin}, year {year}: days both holiday and working day")
        years[int(year)] = YearDays(frozenset(d for d in holidays if d.weekday() < 5),
                                    frozenset(d for d in workdays if d.weekday() >= 5))
    return years


def _dates(values: object) -> list[date]:
    if values is None:
        return []
    if not isinstance(values, list):
        raise TypeError("expected a list of dates (YYYY-MM-DD)")
    return [value if isinstance(value, date) else date.fromisoformat(str(value)) for value in values]
