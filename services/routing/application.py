"""routing's use cases: route a registered petition by the rules, exactly once; route it again, passing over
the objecting organs, when the bureau upholds an objection without naming the organ itself."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from prometheus_client import Counter

from services.routing.domainmodel import Assignment
from services.routing.rules import RoutingDecision, RoutingRules
from services.routing.translate import RegisteredPetition, UpheldObjection
from shared.language.contracts.actor import ROUTING_RULES
from shared.language.integration.envelope import IntegrationEvent
from shared.runtime.eventstore import NotYet, ServiceApplication
from shared.runtime.settings import PlatformSettings

log = logging.getLogger(__name__)

DECISIONS = Counter("xinfang_routing_decisions_total", "Routing decisions, by the rule that decided", ["rule"])


class NotRoutedYet(NotYet):
    """A re-routing request arrived before the petition's first routing; it is retried shortly."""


def _decision_fields(decision: RoutingDecision) -> dict[str, Any]:
    return {"organ": decision.organ, "joining_organs": decision.joining_organs, "where_to_go": decision.where_to_go,
            "disposition": decision.disposition, "basis": decision.basis, "rule_id": decision.rule_id,
            "rules_version": decision.rules_version}


class RoutingApplication(ServiceApplication):
    name = "Routing"
    service_name = "routing"

    def __init__(self, settings: PlatformSettings, rules: RoutingRules, env: dict[str, str] | None = None) -> None:
        super().__init__(settings, env)
        self.rules = rules

    def route_registered_petition(self, event: IntegrationEvent, petition: RegisteredPetition,
                                  accused_organs: Sequence[str] = ()) -> str:
        """Decide the disposition and organ for a `petition.registered` event; a redelivery changes nothing. A
        report is never routed to an organ it accuses (`accused_organs`, from intake; 2022 Regulations Art. 30)."""
        if petition.received_by_organ:
            # Received directly by an organ (S2'): the organ decides itself; the rules have nothing to route.
            return self.process(event.tracking, lambda: [], key=event.subject)
        facts = {"category": petition.category, "topic": petition.topic, "place_code": petition.place_code,
                 "flags": list(petition.flags), "accused_organs": list(accused_organs)}
        decision = self.rules.decide(category=petition.category, topic=petition.topic,
                                     place_code=petition.place_code, flags=petition.flags,
                                     excluding=frozenset(accused_organs))

        def decide() -> list[Assignment]:
            return [Assignment.route(
                petition_id=petition.petition_id, facts=facts, **_decision_fields(decision),
                actor=ROUTING_RULES, correlation_id=event.correlation_id, causation_id=event.id,
            )]

        outcome = self.process(event.tracking, decide, key=event.subject)
        DECISIONS.labels(decision.rule_id).inc()
        return outcome

    def reroute_after_objection(self, event: IntegrationEvent, objection: UpheldObjection) -> str:
        """A `case.objection_upheld` without a named organ: route again by the rules, passing over every organ
        whose objection was upheld (2022 Regulations Art. 23 para. 3)."""
        if objection.organ_named:  # the bureau named the new organ itself: nothing to decide
            return self.process(event.tracking, lambda: [], key=event.subject)
        petition_id = str(objection.petition_id)

        def decide() -> list[Assignment]:
            try:
                assignment: Assignment = self.repository.get(objection.petition_id)
            except AggregateNotFoundError:
                raise NotRoutedYet(petition_id) from None
            if event.id in assignment.rerouted_for:
                return []
            facts = assignment.facts
            if facts is None:  # routed before the rules kept their facts: a clerk re-routes it by hand
                log.warning("petition %s: no routing facts recorded; left for the bureau", petition_id)
                return []
            decision = self.rules.decide(category=facts["category"], topic=facts["topic"],
                                         place_code=facts["place_code"], flags=tuple(facts["flags"]),
                                         excluding=objection.excluded_organs | set(assignment.excluded_organs)
                                         | set(facts.get("accused_organs", [])), rerouting=True)
            assignment.reroute(**_decision_fields(decision), excluded_organs=sorted(objection.excluded_organs),
                               actor=ROUTING_RULES, correlation_id=event.correlation_id, causation_id=event.id)
            DECISIONS.labels(decision.rule_id).inc()
            return [assignment]

        return self.process(event.tracking, decide, key=event.subject)
