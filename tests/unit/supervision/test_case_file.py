"""The case file in the case view (issue 16): every step with what it said — the opinions and their text, reasons,
approvers, hearings, handling steps — and the opinions addressed to the petitioner, each with the organ that gave it;
and a step refused in the wrong state lists only what the caller may do. Pure domain and projection: no store."""

from __future__ import annotations

import pytest

from services.supervision import translate
from services.supervision.lifecycle import IllegalTransition
from services.supervision.projections import render
from tests.unit.supervision.test_lifecycle import (
    CLERK,
    PETITIONER,
    REVIEW_TO_FINAL,
    SYSTEM,
    UP,
    UP2,
    A,
    new_case,
    officer,
    step,
)

FREE_TEXT = ("opinion", "reasons", "summary", "approved_by", "comment", "explanation", "notes", "new_facts",
             "where_to_go")


def test_every_step_is_filed_with_who_took_it_and_what_it_said() -> None:
    case = new_case()
    for day, actor, method, kwargs, *_ in REVIEW_TO_FINAL[:3]:  # routed, accepted, mediated
        step(case, day, actor, method, **kwargs)
    step(case, "2026-10-21", officer(A), "extend", days=20, reasons="需补充调查", approved_by="张局长")
    step(case, "2026-11-02", officer(A), "reply", outcome="explain", opinion="经调查，已作如下解释说明……")

    view = render(case.collect_events())

    assert [e.step for e in view.case_file] == ["route", "accept", "record_handling", "extend", "reply"]
    extension = view.case_file[3]
    assert (extension.text, extension.status) == ("延长办理期限", "extended")
    assert extension.actor == officer(A)
    assert (extension.said["days"], extension.said["reasons"], extension.said["approved_by"]) == (20, "需补充调查",
                                                                                                  "张局长")
    assert view.case_file[2].said == {"kind": "mediation", "summary": "组织调解"}
    assert view.case_file[4].basis.startswith("《信访工作条例》第三十二条")


def test_each_opinion_is_kept_with_its_text_and_the_organ_that_gave_it() -> None:
    case = new_case()
    for day, actor, method, kwargs, *_ in REVIEW_TO_FINAL:
        step(case, day, actor, method, **kwargs)

    view = render(case.collect_events())

    assert [(o.level, o.label, o.organ.code, o.outcome_text, o.opinion) for o in view.opinions] == [
        ("reply", "处理意见", A["code"], "解释说明", "意见"),
        ("review", "复查意见", UP["code"], "维持", "维持"),
        ("re_review", "复核意见", UP2["code"], "维持", "终结"),
    ]
    assert [o.on for o in view.opinions] == ["2026-11-02", "2026-12-01", "2026-12-20"]
    hearing = [e for e in view.case_file if e.step == "end_hearing"][0]
    assert (hearing.said["started_on"], hearing.said["on"], hearing.said["paused_days"]) == ("2026-12-10",
                                                                                            "2026-12-12", 3)
    requests = [e.said["reasons"] for e in view.case_file if e.step in ("request_review", "request_re_review")]
    assert requests == ["不服", "仍不服"]


def test_the_case_file_stays_in_supervision_the_exchange_carries_no_free_text() -> None:
    case = new_case()
    for day, actor, method, kwargs, *_ in REVIEW_TO_FINAL:
        step(case, day, actor, method, **kwargs)

    for position, event in enumerate(case.collect_events(), start=1):
        published = translate.to_integration_event(event, position, "urn:xinfang:330106:supervision")
        if published is not None:
            assert not set(published.data.get("details", {})) & set(FREE_TEXT), event


def test_a_registration_received_earlier_says_so_in_the_timeline() -> None:
    case = new_case()
    view = render(case.collect_events())
    assert view.timeline[0].text == "信访事项已登记（网上信访）" and view.received_at is None

    from services.supervision.casefile import registered_text
    assert registered_text("letter", "2026-09-21") == "信访事项已登记（来信，2026年9月21日收到）"
    assert registered_text("visit", "2026-09-21T23:30:00+00:00") == "信访事项已登记（来访，2026年9月22日收到）"


@pytest.mark.parametrize(("actor", "allowed"), [
    # The organ the case was transferred to: what it may do now, not the bureau's steps, and no redirection (an
    # item transferred to it is objected to, not redirected).
    (officer(A), ["object", "accept", "decline", "decline_again", "divert"]),
    # The bureau: its own steps; a redirection is the organ's once the item is at it (received directly).
    (CLERK, ["transfer", "assign", "report_up", "decline", "decline_again", "withdraw"]),
])
def test_a_step_refused_in_this_state_lists_only_what_the_caller_may_do(actor, allowed) -> None:
    case = new_case()
    step(case, "2026-09-28", SYSTEM, "route", disposition="transfer", organ=A, joining_organs=[], basis="属地")
    action = "reply" if actor["role"] == "organ_officer" else "open_review"

    with pytest.raises(IllegalTransition) as refused:
        step(case, "2026-09-29", actor, action, **({"outcome": "support", "opinion": "同意"} if action == "reply"
                                                   else {"organ": UP}))

    assert refused.value.details["allowed_actions"] == allowed
    assert refused.value.message.endswith("您当前可以：" + "、".join(
        {"object": "提出异议", "accept": "受理", "decline": "不予受理", "decline_again": "不再受理",
         "divert": "导入法定程序", "transfer": "转送", "assign": "交办", "report_up": "报请党委政府研究",
         "withdraw": "撤回"}[a] for a in allowed))


def test_a_caller_with_nothing_to_do_now_is_told_so() -> None:
    case = new_case()
    step(case, "2026-09-28", SYSTEM, "route", disposition="transfer", organ=A, joining_organs=[], basis="属地")
    step(case, "2026-09-29", officer(A), "accept", procedure="ordinary")
    step(case, "2026-10-02", officer(A), "reply", outcome="support", opinion="同意")

    with pytest.raises(IllegalTransition) as refused:  # the organ replied: now it is the petitioner's move
        step(case, "2026-10-03", officer(A), "reply", outcome="support", opinion="再次同意")

    assert refused.value.details["allowed_actions"] == []
    assert refused.value.message.endswith("您当前可以：无（待其他机关或者信访部门办理）")
    with pytest.raises(IllegalTransition) as petitioner:
        step(case, "2026-10-03", PETITIONER, "request_review", reasons="不服")
        step(case, "2026-10-04", PETITIONER, "request_review", reasons="又不服")
    assert petitioner.value.details["allowed_actions"] == ["evaluate"]
