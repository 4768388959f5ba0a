"""The assessment rates computed from hand-built facts (services/gateway/assessment.py; docs/assessment.md): every
figure below was counted by hand from the table of cases, for the county, for one organ, and with each setting
changed. No I/O: the compute is a fold over the documents the query returns."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.gateway.assessment import Choices, CutOff, clocked, compute, holder, mongo_filter

TOWN, LABOUR = "330106001-ZF", "330106-RSJ"
FIRST, LAST = date(2026, 3, 1), date(2026, 4, 30)
CLOSED = CutOff.of(LAST, today=date(2026, 6, 1))  # the period is over: facts after 04-30 are left out


def clock(on: str, due: str, kind: str = "acceptance") -> dict[str, Any]:
    return {"on": on, "clock": kind, "due": due}


def decided(on: str, outcome: str = "accepted") -> dict[str, Any]:
    return {"on": on, "decided": outcome}


def replied(on: str) -> dict[str, Any]:
    return {"on": on, "replied": True}


def rated(on: str, rating: str, taken_by: str = "petitioner") -> list[dict[str, Any]]:
    return [{"on": on, "level": "reply", "rating": rating, "taken_by": taken_by,
             "channel": "online" if taken_by == "petitioner" else "phone"}]


def case(name: str, *, organ: str | None = TOWN, acceptance: list[dict[str, Any]] | None = None,
         handling: list[dict[str, Any]] | None = None, ratings: list[dict[str, Any]] | None = None,
         repeat_of: str | None = None) -> dict[str, Any]:
    return {"_id": name, "registered_on": "2026-03-02", "repeat_of": repeat_of,
            "holders": [{"on": "2026-03-03", "organ": organ}] if organ else [],
            "acceptance": [clock("2026-03-02", "2026-03-17", "triage"), *(acceptance or [])],
            "handling": handling or [], "ratings": ratings or []}


ACCEPTED = [clock("2026-03-03", "2026-03-20"), decided("2026-03-10")]
HANDLING = clock("2026-03-10", "2026-05-09", "handling")

CASES = [
    # c1: accepted in time, replied in time, rated satisfied online
    case("c1", acceptance=ACCEPTED, handling=[HANDLING, replied("2026-04-01")], ratings=rated("2026-04-03", "satisfied")),
    # c2: accepted on its due day (in time), replied after its (simplified) due day, basically satisfied on a return visit
    case("c2", acceptance=[clock("2026-03-03", "2026-03-20"), decided("2026-03-20", "accepted")],
         handling=[clock("2026-03-20", "2026-04-10", "simplified_handling"), replied("2026-04-15")],
         ratings=rated("2026-04-20", "basically_satisfied", "return_visit")),
    # c3: declined after its due day (late)
    case("c3", acceptance=[clock("2026-03-03", "2026-03-20"), decided("2026-03-25", "declined")]),
    # c4: not decided, due 04-10: overdue at the cut-off
    case("c4", acceptance=[clock("2026-03-26", "2026-04-10")]),
    # c5: not decided, due 05-12: not yet due at the cut-off
    case("c5", acceptance=[clock("2026-04-27", "2026-05-12")]),
    # c6: accepted in time, no opinion by its due day 04-20: overdue unanswered
    case("c6", acceptance=ACCEPTED, handling=[clock("2026-03-10", "2026-04-20", "handling")]),
    # c7: accepted in time, opinion due 06-20: not yet due
    case("c7", acceptance=ACCEPTED, handling=[clock("2026-03-10", "2026-04-20", "handling"),
                                              clock("2026-04-15", "2026-06-20", "handling")]),  # extended
    # c8: a repeat, in time throughout, rated dissatisfied: not eligible for rating
    case("c8", acceptance=ACCEPTED, handling=[HANDLING, replied("2026-04-05")],
         ratings=rated("2026-04-06", "dissatisfied"), repeat_of="c0"),
    # c9: in time, rated dissatisfied online
    case("c9", acceptance=ACCEPTED, handling=[HANDLING, replied("2026-04-10")], ratings=rated("2026-04-12", "dissatisfied")),
    # c10: withdrawn before any decision: had nothing to decide
    case("c10", acceptance=[clock("2026-03-03", "2026-03-25"), {"on": "2026-03-12", "stopped": "withdraw"}]),
    # c11: the labour bureau's, in time throughout, rated satisfied
    case("c11", organ=LABOUR, acceptance=ACCEPTED, handling=[HANDLING, replied("2026-04-02")],
         ratings=rated("2026-04-04", "satisfied")),
    # c12: due 04-28, accepted 05-02 — after the cut-off: still undecided and overdue as of 04-30
    case("c12", acceptance=[clock("2026-04-14", "2026-04-28"), decided("2026-05-02")],
         handling=[clock("2026-05-02", "2026-07-01", "handling")]),
    # c13: in time, rated on 05-03 — after the cut-off: eligible, not rated
    case("c13", acceptance=ACCEPTED, handling=[HANDLING, replied("2026-04-20")], ratings=rated("2026-05-03", "satisfied")),
]


def figures(result: dict[str, Any], rate: str) -> tuple[int, int, float | None]:
    found = result["rates"][rate]
    return found["numerator"], found["denominator"], found["rate"]


def test_the_countys_rates_counted_by_hand():
    result = compute(CASES, CLOSED, Choices())
    assert result["cases"] == 13
    # in time: c1 c2 c6 c7 c8 c9 c11 c13; late: c3; overdue: c4 c12; not yet due (left out): c5; c10 withdrawn
    assert figures(result, "timely_acceptance") == (8, 11, 0.7273)
    assert {k: result["rates"]["timely_acceptance"][k] for k in ("on_time", "late", "overdue_undecided",
                                                                  "not_yet_due")} == \
        {"on_time": 8, "late": 1, "overdue_undecided": 2, "not_yet_due": 1}
    # in time: c1 c8 c9 c11 c13; late: c2; overdue: c6; not yet due (left out): c7
    assert figures(result, "on_time_reply") == (5, 7, 0.7143)
    assert result["rates"]["on_time_reply"]["overdue_unanswered"] == 1
    assert result["rates"]["on_time_reply"]["not_yet_due"] == 1
    # eligible: c1 c2 c9 c11 c13 (c8 is a repeat); rated: c1 c2 c9 c11 (c13's rating came after the cut-off)
    assert figures(result, "participation") == (4, 5, 0.8)
    # satisfied c1 c11, basically satisfied c2 (counts by default), dissatisfied c9
    assert figures(result, "satisfaction") == (3, 4, 0.75)
    assert {k: result["rates"]["satisfaction"][k] for k in ("satisfied", "basically_satisfied", "dissatisfied")} == \
        {"satisfied": 2, "basically_satisfied": 1, "dissatisfied": 1}


def test_an_organs_rates_are_those_of_the_cases_it_held():
    town = compute(CASES, CLOSED, Choices(), organ=TOWN)
    assert town["cases"] == 12
    assert figures(town, "timely_acceptance") == (7, 10, 0.7)
    assert figures(town, "on_time_reply") == (4, 6, 0.6667)
    assert figures(town, "participation") == (3, 4, 0.75)
    assert figures(town, "satisfaction") == (2, 3, 0.6667)
    labour = compute(CASES, CLOSED, Choices(), organ=LABOUR)
    assert [figures(labour, r) for r in labour["rates"]] == [(1, 1, 1.0)] * 4


def test_a_rate_is_null_when_nothing_was_due():
    nothing = compute([], CLOSED, Choices())
    assert nothing["cases"] == 0
    assert all(figures(nothing, r) == (0, 0, None) for r in nothing["rates"])
    only_pending = compute([CASES[4]], CLOSED, Choices())  # c5: not yet due, and nothing else
    assert figures(only_pending, "timely_acceptance") == (0, 0, None)
    assert figures(compute([CASES[4]], CLOSED, Choices(not_yet_due_counts=True)), "timely_acceptance") == (0, 1, 0.0)


def test_items_not_yet_due_count_in_the_denominators_when_the_setting_says():
    result = compute(CASES, CLOSED, Choices(not_yet_due_counts=True))
    assert figures(result, "timely_acceptance") == (8, 12, 0.6667)  # + c5
    assert figures(result, "on_time_reply") == (5, 8, 0.625)  # + c7
    assert figures(result, "participation") == (4, 5, 0.8)  # unchanged
    assert figures(result, "satisfaction") == (3, 4, 0.75)


def test_basically_satisfied_is_not_satisfied_when_the_setting_says():
    result = compute(CASES, CLOSED, Choices(basically_satisfied_counts=False))
    assert figures(result, "satisfaction") == (2, 4, 0.5)  # c2 leaves the numerator, not the denominator
    assert figures(result, "participation") == (4, 5, 0.8)


def test_return_visit_ratings_are_left_out_when_the_setting_says():
    result = compute(CASES, CLOSED, Choices(return_visits_count=False))
    assert figures(result, "participation") == (3, 5, 0.6)  # c2's rating was taken on a return visit
    assert figures(result, "satisfaction") == (2, 3, 0.6667)


def test_facts_after_the_cut_off_are_ignored_and_a_later_cut_off_counts_them():
    # c12's acceptance on 05-02 and c13's rating on 05-03 come after 04-30: as of 04-30 c12 is overdue, undecided
    before = compute([CASES[11], CASES[12]], CLOSED, Choices())
    assert before["rates"]["timely_acceptance"]["overdue_undecided"] == 1
    assert figures(before, "participation") == (0, 1, 0.0)
    # counted to the end of May instead, both are there: c12 accepted late (05-02 > 04-28), c13 rated
    later = compute([CASES[11], CASES[12]], CutOff.of(date(2026, 5, 31), today=date(2026, 6, 1)), Choices())
    assert later["rates"]["timely_acceptance"]["late"] == 1
    assert figures(later, "participation") == (1, 1, 1.0)


def test_the_cut_off_of_a_closed_and_of_the_running_period():
    assert CLOSED.closed and CLOSED.overdue_before == date(2026, 5, 1)
    assert CLOSED.instant.isoformat() == "2026-05-01T00:00:00+08:00"  # the end of 04-30 in China
    running = CutOff.of(LAST, today=date(2026, 4, 15))
    assert not running.closed and running.overdue_before == date(2026, 4, 15)  # today's due items are still open
    assert clocked([clock("2026-04-01", "2026-04-15")], "decided", running) == ("not_yet_due", None)
    assert clocked([clock("2026-04-01", "2026-04-14")], "decided", running) == ("overdue", None)
    assert clocked([clock("2026-04-01", "2026-04-30")], "decided", CLOSED) == ("overdue", None)  # its day is over


@pytest.mark.parametrize(("entries", "expected"), [
    # reopened as a new matter after an automatic 不再受理: the new round's clock counts
    ([clock("2026-03-02", "2026-03-17", "triage"), decided("2026-03-02", "declined_again"),
      clock("2026-03-15", "2026-03-30", "triage")], ("overdue", None)),
    # diverted while handling: the decision on acceptance was the acceptance
    ([clock("2026-03-03", "2026-03-20"), decided("2026-03-05"), decided("2026-03-25", "diverted")],
     ("on_time", "accepted")),
    # recounted (a provisional deadline, or re-routed after an objection): the latest clock
    ([clock("2026-03-03", "2026-03-10"), clock("2026-03-08", "2026-03-30"), decided("2026-03-20", "declined")],
     ("on_time", "declined")),
    # a decision without any clock (histories from before the lifecycle): nothing to time
    ([decided("2026-03-05")], (None, None)),
])
def test_the_decision_on_acceptance_as_of_the_cut_off(entries, expected):
    assert clocked(entries, "decided", CLOSED) == expected


def test_the_organ_evaluated_is_the_one_holding_the_case_at_the_cut_off():
    moved = {"holders": [{"on": "2026-03-03", "organ": TOWN}, {"on": "2026-05-05", "organ": LABOUR}]}
    assert holder(moved, CLOSED) == TOWN
    assert holder(moved, CutOff.of(date(2026, 5, 31), today=date(2026, 6, 1))) == LABOUR
    assert holder({"holders": [{"on": "2026-03-03", "organ": TOWN}, {"on": "2026-03-09", "organ": None}]},
                  CLOSED) is None  # back with the bureau (an objection upheld)


def test_the_query_reads_one_period_and_filters_by_organ_and_town():
    assert mongo_filter(FIRST, LAST, None, None) == {"registered_on": {"$gte": "2026-03-01", "$lte": "2026-04-30"}}
    assert mongo_filter(FIRST, LAST, TOWN, "330106001") == {
        "registered_on": {"$gte": "2026-03-01", "$lte": "2026-04-30"}, "organs": TOWN, "town": "330106001"}
