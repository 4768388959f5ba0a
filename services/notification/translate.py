"""The published language ↔ notification: a registered petition (with intake's particulars) as a typed value, and
notification's domain events as integration events."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from uuid import UUID

from services.notification.domainmodel import DELIVERED, ORGAN_CASE_NOTICE, POST, Delivery, PostalDelivery
from shared.language.chinatime import CHINA, chinese_date, chinese_day
from shared.language.contracts.notices import NoticeKind
from shared.language.integration.catalog import NOTICE_DELIVERED, NOTICE_POSTED
from shared.language.integration.envelope import IntegrationEvent, event_id


@dataclass(frozen=True)
class Recipient:
    name: str
    email: str | None
    phone: str | None


def petitioned_on(registered_at: datetime, received_at: str | None) -> str:
    """The day the petitioner petitioned, as every notice says it ("您于……提出"): the day a letter arrived or a
    visit or call took place, as the counter registered it, else the day of registration."""
    return chinese_day(received_at) if received_at else chinese_date(registered_at)


@dataclass(frozen=True)
class RegisteredPetition:
    """What a registration receipt says: from `petition.registered` (no personal data) and intake's particulars
    for the purpose `notice` (query code, title, recipient; none for an anonymous report)."""

    petition_id: UUID
    registered_at: datetime
    channel: str
    query_code: str
    title: str
    recipient: Recipient | None
    received_at: str | None = None  # a letter's arrival, a visit's or call's time, as the counter registered it

    @property
    def petitioned_on(self) -> str:
        return petitioned_on(self.registered_at, self.received_at)

    @classmethod
    def of(cls, event: IntegrationEvent, particulars: Mapping[str, Any]) -> RegisteredPetition:
        person = particulars["recipient"]
        return cls(petition_id=UUID(event.data["petition_id"]),
                   registered_at=datetime.fromisoformat(event.data["registered_at"]), channel=event.data["channel"],
                   query_code=particulars["query_code"], title=particulars["title"],
                   received_at=particulars.get("received_at"),
                   recipient=None if person is None else Recipient(person["name"], person.get("email"),
                                                                   person.get("phone")))


@dataclass(frozen=True)
class CaseStep:
    """A `case.<step>` (codes, organs and dates only) with what the private RPCs add: supervision's
    `step_particulars` (what the step recorded, free text included, the organ that took it, the case just after it)
    and intake's particulars for the purpose `notice` (the query code, the title, the petitioner's own words, the
    recipient; none for an anonymous report)."""

    event_id: str  # the case.<step> event's id: with the petition and the kind, a notice's identity
    petition_id: UUID
    action: str  # the step (shared/language/contracts/lifecycle.py STEPS), e.g. reply
    at: datetime
    details: Mapping[str, Any]  # as supervision recorded them, whole
    basis: str  # as recorded (a clerk's routing basis, the statute of a decline or diversion)
    opened: tuple[Mapping[str, Any], ...]  # the deadlines it opened, as recorded (`due` ISO dates)
    case: Mapping[str, Any]  # the case just after the step (organ, review_organ, requested_on...)
    decider: Mapping[str, str] | None  # the organ whose officer took the step; None: the bureau (or the platform)
    query_code: str
    title: str
    request: str
    facts: str
    registered_at: datetime
    recipient: Recipient | None
    received_at: str | None = None  # as RegisteredPetition's

    @property
    def petitioned_on(self) -> str:
        return petitioned_on(self.registered_at, self.received_at)

    @classmethod
    def of(cls, event: IntegrationEvent, step: Mapping[str, Any], particulars: Mapping[str, Any]) -> CaseStep:
        person = particulars["recipient"]
        return cls(event_id=event.id, petition_id=UUID(event.data["petition_id"]), action=event.data["action"],
                   at=datetime.fromisoformat(event.data["at"]), details=step["details"], basis=step["basis"],
                   opened=tuple(step["opened"]), case=step["case"], decider=step.get("decider"),
                   query_code=particulars["query_code"], title=particulars["title"],
                   request=particulars.get("request", ""), facts=particulars.get("facts_and_reasons", ""),
                   registered_at=datetime.fromisoformat(particulars.get("registered_at") or event.data["at"]),
                   received_at=particulars.get("received_at"),
                   recipient=None if person is None else Recipient(person["name"], person.get("email"),
                                                                   person.get("phone")))


# The domain events this module publishes (the relay skips every other event without decoding it).
TRANSLATED = (Delivery.Concluded, Delivery.Attempted, PostalDelivery.Posted, PostalDelivery.ReceiptRecorded)


def to_integration_event(domain_event: Any, sequence: int, source: str) -> IntegrationEvent | None:
    if isinstance(domain_event, PostalDelivery.Posted | PostalDelivery.ReceiptRecorded):
        return postal_event(domain_event, sequence, source)
    # A delivery's first outcome (Concluded) or a re-send's (Attempted, which carries the same values): a successful
    # one is the notice delivered on that channel.
    if not isinstance(domain_event, Delivery.Concluded | Delivery.Attempted) or domain_event.outcome != DELIVERED:
        return None
    # To an organ or the bureau's supervisors, not the petitioner: no petitioner's receipt to tell.
    if domain_event.kind in (ORGAN_CASE_NOTICE, NoticeKind.WARNING_NOTICE.value, NoticeKind.CIRCULAR_NOTICE.value):
        return None
    return IntegrationEvent(
        id=event_id(source, domain_event.originator_id, domain_event.originator_version),
        source=source,
        event_type=NOTICE_DELIVERED,
        subject=domain_event.petition_id,
        time=domain_event.timestamp,
        data={
            "notice_id": str(domain_event.notice_id),
            "petition_id": domain_event.petition_id,
            "kind": domain_event.kind,
            "title": domain_event.title,
            "channel": domain_event.channel,
            "delivered_at": domain_event.at,
        },
        correlation_id=domain_event.correlation_id,
        # Caused by the notice's request: the id that event (version 1) has in this store's id scheme.
        causation_id=event_id(source, domain_event.notice_id, 1),
        sequence=sequence,
    )


def postal_event(domain_event: Any, sequence: int, source: str) -> IntegrationEvent:
    """A notice posted by registered mail: `notice.posted` (the day only: no address, no registered-mail number);
    its receipt recorded: `notice.delivered` on the channel `post`, delivered at the start of the day of receipt in
    China (the clerk records a day, not a time)."""
    data: dict[str, Any] = {"notice_id": str(domain_event.notice_id), "petition_id": domain_event.petition_id,
                            "kind": domain_event.kind, "title": domain_event.title}
    if isinstance(domain_event, PostalDelivery.Posted):
        event_type, data["posted_on"] = NOTICE_POSTED, domain_event.posted_on
    else:
        received = datetime.combine(date.fromisoformat(domain_event.received_on), time(), CHINA)
        event_type, data["channel"], data["delivered_at"] = NOTICE_DELIVERED, POST, received.isoformat()
    return IntegrationEvent(
        id=event_id(source, domain_event.originator_id, domain_event.originator_version),
        source=source,
        event_type=event_type,
        subject=domain_event.petition_id,
        time=domain_event.timestamp,
        data=data,
        correlation_id=domain_event.correlation_id,
        causation_id=event_id(source, domain_event.notice_id, 1),  # the notice's request, as for every delivery
        sequence=sequence,
    )


@dataclass(frozen=True)
class RaisedWarning:
    """A `case.warning_raised` (supervision's early warning): codes, counts, dates and petition ids only."""

    warning_id: UUID
    kind: str  # topic_spike | place_spike | group | sensitive | repeat
    topic: str | None
    town: str | None
    window_start: datetime | None
    window_end: datetime | None
    count: int
    threshold: int | None
    petitions: tuple[str, ...]
    raised_at: datetime

    @classmethod
    def of(cls, event: IntegrationEvent) -> RaisedWarning:
        data = event.data
        window = data.get("window") or {}
        return cls(warning_id=UUID(data["warning_id"]), kind=data["kind"], topic=data.get("topic"),
                   town=data.get("town"),
                   window_start=datetime.fromisoformat(window["start"]) if window.get("start") else None,
                   window_end=datetime.fromisoformat(window["end"]) if window.get("end") else None,
                   count=int(data["count"]), threshold=data.get("threshold"), petitions=tuple(data["petitions"]),
                   raised_at=datetime.fromisoformat(data["raised_at"]))


@dataclass(frozen=True)
class IssuedCircular:
    """A `case.circular_issued` (codes, dates, organ codes, case ids) with what supervision's private RPC
    `circular_particulars` adds: the circular's title, problems and demands (the bureau's own text, no petitioner's)."""

    circular_id: UUID
    number: str  # 督通〔YYYY〕xxxxxx号
    kind: str  # typical_problem | criticism
    issued_on: date
    report_due: date | None
    organs: tuple[str, ...]  # the organs' codes, each told once
    petitions: tuple[str, ...]
    title: str
    problems: str
    demands: str

    @classmethod
    def of(cls, event: IntegrationEvent, particulars: Mapping[str, Any]) -> IssuedCircular:
        data = event.data
        return cls(circular_id=UUID(data["circular_id"]), number=data["number"], kind=data["kind"],
                   issued_on=date.fromisoformat(data["issued_on"]),
                   report_due=date.fromisoformat(data["report_due"]) if data.get("report_due") else None,
                   organs=tuple(dict.fromkeys(data["organs"])), petitions=tuple(data["petitions"]),
                   title=particulars["title"], problems=particulars["problems"], demands=particulars["demands"])
