"""Issue 14 §3: what organs see of a petitioner (信访工作条例 Art. 30, Art. 46 item 5; PIPL).

Before: the officer view gave every organ the query code (the petitioner's credential) and the registration
receipt that holds it; every organ ever involved (a joining organ, one the case was re-routed away from) kept
reading the petitioner's name, ID number and phone, and a report's reporter; and no view was recorded. Now the
query code is for the bureau's clerks and admin, identity for the bureau and the organ responsible now, and every
view of personal data is listed for auditors. The whole platform as real processes (deploy/local/Procfile)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.conftest import gateway, platform  # noqa: F401 - the whole platform as real processes
from tests.e2e.officers import act, signed_in
from tests.support import samples
from tests.support.waiting import wait_for

TOWN, LABOUR, POLITICAL_LEGAL = "330106001-ZF", "330106-RSJ", "330106-ZFW"
VIEWS = "/api/v1/audit/personal-data-views"


def submit(gateway: httpx.Client, **overrides: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A petition submitted online and routed by the rules; its receipt and what was submitted."""
    body = samples.petition(place_code="330106001", topic="urban_management", **overrides)
    response = gateway.post("/api/v1/petitions", json=body)
    assert response.status_code == 201, response.text
    receipt = response.json()
    wait_for(lambda: gateway.get(f"/api/v1/status/{receipt['query_code']}").json()["organ"], what="routing")
    return receipt, body


def now_with(gateway: httpx.Client, receipt: dict[str, Any], organ: str) -> None:
    wait_for(lambda: gateway.get(f"/api/v1/status/{receipt['query_code']}").json()["organ"]["code"] == organ,
             what=f"the case view naming {organ}")


def officer_view(gateway: httpx.Client, user: str, pid: str) -> httpx.Response:
    response = gateway.get(f"/api/v1/petitions/{pid}", headers=signed_in(gateway, user))
    assert response.status_code == 200, response.text
    return response


def identity(body: dict[str, Any]) -> list[str]:
    person = body["petitioner"]
    return [person["name"], person["id_number"], person["phone"], person["address"], person["email"]]


def test_an_organ_officer_gets_no_query_code_and_no_notice_body_holding_it(platform, gateway):
    receipt, body = submit(gateway)
    pid, code = receipt["id"], receipt["query_code"]
    wait_for(lambda: gateway.get(f"/api/v1/status/{code}").json()["notices"], what="the registration receipt")

    shown = officer_view(gateway, "chengguan", pid)

    assert shown.json()["query_code"] is None
    assert shown.json()["notices"] and all(notice["body"] is None for notice in shown.json()["notices"])
    assert code not in shown.text and code.replace("-", "") not in shown.text
    assert shown.json()["petitioner"]["id_number"] == body["petitioner"]["id_number"]  # the handling organ
    assert officer_view(gateway, "clerk", pid).json()["query_code"] == code  # the bureau that hands it out


def test_a_joining_organ_and_a_former_organ_see_no_identity(platform, gateway):
    receipt, body = submit(gateway)
    pid = receipt["id"]
    act(gateway, "clerk", pid, "transfer", {"organ_code": LABOUR, "joining_organ_codes": [POLITICAL_LEGAL]})
    now_with(gateway, receipt, LABOUR)

    for organ_officer in ("zfw", "chengguan"):  # joining; the town it was transferred away from
        shown = officer_view(gateway, organ_officer, pid)
        assert shown.json()["petitioner"] is None and shown.json()["identity_withheld"] is True, organ_officer
        for value in identity(body):
            assert value not in shown.text, (organ_officer, value)
        assert shown.json()["request"] == body["request"]  # the matter itself, to do their part
    assert officer_view(gateway, "rsj", pid).json()["petitioner"]["name"] == body["petitioner"]["name"]


def test_an_organ_whose_objection_was_upheld_no_longer_sees_the_petitioner(platform, gateway):
    receipt, body = submit(gateway)
    pid = receipt["id"]
    assert officer_view(gateway, "chengguan", pid).json()["petitioner"]["phone"] == body["petitioner"]["phone"]

    act(gateway, "chengguan", pid, "objection", {"reasons": "属于劳动工资事项", "suggested_organ_code": LABOUR})
    act(gateway, "clerk", pid, "objection/decision", {"upheld": True, "reasons": "异议成立", "organ_code": LABOUR})
    now_with(gateway, receipt, LABOUR)

    former = officer_view(gateway, "chengguan", pid)
    assert former.json()["petitioner"] is None
    for value in identity(body):
        assert value not in former.text, value


def test_a_joining_organ_never_sees_the_reporter_nor_the_accused(platform, gateway):
    accused = {"name": "举报对象丙", "organisation": "某物业服务公司", "position": "经理"}
    receipt, body = submit(gateway, category="report", accused=accused)
    pid = receipt["id"]
    act(gateway, "clerk", pid, "transfer", {"organ_code": POLITICAL_LEGAL, "joining_organ_codes": [TOWN]})
    now_with(gateway, receipt, POLITICAL_LEGAL)

    joining = officer_view(gateway, "chengguan", pid)
    assert joining.json()["category"] == "report"
    assert joining.json()["petitioner"] is None and joining.json()["accused"] is None
    for value in [*identity(body), accused["name"]]:
        assert value not in joining.text, value
    handling = officer_view(gateway, "zfw", pid).json()
    assert handling["petitioner"]["name"] == body["petitioner"]["name"] and handling["accused"]["name"] == "举报对象丙"
    assert officer_view(gateway, "supervisor", pid).json()["petitioner"]["id_number"] == \
        body["petitioner"]["id_number"]


def test_every_view_of_personal_data_is_listed_for_auditors_and_only_for_them(platform, gateway):
    receipt, _body = submit(gateway)
    pid = receipt["id"]
    officer_view(gateway, "chengguan", pid)
    officer_view(gateway, "clerk", pid)

    listed = gateway.get(VIEWS, params={"petition_id": pid}, headers=signed_in(gateway, "auditor"))
    assert listed.status_code == 200, listed.text
    clerk, town = listed.json()["views"]  # newest first
    assert (town["username"], town["role"], town["organ"]) == ("chengguan", "organ_officer", TOWN)
    assert {"petitioner.name", "petitioner.id_number", "petitioner.phone"} <= set(town["fields"])
    assert "query_code" not in town["fields"]
    assert clerk["username"] == "clerk" and "query_code" in clerk["fields"]
    assert town["at"] <= clerk["at"] and town["client"] and town["correlation_id"]
    # The replayed history names the query code on intake's events: not for supervisors and auditors either.
    history = f"/api/v1/audit/petitions/{pid}/history"
    for auditing in ("supervisor", "auditor"):
        replayed = wait_for(lambda a=auditing: (r := gateway.get(history, headers=signed_in(gateway, a)))
                            .status_code == 200 and r, what="the petition's history")
        assert receipt["query_code"] not in replayed.text, auditing
    for not_an_auditor in ("supervisor", "clerk", "chengguan"):
        refused = gateway.get(VIEWS, params={"petition_id": pid}, headers=signed_in(gateway, not_an_auditor))
        assert refused.status_code == 403, not_an_auditor
