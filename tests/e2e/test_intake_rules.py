"""Repeats, group petitions and the routing rules over HTTP, through the whole platform: a repeat of a final
case gets 不再受理 on its own, a clerk reopens it on new facts; an upheld objection without a named organ is
routed again by the rules; 30 or more people are reported up; a matter from another county is answered with where
to go; a group without representatives is refused with a Chinese message (docs/domain.md
§"Group petitions and representatives", §"Routing", §"Repeats and finality")."""

from __future__ import annotations

import httpx

from tests.e2e.officers import act, by_code, remember_petitioner, signed_in, submit_routed
from tests.support import samples
from tests.support.waiting import wait_for

REPRESENTATIVES = [{"name": "赵德明", "phone": "13900139001"}, {"name": "钱玉芬", "id_number": samples.id_number()}]


def status_of(gateway: httpx.Client, code: str, wanted: str) -> dict:
    return wait_for(lambda: (s := gateway.get(f"/api/v1/status/{code}").json())["status"] == wanted and s,
                    what=f"status {wanted}")


def submit(gateway: httpx.Client, body: dict) -> dict:
    response = gateway.post("/api/v1/petitions", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_repeat_of_a_final_case_is_not_accepted_again_until_a_clerk_finds_new_facts(platform, gateway):
    person = {"id_number": samples.id_number(), "phone": samples.mobile()}
    petition = samples.petition(**person, place_code="330106001", topic="urban_management")
    first = remember_petitioner(submit(gateway, petition), petition)
    pid, code = first["id"], first["query_code"]
    wait_for(lambda: gateway.get(f"/api/v1/status/{code}").json()["organ"], what="routing")
    act(gateway, "chengguan", pid, "acceptance", {"procedure": "ordinary"})
    act(gateway, "chengguan", pid, "reply", {"outcome": "not_support", "opinion": "不予支持"})
    by_code(gateway, code, "review-request", {"reasons": "不服"})
    act(gateway, "clerk", pid, "review", {"organ_code": "330106-ZF"})
    act(gateway, "county", pid, "review/decision", {"outcome": "uphold", "opinion": "维持"})
    by_code(gateway, code, "review-request", {"reasons": "仍不服"})
    act(gateway, "clerk", pid, "re-review", {"organ_code": "3301-ZF"})
    assert act(gateway, "city", pid, "re-review/decision", {"outcome": "uphold", "opinion": "终结"})["status"] == "final"

    again = submit(gateway, samples.petition(**person, place_code="330106001", topic="urban_management"))
    shown = status_of(gateway, again["query_code"], "not_accepted_again")
    [refusal] = [t["text"] for t in shown["timeline"] if t["step"] == "decline_again"]
    assert "不再受理" in refusal and "第三十六条" in refusal
    officer = gateway.get(f"/api/v1/petitions/{again['id']}", headers=signed_in(gateway, "clerk")).json()
    assert officer["repeat_of"] == pid

    reopened = act(gateway, "clerk", again["id"], "new-matter", {"new_facts": "今年十月污水倒灌车库，造成新的损失"})
    assert reopened["status"] == "registered"


def test_an_upheld_objection_without_a_named_organ_is_routed_again_by_the_rules(platform, gateway):
    receipt = submit_routed(gateway)
    pid = receipt["id"]
    act(gateway, "chengguan", pid, "objection", {"reasons": "属于县级城市管理职责，不属于本镇"})

    waiting = act(gateway, "clerk", pid, "objection/decision", {"upheld": True, "reasons": "异议成立，按规则重新分流"})
    assert waiting["status"] == "rerouting"

    case = wait_for(lambda: (c := gateway.get(f"/api/v1/petitions/{pid}/case", headers=signed_in(gateway, "clerk"))
                             .json())["status"] == "awaiting_acceptance" and c, what="re-routing by the rules")
    assert case["organ"]["code"] == "330106-ZHZFJ"  # the next rule that holds, passing over the town


def test_thirty_or_more_people_are_reported_up_by_the_rules(platform, gateway):
    receipt = submit(gateway, samples.petition(people_count=40, representatives=REPRESENTATIVES))

    shown = status_of(gateway, receipt["query_code"], "reported_up")
    assert {d["kind"]: d["status"] for d in shown["deadlines"]}["major_report"] == "met"
    officer = gateway.get(f"/api/v1/petitions/{receipt['id']}", headers=signed_in(gateway, "clerk")).json()
    assert officer["flags"] == ["group", "major_urgent"]


def test_a_matter_from_another_county_is_answered_with_where_to_go(platform, gateway):
    receipt = submit(gateway, samples.petition(place_code="110105", topic="environment"))

    shown = status_of(gateway, receipt["query_code"], "redirected")
    [answer] = [t["text"] for t in shown["timeline"] if t["step"] == "route"]
    assert "问题发生地" in answer


def test_a_group_without_representatives_is_refused_in_chinese(platform, gateway):
    response = gateway.post("/api/v1/petitions", json=samples.petition(people_count=6))

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["field"], error["code"]) == ("representatives", "invalid_representatives")
    assert "推选代表" in error["message"]


def test_an_organ_registers_what_it_received_directly_and_decides_on_acceptance_itself(platform, gateway):
    response = gateway.post("/api/v1/petitions", json=samples.petition(channel="visit", topic="labour_wages"),
                            headers=signed_in(gateway, "chengguan"))
    assert response.status_code == 201, response.text
    receipt = response.json()

    shown = status_of(gateway, receipt["query_code"], "awaiting_acceptance")
    assert shown["organ"]["code"] == "330106001-ZF"  # not the labour bureau the rules would have chosen
    assert "直接收到" in [t["text"] for t in shown["timeline"] if t["step"] == "receive_directly"][0]
    assert act(gateway, "chengguan", receipt["id"], "acceptance", {"procedure": "ordinary"})["status"] == "handling"


def test_a_litigation_matter_goes_to_the_political_legal_organs_and_into_litigation(platform, gateway):
    receipt = submit(gateway, samples.petition(topic="litigation"))

    routed = status_of(gateway, receipt["query_code"], "awaiting_acceptance")
    assert routed["organ"]["code"] == "330106-ZFW"
    assert "涉法涉诉" in [t["text"] for t in routed["timeline"] if t["step"] == "route"][0]
    diverted = act(gateway, "zfw", receipt["id"], "diversion", {"item": 1, "explanation": "应当通过诉讼解决"})
    assert diverted["status"] == "diverted"
