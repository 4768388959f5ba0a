"""Supervision by hand (services/supervision/case/supervising.py): a supervision order one to one, the organ's
written answer, the supervisor's acceptance or rejection, the ladder, accountability, leader ownership and the
leader's approval of extensions. Pure domain: no store.

Dates: routed on Tue 2026-09-29 to organ A; an order issued on Mon 10-19 without a day of its own is answered within
5 working days: by Mon 10-26.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from services.supervision.domainmodel import Case
from services.supervision.lifecycle import CaseError
from services.supervision.projections import render
from shared.language.contracts.actor import Actor
from tests.unit.supervision.test_lifecycle import ORDINARY, RULES, SYSTEM, A, B, new_case, officer, step

SUPERVISOR = {"role": "supervisor", "user": "duban1", "organ": None}
ORDER = dict(order_level="letter", trigger="delay", demand="请于期限内书面报告未受理的原因和办理计划",
             respond_by=None, scope="daily", method="online", organ=None)


def routed() -> Case:
    case = new_case("2026-09-28")
    step(case, "2026-09-29", SYSTEM, "route", disposition="transfer", organ=A, joining_organs=[], basis="属地")
    return case


def act(case: Case, day: str, actor: dict, name: str, **kwargs) -> None:
    """A step by its method's name (the orders have a field called `method`, which test_lifecycle.step takes)."""
    getattr(case, name)(at=moment(day), actor=Actor.model_validate(actor), correlation_id="c", **kwargs)


def refused(case: Case, day: str, actor: dict, name: str, **kwargs) -> str:
    with pytest.raises(CaseError) as caught:
        act(case, day, actor, name, **kwargs)
    return caught.value.as_problem()["error"]


def test_an_order_goes_to_the_cases_organ_which_answers_it_and_the_supervisor_accepts_the_answer():
    case = routed()
    act(case, "2026-10-19", SUPERVISOR, "supervise", rules=RULES, **ORDER)
    issued = case.pending_events[-1]
    assert (issued.action, issued.details["holder"], issued.details["due"]) == ("supervise", A, "2026-10-26")
    assert case.deadlines["supervision_response"]["status"] == "open"
    assert case.status == "awaiting_acceptance"  # supervision changes no status
    assert case.actions_for(Actor.model_validate(officer(A))) == ["object", "accept", "decline", "decline_again",
                                                                   "divert", "answer_order"]
    assert refused(case, "2026-10-20", officer(B), "answer_order", answer="x") == "not_permitted"

    act(case, "2026-10-23", officer(A), "answer_order", answer="已于10月22日受理，正在调查核实")
    assert case.pending_events[-1].closed == {"supervision_response": "met"}
    assert refused(case, "2026-10-23", officer(A), "answer_order", answer="再报") == "no_open_order"
    act(case, "2026-10-24", SUPERVISOR, "review_order_answer", accepted=True, reasons="认可", respond_by=None,
         rules=RULES)
    assert case.supervision_order["state"] == "closed"
    assert "answer_order" not in case.actions_for(Actor.model_validate(officer(A)))


def test_a_rejected_answer_is_due_again_and_a_late_answer_is_recorded_late():
    case = routed()
    act(case, "2026-10-19", SUPERVISOR, "supervise", rules=RULES, **ORDER)
    act(case, "2026-10-28", officer(A), "answer_order", answer="正在办理")  # due 10-26: two days late
    assert case.pending_events[-1].closed == {"supervision_response": "late"}
    assert case.pending_events[-1].details["late_days"] == {"supervision_response": 2}
    act(case, "2026-10-29", SUPERVISOR, "review_order_answer", accepted=False, reasons="未说明受理情况",
         respond_by=date(2026, 11, 3), rules=RULES)
    assert case.deadlines["supervision_response"]["due"] == "2026-11-03"
    assert case.supervision_order["state"] == "open"
    act(case, "2026-11-02", officer(A), "answer_order", answer="已受理并书面告知信访人")
    assert case.pending_events[-1].closed == {"supervision_response": "met"}


def test_the_ladder_climbs_and_never_repeats_a_rung_while_an_order_is_open():
    case = routed()
    act(case, "2026-10-19", SUPERVISOR, "supervise", rules=RULES, **ORDER)
    assert refused(case, "2026-10-20", SUPERVISOR, "supervise", rules=RULES, **ORDER) == "order_open"
    assert refused(case, "2026-10-20", SUPERVISOR, "supervise", rules=RULES,
                   **{**ORDER, "order_level": "urge"}) == "order_open"
    act(case, "2026-10-27", SUPERVISOR, "supervise", rules=RULES,
         **{**ORDER, "order_level": "interview", "trigger": "shirking", "method": "on_site", "scope": "special"})
    climbed = case.pending_events[-1]
    assert climbed.details["previous_order_level"] == "letter" and climbed.details["order_level"] == "interview"
    assert climbed.closed == {"supervision_response": "stopped"}  # the letter's day gives way to the interview's
    assert climbed.opened[0]["due"] == "2026-11-03"


