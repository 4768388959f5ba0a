"""intake's domain events → the published language. The only module that knows both."""

from __future__ import annotations

from typing import Any

from services.intake.domainmodel import Petition
from shared.integration.catalog import PETITION_REGISTERED
from shared.integration.envelope import IntegrationEvent, event_id

# The domain events this module publishes (the relay skips every other event without decoding it).
TRANSLATED = (Petition.Registered,)


def to_integration_event(domain_event: Any, sequence: int, source: str) -> IntegrationEvent | None:
    if not isinstance(domain_event, Petition.Registered):
        return None
    petitioner = domain_event.petitioner
    petition_id = str(domain_event.originator_id)
    return IntegrationEvent(
        id=event_id(source, domain_event.originator_id, domain_event.originator_version),
        source=source,
        event_type=PETITION_REGISTERED,
        subject=petition_id,
        time=domain_event.timestamp,
        data={
            "petition_id": petition_id,
            "query_code": domain_event.query_code,
            "registered_at": domain_event.timestamp.isoformat(),
            "channel": domain_event.channel,
            "category": domain_event.category,
            "topic": domain_event.topic,
            "title": domain_event.title,
            "request": domain_event.request,
            "facts_and_reasons": domain_event.facts_and_reasons,
            "place_code": domain_event.place_code,
            "people_count": domain_event.people_count,
            # The ID-card number stays in intake (data minimisation): consumers need contact, not identity. An
            # anonymous report has no petitioner: v1 consumers get a placeholder (匿名) and `anonymous: true`.
            "anonymous": domain_event.anonymous,
            "petitioner": _contact(petitioner),
            "has_agent": bool(petitioner and petitioner.get("agent")),
            # Representatives and joint signers, the accused party and identities stay in intake too.
            "representatives_count": len(domain_event.representatives),
            "joint_signers_count": len(domain_event.joint_signers),
            "flags": domain_event.flags,
            "repeat_of": domain_event.repeat_of,
            "similar_petitions": [{"petition_id": s["petition_id"], "similarity": s["similarity"]}
                                  for s in domain_event.similar_petitions],
            "attachments": domain_event.attachments,
            "actor": domain_event.actor,
        },
        correlation_id=domain_event.correlation_id,
        causation_id=domain_event.causation_id,
        sequence=sequence,
    )


ANONYMOUS = "匿名"


def _contact(petitioner: dict[str, Any] | None) -> dict[str, Any]:
    if petitioner is None:
        return {"name": ANONYMOUS, "phone": "", "address": "", "email": None}
    return {"name": petitioner["name"], "phone": petitioner["phone"], "address": petitioner["address"],
            "email": petitioner.get("email")}
