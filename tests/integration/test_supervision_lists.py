"""The supervisors' lists (GET /api/v1/supervision/orders, /backlog): supervision orders issued, answered and reviewed
on supervision's real store through its API commands, filed by the real work-list projection on a real SecantusDB,
and read through the real gateway application in-process (docs/api.md §"Supervision lists")."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest

from services.supervision.bootstrap import build_application
from services.supervision.settings import SupervisionSettings
from services.supervision.worklists import CaseRowProjection
from shared.runtime.projector import Projector
from tests.support import samples
from tests.support.clock import MovableClock
from tests.support.gateway_app import COUNTY, LABOUR, ORGAN_NAMES, TOWN, headers

SUPERVISOR = {"role": "supervisor", "user": "supervisor", "organ": "330106-XFJ"}
SEQUENCE = itertools.count(1)


def officer(organ: str) -> dict[str, Any]:
    return {"role": "organ_officer", "user": "officer", "organ": organ}


class NoRpc:
    """The RPC port: intake is down (a work list is shown without names); nothing else is called."""

    def call(self, service: str, method: str, *args: Any, actor: dict[str, Any]) -> Any:
        from services.gateway.clients import ServiceUnavailable

        if (service, method) == ("intake", "petitioner_names"):
            raise ServiceUnavailable("intake is not part of this test")
        raise AssertionError(f"unexpected RPC {service}.{method}")

    def close(self) -> None:
        pass


@pytest.fixture
def county(settings_for, closing, read_models):
    clock = MovableClock(tick=timedelta(seconds=1))
    settings = settings_for(SupervisionSettings, store="sqlite")
    supervision = closing(build_application(settings, clock=clock))
    rows = closing(Projector(settings, "supervision", supervision, CaseRowProjection(supervision)))
    return supervision, rows, clock


def routed(supervision, organ: str, **fields: Any) -> str:
    registered = samples.registered_event(next(SEQUENCE), **fields)
    supervision.open_case(registered, samples.particulars(registered))
    supervision.record_routing(samples.routed_event(next(SEQUENCE), registered.subject, organ_code=organ,
                                                    organ_name=ORGAN_NAMES[organ]))
    return registered.subject


def project(rows) -> None:
    while rows.follower.run_once():
        pass


ORDER = {"order_level": "letter", "trigger": "delay", "demand": "请书面报告办理进展"}


def test_the_orders_list_follows_each_order_and_organs_see_only_their_own(county, gateway_for):
    supervision, rows, clock = county
    answered, open_, closed, to_labour = (routed(supervision, TOWN) for _ in range(4))
    for pid in (answered, open_, closed):
        supervision.perform(pid, "supervise", ORDER, SUPERVISOR)
    supervision.perform(to_labour, "supervise", {**ORDER, "organ_code": LABOUR, "trigger": "not_carried_out"},
                        SUPERVISOR)
    for pid in (answered, closed):
        supervision.perform(pid, "answer_order", {"answer": "正在办理"}, officer(TOWN))
    supervision.perform(closed, "review_order_answer", {"accepted": True, "reasons": "认可"}, SUPERVISOR)
    project(rows)
    client = gateway_for(NoRpc())

    listed = client.get("/api/v1/supervision/orders", headers=headers(client, "supervisor")).json()["orders"]
    assert [(o["petition_id"], o["state"]) for o in listed][:1] == [(answered, "answered")]  # to review first
    assert {o["petition_id"]: o["state"] for o in listed} == {answered: "answered", open_: "open",
                                                              to_labour: "open"}
    labour = next(o for o in listed if o["petition_id"] == to_labour)
    assert labour["organ"] == {"code": LABOUR, "name": ORGAN_NAMES[LABOUR]}
    assert (labour["order_level_text"], labour["trigger_text"]) == ("督办函", "拒不执行信访处理意见")
    assert labour["days_left"] is not None and labour["overdue"] is False

    own = client.get("/api/v1/supervision/orders", headers=headers(client, "labour")).json()["orders"]
    assert [o["petition_id"] for o in own] == [to_labour]
    other = client.get("/api/v1/supervision/orders", params={"organ": TOWN}, headers=headers(client, "labour"))
    assert other.status_code == 403 and other.json()["error"] == "not_your_organ"
    unknown = client.get("/api/v1/supervision/orders", params={"organ": "NOPE"}, headers=headers(client, "clerk"))
    assert unknown.status_code == 422 and "机关代码" in unknown.text
    assert client.get("/api/v1/supervision/orders").status_code == 401
    # The labour bureau may now open the case it is supervised on, and lists it among its work.
    mine = client.get("/api/v1/cases", headers=headers(client, "labour")).json()
    assert to_labour in [row["id"] for row in mine["cases"]]


def test_the_backlog_ledger_lists_owned_and_proposed_cases_with_the_resolution_rate(county, gateway_for):
    supervision, rows, clock = county
    owned, resolved = routed(supervision, TOWN), routed(supervision, TOWN)
    group = routed(supervision, COUNTY, people_count=35)  # proposed at registration: 30 or more people
    above = routed(supervision, COUNTY, channel="provincial_transfer")  # and a matter from above
    for pid in (owned, resolved):
        supervision.perform(pid, "assign_leader", {"leader": "李县长", "leader_title": "副县长", "team": ["王主任"],
                                                   "plan": "联合调查，限期化解"}, SUPERVISOR)
    supervision.perform(resolved, "record_ownership_progress", {"progress": "已化解", "resolved": True}, SUPERVISOR)
    project(rows)
    client = gateway_for(NoRpc())

    ledger = client.get("/api/v1/supervision/backlog", headers=headers(client, "supervisor")).json()
    assert (ledger["owned"], ledger["resolved"], ledger["resolution_rate"]) == (2, 1, 0.5)
    by_id = {row["petition_id"]: row for row in ledger["rows"]}
    assert set(by_id) == {owned, resolved, group, above}
    assert by_id[owned]["leader"] == "李县长" and by_id[owned]["resolved_on"] is None and by_id[owned]["due"]
    assert by_id[resolved]["resolved_on"] is not None
    assert by_id[group]["leader"] is None
    assert by_id[group]["proposed"] == [{"trigger": "group_of_30", "text": "30人以上的集体信访"}]
    assert by_id[above]["proposed"] == [{"trigger": "from_above", "text": "上级转送、交办的信访事项"}]
    pending = client.get("/api/v1/supervision/backlog", params={"resolved": "false"},
                         headers=headers(client, "supervisor")).json()
    assert {row["petition_id"] for row in pending["rows"]} == {owned, group, above}
    assert client.get("/api/v1/supervision/backlog", headers=headers(client, "town")).status_code == 403

    archive = client.get("/api/v1/supervision/leaders", headers=headers(client, "auditor")).json()["leaders"]
    assert [(e["leader"], e["owned"], e["resolved"], e["resolution_rate"]) for e in archive] == [("李县长", 2, 1, 0.5)]
    assert {c["petition_id"] for c in archive[0]["cases"]} == {owned, resolved}

    exported = client.get("/api/v1/supervision/backlog.csv", headers=headers(client, "supervisor"))
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    text = exported.content.decode("utf-8-sig")
    assert "信访积案台账" in text and "50.0%（1/2）" in text and "30人以上的集体信访" in text and "李县长" in text
    workbook = client.get("/api/v1/supervision/backlog.xlsx", headers=headers(client, "clerk"))
    assert workbook.status_code == 200 and workbook.content[:2] == b"PK"
    assert client.get("/api/v1/supervision/backlog.csv", headers=headers(client, "town")).status_code == 403
