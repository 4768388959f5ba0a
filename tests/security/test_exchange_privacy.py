"""Issue 14 §3: the shared events exchange carries no personal data and no free text.

Every queue bound to `<namespace>.events` (an integrator's included) reads what is published there. Petitions are
driven through every kind of lifecycle step over HTTP with a distinct marker in every personal and free-text
field; a queue of our own, bound to everything on the exchange, must never see one of them, nor the query code
(the petitioner's credential), the ID number, the phone or the e-mail address."""

from __future__ import annotations

import json

import httpx
import pytest
from kombu import Connection, Queue

from tests.e2e.conftest import gateway, platform  # noqa: F401 - the whole platform as real processes
from tests.e2e.officers import act, by_code, remember_petitioner
from tests.support import samples
from tests.support.platform import tap_queue
from tests.support.waiting import wait_for

MARKERS: list[str] = []


def marker(field: str) -> str:
    """An ASCII marker (found whether a body escapes non-ASCII or not) with a Chinese word around it."""
    text = f"泄露Mk7{len(MARKERS):02d}{field.replace('_', '')}"
    MARKERS.append(text)
    return text


@pytest.fixture(scope="module")
def tap(platform) -> Queue:
    return tap_queue(platform, "tap")


def drain(platform, queue: Queue) -> list[tuple[str, str]]:
    """(routing key, everything the message said: headers and body, JSON re-read without escapes)."""
    seen = []
    with Connection(platform.env["AMQP_URI"]) as connection:
        bound = queue(connection.default_channel)
        while (message := bound.get(no_ack=True)) is not None:
            body = message.body if isinstance(message.body, bytes) else message.body.encode("utf-8")
            text = body.decode("utf-8")
            try:
                text += json.dumps(json.loads(text), ensure_ascii=False)
            except ValueError:
                pass
            headers = json.dumps(message.headers or {}, ensure_ascii=False, default=str)
            seen.append((message.delivery_info["routing_key"], text + headers))
    return seen


def submit(gateway: httpx.Client, **overrides) -> dict:
    body = samples.petition(
        name=marker("name"), address=marker("address"), email="mk7leak@example.cn",
        title=marker("title"), request=marker("request"), facts_and_reasons=marker("facts"),
        attachments=[{"file_name": marker("file") + ".jpg", "size": 1, "sha256": "ab" * 32}],
        place_code="330106001", topic="urban_management", **overrides)
    body["petitioner"]["agent"] = {"name": marker("agent"), "phone": samples.mobile(),
                                   "relation": marker("relation")}
    response = gateway.post("/api/v1/petitions", json=body)
    assert response.status_code == 201, response.text
    receipt = remember_petitioner(response.json(), body)
    receipt["secrets"] = [receipt["query_code"], body["petitioner"]["id_number"], body["petitioner"]["phone"],
                          body["petitioner"]["agent"]["phone"], "mk7leak@example.cn"]
    wait_for(lambda: gateway.get(f"/api/v1/status/{receipt['query_code']}").json()["organ"], what="routing")
    return receipt


