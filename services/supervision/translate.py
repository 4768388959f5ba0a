"""The published language ↔ supervision: incoming integration events as typed values, supervision's domain events
as integration events."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking

from services.supervision.case.base import Transitioned
from services.supervision.circulars import Circular
from services.supervision.domainmodel import Case
from services.supervision.warnings import EarlyWarning
from shared.language.chinatime import local_date
from shared.language.contracts.actor import Actor, Role
from shared.language.contracts.lifecycle import STATUS_TEXT, Status
from shared.language.contracts.registration import received_day
from shared.language.integration.catalog import (
    CASE_OPENED,
    CASE_STEP_TYPES,
    CIRCULAR_ISSUED,
    PROVINCE_MATTER_COMPLETED,
    PROVINCE_MATTER_DECIDED,
    PROVINCE_PROGRESS_REPORTED,
    WARNING_RAISED,
)
from shared.language.integration.envelope import IntegrationEvent, event_id, published_actor


# --- in: what supervision reads of the events it consumes ------------------------------------------------------
@dataclass(frozen=True)
class Received:
    """What processing an integration event exactly once needs of its envelope (the tracking record, the key its
    handlers take turns on), and what the events it causes carry (its id as their causation, its correlation)."""

    tracking: Tracking
    subject: str
    id: str
    correlation_id: str

    @classmethod
    def of(cls, event: IntegrationEvent) -> Received:
        return cls(tracking=event.tracking, subject=event.subject, id=event.id, correlation_id=event.correlation_id)


@dataclass(frozen=True)
class RegisteredPetition:
    """A `petition.registered` with what intake's private RPC adds to it (the query code, the title, the organs a
    report accuses, who registered it): the published event carries no free text and no query code."""

    received: Received
    petition_id: UUID
    registered_at: str  # ISO 8601, as published (the case keeps it as it came)
    query_code: str
    title: str
    category: str
    channel: str
    place_code: str
    people_count: int
    repeat_of: str | None
    flags: tuple[str, ...]
    similar_petitions: tuple[str, ...]  # the ids of earlier petitions of the same person on the same matter
    accused_organs: tuple[str, ...]  # a report is never sent to them (2022 Regulations Art. 30)
    registered_by: Actor | None  # an organ's officer: received directly (S2')
    topic: str | None = None  # the subject area (主管), for the work lists' filter
    # When the letter arrived or the visit or call took place, as the counter said (ISO: a date, or a date and time
    # with its offset); None: when it was registered. From intake's particulars: the exchange does not carry it.
    received_at: str | None = None
    # A province's matter (上级转送 / 交办): its source, reference number, mode and day to report by (intake's).
    provincial: dict[str, Any] | None = None

    @property
    def registered_time(self) -> datetime:
        return datetime.fromisoformat(self.registered_at)

    @property
    def received_on(self) -> date:
        """The day the triage clock runs from: the day of receipt, else of registration (China time)."""
        return received_day(self.received_at) if self.received_at else local_date(self.registered_time)

    @classmethod
    def of(cls, event: IntegrationEvent, particulars: Mapping[str, Any]) -> RegisteredPetition:
        data = event.data
        registered_by = particulars.get("registered_by") or data.get("actor")
        return cls(
            received=Received.of(event), petition_id=UUID(data["petition_id"]), registered_at=data["registered_at"],
            query_code=particulars["query_code"], title=particulars["title"], category=data["category"],
            channel=data["channel"], place_code=data["place_code"], people_count=data.get("people_count", 1),
            repeat_of=data.get("repeat_of"), flags=tuple(data.get("flags", [])),
            similar_petitions=tuple(s["petition_id"] for s in data.get("similar_petitions", [])),
            accused_organs=tuple(particulars.get("accused_organs", [])),
            registered_by=Actor.model_validate(registered_by) if registered_by else None, topic=data.get("topic"),
            received_at=particulars.get("received_at"), provincial=particulars.get("provincial"))


@dataclass(frozen=True)
class RoutingDecision:
    """A `petition.routed`: the routing rules' decision, on registration or after an upheld objection."""

    received: Received
    petition_id: str
    disposition: str
    organ: dict[str, str] | None
    joining_organs: tuple[dict[str, str], ...]
    basis: str
    routed_at: datetime
    rule_id: str | None
    rules_version: str | None
    where_to_go: str | None
    rerouting: bool  # routed again after an upheld objection

    @property
    def organs(self) -> list[dict[str, str]]:
        """The lead organ (if any) and the joining organs."""
        return [o for o in (self.organ, *self.joining_organs) if o]

    @classmethod
    def of(cls, event: IntegrationEvent) -> RoutingDecision:
        data = event.data
        return cls(
            received=Received.of(event), petition_id=data["petition_id"],
            disposition=data.get("disposition", "transfer"), organ=data.get("organ"),
            joining_organs=tuple(data.get("joining_organs", [])), basis=data["basis"],
            routed_at=datetime.fromisoformat(data["routed_at"]), rule_id=data.get("rule_id"),
            rules_version=data.get("rules_version"), where_to_go=data.get("where_to_go"),
            rerouting=data.get("reason", "registered") == "objection_upheld")


