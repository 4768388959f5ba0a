"""Every statutory path, table-driven, through supervision's real store (PostgreSQL and SQLite) on a fixed clock:
after each step, the status and the next deadline as the regulations count them (docs/domain.md
§"Lifecycle", §"Deadlines", §"Day counting", §"Simplified procedure").

The dates were counted by hand on the 2026 calendar: National Day 10-01..10-07 off, Sunday 09-20 and Saturday 10-10
worked (调休); calendar-day periods ending on a day off move to the next working day; counting starts the day after
the trigger. 2027 is not covered by chinesecalendar 1.11.0, so deadlines there are provisional until a holiday
table for 2027 is added (the one below is made up for the test).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from services.supervision.application import SupervisionApplication
from services.supervision.bootstrap import build_application
from services.supervision.lifecycle import CaseError
from services.supervision.settings import SupervisionSettings
from tests.support import samples
from tests.support.clock import MovableClock

TOWN = {"code": "330106001-ZF", "name": "示例县城关镇人民政府"}
POLITICAL_LEGAL = {"code": "330106-ZFW", "name": "中共示例县委政法委员会"}
CLERK = {"role": "clerk", "user": "clerk1", "organ": "330106-XFJ"}
PETITIONER = {"role": "petitioner", "user": None, "organ": None}


def officer(code: str) -> dict[str, Any]:
    return {"role": "organ_officer", "user": f"officer-{code}", "organ": code}


TOWN_OFFICER, COUNTY, CITY, ZFW = officer(TOWN["code"]), officer("330106-ZF"), officer("3301-ZF"), officer("330106-ZFW")


@dataclass
class Step:
    day: str  # the day the step is taken (10:00 Beijing time)
    actor: dict[str, Any]
    action: str
    payload: dict[str, Any]
    status: str  # after the step
    next_deadline: tuple[str, str, bool] | None  # (kind, due, provisional) of the earliest open deadline


@dataclass
class Path_:
    registered: str
    routed: str
    organ: dict[str, str] = field(default_factory=lambda: TOWN)
    disposition: str = "transfer"
    people_count: int = 1
    steps: list[Step] = field(default_factory=list)


REPLY = {"outcome": "not_support", "opinion": "经调查核实，诉求缺乏政策依据"}
PATHS = {
    "ordinary, across National Day, review and re-review with a hearing, to finality": Path_(
        "2026-09-28", "2026-09-29", steps=[
            Step("2026-09-30", TOWN_OFFICER, "accept", {"procedure": "ordinary"}, "handling",
                 ("handling", "2026-11-30", False)),  # 60 days end on Sunday 11-29
            Step("2026-10-20", TOWN_OFFICER, "reply", REPLY, "replied", ("review_request", "2026-11-19", False)),
            Step("2026-10-22", PETITIONER, "evaluate", {"rating": "dissatisfied"}, "replied",
                 ("review_request", "2026-11-19", False)),
            Step("2026-10-22", PETITIONER, "request_review", {"reasons": "不服"}, "review_requested", None),
            Step("2026-10-26", CLERK, "open_review", {"organ_code": "330106-ZF"}, "under_review",
                 ("review", "2026-11-23", False)),  # 30 days from the request (10-22), Saturday → Monday
            Step("2026-11-10", COUNTY, "decide_review", {"outcome": "uphold", "opinion": "维持"}, "reviewed",
                 ("re_review_request", "2026-12-10", False)),
            Step("2026-11-11", PETITIONER, "request_review", {"reasons": "仍不服"}, "re_review_requested", None),
            Step("2026-11-12", CLERK, "open_re_review", {"organ_code": "3301-ZF"}, "under_re_review",
                 ("re_review", "2026-12-11", False)),  # 30 days from the request (11-11)
            Step("2026-11-13", CITY, "start_hearing", {}, "under_re_review", ("re_review", "2026-12-11", False)),
            Step("2026-11-18", CITY, "end_hearing", {}, "under_re_review",
                 ("re_review", "2026-12-17", False)),  # the 6 hearing days (11-13..11-18) are not counted
            Step("2026-12-01", CITY, "decide_re_review", {"outcome": "uphold", "opinion": "维持，终结"}, "final", None),
        ]),
    "simplified, across National Day": Path_(
        "2026-09-28", "2026-09-29", steps=[
            Step("2026-09-30", TOWN_OFFICER, "accept", {"procedure": "simplified"}, "simplified_handling",
                 ("simplified_handling", "2026-10-20", False)),  # 10 working days, 10-10 worked
            Step("2026-10-15", TOWN_OFFICER, "reply", {"outcome": "support", "opinion": "同意疏通"}, "replied",
                 ("review_request", "2026-11-16", False)),  # 30 days end on Saturday 11-14
        ]),
    "simplified, found unsuitable, converted to ordinary": Path_(
        "2026-09-28", "2026-09-29", steps=[
            Step("2026-09-30", TOWN_OFFICER, "accept", {"procedure": "simplified"}, "simplified_handling",
                 ("simplified_handling", "2026-10-20", False)),
            Step("2026-10-09", TOWN_OFFICER, "convert_to_ordinary", {"reason": "情况复杂，需要调查"}, "handling",
                 ("handling", "2026-11-30", False)),  # 60 days from acceptance
        ]),
    "accepted in late December: the 60 days end in 2027, extended": Path_(
        "2026-12-21", "2026-12-22", steps=[
            Step("2026-12-28", TOWN_OFFICER, "accept", {"procedure": "ordinary"}, "handling",
                 ("handling", "2027-02-26", True)),
            Step("2027-02-01", TOWN_OFFICER, "extend", {"days": 20, "reasons": "涉及多个部门", "approved_by": "张镇长"},
                 "extended", ("handling", "2027-03-18", True)),
        ]),
    "objection within 5 working days across National Day, upheld, re-routed": Path_(
        "2026-09-28", "2026-09-29", steps=[
            Step("2026-10-12", TOWN_OFFICER, "object", {"reasons": "属于县级城市管理职责"}, "objection_raised",
                 ("acceptance", "2026-10-14", False)),  # the objection window is met; acceptance still runs
            Step("2026-10-12", CLERK, "decide_objection",
                 {"upheld": True, "reasons": "异议成立", "organ_code": "330106-ZHZFJ"}, "awaiting_acceptance",
                 ("objection", "2026-10-19", False)),  # 5 working days from 10-12
        ]),
    "litigation-related: to the political-legal organs, diverted into litigation": Path_(
        "2026-09-28", "2026-09-29", organ=POLITICAL_LEGAL, disposition="political_legal", steps=[
            Step("2026-09-30", ZFW, "divert", {"item": 1, "explanation": "属于诉讼程序解决的事项"}, "diverted", None),
        ]),
    "not accepted, with the legal reason": Path_(
        "2026-09-28", "2026-09-29", steps=[
            Step("2026-10-09", TOWN_OFFICER, "decline", {"reason_code": "out_of_scope"}, "not_accepted", None),
        ]),
    "withdrawn while handled": Path_(
        "2026-09-28", "2026-09-29", steps=[
            Step("2026-09-30", TOWN_OFFICER, "accept", {"procedure": "ordinary"}, "handling",
                 ("handling", "2026-11-30", False)),
            Step("2026-10-09", CLERK, "withdraw", {"reasons": "信访人申请撤回"}, "withdrawn", None),
        ]),
}

# (path to follow first, then a step that must be refused, the refusal's HTTP status and error code)
REFUSALS = {
    "an objection after the 5 working days": (
        "not accepted, with the legal reason", 0,
        Step("2026-10-13", TOWN_OFFICER, "object", {"reasons": "迟到的异议"}, "", None), 409, "objection_window_passed"),
    "an extension of more than 30 days": (
        "withdrawn while handled", 1,
        Step("2026-10-09", TOWN_OFFICER, "extend", {"days": 31, "reasons": "复杂", "approved_by": "张镇长"}, "", None),
        409, "extension_too_long"),
    "a simplified 'not support' opinion": (
        "simplified, across National Day", 1,
        Step("2026-10-15", TOWN_OFFICER, "reply", REPLY, "", None), 409, "simplified_not_applicable"),
    "a review request after the 30 days": (
        "simplified, across National Day", 2,
        Step("2026-11-17", PETITIONER, "request_review", {"reasons": "迟到"}, "", None), 409, "review_request_window_passed"),
    "a re-review decision during the hearing": (
        "ordinary, across National Day, review and re-review with a hearing, to finality", 9,
        Step("2026-11-14", CITY, "decide_re_review", {"outcome": "uphold", "opinion": "维持"}, "", None), 409,
        "hearing_in_progress"),
    "acceptance by an organ the item was not sent to": (
        "not accepted, with the legal reason", 0,
        Step("2026-09-30", ZFW, "accept", {"procedure": "ordinary"}, "", None), 403, "not_permitted"),
    "a reply before acceptance": (
        "not accepted, with the legal reason", 0,
        Step("2026-09-30", TOWN_OFFICER, "reply", REPLY, "", None), 409, "illegal_transition"),
}




@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def settings(settings_for, store) -> SupervisionSettings:
    return settings_for(SupervisionSettings, store=store)


@pytest.fixture
def supervision(settings, closing, clock) -> SupervisionApplication:
    return closing(build_application(settings, clock=clock))


def next_deadline(case: dict[str, Any]) -> tuple[str, str, bool] | None:
    deadlines = case["deadlines"]
    return (deadlines[0]["kind"], deadlines[0]["due"], deadlines[0]["provisional"]) if deadlines else None


def start(supervision: SupervisionApplication, clock: MovableClock, path: Path_) -> str:
    clock.set(path.registered)
    registered = samples.registered_event(1, registered_at=clock.now.isoformat(), people_count=path.people_count)
    supervision.open_case(registered, samples.particulars(registered))
    petition_id = registered.subject
    assert supervision.get_case(petition_id)["status"] == "registered"
    clock.set(path.routed)
    supervision.record_routing(samples.routed_event(2, petition_id, organ_code=path.organ["code"],
                                                    organ_name=path.organ["name"], disposition=path.disposition,
                                                    routed_at=clock.now))
    return petition_id


def take(supervision: SupervisionApplication, clock: MovableClock, petition_id: str, step: Step) -> dict[str, Any]:
    clock.set(step.day)
    return supervision.perform(petition_id, step.action, step.payload, step.actor)


@pytest.mark.parametrize("name", PATHS)
def test_each_path_reaches_each_status_with_the_statutory_next_deadline(supervision, clock, name):
    path = PATHS[name]
    petition_id = start(supervision, clock, path)
    assert supervision.get_case(petition_id)["status"] == "awaiting_acceptance"

    seen = []
    for step in path.steps:
        case = take(supervision, clock, petition_id, step)
        seen.append((step.action, case["status"], next_deadline(case)))

    assert seen == [(s.action, s.status, s.next_deadline) for s in path.steps]


def test_registration_and_routing_open_the_triage_acceptance_and_objection_clocks(supervision, clock):
    path = PATHS["not accepted, with the legal reason"]
    clock.set(path.registered)
    registered = samples.registered_event(1, registered_at=clock.now.isoformat())
    supervision.open_case(registered, samples.particulars(registered))
    assert next_deadline(supervision.get_case(registered.subject)) == ("triage", "2026-10-13", False)

    clock.set(path.routed)
    supervision.record_routing(samples.routed_event(2, registered.subject, routed_at=clock.now))
    deadlines = {d["kind"]: d["due"] for d in supervision.get_case(registered.subject)["deadlines"]}
    assert deadlines == {"acceptance": "2026-10-14", "objection": "2026-10-12"}  # 5 working days, 10-10 worked


@pytest.mark.parametrize("name", REFUSALS)
def test_an_illegal_or_late_step_is_refused_and_changes_nothing(supervision, clock, name):
    path_name, steps_first, refused, http_status, error = REFUSALS[name]
    path = PATHS[path_name]
    petition_id = start(supervision, clock, path)
    for step in path.steps[:steps_first]:
        take(supervision, clock, petition_id, step)
    before = supervision.get_case(petition_id)

    with pytest.raises(CaseError) as caught:
        take(supervision, clock, petition_id, refused)

    assert (caught.value.http_status, caught.value.as_problem()["error"]) == (http_status, error)
    assert supervision.get_case(petition_id) == before


def test_a_provisional_2027_deadline_is_recounted_by_the_sweep_once_the_holiday_table_covers_2027(
        settings, closing, clock, tmp_path: Path):
    path = PATHS["accepted in late December: the 60 days end in 2027, extended"]
    first = closing(build_application(settings, clock=clock))
    petition_id = start(first, clock, path)
    take(first, clock, petition_id, path.steps[0])
    assert first.sweep([petition_id]) == {"finalized": 0, "recomputed": 0}  # the table still lacks 2027
    first.close()

    table = tmp_path / "holidays.yaml"  # made up: 2027-02-26 a day off
    table.write_text("years:\n  2027:\n    holidays: [2027-02-26]\n    workdays: []\n", encoding="utf-8")
    clock.set("2027-01-04")
    ops = closing(build_application(settings.model_copy(update={"holiday_table_file": table}), clock=clock))

    assert ops.sweep([petition_id]) == {"finalized": 0, "recomputed": 1}
    assert next_deadline(ops.get_case(petition_id)) == ("handling", "2027-03-01", False)  # off Friday → Monday
    assert ops.sweep([petition_id]) == {"finalized": 0, "recomputed": 0}


def received_directly(supervision: SupervisionApplication, clock: MovableClock, day: str = "2026-09-28") -> str:
    clock.set(day)
    registered = samples.registered_event(1, registered_at=clock.now.isoformat(), channel="visit",
                                          actor=TOWN_OFFICER)
    supervision.open_case(registered, samples.particulars(registered))
    return registered.subject


def test_a_petition_an_organ_received_directly_awaits_that_organs_acceptance_without_triage(supervision, clock):
    petition_id = received_directly(supervision, clock)

    case = supervision.get_case(petition_id)
    assert (case["status"], case["organ"], case["disposition"]) == ("awaiting_acceptance", TOWN, "direct_receipt")
    assert next_deadline(case) == ("acceptance", "2026-10-13", False)  # 15 days from receipt (Art. 23)
    # The rules' routing that follows changes nothing: the organ decides itself.
    supervision.record_routing(samples.routed_event(2, petition_id, routed_at=clock.now))
    assert supervision.get_case(petition_id)["disposition"] == "direct_receipt"
    clock.set("2026-09-30")
    assert supervision.perform(petition_id, "accept", {"procedure": "ordinary"}, TOWN_OFFICER)["status"] == "handling"


def test_an_organ_tells_the_petitioner_where_to_go_for_what_it_received_directly_and_cannot_object(
        supervision, clock):
    petition_id = received_directly(supervision, clock)
    clock.set("2026-09-29")

    with pytest.raises(CaseError) as objection:
        supervision.perform(petition_id, "object", {"reasons": "不属于本镇职责"}, TOWN_OFFICER)
    with pytest.raises(CaseError) as by_bureau:
        supervision.perform(petition_id, "redirect", {"where_to_go": "县人社局"}, CLERK)
    redirected = supervision.perform(petition_id, "redirect", {"where_to_go": "示例县人力资源和社会保障局"},
                                     TOWN_OFFICER)

    assert (objection.value.http_status, objection.value.as_problem()["error"]) == (409, "received_directly")
    assert (by_bureau.value.http_status, by_bureau.value.as_problem()["error"]) == (409, "illegal_transition")
    assert redirected["status"] == "redirected"


def test_an_organ_cannot_redirect_what_the_bureau_transferred_to_it(supervision, clock):
    petition_id = start(supervision, clock, PATHS["not accepted, with the legal reason"])

    with pytest.raises(CaseError) as refused:
        supervision.perform(petition_id, "redirect", {"where_to_go": "县人社局"}, TOWN_OFFICER)

    assert (refused.value.http_status, refused.value.as_problem()["error"]) == (409, "not_received_directly")
