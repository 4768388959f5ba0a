"""CloudEvents over AMQP 0-9-1 as the official SDK reads it (cloudevents 2.2, `cloudevents.core.bindings.rabbitmq`).

What we publish: structured mode (the whole event in the body, `application/cloudevents+json`), every attribute but
`datacontenttype` also in a `ce-` header as the SDK's binary mode writes it, times the same string in both. So an
integrator reads our messages with `from_rabbitmq` (structured), or from the headers alone with `from_binary`.
What we take (a province's matters): a message in either mode, as the SDK's `to_structured` / `to_binary` make it.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from cloudevents.core.bindings import rabbitmq
from cloudevents.core.bindings.rabbitmq import RabbitMQMessage
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from shared.language.integration.catalog import PROVINCE_MATTER_SENT
from shared.language.integration.envelope import (
    BINARY_CONTENT_TYPE,
    CONTENT_TYPE,
    SCHEMA_BASE_URL_VARIABLE,
    IntegrationEvent,
    InvalidIntegrationEvent,
)
from tests.unit.shared.test_envelope import PETITION_ID, routed

FORMAT = JSONFormat()
PROVINCE = "urn:xinfang:province:330000"
SENT_AT = datetime(2026, 11, 26, 7, 40, 28, 509000, tzinfo=UTC)


def as_published(event: IntegrationEvent) -> RabbitMQMessage:
    """The message our publisher sends (shared/runtime/messaging/publisher.py), as a consumer's client receives it."""
    return RabbitMQMessage(headers=event.amqp_headers(), content_type=event.amqp_properties()["content_type"],
                           body=event.to_json())


def province_event(**attributes: Any) -> CloudEvent:
    """A matter a province's system sends with the SDK (not the platform's code)."""
    return CloudEvent({
        "id": "b1c7e0f4-3d2a-4c6b-9e8f-0a1b2c3d4e5f",
        "source": PROVINCE,
        "type": PROVINCE_MATTER_SENT.type,
        "specversion": "1.0",
        "time": SENT_AT,
        "subject": "浙信转〔2026〕1234号",
        "datacontenttype": "application/json",
        "dataschema": "https://province.example.cn/schemas/matter_sent.json",  # its own copy: not ours to check
        "correlationid": "province-corr-1",
        **attributes,
    }, {
        "reference": "浙信转〔2026〕1234号",
        "mode": "assign",
        "county": "330106",
        "sent_on": "2026-11-26",
        "report_by": "2026-12-26",
        "petition": {"category": "appeal", "title": "小区污水外溢", "request": "请求尽快维修",
                     "facts_and_reasons": "小区污水管道破裂，污水外溢已两周。", "place_code": "330106001"},
    })


