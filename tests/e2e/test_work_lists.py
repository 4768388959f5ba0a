"""Work lists and the bureau's search through the whole platform (deploy/local/Procfile, each service as its broker
user): supervision's projector lists each case (its work-list worker), intake's relay process files each petition
in the search index (its second worker), and the gateway asks intake for a page's names and for a search over the
signed private RPC the broker lets it make."""

from __future__ import annotations

from tests.e2e.officers import signed_in
from tests.support import samples
from tests.support.waiting import wait_for


def test_an_organ_finds_its_case_in_its_list_and_the_bureau_finds_a_petitioner_by_id_number(platform, gateway):
    town = samples.petition(name="王秀兰", place_code="330106001", topic="urban_management")
    labour = samples.petition(name="李四", place_code="330106002", topic="labour_wages")
    ids = {}
    for name, body in (("town", town), ("labour", labour)):
        answer = gateway.post("/api/v1/petitions", json=body)
        assert answer.status_code == 201, answer.text
        ids[name] = answer.json()

    def listed(user: str, **params: object) -> dict:
        answer = gateway.get("/api/v1/cases", params={"limit": 100, **params}, headers=signed_in(gateway, user))
        assert answer.status_code == 200, answer.text
        return answer.json()

    def routed() -> dict | None:
        rows = {r["id"]: r for r in listed("clerk")["cases"]}
        both = [rows.get(ids[n]["id"]) for n in ("town", "labour")]
        return rows if all(r and r["organ"] for r in both) else None

    rows = wait_for(routed, timeout=60, what="both cases listed with their organs")
    assert rows[ids["town"]["id"]]["query_code"] == ids["town"]["query_code"]
    assert rows[ids["town"]["id"]]["petitioner"] == {"name": "王秀兰", "identified": True, "anonymous": False}
    assert rows[ids["labour"]["id"]]["organ"]["code"] == "330106-RSJ"

    chengguan = listed("chengguan", group="awaiting_acceptance")["cases"]
    mine = [r for r in chengguan if r["id"] == ids["town"]["id"]]
    assert mine and mine[0]["query_code"] is None and mine[0]["petitioner"]["name"] == "王秀兰"
    assert ids["labour"]["id"] not in {r["id"] for r in chengguan}
    assert mine[0]["next_deadline"]["kind"] == "acceptance" and mine[0]["next_deadline"]["days_left"] >= 0

    def found() -> list | None:
        answer = gateway.post("/api/v1/cases/search", json={"by": "id_number", "value": labour["petitioner"]["id_number"]},
                              headers=signed_in(gateway, "clerk"))
        assert answer.status_code == 200, answer.text
        return answer.json()["cases"] or None

    [match] = wait_for(found, timeout=60, what="the petition in intake's search index")
    assert match["id"] == ids["labour"]["id"] and match["petitioner"]["name"] == "李四"
    searches = gateway.get("/api/v1/audit/personal-data-searches", params={"user": "clerk"},
                           headers=signed_in(gateway, "auditor")).json()["searches"]
    assert searches[0]["searched_by"] == "id_number" and searches[0]["petition_ids"] == [ids["labour"]["id"]]
    assert labour["petitioner"]["id_number"] not in str(searches)

    assert gateway.get("/api/v1/reference/places").json()["items"][0]["name"] == "城关镇"
