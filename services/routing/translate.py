"""routing's domain events → the published language."""

from __future__ import annotations

from typing import Any

from services.routing.domainmodel import Assignment
from shared.language.integration.catalog import PETITION_ROUTED
from shared.language.integration.envelope import IntegrationEvent, event_id, published_actor

# The domain events this module publishes (the relay skips every other event without decoding it).
TRANSLATED = (Assignment.Routed, Assignment.Rerouted)


def to_integration_event(domain_event: Any, sequence: int, source: str) -> IntegrationEvent | None:
    if not isinstance(domain_event, TRANSLATED):
        return None
    petition_id = str(domain_event.originator_id)
    rerouted = isinstance(domain_event, Assignment.Rerouted)
    return IntegrationEvent(
        id=event_id(source, domain_event.originator_id, domain_event.originator_version),
        source=source,
        event_type=PETITION_ROUTED,
        subject=petition_id,
        time=domain_event.timestamp,
        data={
            "petition_id": petition_id,
            "disposition": domain_event.disposition,
            "organ": domain_event.organ,
            "joining_organs": domain_event.joining_organs,
            "where_to_go": domain_event.where_to_go,
            "basis": domain_event.basis,
            "rule_id": domain_event.rule_id,
            "rules_version": domain_event.rules_version,
            "routed_at": domain_event.timestamp.isoformat(),
            "reason": "objection_upheld" if rerouted else "registered",
            "excluded_organs": domain_event.excluded_organs if rerouted else [],
            "actor": published_actor(domain_event.actor),
        },
        correlation_id=domain_event.correlation_id,
        causation_id=domain_event.causation_id,
        sequence=sequence,
    )
