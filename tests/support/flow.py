"""A petition through the services in process, each consuming the integration event the previous one published
(as over the broker, without it): for tests that need the real stores of several services."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from services.intake import translate as intake_translate
from services.notification import translate as notice_translate
from services.routing import translate as routing_translate
from shared.language.contracts.registration import RegisterPetition
from shared.language.integration.envelope import IntegrationEvent
from tests.support import samples


def register_and_route(intake: Any, routing: Any, supervision: Any, notification: Any | None = None,
                       petition: dict[str, Any] | None = None) -> tuple[UUID, IntegrationEvent, IntegrationEvent]:
    """Register a petition (a town-level one unless given), route it, open its case and record the routing (and
    ask notification for the receipt), each service asking intake's `particulars` as its nameko handler does.
    Returns the petition id and the registered and routed integration events."""
    receipt = intake.register_petition(RegisterPetition.model_validate(
        petition or samples.petition(place_code="330106001", topic="urban_management")))
    petition_id = UUID(receipt["id"])
    [registered_event] = intake.events.get(petition_id)
    registered = intake_translate.to_integration_event(registered_event, 1, intake.settings.event_source("intake"))
    routing.route_registered_petition(
        registered, routing_translate.RegisteredPetition.of(registered),
        accused_organs=intake.particulars(petition_id, "routing")["accused_organs"])
    supervision.open_case(registered, intake.particulars(petition_id, "case"))
    if notification is not None:
        notification.request_registration_receipt(registered,
            notice_translate.RegisteredPetition.of(registered, intake.particulars(petition_id, "notice")))
    [routed_event] = routing.events.get(petition_id)
    routed = routing_translate.to_integration_event(routed_event, 1, routing.settings.event_source("routing"))
    supervision.record_routing(routed)
    return petition_id, registered, routed
