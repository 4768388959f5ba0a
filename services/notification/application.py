"""notification's use cases: request a notice exactly once, and deliver it at most once per channel."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timezone
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from prometheus_client import Counter

from services.notification.channels import Channel, PermanentDeliveryFailure
from services.notification.domainmodel import Notice
from services.notification.settings import NotificationSettings
from services.notification.templates import chinese_date, render
from shared.contracts.registration import CHANNEL_LABELS, Channel as PetitionChannel
from shared.eventstore import IntegrityError, ServiceApplication
from shared.integration.envelope import IntegrationEvent

log = logging.getLogger(__name__)

REGISTRATION_RECEIPT = "registration_receipt"
DELIVERED = Counter("xinfang_notices_delivered_total", "Notices delivered", ["kind", "channel"])
DELIVERY_FAILURES = Counter("xinfang_notice_delivery_failures_total", "Failed notice deliveries",
                            ["channel", "permanence"])


class NotificationApplication(ServiceApplication):
    name = "Notification"
    service_name = "notification"

    def __init__(self, settings: NotificationSettings, env: dict[str, str] | None = None) -> None:
        super().__init__(settings, env)
        self.notice_settings = settings

    def request_registration_receipt(self, event: IntegrationEvent) -> str:
        """The registration receipt (登记回执) with the query code: to the inbox, and by e-mail if one was given."""
        petition = event.data
        petition_id = UUID(petition["petition_id"])
        notice_id = Notice.create_id(petition_id, REGISTRATION_RECEIPT)

        def decide() -> list[Notice]:
            if self._exists(notice_id):
                return []  # requested before (by an earlier delivery of this very event)
            petitioner = petition["petitioner"]
            title, body = render(
                REGISTRATION_RECEIPT,
                name=petitioner["name"],
                registered_date=chinese_date(datetime.fromisoformat(petition["registered_at"])),
                channel_label=CHANNEL_LABELS[PetitionChannel(petition["channel"])],
                title=petition["title"],
                query_code=petition["query_code"],
                bureau_name=self.notice_settings.bureau_name,
                today=chinese_date(datetime.now(timezone.utc)),
            )
            channels = ["inbox", *(["email"] if petitioner.get("email") else [])]
            return [Notice(
                petition_id=petition_id, kind=REGISTRATION_RECEIPT, query_code=petition["query_code"],
                recipient={"name": petitioner["name"], "email": petitioner.get("email"), "phone": petitioner["phone"]},
                title=title, body=body, channels=channels,
                correlation_id=event.correlation_id, causation_id=event.id,
            )]

        return self.process(event.tracking, decide)

    def deliver(self, notice_id: UUID, channel: Channel) -> bool:
        """Deliver on `channel` unless that already happened; True if it was delivered now."""
        notice: Notice = self.repository.get(notice_id)
        if channel.name not in notice.channels or notice.is_settled(channel.name):
            return False
        try:
            detail = channel.deliver(notice)
        except PermanentDeliveryFailure as failure:
            log.warning("notice %s: %s delivery failed for good: %s", notice_id, channel.name, failure)
            DELIVERY_FAILURES.labels(channel.name, "permanent").inc()
            self._record_delivery(notice_id, channel.name, lambda n: n.mark_failed(channel=channel.name, reason=str(failure)))
            return False
        except Exception:
            DELIVERY_FAILURES.labels(channel.name, "transient").inc()
            raise
        at = datetime.now(timezone.utc).isoformat()
        self._record_delivery(notice_id, channel.name, lambda n: n.mark_delivered(
            channel=channel.name, at=at, detail=detail, petition_id=str(n.petition_id), kind=n.kind, title=n.title,
            correlation_id=n.correlation_id))
        DELIVERED.labels(notice.kind, channel.name).inc()
        return True

    def _record_delivery(self, notice_id: UUID, channel: str, mutate: Callable[[Notice], None]) -> None:
        # The other channel's dispatcher may have saved meanwhile: reload and append, never send again.
        for _attempt in range(10):
            notice: Notice = self.repository.get(notice_id)
            if notice.is_settled(channel):
                return
            mutate(notice)
            try:
                self.save(notice)
                return
            except IntegrityError:
                continue
        raise RuntimeError(f"could not record {channel} delivery of notice {notice_id}")

    def _exists(self, notice_id: UUID) -> bool:
        try:
            self.repository.get(notice_id)
        except AggregateNotFoundError:
            return False
        return True
