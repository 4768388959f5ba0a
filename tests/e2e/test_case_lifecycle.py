"""The statutory lifecycle over HTTP, through the whole platform (gateway → nameko RPC → supervision's store →
projector → status view): the ordinary path with an extension, review and re-review with a hearing to finality;
an objection upheld and re-routed; and the refusals — wrong organ (403), illegal step (409 naming the state and
what is allowed), statutory limit (409), bad input (422)."""

from __future__ import annotations

from tests.e2e.officers import act, by_code, signed_in, submit_routed
from tests.support.waiting import wait_for


def test_ordinary_path_with_extension_review_and_re_review_to_finality(platform, gateway):
    receipt = submit_routed(gateway)
    pid, code = receipt["id"], receipt["query_code"]

    case = gateway.get(f"/api/v1/petitions/{pid}/case", headers=signed_in(gateway, "chengguan")).json()
    assert {"accept", "object", "decline", "divert"} <= set(case["allowed_actions"])
    assert act(gateway, "rsj", pid, "acceptance", expect=403)["error"] == "not_permitted"
    refused = act(gateway, "chengguan", pid, "reply", {"outcome": "support", "opinion": "同意"}, expect=409)
    assert refused["status"] == "awaiting_acceptance"
    assert "当前状态为“已转送有权处理机关，待受理”" in refused["message"] and "accept" in refused["allowed_actions"]

    accepted = act(gateway, "chengguan", pid, "acceptance", {"procedure": "ordinary"})
    assert accepted["status"] == "handling"
    assert [d["kind"] for d in accepted["deadlines"]] == ["handling"]
    too_long = act(gateway, "chengguan", pid, "extension",
                   {"days": 31, "reasons": "需要补充调查", "approved_by": "张局长"}, expect=409)
    assert too_long["error"] == "extension_too_long"
    assert act(gateway, "chengguan", pid, "extension", {"days": 20, "reasons": "需要补充调查",
                                                         "approved_by": "张局长"})["status"] == "extended"
    replied = act(gateway, "chengguan", pid, "reply", {"outcome": "explain", "opinion": "已作解释说明"})
    assert replied["status"] == "replied"
    assert replied["deadlines"][0]["kind"] == "review_request"

    assert by_code(gateway, code, "evaluation", {"rating": "dissatisfied"})["status"] == "replied"
    assert by_code(gateway, code, "evaluation", {"rating": "satisfied"}, expect=409)["error"] == "already_evaluated"
    assert by_code(gateway, code, "review-request", {"reasons": "不服处理意见"})["status"] == "review_requested"
    assert act(gateway, "clerk", pid, "review", {"organ_code": "330106-ZF"})["status"] == "under_review"
    assert act(gateway, "county", pid, "review/decision",
               {"outcome": "uphold", "opinion": "维持原处理意见"})["status"] == "reviewed"
    assert by_code(gateway, code, "review-request", {"reasons": "仍不服"})["status"] == "re_review_requested"
    assert act(gateway, "clerk", pid, "re-review", {"organ_code": "3301-ZF"})["status"] == "under_re_review"
    act(gateway, "city", pid, "re-review/hearing/start")
    assert act(gateway, "city", pid, "re-review/decision", {"outcome": "uphold", "opinion": "维持"},
               expect=409)["error"] == "hearing_in_progress"
    act(gateway, "city", pid, "re-review/hearing/end")
    final = act(gateway, "city", pid, "re-review/decision", {"outcome": "uphold", "opinion": "维持，终结"})
    assert final["status"] == "final" and final["deadlines"] == []
    assert act(gateway, "clerk", pid, "withdrawal", {"reasons": "撤回"}, expect=409)["allowed_actions"] == ["evaluate"]

    shown = wait_for(lambda: (s := gateway.get(f"/api/v1/status/{code}").json())["status"] == "final" and s,
                     what="the final status in the status view")
    steps = [t["step"] for t in shown["timeline"]]
    for step in ("registered", "route", "accept", "extend", "reply", "evaluate", "request_review", "open_review",
                 "decide_review", "request_re_review", "open_re_review", "start_hearing", "end_hearing",
                 "decide_re_review"):
        assert step in steps, step
    assert shown["status_text"] == "已终结"
    assert shown["next_deadline"] is None
    assert all(d["status"] in ("met", "stopped") for d in shown["deadlines"])


def test_an_objection_upheld_re_routes_the_petition_to_the_organ_the_bureau_names(platform, gateway):
    receipt = submit_routed(gateway)
    pid = receipt["id"]

    assert act(gateway, "chengguan", pid, "objection",
               {"reasons": "属于劳动工资事项，不属于本镇职责", "suggested_organ_code": "330106-RSJ"}
               )["status"] == "objection_raised"
    assert act(gateway, "chengguan", pid, "acceptance", expect=409)["status"] == "objection_raised"
    rerouted = act(gateway, "clerk", pid, "objection/decision",
                   {"upheld": True, "reasons": "异议成立", "organ_code": "330106-RSJ"})
    assert rerouted["organ"]["code"] == "330106-RSJ"
    assert act(gateway, "chengguan", pid, "acceptance", expect=403)["error"] == "not_permitted"
    assert act(gateway, "rsj", pid, "acceptance", {"procedure": "simplified"})["status"] == "simplified_handling"

    shown = wait_for(lambda: (s := gateway.get(f"/api/v1/status/{receipt['query_code']}").json())["status"]
                     == "simplified_handling" and s, what="the new organ in the status view")
    assert shown["organ"]["code"] == "330106-RSJ"
    assert shown["next_deadline"]["kind"] == "simplified_handling"


def test_bad_commands_get_a_422_and_unknown_cases_a_404(platform, gateway):
    receipt = submit_routed(gateway)
    pid = receipt["id"]

    bad = act(gateway, "chengguan", pid, "decline", {"reason_code": "because"}, expect=422)
    assert bad["error"] == "invalid_reason" and "不受理理由" in bad["message"]
    assert act(gateway, "chengguan", pid, "acceptance", {"procedure": "fast"}, expect=422)["error"] == \
        "validation_failed"
    assert act(gateway, "clerk", pid, "transfer", {"organ_code": "NOPE"}, expect=422)["error"] == "unknown_organ"
    assert act(gateway, "clerk", "00000000-0000-0000-0000-000000000000", "transfer",
               {"organ_code": "330106-RSJ"}, expect=404)["error"] == "not_found"
    assert gateway.post(f"/api/v1/petitions/{pid}/acceptance", json={}).status_code == 401
    assert by_code(gateway, "ZZZZ-ZZZZ-ZZZZ-ZZZZ", "evaluation", {"rating": "satisfied", "id_number_tail": "123456"},
                   expect=404)
    declined = act(gateway, "chengguan", pid, "decline",
                   {"reason_code": "statutory_procedure", "explanation": "已向法院起诉"})
    assert declined["status"] == "not_accepted"
