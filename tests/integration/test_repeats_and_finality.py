"""What supervision makes of repeats, group petitions and passing windows, on a real store with a movable clock:
a repeat of an open case is not accepted again, a repeat of a final case gets 不再受理, a clerk may overturn an
automatic refusal on new facts; a major/urgent item is reported up the same day; the sweep finalizes a case
whose review window passed unused (2022 Regulations Arts. 35-36; docs/domain.md §"Repeats and finality",
§"Group petitions and representatives")."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest

from services.supervision.application import SupervisionApplication
from services.supervision.bootstrap import build_application
from services.supervision.lifecycle import CaseError
from services.supervision.settings import SupervisionSettings
from tests.support import samples
from tests.support.clock import MovableClock

CLERK = {"role": "clerk", "user": "clerk1", "organ": "330106-XFJ"}
ORGAN = {"role": "organ_officer", "user": "officer1", "organ": "330106001-ZF"}




@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def supervision(settings_for, closing, store, clock) -> SupervisionApplication:
    return closing(build_application(settings_for(SupervisionSettings, store=store), clock=clock))


class Sequence:
    def __init__(self) -> None:
        self.value = 0

    def __call__(self) -> int:
        self.value += 1
        return self.value


def open_case(supervision: SupervisionApplication, seq: Sequence, **data: Any) -> str:
    event = samples.registered_event(seq(), **data)
    supervision.open_case(event, samples.particulars(event))
    return event.subject


def replied_case(supervision: SupervisionApplication, seq: Sequence) -> str:
    petition_id = open_case(supervision, seq)
    supervision.record_routing(samples.routed_event(seq(), petition_id))
    supervision.perform(petition_id, "accept", {"procedure": "ordinary"}, ORGAN)
    supervision.perform(petition_id, "reply", {"outcome": "not_support", "opinion": "经调查，诉求缺乏依据"}, ORGAN)
    return petition_id


def repeat_of(petition_id: str) -> dict[str, Any]:
    return {"repeat_of": petition_id, "similar_petitions": [{"petition_id": petition_id, "similarity": 91.0}]}


def history(supervision: SupervisionApplication, petition_id: str) -> list[Any]:
    return list(supervision.events.get(UUID(petition_id)))


def test_a_repeat_while_the_earlier_case_is_handled_is_not_accepted_again(supervision):
    seq = Sequence()
    earlier = open_case(supervision, seq)
    supervision.record_routing(samples.routed_event(seq(), earlier))

    repeat = open_case(supervision, seq, **repeat_of(earlier))

    assert supervision.get_case(repeat)["status"] == "not_accepted"
    decline = history(supervision, repeat)[-1]
    assert (decline.details["reason_code"], decline.details["earlier_petition_id"]) == ("already_handled", earlier)
    assert supervision.get_case(earlier)["status"] == "awaiting_acceptance"  # the earlier case goes on


def test_a_repeat_after_an_opinion_is_sent_to_review_not_accepted_as_new(supervision):
    seq = Sequence()
    earlier = replied_case(supervision, seq)

    repeat = open_case(supervision, seq, **repeat_of(earlier))

    decline = history(supervision, repeat)[-1]
    assert decline.action == "decline" and decline.details["reason_code"] == "review_is_the_remedy"
    assert decline.actor["user"] == "repeat-check"


def test_after_the_window_passes_the_sweep_finalizes_and_a_repeat_gets_not_accepted_again(supervision, clock):
    seq = Sequence()
    earlier = replied_case(supervision, seq)
    assert supervision.sweep([earlier]) == {"finalized": 0, "recomputed": 0}  # the 30 days are still running

    clock.advance(40)
    assert supervision.sweep([earlier]) == {"finalized": 1, "recomputed": 0}
    assert supervision.sweep([earlier]) == {"finalized": 0, "recomputed": 0}  # once only
    assert supervision.get_case(earlier)["status"] == "final"

    repeat = open_case(supervision, seq, **repeat_of(earlier))
    events = history(supervision, repeat)
    assert supervision.get_case(repeat)["status"] == "not_accepted_again"
    assert events[-1].details["reason_code"] == "no_review_requested"
    assert events[-1].details["earlier_petition_id"] == earlier


def test_a_clerk_reopens_an_automatic_refusal_that_raises_new_facts(supervision):
    seq = Sequence()
    earlier = open_case(supervision, seq)
    repeat = open_case(supervision, seq, **repeat_of(earlier))

    with pytest.raises(CaseError) as refused:
        supervision.perform(repeat, "reopen_as_new_matter", {"new_facts": "新增车库被淹的事实"}, ORGAN)
    assert refused.value.http_status == 403
    case = supervision.perform(repeat, "reopen_as_new_matter", {"new_facts": "新增车库被淹、车辆受损的事实"}, CLERK)

    assert case["status"] == "registered"
    assert [d["kind"] for d in case["deadlines"]] == ["triage"]
    with pytest.raises(CaseError) as again:  # only once, and only for an automatic refusal
        supervision.perform(repeat, "reopen_as_new_matter", {"new_facts": "再次"}, CLERK)
    assert again.value.http_status == 409


def test_an_officers_own_refusal_cannot_be_reopened_as_a_new_matter(supervision):
    seq = Sequence()
    petition_id = open_case(supervision, seq)
    supervision.perform(petition_id, "decline", {"reason_code": "out_of_scope"}, CLERK)

    with pytest.raises(CaseError) as refused:
        supervision.perform(petition_id, "reopen_as_new_matter", {"new_facts": "新的事实"}, CLERK)

    assert refused.value.http_status == 409
    assert "自动" in refused.value.as_problem()["message"]


def test_an_earlier_case_that_ended_without_a_decision_does_not_stop_a_repeat(supervision):
    seq = Sequence()
    earlier = open_case(supervision, seq)
    supervision.perform(earlier, "withdraw", {"reasons": "信访人申请撤回"}, CLERK)

    repeat = open_case(supervision, seq, **repeat_of(earlier))

    assert supervision.get_case(repeat)["status"] == "registered"


def test_a_major_urgent_item_must_be_reported_the_same_day_and_reporting_meets_it(supervision):
    seq = Sequence()
    petition_id = open_case(supervision, seq, people_count=45, flags=["group", "major_urgent"])

    deadlines = {d["kind"]: d for d in supervision.get_case(petition_id)["deadlines"]}
    registered_on = supervision._case(petition_id).last_step_on
    assert deadlines["major_report"]["due"] == registered_on

    case = supervision.perform(petition_id, "report_up", {"reasons": "涉及45人，可能引发群体性事件"}, CLERK)
    assert case["status"] == "reported_up"
    assert "major_report" not in {d["kind"] for d in case["deadlines"]}


def test_the_timer_finds_its_candidates_in_the_read_model_and_finalizes_them(settings_for, closing, clock,
                                                                             read_models):
    from services.supervision.projections import CaseViewProjection
    from services.supervision.sweep import RECORDS, run_sweep, sweep_candidates
    from shared.language.readmodels import MongoPosition
    from shared.runtime.projector import Projector

    settings = settings_for(SupervisionSettings, store="sqlite")
    supervision = closing(build_application(settings, clock=clock))
    seq = Sequence()
    replied, untouched = replied_case(supervision, seq), open_case(supervision, seq)
    projector = Projector(settings, "supervision", supervision, CaseViewProjection(supervision))
    projector.follower.run_once()

    assert sweep_candidates() == [replied]  # an opinion out; the untouched case has nothing to sweep
    clock.advance(40)  # past the 30 days, however they roll off a weekend
    assert run_sweep(supervision) == {"finalized": 0, "recomputed": 0}  # notification's records not read yet
    # notification's notice records are current and list no notice of this answer to the petitioner (as for an
    # anonymous report: the status page only), so the provisional count stands (services/supervision/sweep.py).
    MongoPosition(RECORDS).set(1)
    assert run_sweep(supervision) == {"finalized": 1, "recomputed": 0}
    projector.follower.run_once()
    projector.close()
    assert sweep_candidates() == []
    assert supervision.get_case(replied)["status"] == "final" and untouched


def test_a_review_window_that_passed_unswept_is_final_in_law_for_a_repeat(supervision, clock):
    seq = Sequence()
    earlier = replied_case(supervision, seq)
    clock.advance(40)  # no sweep ran

    repeat = open_case(supervision, seq, **repeat_of(earlier))

    assert supervision.get_case(earlier)["status"] == "final"  # finalized with the repeat's decision
    assert supervision.get_case(repeat)["status"] == "not_accepted_again"
    assert history(supervision, repeat)[-1].details["reason_code"] == "no_review_requested"


def test_a_case_final_because_no_re_review_was_asked_for_says_so(supervision, clock):
    seq = Sequence()
    earlier = replied_case(supervision, seq)
    supervision.perform(earlier, "request_review", {"reasons": "不服"}, {"role": "petitioner"})
    supervision.perform(earlier, "open_review", {"organ_code": "330106-ZF"}, CLERK)
    supervision.perform(earlier, "decide_review", {"outcome": "uphold", "opinion": "维持"},
                        {"role": "organ_officer", "user": "u", "organ": "330106-ZF"})
    clock.advance(40)

    repeat = open_case(supervision, seq, **repeat_of(earlier))

    refusal = history(supervision, repeat)[-1]
    assert refusal.details["reason_code"] == "no_re_review_requested" and "第三十六条" in refusal.basis


@pytest.mark.parametrize("flags", [["group", "major_urgent"], ["anonymous"]])
def test_major_urgent_items_and_anonymous_reports_are_linked_but_never_refused_automatically(supervision, flags):
    seq = Sequence()
    earlier = open_case(supervision, seq)

    repeat = open_case(supervision, seq, flags=flags, people_count=40 if "group" in flags else 1,
                       **repeat_of(earlier))

    assert supervision.get_case(repeat)["status"] == "registered"
    assert supervision._case(repeat).repeat_of == earlier


def test_a_repeat_waits_for_its_earlier_case_but_not_for_ever(supervision, clock):
    from services.supervision.application import CaseNotOpenedYet

    seq = Sequence()
    never_opened = str(uuid4())
    event = samples.registered_event(seq(), registered_at=clock.now.isoformat(), **repeat_of(never_opened))
    with pytest.raises(CaseNotOpenedYet):
        supervision.open_case(event, samples.particulars(event))

    clock.advance(1)  # a day later (five minutes would do): the repeat is triaged by hand
    supervision.open_case(event, samples.particulars(event))
    assert supervision.get_case(event.subject)["status"] == "registered"


def test_while_re_routing_only_the_re_routing_counts_and_never_back_to_the_objecting_organ(supervision):
    seq = Sequence()
    petition_id = open_case(supervision, seq)
    supervision.record_routing(samples.routed_event(seq(), petition_id))
    supervision.perform(petition_id, "object", {"reasons": "不属于本镇职责"}, ORGAN)
    assert supervision.perform(petition_id, "decide_objection", {"upheld": True, "reasons": "异议成立"},
                               CLERK)["status"] == "rerouting"

    stale = samples.routed_event(seq(), petition_id, organ_code="330106-RSJ", organ_name="示例县人力资源和社会保障局")
    supervision.record_routing(stale)  # a first routing arriving late: not the re-routing
    assert supervision.get_case(petition_id)["status"] == "rerouting"
    back = samples.routed_event(seq(), petition_id)
    back.data["reason"] = "objection_upheld"
    supervision.record_routing(back)  # to the organ whose objection held: refused, left for the bureau
    assert supervision.get_case(petition_id)["status"] == "rerouting"
    with pytest.raises(CaseError) as refused:
        supervision.perform(petition_id, "transfer", {"organ_code": "330106001-ZF"}, CLERK)
    assert refused.value.as_problem()["error"] == "objecting_organ"

    rerouted = samples.routed_event(seq(), petition_id, organ_code="330106-ZHZFJ", organ_name="示例县综合行政执法局")
    rerouted.data["reason"] = "objection_upheld"
    supervision.record_routing(rerouted)
    case = supervision.get_case(petition_id)
    assert (case["status"], case["organ"]["code"]) == ("awaiting_acceptance", "330106-ZHZFJ")
