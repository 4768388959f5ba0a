"""The AsyncAPI 3.0 document of the integration events (shared/language/integration/asyncapi.py), validated against
the AsyncAPI specification's own JSON Schema (tests/data/asyncapi/, from the @asyncapi/specs package), and served
by the gateway at GET /api/v1/asyncapi.json."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient

from services.gateway.routes.contract import broker_address
from services.gateway.service import create_app
from services.gateway.settings import GatewaySettings
from shared.language.integration import asyncapi
from shared.language.integration.catalog import (
    EVENT_TYPES,
    PETITION_ROUTED,
    PROVINCE_MATTER_RECEIVED,
    PROVINCE_MATTER_SENT,
    WITHDRAWN,
)
from shared.language.integration.envelope import SCHEMA_BASE_URL_VARIABLE, IntegrationEvent, event_id

SPEC = Path(__file__).resolve().parents[2] / "data" / "asyncapi" / "3.0.0.json"
BASE_URL = "https://county.example/api/v1/schemas"
PETITION_ID = "3f2c1a4e-8b7d-4e6f-9a1b-2c3d4e5f6a7b"
WHEN = datetime(2026, 11, 26, 8, 30, 15, tzinfo=UTC)


def _offline(uri: str) -> Any:
    raise AssertionError(f"the specification's schema must resolve offline, it asked for {uri}")


@pytest.fixture(scope="module")
def specification() -> jsonschema_rs.Validator:
    """The AsyncAPI 3.0.0 schema (draft-07, every definition bundled by its `$id`): nothing is fetched."""
    return jsonschema_rs.validator_for(json.loads(SPEC.read_text(encoding="utf-8")), retriever=_offline)


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return asyncapi.document("xinfang", BASE_URL)


def errors(specification: jsonschema_rs.Validator, document: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.instance_path))}: {e.message[:200]}" for e in specification.iter_errors(document)]


def resolve(document: dict[str, Any], reference: str) -> Any:
    """A local `$ref` (`#/a/b`) of `document`, as AsyncAPI tools resolve it."""
    assert reference.startswith("#/"), reference
    node: Any = document
    for token in reference.removeprefix("#/").split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


def message_validator(document: dict[str, Any], schema: dict[str, Any]) -> jsonschema_rs.Validator:
    """A validator for a message's payload or headers schema, its `#/components/...` references resolvable."""
    return jsonschema_rs.Draft7Validator({**schema, "components": document["components"]}, validate_formats=True)


# --- the specification's own schema ---------------------------------------------------------------------------------
def test_the_document_is_valid_asyncapi_3(specification, doc):
    assert doc["asyncapi"] == "3.0.0"
    assert errors(specification, doc) == []


def test_the_document_served_by_default_is_valid_too(specification, monkeypatch):
    monkeypatch.delenv(SCHEMA_BASE_URL_VARIABLE, raising=False)
    assert errors(specification, asyncapi.document()) == []


def _address_of_wrong_type(d: dict[str, Any]) -> None:
    d["channels"]["events"]["address"] = 42


def _action_publish(d: dict[str, Any]) -> None:
    d["operations"]["send.events"]["action"] = "publish"  # AsyncAPI 2's word, not 3's


def _operation_without_channel(d: dict[str, Any]) -> None:
    del d["operations"]["receive.province.inbound"]["channel"]


def _exchange_type_unknown(d: dict[str, Any]) -> None:
    d["channels"]["province.outbound"]["bindings"]["amqp"]["exchange"]["type"] = "x-consistent-hash"


def _delivery_mode_on_the_message(d: dict[str, Any]) -> None:
    # deliveryMode is an operation binding of AMQP 0.3.0; the message binding has none.
    d["components"]["messages"][PETITION_ROUTED.type]["bindings"]["amqp"]["deliveryMode"] = 2


def _data_schema_not_a_schema(d: dict[str, Any]) -> None:
    d["components"]["schemas"]["case.opened.v1"]["required"] = "petition_id"


def _server_without_protocol(d: dict[str, Any]) -> None:
    del d["servers"][asyncapi.SERVER]["protocol"]


def _version_2(d: dict[str, Any]) -> None:
    d["asyncapi"] = "2.6.0"


@pytest.mark.parametrize("breaking", [_address_of_wrong_type, _action_publish, _operation_without_channel,
                                      _exchange_type_unknown, _delivery_mode_on_the_message,
                                      _data_schema_not_a_schema, _server_without_protocol, _version_2])
def test_a_broken_document_fails_the_specification(specification, doc, breaking: Callable[[dict[str, Any]], None]):
    broken = copy.deepcopy(doc)
    breaking(broken)
    assert errors(specification, broken) != []


