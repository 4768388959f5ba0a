"""The four assessment rates — 及时受理率 (timely_acceptance), 按期答复率 (on_time_reply), 参评率 (participation),
满意率 (satisfaction) — for the county or one organ, optionally one town, over a period of registration days
(docs/assessment.md; GET /api/v1/assessment/rates in docs/api.md).

Computed from the facts supervision's assessment projection keeps per case, each dated with the day (China) it
happened, folded **as of the cut-off**, the end of the period's last day in China: a fact dated after it is left
out, so a closed period's report is the same whenever it is recomputed. The facts are read as one document per
registration day of the period (`assessment_days`, AssessmentDay: each day's cases' entries; the organ and town
filtered here). The same facts are in `assessment_cases` (AssessmentCase), one document per case; `plain=True`
reads those instead (one query by registration day, organ and town, only the fields needed): the same figures from
about seventy times as many documents (docs/assessment.md §"Performance"). A deadline is met when the step's day is
on or before the clock's due day; an item still open at the cut-off is overdue when its due day is before the first
day not yet over (`overdue_before`: the day after the period for a closed period, today for the running one), and
otherwise not yet due.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from shared.language.chinatime import CHINA
from shared.language.readmodels import AssessmentCase, AssessmentDay

# Only these fields are read: the rest of a document (its time of registration, flags) is not needed here.
FIELDS = {"registered_on": 1, "repeat_of": 1, "holders": 1, "acceptance": 1, "handling": 1, "ratings": 1}
SATISFIED, BASICALLY, DISSATISFIED = "satisfied", "basically_satisfied", "dissatisfied"
RETURN_VISIT = "return_visit"
DIVERTED = "diverted"  # into litigation, arbitration, reconsideration ... (Art. 31): never rated (§7.3)


@dataclass(frozen=True)
class Choices:
    """What the definitions leave open (docs/assessment.md §"Settings"), shown in every report."""

    not_yet_due_counts: bool = False  # an item not yet due at the cut-off counts in the two timeliness denominators
    basically_satisfied_counts: bool = True  # 基本满意 counts as satisfied
    return_visits_count: bool = True  # a rating taken on a return visit (回访) counts

    @classmethod
    def of(cls, settings: Any) -> Choices:
        return cls(not_yet_due_counts=settings.assessment_not_yet_due_counts,
                   basically_satisfied_counts=settings.assessment_basically_satisfied_counts,
                   return_visits_count=settings.assessment_return_visits_count)


@dataclass(frozen=True)
class CutOff:
    """Facts dated on or before `last` count; an open item whose due day is before `overdue_before` is overdue."""

    last: date
    overdue_before: date

    @classmethod
    def of(cls, last: date, today: date) -> CutOff:
        # A closed period (its last day is over): every due day up to its last day has passed. The running period:
        # only those before today (today's are still open), and the figures are provisional.
        return cls(last=last, overdue_before=min(last + timedelta(days=1), today))

    @property
    def closed(self) -> bool:
        return self.overdue_before > self.last

    @property
    def instant(self) -> datetime:
        """The end of the last day in China (the first instant of the next day): nothing later is counted."""
        return datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=CHINA)


# --- reading the facts --------------------------------------------------------------------------------------------
def mongo_filter(first: date, last: date, organ: str | None, town: str | None) -> dict[str, Any]:
    """The period's cases (registration days, both ends included); with an organ, those it ever held (which one
    held a case as of the cut-off is decided from `holders`); with a town, those that arose in it."""
    found: dict[str, Any] = {"registered_on": {"$gte": first.isoformat(), "$lte": last.isoformat()}}
    if organ is not None:
        found["organs"] = organ
    if town is not None:
        found["town"] = town
    return found


def load(first: date, last: date, organ: str | None, town: str | None) -> list[dict[str, Any]]:
    """The period's facts, one document per case (the plain path)."""
    return list(AssessmentCase._get_collection().find(mongo_filter(first, last, organ, town), FIELDS))


DAYS_PER_QUERY = 32  # a month's day documents per query: a long period is not answered in one piece


def days(first: date, last: date) -> list[str]:
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def load_days(first: date, last: date, organ: str | None, town: str | None) -> Iterator[dict[str, Any]]:
    """The period's facts from its day documents (looked up by id): each case's entry (`facts`, a JSON text of the
    fields the fold reads), filtered as `mongo_filter` filters the documents — with an organ, the cases it ever
    held (`organs`); with a town, those that arose in it (`town`)."""
    collection = AssessmentDay._get_collection()
    wanted = days(first, last)
    for start in range(0, len(wanted), DAYS_PER_QUERY):
        for day in collection.find({"_id": {"$in": wanted[start:start + DAYS_PER_QUERY]}}):
            for entry in day.get("cases", {}).values():
                if (organ is None or organ in entry["organs"]) and (town is None or entry["town"] == town):
                    yield json.loads(entry["facts"])


# --- one case as of the cut-off -----------------------------------------------------------------------------------
def holder(facts: Mapping[str, Any], cut: CutOff) -> str | None:
    """The organ that held the case at the cut-off (None: the bureau, still or again triaging it)."""
    held = None
    for entry in facts.get("holders", []):
        if entry["on"] <= cut.last.isoformat():
            held = entry["organ"]
    return held