def test_no_personal_data_or_free_text_reaches_the_events_exchange(platform, gateway, tap):
    secrets: list[str] = []

    # An ordinary case to finality: objection, re-routing, acceptance, handling, extension, reply, rating,
    # review, re-review with a hearing.
    ordinary = submit(gateway)
    pid, code = ordinary["id"], ordinary["query_code"]
    secrets += ordinary["secrets"]
    act(gateway, "chengguan", pid, "objection", {"reasons": marker("objection"),
                                                 "suggested_organ_code": "330106-RSJ"})
    act(gateway, "clerk", pid, "objection/decision",
        {"upheld": True, "reasons": marker("objection_decision"), "organ_code": "330106-RSJ"})
    act(gateway, "rsj", pid, "acceptance", {"procedure": "ordinary", "notes": marker("notes")})
    act(gateway, "rsj", pid, "handling-steps", {"kind": "investigation", "summary": marker("summary")})
    act(gateway, "rsj", pid, "extension", {"days": 10, "reasons": marker("extension"),
                                           "approved_by": marker("approved_by")})
    act(gateway, "rsj", pid, "reply", {"outcome": "explain", "opinion": marker("opinion")})
    by_code(gateway, code, "evaluation", {"rating": "dissatisfied", "comment": marker("comment")})
    by_code(gateway, code, "review-request", {"reasons": marker("review_request")})
    act(gateway, "clerk", pid, "review", {"organ_code": "330106-ZF"})
    act(gateway, "county", pid, "review/decision", {"outcome": "uphold", "opinion": marker("review_opinion")})
    by_code(gateway, code, "review-request", {"reasons": marker("re_review_request")})
    act(gateway, "clerk", pid, "re-review", {"organ_code": "3301-ZF"})
    act(gateway, "city", pid, "re-review/hearing/start")
    act(gateway, "city", pid, "re-review/hearing/end")
    act(gateway, "city", pid, "re-review/decision", {"outcome": "uphold", "opinion": marker("re_review_opinion")})

    # The bureau's own routing with its own words, a simplified case converted, a diversion, a decline, a
    # withdrawal and a report up (a redirect's advice: tests/unit/shared/test_translators.py).
    rerouted = submit(gateway)
    secrets += rerouted["secrets"]
    act(gateway, "clerk", rerouted["id"], "transfer", {"organ_code": "330106-RSJ", "basis": marker("basis")})
    act(gateway, "rsj", rerouted["id"], "acceptance", {"procedure": "simplified"})
    act(gateway, "rsj", rerouted["id"], "conversion", {"reason": marker("conversion")})
    act(gateway, "clerk", rerouted["id"], "withdrawal", {"reasons": marker("withdrawal")})

    diverted = submit(gateway)
    secrets += diverted["secrets"]
    act(gateway, "chengguan", diverted["id"], "diversion", {"item": 1, "explanation": marker("diversion")})

    declined = submit(gateway)
    secrets += declined["secrets"]
    act(gateway, "chengguan", declined["id"], "decline",
        {"reason_code": "statutory_procedure", "explanation": marker("decline")})

    reported_up = submit(gateway)
    secrets += reported_up["secrets"]
    act(gateway, "clerk", reported_up["id"], "report-up", {"reasons": marker("report_up")})

    # A report (检举控告) naming the accused.
    report = gateway.post("/api/v1/petitions", json=samples.petition(
        category="report", topic=None, name=marker("reporter"), title=marker("report_title"),
        request=marker("report_request"), facts_and_reasons=marker("report_facts"),
        accused={"name": marker("accused"), "organisation": marker("accused_org"),
                 "position": marker("accused_position")}))
    assert report.status_code == 201, report.text
    secrets.append(report.json()["query_code"])

    def published() -> list[tuple[str, str]]:
        published.seen += drain(platform, tap)
        return published.seen

    published.seen = []
    wait_for(lambda: sum(key.endswith(("case.re_review_decided.v2", "case.withdrawn.v2", "case.reported_up.v2",
                                       "case.diverted.v2", "case.declined.v2"))
                         for key, _ in published()) >= 5
             and sum("notice.delivered" in key for key, _ in published.seen) >= 6,
             timeout=60, what="every step and every receipt on the exchange")
    keys = {key for key, _ in published.seen}
    assert {"cn.xinfang.petition.registered.v2", "cn.xinfang.case.objection_upheld.v2",
            "cn.xinfang.case.extended.v2", "cn.xinfang.case.replied.v2", "cn.xinfang.case.evaluated.v2",
            "cn.xinfang.case.converted_to_ordinary.v2", "cn.xinfang.case.handling_recorded.v2"} <= keys
    assert not any(key.endswith(".v1") and "petition.routed" not in key and "case.opened" not in key
                   and "notice.delivered" not in key for key in keys), keys
    leaks = [(key, found) for key, text in published.seen
             for found in (*MARKERS, *secrets, "泄露", "Mk7") if found in text]
    assert leaks == []
