"""notification's domain events → the published language."""

from __future__ import annotations

from typing import Any

from services.notification.domainmodel import DELIVERED, Delivery
from shared.language.integration.catalog import NOTICE_DELIVERED
from shared.language.integration.envelope import IntegrationEvent, event_id

# The domain events this module publishes (the relay skips every other event without decoding it).
TRANSLATED = (Delivery.Concluded,)


def to_integration_event(domain_event: Any, sequence: int, source: str) -> IntegrationEvent | None:
    if not isinstance(domain_event, Delivery.Concluded) or domain_event.outcome != DELIVERED:
        return None
    return IntegrationEvent(
        id=event_id(source, domain_event.originator_id, domain_event.originator_version),
        source=source,
        event_type=NOTICE_DELIVERED,
        subject=domain_event.petition_id,
        time=domain_event.timestamp,
        data={
            "notice_id": str(domain_event.notice_id),
            "petition_id": domain_event.petition_id,
            "kind": domain_event.kind,
            "title": domain_event.title,
            "channel": domain_event.channel,
            "delivered_at": domain_event.at,
        },
        correlation_id=domain_event.correlation_id,
        # Caused by the notice's request: the id that event (version 1) has in this store's id scheme.
        causation_id=event_id(source, domain_event.notice_id, 1),
        sequence=sequence,
    )
