"""supervision's aggregate: the case, i.e. the handling lifecycle of one petition."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

STATUS_TEXT = {
    "registered": "已登记",
    "transferred": "已转送，待有权处理机关受理",
}


class Case(Aggregate):
    """One petition under supervision (its id is the petition's id)."""

    @staticmethod
    def create_id(petition_id: UUID) -> UUID:  # type: ignore[override]
        return petition_id

    @event("Opened")
    def __init__(
        self,
        *,
        petition_id: UUID,
        query_code: str,
        title: str,
        category: str,
        channel: str,
        place_code: str,
        at: str,  # when the petition was registered (ISO 8601)
        deadlines: list[dict[str, Any]],
        correlation_id: str,
        causation_id: str,
    ) -> None:
        self.query_code = query_code
        self.status = "registered"
        self.deadlines = deadlines
        self.organ: dict[str, str] | None = None
        self.notices: list[dict[str, str]] = []

    @event("OrganAssigned")
    def assign_organ(
        self, *, organ: dict[str, str], basis: str, rules_version: str, at: str, correlation_id: str,
        causation_id: str,
    ) -> None:
        """The petition was transferred (转送) to the competent organ; it now awaits acceptance."""
        self.organ = organ
        self.status = "transferred"

    def has_notice(self, notice_id: str) -> bool:
        return any(n["notice_id"] == notice_id for n in self.notices)

    @event("NoticeDelivered")
    def record_notice(
        self, *, notice_id: str, kind: str, title: str, channel: str, at: str, correlation_id: str, causation_id: str
    ) -> None:
        self.notices.append({"notice_id": notice_id, "kind": kind, "channel": channel})
