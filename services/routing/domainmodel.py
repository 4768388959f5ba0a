"""routing's aggregate: where a petition is sent, and why."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event


class Assignment(Aggregate):
    """The routing of one petition (its id is the petition's id).

    Transfer (转送) is the default disposition: the bureau passes the item to the competent organ, which then
    owns acceptance and handling (2022 Regulations Art. 22(1)-(2); xinfang-domain.md §4.2).
    """

    @staticmethod
    def create_id(petition_id: UUID) -> UUID:  # type: ignore[override]
        return petition_id

    @event("Routed")
    def __init__(
        self,
        *,
        petition_id: UUID,
        organ: dict[str, str],
        disposition: str,
        basis: str,
        rule_id: str,
        rules_version: str,
        actor: dict[str, Any],
        correlation_id: str,
        causation_id: str,
    ) -> None:
        self.organ = organ
        self.disposition = disposition
        self.basis = basis
        self.rule_id = rule_id
        self.rules_version = rules_version