@dataclass(frozen=True)
class DeliveredNotice:
    """A `notice.delivered`: a notice reached the petitioner on one channel."""

    received: Received
    petition_id: str
    notice_id: str
    kind: str
    title: str
    channel: str
    delivered_at: str  # ISO 8601, as published (the case keeps it as it came)

    @classmethod
    def of(cls, event: IntegrationEvent) -> DeliveredNotice:
        data = event.data
        return cls(received=Received.of(event), petition_id=data["petition_id"], notice_id=data["notice_id"],
                   kind=data["kind"], title=data["title"], channel=data["channel"],
                   delivered_at=data["delivered_at"])

    @property
    def received_on(self) -> date:
        """The day it reached the petitioner, in China (post: the recorded date of receipt, at 00:00 +08:00)."""
        return local_date(datetime.fromisoformat(self.delivered_at))


@dataclass(frozen=True)
class PostedNotice:
    """A `notice.posted`: a notice went to the petitioner by registered mail (挂号信) on `posted_on`."""

    received: Received
    petition_id: str
    notice_id: str
    kind: str
    title: str
    posted_on: date

    @classmethod
    def of(cls, event: IntegrationEvent) -> PostedNotice:
        data = event.data
        return cls(received=Received.of(event), petition_id=data["petition_id"], notice_id=data["notice_id"],
                   kind=data["kind"], title=data["title"], posted_on=date.fromisoformat(data["posted_on"]))


# --- out: supervision's events as the published language ------------------------------------------------------
def _step_name(event_class: type) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", event_class.__name__).lower()


# Every lifecycle event class of the Case, by the step name its integration type carries (ReReviewDecided ->
# re_review_decided); each is published by a declared step (tests/unit/supervision/test_step_declarations.py).
STEP_CLASSES = {_step_name(c): c for c in vars(Case).values() if isinstance(c, type) and issubclass(c, Transitioned)}
if set(STEP_CLASSES) != set(CASE_STEP_TYPES):
    raise ImportError("the case.* catalogue and the lifecycle events disagree")

# What a step's `details` may publish: codes, organs, dates and numbers — what case.step.v2's closed schema lists,
# the allow-list. A step that records something new publishes nothing of it until the schema admits it. Free text
# written by officers or petitioners (opinions, reasons, explanations, comments, approvers, where-to-go advice) may
# name people: it stays in supervision and its views (Art. 30).
PUBLISHED_DETAILS = frozenset(next(iter(CASE_STEP_TYPES.values())).schema["properties"]["details"]["properties"])

# The domain events this module publishes (the relay skips every other event without decoding it).
TRANSLATED = (Case.Opened, *STEP_CLASSES.values(), Case.ProvinceAnswered, EarlyWarning.Raised, Circular.Issued)
# What the county tells a province of its matter (services/supervision/case/provincial.py), by answer
PROVINCE_ANSWERS = {"matter_decided": PROVINCE_MATTER_DECIDED, "progress_reported": PROVINCE_PROGRESS_REPORTED,
                    "matter_completed": PROVINCE_MATTER_COMPLETED}


def to_integration_event(domain_event: Any, sequence: int, source: str) -> IntegrationEvent | None:
    if isinstance(domain_event, EarlyWarning.Raised):
        return warning_raised(domain_event, sequence, source)
    if isinstance(domain_event, Circular.Issued):
        return circular_issued(domain_event, sequence, source)
    if isinstance(domain_event, Case.Transitioned):
        return _step(domain_event, sequence, source)
    if isinstance(domain_event, Case.ProvinceAnswered):
        return province_answered(domain_event, sequence, source)
    if not isinstance(domain_event, Case.Opened):
        return None
    petition_id = str(domain_event.originator_id)
    return IntegrationEvent(
        id=event_id(source, domain_event.originator_id, domain_event.originator_version),
        source=source,
        event_type=CASE_OPENED,
        subject=petition_id,
        time=domain_event.timestamp,
        data={
            "petition_id": petition_id,
            "opened_at": domain_event.timestamp.isoformat(),
            "deadlines": [
                {k: d[k] for k in ("kind", "due", "basis", "provisional")} for d in domain_event.deadlines
            ],
        },
        correlation_id=domain_event.correlation_id,
        causation_id=domain_event.causation_id,
        sequence=sequence,
    )


