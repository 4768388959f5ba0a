"""Auditors over HTTP: a case's history replayed from the four services' event stores, and the case as it stood
at a given moment — answered by the audit service over RPC (the gateway opens no store); the history shows what
each step said, not only who and when."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta

from tests.e2e.officers import act, signed_in, submit_routed
from tests.support.platform import ROOT
from tests.support.waiting import wait_for


def test_an_auditor_replays_a_case_across_the_services_and_sees_it_as_of_any_moment(platform, gateway):
    receipt = submit_routed(gateway)
    pid = receipt["id"]
    act(gateway, "chengguan", pid, "acceptance", {"procedure": "ordinary"})
    auditor = signed_in(gateway, "auditor")

    history = wait_for(lambda: (h := gateway.get(f"/api/v1/audit/petitions/{pid}/history", headers=auditor)
                                .json()) and {e["service"] for e in h["events"]} == {
                                    "intake", "routing", "supervision", "notification"} and h,
                       what="events of all four services")
    events = history["events"]
    assert events[0]["event"] == "Petition.Registered"
    assert [e["recorded_at"] for e in events] == sorted(e["recorded_at"] for e in events)
    ids = {e["event_id"] for e in events}
    opened = next(e for e in events if e["event"] == "Case.Opened")
    assert opened["caused_by"] in ids  # a link to the registration, not a dangling id
    accepted = next(e for e in events if e["event"] == "Case.Accepted")

    before = (datetime.fromisoformat(accepted["recorded_at"]) - timedelta(microseconds=1)).isoformat()
    then = gateway.get(f"/api/v1/audit/petitions/{pid}/state", params={"as_of": before}, headers=auditor).json()
    now = gateway.get(f"/api/v1/audit/petitions/{pid}/state", params={"as_of": accepted["recorded_at"]},
                      headers=auditor).json()
    assert (then["status"], now["status"]) == ("awaiting_acceptance", "handling")

    # The steps' notices too, not only the receipt: notification names them from the ids of the case's events.
    kinds = wait_for(lambda: (k := {e.get("kind") for e in gateway.get(
        f"/api/v1/audit/petitions/{pid}/history", headers=auditor).json()["events"]
        if e["event"] == "Notice.Requested"}) >= {"registration_receipt", "transfer_notice", "acceptance_notice"}
        and k, what="the steps' notices in the history")
    assert "acceptance_notice" in kinds

    assert gateway.get(f"/api/v1/audit/petitions/{pid}/history",
                       headers=signed_in(gateway, "chengguan")).status_code == 403
    naive = gateway.get(f"/api/v1/audit/petitions/{pid}/state", params={"as_of": "2026-10-01T12:00:00"},
                        headers=auditor)
    assert naive.status_code == 422 and "时区" in naive.json()["message"]


def test_the_history_shows_what_each_step_said_the_opinion_the_reasons_and_the_approver(platform, gateway):
    receipt = submit_routed(gateway)
    pid = receipt["id"]
    act(gateway, "chengguan", pid, "acceptance", {"procedure": "ordinary"})
    act(gateway, "chengguan", pid, "extension", {"days": 15, "reasons": "需补充调取维修记录", "approved_by": "王局长"})
    act(gateway, "chengguan", pid, "reply", {"outcome": "support", "opinion": "经核实，已责成物业十日内疏通管道"})
    auditor = signed_in(gateway, "auditor")

    response = gateway.get(f"/api/v1/audit/petitions/{pid}/history", headers=auditor)

    assert response.status_code == 200, response.text
    steps = {e["event"]: e for e in response.json()["events"]}
    replied, extended = steps["Case.Replied"], steps["Case.Extended"]
    assert (replied["opinion"], replied["outcome"]) == ("经核实，已责成物业十日内疏通管道", "support")
    assert replied["actor"]["user"] == "chengguan"
    assert (extended["reasons"], extended["approved_by"], extended["days"]) == ("需补充调取维修记录", "王局长", 15)
    assert "petitioner" not in steps["Petition.Registered"]  # what was said, not who the petitioner is
    unknown = gateway.get("/api/v1/audit/petitions/00000000-0000-4000-8000-000000000000/history", headers=auditor)
    assert unknown.status_code == 404 and unknown.json()["message"] == "未找到该信访事项"


def test_the_replay_command_beside_a_running_platform(platform, gateway):
    receipt = submit_routed(gateway)
    pid = receipt["id"]
    act(gateway, "chengguan", pid, "acceptance", {"procedure": "simplified"})

    def replay(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "services.audit.replay", pid, *args], cwd=ROOT,
                              env=platform.env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    events = [json.loads(line) for line in replay().splitlines()]
    accepted = next(e for e in events if e["event"] == "Case.Accepted")
    assert accepted["procedure"] == "simplified" and events[0]["event"] == "Petition.Registered"
    assert json.loads(replay("--as-of", accepted["recorded_at"]))["status"] == "simplified_handling"

