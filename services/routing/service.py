"""routing's nameko service: `nameko run --config deploy/nameko.yml services.routing.service`."""

from __future__ import annotations

from services.routing.application import RoutingApplication
from services.routing.bootstrap import build_application
from services.routing.translate import RegisteredPetition, UpheldObjection
from shared.language.integration.envelope import IntegrationEvent
from shared.runtime.messaging.consumer import integration_event_handler
from shared.runtime.nameko_support import (
    ApplicationProvider,
    BoundedRpcProxy,
    CallerCheck,
    MetricsEndpoint,
    ServiceCallers,
    petition_particulars,
)


class RoutingService:
    name = "routing"

    routing: RoutingApplication = ApplicationProvider(build_application)
    metrics = MetricsEndpoint()
    callers: ServiceCallers = CallerCheck()
    intake = BoundedRpcProxy("intake")  # which organs a report accuses (Art. 30): never on the shared exchange

    @integration_event_handler
    def handle_petition_registered(self, event: IntegrationEvent) -> str:
        petition = RegisteredPetition.of(event)
        accused: list[str] = []
        if petition.category == "report":  # who a report accuses is asked of intake, never published (Art. 30)
            accused = petition_particulars(self.intake, self.callers, event.subject, "routing")["accused_organs"]
        return self.routing.route_registered_petition(event, petition, accused_organs=accused)

    @integration_event_handler
    def handle_case_objection_upheld(self, event: IntegrationEvent) -> str:
        return self.routing.reroute_after_objection(event, UpheldObjection.of(event))
