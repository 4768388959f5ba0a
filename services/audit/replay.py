"""Replaying a case for auditors, from the event stores alone (never the read models):

- `history`: every event of one petition from all four services' stores, in the order it was recorded, each with
  who acted, when, the legal basis where there is one, and which earlier event caused it (the causation links
  follow the integration events between services);
- `state_as_of`: the case as it stood at any moment, rebuilt from the events up to then (time travel).

    python -m services.audit.replay PETITION_ID [--as-of 2026-10-01T12:00:00+08:00]

Reads with the library's plain Application (no group commit, no consumer, nothing published or sent).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import OperationalError, ProgrammingError

from services.notification.domainmodel import Delivery, Notice
from services.supervision.application import SupervisionApplication
from services.supervision.domainmodel import Case
from shared.language.integration.envelope import event_id
from shared.runtime.eventstore import store_env
from shared.runtime.settings import PlatformSettings

SERVICES = ("intake", "routing", "supervision", "notification")
NOTICE_KINDS = ("registration_receipt",)  # every kind of notice notification composes today
CHANNELS = ("inbox", "email")
# Fields a reader needs to follow the story; the rest of each event stays in the store.
SHOWN = ("action", "status", "actor", "at", "basis", "disposition", "organ", "kind", "channel", "outcome",
         "query_code", "rule_id", "rules_version")


@dataclass(frozen=True)
class Step:
    recorded_at: datetime
    service: str
    aggregate: str
    aggregate_id: str
    version: int
    event: str
    event_id: str  # the id it has (or would have) as a published integration event
    caused_by: str | None  # the integration event it was caused by
    correlation_id: str | None
    fields: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"recorded_at": self.recorded_at.isoformat(), "service": self.service, "aggregate": self.aggregate,
                "aggregate_id": self.aggregate_id, "version": self.version, "event": self.event,
                "event_id": self.event_id, "caused_by": self.caused_by, "correlation_id": self.correlation_id,
                **self.fields}


class StoreReader:
    """Read-only access to the four services' stores."""

    def __init__(self, settings: PlatformSettings) -> None:
        self.settings = settings
        self.apps = {service: _reader(service, settings) for service in SERVICES}

    def close(self) -> None:
        for app in self.apps.values():
            app.close()

    def history(self, petition_id: UUID) -> list[Step]:
        steps = []
        for service, aggregate_ids in case_aggregates(petition_id).items():
            source = self.settings.event_source(service)
            for aggregate_id in aggregate_ids:
                for e in self._events(service, aggregate_id):
                    steps.append(_step(service, source, e))
        return sorted(steps, key=lambda s: s.recorded_at)

    def state_as_of(self, petition_id: UUID, moment: datetime) -> dict[str, Any] | None:
        """The case (supervision's view of it) as it stood at `moment`; None if it was not opened yet."""
        events = [e for e in self._events("supervision", petition_id) if e.timestamp <= moment]
        if not events:
            return None
        case: Case | None = None
        for e in events:
            case = e.mutate(case)
        summary = SupervisionApplication.summary(case)
        summary.pop("allowed_actions")
        return {"as_of": moment.isoformat(), **summary}

    def _events(self, service: str, aggregate_id: UUID) -> list[Any]:
        try:
            return list(self.apps[service].events.get(aggregate_id))
        except (ProgrammingError, OperationalError) as error:
            if "does not exist" in str(error) or "no such table" in str(error):
                return []  # this service's store was never written: nothing of the case is in it
            raise



def case_aggregates(petition_id: UUID) -> dict[str, list[UUID]]:
    """The aggregates that hold one petition's story, per service (the ids are all derived from the petition's)."""
    notices = [Notice.create_id(petition_id, kind) for kind in NOTICE_KINDS]
    deliveries = [Delivery.create_id(notice, channel) for notice in notices for channel in CHANNELS]
    return {"intake": [petition_id], "routing": [petition_id], "supervision": [petition_id],
            "notification": [*notices, *deliveries]}


def _reader(service: str, settings: PlatformSettings) -> Application:
    name = service.capitalize()  # the events table the service's application writes: <service>_events
    reader = type(f"{name}Reader", (Application,), {"name": name})
    return reader(env={**store_env(settings, service), "CREATE_TABLE": "false"})  # read only: create nothing


def _step(service: str, source: str, e: Any) -> Step:
    state = {k: v for k, v in vars(e).items() if k in SHOWN and v not in (None, "", [], {})}
    details = getattr(e, "details", None) or {}
    state.update({k: details[k] for k in ("disposition", "organ", "outcome", "reason_code", "rating", "taken_by",
                                          "channel") if k in details})
    if state.get("action") == "evaluate":  # recorded before ratings said who took them: the petitioner's, online
        state.setdefault("taken_by", "petitioner")
        state.setdefault("channel", "online")
    qualname = type(e).__qualname__
    return Step(recorded_at=e.timestamp, service=service, aggregate=qualname.split(".")[0],
                aggregate_id=str(e.originator_id), version=e.originator_version, event=qualname,
                event_id=event_id(source, e.originator_id, e.originator_version),
                caused_by=getattr(e, "causation_id", None), correlation_id=getattr(e, "correlation_id", None),
                fields=state)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Replay a petition's history from the event stores.")
    parser.add_argument("petition_id", type=UUID)
    parser.add_argument("--as-of", type=datetime.fromisoformat, help="the case as it stood then (ISO 8601)")
    args = parser.parse_args(argv)
    reader = StoreReader(PlatformSettings())
    try:
        if args.as_of:
            print(json.dumps(reader.state_as_of(args.petition_id, args.as_of), ensure_ascii=False, indent=2))
        else:
            for step in reader.history(args.petition_id):
                print(json.dumps(step.as_dict(), ensure_ascii=False, default=str))
    finally:
        reader.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
