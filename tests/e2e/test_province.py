"""A fake province against the running platform: its own broker user sends the county matters on the inbound exchange
and reads the county's answers from the outbound one, with pika and the official cloudevents SDK — none of the
platform's code. A transfer and an assignment, in both content modes of the CloudEvents RabbitMQ binding; the same
message twice registers once; the assignment followed from its receipt to the completion report (办结报告)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pika
import pytest
from cloudevents.core.bindings import rabbitmq
from cloudevents.core.v1.event import CloudEvent

from tests.e2e.officers import act, signed_in
from tests.support import samples
from tests.support.platform import province_uri
from tests.support.waiting import wait_for

PROVINCE = "urn:xinfang:province:330000"  # the default allowed source of county 330106 (PROVINCE_SOURCES)
SENT = "cn.xinfang.province.matter_sent.v1"


class FakeProvince:
    """The province's side, as an integrator would write it from docs/integration-events.md."""

    def __init__(self, uri: str, namespace: str) -> None:
        self.namespace = namespace
        self.connection = pika.BlockingConnection(pika.URLParameters(uri))
        self.channel = self.connection.channel()
        self.channel.confirm_delivery()
        self.queue = f"{namespace}.integrator.province.answers"
        self.channel.queue_declare(self.queue, durable=True, arguments={"x-queue-type": "quorum"})
        self.channel.queue_bind(self.queue, f"{namespace}.province.outbound", "cn.xinfang.province.#")

    def send(self, data: dict[str, Any], *, binary: bool = False, event_id: str | None = None,
             source: str = PROVINCE) -> str:
        event_id = event_id or str(uuid.uuid4())
        event = CloudEvent({"id": event_id, "source": source, "type": SENT, "specversion": "1.0",
                            "subject": data["reference"], "time": datetime.now(UTC),
                            "datacontenttype": "application/json", "correlationid": f"zj-{event_id}"}, data)
        message = rabbitmq.to_binary_event(event) if binary else rabbitmq.to_structured_event(event)
        self.channel.basic_publish(
            f"{self.namespace}.province.inbound", SENT, message.body,
            pika.BasicProperties(content_type=message.content_type, headers=message.headers, delivery_mode=2,
                                 message_id=event_id))
        return event_id

    def answers(self) -> Iterator[tuple[CloudEvent, dict[str, Any]]]:
        """Every answer waiting, read with the SDK (structured mode), with its headers."""
        while True:
            method, properties, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                return
            message = rabbitmq.RabbitMQMessage(headers=properties.headers or {}, content_type=properties.content_type,
                                               body=body)
            yield rabbitmq.from_rabbitmq_event(message), properties.headers or {}

    def close(self) -> None:
        self.connection.close()


@pytest.fixture(scope="module")
def province(platform) -> Iterator[FakeProvince]:
    fake = FakeProvince(province_uri(platform), platform.env["XINFANG_NAMESPACE"])
    yield fake
    fake.close()


def matter(reference: str, mode: str = "transfer", report_by: date | None = None) -> dict[str, Any]:
    petition = {k: v for k, v in samples.petition(place_code="330106001", topic="urban_management").items()
                if k not in ("channel", "attachments")}
    return {"reference": reference, "mode": mode, "county": "330106", "sent_on": date.today().isoformat(),
            "report_by": report_by.isoformat() if report_by else None, "petition": petition}


