"""notification's nameko service: `nameko run --config deploy/nameko.yml services.notification.service`.

It only *requests* notices (exactly once per triggering event); the dispatcher process delivers them.
"""

from __future__ import annotations

from uuid import UUID

from nameko.rpc import RpcProxy, rpc

from services.notification.application import NotificationApplication, case_aggregates
from services.notification.bootstrap import build_application
from services.notification.translate import RegisteredPetition
from shared.language.integration.envelope import IntegrationEvent
from shared.runtime.callers import AUDIT, CallerRefused
from shared.runtime.messaging.consumer import integration_event_handler
from shared.runtime.nameko_support import (
    ApplicationProvider,
    CallerCheck,
    MetricsEndpoint,
    ServiceCallers,
    petition_particulars,
)


class NotificationService:
    name = "notification"

    notification: NotificationApplication = ApplicationProvider(build_application)
    metrics = MetricsEndpoint()
    callers: ServiceCallers = CallerCheck()
    intake = RpcProxy("intake")  # the private path to the recipient's contact details (not on the exchange)

    @integration_event_handler
    def handle_petition_registered(self, event: IntegrationEvent) -> str:
        particulars = petition_particulars(self.intake, self.callers, event.subject, "notice")
        return self.notification.request_registration_receipt(event, RegisteredPetition.of(event, particulars))

    @rpc(expected_exceptions=CallerRefused)
    def case_aggregates(self, petition_id: str, caller: str | None = None) -> list[str]:
        """The ids of the notices and deliveries that may belong to a petition, for the audit service only."""
        self.callers.require(caller, {AUDIT}, "case_aggregates")
        return [str(aggregate_id) for aggregate_id in case_aggregates(UUID(petition_id))]
