"""routing's nameko service: `nameko run --config deploy/nameko.yml services.routing.service`."""

from __future__ import annotations

from nameko.rpc import RpcProxy

from services.routing.application import RoutingApplication
from services.routing.bootstrap import build_application
from shared.integration.envelope import IntegrationEvent
from shared.messaging.consumer import integration_event_handler
from shared.nameko_support import ApplicationProvider, MetricsEndpoint


class RoutingService:
    name = "routing"

    routing: RoutingApplication = ApplicationProvider(build_application)
    metrics = MetricsEndpoint()
    intake = RpcProxy("intake")  # which organs a report accuses (Art. 30): never on the shared exchange

    @integration_event_handler
    def handle_petition_registered(self, event: IntegrationEvent) -> str:
        accused: list[str] = []
        if event.data["category"] == "report":
            particulars = self.intake.petition_particulars(event.subject, "routing")
            if particulars is None:  # published only once stored: intake must know it
                raise LookupError(f"intake does not know petition {event.subject}")
            accused = particulars["accused_organs"]
        return self.routing.route_registered_petition(event, accused_organs=accused)

    @integration_event_handler
    def handle_case_objection_upheld(self, event: IntegrationEvent) -> str:
        return self.routing.reroute_after_objection(event)