def test_an_order_may_name_another_organ_and_reaches_a_case_after_its_opinion():
    case = new_case()
    for day, actor, method, kwargs, *_ in ORDINARY[:4]:  # replied: the opinion is out
        step(case, day, actor, method, **kwargs)
    act(case, "2026-11-04", SUPERVISOR, "supervise", rules=RULES,
         **{**ORDER, "trigger": "not_carried_out", "organ": B})
    assert case.supervised_organ == B and case.status == "replied"
    assert "answer_order" in case.actions_for(Actor.model_validate(officer(B)))
    assert "answer_order" not in case.actions_for(Actor.model_validate(officer(A)))


def test_nobody_but_a_supervisor_supervises():
    case = routed()
    for who in (officer(A), {"role": "clerk", "user": "c", "organ": None}, {"role": "petitioner"}):
        assert refused(case, "2026-10-19", who, "supervise", rules=RULES, **ORDER) == "not_permitted"


def test_an_accountability_recommendation_cites_the_failing_and_goes_to_the_organ_with_authority():
    case = routed()
    act(case, "2026-10-30", SUPERVISOR, "recommend_accountability", failing="shirking_delay_falsification",
         responsible="某镇信访办负责人", grounds="超期未受理且两次督办未报告", organ={"code": "330106-ZF", "name": "示例县人民政府"})
    recommended = case.pending_events[-1]
    assert recommended.details["holder"]["code"] == "330106-ZF"
    assert "推诿、敷衍、拖延或者弄虚作假" in recommended.basis


def test_a_leader_owns_the_case_approves_its_extension_and_resolves_it():
    case = new_case()
    for day, actor, method, kwargs, *_ in ORDINARY[:2]:  # accepted on 09-30: handling due 11-30
        step(case, day, actor, method, **kwargs)
    act(case, "2026-10-10", SUPERVISOR, "assign_leader", leader="李县长", leader_title="副县长",
         team=["王主任", "赵科长"], plan="召集住建、城管联合调查，一个月内提出化解方案", due=None, rules=RULES)
    assert case.deadlines["leader_ownership"]["due"] == "2027-01-08"  # 90 days from 10-10
    assert refused(case, "2026-10-11", SUPERVISOR, "assign_leader", leader="另一领导", leader_title="局长", team=[],
                   plan="x", due=None, rules=RULES) == "leader_assigned"  # one leader at a time
    assert refused(case, "2026-11-20", officer(A), "extend", days=10, reasons="需调查", approved_by="张局长",
                   rules=RULES) == "leader_approval_required"
    act(case, "2026-11-20", officer(A), "extend", days=10, reasons="需调查", approved_by="李县长", rules=RULES)
    act(case, "2026-11-25", officer(A), "record_ownership_progress", progress="已现场协调，达成一致", resolved=True)
    assert case.pending_events[-1].closed == {"leader_ownership": "met"}
    assert case.leader["resolved_on"] == "2026-11-25"
    view = render(case.collect_events())
    assert any(t.text == "包案化解工作已办结" for t in view.timeline)


def test_a_group_of_thirty_is_proposed_for_leader_ownership_once_and_a_long_open_case_by_the_watch():
    case = routed()
    assert case.propose_ownership(["group_of_30"], at=moment("2026-09-29"), actor=Actor(role="system",
                                  user="deadline-watch"), correlation_id="c")
    assert not case.propose_ownership(["group_of_30"], at=moment("2026-09-30"), actor=Actor(role="system",
                                      user="deadline-watch"), correlation_id="c")  # proposed already
    proposed = case.pending_events[-1]
    assert (proposed.action, proposed.details["triggers"]) == ("propose_leader_ownership", ["group_of_30"])
    watched = case.watch_deadlines(rules=RULES, reminders=(), at=moment("2027-01-27"), correlation_id="w",
                                   ownership_after_days=120)
    assert [e.details.get("triggers") for e in case.pending_events[-watched:]
            if e.action == "propose_leader_ownership"] == [["long_open"]]
    assert case.watch_deadlines(rules=RULES, reminders=(), at=moment("2027-01-28"), correlation_id="w",
                                ownership_after_days=120) == 0


def moment(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T10:00:00+08:00")
