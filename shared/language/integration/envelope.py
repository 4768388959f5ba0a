"""CloudEvents 1.0 envelopes for integration events, and their mapping onto AMQP 0-9-1.

CloudEvents has no official AMQP 0-9-1 binding, so we use *structured* mode: the body is the whole event as
`application/cloudevents+json`. The attributes are mirrored into message headers named like the AMQP 1.0
binding (`cloudEvents_id`, `cloudEvents_type`, ...) so brokers and integrators can filter without parsing the
body; `message_id`, `type` and `correlation_id` carry the id, type and correlation id as well.
Extensions: `correlationid`, `causationid` (which event caused this one) and `sequence` (the event's position
in its source store; with `source` it identifies the event exactly as `id` does).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jsonschema_rs
from cloudevents.core.exceptions import BaseCloudEventException
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from eventsourcing.persistence import Tracking

from shared.language.integration.catalog import EVENT_TYPES, EventType

CONTENT_TYPE = JSONFormat.CONTENT_TYPE  # application/cloudevents+json
_FORMAT = JSONFormat()
# Event ids are derived, not random, so re-publishing a stored event yields the same id.
EVENT_ID_NAMESPACE = uuid.UUID("6f1c3f5e-2b4a-5d7e-9c1a-3e5f7a9b1c2d")


class InvalidIntegrationEvent(ValueError):
    """A message that is not a valid event of our published language (it is parked, never retried)."""


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
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "specversion": "1.0",
            "time": self.time,
            "subject": self.subject,
            "dataschema": self.event_type.dataschema,
            "datacontenttype": "application/json",
            "correlationid": self.correlation_id,
        }
        if self.causation_id:
            attributes["causationid"] = self.causation_id
        if self.sequence is not None:
            attributes["sequence"] = str(self.sequence)
        return CloudEvent(attributes, self.data)

    def to_json(self) -> bytes:
        return _FORMAT.write(self.to_cloudevent())

    def amqp_headers(self) -> dict[str, Any]:
        return {
            "cloudEvents_specversion": "1.0",
            "cloudEvents_id": self.id,
            "cloudEvents_source": self.source,
            "cloudEvents_type": self.type,
            "cloudEvents_subject": self.subject,
            "cloudEvents_time": self.time.isoformat(),
            "cloudEvents_dataschema": self.event_type.dataschema,
            "cloudEvents_correlationid": self.correlation_id,
        }

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
        known = {"id", "source", "type", "specversion", "time", "subject", "dataschema", "datacontenttype",
                 "correlationid", "causationid", "sequence"}
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
            extra={k: v for k, v in attributes.items() if k not in known},
        )
        event.validate()
        return event


def published_actor(actor: dict[str, Any]) -> dict[str, Any]:
    """Who acted, as the events exchange may say it: the role and the organ, never the officer's user name
    (personal data of an official; the service's own store and the auditors' history keep it)."""
    return {"role": actor.get("role"), "organ": actor.get("organ")}
