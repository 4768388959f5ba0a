"""A petition's first steps through the whole platform, as a petitioner, a clerk and the officers see them."""

from __future__ import annotations

from datetime import datetime
from email.header import decode_header, make_header
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from services.supervision.deadlines import load_deadline_rules
from tests.e2e.conftest import token_for
from tests.support import samples
from tests.support.platform import metric_value, stored_events
from tests.support.waiting import wait_for


def submit(gateway: httpx.Client, **overrides) -> dict:
    response = gateway.post("/api/v1/petitions", json=samples.petition(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


def status(gateway: httpx.Client, query_code: str) -> dict:
    response = gateway.get(f"/api/v1/status/{query_code}")
    assert response.status_code == 200, response.text
    return response.json()


def test_a_petition_is_routed_gets_its_acceptance_deadline_and_its_receipt(platform, gateway, smtp_sink):
    receipt = submit(gateway, title="东溪镇道路积水", topic="transport", place_code="330106002")
    assert receipt["status"] == "registered"

    # At once: registered, even before supervision has opened the case.
    assert status(gateway, receipt["query_code"].lower())["query_code"] == receipt["query_code"]

    routed = wait_for(lambda: (s := status(gateway, receipt["query_code"]))["organ"] and s, what="the routed organ")
    assert routed["organ"] == {"code": "330106-JTJ", "name": "示例县交通运输局"}
    assert routed["status"] == "awaiting_acceptance"
    routed_on = datetime.fromisoformat(routed["timeline"][1]["at"]).astimezone(ZoneInfo("Asia/Shanghai")).date()
    acceptance = {d["kind"]: d for d in routed["deadlines"]}["acceptance"]
    assert acceptance["due"] == load_deadline_rules().compute("acceptance", routed_on).due  # 15 days, rolled
    assert acceptance["status"] == "open"

    # The receipt, and the transfer notice the routing rules' step sends (notification reads case.transferred).
    delivered = wait_for(lambda: len((s := status(gateway, receipt["query_code"]))["notices"]) == 2
                         and [t["step"] for t in s["timeline"]].count("notice_delivered") == 2 and s,
                         what="the receipt and the transfer notice in the inbox, and their first deliveries")
    notices = {n["title"]: n for n in delivered["notices"]}
    assert set(notices) == {"信访事项登记回执", "信访事项转送告知书"}
    assert receipt["query_code"] in notices["信访事项登记回执"]["body"]
    assert "本机关已将该事项转送示例县交通运输局办理" in notices["信访事项转送告知书"]["body"]
    steps = [t["step"] for t in delivered["timeline"]]
    # Routing and notification consume the registration in parallel: either step may come first.
    assert steps[0] == "registered" and {"route", "notice_delivered"} <= set(steps)
    def mails() -> list:
        return [m for m in smtp_sink.received() if receipt["query_code"] in m.get_payload(decode=True).decode()]

    wait_for(lambda: len(mails()) >= 2, what="the receipt and the transfer notice by e-mail")
    assert sorted(str(make_header(decode_header(m["Subject"]))) for m in mails()) == sorted(notices)  # each once


def test_officers_see_the_full_record_and_an_organ_sees_only_its_own(platform, gateway):
    receipt = submit(gateway, place_code="330106001", topic="urban_management")
    path = f"/api/v1/petitions/{receipt['id']}"
    wait_for(lambda: status(gateway, receipt["query_code"])["organ"], what="routing")

    assert gateway.get(path).status_code == 401
    assert gateway.get(path, headers={"Authorization": "Bearer forged"}).status_code == 401

    own = gateway.get(path, headers=token_for(gateway, "chengguan"))
    assert own.status_code == 200
    assert own.json()["petitioner"]["name"] == "王秀兰"
    assert own.json()["routing_basis"].startswith("属地管理")

    other = gateway.get(path, headers=token_for(gateway, "rsj"))
    assert other.status_code == 403
    assert other.json()["message"] == "该信访事项未转送至您所在的机关，无权查看"

    assert gateway.get(path, headers=token_for(gateway, "supervisor")).status_code == 200
    missing = gateway.get("/api/v1/petitions/00000000-0000-0000-0000-000000000000",
                          headers=token_for(gateway, "supervisor"))
    assert missing.status_code == 404


def test_a_letter_is_registered_by_a_signed_in_clerk_and_recorded_as_such(platform, gateway):
    letter = samples.petition(channel="letter")
    refused = gateway.post("/api/v1/petitions", json=letter)
    assert refused.status_code == 403
    assert "登记人员" in refused.json()["message"]

    accepted = gateway.post("/api/v1/petitions", json=letter, headers=token_for(gateway, "clerk"))
    assert accepted.status_code == 201
    record = gateway.get(f"/api/v1/petitions/{accepted.json()['id']}", headers=token_for(gateway, "supervisor"))
    assert record.json()["registered_by"] == {"role": "clerk", "user": "clerk", "organ": "330106-XFJ"}


BAD_INPUTS = [
    ("malformed JSON", b'{"channel": "online",', "body"),
    ("missing title", {k: v for k, v in samples.petition().items() if k != "title"}, "title"),
    ("empty request", samples.petition(request="   "), "request"),
    ("ID-card checksum", samples.petition(id_number="11010519491231002 1".replace(" ", "")), "petitioner.id_number"),
    ("mobile number", samples.petition(phone="12345678901"), "petitioner.phone"),
    ("title too long", samples.petition(title="长" * 101), "title"),
    ("unknown category", samples.petition(category="complaint"), "category"),
    ("unknown channel", samples.petition(channel="fax"), "channel"),
]


def test_bad_input_is_refused_in_chinese_and_nothing_is_stored(platform, gateway):
    stored_before = stored_events(platform.namespace, "intake", "Petition.Registered")
    for name, body, field in BAD_INPUTS:
        if isinstance(body, bytes):
            response = gateway.post("/api/v1/petitions", content=body, headers={"Content-Type": "application/json"})
        else:
            response = gateway.post("/api/v1/petitions", json=body)
        assert response.status_code == 422, name
        problem = response.json()
        assert problem["error"] == "validation_failed"
        assert any(e["field"] == field for e in problem["errors"]), (name, problem)
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in e["message"]) for e in problem["errors"]), problem
    assert stored_events(platform.namespace, "intake", "Petition.Registered") == stored_before


