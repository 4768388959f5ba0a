"""routing's use case: route a registered petition to the responsible organ, exactly once."""

from __future__ import annotations

from uuid import UUID

from prometheus_client import Counter

from services.routing.domainmodel import Assignment
from services.routing.rules import RoutingRules
from shared.eventstore import ServiceApplication
from shared.integration.envelope import IntegrationEvent
from shared.settings import PlatformSettings

DECISIONS = Counter("xinfang_routing_decisions_total", "Routing decisions, by the rule that decided", ["rule"])
SYSTEM_ACTOR = {"role": "system", "user": "routing-rules", "organ": None}


class RoutingApplication(ServiceApplication):
    name = "Routing"
    service_name = "routing"

    def __init__(self, settings: PlatformSettings, rules: RoutingRules, env: dict[str, str] | None = None):
        super().__init__(settings, env)
        self.rules = rules

    def route_registered_petition(self, event: IntegrationEvent) -> str:
        """Decide the organ for a `petition.registered` event; a redelivery changes nothing."""
        petition = event.data
        decision = self.rules.decide(
            category=petition["category"], topic=petition.get("topic"), place_code=petition["place_code"]
        )

        def decide() -> list[Assignment]:
            return [Assignment(
                petition_id=UUID(petition["petition_id"]),
                organ={"code": decision.organ_code, "name": decision.organ_name},
                disposition="transfer",
                basis=decision.basis,
                rule_id=decision.rule_id,
                rules_version=decision.rules_version,
                actor=SYSTEM_ACTOR,
                correlation_id=event.correlation_id,
                causation_id=event.id,
            )]

        outcome = self.process(event.tracking, decide, key=event.subject)
        DECISIONS.labels(decision.rule_id).inc()
        return outcome
