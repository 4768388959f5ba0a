"""The schemas are resolvable by integrators (issue 19): each event's `dataschema` is a URL the gateway serves, and
GET /api/v1/schemas maps every schema document's `$id` (a URN, `_common.json`'s included) to its URL, so a JSON
Schema registry built from nothing but the gateway's answers validates a published event, `$ref`s resolved.

The gateway's schema routes alone (services/gateway/routes/system.py), in-process, with no read models behind them."""

from __future__ import annotations

import json
from typing import Any

import jsonschema_rs
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.gateway.routes.system import router
from shared.language.integration.catalog import EVENT_TYPES
from shared.language.integration.envelope import DEFAULT_SCHEMA_BASE_URL, SCHEMA_BASE_URL_VARIABLE, IntegrationEvent
from tests.support import samples

BASE = "http://testserver/api/v1/schemas"  # the TestClient's own address: the URLs are fetched as they are given
COMMON_ID = "urn:xinfang:schema:common:1"


@pytest.fixture
def gateway(monkeypatch) -> TestClient:
    monkeypatch.setenv(SCHEMA_BASE_URL_VARIABLE, BASE + "/")  # a trailing slash is no matter
    app = FastAPI()
    app.include_router(router)
    return TestClient(app)


def published(event: IntegrationEvent) -> dict[str, Any]:
    """The event as an integrator receives it: the structured CloudEvent in the message body."""
    return json.loads(event.to_json())


def a_registry_from_the_gateway(client: TestClient) -> tuple[dict[str, Any], jsonschema_rs.Registry]:
    """The listing, and a registry of every document under its `$id` and its URL, from the gateway's answers only
    (an integrator's client would make the same two kinds of request)."""
    listing = client.get("/api/v1/schemas").json()
    resources = []
    for entry in listing["documents"]:
        document = client.get(entry["url"]).json()
        assert document["$id"] == entry["id"]
        resources += [(entry["id"], document), (entry["url"], document)]
    return listing, jsonschema_rs.Registry(resources)


def test_each_type_lists_its_dataschema_url_and_its_schemas_id(gateway) -> None:
    listing = gateway.get("/api/v1/schemas").json()

    assert len(listing["event_types"]) == len(EVENT_TYPES)
    for entry in listing["event_types"]:
        event_type = EVENT_TYPES[entry["type"]]
        assert entry["dataschema"] == f"{BASE}/{event_type.schema_file}"
        assert entry["schema_id"] == event_type.schema_id
        served = gateway.get(entry["dataschema"])
        assert served.status_code == 200 and served.json()["$id"] == entry["schema_id"]


def test_every_schema_document_is_listed_with_its_id_and_url_the_common_definitions_too(gateway) -> None:
    documents = {entry["id"]: entry for entry in gateway.get("/api/v1/schemas").json()["documents"]}

    assert documents[COMMON_ID]["url"] == f"{BASE}/_common.json"
    assert gateway.get(documents[COMMON_ID]["url"]).json()["$id"] == COMMON_ID
    assert {t.schema_id for t in EVENT_TYPES.values()} | {COMMON_ID} == set(documents)


def test_the_event_names_the_listed_url_as_its_dataschema(gateway) -> None:
    event = samples.registered_event(1)
    listed = {entry["type"]: entry for entry in gateway.get("/api/v1/schemas").json()["event_types"]}

    assert published(event)["dataschema"] == listed[event.type]["dataschema"] == event.amqp_headers()["ce-dataschema"]


@pytest.mark.parametrize("which", ["registered", "routed"])
def test_a_published_event_validates_against_its_dataschema_with_a_registry_from_the_gateway_alone(gateway,
                                                                                                   which) -> None:
    registered = samples.registered_event(7)
    event = registered if which == "registered" else samples.routed_event(8, registered.subject)
    body = published(event)
    listing, registry = a_registry_from_the_gateway(gateway)
    schema = gateway.get(body["dataschema"]).json()  # the URL the event names
    assert any(COMMON_ID in reference for reference in _references(schema)), "the schema uses _common.json"

    validator = jsonschema_rs.validator_for(schema, registry=registry, validate_formats=True)

    validator.validate(body["data"])
    wrong = {**body["data"], "petition_id": "not-a-uuid"}  # a format defined in _common.json: the $ref resolved
    assert not validator.is_valid(wrong)


def test_a_retriever_that_knows_only_the_listing_resolves_the_common_definitions(gateway) -> None:
    body = published(samples.registered_event(9))
    urls = {entry["id"]: entry["url"] for entry in gateway.get("/api/v1/schemas").json()["documents"]}
    fetched: list[str] = []

    def retrieve(uri: str) -> Any:  # an integrator's: `$id` -> the listed URL -> an HTTP GET
        fetched.append(uri)
        return gateway.get(urls[uri]).json()

    validator = jsonschema_rs.validator_for(gateway.get(body["dataschema"]).json(), retriever=retrieve,
                                            validate_formats=True)

    validator.validate(body["data"])
    assert fetched == [COMMON_ID]


def test_without_the_setting_the_dataschema_is_the_development_gateways(monkeypatch) -> None:
    monkeypatch.delenv(SCHEMA_BASE_URL_VARIABLE, raising=False)

    event = samples.registered_event(1)

    assert DEFAULT_SCHEMA_BASE_URL == "http://127.0.0.1:8000/api/v1/schemas"  # `make run`'s gateway
    assert published(event)["dataschema"] == f"{DEFAULT_SCHEMA_BASE_URL}/petition.registered.v2.json"


def _references(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for value in node.values() for r in _references(value)]
    if isinstance(node, list):
        return [r for value in node for r in _references(value)]
    return []
