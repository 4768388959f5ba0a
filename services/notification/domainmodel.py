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


class Notice(Aggregate):
    """A notice (回执/告知书), composed once. Its id is derived from the petition and the kind of notice, so the
    same notice can be requested only once, however often the event asking for it is delivered."""

    @staticmethod
    def create_id(petition_id: UUID, kind: str) -> UUID:  # type: ignore[override]
        return uuid5(NOTICE_NAMESPACE, f"{petition_id}/{kind}")

    @event("Requested")
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
    ) -> None:
        self.petition_id = petition_id
        self.kind = kind
        self.query_code = query_code
        self.recipient = recipient
        self.title = title
        self.body = body
        self.channels = channels
        self.correlation_id = correlation_id


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
