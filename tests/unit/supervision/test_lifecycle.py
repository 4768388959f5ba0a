"""The Case lifecycle, table-driven: every path of docs/domain.md §"Lifecycle" step by step with its status and next
deadline, and the illegal, unpermitted and late steps refused with their codes. Pure domain: no store."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import pytest

from services.supervision.deadlines import load_deadline_rules
from services.supervision.domainmodel import Case
from services.supervision.lifecycle import ACTIONS, CaseError, IllegalTransition, Status, allowed_actions
from services.supervision.projections import render
from shared.language.contracts.actor import Actor
from shared.language.contracts.lifecycle import COMMANDS

RULES = load_deadline_rules()
CN = timezone(timedelta(hours=8))
A = {"code": "330106-ZJJ", "name": "示例县住房和城乡建设局"}
B = {"code": "330106-RSJ", "name": "示例县人力资源和社会保障局"}
UP = {"code": "330106-ZF", "name": "示例县人民政府"}
UP2 = {"code": "3301-ZF", "name": "示例市人民政府"}
CLERK = {"role": "clerk", "user": "clerk1", "organ": None}
SYSTEM = {"role": "system", "user": "routing-rules", "organ": None}
PETITIONER = {"role": "petitioner", "user": None, "organ": None}


def officer(organ: dict[str, str]) -> dict[str, Any]:
    return {"role": "organ_officer", "user": f"officer-{organ['code']}", "organ": organ["code"]}


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T10:00:00").replace(tzinfo=CN)


def new_case(day: str = "2026-09-28", people_count: int = 1, repeat_of: str | None = None,
             flags: list[str] | None = None, accused_organs: list[str] | None = None) -> Case:
    return Case(petition_id=uuid4(), query_code="Q", title="t", category="appeal", channel="online",
                place_code="330106001", at=at(day).isoformat(),
                deadlines=[RULES.compute("triage", date.fromisoformat(day)).as_dict()], correlation_id="c",
                causation_id="x", people_count=people_count, repeat_of=repeat_of, flags=flags or [],
                accused_organs=accused_organs or [], topic=None, received_at=None, provincial=None)


# One step: (day, who, method, arguments). `rules` is added for the methods that take it.
TAKES_RULES = {"route", "decide_objection", "accept", "convert_to_ordinary", "extend", "reply", "open_review",
               "decide_review", "end_hearing"}


def step(case: Case, day: str, actor: dict[str, Any], method: str, **kwargs: Any) -> None:
    if method in TAKES_RULES:
        kwargs["rules"] = RULES
    getattr(case, method)(at=at(day), actor=Actor.model_validate(actor), correlation_id="c", **kwargs)


ROUTE = ("route", dict(disposition="transfer", organ=A, joining_organs=[], basis="属地"))
ORDINARY = [
    ("2026-09-28", SYSTEM, *ROUTE, Status.AWAITING_ACCEPTANCE, ("objection", "2026-10-10")),
    ("2026-09-30", officer(A), "accept", dict(procedure="ordinary"), Status.HANDLING, ("handling", "2026-11-30")),
    ("2026-10-20", officer(A), "record_handling", dict(kind="mediation", summary="组织调解"), Status.HANDLING,
     ("handling", "2026-11-30")),
    ("2026-11-02", officer(A), "reply", dict(outcome="explain", opinion="意见"), Status.REPLIED,
     ("review_request", "2026-12-02")),
    ("2026-11-03", PETITIONER, "evaluate", dict(rating="basically_satisfied", comment=""), Status.REPLIED,
     ("review_request", "2026-12-02")),
]
REVIEW_TO_FINAL = ORDINARY + [
    ("2026-11-10", PETITIONER, "request_review", dict(reasons="不服"), Status.REVIEW_REQUESTED, None),
    ("2026-11-11", CLERK, "open_review", dict(organ=UP), Status.UNDER_REVIEW, ("review", "2026-12-10")),
    ("2026-12-01", officer(UP), "decide_review", dict(outcome="uphold", opinion="维持"), Status.REVIEWED,
     ("re_review_request", "2026-12-31")),
    ("2026-12-02", PETITIONER, "request_review", dict(reasons="仍不服"), Status.RE_REVIEW_REQUESTED, None),
    # 30 days after 12-02 end on 2027-01-01, New Year's Day by rule (2027 is not covered): rolled to Mon 01-04.
    ("2026-12-03", CLERK, "open_review", dict(organ=UP2, re_review=True), Status.UNDER_RE_REVIEW,
     ("re_review", "2027-01-04")),
    ("2026-12-10", officer(UP2), "start_hearing", {}, Status.UNDER_RE_REVIEW, ("re_review", "2027-01-04")),
    # A three-day hearing (12-10 to 12-12) is not counted: 30 + 3 days after 12-02 → 2027-01-04, provisional.
    ("2026-12-12", officer(UP2), "end_hearing", {}, Status.UNDER_RE_REVIEW, ("re_review", "2027-01-04")),
    ("2026-12-20", officer(UP2), "decide_re_review", dict(outcome="uphold", opinion="终结"), Status.FINAL, None),
]
SIMPLIFIED = [
    ("2026-09-28", SYSTEM, *ROUTE, Status.AWAITING_ACCEPTANCE, ("objection", "2026-10-10")),
    # Within 3 working days of receipt (09-29, 09-30, 10-08); 10 working days after 09-30: 10-08 ... 10-20.
    ("2026-09-30", officer(A), "accept", dict(procedure="simplified"), Status.SIMPLIFIED_HANDLING,
     ("simplified_handling", "2026-10-20")),
    ("2026-10-09", officer(A), "reply", dict(outcome="support", opinion="支持"), Status.REPLIED,
     ("review_request", "2026-11-09")),
]
SIMPLIFIED_FALLBACK = SIMPLIFIED[:2] + [
    ("2026-10-09", officer(A), "convert_to_ordinary", dict(reason="情况复杂"), Status.HANDLING,
     ("handling", "2026-11-30")),
]
EXTENSION = ORDINARY[:2] + [
    ("2026-11-20", officer(A), "extend", dict(days=30, reasons="需要补充调查", approved_by="张局长"), Status.EXTENDED,
     ("handling", "2026-12-29")),  # 90 days after acceptance on 09-30
    ("2026-12-15", officer(A), "reply", dict(outcome="support", opinion="支持"), Status.REPLIED,
     ("review_request", "2027-01-14")),
]
OBJECTION_REROUTED = [
    ("2026-09-28", SYSTEM, *ROUTE, Status.AWAITING_ACCEPTANCE, ("objection", "2026-10-10")),
    ("2026-10-09", officer(A), "object", dict(reasons="不属于本机关职责", suggested_organ=B), Status.OBJECTION_RAISED,
     ("acceptance", "2026-10-13")),
    ("2026-10-10", CLERK, "decide_objection", dict(upheld=True, reasons="异议成立", organ=B),
     Status.AWAITING_ACCEPTANCE, ("objection", "2026-10-16")),
    ("2026-10-12", officer(B), "accept", dict(procedure="ordinary"), Status.HANDLING, ("handling", "2026-12-11")),
]
OBJECTION_TO_RULES = OBJECTION_REROUTED[:2] + [
    ("2026-10-10", CLERK, "decide_objection", dict(upheld=False, reasons="属于该机关职责", organ=None),
     Status.AWAITING_ACCEPTANCE, ("acceptance", "2026-10-13")),
]
ASSIGNED = [
    ("2026-11-02", CLERK, "route", dict(disposition="assign", organ=A, joining_organs=[], basis="交办",
                                        action="assign", report_due=date(2026, 12, 15)),
     Status.AWAITING_ACCEPTANCE, ("objection", "2026-11-09")),
    # The report-back date the bureau set comes before the 60 days (2027-01-04).
    ("2026-11-03", officer(A), "accept", dict(procedure="ordinary"), Status.HANDLING,
     ("assignment_report", "2026-12-15")),
]
DECLINED = [
    ("2026-09-28", SYSTEM, *ROUTE, Status.AWAITING_ACCEPTANCE, ("objection", "2026-10-10")),
    ("2026-10-09", officer(A), "decline", dict(reason_code="statutory_procedure", explanation="已起诉"),
     Status.NOT_ACCEPTED, None),
]
DIVERTED = [
    ("2026-09-28", SYSTEM, *ROUTE, Status.AWAITING_ACCEPTANCE, ("objection", "2026-10-10")),
    ("2026-10-09", officer(A), "divert", dict(item=1, explanation="属于劳动仲裁"), Status.DIVERTED, None),
]
LITIGATION = [
    ("2026-09-28", SYSTEM, "route", dict(disposition="political_legal", organ={"code": "330106-ZFW", "name": "政法委"},
                                         joining_organs=[], basis="涉法涉诉"),
     Status.AWAITING_ACCEPTANCE, ("objection", "2026-10-10")),
]
WITHDRAWN = ORDINARY[:2] + [
    ("2026-10-09", CLERK, "withdraw", dict(reasons="问题已自行解决"), Status.WITHDRAWN, None),
]
REPORTED_UP = [
    ("2026-09-28", CLERK, "route", dict(disposition="report_up", organ=None, joining_organs=[], basis="重大紧急",
                                        action="report_up"), Status.REPORTED_UP, ("triage", "2026-10-13")),
    ("2026-09-29", CLERK, "route", dict(disposition="assign", organ=A, joining_organs=[B], basis="按批示交办",
                                        action="assign"), Status.AWAITING_ACCEPTANCE, ("objection", "2026-10-12")),
]
REDIRECTED = [
    ("2026-09-28", CLERK, "route", dict(disposition="out_of_remit", organ=None, joining_organs=[], basis="告知",
                                        where_to_go="县人民法院", action="redirect"), Status.REDIRECTED, None),
]


@pytest.mark.parametrize("steps", [
    pytest.param(ORDINARY, id="ordinary: transfer, accept, mediation, reply, evaluation"),
    pytest.param(REVIEW_TO_FINAL, id="review and re-review (hearing paused) to finality"),
    pytest.param(SIMPLIFIED, id="simplified: 3 and 10 working days across National Day"),
    pytest.param(SIMPLIFIED_FALLBACK, id="simplified falling back to the ordinary procedure"),
    pytest.param(EXTENSION, id="extension by 30 days, approved by the head"),
    pytest.param(OBJECTION_REROUTED, id="objection within 5 working days, upheld, re-routed"),
    pytest.param(OBJECTION_TO_RULES, id="objection rejected"),
    pytest.param(ASSIGNED, id="assignment with a report-back deadline"),
    pytest.param(DECLINED, id="不予受理 with its legal reason"),
    pytest.param(DIVERTED, id="diversion into a statutory procedure (Art. 31(1))"),
    pytest.param(LITIGATION, id="litigation-related: to the political-legal organ"),
    pytest.param(WITHDRAWN, id="withdrawn"),
    pytest.param(REPORTED_UP, id="major/urgent reported up, then assigned with a joining organ"),
    pytest.param(REDIRECTED, id="out of remit: told where to go"),
])
def test_each_path_moves_through_its_states_with_its_next_deadline(steps: list[tuple]) -> None:
    case = new_case()
    for day, actor, method, kwargs, status, next_deadline in steps:
        step(case, day, actor, method, **kwargs)

        assert case.status == status, f"after {method} on {day}"
        upcoming = case.open_deadlines()
        shown = (upcoming[0]["kind"], upcoming[0]["due"]) if upcoming else None
        assert shown == next_deadline, f"next deadline after {method} on {day}"

    events = case.collect_events()
    assert all(e.actor and e.basis and e.at for e in events[1:] if isinstance(e, Case.Transitioned))
    view = render(events)  # every path also projects
    assert view.status == case.status.value
    assert len(view.timeline) >= len(steps)


@pytest.mark.parametrize(("setup", "day", "actor", "method", "kwargs", "code"), [
    pytest.param([], "2026-09-29", officer(A), "reply", dict(outcome="support", opinion="x"), "not_permitted",
                 id="an organ the case was not routed to"),
    pytest.param(ORDINARY[:1], "2026-09-29", officer(A), "reply", dict(outcome="support", opinion="x"),
                 "illegal_transition", id="reply before acceptance"),
    pytest.param(ORDINARY[:1], "2026-10-13", officer(A), "object", dict(reasons="x", suggested_organ=None),
                 "objection_window_passed", id="objection after 5 working days"),
    pytest.param(ORDINARY[:1], "2026-10-09", officer(A), "accept", dict(procedure="simplified"),
                 "simplified_window_passed", id="simplified after 3 working days"),
    pytest.param(ASSIGNED[:1], "2026-11-03", officer(A), "accept", dict(procedure="simplified"),
                 "simplified_not_applicable", id="simplified for an assigned item"),
    pytest.param(SIMPLIFIED[:2], "2026-10-09", officer(A), "reply", dict(outcome="not_support", opinion="x"),
                 "simplified_not_applicable", id="simplified reply that does not support"),
    pytest.param(ORDINARY[:2], "2026-10-09", officer(A), "extend", dict(days=31, reasons="x", approved_by="张"),
                 "extension_too_long", id="extension over 30 days"),
    pytest.param(EXTENSION[:3], "2026-12-01", officer(A), "extend", dict(days=5, reasons="x", approved_by="张"),
                 "illegal_transition", id="a second extension"),
    pytest.param(ORDINARY[:2], "2026-12-01", officer(A), "extend", dict(days=5, reasons="x", approved_by="张"),
                 "handling_deadline_passed", id="extension after the 60 days"),
    pytest.param(ORDINARY, "2026-12-03", PETITIONER, "request_review", dict(reasons="x"),
                 "review_request_window_passed", id="review requested after 30 days"),
    pytest.param(ORDINARY, "2026-11-04", PETITIONER, "evaluate", dict(rating="satisfied", comment=""),
                 "already_evaluated", id="a second evaluation of the same opinion"),
    pytest.param(REVIEW_TO_FINAL[:-2], "2026-12-11", officer(UP2), "decide_re_review",
                 dict(outcome="uphold", opinion="x"), "hearing_in_progress", id="re-review decided during a hearing"),
    pytest.param(REVIEW_TO_FINAL, "2026-12-21", CLERK, "withdraw", dict(reasons="x"), "illegal_transition",
                 id="withdrawal after finality"),
    pytest.param(ORDINARY[:1], "2026-09-29", PETITIONER, "accept", dict(procedure="ordinary"), "not_permitted",
                 id="a petitioner cannot accept"),
    pytest.param(ORDINARY[:2], "2026-09-29", officer(A), "reply", dict(outcome="support", opinion="x"),
                 "date_before_last_step", id="a step dated before the previous one"),
])
def test_refused_steps_name_their_reason(setup: list[tuple], day: str, actor: dict[str, Any], method: str,
                                         kwargs: dict[str, Any], code: str) -> None:
    case = new_case()
    for d, who, m, kw, _status, _deadline in setup:
        step(case, d, who, m, **kw)
    version = case.version

    with pytest.raises(CaseError) as refused:
        step(case, day, actor, method, **kwargs)

    assert refused.value.code == code
    assert refused.value.message  # Chinese, for people
    assert case.version == version  # nothing recorded


def test_simplified_handling_is_refused_for_group_and_repeat_petitions() -> None:
    for case in (new_case(people_count=5), new_case(repeat_of=str(uuid4()))):
        step(case, "2026-09-28", SYSTEM, ROUTE[0], **ROUTE[1])
        with pytest.raises(CaseError, match="简易办理|初次"):
            step(case, "2026-09-29", officer(A), "accept", procedure="simplified")


def test_an_illegal_step_names_the_current_state_and_what_is_allowed() -> None:
    error = IllegalTransition("reply", Status.AWAITING_ACCEPTANCE)

    assert "当前状态为“已转送有权处理机关，待受理”" in error.message
    assert "受理" in error.message and "提出异议" in error.message
    assert error.http_status == 409
    assert error.details["allowed_actions"] == allowed_actions(Status.AWAITING_ACCEPTANCE)


def test_the_review_window_passing_unused_makes_the_case_final() -> None:
    case = new_case()
    for day, actor, method, kwargs, *_ in ORDINARY:
        step(case, day, actor, method, **kwargs)

    assert case.finalize_if_window_passed(at=at("2026-12-02"), correlation_id="c") is False
    assert case.finalize_if_window_passed(at=at("2026-12-03"), correlation_id="c") is True
    assert case.status == Status.FINAL


def test_a_provisional_deadline_is_recomputed_when_the_calendar_changes(tmp_path) -> None:
    from services.supervision.calendar import StatutoryCalendar
    from services.supervision.deadlines import DeadlineRules

    case = new_case("2026-12-21")
    step(case, "2026-12-28", SYSTEM, ROUTE[0], **ROUTE[1])
    step(case, "2026-12-28", officer(A), "accept", procedure="ordinary")
    assert case.deadlines["handling"]["provisional"] is True  # 2027-02-26, counted by rule only
    table = tmp_path / "holidays.yaml"
    table.write_text("years:\n  2027:\n    holidays: [2027-02-26]\n", encoding="utf-8")
    covered = DeadlineRules(RULES.table, StatutoryCalendar.load(table))

    assert case.recompute_deadlines(rules=RULES, at=at("2027-01-02"), correlation_id="c") is False
    assert case.recompute_deadlines(rules=covered, at=at("2027-01-02"), correlation_id="c") is True
    assert (case.deadlines["handling"]["due"], case.deadlines["handling"]["provisional"]) == ("2027-03-01", False)


def test_a_deadline_counted_by_rule_is_recomputed_once_the_table_covers_its_year(tmp_path) -> None:
    from services.supervision.calendar import StatutoryCalendar
    from services.supervision.deadlines import DeadlineRules

    case = new_case("2026-12-07")
    step(case, "2026-12-07", SYSTEM, ROUTE[0], **ROUTE[1])
    step(case, "2026-12-07", officer(A), "accept", procedure="ordinary")
    # 60 days end on 2027-02-05, 除夕 by rule: rolled past the Spring Festival's days by rule to Thursday 02-11.
    assert (case.deadlines["handling"]["due"], case.deadlines["handling"]["provisional"]) == ("2027-02-11", True)
    table = tmp_path / "holidays.yaml"  # a made-up notice: 02-05 to 02-11 off, Saturday 02-20 a working day
    table.write_text("years:\n  2027:\n    holidays: [2027-02-05, 2027-02-08, 2027-02-09, 2027-02-10, 2027-02-11]\n"
                     "    workdays: [2027-02-20]\n", encoding="utf-8")
    covered = DeadlineRules(RULES.table, StatutoryCalendar.load(table))

    assert case.recompute_deadlines(rules=RULES, at=at("2027-01-02"), correlation_id="c") is False
    assert case.recompute_deadlines(rules=covered, at=at("2027-01-02"), correlation_id="c") is True
    assert (case.deadlines["handling"]["due"], case.deadlines["handling"]["provisional"]) == ("2027-02-12", False)


def test_every_action_has_a_command_model_or_is_automatic() -> None:
    automatic = {"route", "finalize", "request_re_review"}  # routing rules, the sweep, request_review's 2nd level

    assert set(ACTIONS) - automatic == set(COMMANDS)
