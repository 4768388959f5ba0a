"""CloudEvents 1.0 envelopes for integration events, and their mapping onto AMQP 0-9-1.

We publish in the *structured* mode of the CloudEvents RabbitMQ binding (the one the cloudevents SDK implements,
`cloudevents.core.bindings.rabbitmq`): the body is the whole event as `application/cloudevents+json`. Every
attribute but `datacontenttype` is mirrored into a message header named `ce-<attribute>`, its value the string the
SDK's binary mode writes (times exactly as in the body, e.g. `2026-11-26T07:40:28.509000Z`), so brokers and
integrators can filter and read the attributes without parsing the body; `message_id`, `type` and `correlation_id`
carry the id, type and correlation id as well. Inbound, a message in either mode is taken (`from_amqp`): structured,
or binary (the `ce-` headers, the data alone in the body, `content_type` `application/json`).
Extensions: `correlationid`, `causationid` (which event caused this one) and `sequence` (the event's position
in its source store; with `source` it identifies the event exactly as `id` does); others are kept in `extra`.
`dataschema` is the URL the gateway serves the data's JSON Schema at (XINFANG_SCHEMA_BASE_URL); the schema's
`$id` stays a URN, and GET /api/v1/schemas maps each `$id` to its URL.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jsonschema_rs
from cloudevents.core.bindings import rabbitmq
from cloudevents.core.exceptions import BaseCloudEventException
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from eventsourcing.persistence import Tracking

from shared.language.integration.catalog import EVENT_TYPES, EventType

CONTENT_TYPE = JSONFormat.CONTENT_TYPE  # application/cloudevents+json: structured mode
BINARY_CONTENT_TYPE = JSONFormat.DEFAULT_CONTENT_TYPE  # application/json: binary mode, the data alone in the body
HEADER_PREFIX = rabbitmq.CE_PREFIX  # ce-
_FORMAT = JSONFormat()
SCHEMA_BASE_URL_VARIABLE = "XINFANG_SCHEMA_BASE_URL"
# The gateway's public route in a development run (`make run`); a deployment sets its public address.
DEFAULT_SCHEMA_BASE_URL = "http://127.0.0.1:8000/api/v1/schemas"
_KNOWN = frozenset({"id", "source", "type", "specversion", "time", "subject", "dataschema", "datacontenttype",
                    "correlationid", "causationid", "sequence"})
# Event ids are derived, not random, so re-publishing a stored event yields the same id.
EVENT_ID_NAMESPACE = uuid.UUID("6f1c3f5e-2b4a-5d7e-9c1a-3e5f7a9b1c2d")


class InvalidIntegrationEvent(ValueError):
    """A message that is not a valid event of our published language (it is parked, never retried)."""


def schema_base_url() -> str:
    """Where integrators fetch the schemas: the gateway's `/api/v1/schemas` as they reach it."""
    return os.environ.get(SCHEMA_BASE_URL_VARIABLE, "").strip().rstrip("/") or DEFAULT_SCHEMA_BASE_URL


def dataschema_url(event_type: EventType) -> str:
    """The `dataschema` of this type's events: the URL its schema is served at."""
    return event_type.dataschema_at(schema_base_url())


def rfc3339(time: datetime) -> str:
    """A time as the SDK's JSON format writes `time` in the body (UTC as `Z`), for the header to say the same."""
    text = time.isoformat()
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text


def event_id(source: str, originator_id: uuid.UUID | str, originator_version: int) -> str:
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{source}/{originator_id}/{originator_version}"))


