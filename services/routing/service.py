"""routing's nameko service: `nameko run --config deploy/nameko.yml services.routing.service`."""

from __future__ import annotations

from services.routing.application import RoutingApplication
from services.routing.bootstrap import build_application
from shared.integration.envelope import IntegrationEvent
from shared.messaging.consumer import integration_event_handler
from shared.nameko_support import ApplicationProvider, MetricsEndpoint


class RoutingService:
    name = "routing"

    routing: RoutingApplication = ApplicationProvider(build_application)
    metrics = MetricsEndpoint()

    @integration_event_handler
    def handle_petition_registered(self, event: IntegrationEvent) -> str:
        return self.routing.route_registered_petition(event)

    @integration_event_handler
    def handle_case_objection_upheld(self, event: IntegrationEvent) -> str:
        return self.routing.reroute_after_objection(event)
