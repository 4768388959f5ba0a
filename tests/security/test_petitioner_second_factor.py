"""Issue 14 §3: "anyone holding a query code can rate and request review as the petitioner". The query code is
printed on receipts and notices and travels by mail, SMS and over a shoulder; alone it must no longer act as the
petitioner. The petitioner adds the last six characters of the ID number on file (which intake alone holds and
compares); wrong ones are counted per query code and lock it for a growing time. A rating the bureau takes on a
return visit (回访) is recorded with the clerk as actor and the channel, and published as such, so that rates tell
the two apart. On the whole platform, as real processes."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from kombu import Connection, Queue

from tests.e2e.conftest import gateway, platform  # noqa: F401 - the whole platform as real processes
from tests.e2e.officers import act, signed_in
from tests.support import samples
from tests.support.platform import tap_queue
from tests.support.waiting import wait_for

WRONG_TAIL_MESSAGE = "查询码或身份证号码后六位不正确"


@pytest.fixture(scope="module")
def tap(platform) -> Queue:
    return tap_queue(platform, "evaluations")


def evaluations_published(platform, queue: Queue, petition_id: str) -> list[dict]:
    seen = []
    with Connection(platform.env["AMQP_URI"]) as connection:
        bound = queue(connection.default_channel)
        while (message := bound.get(no_ack=True)) is not None:
            body = message.body if isinstance(message.body, bytes) else message.body.encode("utf-8")
            event = json.loads(body)  # a structured CloudEvent
            data = event.get("data") or {}
            if data.get("petition_id") == petition_id and data.get("step") == "evaluated":
                seen.append({"type": event["type"], **data})
    return seen


def replied(gateway: httpx.Client, **overrides) -> tuple[dict, str]:
    """A petition answered by its organ (the opinion awaits its rating); and its petitioner's ID-number tail."""
    petition = samples.petition(place_code="330106001", topic="urban_management", **overrides)
    response = gateway.post("/api/v1/petitions", json=petition)
    assert response.status_code == 201, response.text
    receipt = response.json()
    wait_for(lambda: gateway.get(f"/api/v1/status/{receipt['query_code']}").json()["organ"], what="routing")
    act(gateway, "chengguan", receipt["id"], "acceptance", {"procedure": "ordinary"})
    act(gateway, "chengguan", receipt["id"], "reply", {"outcome": "explain", "opinion": "已作解释说明"})
    return receipt, petition["petitioner"]["id_number"][-6:]


def wrong(tail: str) -> str:
    """Another valid-looking tail: the same form, one digit changed."""
    return tail[:-2] + str((int(tail[-2]) + 1) % 10) + tail[-1]


def rate(gateway: httpx.Client, code: str, body: dict) -> httpx.Response:
    return gateway.post(f"/api/v1/status/{code}/evaluation", json=body)


def case_of(gateway: httpx.Client, petition_id: str) -> dict:
    response = gateway.get(f"/api/v1/petitions/{petition_id}/case", headers=signed_in(gateway, "clerk"))
    assert response.status_code == 200, response.text
    return response.json()


def evaluations_in_history(gateway: httpx.Client, petition_id: str) -> list[dict]:
    response = gateway.get(f"/api/v1/audit/petitions/{petition_id}/history", headers=signed_in(gateway, "auditor"))
    assert response.status_code == 200, response.text
    return [e for e in response.json()["events"] if e.get("action") == "evaluate"]


def test_the_query_code_alone_no_longer_rates_or_requests_review(platform, gateway):
    receipt, _tail = replied(gateway)
    code = receipt["query_code"]

    rating = rate(gateway, code, {"rating": "dissatisfied"})
    review = gateway.post(f"/api/v1/status/{code}/review-request", json={"reasons": "不服处理意见"})

    for response in (rating, review):
        assert response.status_code == 422, response.text
        [error] = response.json()["errors"]
        assert (error["field"], error["label"], error["code"]) == ("id_number_tail", "身份证号码后六位", "missing")
    assert case_of(gateway, receipt["id"])["status"] == "replied"
    assert evaluations_in_history(gateway, receipt["id"]) == []


def test_a_wrong_tail_is_refused_without_saying_which_part_was_wrong_and_records_nothing(platform, gateway):
    receipt, tail = replied(gateway)
    code = receipt["query_code"]

    rating = rate(gateway, code, {"rating": "satisfied", "id_number_tail": wrong(tail)})
    review = gateway.post(f"/api/v1/status/{code}/review-request",
                          json={"reasons": "不服处理意见", "id_number_tail": wrong(tail)})

    for response in (rating, review):
        assert response.status_code == 403, response.text
        assert response.json()["error"] == "second_factor_mismatch"
        assert response.json()["message"] == WRONG_TAIL_MESSAGE
    assert case_of(gateway, receipt["id"])["status"] == "replied"
    assert evaluations_in_history(gateway, receipt["id"]) == []


