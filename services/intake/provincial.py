"""A matter a province sends the county (上级转送 / 交办), registered like any petition.

The province publishes `cn.xinfang.province.matter_sent.v1` on `<ns>.province.inbound` with its own broker user
(shared/runtime/messaging/permissions.py); intake's consumer accepts it only from an allowed province
(PROVINCE_SOURCES) and only after its schema (shared/language/integration/schemas/province.matter_sent.v1.json).
Here it becomes a registration on the channel `provincial_transfer`, by the actor `province`, checked by the same
rules as any other (shared/language/contracts/registration.py). The registration is idempotent by (source, id): the
event's id is its idempotency key among that province's, so the same message twice registers once, and the same id
with another matter is refused. The province's reference number, the mode and an assignment's day to report by are
kept on the petition (`provincial`), for supervision to answer the province (services/supervision/provincial.py)
and for intake's receipt (services/intake/translate.py, `province.matter_received`).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from services.intake.application import IdempotencyKeyReused, IntakeApplication
from shared.language.contracts.actor import Actor, Role
from shared.language.contracts.registration import Channel, RegisterPetition
from shared.language.integration.envelope import IntegrationEvent, InvalidIntegrationEvent


def provincial_facts(event: IntegrationEvent) -> dict[str, Any]:
    """What the petition keeps of the province's message, besides the petition itself."""
    data = event.data
    return {"source": event.source, "event_id": event.id, "reference": data["reference"], "mode": data["mode"],
            "sent_on": data["sent_on"], "report_by": data.get("report_by") if data["mode"] == "assign" else None}


def registration(event: IntegrationEvent, county_code: str) -> RegisterPetition:
    """The registration command of a province's matter; InvalidIntegrationEvent (it is dead-lettered with the
    reason) for a matter meant for another county or one the registration rules refuse."""
    if event.data["county"] != county_code:
        raise InvalidIntegrationEvent(f"the matter is for county {event.data['county']}, this is {county_code}")
    try:
        return RegisterPetition.model_validate({**event.data["petition"], "channel": Channel.PROVINCIAL_TRANSFER})
    except ValidationError as error:
        # Field paths and error types only: the values are a petitioner's personal data.
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['type']}" for e in error.errors())
        raise InvalidIntegrationEvent(f"the petition is refused by the registration rules: {problems}"[:500]) from None


def register_matter(intake: IntakeApplication, event: IntegrationEvent, county_code: str) -> dict[str, Any]:
    """Register the province's matter once; the receipt (the petition id and query code)."""
    command = registration(event, county_code)
    try:
        return intake.register_petition(
            command, actor=Actor(role=Role.PROVINCE, user=event.source[:64]), correlation_id=event.correlation_id,
            idempotency_key=event.id, provincial=provincial_facts(event))
    except IdempotencyKeyReused:
        raise InvalidIntegrationEvent(f"the id {event.id!r} was used before for another matter from "
                                      f"{event.source}") from None
