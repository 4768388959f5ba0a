"""Integration-event envelopes (CloudEvents 1.0, structured mode with `ce-` headers) and the catalogue of event types.

The binding as the official SDK reads it: tests/unit/shared/test_cloudevents_binding.py."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.language.integration.catalog import EVENT_TYPES, PETITION_ROUTED
from shared.language.integration.envelope import (
    CONTENT_TYPE,
    IntegrationEvent,
    InvalidIntegrationEvent,
    event_id,
    schema_base_url,
)

SOURCE = "urn:xinfang:330106:routing"
PETITION_ID = "3f2c1a4e-8b7d-4e6f-9a1b-2c3d4e5f6a7b"
WHEN = datetime(2026, 11, 26, 8, 30, 15, tzinfo=UTC)


def routed(**overrides: Any) -> IntegrationEvent:
    """A valid petition.routed event with Chinese text in its data."""
    fields: dict[str, Any] = {
        "id": event_id(SOURCE, PETITION_ID, 1),
        "source": SOURCE,
        "event_type": PETITION_ROUTED,
        "subject": PETITION_ID,
        "time": WHEN,
        "data": {
            "petition_id": PETITION_ID,
            "organ": {"code": "330106001-ZF", "name": "示例县城关镇人民政府"},
            "disposition": "transfer",
            "basis": "属地管理：问题发生在城关镇，由城关镇人民政府办理",
            "rule_id": "chengguan-local",
            "rules_version": "2026.11-demo.1",
            "routed_at": WHEN.isoformat(),
            "joining_organs": [],
            "where_to_go": None,
            "reason": "registered",
            "actor": {"role": "system", "user": "routing-rules", "organ": None},
        },
        "correlation_id": "corr-1",
        "causation_id": "cause-1",
        "sequence": 42,
    }
    fields.update(overrides)
    return IntegrationEvent(**fields)


def document(event: IntegrationEvent) -> dict[str, Any]:
    return json.loads(event.to_json())


def encoded(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


# ---------------------------------------------------------------------------------------------------------------
# Round trip
# ---------------------------------------------------------------------------------------------------------------


def test_an_event_survives_a_round_trip_through_json() -> None:
    original = routed()

    parsed = IntegrationEvent.from_json(original.to_json())

    assert (parsed.id, parsed.source, parsed.type, parsed.subject) == (
        original.id, original.source, original.type, original.subject)
    assert parsed.data == original.data
    assert parsed.data["organ"]["name"] == "示例县城关镇人民政府"
    assert (parsed.correlation_id, parsed.causation_id, parsed.sequence) == ("corr-1", "cause-1", 42)
    assert parsed.time == WHEN
    assert parsed.event_type is PETITION_ROUTED


def test_an_event_without_causation_or_sequence_round_trips_without_them() -> None:
    parsed = IntegrationEvent.from_json(routed(causation_id=None, sequence=None).to_json())

    assert parsed.causation_id is None
    assert parsed.sequence is None


def test_the_json_carries_the_cloudevents_attributes_and_extensions() -> None:
    doc = document(routed())

    assert doc["specversion"] == "1.0"
    assert doc["type"] == "cn.xinfang.petition.routed.v2"
    assert doc["dataschema"] == f"{schema_base_url()}/petition.routed.v2.json"  # where the gateway serves it
    assert doc["datacontenttype"] == "application/json"
    assert (doc["correlationid"], doc["causationid"], doc["sequence"]) == ("corr-1", "cause-1", "42")


def test_unknown_extension_attributes_are_kept_aside() -> None:
    doc = document(routed())
    doc["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

    parsed = IntegrationEvent.from_json(encoded(doc))

    assert parsed.extra == {"traceparent": doc["traceparent"]}


# ---------------------------------------------------------------------------------------------------------------
# Event ids
# ---------------------------------------------------------------------------------------------------------------


def test_event_id_is_deterministic() -> None:
    assert event_id(SOURCE, PETITION_ID, 3) == event_id(SOURCE, uuid.UUID(PETITION_ID), 3)


@pytest.mark.parametrize(
    ("source", "originator", "version"),
    [
        pytest.param(SOURCE, PETITION_ID, 2, id="another version"),
        pytest.param("urn:xinfang:330106:intake", PETITION_ID, 1, id="another source"),
        pytest.param(SOURCE, "00000000-0000-4000-8000-000000000000", 1, id="another aggregate"),
    ],
)
def test_event_id_differs_when_anything_identifying_differs(source: str, originator: str, version: int) -> None:
    assert event_id(source, originator, version) != event_id(SOURCE, PETITION_ID, 1)


def test_event_id_is_a_name_based_uuid() -> None:
    assert uuid.UUID(event_id(SOURCE, PETITION_ID, 1)).version == 5


# ---------------------------------------------------------------------------------------------------------------
# AMQP mapping
# ---------------------------------------------------------------------------------------------------------------


def test_amqp_headers_mirror_the_cloudevents_attributes() -> None:
    event = routed()

    headers = event.amqp_headers()

    assert headers["ce-id"] == event.id
    assert headers["ce-type"] == "cn.xinfang.petition.routed.v2"
    assert headers["ce-source"] == SOURCE
    assert headers["ce-subject"] == PETITION_ID
    assert headers["ce-correlationid"] == "corr-1"
    assert headers["ce-specversion"] == "1.0"
    assert (headers["ce-causationid"], headers["ce-sequence"]) == ("cause-1", "42")
    assert headers["ce-time"] == document(event)["time"] == "2026-11-26T08:30:15Z"
    assert "ce-datacontenttype" not in headers  # that is the AMQP content_type


def test_amqp_properties_make_a_persistent_structured_cloudevent() -> None:
    event = routed()

    properties = event.amqp_properties()

    assert properties["message_id"] == event.id
    assert properties["type"] == event.type
    assert properties["correlation_id"] == "corr-1"
    assert properties["delivery_mode"] == 2
    assert properties["content_type"] == CONTENT_TYPE == "application/cloudevents+json"
    assert properties["timestamp"] == int(WHEN.timestamp())


# ---------------------------------------------------------------------------------------------------------------
# Refusals
# ---------------------------------------------------------------------------------------------------------------


def _without(key: str) -> dict[str, Any]:
    doc = document(routed())
    del doc[key]
    return doc


def _with(key: str, value: Any) -> dict[str, Any]:
    doc = document(routed())
    doc[key] = value
    return doc


def _data_without(key: str) -> dict[str, Any]:
    doc = document(routed())
    del doc["data"][key]
    return doc


REFUSED = [
    pytest.param(b"this is not json", "not JSON", id="not JSON"),
    pytest.param(b"\xff\xfe{", "not JSON", id="not UTF-8"),
    pytest.param(b"[1, 2]", "a JSON object with id and source is required", id="a JSON array"),
    pytest.param(b'"text"', "a JSON object with id and source is required", id="a JSON string"),
    pytest.param(b"null", "a JSON object with id and source is required", id="JSON null"),
    # Without an id the CloudEvents SDK would invent a random one per parse, and redeliveries would not dedupe.
    pytest.param(encoded(_without("id")), "a JSON object with id and source is required", id="missing id"),
    pytest.param(encoded(_with("type", "cn.xinfang.petition.closed.v1")), "unknown event type", id="unknown type"),
    pytest.param(encoded(_with("type", "cn.xinfang.petition.routed.v9")), "unknown event type",
                 id="unknown version of a known type"),
    pytest.param(encoded(_without("source")), "a JSON object with id and source is required", id="missing source"),
    pytest.param(encoded(_without("subject")), "missing attribute 'subject'", id="missing subject"),
    pytest.param(encoded(_without("correlationid")), "missing attribute 'correlationid'", id="missing correlationid"),
    pytest.param(encoded(_data_without("organ")), '"organ" is a required property',
                 id="petition.routed without organ"),
    pytest.param(encoded(_with("data", {**document(routed())["data"], "disposition": "ignore"})),
                 "data invalid at disposition", id="a disposition outside the enum"),
    pytest.param(encoded(_with("data", {**document(routed())["data"], "petition_id": "not-a-uuid"})),
                 "data invalid at petition_id", id="a petition id that is not a UUID"),
    # Formats are asserted, not only annotated (draft 2020-12 leaves that to the validator's configuration).
    pytest.param(encoded(_with("data", {**document(routed())["data"], "routed_at": "2026-13-45T25:00:00Z"})),
                 'data invalid at routed_at: "2026-13-45T25:00:00Z" is not a "date-time"',
                 id="a timestamp that is no date-time"),
    pytest.param(encoded(_without("data")), "event data must be a JSON object", id="no data"),
    pytest.param(encoded(_with("data", "just text")), "event data must be a JSON object", id="data is a string"),
    pytest.param(encoded(_with("sequence", "forty-two")), "is not an integer", id="non-integer sequence"),
    pytest.param(encoded(_with("sequence", "4.2")), "is not an integer", id="fractional sequence"),
]


@pytest.mark.parametrize(("body", "reason"), REFUSED)
def test_from_json_refuses_what_is_not_an_event_of_our_published_language(body: bytes, reason: str) -> None:
    with pytest.raises(InvalidIntegrationEvent) as refused:
        IntegrationEvent.from_json(body)

    assert reason in str(refused.value)


def test_validate_names_the_invalid_place_in_the_data() -> None:
    event = routed(data={**routed().data, "organ": {"code": "330106-XFJ"}})

    with pytest.raises(InvalidIntegrationEvent, match='data invalid at organ: "name" is a required property'):
        event.validate()


def test_every_catalogued_type_has_a_loadable_schema() -> None:
    for type_name, event_type in EVENT_TYPES.items():
        assert type_name == event_type.type
        assert event_type.schema["$id"] == event_type.schema_id  # a URN; `dataschema` is where it is served
        assert event_type.dataschema_at("https://x.example/api/v1/schemas/") == \
            f"https://x.example/api/v1/schemas/{event_type.schema_file}"


# ---------------------------------------------------------------------------------------------------------------
# Tracking (the consumer's dedupe key)
# ---------------------------------------------------------------------------------------------------------------


def test_tracking_is_source_and_sequence_when_there_is_a_sequence() -> None:
    tracking = routed(sequence=42).tracking

    assert (tracking.application_name, tracking.notification_id) == (SOURCE, 42)


def test_tracking_without_a_sequence_is_a_stable_positive_63_bit_number_from_the_id() -> None:
    event = routed(sequence=None)

    first = event.tracking
    after_round_trip = IntegrationEvent.from_json(event.to_json()).tracking

    assert first == after_round_trip
    assert first.application_name == SOURCE
    assert isinstance(first.notification_id, int)
    assert 0 < first.notification_id < 2**63


def test_tracking_without_a_sequence_differs_between_events() -> None:
    one = routed(sequence=None)
    other = replace(one, id=event_id(SOURCE, PETITION_ID, 2))

    assert one.tracking.notification_id != other.tracking.notification_id


def test_tracking_without_a_sequence_always_fits_a_signed_64_bit_column() -> None:
    numbers = [routed(id=event_id(SOURCE, PETITION_ID, version), sequence=None).tracking.notification_id
               for version in range(1, 257)]

    assert all(0 <= n < 2**63 for n in numbers)
    assert len(set(numbers)) == len(numbers)
