"""The AsyncAPI 3.0 document of the integration events, generated from the catalogue and its JSON Schemas.

Served at GET /api/v1/asyncapi.json (services/gateway/routes/contract.py). It is written from the county's point of
view: the operations say what the county sends (`<ns>.events`, `<ns>.province.outbound`) and what it receives
(`<ns>.province.inbound`); an integrator does the reverse. One channel per exchange: its address is the routing
key, which is the CloudEvents `type` (a parameter listing the types on that exchange). One message per published
type (withdrawn types are left out): the body is the whole event in CloudEvents structured mode
(`application/cloudevents+json`), its `data` described by the type's data schema, which is listed once under
`components.schemas` with the `_common.json` definitions inlined (so the document refers to nothing outside itself);
the headers are the attributes mirrored as in the CloudEvents RabbitMQ binding (`ce-id`, `ce-type`, ...).

The output is deterministic (sorted types and schemas), so it can be compared and cached.
"""

from __future__ import annotations

from typing import Any

from shared.language.integration import envelope
from shared.language.integration.catalog import EVENT_TYPES, WITHDRAWN, EventType, _inline_common

ASYNCAPI_VERSION = "3.0.0"
AMQP_BINDING_VERSION = "0.3.0"
CONTENT_TYPE = envelope.CONTENT_TYPE  # application/cloudevents+json: structured mode
HEADER_PREFIX = envelope.HEADER_PREFIX  # ce-: the CloudEvents RabbitMQ binding's (the cloudevents SDK's)
DEFAULT_HOST = "rabbitmq:5672"
SERVER = "broker"

# Every exchange the catalogue names (EventType.exchange): what the county does on it, and what it is for.
SEND, RECEIVE = "send", "receive"
EXCHANGES: dict[str, tuple[str, str]] = {
    "events": (SEND, "What happens to each petition, as the county publishes it: no personal data, no free text. "
                     "Every integrator may bind its own queue to it with the types (or `cn.xinfang.#`) it needs."),
    "province.inbound": (RECEIVE, "Matters a province transfers or assigns to the county (上级转送 / 交办). Only the "
                                  "province's own broker user may publish here; only the county's intake reads it."),
    "province.outbound": (SEND, "The county's answers to the province that sent a matter: the receipt, the "
                                "acceptance or decline, the progress report and the completion report (办结报告), "
                                "each tied to the province's reference number and addressed by the `recipient` "
                                "attribute. Only provinces' broker users may bind it."),
}

DESCRIPTION = """\
The integration events of the petition platform (信访事项处理平台): CloudEvents 1.0 over AMQP 0-9-1 (RabbitMQ).

This document is written from the county platform's point of view: an operation with `action: send` is what the
county publishes (integrators receive it: bind a queue of your own to the exchange with the routing keys you need),
an operation with `action: receive` is what the county takes (a province sends it: publish to that exchange).

- Exchanges: topic, durable, named `<namespace>.<channel>` (see each channel's AMQP binding).
- Routing key: the CloudEvents `type`, e.g. `cn.xinfang.petition.registered.v2`.
- Body: the whole event in structured mode, `application/cloudevents+json`, UTF-8. Its `data` follows the type's
  JSON Schema, also served at `/api/v1/schemas/<file>` and named by the event's `dataschema` attribute.
- Headers: every attribute but `datacontenttype` mirrored with the `ce-` prefix of the CloudEvents RabbitMQ
  binding (times as in the body), so a consumer may filter, or read the event with the cloudevents SDK's binary
  mode, without parsing the body. The AMQP properties `message_id`, `type` and `correlation_id` carry the id, the
  type and the correlation id; `content_type` is `application/cloudevents+json`; messages are persistent
  (delivery mode 2).
- The county also takes a province's message in binary mode: the attributes in `ce-` headers, the data alone in the
  body, `content_type` `application/json`.
- Delivery is at least once: deduplicate on (`source`, `id`).
- A new version of a type is a new message (`...v2`), published beside the old one during a deprecation window.

See docs/integration-events.md for broker users, catching up after an outage and the dead-letter rules.
"""

