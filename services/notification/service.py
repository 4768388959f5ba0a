"""notification's nameko service: `nameko run --config deploy/nameko.yml services.notification.service`.

It only *requests* notices (exactly once per triggering event); the dispatcher process delivers them.
"""

from __future__ import annotations

from services.notification.application import NotificationApplication
from services.notification.bootstrap import build_application
from shared.integration.envelope import IntegrationEvent
from shared.messaging.consumer import integration_event_handler
from shared.nameko_support import ApplicationProvider, MetricsEndpoint


class NotificationService:
    name = "notification"

    notification: NotificationApplication = ApplicationProvider(build_application)
    metrics = MetricsEndpoint()

    @integration_event_handler
    def handle_petition_registered(self, event: IntegrationEvent) -> str:
        return self.notification.request_registration_receipt(event)
