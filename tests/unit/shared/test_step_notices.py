"""Each lifecycle step names the notice it sends the petitioner, or says why it sends none (Step.notice in
shared/language/contracts/lifecycle.py STEPS), and the steps the statute's checklist lists name the notice it
requires (../shared/reference/xinfang-domain.md §4.6; docs/domain.md §"Notices")."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, get_args

import pytest

from services.routing.rules import Disposition
from services.supervision.domainmodel import Case
from shared.language.contracts.deadlines import DEADLINE_HOLDERS
from shared.language.contracts.lifecycle import (
    PROCEDURES,
    RE_REVIEW_OUTCOMES,
    REPLY_OUTCOMES,
    REVIEW_OUTCOMES,
    STEPS,
    Step,
)
from shared.language.contracts.notices import (
    HOLDER,
    NOTICES,
    ON_REGISTRATION,
    PETITIONER_NOTICES,
    TELLS_ORGANS,
    Depending,
    NoticeKind,
    Sends,
    Silent,
    depending,
    sends,
    silent,
)
from tests.unit.supervision import test_lifecycle as paths

N = NoticeKind


def undeclared(steps: Mapping[str, Step]) -> list[str]:
    """The steps that do not say what they send: no declaration, or a silence without its reason."""
    return sorted(name for name, step in steps.items()
                  if not isinstance(step.notice, Sends | Silent | Depending)
                  or (isinstance(step.notice, Silent) and not step.notice.reason.strip()))


def test_every_step_names_its_notice_or_says_why_it_sends_none() -> None:
    assert undeclared(STEPS) == []


def test_the_check_fails_on_a_step_that_declares_nothing() -> None:
    """The check itself: a step whose notice is missing (None) is caught. Leaving `notice=` out of a `_step(...)`
    is caught earlier still: the declaration requires it (a TypeError when the module is imported)."""
    forgetful = {**STEPS, "accept": dataclasses.replace(STEPS["accept"], notice=None)}

    assert undeclared(forgetful) == ["accept"]
    with pytest.raises(TypeError, match="notice"):
        Step("x", "x", frozenset(), frozenset(), (), lambda f: None)  # type: ignore[call-arg]


def test_a_silence_needs_its_reason_and_sends_at_least_one_kind() -> None:
    with pytest.raises(ValueError, match="says why"):
        silent(" ")
    with pytest.raises(ValueError, match="at least one"):
        sends()


def sent(step: str, **details: Any) -> tuple[NoticeKind, ...]:
    return STEPS[step].notice.for_step(details)


# The statute's checklist (§4.6): the step, what it decided, and the notice it must send first.
@pytest.mark.parametrize(("step", "details", "kind"), [
    pytest.param("transfer", {"disposition": "transfer"}, N.TRANSFER_NOTICE, id="转送: where it went and why"),
    pytest.param("assign", {"disposition": "assign"}, N.ASSIGNMENT_NOTICE, id="交办: where it went and why"),
    pytest.param("route", {"disposition": "transfer"}, N.TRANSFER_NOTICE, id="the rules transfer"),
    pytest.param("route", {"disposition": "political_legal"}, N.TRANSFER_NOTICE, id="the rules: political-legal"),
    pytest.param("route", {"disposition": "discipline"}, N.TRANSFER_NOTICE, id="the rules: discipline organ"),
    pytest.param("route", {"disposition": "out_of_remit"}, N.REDIRECT_NOTICE, id="the rules: out of remit"),
    pytest.param("decide_objection", {"upheld": True, "disposition": "transfer"}, N.TRANSFER_NOTICE,
                 id="objection upheld, sent to the organ the bureau names"),
    pytest.param("redirect", {"disposition": "out_of_remit"}, N.REDIRECT_NOTICE, id="告知向有权机关提出"),
    pytest.param("accept", {"procedure": "ordinary"}, N.ACCEPTANCE_NOTICE, id="受理告知书"),
    pytest.param("accept", {"procedure": "simplified"}, N.ACCEPTANCE_NOTICE, id="受理告知书, simplified"),
    pytest.param("decline", {"reason_code": "out_of_scope"}, N.NOT_ACCEPTED_NOTICE, id="不予受理告知书"),
    pytest.param("decline_again", {"reason_code": "final_after_re_review"}, N.NOT_ACCEPTED_AGAIN_NOTICE,
                 id="不再受理告知书"),
    pytest.param("divert", {"item": 1}, N.DIVERSION_NOTICE, id="导入法定程序"),
    pytest.param("extend", {"days": 30}, N.EXTENSION_NOTICE, id="延长办理期限告知书"),
    *(pytest.param("reply", {"outcome": outcome}, N.OPINION, id=f"处理意见书 ({outcome})")
      for outcome in REPLY_OUTCOMES),
    *(pytest.param("decide_review", {"outcome": outcome}, N.REVIEW_OPINION, id=f"复查意见书 ({outcome})")
      for outcome in REVIEW_OUTCOMES),
    *(pytest.param("decide_re_review", {"outcome": outcome}, N.RE_REVIEW_OPINION, id=f"复核意见书 ({outcome})")
      for outcome in RE_REVIEW_OUTCOMES),
])
def test_the_steps_of_the_statutes_checklist_send_the_notice_it_requires(step: str, details: dict[str, Any],
                                                                          kind: NoticeKind) -> None:
    assert sent(step, **details)[0] == kind


@pytest.mark.parametrize(("step", "details"), [
    *(("reply", {"outcome": outcome}) for outcome in REPLY_OUTCOMES),
    ("decide_review", {"outcome": "uphold"}),
    ("decide_review", {"outcome": "change"}),
    *(("decide_re_review", {"outcome": outcome}) for outcome in RE_REVIEW_OUTCOMES),
])
def test_every_opinion_the_petitioner_may_rate_is_followed_by_the_invitation_to_rate(step: str,
                                                                                     details: dict[str, Any]) -> None:
    assert sent(step, **details)[-1] == N.RATING_INVITATION


def test_a_review_that_orders_re_handling_leaves_nothing_to_rate_yet() -> None:
    assert sent("decide_review", outcome="rehandle") == (N.REVIEW_OPINION,)


def test_every_disposition_the_routing_rules_may_decide_is_declared() -> None:
    """A new disposition in the routing rules must say what it sends: `route` has no fallback."""
    for disposition in (*get_args(Disposition), "assign"):
        sent("route", disposition=disposition)
    with pytest.raises(KeyError, match="disposition"):
        sent("route", disposition="teleport")


@pytest.mark.parametrize(("step", "details"), [
    ("route", {"disposition": "report_up"}),
    ("report_up", {"disposition": "report_up"}),
    ("decide_objection", {"upheld": False}),
    ("decide_objection", {"upheld": True, "excluded_organs": ["330106-ZJJ"]}),  # the rules route it again
    ("object", {}), ("start_hearing", {}), ("end_hearing", {}), ("evaluate", {}), ("request_review", {}),
    ("receive_directly", {"disposition": "direct_receipt"}),  # the receipt went out on registration
])
def test_internal_steps_and_the_petitioners_own_send_nothing(step: str, details: dict[str, Any]) -> None:
    assert sent(step, **details) == ()


def test_every_kind_of_notice_is_sent_by_some_step_or_on_registration() -> None:
    named = {ON_REGISTRATION}.union(*(step.notice.named() for step in STEPS.values()))

    # Not the petitioner's: the organs' notice, the early warning to the supervisors (sent on warning.raised) and a
    # circular to organs (sent on circular_issued).
    assert named == set(PETITIONER_NOTICES) == set(NoticeKind) - {N.ORGAN_CASE_NOTICE, N.WARNING_NOTICE,
                                                                  N.CIRCULAR_NOTICE}


def test_the_steps_that_tell_organs_are_steps_and_name_the_cases_organ_keys() -> None:
    """A step that puts a case before an organ tells it (TELLS_ORGANS): the routing steps and the openings of a
    review and a re-review; each names a key of the case that holds an organ, and a duty the notice words. The
    deadline watch's reminder and breach tell the organ holding the deadline, which the step itself names (HOLDER),
    from the case's keys that hold an organ (DEADLINE_HOLDERS)."""
    assert set(TELLS_ORGANS) <= set(STEPS)
    assert {"route", "transfer", "assign", "decide_objection", "open_review", "open_re_review", "remind_deadline",
            "record_breach", "supervise", "review_order_answer", "recommend_accountability"} == set(TELLS_ORGANS)
    case_keys = ("organ", "joining_organs", "review_organ", "re_review_organ", "supervised_organ")
    for told in TELLS_ORGANS.values():
        for key, duty in told:
            assert key in (*case_keys, HOLDER)
            assert duty in NOTICES[N.ORGAN_CASE_NOTICE].values["duty"].choices
    assert {key for key in DEADLINE_HOLDERS.values() if key} <= set(case_keys)


