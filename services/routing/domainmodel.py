"""routing's aggregate: where a petition is sent, and why."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from shared.language.contracts.actor import Actor


class Assignment(Aggregate):
    """The routing of one petition (its id is the petition's id).

    Transfer (转送) is the default disposition: the bureau passes the item to the competent organ, which then
    owns acceptance and handling (2022 Regulations Art. 22(1)-(2); docs/domain.md §"Routing"). After an upheld
    objection (异议成立, Art. 23 para. 3) the petition is routed again, passing over the objecting organs.
    """

    @staticmethod
    def create_id(petition_id: UUID) -> UUID:  # type: ignore[override]
        return petition_id

    class Routed(Aggregate.Created):
        # v2 added every disposition, joining organs and where to go (the lifecycle); v1 histories are upcast.
        class_version = 2

        petition_id: UUID
        facts: dict[str, Any] | None  # what the rules looked at: category, topic, place_code, flags
        organ: dict[str, str] | None
        joining_organs: list[dict[str, str]]
        where_to_go: str | None
        disposition: str
        basis: str
        rule_id: str
        rules_version: str
        actor: dict[str, Any]
        correlation_id: str
        causation_id: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.update(facts=None, joining_organs=[], where_to_go=None)

    @classmethod
    def route(cls, *, actor: Actor, **decision: Any) -> Assignment:
        """The first routing of a petition: `decision` holds the Routed event's fields but the actor."""
        return cls(actor=actor.model_dump(), **decision)  # stored as a plain record

    @event(Routed)
    def __init__(
        self,
        *,
        petition_id: UUID,
        facts: dict[str, Any] | None,
        organ: dict[str, str] | None,
        joining_organs: list[dict[str, str]],
        where_to_go: str | None,
        disposition: str,
        basis: str,
        rule_id: str,
        rules_version: str,
        actor: dict[str, Any],
        correlation_id: str,
        causation_id: str,
    ) -> None:
        self.facts = facts
        self.excluded_organs: list[str] = []
        self.rerouted_for: list[str] = []  # the integration events (objections upheld) already acted on
        self._decided(organ, disposition, basis, rule_id, rules_version)

    def reroute(self, *, actor: Actor, **decision: Any) -> None:
        """Routed again after an upheld objection: `decision` holds the Rerouted event's fields but the actor."""
        self._reroute(actor=actor.model_dump(), **decision)

    @event("Rerouted")
    def _reroute(self, *, organ: dict[str, str] | None, joining_organs: list[dict[str, str]],
                 where_to_go: str | None, disposition: str, basis: str, rule_id: str, rules_version: str,
                 excluded_organs: list[str], actor: dict[str, Any], correlation_id: str, causation_id: str) -> None:
        self.excluded_organs = list(excluded_organs)
        self.rerouted_for.append(causation_id)
        self._decided(organ, disposition, basis, rule_id, rules_version)

    def _decided(self, organ: dict[str, str] | None, disposition: str, basis: str, rule_id: str,
                 rules_version: str) -> None:
        self.organ = organ
        self.disposition = disposition
        self.basis = basis
        self.rule_id = rule_id
        self.rules_version = rules_version
