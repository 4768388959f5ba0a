"""Auditors over HTTP: a case's history replayed from the four services' event stores, and the case as it stood
at a given moment."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.e2e.officers import act, signed_in, submit_routed
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

    assert gateway.get(f"/api/v1/audit/petitions/{pid}/history",
                       headers=signed_in(gateway, "chengguan")).status_code == 403
    naive = gateway.get(f"/api/v1/audit/petitions/{pid}/state", params={"as_of": "2026-10-01T12:00:00"},
                        headers=auditor)
    assert naive.status_code == 422 and "时区" in naive.json()["message"]