def test_the_choices_of_the_templates_are_the_lifecycles() -> None:
    """An outcome or procedure the lifecycle adds must be worded by the template of its notice."""
    assert NOTICES[N.ACCEPTANCE_NOTICE].values["procedure"].choices == tuple(PROCEDURES)
    assert NOTICES[N.OPINION].values["outcome"].choices == tuple(REPLY_OUTCOMES)
    assert NOTICES[N.REVIEW_OPINION].values["outcome"].choices == tuple(REVIEW_OUTCOMES)
    assert NOTICES[N.RE_REVIEW_OPINION].values["outcome"].choices == tuple(RE_REVIEW_OUTCOMES)
    assert NOTICES[N.RATING_INVITATION].values["level"].choices == ("reply", "review", "re_review")


def test_a_depending_declaration_falls_back_only_where_it_says_so() -> None:
    strict = depending("outcome", {"uphold": sends(N.REVIEW_OPINION)})
    lenient = depending("outcome", {"uphold": sends(N.REVIEW_OPINION)}, otherwise=silent("nothing to say"))

    assert strict.for_step({"outcome": "uphold"}) == (N.REVIEW_OPINION,)
    with pytest.raises(KeyError):
        strict.for_step({})
    assert lenient.for_step({"outcome": ["uphold"]}) == ()
    assert hash(STEPS["route"])  # declarations stay hashable like the rest of a Step


