"""supervision answers for its own aggregate's past: the case as it stood at a moment, rebuilt from its events up
to then (time travel for auditors). The audit service asks over RPC (service.py `case_as_of`; services/audit/
peers.py), so no other context loads the Case or replays supervision's events itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from services.supervision.application import SupervisionApplication


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
