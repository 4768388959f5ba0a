"""notification's aggregate: one notice to a petitioner, and its delivery on each channel."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

NOTICE_NAMESPACE = uuid5(NAMESPACE_URL, "urn:xinfang:notice")


class Notice(Aggregate):
    """A notice (回执/告知书). Its id is derived from the petition and the kind of notice, so the same notice
    can be requested only once, however often the event asking for it is delivered."""

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
        self.delivered: dict[str, str] = {}  # channel -> when
        self.failed: dict[str, str] = {}  # channel -> why (permanent failures only)

    def is_settled(self, channel: str) -> bool:
        return channel in self.delivered or channel in self.failed

    @event("Delivered")
    def mark_delivered(
        self, *, channel: str, at: str, detail: str, petition_id: str, kind: str, title: str, correlation_id: str
    ) -> None:
        """Reached the petitioner on `channel` (the event repeats what the notice was, to stand on its own)."""
        self.delivered[channel] = at

    @event("DeliveryFailed")
    def mark_failed(self, *, channel: str, reason: str) -> None:
        """A permanent failure (e.g. the mail server refused the address); transient ones are retried instead."""
        self.failed[channel] = reason