def test_every_reference_resolves_inside_the_document(doc):
    """The specification's schema does not check references; AsyncAPI tools do."""
    found = refs(doc)
    assert len(found) > 100
    for reference in found:
        assert isinstance(resolve(doc, reference), dict), reference
    for operation in doc["operations"].values():  # an operation's messages are its channel's
        channel = operation["channel"]["$ref"]
        assert all(m["$ref"].startswith(f"{channel}/messages/") for m in operation["messages"])


# --- what it says ---------------------------------------------------------------------------------------------------
def test_every_published_type_is_a_message_on_its_exchange_with_the_countys_action(doc):
    published = [t for t in EVENT_TYPES.values() if t not in WITHDRAWN]
    assert sorted(doc["components"]["messages"]) == sorted(t.type for t in published)
    operations = {op["channel"]["$ref"].removeprefix("#/channels/"): op for op in doc["operations"].values()}
    assert set(doc["channels"]) == set(operations) == {"events", "province.inbound", "province.outbound"}
    for event_type in published:
        channel = doc["channels"][event_type.exchange]
        assert resolve(doc, channel["messages"][event_type.type]["$ref"])["name"] == event_type.type
        assert event_type.type in channel["parameters"]["type"]["enum"]
        operation = operations[event_type.exchange]
        assert {"$ref": f"#/channels/{event_type.exchange}/messages/{event_type.type}"} in operation["messages"]
        assert operation["action"] == ("receive" if event_type is PROVINCE_MATTER_SENT else "send"), event_type.type
    received = [m["$ref"] for op in doc["operations"].values() if op["action"] == "receive" for m in op["messages"]]
    assert received == [f"#/channels/province.inbound/messages/{PROVINCE_MATTER_SENT.type}"]


def test_withdrawn_types_are_not_in_the_document(doc):
    text = json.dumps(doc)
    assert WITHDRAWN
    for event_type in WITHDRAWN:
        assert f'"{event_type.type}"' not in text
    assert "case.step.v1" not in doc["components"]["schemas"]


def test_channels_carry_the_amqp_exchange_of_the_namespace(doc):
    other = asyncapi.document("county-b", BASE_URL, host="mq.county-b.example:5671", protocol="amqps")
    for name in ("events", "province.inbound", "province.outbound"):
        binding = other["channels"][name]["bindings"]["amqp"]
        assert binding == {"is": "routingKey", "bindingVersion": "0.3.0",
                           "exchange": {"name": f"county-b.{name}", "type": "topic", "durable": True,
                                        "autoDelete": False, "vhost": "/"}}
        assert doc["channels"][name]["bindings"]["amqp"]["exchange"]["name"] == f"xinfang.{name}"
    assert other["servers"][asyncapi.SERVER] | {"description": ""} == {
        "host": "mq.county-b.example:5671", "protocol": "amqps", "protocolVersion": "0-9-1", "description": ""}


def test_messages_describe_the_cloudevents_headers_body_and_bindings(doc):
    message = doc["components"]["messages"][PETITION_ROUTED.type]
    assert message["contentType"] == "application/cloudevents+json"
    assert message["bindings"]["amqp"] == {"contentEncoding": "utf-8", "messageType": PETITION_ROUTED.type,
                                           "bindingVersion": "0.3.0"}
    assert message["headers"]["required"] == sorted(
        f"ce-{name}" for name in ("id", "source", "type", "specversion", "subject", "time", "dataschema",
                                  "correlationid"))
    assert message["headers"]["properties"]["ce-type"]["const"] == PETITION_ROUTED.type
    assert message["payload"]["properties"]["dataschema"]["const"] == f"{BASE_URL}/petition.routed.v2.json"
    assert message["payload"]["properties"]["data"] == {"$ref": "#/components/schemas/petition.routed.v2"}
    assert message["externalDocs"]["url"] == f"{BASE_URL}/petition.routed.v2.json"
    assert doc["operations"]["send.events"]["bindings"]["amqp"]["deliveryMode"] == 2
    # The data schema, its shared definitions inlined: the document refers to nothing outside itself.
    assert not [r for r in refs(doc) if not r.startswith("#/")]
    assert doc["components"]["schemas"]["petition.routed.v2"]["$id"] == PETITION_ROUTED.schema_id


def test_the_document_is_deterministic():
    first = json.dumps(asyncapi.document("xinfang", BASE_URL))
    assert first == json.dumps(asyncapi.document("xinfang", BASE_URL))