# The attributes every event the county publishes carries, in the body and mirrored in the headers.
_ATTRIBUTES: dict[str, dict[str, Any]] = {
    "specversion": {"type": "string", "const": "1.0", "description": "The CloudEvents version."},
    "id": {"type": "string", "minLength": 1,
           "description": "The event's id; with `source` it identifies the event (deduplicate on the pair)."},
    "source": {"type": "string", "minLength": 1, "format": "uri-reference",
               "description": "Who published it: `urn:xinfang:<county code>:<service>` for the county, "
                              "`urn:xinfang:province:<province code>` for a province."},
    "type": {"type": "string", "description": "The event type, also the routing key."},
    "subject": {"type": "string", "minLength": 1, "description": "The petition (or matter) the event is about."},
    "time": {"type": "string", "format": "date-time", "description": "When it happened (RFC 3339)."},
    "dataschema": {"type": "string", "format": "uri",
                   "description": "The URL the JSON Schema of `data` is served at (`/api/v1/schemas/<file>`)."},
    "correlationid": {"type": "string", "minLength": 1,
                      "description": "The same for every event of one petition's story."},
}
_OPTIONAL: dict[str, dict[str, Any]] = {
    "causationid": {"type": "string", "description": "The id of the event that caused this one."},
    "sequence": {"type": "string", "pattern": "^[0-9]+$",
                 "description": "The event's position in its source's store; with `source` it identifies the event."},
}
_DATACONTENTTYPE = {"type": "string", "const": envelope.BINARY_CONTENT_TYPE}  # the body's only: the AMQP content_type
_RECIPIENT = {"type": "string", "minLength": 1,
              "description": "The province the answer is for: the `source` of the matter it answers."}
# What the county requires of a message it receives (envelope.IntegrationEvent.from_json: it does not check
# `dataschema`, a province may name its own copy); `time` and `dataschema` are always present in what it sends.
_REQUIRED_RECEIVED = ("specversion", "id", "source", "type", "subject", "correlationid", "data")
_REQUIRED_SENT = (*_REQUIRED_RECEIVED, "time", "dataschema", "datacontenttype")


def published_types() -> list[EventType]:
    """The types the document lists: every type of the catalogue not withdrawn, sorted by type."""
    return sorted((t for t in EVENT_TYPES.values() if t not in WITHDRAWN), key=lambda t: t.type)


def schema_key(event_type: EventType) -> str:
    """The type's data schema's name under `components.schemas`, e.g. `case.step.v2`."""
    return event_type.schema_file.removesuffix(".json")