REHANDLED = paths.REVIEW_TO_FINAL[:7] + [
    ("2026-12-01", paths.officer(paths.UP), "decide_review", dict(outcome="rehandle", opinion="重新办理"), None, None),
]


@pytest.mark.parametrize("steps", [
    paths.ORDINARY, paths.REVIEW_TO_FINAL, paths.SIMPLIFIED, paths.SIMPLIFIED_FALLBACK, paths.EXTENSION,
    paths.OBJECTION_REROUTED, paths.OBJECTION_TO_RULES, paths.ASSIGNED, paths.DECLINED, paths.DIVERTED,
    paths.LITIGATION, paths.WITHDRAWN, paths.REPORTED_UP, paths.REDIRECTED, REHANDLED,
])
def test_what_a_step_depends_on_is_in_what_the_case_records(steps: list[tuple]) -> None:
    """Driving the Case through each path of the lifecycle: every recorded step resolves to its notices from the
    details the Case records (a `depending` on a key the Case does not record would fail here)."""
    case = paths.new_case()
    for day, actor, method, kwargs, *_ in steps:
        paths.step(case, day, actor, method, **kwargs)

    recorded = [e for e in case.collect_events() if isinstance(e, Case.Transitioned)]
    resolved = [(e.action, STEPS[e.action].notice.for_step(e.details)) for e in recorded]

    assert len(resolved) == len(steps)
    for action, kinds in resolved:
        if action in {"transfer", "assign", "accept", "decline", "divert", "extend", "reply", "redirect",
                      "decide_review", "decide_re_review"}:
            assert kinds, f"{action} sends nothing"
