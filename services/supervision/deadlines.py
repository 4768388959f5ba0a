"""Deadline rules (rules/deadlines.yaml, or DEADLINE_RULES_FILE) applied on the statutory calendar.

A computed deadline keeps what it was computed from (trigger date, rule, days added by an extension, days paused
for a hearing), so it can be recomputed when the calendar learns a new year, and so an auditor can check it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.supervision.calendar import Counted, StatutoryCalendar
from shared.language.datafiles import DataFileError, read_yaml


class DeadlineRulesError(ValueError):
    pass


class DeadlineRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str = Field(min_length=1)
    days: int = Field(ge=0, le=366)  # 0: due the day of the trigger
    unit: Literal["calendar", "working"]
    roll_forward: bool = True
    basis: str = Field(min_length=1)


class DeadlineRulesTable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(min_length=1)
    rules: dict[str, DeadlineRule]


REQUIRED_RULES = ("triage", "major_report", "acceptance", "objection", "handling", "extension", "simplified_acceptance",
                  "simplified_handling", "assignment_report", "review_request", "review", "re_review_request",
                  "re_review", "supervision_response", "leader_ownership")


@dataclass(frozen=True)
class Deadline:
    kind: str
    label: str
    start: str  # the trigger date (YYYY-MM-DD, Asia/Shanghai); counting starts the next day
    due: str  # YYYY-MM-DD
    basis: str
    unit: str
    days: int
    extra_days: int = 0  # calendar days added after the rule's period (an approved extension)
    paused_days: int = 0  # calendar days not counted (hearing time during re-review)
    provisional: bool = False  # counted on weekends only: the calendar does not cover the year yet
    status: str = "open"  # open | met | stopped
    rules_version: str = ""
    # A window that runs from the petitioner's receipt of a written answer (review_request, re_review_request): the
    # receipt it is counted from (services/supervision/case/receipt.py); None: from its trigger, as opened.
    counted_from: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if data["counted_from"] is None:  # recorded as before: only a recounted window carries it
            del data["counted_from"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Deadline:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


class DeadlineRules:
    def __init__(self, table: DeadlineRulesTable, calendar: StatutoryCalendar) -> None:
        self.table = table
        self.calendar = calendar

    @classmethod
    def load(cls, calendar: StatutoryCalendar, path: Path | None = None) -> DeadlineRules:
        try:
            document, origin = read_yaml(path, "services.supervision", "rules", "deadlines.yaml", what="deadline rules")
            table = DeadlineRulesTable.model_validate(document)
        except DataFileError as error:
            raise DeadlineRulesError(str(error)) from None
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
            raise DeadlineRulesError(f"deadline rules in {origin} are invalid: {problems}") from None
        missing = [kind for kind in REQUIRED_RULES if kind not in table.rules]
        if missing:
            raise DeadlineRulesError(f"deadline rules in {origin} lack: {', '.join(missing)}")
        return cls(table, calendar)

    def rule(self, kind: str) -> DeadlineRule:
        return self.table.rules[kind]

    def compute(self, kind: str, start: date, *, extra_days: int = 0, paused_days: int = 0) -> Deadline:
        rule = self.rule(kind)
        deadline = Deadline(kind=kind, label=rule.label, start=start.isoformat(), due="", basis=rule.basis,
                            unit=rule.unit, days=rule.days, extra_days=extra_days, paused_days=paused_days,
                            rules_version=self.table.version)
        return self.recompute(deadline)

    def recompute(self, deadline: Deadline) -> Deadline:
        """The same deadline counted again on today's calendar (e.g. once the holiday table covers its year)."""
        rule = self.rule(deadline.kind)
        start = date.fromisoformat(deadline.start)
        if rule.unit == "working":
            counted = self.calendar.add_working_days(start, deadline.days)
            if deadline.extra_days or deadline.paused_days:
                more = self.calendar.add_calendar_days(
                    counted.day, deadline.extra_days + deadline.paused_days, roll_forward=True)
                counted = Counted(more.day, counted.provisional or more.provisional)
        else:
            counted = self.calendar.add_calendar_days(
                start, deadline.days + deadline.extra_days + deadline.paused_days, roll_forward=rule.roll_forward)
        return replace(deadline, due=counted.day.isoformat(), provisional=counted.provisional)

    def is_within(self, deadline: Deadline, today: date) -> bool:
        return today <= date.fromisoformat(deadline.due)


def load_deadline_rules(holiday_table: Path | None = None, rules_file: Path | None = None) -> DeadlineRules:
    return DeadlineRules.load(StatutoryCalendar.load(holiday_table), rules_file)