def document(namespace: str = "xinfang", schema_base_url: str | None = None, host: str = DEFAULT_HOST,
             protocol: str = "amqp") -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document of a deployment whose exchanges start with `namespace`, on the broker at `host`
    (`protocol` amqp or amqps). `schema_base_url` is where the schemas are served (e.g.
    `https://county.example/api/v1/schemas`): the `dataschema` the county's events carry, and each message's link to
    its schema; by default the configured one (envelope.schema_base_url, XINFANG_SCHEMA_BASE_URL)."""
    base_url = (schema_base_url or envelope.schema_base_url()).rstrip("/")
    types = published_types()
    unknown = {t.exchange for t in types} - EXCHANGES.keys()
    if unknown:
        raise ValueError(f"exchange(s) {sorted(unknown)} not described in asyncapi.EXCHANGES")
    exchanges = [name for name in EXCHANGES if any(t.exchange == name for t in types)]
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "信访事项处理平台 integration events",
            "version": "1.0.0",
            "description": DESCRIPTION,
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            SERVER: {
                "host": host,
                "protocol": protocol,
                "protocolVersion": "0-9-1",
                "description": "The county's RabbitMQ broker. Each integrator has a broker user of its own "
                               "(docs/integration-events.md).",
            },
        },
        "channels": {name: _channel(namespace, name, [t for t in types if t.exchange == name]) for name in exchanges},
        "operations": {_operation_id(name): _operation(namespace, name, [t for t in types if t.exchange == name])
                       for name in exchanges},
        "components": {
            "messages": {t.type: _message(t, base_url) for t in types},
            "schemas": {schema_key(t): _data_schema(t) for t in sorted(types, key=schema_key)},
        },
    }


def _action(exchange: str) -> str:
    return EXCHANGES[exchange][0]


def _operation_id(exchange: str) -> str:
    return f"{_action(exchange)}.{exchange}"


def _channel(namespace: str, exchange: str, types: list[EventType]) -> dict[str, Any]:
    return {
        "address": "{type}",
        "title": f"{namespace}.{exchange}",
        "description": EXCHANGES[exchange][1],
        "parameters": {
            "type": {
                "description": "The routing key: the CloudEvents `type` of the message.",
                "enum": [t.type for t in types],
                "location": "$message.payload#/type",
            },
        },
        "messages": {t.type: {"$ref": f"#/components/messages/{t.type}"} for t in types},
        "servers": [{"$ref": f"#/servers/{SERVER}"}],
        "bindings": {
            "amqp": {
                "is": "routingKey",
                "exchange": {"name": f"{namespace}.{exchange}", "type": "topic", "durable": True,
                             "autoDelete": False, "vhost": "/"},
                "bindingVersion": AMQP_BINDING_VERSION,
            },
        },
    }


def _operation(namespace: str, exchange: str, types: list[EventType]) -> dict[str, Any]:
    action = _action(exchange)
    if action == SEND:
        summary = f"The county publishes these events on {namespace}.{exchange}; integrators receive them."
        binding: dict[str, Any] = {"deliveryMode": 2, "mandatory": False, "timestamp": True}
    else:
        summary = f"The county receives these events on {namespace}.{exchange}; a province sends them."
        binding = {"ack": True}
    return {
        "action": action,
        "channel": {"$ref": f"#/channels/{exchange}"},
        "summary": summary,
        "messages": [{"$ref": f"#/channels/{exchange}/messages/{t.type}"} for t in types],
        "bindings": {"amqp": {**binding, "bindingVersion": AMQP_BINDING_VERSION}},
    }


def _message(event_type: EventType, base_url: str) -> dict[str, Any]:
    sent = _action(event_type.exchange) == SEND
    title = str(event_type.schema.get("title", event_type.type))
    message: dict[str, Any] = {
        "name": event_type.type,
        "title": title,
        "summary": f"{event_type.type}: {title}",
        "contentType": CONTENT_TYPE,
        "headers": _headers(event_type, base_url, sent),
        "payload": _envelope(event_type, base_url, sent),
        "correlationId": {"description": "The same for every event of one petition's story.",
                          "location": "$message.payload#/correlationid"},
        "bindings": {"amqp": {"contentEncoding": "utf-8", "messageType": event_type.type,
                              "bindingVersion": AMQP_BINDING_VERSION}},
        "externalDocs": {"description": f"The data schema (JSON Schema draft 2020-12, `$id` {event_type.schema_id})",
                         "url": event_type.dataschema_at(base_url)},
    }
    if not sent:
        message["description"] = (
            "Publish it persistent (delivery mode 2) with the type as routing key, in structured mode as described "
            "here, or in binary mode (the attributes in `ce-` headers, the data alone in the body, `content_type` "
            "`application/json`). The county validates `data` against the schema; an invalid message, or one from a "
            "`source` that is not an allowed province, is dead-lettered with the reason.")
    return message


def _attributes(event_type: EventType, base_url: str, sent: bool) -> dict[str, dict[str, Any]]:
    """The attributes with the values this type fixes: its type, and in what the county sends its schema's URL."""
    attributes = {**_ATTRIBUTES, **_OPTIONAL, "type": {**_ATTRIBUTES["type"], "const": event_type.type}}
    if sent:
        attributes["dataschema"] = {**_ATTRIBUTES["dataschema"], "const": event_type.dataschema_at(base_url)}
    if event_type.exchange == "province.outbound":
        attributes["recipient"] = _RECIPIENT
    return attributes


def _headers(event_type: EventType, base_url: str, sent: bool) -> dict[str, Any]:
    properties = {f"{HEADER_PREFIX}{name}": schema for name, schema in _attributes(event_type, base_url, sent).items()}
    headers: dict[str, Any] = {
        "type": "object",
        "description": "The CloudEvents attributes but `datacontenttype`, mirrored as AMQP headers with the `ce-` "
                       "prefix of the CloudEvents RabbitMQ binding."
                       + (" In structured mode the body is authoritative." if sent
                          else " Optional in structured mode (the county reads the body); binary mode needs them."),
        "properties": dict(sorted(properties.items())),
    }
    if sent:
        required = [*_ATTRIBUTES, *(("recipient",) if event_type.exchange == "province.outbound" else ())]
        headers["required"] = sorted(f"{HEADER_PREFIX}{name}" for name in required)
    return headers


def _envelope(event_type: EventType, base_url: str, sent: bool) -> dict[str, Any]:
    properties = {**_attributes(event_type, base_url, sent),
                  "datacontenttype": _DATACONTENTTYPE if sent else {"type": "string", "description": "JSON"},
                  "data": {"$ref": f"#/components/schemas/{schema_key(event_type)}"}}
    required = list(_REQUIRED_SENT if sent else _REQUIRED_RECEIVED)
    if event_type.exchange == "province.outbound":
        required.append("recipient")
    return {
        "type": "object",
        "description": "The event in CloudEvents structured mode.",
        "required": sorted(required),
        "properties": dict(sorted(properties.items())),
    }


def _data_schema(event_type: EventType) -> dict[str, Any]:
    """The type's data schema with the shared definitions inlined. The published schemas use draft-07's vocabulary
    only, so they are valid AsyncAPI Schema Objects once their draft 2020-12 `$schema` is left out."""
    schema = _inline_common(event_type.schema)
    return {key: value for key, value in schema.items() if key != "$schema"}
