"""supervision's use cases: open a case when a petition is registered, and record what happens to it."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from services.supervision.deadlines import acceptance_deadline
from services.supervision.domainmodel import Case
from shared.eventstore import NotYet, ServiceApplication
from shared.integration.envelope import IntegrationEvent


class CaseNotOpenedYet(NotYet):
    """An event about a petition arrived before its registration did; it is retried shortly."""


class SupervisionApplication(ServiceApplication):
    name = "Supervision"
    service_name = "supervision"

    def open_case(self, event: IntegrationEvent) -> str:
        petition = event.data
        registered_at = datetime.fromisoformat(petition["registered_at"])

        def decide() -> list[Case]:
            return [Case(
                petition_id=UUID(petition["petition_id"]),
                query_code=petition["query_code"],
                title=petition["title"],
                category=petition["category"],
                channel=petition["channel"],
                place_code=petition["place_code"],
                at=petition["registered_at"],
                deadlines=[acceptance_deadline(registered_at).as_dict()],
                correlation_id=event.correlation_id,
                causation_id=event.id,
            )]

        return self.process(event.tracking, decide, key=event.subject)

    def record_routing(self, event: IntegrationEvent) -> str:
        routed = event.data

        def decide() -> list[Case]:
            case = self._case(routed["petition_id"])
            case.assign_organ(organ=routed["organ"], basis=routed["basis"], rules_version=routed["rules_version"],
                              at=routed["routed_at"], correlation_id=event.correlation_id, causation_id=event.id)
            return [case]

        return self.process(event.tracking, decide, key=event.subject)

    def record_notice(self, event: IntegrationEvent) -> str:
        """Record when a notice first reached the petitioner (any channel): what deadlines on notices are
        measured against. Deliveries on further channels are kept by notification, not repeated here."""
        notice = event.data

        def decide() -> list[Case]:
            case = self._case(notice["petition_id"])
            if case.has_notice(notice["notice_id"]):
                return []
            case.record_notice(notice_id=notice["notice_id"], kind=notice["kind"], title=notice["title"],
                               channel=notice["channel"], at=notice["delivered_at"],
                               correlation_id=event.correlation_id, causation_id=event.id)
            return [case]

        return self.process(event.tracking, decide, key=event.subject)

    def _case(self, petition_id: str) -> Case:
        try:
            return self.repository.get(UUID(petition_id))
        except AggregateNotFoundError:
            raise CaseNotOpenedYet(petition_id) from None
