"""notification's nameko service: `nameko run --config deploy/nameko.yml services.notification.service`.

It only *requests* notices (exactly once per triggering event); the dispatcher process delivers them.
"""

from __future__ import annotations

from uuid import UUID

from nameko.rpc import RpcProxy, rpc

from services.notification.application import NotificationApplication, case_aggregates
from services.notification.bootstrap import build_application
from services.notification.compose import notice_kinds
from services.notification.translate import CaseStep, RegisteredPetition
from shared.language.integration.envelope import IntegrationEvent
from shared.runtime.callers import AUDIT, CallerRefused
from shared.runtime.eventstore import PROCESSED
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
    supervision = RpcProxy("supervision")  # the private path to what a step recorded (its free text)

    @integration_event_handler
    def handle_petition_registered(self, event: IntegrationEvent) -> str:
        particulars = petition_particulars(self.intake, self.callers, event.subject, "notice")
        return self.notification.request_registration_receipt(event, RegisteredPetition.of(event, particulars))

    @integration_event_handler
    def handle_case_step(self, event: IntegrationEvent) -> str:
        """A case.<step> of a step that may send a notice (shared/runtime/messaging/topology.py NOTICE_STEP_TYPES):
        the notices its declaration sends for what it decided, each exactly once. A step that sends none here (a
        rejected objection, a report up) asks nothing of anyone."""
        if not notice_kinds(event.data["action"], event.data["details"]):
            return PROCESSED
        step = self.supervision.step_particulars(event.subject, event.id,
                                                 self.callers.assertion("supervision", "step_particulars"))
        if step is None:  # published only once stored: supervision must know it
            raise LookupError(f"supervision does not know step event {event.id} of petition {event.subject}")
        particulars = petition_particulars(self.intake, self.callers, event.subject, "notice")
        return self.notification.request_step_notices(event, CaseStep.of(event, step, particulars))

    @rpc(expected_exceptions=CallerRefused)
    def case_aggregates(self, petition_id: str, caller: str | None = None,
                        step_event_ids: list[str] | None = None) -> list[str]:
        """The ids of the notices and deliveries of a petition, for the audit service only: the receipt's (which may
        not be written yet) and, of the notices of its steps (`step_event_ids`: the ids of the case's published
        step events), those this store holds."""
        self.callers.require(caller, {AUDIT}, "case_aggregates")
        steps = self.notification.step_notices_of(UUID(petition_id), step_event_ids or [])
        return [str(aggregate_id) for aggregate_id in (*case_aggregates(UUID(petition_id)), *steps)]
