"""notification's aggregates: a notice to a petitioner, and its delivery on each channel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

NOTICE_NAMESPACE = uuid5(NAMESPACE_URL, "urn:xinfang:notice")
DELIVERY_NAMESPACE = uuid5(NAMESPACE_URL, "urn:xinfang:notice-delivery")
DELIVERED = "delivered"
REFUSED = "refused"  # a permanent failure, e.g. the mail server refused the address; transient ones are retried


def notice_id(petition_id: UUID, kind: str, step_event_id: str | None = None) -> UUID:
    """A notice's id. The registration receipt (one per petition): from the petition and the kind, as ever since
    the first release. A step's notice: from the petition, the kind and the id of the case.<step> event that asked
    for it (a step may be taken more than once, e.g. a transfer after an upheld objection, and each sends its own)."""
    if step_event_id is None:
        return uuid5(NOTICE_NAMESPACE, f"{petition_id}/{kind}")
    return uuid5(NOTICE_NAMESPACE, f"{petition_id}/{kind}/{step_event_id}")


class Notice(Aggregate):
    """A notice (回执/告知书), composed once. Its id is derived from the petition, the kind of notice and, for a
    lifecycle step's notice, the id of the step's integration event, so the same notice can be requested only once
    however often the event asking for it is delivered (or processed)."""

    @staticmethod
    def create_id(petition_id: UUID, kind: str, step: str | None = None,  # type: ignore[override]
                  causation_id: str | None = None) -> UUID:
        """From the Requested event's own values: a step's notice is caused by the step's event (`causation_id`)."""
        return notice_id(petition_id, kind, causation_id if step is not None else None)

    class Requested(Aggregate.Created):
        # v2 records the template the notice came from (kind@version+sha256; services/notification/templates.py)
        # and the step event that asked for it; receipts requested before are upcast with both empty.
        class_version = 2

        petition_id: UUID
        kind: str
        query_code: str
        recipient: dict[str, Any]
        title: str
        body: str
        channels: list[str]
        correlation_id: str
        causation_id: str
        template: str = ""
        step: str | None = None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.setdefault("template", "")  # not recorded before issue 17
            state.setdefault("step", None)  # the registration receipt: no step

    @event(Requested)
    def __init__(
        self,
        *,
        petition_id: UUID,
        kind: str,
        query_code: str,
        recipient: dict[str, Any],
        title: str,
        body: str,
        channels: list[str],
        correlation_id: str,
        causation_id: str,
        template: str,  # the template's identity (templates.TemplateIdentity), e.g. opinion@v2+sha256:…
        step: str | None,  # the action of the step that sends it (case.<step>'s `action`); None: a receipt
    ) -> None:
        self.petition_id = petition_id
        self.kind = kind
        self.query_code = query_code
        self.recipient = recipient
        self.title = title
        self.body = body
        self.channels = channels
        self.correlation_id = correlation_id
        self.template = template
        self.step = step


class Delivery(Aggregate):
    """How one notice went on one channel. Its id is derived from both, so each channel concludes a notice
    once; the channels never contend for the same record."""

    @staticmethod
    def create_id(notice_id: UUID, channel: str) -> UUID:  # type: ignore[override]
        return uuid5(DELIVERY_NAMESPACE, f"{notice_id}/{channel}")

    @event("Concluded")
    def __init__(
        self,
        *,
        notice_id: UUID,
        channel: str,
        outcome: str,  # DELIVERED or REFUSED
        at: str,
        detail: str,  # e.g. a masked address, or why it was refused
        petition_id: str,
        kind: str,
        title: str,
        correlation_id: str,
    ) -> None:
        self.notice_id = notice_id
        self.channel = channel
        self.outcome = outcome


@dataclass(frozen=True)
class OutgoingNotice:
    """What a channel needs to deliver a notice: taken straight from its Requested event."""

    id: UUID
    petition_id: UUID
    kind: str
    query_code: str
    recipient: dict[str, Any]
    title: str
    body: str
    channels: list[str]
    correlation_id: str

    @classmethod
    def from_requested(cls, requested: Any) -> OutgoingNotice:
        return cls(requested.originator_id, requested.petition_id, requested.kind, requested.query_code,
                   requested.recipient, requested.title, requested.body, list(requested.channels),
                   requested.correlation_id)
