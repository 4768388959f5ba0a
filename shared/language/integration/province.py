"""The county's answers to a province that sent it a matter (上级转送 / 交办), as integration events.

Each answer is published beside the county's own event that caused it (the registration, a lifecycle step), from
the same stored event, on `<ns>.province.outbound` (EventType.exchange), which only provinces' broker users may
bind. An answer carries the province's reference number, and the CloudEvents extension `recipient`: the `source`
of the province that sent the matter. Its id is derived from its cause's id and its type, so a re-published answer
keeps its id; it has no `sequence` (its cause has that one): deduplicate answers by `id`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from shared.language.integration.catalog import EventType
from shared.language.integration.envelope import EVENT_ID_NAMESPACE, IntegrationEvent


def answer_to_province(cause: IntegrationEvent, event_type: EventType, data: dict[str, Any],
                       matter: Mapping[str, Any]) -> IntegrationEvent:
    """The answer of `event_type` with `data` to the province whose `matter` (the petition's `provincial` facts:
    its source and event id) `cause` answers."""
    return IntegrationEvent(
        id=str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{cause.id}/{event_type.type}")),
        source=cause.source,
        event_type=event_type,
        subject=cause.subject,
        time=cause.time,
        data=data,
        correlation_id=cause.correlation_id,
        causation_id=cause.id,
        extra={"recipient": matter["source"]},
    )