def test_a_province_sends_a_matter_and_follows_it_to_the_completion_report(platform, gateway, province):
    reference = f"浙信交〔2026〕{uuid.uuid4().int % 10**6}号"
    report_by = date.today() + timedelta(days=20)
    sent = province.send(matter(reference, "assign", report_by))
    province.send(matter(reference, "assign", report_by), event_id=sent)  # the same message again
    transfer_reference = f"浙信转〔2026〕{uuid.uuid4().int % 10**6}号"
    province.send(matter(transfer_reference), binary=True)  # the binary mode of the SDK's RabbitMQ binding

    answers: dict[str, list[tuple[CloudEvent, dict[str, Any]]]] = {}

    def answered(reference: str, kind: str) -> CloudEvent | None:
        for event, headers in province.answers():
            answers.setdefault(event.get_data()["reference"], []).append((event, headers))
        return next((e for e, _ in answers.get(reference, []) if e.get_type().endswith(f".{kind}.v1")), None)

    receipt = wait_for(lambda: answered(reference, "matter_received"), timeout=60, what="the receipt")
    assert wait_for(lambda: answered(transfer_reference, "matter_received"), timeout=60, what="the 2nd receipt")
    petition_id = receipt.get_data()["petition_id"]
    assert receipt.get_data() == {"reference": reference, "petition_id": petition_id, "mode": "assign",
                                  "received_at": receipt.get_data()["received_at"],
                                  "report_by": report_by.isoformat()}
    assert receipt.get_extension("recipient") == PROVINCE and receipt.get_subject() == petition_id
    assert receipt.get_extension("correlationid") == f"zj-{sent}"  # the province's own story, carried through
    # The headers say what the body says, read with the SDK's binary-mode parser
    headers = next(h for e, h in answers[reference] if e.get_id() == receipt.get_id())
    from_headers = rabbitmq.from_binary_event(rabbitmq.RabbitMQMessage(headers=headers, content_type=None, body=b"{}"))
    assert (from_headers.get_id(), from_headers.get_type(), from_headers.get_time()) == \
        (receipt.get_id(), receipt.get_type(), receipt.get_time())

    # Registered once, on the channel of matters from above, with a reporting day kept by supervision
    clerk = signed_in(gateway, "clerk")
    case = wait_for(lambda: (r := gateway.get(f"/api/v1/petitions/{petition_id}/case", headers=clerk)).status_code
                    == 200 and r.json()["organ"] and r.json(), timeout=60, what="the case, routed")
    shown = gateway.get(f"/api/v1/petitions/{petition_id}", headers=clerk).json()
    assert shown["channel"] == "provincial_transfer"
    # The officers see which matter of the province it is, and the day the province asked to be told by
    assert shown["provincial"] == {"reference": reference, "mode": "assign", "sent_on": date.today().isoformat(),
                                   "report_by": report_by.isoformat()}
    assert next(d for d in case["deadlines"] if d["kind"] == "province_report")["due"] == report_by.isoformat()

    act(gateway, "chengguan", petition_id, "acceptance", {"procedure": "ordinary"})
    decided = wait_for(lambda: answered(reference, "matter_decided"), timeout=60, what="the acceptance")
    assert decided.get_data()["decision"] == "accepted" and decided.get_data()["organ"] == "330106001-ZF"

    act(gateway, "clerk", petition_id, "provincial-progress", {"summary": "已实地核查，正在组织疏通"})
    progress = wait_for(lambda: answered(reference, "progress_reported"), timeout=60, what="the progress report")
    assert progress.get_data()["summary"] == "已实地核查，正在组织疏通" and progress.get_data()["late_days"] == 0

    act(gateway, "chengguan", petition_id, "reply", {"outcome": "support", "opinion": "已疏通污水管道"})
    completed = wait_for(lambda: answered(reference, "matter_completed"), timeout=60, what="the completion report")
    assert completed.get_data()["outcome"] == "support"
    assert completed.get_data()["replied_on"] == date.today().isoformat()
    # Each answer once (the message sent twice registered once), in the order the case went; the opinion's words
    # stay in the county
    kinds = [e.get_type().split(".")[3] for e, _ in answers[reference]]
    assert kinds == ["matter_received", "matter_decided", "progress_reported", "matter_completed"]
    assert "已疏通污水管道" not in json.dumps([e.get_data() for e, _ in answers[reference]], ensure_ascii=False)


def test_a_transfer_asks_for_no_progress_report(platform, gateway, province):
    reference = f"浙信转〔2026〕{uuid.uuid4().int % 10**6}号"
    province.send(matter(reference))
    received: list[CloudEvent] = []

    def receipt() -> CloudEvent | None:
        received.extend(e for e, _ in province.answers())
        return next((e for e in received if e.get_data()["reference"] == reference), None)

    petition_id = wait_for(receipt, timeout=60, what="the receipt").get_data()["petition_id"]
    clerk = signed_in(gateway, "clerk")
    wait_for(lambda: gateway.get(f"/api/v1/petitions/{petition_id}/case", headers=clerk).status_code == 200,
             timeout=60, what="the case")
    refused = act(gateway, "clerk", petition_id, "provincial-progress", {"summary": "进展"}, expect=409)
    assert refused["error"] in ("not_assigned_from_above", "illegal_transition", "not_permitted")