def _step(e: Transitioned, sequence: int, source: str) -> IntegrationEvent:
    petition_id = str(e.originator_id)
    step = _step_name(type(e))
    return IntegrationEvent(
        id=event_id(source, e.originator_id, e.originator_version),
        source=source,
        event_type=CASE_STEP_TYPES[step],
        subject=petition_id,
        time=e.timestamp,
        data={
            "petition_id": petition_id, "step": step, "action": e.action, "status": e.status,
            "status_text": STATUS_TEXT[Status(e.status)], "at": e.at,
            "actor": published_actor(e.actor), "basis": _published_basis(e),
            "details": {**e.published_defaults, **{k: v for k, v in e.details.items() if k in PUBLISHED_DETAILS}},
            "deadlines_opened": [{k: d[k] for k in ("kind", "label", "due", "basis", "provisional") if k in d}
                                 for d in e.opened],
            "deadlines_closed": e.closed,
        },
        correlation_id=e.correlation_id,
        causation_id=e.causation_id,
        sequence=sequence,
    )


def _published_basis(e: Transitioned) -> str:
    """A clerk's own routing basis, or the reasons added to a report up, may name people: such steps publish the
    statutory basis alone. The routing rules' (data files) and every other step's basis is the domain's own."""
    if e.published_basis is None or e.actor.get("role") == Role.SYSTEM:
        return e.basis
    return e.published_basis


def warning_raised(e: EarlyWarning.Raised, sequence: int, source: str) -> IntegrationEvent:
    """An early warning (services/supervision/warnings.py) as `case.warning_raised`: codes, counts, dates and case ids
    (the closed schema warning.raised.v1 admits nothing else); its subject is the warning."""
    warning = str(e.originator_id)
    return IntegrationEvent(
        id=event_id(source, e.originator_id, e.originator_version),
        source=source,
        event_type=WARNING_RAISED,
        subject=warning,
        time=e.timestamp,
        data={"warning_id": warning, "kind": e.kind, "key": e.key, "topic": e.topic, "town": e.town,
              "window": {"start": e.window_start, "end": e.window_end} if e.window_start else None,
              "count": e.count, "threshold": e.threshold, "petitions": list(e.petitions), "raised_at": e.at},
        correlation_id=e.correlation_id,
        sequence=sequence,
    )


def circular_issued(e: Circular.Issued, sequence: int, source: str) -> IntegrationEvent:
    """A circular (services/supervision/circulars.py) as `case.circular_issued`: its number, kind and dates, the
    organs' codes and the cases' ids (the closed schema circular.issued.v1 admits nothing else: the title, problems
    and demands stay in supervision); its subject is the circular."""
    circular = str(e.originator_id)
    return IntegrationEvent(
        id=event_id(source, e.originator_id, e.originator_version),
        source=source,
        event_type=CIRCULAR_ISSUED,
        subject=circular,
        time=e.timestamp,
        data={"circular_id": circular, "number": e.number, "kind": e.kind, "issued_at": e.at,
              "issued_on": e.issued_on, "report_due": e.report_due, "organs": [o["code"] for o in e.organs],
              "petitions": list(e.petitions)},
        correlation_id=e.correlation_id,
        sequence=sequence,
    )


def province_answered(e: Case.ProvinceAnswered, sequence: int, source: str) -> IntegrationEvent:
    """The county's answer to the province that sent the matter, on the exchange only provinces read; `recipient`
    names that province (its CloudEvents `source`)."""
    petition_id = str(e.originator_id)
    return IntegrationEvent(
        id=event_id(source, e.originator_id, e.originator_version),
        source=source,
        event_type=PROVINCE_ANSWERS[e.answer],
        subject=petition_id,
        time=e.timestamp,
        data=dict(e.data),
        correlation_id=e.correlation_id,
        sequence=sequence,
        extra={"recipient": e.recipient},
    )