def clocked(entries: Iterable[Mapping[str, Any]], done: str, cut: CutOff) -> tuple[str | None, Any]:
    """A timeline of clocks and the step that answers them (`done`: "decided" or "replied") as of the cut-off:
    ("on_time" | "late", what was done), ("overdue" | "not_yet_due", None), or (None, None) when nothing was due
    (no clock, or it was stopped: withdrawn, diverted while handling). A new clock after the step (a petition
    reopened as a new matter) starts a new round; a second step in one round (a diversion after acceptance) is not
    a new one."""
    last = cut.last.isoformat()
    state: str | None = None
    due: str | None = None
    what: Any = None
    for entry in entries:
        if entry["on"] > last:
            continue  # after the cut-off: not counted
        if "clock" in entry:
            state, due, what = "pending", entry["due"], None
        elif done in entry:
            if state == "pending":
                state, what = ("on_time" if entry["on"] <= due else "late"), entry[done]
        elif "stopped" in entry and state == "pending":
            state, due = None, None
    if state == "pending":
        return ("overdue" if due < cut.overdue_before.isoformat() else "not_yet_due"), None
    return state, what


def rating(facts: Mapping[str, Any], cut: CutOff, choices: Choices) -> str | None:
    """The petitioner's rating of the opinion by the cut-off, if it counts."""
    for entry in facts.get("ratings", []):
        if entry["on"] <= cut.last.isoformat() and (choices.return_visits_count or entry.get("taken_by") != RETURN_VISIT):
            return entry["rating"]
    return None


# --- the figures --------------------------------------------------------------------------------------------------
def _rate(numerator: int, denominator: int, **parts: int) -> dict[str, Any]:
    return {"numerator": numerator, "denominator": denominator,
            "rate": round(numerator / denominator, 4) if denominator else None, **parts}


def compute(cases: Iterable[Mapping[str, Any]], cut: CutOff, choices: Choices,
            organ: str | None = None) -> dict[str, Any]:
    """The rates over `cases` (the period's, as `load` reads them) as of `cut`; with `organ`, only the cases that
    organ held at the cut-off (the organ evaluated: the competent organ that decided on acceptance and handled)."""
    n: Counter[str] = Counter()
    for facts in cases:
        if organ is not None and holder(facts, cut) != organ:
            continue
        n["cases"] += 1
        accepted, decision = clocked(facts.get("acceptance", []), "decided", cut)
        if accepted:
            n[f"acceptance.{accepted}"] += 1
        replied, _ = clocked(facts.get("handling", []), "replied", cut)
        if replied:
            n[f"reply.{replied}"] += 1
        # Rating (§7.3): first-time items with an opinion out; never a repeat, never one diverted into litigation,
        # arbitration or reconsideration (those end without an opinion anyway).
        if replied in ("on_time", "late") and not facts.get("repeat_of") and decision != DIVERTED:
            n["eligible"] += 1
            if (given := rating(facts, cut, choices)) is not None:
                n["rated"] += 1
                n[f"rating.{given}"] += 1
    not_yet = choices.not_yet_due_counts
    accepted_in_time = n["acceptance.on_time"]
    acceptance_due = (accepted_in_time + n["acceptance.late"] + n["acceptance.overdue"]
                      + (n["acceptance.not_yet_due"] if not_yet else 0))
    replied_in_time = n["reply.on_time"]
    reply_due = (replied_in_time + n["reply.late"] + n["reply.overdue"] + (n["reply.not_yet_due"] if not_yet else 0))
    satisfied = n[f"rating.{SATISFIED}"] + (n[f"rating.{BASICALLY}"] if choices.basically_satisfied_counts else 0)
    return {
        "cases": n["cases"],
        "rates": {
            "timely_acceptance": _rate(accepted_in_time, acceptance_due, on_time=accepted_in_time,
                                       late=n["acceptance.late"], overdue_undecided=n["acceptance.overdue"],
                                       not_yet_due=n["acceptance.not_yet_due"]),
            "on_time_reply": _rate(replied_in_time, reply_due, on_time=replied_in_time, late=n["reply.late"],
                                   overdue_unanswered=n["reply.overdue"], not_yet_due=n["reply.not_yet_due"]),
            "participation": _rate(n["rated"], n["eligible"]),
            "satisfaction": _rate(satisfied, n["rated"], satisfied=n[f"rating.{SATISFIED}"],
                                  basically_satisfied=n[f"rating.{BASICALLY}"],
                                  dissatisfied=n[f"rating.{DISSATISFIED}"]),
        },
    }


def report(first: date, last: date, today: date, choices: Choices, *, organ: str | None = None,
           town: str | None = None, plain: bool = False) -> dict[str, Any]:
    """The answer of GET /api/v1/assessment/rates (without the names of the organ and town); `plain`: read one
    document per case (the same figures, slower: for checking the day documents)."""
    cut = CutOff.of(last, today)
    facts = load(first, last, organ, town) if plain else load_days(first, last, organ, town)
    figures = compute(facts, cut, choices, organ)
    return {
        "period": {"from": first.isoformat(), "to": last.isoformat(), "time_zone": "Asia/Shanghai",
                   "counted_as_of": cut.instant.isoformat(), "closed": cut.closed},
        "settings": {"not_yet_due_in_denominator": choices.not_yet_due_counts,
                     "basically_satisfied_counts_as_satisfied": choices.basically_satisfied_counts,
                     "return_visit_ratings_count": choices.return_visits_count,
                     "counted_as_of": cut.instant.isoformat(),
                     "overdue_if_due_before": cut.overdue_before.isoformat()},
        **figures,
    }
