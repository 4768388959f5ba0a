"""A petition through the services in process, each consuming the integration event the previous one published
(as over the broker, without it): for tests that need the real stores of several services."""

from __future__ import annotations

import itertools
from typing import Any
from uuid import UUID

from services.intake import translate as intake_translate
from services.notification import translate as notice_translate
from services.notification.compose import notice_kinds
from services.routing import translate as routing_translate
from services.supervision import translate as supervision_translate
from services.supervision.history import step_particulars
from shared.language.contracts.notices import TELLS_ORGANS
from shared.language.contracts.registration import RegisterPetition
from shared.language.integration.envelope import IntegrationEvent
from shared.runtime.eventstore import PROCESSED
from shared.runtime.messaging.topology import NOTICE_STEP_TYPES
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


_SEQUENCE = itertools.count(1_000_000)  # a position per published step (any unique one: the consumer's dedupe key)


def published_steps(supervision: Any, petition_id: UUID, after_version: int = 0) -> list[IntegrationEvent]:
    """The case.<step> events supervision's relay publishes for a case's events after `after_version`, each
    validated against its schema as the relay does."""
    source = supervision.settings.event_source("supervision")
    published = []
    for domain_event in supervision.events.get(petition_id, gt=after_version):
        event = supervision_translate.to_integration_event(domain_event, next(_SEQUENCE), source)
        if event is not None and event.event_type in supervision_translate.CASE_STEP_TYPES.values():
            event.validate()
            published.append(event)
    return published


def notify_step(notification: Any, supervision: Any, intake: Any, event: IntegrationEvent) -> str:
    """What notification's `handle_case_step` does with a case.<step> (services/notification/service.py), with the
    two private RPCs answered in process: supervision's `step_particulars` and intake's particulars (`notice`)."""
    assert event.event_type in NOTICE_STEP_TYPES, f"{event.type} is not bound to notification's queue"
    if not notice_kinds(event.data["action"], event.data["details"]) and event.data["action"] not in TELLS_ORGANS:
        return PROCESSED
    step = step_particulars(supervision, event.subject, event.id)
    assert step is not None
    return notification.request_step_notices(
        event, notice_translate.CaseStep.of(event, step, intake.particulars(event.subject, "notice")))
