"""Early warning's rules, without a store (services/supervision/warnings.py): fixed windows from Monday 2000-01-03
00:00 China time; a spike is the threshold or more on one topic, or in one town, within one window; a group, a
sensitive topic and a repeated matter are each a petition's own; every warning's id is what it warns of."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from services.supervision.settings import SupervisionSettings
from services.supervision.warnings import (
    GROUP,
    PLACE_SPIKE,
    REPEAT,
    SENSITIVE,
    TOPIC_SPIKE,
    Candidate,
    WarningRules,
    petition_warnings,
    spikes,
    warning_id,
    window_of,
)

CN = timezone(timedelta(hours=8))
RULES = WarningRules(spike_threshold=3)
TOWN_A, TOWN_B = "330106001", "330106002"


def row(n: int, at: datetime, topic: str | None = "education", town: str | None = TOWN_A,
        flags: tuple[str, ...] = ()) -> dict:
    return {"_id": f"00000000-0000-4000-8000-{n:012d}", "registered_at": at.astimezone(UTC), "topic": topic,
            "town": town, "flags": list(flags)}


def test_a_daily_window_is_the_calendar_day_in_china_and_a_weekly_one_begins_on_monday() -> None:
    start, end = window_of(datetime(2026, 11, 2, 23, 59, tzinfo=CN), timedelta(hours=24))
    assert (start, end) == (datetime(2026, 11, 2, tzinfo=CN), datetime(2026, 11, 3, tzinfo=CN))
    start, _ = window_of(datetime(2026, 11, 2, 16, 30, tzinfo=UTC), timedelta(hours=24))  # 00:30 on 11-03 in China
    assert start == datetime(2026, 11, 3, tzinfo=CN)
    start, end = window_of(datetime(2026, 11, 5, 9, tzinfo=CN), timedelta(days=7))
    assert start == datetime(2026, 11, 2, tzinfo=CN) and start.weekday() == 0 and end - start == timedelta(days=7)


def test_a_spike_on_one_topic_is_one_candidate_with_every_petition_of_the_window() -> None:
    day = datetime(2026, 11, 2, 9, tzinfo=CN)
    rows = [row(1, day, town=TOWN_A), row(2, day + timedelta(hours=1), town=TOWN_B),
            row(3, day + timedelta(hours=2), town=TOWN_A), row(4, day + timedelta(days=1), town=TOWN_B)]

    [found] = spikes(rows, RULES)

    assert (found.kind, found.key, found.topic, found.town, found.count, found.threshold) == (
        TOPIC_SPIKE, "education", "education", None, 3, 3)
    assert found.petitions == tuple(r["_id"] for r in rows[:3])  # the next day is another window
    assert found.window_start == datetime(2026, 11, 2, tzinfo=CN).isoformat()
    assert found.id == warning_id(TOPIC_SPIKE, "education", found.window_start)


def test_below_the_threshold_nothing_and_a_town_counts_as_a_topic_does() -> None:
    day = datetime(2026, 11, 2, 9, tzinfo=CN)
    assert spikes([row(1, day), row(2, day, topic="health")], RULES) == []
    rows = [row(1, day, topic="education"), row(2, day, topic="health"), row(3, day, topic=None)]
    [found] = spikes(rows, RULES)
    assert (found.kind, found.key, found.town, found.count) == (PLACE_SPIKE, TOWN_A, TOWN_A, 3)


def test_the_same_spike_counted_again_later_has_the_same_id() -> None:
    day = datetime(2026, 11, 2, 9, tzinfo=CN)
    rows = [row(n, day + timedelta(minutes=n), town=None) for n in range(1, 4)]
    first = spikes(rows, RULES)
    again = spikes([*rows, row(9, day + timedelta(hours=5), town=None)], RULES)
    assert [c.id for c in first] == [c.id for c in again] and again[0].count == 4


def test_a_petitions_own_warnings() -> None:
    day = datetime(2026, 11, 2, 9, tzinfo=CN)
    people = {"00000000-0000-4000-8000-000000000001": 30, "00000000-0000-4000-8000-000000000002": 29}
    chains = {"00000000-0000-4000-8000-000000000004": ["a", "b", "00000000-0000-4000-8000-000000000004"],
              "00000000-0000-4000-8000-000000000005": ["c", "00000000-0000-4000-8000-000000000005"]}
    rows = [row(1, day, flags=("group", "major_urgent")), row(2, day, flags=("group",)),
            row(3, day, topic="land_requisition"), row(4, day, flags=("repeat",)), row(5, day, flags=("repeat",))]

    found = petition_warnings(rows, WarningRules(), people.__getitem__, chains.__getitem__)

    assert [(c.kind, c.key, c.count, c.threshold, c.petitions) for c in found] == [
        (GROUP, rows[0]["_id"], 30, 30, (rows[0]["_id"],)),
        (SENSITIVE, rows[2]["_id"], 1, None, (rows[2]["_id"],)),
        (REPEAT, "a", 3, 3, ("a", "b", rows[3]["_id"])),  # the matter's first petition is its key
    ]
    assert all(isinstance(c, Candidate) and c.window_start is None for c in found)


def test_the_settings_read_the_county_thresholds_and_refuse_an_unknown_topic() -> None:
    settings = SupervisionSettings(XINFANG_ENV="test", WARNING_SPIKE_WINDOW_HOURS="168", WARNING_SPIKE_THRESHOLD="20",
                                   WARNING_SENSITIVE_TOPICS="land_requisition, environment")
    rules = WarningRules.of(settings)
    assert rules.window == timedelta(days=7) and rules.spike_threshold == 20 and rules.group_size == 30
    assert rules.sensitive_topics == frozenset({"land_requisition", "environment"})
    try:
        SupervisionSettings(XINFANG_ENV="test", WARNING_SENSITIVE_TOPICS="land_requisition,fund_raising")
    except ValueError as refused:
        assert "fund_raising" in str(refused)
    else:
        raise AssertionError("an unknown topic code was accepted")
