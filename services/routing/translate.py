"""The published language ↔ routing: incoming integration events as typed values, routing's domain events as
integration events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from services.routing.domainmodel import Assignment
from shared.language.contracts.actor import Role
from shared.language.integration.catalog import PETITION_ROUTED
from shared.language.integration.envelope import IntegrationEvent, event_id, published_actor


@dataclass(frozen=True)
class RegisteredPetition:
    """What routing reads of a `petition.registered`: the facts its rules look at."""

    petition_id: UUID
    category: str
    topic: str | None
    place_code: str
    flags: tuple[str, ...]
    received_by_organ: bool  # registered by an organ's officer (S2'): the organ decides itself

    @classmethod
    def of(cls, event: IntegrationEvent) -> RegisteredPetition:
        data = event.data
        return cls(petition_id=UUID(data["petition_id"]), category=data["category"], topic=data.get("topic"),
                   place_code=data["place_code"], flags=tuple(data.get("flags", [])),
                   received_by_organ=(data.get("actor") or {}).get("role") == Role.ORGAN_OFFICER)


@dataclass(frozen=True)
class UpheldObjection:
    """What routing reads of a `case.objection_upheld`: whether the bureau named the new organ, and whom to pass
    over (2022 Regulations Art. 23 para. 3)."""

    petition_id: UUID
    organ_named: bool
    excluded_organs: frozenset[str]

    @classmethod
    def of(cls, event: IntegrationEvent) -> UpheldObjection:
        details = event.data["details"]
        return cls(petition_id=UUID(event.data["petition_id"]), organ_named=details.get("organ") is not None,
                   excluded_organs=frozenset(details.get("excluded_organs", [])))


# The domain events this module publishes (the relay skips every other event without decoding it).
TRANSLATED = (Assignment.Routed, Assignment.Rerouted)


def to_integration_event(domain_event: Any, sequence: int, source: str) -> IntegrationEvent | None:
    if not isinstance(domain_event, TRANSLATED) or domain_event.disposition == "bureau_triage":
        return None  # left for the bureau's clerks: the case stays in triage, nothing to tell anyone
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
