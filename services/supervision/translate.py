"""supervision's domain events → the published language."""

from __future__ import annotations

from typing import Any

from services.supervision.domainmodel import Case
from shared.integration.catalog import CASE_OPENED
from shared.integration.envelope import IntegrationEvent, event_id

# The domain events this module publishes (the relay skips every other event without decoding it).
TRANSLATED = (Case.Opened,)


def to_integration_event(domain_event: Any, sequence: int, source: str) -> IntegrationEvent | None:
    if not isinstance(domain_event, Case.Opened):
        return None
    petition_id = str(domain_event.originator_id)
    return IntegrationEvent(
        id=event_id(source, domain_event.originator_id, domain_event.originator_version),
        source=source,
        event_type=CASE_OPENED,
        subject=petition_id,
        time=domain_event.timestamp,
        data={
            "petition_id": petition_id,
            "opened_at": domain_event.timestamp.isoformat(),
            "deadlines": [
                {k: d[k] for k in ("kind", "due", "basis", "provisional")} for d in domain_event.deadlines
            ],
        },
        correlation_id=domain_event.correlation_id,
        causation_id=domain_event.causation_id,
        sequence=sequence,
    )
