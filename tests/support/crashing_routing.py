"""The routing service, except that its process dies right after the handler's effect is committed and before
the message is acked: the worst moment for at-least-once delivery."""

from __future__ import annotations

import os

from services.routing import service as routing  # the module, so `nameko run` finds only the class below
from services.routing.translate import RegisteredPetition
from shared.language.integration.envelope import IntegrationEvent
from shared.runtime.messaging.consumer import integration_event_handler


class CrashingRoutingService(routing.RoutingService):
    @integration_event_handler
    def handle_petition_registered(self, event: IntegrationEvent) -> str:
        self.routing.route_registered_petition(event, RegisteredPetition.of(event))
        os._exit(70)  # no ack, no clean shutdown
