"""intake's domain events → the published language. The only module that knows both."""

from __future__ import annotations

from typing import Any

from services.intake.domainmodel import Petition
from shared.language.integration.catalog import PETITION_REGISTERED, PROVINCE_MATTER_RECEIVED
from shared.language.integration.envelope import IntegrationEvent, event_id, published_actor
from shared.language.integration.province import answer_to_province

# The domain events this module publishes (the relay skips every other event without decoding it).
TRANSLATED = (Petition.Registered,)


def to_integration_event(domain_event: Any, sequence: int,
                         source: str) -> IntegrationEvent | list[IntegrationEvent] | None:
    if not isinstance(domain_event, Petition.Registered):
        return None
    petition_id = str(domain_event.originator_id)
    registered = IntegrationEvent(
        id=event_id(source, domain_event.originator_id, domain_event.originator_version),
        source=source,
        event_type=PETITION_REGISTERED,
        subject=petition_id,
        time=domain_event.timestamp,
        data=published_facts(domain_event, petition_id),
        correlation_id=domain_event.correlation_id,
        causation_id=domain_event.causation_id,
        sequence=sequence,
    )
    matter = domain_event.provincial
    if not matter:
        return registered
    # The receipt of a province's matter (services/intake/provincial.py), on the exchange only provinces read.
    receipt = {"reference": matter["reference"], "petition_id": petition_id, "mode": matter["mode"],
               "received_at": domain_event.timestamp.isoformat(), "report_by": matter.get("report_by")}
    return [registered, answer_to_province(registered, PROVINCE_MATTER_RECEIVED, receipt, matter)]


def published_facts(e: Petition.Registered, petition_id: str) -> dict[str, Any]:
    """What the shared events exchange may carry of a registration: an allow-list of codes, counts and flags.
    No personal data, no free text and no query code leave intake this way (2022 Regulations Art. 30, 46(5);
    PIPL): every queue bound to the exchange, an integrator's included, would read them. The services that show
    or send them ask intake over its private RPC (`petition_particulars`; docs/integration-events.md)."""
    return {
        "petition_id": petition_id,
        "registered_at": e.timestamp.isoformat(),
        "channel": e.channel,
        "category": e.category,
        "topic": e.topic,
        "place_code": e.place_code,
        "people_count": e.people_count,
        "anonymous": e.anonymous,
        "has_agent": bool(e.petitioner and e.petitioner.get("agent")),
        "representatives_count": len(e.representatives),
        "joint_signers_count": len(e.joint_signers),
        "attachments_count": len(e.attachments),
        "flags": e.flags,
        "repeat_of": e.repeat_of,
        "similar_petitions": [{"petition_id": s["petition_id"], "similarity": s["similarity"]}
                              for s in e.similar_petitions],
        "actor": published_actor(e.actor),
    }
