"""supervision answers for its own aggregate's past: the case as it stood at a moment, rebuilt from its events up
to then (time travel for auditors). The audit service asks over RPC (service.py `case_as_of`; services/audit/
peers.py), so no other context loads the Case or replays supervision's events itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from services.supervision.application import SupervisionApplication
from services.supervision.case.base import Transitioned
from shared.language.contracts.actor import Role
from shared.language.integration.envelope import event_id as published_id


def case_as_of(supervision: SupervisionApplication, petition_id: str, moment: datetime) -> dict[str, Any] | None:
    """The case (its summary, without the actions open now) as it stood at `moment`, which has a time zone; None
    if it was not opened by then (or is unknown)."""
    if moment.tzinfo is None:
        raise ValueError("a moment with a time zone is needed")
    try:
        case_id = UUID(str(petition_id))
    except ValueError:
        return None
    version = None
    for event in supervision.events.get(case_id):  # in version order: what was recorded by then
        if event.timestamp > moment:
            break
        version = event.originator_version
    if version is None:
        return None
    summary = SupervisionApplication.summary(supervision.repository.get(case_id, version=version))
    summary.pop("allowed_actions")
    return {"as_of": moment.isoformat(), **summary}


def step_particulars(supervision: SupervisionApplication, petition_id: str, event_id: str) -> dict[str, Any] | None:
    """What the step published as integration event `event_id` recorded, whole — free text included (the opinion,
    reasons, where to go), which `case.<step>` never carries — and the case as it stood just after it (its organs
    and deadlines): what notification needs to compose the step's notice. Answered to notification only, over
    signed private RPC (service.py `step_particulars`). None if no step of the case was published with that id."""
    try:
        case_id = UUID(str(petition_id))
    except ValueError:
        return None
    source = supervision.settings.event_source("supervision")
    for event in supervision.events.get(case_id):
        if event_id != published_id(source, case_id, event.originator_version):
            continue
        if not isinstance(event, Transitioned):
            return None
        case = supervision.repository.get(case_id, version=event.originator_version)
        summary = SupervisionApplication.summary(case)
        summary.pop("allowed_actions")
        summary["requested_on"] = getattr(case, "requested_on", None)  # of the review or re-review decided
        # The organ that took the step, when an organ's officer did (the reviewing organ for a review); None: the
        # bureau, or the platform for it (the routing rules, the repeat check).
        actor = event.actor or {}
        organ = supervision.organs.get(actor["organ"]) if actor.get("role") == Role.ORGAN_OFFICER and \
            actor.get("organ") else None
        return {"action": event.action, "status": event.status, "at": event.at, "basis": event.basis,
                "details": dict(event.details), "opened": list(event.opened), "case": summary,
                "decider": organ.as_dict() if organ else None}
    return None
