"""Hot spots (信访热点) and the monthly report (docs/api.md §"Early warning and hot spots"; docs/domain.md §"Early
warning and hot spots"): registrations counted per month (China time) by town, village or topic, with their trend —
the change from the month before (环比) and from the same month a year before (同比) — and a month's report for the
county's leadership: what rose most by topic and by town, the warnings raised, which organs hold the most overdue
cases.

Counted from the work lists' rows (`case_rows`: registration time, topic, place, town; no personal data), one range
of the county's lane by registration time (the index (lanes, by_registered)) from twelve months before the first
month asked for, so every month's trend is there. The overdue cases are the open rows whose next duty deadline is
before today (China), by the organ whose work each is now (shared/language/contracts/worklists.py holder). The
warnings come from `warnings` (supervision's warning projection).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from services.gateway import worklists
from shared.language.chinatime import CHINA, local_date
from shared.language.contracts.reference import TOPIC_LABELS
from shared.language.contracts.worklists import ALL, COUNTY, NO_HOLDER, OPEN, holder, lane
from shared.language.places import VILLAGE_DIGITS
from shared.language.readmodels import WARNING_KINDS, CaseRow, WarningRecord

BY = ("town", "village", "topic")
NO_TOPIC = "未注明类别"
NO_PLACE = "未注明地点"
RISING = 5  # how many rising topics and towns the monthly report names


# --- months --------------------------------------------------------------------------------------------------------
def month_of(moment: datetime) -> str:
    day = local_date(moment)
    return f"{day.year:04d}-{day.month:02d}"


def shift(month: str, by: int) -> str:
    """`month` (YYYY-MM) moved by `by` months."""
    year, number = int(month[:4]), int(month[5:7])
    index = year * 12 + number - 1 + by
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months(first: str, last: str) -> list[str]:
    found, current = [], first
    while current <= last:
        found.append(current)
        current = shift(current, 1)
    return found


def start_of(month: str) -> datetime:
    """The first instant of `month` in China."""
    return datetime.combine(date(int(month[:4]), int(month[5:7]), 1), time(), tzinfo=CHINA)


def _sortable(moment: datetime) -> str:
    """An instant as `by_registered` spells it (fixed-width UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- reading -------------------------------------------------------------------------------------------------------
def registrations(first: str, last: str) -> list[dict[str, Any]]:
    """The rows of the cases registered from the start of `first` to the end of `last` (months, China)."""
    lower, upper = _sortable(start_of(first)), _sortable(start_of(shift(last, 1)))
    found = CaseRow._get_collection().find({"lanes": lane(COUNTY, ALL), "by_registered": {"$gt": lower, "$lt": upper}},
                                           {"registered_at": 1, "topic": 1, "place_code": 1, "town": 1})
    return [row for row in found if row.get("registered_at") is not None]


def key_of(row: Mapping[str, Any], by: str) -> str | None:
    """What a row counts under: its topic, its town, or its village (a place named only to its town: the town)."""
    if by == "topic":
        return row.get("topic")
    if by == "town":
        return row.get("town")
    place = row.get("place_code") or ""
    return place[:VILLAGE_DIGITS] if len(place) >= VILLAGE_DIGITS else row.get("town")


def name_of(code: str | None, by: str) -> str:
    if code is None:
        return NO_TOPIC if by == "topic" else NO_PLACE
    if by == "topic":
        return TOPIC_LABELS.get(code, code)  # type: ignore[call-overload]
    return worklists.places().name_of(code) or code


# --- counting ------------------------------------------------------------------------------------------------------
def trend(count: int, previous: int, last_year: int) -> dict[str, Any]:
    """A month's count with its change from the month before (环比) and the same month a year before (同比); a rate
    is the change over the earlier count, rounded to 4 decimals, null when that count is 0."""
    return {"count": count, "previous_month": previous, "change": count - previous,
            "change_rate": round((count - previous) / previous, 4) if previous else None,
            "same_month_last_year": last_year, "year_change": count - last_year,
            "year_change_rate": round((count - last_year) / last_year, 4) if last_year else None}


def tally(rows: Iterable[Mapping[str, Any]], by: str) -> Counter[tuple[str | None, str]]:
    """(key, month) -> registrations."""
    return Counter((key_of(row, by), month_of(row["registered_at"])) for row in rows)


def hotspots(first: str, last: str, by: str) -> dict[str, Any]:
    """The months `first`..`last` counted by `by`, each key's months with their trend, the busiest first."""
    counted = tally(registrations(shift(first, -12), last), by)
    asked = months(first, last)
    keys = {key for key, month in counted if first <= month <= last}
    items = []
    for key in keys:
        shown = [{"month": m, **trend(counted[(key, m)], counted[(key, shift(m, -1))], counted[(key, shift(m, -12))])}
                 for m in asked]
        items.append({"code": key, "name": name_of(key, by), "total": sum(m["count"] for m in shown), "months": shown})
    items.sort(key=lambda item: (-item["total"], item["code"] is None, item["code"] or ""))
    totals: Counter[str] = Counter()
    for (_key, month), n in counted.items():
        totals[month] += n
    return {"from": first, "to": last, "by": by, "time_zone": "Asia/Shanghai", "months": asked,
            "total": [{"month": m, **trend(totals[m], totals[shift(m, -1)], totals[shift(m, -12)])} for m in asked],
            "items": items}


def rising(counted: Counter[tuple[str | None, str]], month: str, by: str) -> list[dict[str, Any]]:
    """What rose most from the month before (by how many more), at most RISING of them."""
    keys = {key for key, m in counted if m in (month, shift(month, -1))}
    rows = [{"code": key, "name": name_of(key, by),
             **trend(counted[(key, month)], counted[(key, shift(month, -1))], counted[(key, shift(month, -12))])}
            for key in keys]
    rows = [row for row in rows if row["change"] > 0]
    rows.sort(key=lambda row: (-row["change"], -row["count"], row["code"] is None, row["code"] or ""))
    return rows[:RISING]


def warnings_in(first_day: date, last_day: date) -> list[dict[str, Any]]:
    """The warnings raised from `first_day` to `last_day` (China, both included), the latest first."""
    found = WarningRecord._get_collection().find(
        {"raised_on": {"$gte": first_day.isoformat(), "$lte": last_day.isoformat()}})
    return sorted(found, key=lambda w: (w["raised_at"], w["_id"]), reverse=True)


def present_warning(found: Mapping[str, Any]) -> dict[str, Any]:
    """A warning as the bureau reads it: codes with their Chinese names, counts, dates, petition ids."""
    topic, town = found.get("topic"), found.get("town")
    return {
        "id": found["_id"], "kind": found["kind"], "kind_text": WARNING_KINDS.get(found["kind"], found["kind"]),
        "key": found["key"],
        "topic": {"code": topic, "name": name_of(topic, "topic")} if topic else None,
        "town": {"code": town, "name": name_of(town, "town")} if town else None,
        "window": ({"start": found["window_start"], "end": found["window_end"]} if found.get("window_start")
                   else None),
        "count": found["count"], "threshold": found.get("threshold"), "petitions": list(found.get("petitions") or []),
        "raised_at": found["raised_at"].astimezone(CHINA).isoformat(), "raised_on": found["raised_on"],
    }


def overdue_by_organ(today: date, organ_file: Path | None) -> list[dict[str, Any]]:
    """The county's open cases whose next duty deadline is before `today`, by the organ whose work each is now (the
    bureau while it triages), the most first: one range of the index (lanes, by_due)."""
    found = CaseRow._get_collection().find({"lanes": lane(COUNTY, OPEN), "by_due": {"$gt": "", "$lt": today.isoformat()}},
                                           {"organs": 1, "reviewer": 1})
    counted = Counter(holder(row) for row in found)
    directory = worklists.organs(organ_file)
    return [{"code": None if code == NO_HOLDER else code,
             "name": worklists.BUREAU_TRIAGE if code == NO_HOLDER else (o.name if (o := directory.get(code)) else code),
             "overdue": n} for code, n in sorted(counted.items(), key=lambda item: (-item[1], item[0]))]


def monthly_report(month: str, today: date, organ_file: Path | None) -> dict[str, Any]:
    """The month's report: registrations and their trend, the topics and towns that rose most, the warnings raised
    in it, and the organs with overdue cases as of `today`."""
    rows = registrations(shift(month, -12), month)
    by_topic, by_town = tally(rows, "topic"), tally(rows, "town")
    totals = Counter(month_of(row["registered_at"]) for row in rows)
    first_day = start_of(month).date()
    last_day = start_of(shift(month, 1)).date() - timedelta(days=1)
    warned = warnings_in(first_day, last_day)
    kinds = Counter(w["kind"] for w in warned)
    return {
        "month": month, "time_zone": "Asia/Shanghai", "closed": last_day < today, "as_of": today.isoformat(),
        "registrations": trend(totals[month], totals[shift(month, -1)], totals[shift(month, -12)]),
        "rising_topics": rising(by_topic, month, "topic"),
        "rising_towns": rising(by_town, month, "town"),
        "warnings": {"count": len(warned),
                     "by_kind": [{"kind": kind, "kind_text": text, "count": kinds[kind]}
                                 for kind, text in WARNING_KINDS.items() if kinds[kind]],
                     "items": [present_warning(w) for w in warned]},
        "overdue_by_organ": overdue_by_organ(today, organ_file),
    }