def _routed() -> IntegrationEvent:
    source = "urn:xinfang:330106:routing"
    return IntegrationEvent(
        id=event_id(source, PETITION_ID, 1), source=source, event_type=PETITION_ROUTED, subject=PETITION_ID,
        time=WHEN, correlation_id="corr-1", causation_id="cause-1", sequence=42,
        data={"petition_id": PETITION_ID, "organ": {"code": "330106001-ZF", "name": "示例县城关镇人民政府"},
              "disposition": "transfer", "basis": "属地管理：问题发生在城关镇，由城关镇人民政府办理",
              "rule_id": "chengguan-local", "rules_version": "2026.11-demo.1", "routed_at": WHEN.isoformat(),
              "joining_organs": [], "where_to_go": None, "reason": "registered",
              "actor": {"role": "system", "user": "routing-rules", "organ": None}})


def _received() -> IntegrationEvent:
    source = "urn:xinfang:330106:intake"
    return IntegrationEvent(
        id=event_id(source, PETITION_ID, 2), source=source, event_type=PROVINCE_MATTER_RECEIVED,
        subject=PETITION_ID, time=WHEN, correlation_id="corr-2", sequence=7,
        data={"reference": "浙信转〔2026〕1234号", "petition_id": PETITION_ID, "mode": "assign",
              "received_at": WHEN.isoformat(), "report_by": "2026-12-20"},
        extra={"recipient": "urn:xinfang:province:330000"})


@pytest.mark.parametrize("event", [_routed(), _received()], ids=["events", "province.outbound"])
def test_what_the_county_publishes_matches_its_message(monkeypatch, event: IntegrationEvent):
    monkeypatch.setenv(SCHEMA_BASE_URL_VARIABLE, BASE_URL)
    event.validate()
    document = asyncapi.document()
    message = document["components"]["messages"][event.type]
    body, headers = json.loads(event.to_json()), event.amqp_headers()
    assert message_validator(document, message["payload"]).is_valid(body)
    assert message_validator(document, message["headers"]).is_valid(headers)
    assert message["contentType"] == event.amqp_properties()["content_type"]
    assert message["bindings"]["amqp"]["contentEncoding"] == event.amqp_properties()["content_encoding"]
    incomplete = {k: v for k, v in body["data"].items() if k != event.event_type.schema["required"][0]}
    assert not message_validator(document, message["payload"]).is_valid({**body, "data": incomplete})
    assert not message_validator(document, message["headers"]).is_valid(
        {k: v for k, v in headers.items() if k != "ce-correlationid"})


# --- served by the gateway ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("uri", "address"), [
    ("amqp://guest:guest@127.0.0.1:5672/", ("127.0.0.1:5672", "amqp")),
    ("amqps://user:secret@mq.example/vhost", ("mq.example:5671", "amqps")),
    ("amqp://rabbitmq", ("rabbitmq:5672", "amqp")),
])
def test_the_broker_address_is_published_without_credentials(uri, address):
    assert broker_address(uri) == address


def test_the_gateway_serves_the_document_publicly(specification, monkeypatch):
    monkeypatch.setenv(SCHEMA_BASE_URL_VARIABLE, BASE_URL)
    app = create_app(GatewaySettings(
        XINFANG_ENV="test", XINFANG_NAMESPACE="county-b", GATEWAY_JWT_SECRET="c" * 40,
        INTAKE_URLS="http://127.0.0.1:9", MONGODB_URI="mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=200",
        AMQP_URI="amqp://county:s3cret-password@mq.county-b.example:5673/"))
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/api/v1/asyncapi.json")  # no token: public
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    assert answer.json() == asyncapi.document("county-b", BASE_URL, host="mq.county-b.example:5673")
    assert errors(specification, answer.json()) == []
    assert "s3cret-password" not in answer.text
    assert "no-store" not in answer.headers.get("cache-control", "")
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_the_document_names_the_broker_as_integrators_reach_it(monkeypatch):
    monkeypatch.setenv(SCHEMA_BASE_URL_VARIABLE, BASE_URL)
    app = create_app(GatewaySettings(
        XINFANG_ENV="test", XINFANG_NAMESPACE="county-b", GATEWAY_JWT_SECRET="c" * 40,
        INTAKE_URLS="http://127.0.0.1:9", MONGODB_URI="mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=200",
        AMQP_URI="amqp://county:s3cret-password@rabbitmq.internal:5672/",
        INTEGRATION_BROKER_URI="amqps://outside:pw@mq.county-b.example.gov.cn:5671/"))
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/api/v1/asyncapi.json")
    assert answer.json() == asyncapi.document("county-b", BASE_URL, host="mq.county-b.example.gov.cn:5671",
                                              protocol="amqps")
    assert "rabbitmq.internal" not in answer.text and "pw@" not in answer.text