@dataclass(frozen=True)
class IntegrationEvent:
    id: str
    source: str
    event_type: EventType
    subject: str  # the petition id
    time: datetime
    data: dict[str, Any]
    correlation_id: str
    causation_id: str | None = None
    sequence: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def type(self) -> str:
        return self.event_type.type

    @property
    def tracking(self) -> Tracking:
        """The consumer's dedupe key: (source, sequence), or for a source that sends no sequence, a number
        derived from the id. Either identifies the event exactly as `id` does."""
        if self.sequence is not None:
            return Tracking(self.source, self.sequence)
        return Tracking(self.source, uuid.UUID(hex=uuid.uuid5(EVENT_ID_NAMESPACE, self.id).hex).int >> 65)

    def validate(self) -> None:
        try:
            self.event_type.validator.validate(self.data)
        except jsonschema_rs.ValidationError as error:
            path = "/".join(str(p) for p in error.instance_path) or "(root)"
            raise InvalidIntegrationEvent(f"{self.type} data invalid at {path}: {error.message}") from None

    def to_cloudevent(self) -> CloudEvent:
        attributes: dict[str, Any] = {
            **self.extra,  # extensions we do not know, kept as they came; never over ours
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "specversion": "1.0",
            "time": self.time,
            "subject": self.subject,
            "dataschema": dataschema_url(self.event_type),
            "datacontenttype": BINARY_CONTENT_TYPE,
            "correlationid": self.correlation_id,
        }
        if self.causation_id:
            attributes["causationid"] = self.causation_id
        if self.sequence is not None:
            attributes["sequence"] = str(self.sequence)
        return CloudEvent(attributes, self.data)

    def to_json(self) -> bytes:
        return _FORMAT.write(self.to_cloudevent())

    def amqp_headers(self) -> dict[str, str]:
        """`ce-<attribute>` for every attribute but `datacontenttype` (that is the AMQP `content_type`), each value
        the string the SDK's RabbitMQ binding writes (`rabbitmq.to_binary`), times as in the body."""
        headers: dict[str, str] = {}
        for name, value in self.to_cloudevent().get_attributes().items():
            if value is None or name == "datacontenttype":
                continue
            headers[f"{HEADER_PREFIX}{name}"] = rfc3339(value) if isinstance(value, datetime) else str(value)
        return headers

    def amqp_properties(self) -> dict[str, Any]:
        return {
            "message_id": self.id,
            "type": self.type,
            "correlation_id": self.correlation_id,
            "timestamp": int(self.time.timestamp()),
            "content_type": CONTENT_TYPE,
            "content_encoding": "utf-8",
            "delivery_mode": 2,  # persistent
        }

    @classmethod
    def from_amqp(cls, body: str | bytes, headers: Mapping[str, Any] | None,
                  content_type: str | None) -> IntegrationEvent:
        """Parse and validate a message in either mode of the CloudEvents RabbitMQ binding: structured (`content_type`
        `application/cloudevents+json`; or none, without `ce-` headers, as before) or binary (the attributes in
        `ce-` headers, the data alone in the body, a JSON `content_type`)."""
        content_type = (content_type or "").strip()
        attributes = {str(name).lower(): _header_text(value) for name, value in (headers or {}).items()
                      if str(name).lower().startswith(HEADER_PREFIX)}
        if content_type.lower().startswith("application/cloudevents") or (not content_type and not attributes):
            return cls.from_json(body)
        if not content_type:
            content_type = BINARY_CONTENT_TYPE  # binary mode without a content type: the data is JSON
        if not _FORMAT.JSON_CONTENT_TYPE_PATTERN.match(content_type):
            raise InvalidIntegrationEvent(f"content type {content_type[:100]!r} is neither structured CloudEvents "
                                          f"({CONTENT_TYPE}) nor JSON data in binary mode ({BINARY_CONTENT_TYPE})")
        # As in from_json: the SDK would invent a random id for a message without one.
        if not attributes.get(f"{HEADER_PREFIX}id") or not attributes.get(f"{HEADER_PREFIX}source"):
            raise InvalidIntegrationEvent("not a CloudEvent: in binary mode the ce-id and ce-source headers are "
                                          "required")
        message = rabbitmq.RabbitMQMessage(headers=attributes, content_type=content_type,
                                           body=body.encode("utf-8") if isinstance(body, str) else bytes(body))
        try:
            cloudevent = rabbitmq.from_binary(message, _FORMAT)
        except (BaseCloudEventException, ValueError, TypeError, KeyError, AttributeError, OverflowError) as error:
            raise InvalidIntegrationEvent(f"not a valid CloudEvent: {error}"[:300]) from None
        return cls._from_cloudevent(cloudevent)

    @classmethod
    def from_json(cls, body: str | bytes) -> IntegrationEvent:
        """Parse and validate a structured-mode CloudEvent of a known type."""
        try:
            raw = json.loads(body)
        except (ValueError, TypeError, RecursionError) as error:
            raise InvalidIntegrationEvent(f"not JSON: {type(error).__name__}: {error}"[:300]) from None
        # The SDK would invent a random id for a message without one, defeating every consumer's dedupe.
        if not isinstance(raw, dict) or not raw.get("id") or not raw.get("source"):
            raise InvalidIntegrationEvent("not a CloudEvent: a JSON object with id and source is required")
        try:
            cloudevent = _FORMAT.read(None, body)
        except (BaseCloudEventException, ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:
            raise InvalidIntegrationEvent(f"not a valid CloudEvent: {error}") from None
        return cls._from_cloudevent(cloudevent)

    @classmethod
    def _from_cloudevent(cls, cloudevent: CloudEvent) -> IntegrationEvent:
        """Our event from a parsed CloudEvent. Its `dataschema` is not checked: ours is a URL (older messages carry
        the schema's URN), and a province may name its own copy; the data is validated against our schema."""
        attributes = dict(cloudevent.get_attributes())
        event_type = EVENT_TYPES.get(attributes.get("type", ""))
        if event_type is None:
            raise InvalidIntegrationEvent(f"unknown event type {attributes.get('type')!r}")
        data = cloudevent.get_data()
        if not isinstance(data, dict):
            raise InvalidIntegrationEvent("event data must be a JSON object")
        for required in ("subject", "correlationid"):
            if not attributes.get(required):
                raise InvalidIntegrationEvent(f"missing attribute {required!r}")
        sequence = attributes.get("sequence")
        try:
            sequence_number = int(sequence) if sequence is not None else None
        except ValueError:
            raise InvalidIntegrationEvent(f"sequence {sequence!r} is not an integer") from None
        time = attributes.get("time") or datetime.now(UTC)
        event = cls(
            id=attributes["id"],
            source=attributes["source"],
            event_type=event_type,
            subject=attributes["subject"],
            time=time,
            data=data,
            correlation_id=attributes["correlationid"],
            causation_id=attributes.get("causationid"),
            sequence=sequence_number,
            extra={k: v for k, v in attributes.items() if k not in _KNOWN},
        )
        event.validate()
        return event


def _header_text(value: Any) -> str:
    """An AMQP header value as the binding's string (a client may hand a long string over as bytes)."""
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidIntegrationEvent("a ce- header is not UTF-8 text") from None
    return value if isinstance(value, str) else str(value)


def published_actor(actor: dict[str, Any]) -> dict[str, Any]:
    """Who acted, as the events exchange may say it: the role and the organ, never the officer's user name
    (personal data of an official; the service's own store and the auditors' history keep it)."""
    return {"role": actor.get("role"), "organ": actor.get("organ")}