def test_an_unknown_query_code_is_not_found(gateway):
    for code in ("ZZZZ-ZZZZ-ZZZZ-ZZZZ", "not-a-code", "0"):
        response = gateway.get(f"/api/v1/status/{code}")
        assert response.status_code == 404
        assert response.json()["message"].startswith("未找到")


def test_every_process_reports_its_metrics(platform, gateway):
    submit(gateway)
    wait_for(lambda: metric_value(platform.metrics("supervision"), "xinfang_events_handled_total",
                                  handler="handle_notice_delivered") >= 1, what="supervision to handle a notice")
    assert metric_value(platform.metrics("gateway"), "xinfang_http_requests_total",
                        route="/api/v1/petitions", method="POST") >= 1
    assert metric_value(platform.metrics("intake"), "xinfang_petitions_registered_total") >= 1
    assert metric_value(platform.metrics("routing"), "xinfang_events_handled_total",
                        handler="handle_petition_registered", outcome="processed") >= 1
    assert metric_value(platform.metrics("notification"), "xinfang_event_handler_duration_seconds_count") >= 1
    for relay in ("intake-relay", "routing-relay", "supervision-relay", "notification-relay"):
        text = platform.metrics(relay)
        assert "xinfang_outbox_lag_events" in text and metric_value(text, "xinfang_outbox_published_total") >= 1
        assert metric_value(text, "xinfang_follower_active", follower=f"{relay.removesuffix('-relay')}.outbox") == 1
    # The projector keeps five read models (case views, the work lists' rows, the assessment facts, the early
    # warnings, the circulars), each with its active follower.
    projector = platform.metrics("supervision-projector")
    followers = [line for line in projector.splitlines() if line.startswith("xinfang_follower_active{")]
    assert len(followers) == 5 and metric_value(projector, "xinfang_follower_active") == 5, followers
    assert metric_value(platform.metrics("notification-dispatcher"), "xinfang_notices_delivered_total") >= 1


def test_the_notice_processes_stand_back_for_the_path_to_the_organ(platform):
    """The Procfile runs them at PROCESS_NICENESS 19, each leading its own session (shared/runtime/priority.py)."""
    def niceness(name: str) -> tuple[int, str | None]:
        pid = platform.processes[name].pid  # the session (and process group) honcho or the tests started
        nice = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])
        autogroup = Path(f"/proc/{pid}/autogroup")
        return nice, autogroup.read_text().split()[-1] if autogroup.exists() else None

    for name in ("notification", "notification-relay", "notification-dispatcher"):
        wait_for(lambda n=name: niceness(n)[0] == 19, timeout=30, what=f"{name} to lower its priority")
        assert niceness(name)[1] in ("19", None)
    assert niceness("routing")[0] == 0 and niceness("supervision-projector")[0] == 0
