"""Events of a withdrawn version still queued at an upgrade, read as the version that replaced them.

petition.registered.v1 and case.<step>.v1 were withdrawn at once (they could carry personal data and free text;
docs/integration-events.md). A v1 message already in a consumer's queue when an installation upgrades must still
be handled — dropping it would leave a petition without its case, receipt or re-routing — so the consumer reads it
as v2: only what v2's closed schema admits is kept (the schema is the allow-list), and what v2 requires but v1
did not always carry gets v1's documented default. The result is validated like any v2 event.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from shared.language.integration.catalog import (
    CASE_STEP_TYPES,
    CASE_STEP_TYPES_V1,
    PETITION_REGISTERED,
    PETITION_REGISTERED_V1,
    EventType,
)
from shared.language.integration.envelope import IntegrationEvent, published_actor

# What v1 of petition.registered left out when absent (its schema's descriptions).
REGISTERED_V1_DEFAULTS = {"anonymous": False, "has_agent": False, "representatives_count": 0,
                          "joint_signers_count": 0, "flags": [], "repeat_of": None, "similar_petitions": [],
                          "topic": None}


def _registered(data: dict[str, Any]) -> dict[str, Any]:
    read = {**REGISTERED_V1_DEFAULTS, **data, "attachments_count": len(data.get("attachments") or [])}
    read["similar_petitions"] = [{"petition_id": s["petition_id"], "similarity": s["similarity"]}
                                 for s in read["similar_petitions"]]
    return read


def _step(data: dict[str, Any]) -> dict[str, Any]:
    admitted = CASE_STEP_TYPES[data["step"]].schema["properties"]["details"]["properties"]
    return {**data, "details": {k: v for k, v in data.get("details", {}).items() if k in admitted}}


SUCCESSORS: dict[EventType, tuple[EventType, Any]] = {
    PETITION_REGISTERED_V1: (PETITION_REGISTERED, _registered),
    **{old: (CASE_STEP_TYPES[step], _step) for step, old in CASE_STEP_TYPES_V1.items()},
}


def current(event: IntegrationEvent) -> IntegrationEvent:
    """`event` as the version now published of its type (itself when it is of that version already)."""
    if event.event_type not in SUCCESSORS:
        return event
    successor, read = SUCCESSORS[event.event_type]
    admitted = successor.schema["properties"]
    data = {k: v for k, v in read(event.data).items() if k in admitted}
    if "actor" in data:
        data["actor"] = published_actor(data["actor"])
    upcast = replace(event, event_type=successor, data=data)
    upcast.validate()
    return upcast
