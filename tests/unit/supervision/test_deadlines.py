"""The statutory calendar and the deadline rules: calendar vs working days, counting from the next day, rolling a
deadline off a non-working day, the 2026 National Day holiday and its adjusted working days, and a year the
calendar does not cover yet (counted with the holidays by rule, provisional, then recomputed)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from services.supervision.calendar import Counted, HolidayTableError, StatutoryCalendar, load_holiday_table
from services.supervision.deadlines import DeadlineRules, DeadlineRulesError, load_deadline_rules

RULES = load_deadline_rules()
CALENDAR = RULES.calendar


@pytest.mark.parametrize(("day", "working"), [
    pytest.param(date(2026, 9, 30), True, id="Wed before National Day"),
    pytest.param(date(2026, 10, 1), False, id="National Day"),
    pytest.param(date(2026, 10, 7), False, id="last day of the Golden Week"),
    pytest.param(date(2026, 10, 8), True, id="Thu after the holiday"),
    pytest.param(date(2026, 10, 10), True, id="Saturday 10-10: adjusted working day (调休)"),
    pytest.param(date(2026, 9, 20), True, id="Sunday 09-20: adjusted working day (调休)"),
    pytest.param(date(2026, 10, 11), False, id="an ordinary Sunday"),
    pytest.param(date(2026, 9, 25), False, id="Mid-Autumn Festival (Friday)"),
])
def test_working_days_of_2026_follow_the_state_council_notice(day: date, working: bool) -> None:
    assert CALENDAR.is_working_day(day) is working


@pytest.mark.parametrize(("kind", "start", "due", "provisional"), [
    # 15 calendar days from 09-16 end on 10-01 (holiday): moved to the next working day, 10-08.
    pytest.param("acceptance", date(2026, 9, 16), "2026-10-08", False, id="15 days rolling off National Day"),
    # 5 working days after Tue 09-29: 09-30, 10-08, 10-09, 10-10 (Saturday, 调休), 10-12.
    pytest.param("objection", date(2026, 9, 29), "2026-10-12", False, id="5 working days across National Day"),
    # Counting starts the next day: 5 working days after Mon 11-23 end on Mon 11-30.
    pytest.param("objection", date(2026, 11, 23), "2026-11-30", False, id="5 working days in an ordinary week"),
    # 3 working days after Wed 09-30: 10-08, 10-09, 10-10 (Saturday, 调休).
    pytest.param("simplified_acceptance", date(2026, 9, 30), "2026-10-10", False, id="simplified 3 working days"),
    # 10 working days after 09-27: 28, 29, 30, 10-08, 09, 10 (调休), 12, 13, 14, 15.
    pytest.param("simplified_handling", date(2026, 9, 27), "2026-10-15", False, id="simplified 10 working days"),
    pytest.param("handling", date(2026, 8, 3), "2026-10-08", False,
                 id="60 days ending on 10-02 roll to the first working day after the holiday"),
    pytest.param("review", date(2026, 11, 26), "2026-12-28", False,
                 id="30 days ending on Saturday 12-26 roll to Monday"),
    # Accepted in late December 2026: the 60 days end in 2027, which the calendar does not cover yet.
    pytest.param("handling", date(2026, 12, 28), "2027-02-26", True, id="60 days into 2027: provisional"),
    pytest.param("handling", date(2026, 12, 26), "2027-02-24", True, id="Wednesday in 2027, still provisional"),
])
def test_deadlines_on_the_statutory_calendar(kind: str, start: date, due: str, provisional: bool) -> None:
    deadline = RULES.compute(kind, start)

    assert (deadline.due, deadline.provisional) == (due, provisional)
    assert deadline.start == start.isoformat()
    assert deadline.basis.startswith("《")


def test_a_deadline_in_an_uncovered_year_is_counted_by_rule_and_never_crashes() -> None:
    # 2027-01-02 is a Saturday, 01-03 a Sunday: Monday 01-04 is a working day by rule too.
    deadline = RULES.compute("acceptance", date(2026, 12, 18))

    assert deadline.due == "2027-01-04"
    assert deadline.provisional is True


def test_a_provisional_deadline_is_recounted_once_the_holiday_table_covers_its_year(tmp_path: Path) -> None:
    provisional = RULES.compute("acceptance", date(2026, 12, 18))
    table = tmp_path / "holidays.yaml"
    # A table that makes 2027-01-01 to 01-04 days off (a made-up arrangement for the test).
    table.write_text("years:\n  2027:\n    holidays: [2027-01-01, 2027-01-04]\n    workdays: []\n", encoding="utf-8")
    updated = DeadlineRules(RULES.table, StatutoryCalendar.load(table))

    again = updated.recompute(provisional)

    assert (again.due, again.provisional) == ("2027-01-05", False)


def test_working_days_in_an_uncovered_year_are_provisional() -> None:
    deadline = RULES.compute("objection", date(2026, 12, 29))

    # 12-30, 12-31, then 01-04, 01-05, 01-06: Friday 01-01 is New Year's Day by rule.
    assert deadline.due == "2027-01-06"
    assert deadline.provisional is True


# 2027 is covered neither by chinesecalendar 1.11.0 nor by the bundled table: its days off are the public holidays
# by rule (holidays 0.109, 《全国年节及纪念日放假办法》 as revised in 2024), without adjusted working days. The package
# gives for the Spring Festival 02-05 (除夕, Fri), 02-06 to 02-08 (初一 to 初三) and, for 初一 and 初二 on the
# weekend, the make-up days 02-09 and 02-10; for National Day 10-01 to 10-03 and, for 10-02 and 10-03 on the
# weekend, 10-04 and 10-05. So 10-06 and 10-07 are working days by rule (a notice would likely give 10-01 to 10-07
# off, with weekend working days around it), and no weekend day is a working day.
@pytest.mark.parametrize(("day", "working"), [
    pytest.param(date(2027, 1, 1), False, id="New Year's Day (Friday)"),
    pytest.param(date(2027, 2, 4), True, id="Thursday before the Spring Festival"),
    pytest.param(date(2027, 2, 5), False, id="除夕 (Friday)"),
    pytest.param(date(2027, 2, 8), False, id="初三 (Monday)"),
    pytest.param(date(2027, 2, 10), False, id="make-up day for 初二 on Sunday"),
    pytest.param(date(2027, 2, 11), True, id="Thursday after the Spring Festival"),
    pytest.param(date(2027, 2, 20), False, id="a Saturday: no adjusted working days by rule"),
    pytest.param(date(2027, 9, 15), False, id="Mid-Autumn Festival (Wednesday)"),
    pytest.param(date(2027, 10, 1), False, id="National Day (Friday)"),
    pytest.param(date(2027, 10, 5), False, id="make-up day for 10-03 on Sunday"),
    pytest.param(date(2027, 10, 6), True, id="10-06: a working day by rule"),
    pytest.param(date(2027, 10, 9), False, id="a Saturday after National Day"),
])
def test_an_uncovered_year_has_the_public_holidays_by_rule(day: date, working: bool) -> None:
    assert not CALENDAR.covers(2027)
    assert CALENDAR.is_working_day(day) is working


@pytest.mark.parametrize(("kind", "start", "due"), [
    # 15 days from 01-21 end on 02-05 (除夕): rolled past 02-06 to 02-10 to Thursday 02-11 (weekends only: 02-05).
    pytest.param("acceptance", date(2027, 1, 21), "2027-02-11", id="15 days rolling off the Spring Festival"),
    # 5 working days after Wed 02-03: 02-04, 02-11, 02-12, 02-15, 02-16 (weekends only: 02-10).
    pytest.param("objection", date(2027, 2, 3), "2027-02-16", id="5 working days across the Spring Festival"),
    # 15 days from 09-16 end on 10-01: rolled past 10-02 to 10-05 to Wednesday 10-06 (weekends only: 10-01).
    pytest.param("acceptance", date(2027, 9, 16), "2027-10-06", id="15 days rolling off National Day"),
    # 10 working days after Tue 09-28: 09-29, 09-30, 10-06, 10-07, 10-08, 10-11 to 10-15 (weekends only: 10-12).
    pytest.param("simplified_handling", date(2027, 9, 28), "2027-10-15", id="10 working days across National Day"),
])
def test_a_deadline_in_an_uncovered_year_skips_the_holidays_by_rule_and_stays_provisional(
        kind: str, start: date, due: str) -> None:
    deadline = RULES.compute(kind, start)

    assert (deadline.due, deadline.provisional) == (due, True)


# A made-up notice for 2027: 10-01 to 10-07 off, Sunday 09-26 and Saturday 10-09 working days; nothing else.
NOTICE_2027 = ("years:\n  2027:\n    holidays: [2027-10-01, 2027-10-04, 2027-10-05, 2027-10-06, 2027-10-07]\n"
               "    workdays: [2027-09-26, 2027-10-09]\n")


def test_the_holiday_table_overrides_the_holidays_by_rule_for_its_year(tmp_path: Path) -> None:
    table = tmp_path / "holidays.yaml"
    table.write_text(NOTICE_2027, encoding="utf-8")

    calendar = StatutoryCalendar.load(table)

    assert calendar.covers(2027)
    assert calendar.is_working_day(date(2027, 10, 6)) is False  # working by rule, off by the notice
    assert calendar.is_working_day(date(2027, 10, 9)) is True  # the notice's adjusted working day
    assert calendar.is_working_day(date(2027, 2, 5)) is True  # the table's 2027 replaces the rule's whole year
    assert calendar.add_calendar_days(date(2027, 9, 16), 15, roll_forward=True) == Counted(date(2027, 10, 8), False)


def test_a_deadline_counted_by_rule_is_recounted_once_the_holiday_table_covers_its_year(tmp_path: Path) -> None:
    by_rule = RULES.compute("acceptance", date(2027, 9, 16))
    table = tmp_path / "holidays.yaml"
    table.write_text(NOTICE_2027, encoding="utf-8")
    updated = DeadlineRules(RULES.table, StatutoryCalendar.load(table))

    again = updated.recompute(by_rule)

    assert (by_rule.due, by_rule.provisional) == ("2027-10-06", True)
    assert (again.due, again.provisional) == ("2027-10-08", False)
    assert RULES.recompute(by_rule) == by_rule  # recounted by rule again: nothing changes


def test_an_extension_and_paused_hearing_days_are_added_to_the_period() -> None:
    extended = RULES.compute("handling", date(2026, 9, 1), extra_days=30)
    paused = RULES.compute("re_review", date(2026, 11, 2), paused_days=3)

    assert extended.due == "2026-11-30"  # 90 days after 09-01 (a Monday)
    assert paused.due == "2026-12-07"  # 30 + 3 days after 11-02 is Saturday 12-05: rolled to Monday


def test_the_holiday_table_overrides_the_package_for_its_year(tmp_path: Path) -> None:
    table = tmp_path / "holidays.yaml"
    table.write_text("years:\n  2026:\n    holidays: [2026-11-26]\n", encoding="utf-8")

    calendar = StatutoryCalendar.load(table)

    assert calendar.is_working_day(date(2026, 11, 26)) is False
    assert calendar.is_working_day(date(2026, 10, 1)) is True  # the table's 2026 replaces the package's


@pytest.mark.parametrize(("text", "problem"), [
    pytest.param("years:\n  2027:\n    holidays: [2028-01-01]\n", "dates of another year", id="wrong year"),
    pytest.param("years:\n  2027:\n    holidays: [not-a-date]\n", "2027", id="not a date"),
    pytest.param("years:\n  2027:\n    holidays: 2027-01-01\n", "list of dates", id="not a list"),
    pytest.param("years: [\n", "cannot read", id="not YAML"),
])
def test_a_bad_holiday_table_stops_with_a_message_naming_the_problem(tmp_path: Path, text: str, problem: str) -> None:
    table = tmp_path / "holidays.yaml"
    table.write_text(text, encoding="utf-8")

    with pytest.raises(HolidayTableError, match=problem):
        load_holiday_table(table)


def test_deadline_rules_are_data_that_a_county_may_override(tmp_path: Path) -> None:
    rules_file = tmp_path / "deadlines.yaml"
    bundled = Path(__file__).resolve().parents[3] / "services" / "supervision" / "rules" / "deadlines.yaml"
    # A county counting the acceptance notice in working days instead.
    rules_file.write_text(bundled.read_text(encoding="utf-8").replace(
        "    days: 15\n    unit: calendar\n    roll_forward: true\n    basis: 《信访工作条例》第二十三条",
        "    days: 15\n    unit: working\n    roll_forward: false\n    basis: 《信访工作条例》第二十三条"), encoding="utf-8")

    county = DeadlineRules.load(CALENDAR, rules_file)

    assert county.rule("acceptance").unit == "working"
    assert county.compute("acceptance", date(2026, 11, 2)).due == "2026-11-23"


def test_deadline_rules_missing_a_rule_are_refused(tmp_path: Path) -> None:
    rules_file = tmp_path / "deadlines.yaml"
    rules_file.write_text('version: "x"\nrules: {}\n', encoding="utf-8")

    with pytest.raises(DeadlineRulesError, match="lack: triage"):
        DeadlineRules.load(CALENDAR, rules_file)
