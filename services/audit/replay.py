"""Replaying a case for auditors, from the event stores alone (never the read models):

- `history`: every event of one petition from all four services' stores, in the order it was recorded, each with
  who acted, when, the legal basis where there is one, what the step said (the opinion, the reasons, the
  explanation, who approved an extension, the outcome, ...), and which earlier event caused it (the causation
  links follow the integration events between services);
- the case as it stood at any moment (time travel) is supervision's to answer, for its own aggregate
  (services/supervision/history.py, over RPC: services/audit/peers.py).

The stores are read generically (services/audit/stores.py): no service's domain class is loaded. Which aggregates
hold a petition's story: intake's petition, routing's assignment and supervision's case carry the petition's own
id; notification names its notices and deliveries of the petition over RPC.

    python -m services.audit.replay PETITION_ID [--as-of 2026-10-01T12:00:00+08:00]

(asks notification, and supervision for --as-of, over RPC: run it beside a running platform.)
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from services.audit.stores import SERVICES, EventStores, RawEvent
from shared.language.integration.envelope import event_id
from shared.runtime.settings import PlatformSettings

# Fields a reader needs to follow the story, taken from the stored events by name (an allow-list: a field a
# service adds later is not shown until it is named here). None of them is a person's identity; the query code
# (the petitioner's credential) is left out by the gateway for everyone but `admin`. A lifecycle step's `details`
# (what the officer or petitioner said: opinion, reasons, explanation, approver, outcome, rating, comment, ...)
# are shown whole: the lifecycle commands carry no identity (shared/language/contracts/lifecycle.py).
SHOWN = (
    # every step
    "action", "status", "actor", "at", "basis",
    # routing and triage
    "disposition", "organ", "joining_organs", "where_to_go", "excluded_organs", "facts", "rule_id", "rules_version",
    # the deadlines a step started and stopped
    "opened", "closed",
    # the matter as registered (what an auditor also sees in the officer view; never the people)
    "title", "request", "facts_and_reasons", "category", "topic", "place_code", "people_count", "anonymous",
    "flags",
    # when a letter arrived or a visit took place, as the counter said, and at which window (the clerk's note may
    # describe the petitioner: not shown here)
    "received_at", "window",
    # notices: which, on which channels, and how each went; who asked for a re-send or recorded a letter's posting
    # (the day, the registered-mail number) and its receipt (the day)
    "kind", "channel", "channels", "outcome", "notice_id", "by", "posted_on", "registered_mail_number", "received_on",
    # the petitioner's credential: shown to admin only (services/gateway/routes/audit.py)
    "query_code",
)
# What a step's details may link to: the person's other petitions (the officer view hides them from auditors too).
HIDDEN_DETAILS = frozenset({"earlier_petition_id", "repeat_check"})


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


def case_aggregates(petition_id: UUID, notification_ids: list[UUID]) -> dict[str, list[UUID]]:
    """The aggregates that hold one petition's story, per service: intake's petition, routing's assignment and
    supervision's case carry the petition's id; notification's notices and deliveries are the ones notification
    names for the petition (its RPC `case_aggregates`)."""
    return {"intake": [petition_id], "routing": [petition_id], "supervision": [petition_id],
            "notification": list(notification_ids)}


def step_event_ids(stores: EventStores, settings: PlatformSettings, petition_id: UUID) -> list[str]:
    """The ids the case's events have as published `case.<step>` events: a step's notices derive theirs from them,
    so notification can name them (its RPC `case_aggregates`)."""
    source = settings.event_source("supervision")
    return [event_id(source, e.originator_id, e.originator_version) for e in stores.events("supervision", petition_id)]


def history(stores: EventStores, settings: PlatformSettings, aggregates: dict[str, list[UUID]]) -> list[Step]:
    """Every event of these aggregates, merged across the services in recorded order."""
    steps = []
    for service in SERVICES:
        source = settings.event_source(service)
        for aggregate_id in aggregates.get(service, []):
            steps.extend(step(service, source, e) for e in stores.events(service, aggregate_id))
    return sorted(steps, key=lambda s: s.recorded_at)


def step(service: str, source: str, e: RawEvent) -> Step:
    state = e.state
    fields = {k: plain(state[k]) for k in SHOWN if k in state and state[k] not in (None, "", [], {})}
    details = state.get("details")
    if isinstance(details, dict):  # a lifecycle step: what it said, beside who and when
        fields.update({k: plain(v) for k, v in details.items() if k not in fields and k not in HIDDEN_DETAILS})
    if fields.get("action") == "evaluate":  # recorded before ratings said who took them: the petitioner's, online
        fields.setdefault("taken_by", "petitioner")
        fields.setdefault("channel", "online")
    causation, correlation = state.get("causation_id"), state.get("correlation_id")
    return Step(recorded_at=e.timestamp, service=service, aggregate=e.name.split(".")[0],
                aggregate_id=str(e.originator_id), version=e.originator_version, event=e.name,
                event_id=event_id(source, e.originator_id, e.originator_version),
                caused_by=str(causation) if causation else None,
                correlation_id=str(correlation) if correlation else None, fields=fields)


def plain(value: Any) -> Any:
    """JSON-ready: the transcoder's UUIDs, datetimes and decimals as strings."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def main(argv: list[str] | None = None) -> int:
    from services.audit.peers import standalone_peers  # noqa: PLC0415 - nameko's client, for the command only

    parser = argparse.ArgumentParser(description="Replay a petition's history from the event stores.")
    parser.add_argument("petition_id", type=UUID)
    parser.add_argument("--as-of", type=datetime.fromisoformat, help="the case as it stood then (ISO 8601 with "
                                                                     "a time zone)")
    args = parser.parse_args(argv)
    if args.as_of is not None and args.as_of.tzinfo is None:
        parser.error("--as-of needs a time zone, e.g. 2026-10-01T12:00:00+08:00")
    settings = PlatformSettings()
    with standalone_peers(settings) as peers:
        if args.as_of:
            print(json.dumps(peers.case_as_of(args.petition_id, args.as_of), ensure_ascii=False, indent=2))
            return 0
        stores = EventStores(settings.for_follower())
        try:
            aggregates = case_aggregates(args.petition_id, peers.notification_aggregates(
                args.petition_id, step_event_ids(stores, settings, args.petition_id)))
            for found in history(stores, settings, aggregates):
                print(json.dumps(found.as_dict(), ensure_ascii=False, default=str))
        finally:
            stores.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
