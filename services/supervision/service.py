"""supervision's nameko service: `nameko run --config deploy/nameko.yml services.supervision.service`."""

from __future__ import annotations

from services.supervision.application import SupervisionApplication
from services.supervision.bootstrap import build_application
from shared.integration.envelope import IntegrationEvent
from shared.messaging.consumer import integration_event_handler
from shared.nameko_support import ApplicationProvider, MetricsEndpoint


class SupervisionService:
    name = "supervision"

    supervision: SupervisionApplication = ApplicationProvider(build_application)
    metrics = MetricsEndpoint()

    @integration_event_handler
    def handle_petition_registered(self, event: IntegrationEvent) -> str:
        return self.supervision.open_case(event)

    @integration_event_handler
    def handle_petition_routed(self, event: IntegrationEvent) -> str:
        return self.supervision.record_routing(event)

    @integration_event_handler
    def handle_notice_delivered(self, event: IntegrationEvent) -> str:
        return self.supervision.record_notice(event)