def test_the_right_tail_rates_and_requests_review_as_the_petitioner(platform, gateway):
    # An ID number ending in the check character X, typed in lower case as a phone keyboard gives it.
    id_number = next(n for n in iter(samples.id_number, None) if n.endswith("X"))
    receipt, tail = replied(gateway, id_number=id_number)
    code = receipt["query_code"]

    rated = rate(gateway, code.lower(), {"rating": "dissatisfied", "id_number_tail": tail.lower()})
    review = gateway.post(f"/api/v1/status/{code}/review-request",
                          json={"reasons": "不服处理意见", "id_number_tail": tail})

    assert rated.status_code == 200, rated.text
    assert review.status_code == 200 and review.json()["status"] == "review_requested", review.text
    [evaluation] = evaluations_in_history(gateway, receipt["id"])
    assert evaluation["actor"]["role"] == "petitioner"
    assert (evaluation["taken_by"], evaluation["channel"]) == ("petitioner", "online")


def lockouts_counted(platform) -> float:
    lines = [line for line in platform.metrics("gateway").splitlines()
             if line.startswith("xinfang_query_code_lockouts_total ")]
    return float(lines[0].split()[1]) if lines else 0.0


def test_five_wrong_tails_lock_the_query_code_even_for_the_right_one(platform, gateway):
    receipt, tail = replied(gateway)
    code = receipt["query_code"]
    counted_before = lockouts_counted(platform)

    answers = [rate(gateway, code, {"rating": "satisfied", "id_number_tail": wrong(tail)}) for _ in range(5)]
    locked_at = time.monotonic()  # the 5th wrong tail took the first lock-out: 60 seconds (the default) from here
    right = rate(gateway, code, {"rating": "satisfied", "id_number_tail": tail})
    waited = time.monotonic() - locked_at

    assert [a.status_code for a in answers] == [403] * 4 + [429]
    assert right.status_code == 429, right.text
    assert right.json()["error"] == "query_code_locked"
    assert 60 - waited - 1 <= right.json()["retry_after"] <= 60
    assert right.json()["retry_after"] == int(right.headers["Retry-After"])
    assert right.json()["message"] == "身份证号码后六位错误次数过多，该查询码已暂时锁定，请1分钟后再试"
    assert evaluations_in_history(gateway, receipt["id"]) == []
    assert lockouts_counted(platform) == counted_before + 1
    # The lock is the query code's, not the address's: another petitioner is served meanwhile.
    other, other_tail = replied(gateway)
    assert rate(gateway, other["query_code"], {"rating": "satisfied", "id_number_tail": other_tail}).status_code == 200


def test_an_anonymous_report_cannot_be_rated_online(platform, gateway):
    report = samples.petition(category="report", anonymous=True, topic=None, place_code="330106001",
                              accused={"name": "孙某某", "organisation": "示例县城关镇某村村委会"})
    del report["petitioner"]
    response = gateway.post("/api/v1/petitions", json=report)
    assert response.status_code == 201, response.text
    code = response.json()["query_code"]

    refused = rate(gateway, code, {"rating": "satisfied", "id_number_tail": "000000"})

    assert refused.status_code == 409, refused.text
    assert refused.json()["error"] == "anonymous_report" and "信访部门" in refused.json()["message"]


def test_a_return_visit_is_recorded_as_the_clerks_and_published_as_such(platform, gateway, tap):
    receipt, tail = replied(gateway)
    pid, code = receipt["id"], receipt["query_code"]
    visit = {"rating": "satisfied", "comment": "电话回访，信访人表示满意", "return_visit_channel": "phone"}

    assert act(gateway, "chengguan", pid, "evaluation", visit, expect=403)["error"] == "not_permitted"
    assert act(gateway, "clerk", pid, "evaluation", {"rating": "satisfied"}, expect=422)
    recorded = act(gateway, "clerk", pid, "evaluation", visit)

    assert recorded["status"] == "replied"
    [evaluation] = evaluations_in_history(gateway, pid)
    assert (evaluation["actor"]["role"], evaluation["actor"]["user"]) == ("clerk", "clerk")
    assert (evaluation["taken_by"], evaluation["channel"]) == ("return_visit", "phone")
    shown = wait_for(lambda: [t["text"] for t in gateway.get(f"/api/v1/status/{code}").json()["timeline"]
                              if t["step"] == "evaluate"], what="the return visit in the timeline")
    assert shown == ["信访部门回访，信访人评价：满意（电话回访）"]
    [published] = wait_for(lambda: evaluations_published(platform, tap, pid), what="case.evaluated.v2")
    assert "case.evaluated.v2" in published["type"]
    assert published["actor"]["role"] == "clerk"
    assert (published["details"]["taken_by"], published["details"]["channel"]) == ("return_visit", "phone")
    # The opinion is rated once: the petitioner's own rating after the return visit is refused.
    again = rate(gateway, code, {"rating": "dissatisfied", "id_number_tail": tail})
    assert again.status_code == 409 and again.json()["error"] == "already_evaluated", again.text