# ---------------------------------------------------------------------------------------------------------------
# The headers: the SDK's binary-mode mapping
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("event", [
    pytest.param(routed(), id="with causation and sequence"),
    pytest.param(routed(causation_id=None, sequence=None), id="without them"),
    pytest.param(routed(extra={"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                               "recipient": PROVINCE}), id="with other extensions"),
    pytest.param(routed(time=SENT_AT), id="milliseconds"),
    pytest.param(routed(time=datetime(2026, 11, 26, 15, 40, 28, 1, tzinfo=timezone(timedelta(hours=8)))),
                 id="Beijing time, microseconds"),
])
def test_the_headers_are_exactly_what_the_sdk_binary_mode_writes(event: IntegrationEvent) -> None:
    binary = rabbitmq.to_binary(event.to_cloudevent(), FORMAT)

    assert event.amqp_headers() == binary.headers
    assert binary.content_type == BINARY_CONTENT_TYPE  # datacontenttype: the AMQP content_type, no header
    assert all(name.startswith("ce-") and isinstance(value, str) for name, value in event.amqp_headers().items())


def test_every_extension_is_a_header() -> None:
    headers = routed(extra={"recipient": PROVINCE}).amqp_headers()

    assert (headers["ce-correlationid"], headers["ce-causationid"], headers["ce-sequence"]) == ("corr-1", "cause-1",
                                                                                                 "42")
    assert headers["ce-recipient"] == PROVINCE


@pytest.mark.parametrize(("time", "written"), [
    (SENT_AT, "2026-11-26T07:40:28.509000Z"),
    (datetime(2026, 11, 26, 8, 30, 15, tzinfo=UTC), "2026-11-26T08:30:15Z"),
    (datetime(2026, 11, 26, 16, 30, 15, tzinfo=timezone(timedelta(hours=8))), "2026-11-26T16:30:15+08:00"),
])
def test_time_is_one_string_in_the_header_and_the_body(time: datetime, written: str) -> None:
    event = routed(time=time)

    assert event.amqp_headers()["ce-time"] == json.loads(event.to_json())["time"] == written
    assert event.amqp_properties()["timestamp"] == int(time.timestamp())  # the AMQP property: whole seconds


# ---------------------------------------------------------------------------------------------------------------
# Reading what we publish with the SDK
# ---------------------------------------------------------------------------------------------------------------


def test_structured_reading_gives_our_events_attributes_and_data() -> None:
    event = routed(extra={"recipient": PROVINCE})

    read = rabbitmq.from_rabbitmq(as_published(event), FORMAT)  # content type application/cloudevents+json

    assert read.get_attributes() == event.to_cloudevent().get_attributes()
    assert (read.get_id(), read.get_source(), read.get_type(), read.get_subject()) == (
        event.id, event.source, "cn.xinfang.petition.routed.v2", PETITION_ID)
    assert read.get_time() == event.time
    assert read.get_extension("correlationid") == "corr-1" and read.get_extension("sequence") == "42"
    assert read.get_data() == event.data


def test_header_based_reading_gives_the_same_attributes_without_the_body() -> None:
    event = routed(time=SENT_AT, extra={"recipient": PROVINCE})
    message = as_published(event)
    structured = rabbitmq.from_rabbitmq(message, FORMAT)

    from_headers = rabbitmq.from_binary(replace(message, body=b""), FORMAT)  # the headers alone

    attributes = dict(from_headers.get_attributes())
    assert attributes.pop("datacontenttype") == CONTENT_TYPE  # the message's content type, as the binding says
    expected = dict(structured.get_attributes())
    expected.pop("datacontenttype")
    assert attributes == expected
    assert from_headers.get_time() == structured.get_time() == SENT_AT
    assert {f"ce-{name}" for name in attributes} == set(message.headers)


def test_header_based_reading_of_the_whole_message_finds_the_event_in_the_data() -> None:
    event = routed()

    read = rabbitmq.from_binary(as_published(event), FORMAT)

    assert read.get_id() == event.id and read.get_data() == json.loads(event.to_json())


def test_the_dataschema_is_the_configured_url(monkeypatch) -> None:
    monkeypatch.setenv(SCHEMA_BASE_URL_VARIABLE, "https://xinfang.example.gov.cn/api/v1/schemas")

    message = as_published(routed())

    url = "https://xinfang.example.gov.cn/api/v1/schemas/petition.routed.v2.json"
    assert rabbitmq.from_rabbitmq(message, FORMAT).get_dataschema() == url == message.headers["ce-dataschema"]


# ---------------------------------------------------------------------------------------------------------------
# Taking a province's message in either mode
# ---------------------------------------------------------------------------------------------------------------


def test_a_province_message_is_the_same_event_in_structured_and_in_binary_mode() -> None:
    structured = rabbitmq.to_structured(province_event(), FORMAT)
    binary = rabbitmq.to_binary(province_event(), FORMAT)
    assert (structured.content_type, binary.content_type) == (CONTENT_TYPE, "application/json")

    one = IntegrationEvent.from_amqp(structured.body, structured.headers, structured.content_type)
    other = IntegrationEvent.from_amqp(binary.body, binary.headers, binary.content_type)

    assert one == other
    assert (one.source, one.event_type, one.subject, one.correlation_id) == (
        PROVINCE, PROVINCE_MATTER_SENT, "浙信转〔2026〕1234号", "province-corr-1")
    assert one.time == SENT_AT and one.data["petition"]["title"] == "小区污水外溢"
    assert one.sequence is None and one.tracking.application_name == PROVINCE


def test_our_own_published_message_is_taken_as_it_is_sent() -> None:
    event = routed(extra={"recipient": PROVINCE})
    message = as_published(event)

    assert IntegrationEvent.from_amqp(message.body, message.headers, message.content_type) == event
    assert IntegrationEvent.from_json(message.body) == event


def test_header_values_a_client_hands_over_as_bytes_are_text() -> None:
    binary = rabbitmq.to_binary(province_event(), FORMAT)
    as_bytes = {name: value.encode() for name, value in binary.headers.items()}

    event = IntegrationEvent.from_amqp(binary.body, {**as_bytes, "x-delivery-count": 1}, binary.content_type)

    assert event.id == binary.headers["ce-id"]


def test_header_names_are_case_insensitive_as_in_the_sdk() -> None:
    binary = rabbitmq.to_binary(province_event(), FORMAT)

    event = IntegrationEvent.from_amqp(binary.body, {name.upper(): v for name, v in binary.headers.items()},
                                       binary.content_type)

    assert event.source == PROVINCE


def test_a_message_without_content_type_or_ce_headers_is_read_as_structured_as_before() -> None:
    event = routed()

    assert IntegrationEvent.from_amqp(event.to_json(), None, None) == event


@pytest.mark.parametrize("dataschema", [
    "urn:xinfang:schema:province.matter_sent:1",  # the schema's $id: what our events said before
    "http://127.0.0.1:8000/api/v1/schemas/province.matter_sent.v1.json",  # ours
    "https://province.example.cn/schemas/matter_sent.json",  # the province's own
])
def test_any_dataschema_is_taken_the_data_is_validated_against_ours(dataschema: str) -> None:
    for message in (rabbitmq.to_structured(province_event(dataschema=dataschema), FORMAT),
                    rabbitmq.to_binary(province_event(dataschema=dataschema), FORMAT)):
        assert IntegrationEvent.from_amqp(message.body, message.headers, message.content_type).source == PROVINCE


def _binary(**changes: Any) -> dict[str, Any]:
    message = rabbitmq.to_binary(province_event(), FORMAT)
    headers = {k: v for k, v in message.headers.items() if k not in changes.get("without", ())}
    headers.update(changes.get("headers", {}))
    return {"body": changes.get("body", message.body), "headers": headers,
            "content_type": changes.get("content_type", message.content_type)}


REFUSED = [
    pytest.param(_binary(without=("ce-id",)), "ce-id and ce-source headers are required", id="no ce-id"),
    pytest.param(_binary(without=("ce-source",)), "ce-id and ce-source headers are required", id="no ce-source"),
    pytest.param(_binary(body=b"not json"), "event data must be a JSON object", id="data not JSON"),
    pytest.param(_binary(body=b"[1, 2]"), "event data must be a JSON object", id="data a JSON array"),
    pytest.param(_binary(body=b""), "event data must be a JSON object", id="no data"),
    pytest.param(_binary(body=b"\xff\xfe{"), "event data must be a JSON object", id="data not UTF-8"),
    pytest.param(_binary(content_type="application/octet-stream"), "neither structured", id="not JSON data"),
    pytest.param(_binary(headers={"ce-time": "yesterday"}), "not a valid CloudEvent", id="a time that is none"),
    pytest.param(_binary(headers={"ce-type": "cn.xinfang.province.matter_sent.v9"}), "unknown event type",
                 id="unknown type"),
    pytest.param(_binary(without=("ce-correlationid",)), "missing attribute 'correlationid'", id="no correlationid"),
    pytest.param(_binary(headers={"ce-sequence": "4.2"}), "is not an integer", id="fractional sequence"),
    pytest.param(_binary(headers={"ce-id": b"\xff"}), "not UTF-8", id="a header not UTF-8"),
    pytest.param(_binary(body=json.dumps({"reference": "x"}).encode()), "data invalid", id="data off its schema"),
    pytest.param({"body": b"{}", "headers": {}, "content_type": CONTENT_TYPE},
                 "a JSON object with id and source is required", id="structured without id"),
]


@pytest.mark.parametrize(("message", "reason"), REFUSED)
def test_from_amqp_refuses_what_is_not_an_event_of_our_published_language(message: dict[str, Any],
                                                                          reason: str) -> None:
    with pytest.raises(InvalidIntegrationEvent) as refused:
        IntegrationEvent.from_amqp(message["body"], message["headers"], message["content_type"])

    assert reason in str(refused.value)


def test_binary_mode_ids_dedupe_like_structured_ones() -> None:
    binary = rabbitmq.to_binary(province_event(), FORMAT)
    structured = rabbitmq.to_structured(province_event(), FORMAT)

    tracked = {IntegrationEvent.from_amqp(m.body, m.headers, m.content_type).tracking for m in (binary, structured)}

    assert len(tracked) == 1
