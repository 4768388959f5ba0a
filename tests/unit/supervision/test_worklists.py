"""The work-list row of a case (services/supervision/worklists.py), a pure function of its history: where it is
listed (lanes), whose work it is now, its next duty deadline, its flags and its sort keys. Real Case events, no
MongoDB."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.supervision.domainmodel import Case
from services.supervision.worklists import advance, row_of, track
from shared.language.contracts.worklists import GROUP_OF, GROUPS, StatusGroup, lanes
from tests.unit.supervision.test_lifecycle import (
    DECLINED,
    OBJECTION_REROUTED,
    ORDINARY,
    REPORTED_UP,
    REVIEW_TO_FINAL,
    UP,
    A,
    B,
    new_case,
    step,
)


def history(path: list[tuple[Any, ...]], stop: int | None = None, **opened: Any) -> tuple[Case, list[Any]]:
    case = new_case(**opened)
    for day, actor, method, arguments, *_expected in path[:stop]:
        step(case, day, actor, method, **arguments)
    return case, case.collect_events()


def row(path: list[tuple[Any, ...]], stop: int | None = None, **opened: Any) -> dict[str, Any]:
    return row_of(track(history(path, stop, **opened)[1]))


def test_every_status_is_in_exactly_one_group() -> None:
    assert sum(len(statuses) for statuses in GROUPS.values()) == len(GROUP_OF)


def test_a_new_case_is_the_bureaus_only_with_its_triage_deadline() -> None:
    shown = row([])
    assert (shown["status"], shown["group"], shown["organs"], shown["organ"]) == ("registered", "new", [], None)
    assert set(shown["lanes"]) == {"*|all", "*|new", "*|open"}
    assert shown["deadline"]["kind"] == "triage"
    assert shown["by_due"] == f"{shown['deadline']['due']}|{shown['_id']}"
    assert shown["by_registered"] == f"2026-09-28T02:00:00.000000Z|{shown['_id']}"  # 10:00 in China
    assert shown["town"] == "330106001"


def test_a_transferred_case_is_the_organs_and_its_next_deadline_is_acceptance_not_the_objection_window() -> None:
    shown = row(ORDINARY, 1)
    assert shown["organs"] == [A["code"]] and shown["group"] == "awaiting_acceptance"
    assert f"{A['code']}|open" in shown["lanes"] and f"{A['code']}|awaiting_acceptance" in shown["lanes"]
    assert shown["deadline"]["kind"] == "acceptance"  # the objection window is the organ's option, not a duty


def test_the_joining_organs_list_the_case_beside_the_lead_organ() -> None:
    shown = row(REPORTED_UP, 2)
    assert shown["organs"] == [A["code"], B["code"]]
    assert f"{B['code']}|all" in shown["lanes"]


def test_a_case_re_routed_after_an_upheld_objection_leaves_the_objecting_organs_list() -> None:
    assert row(OBJECTION_REROUTED, 2)["organs"] == [A["code"]]  # objection raised: still the organ's
    rerouted = row(OBJECTION_REROUTED, 3)
    assert rerouted["organs"] == [B["code"]] and rerouted["organ"]["code"] == B["code"]


def test_the_reviewing_organ_lists_the_case_while_it_reviews_and_the_review_request_window_is_no_deadline() -> None:
    replied = row(REVIEW_TO_FINAL, 4)
    assert replied["group"] == "replied" and replied["deadline"] is None  # the petitioner's window only
    under_review = row(REVIEW_TO_FINAL, 7)
    assert under_review["status"] == "under_review"
    assert under_review["organs"] == [A["code"], UP["code"]] and under_review["reviewer"] == UP["code"]
    assert under_review["deadline"]["kind"] == "review"
    reviewed = row(REVIEW_TO_FINAL, 8)
    assert reviewed["reviewer"] is None and reviewed["organs"] == [A["code"]]


def test_a_concluded_case_has_no_deadline_and_is_not_open() -> None:
    final = row(REVIEW_TO_FINAL)
    assert final["group"] == "concluded" and final["deadline"] is None
    assert not any(lane.endswith("|open") for lane in final["lanes"])
    assert final["by_due"].startswith("9999-12-31|")
    declined = row(DECLINED)
    assert declined["organs"] == [A["code"]] and f"{A['code']}|concluded" in declined["lanes"]


def test_flags_and_topic() -> None:
    shown = row([], people_count=40, repeat_of="earlier", flags=["group", "major_urgent"])
    assert shown["flags"] == ["group", "major_urgent", "repeat"]
    case = Case(petition_id=new_case().id, query_code="Q", title="t", category="report", channel="letter",
                place_code="330106", at=datetime(2026, 9, 28, tzinfo=UTC).isoformat(), deadlines=[],
                correlation_id="c", causation_id="x", flags=["anonymous"], topic="labour_wages", people_count=1,
                repeat_of=None, accused_organs=[], received_at=None, provincial=None)
    shown = row_of(track(case.collect_events()))
    assert (shown["topic"], shown["town"], shown["flags"]) == ("labour_wages", None, ["anonymous"])


def test_folding_event_by_event_gives_the_same_row_as_the_whole_history() -> None:
    _case, events = history(REVIEW_TO_FINAL, 9)
    tracked = None
    for event in events:
        tracked = advance(tracked, event)
    assert row_of(tracked) == row_of(track(events))


def test_lanes_file_a_case_for_the_county_and_each_organ() -> None:
    assert lanes(["X"], StatusGroup.IN_HANDLING) == ["*|all", "*|in_handling", "*|open", "X|all", "X|in_handling",
                                                     "X|open"]
    assert lanes([], StatusGroup.CONCLUDED) == ["*|all", "*|concluded"]


def test_a_case_reported_up_is_the_bureaus_again() -> None:
    shown = row(REPORTED_UP, 1)
    assert shown["status"] == "reported_up" and shown["organs"] == [] and shown["group"] == "new"


def test_an_open_case_counts_under_the_organ_whose_work_it_is_and_its_next_duty_day_a_concluded_one_nowhere() -> None:
    from shared.language.contracts.worklists import count_keys

    new = row([])
    assert count_keys(new) == ["status|-|registered", f"due|{new['deadline']['due']}",
                               f"holder_due|-|{new['deadline']['due']}"]  # the bureau triages it
    assert count_keys(row(ORDINARY, 1))[0] == f"status|{A['code']}|awaiting_acceptance"
    assert count_keys(row(REVIEW_TO_FINAL, 4)) == [f"status|{A['code']}|replied"]  # a window is no duty
    under_review = row(REVIEW_TO_FINAL, 7)
    assert count_keys(under_review) == [f"status|{UP['code']}|under_review", "due|2026-12-10",
                                        f"holder_due|{UP['code']}|2026-12-10"]  # the reviewer's
    assert count_keys(row(REVIEW_TO_FINAL)) == [] and count_keys(row(DECLINED)) == []
