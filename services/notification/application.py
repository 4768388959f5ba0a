"""notification's use cases: request a notice exactly once, and deliver it once per channel."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from prometheus_client import Counter

from services.notification.channels import BatchChannel, Channel, PermanentDeliveryFailure
from services.notification.compose import notice_kinds, notice_values
from services.notification.domainmodel import DELIVERED, REFUSED, Delivery, Notice, OutgoingNotice, notice_id
from services.notification.settings import NotificationSettings
from services.notification.templates import render
from services.notification.translate import CaseStep, Recipient, RegisteredPetition
from shared.language.chinatime import chinese_date
from shared.language.contracts.notices import NoticeKind
from shared.language.contracts.registration import CHANNEL_LABELS
from shared.language.contracts.registration import Channel as PetitionChannel
from shared.language.integration.envelope import IntegrationEvent
from shared.runtime.eventstore import IntegrityError, ServiceApplication

log = logging.getLogger(__name__)

REGISTRATION_RECEIPT = NoticeKind.REGISTRATION_RECEIPT.value
# The notices whose ids derive from the petition alone (one per petition): the registration receipt. A step's
# notices derive theirs from the step's event too (compose.py, request_step_notices).
NOTICE_KINDS = (REGISTRATION_RECEIPT,)
STEP_NOTICE_KINDS = tuple(kind for kind in NoticeKind if kind is not NoticeKind.REGISTRATION_RECEIPT)
# Every channel a notice may go on (services/notification/channels.py). `post` has no dispatcher yet: a notice for
# it awaits delivery by post (a later release prints and tracks postal notices); nothing is recorded as delivered.
POST = "post"
CHANNELS = ("inbox", "email", POST)
# How the receipt of an anonymous report addresses its unnamed writer (no contact: the inbox only).
ANONYMOUS_RECIPIENT = Recipient(name="匿名信访人", email=None, phone="")
DELIVERED_TOTAL = Counter("xinfang_notices_delivered_total", "Notices delivered", ["kind", "channel"])
AWAITING_POST = Counter("xinfang_notices_awaiting_post_total",
                        "Notices to petitioners without a mobile or e-mail, left for the post", ["kind"])
DELIVERY_FAILURES = Counter("xinfang_notice_delivery_failures_total", "Failed notice deliveries",
                            ["channel", "permanence"])


def case_aggregates(petition_id: UUID, step_event_ids: Sequence[str] = ()) -> list[UUID]:
    """The aggregates of this store that may hold a petition's notices and their deliveries (their ids derive from
    the petition's and, for a step's notices, from the ids of the case's step events, which the audit service
    computes from supervision's store; one never written holds nothing): what the audit service replays and
    bundles, asked over RPC (service.py) so that it loads none of this service's classes."""
    notices = [Notice.create_id(petition_id, kind) for kind in NOTICE_KINDS]
    notices += [notice_id(petition_id, kind.value, step) for step in step_event_ids for kind in STEP_NOTICE_KINDS]
    return [*notices, *(Delivery.create_id(notice, channel) for notice in notices for channel in CHANNELS)]


def channels_for(recipient: Recipient | None) -> list[str]:
    """Where a notice to `recipient` goes. A petitioner with a mobile (or an anonymous reporter, who reads it with
    the query code) gets it in the in-app inbox, and by e-mail if they gave one. A petitioner reached only by a
    landline has no account on the platform's apps: nothing pretends to deliver it there. Such a petitioner gets it
    by e-mail if they gave one, otherwise it awaits the post (`post`: recorded on the notice, not yet delivered)."""
    email = ["email"] if recipient is not None and recipient.email else []
    if recipient is None or recipient.phone:
        return ["inbox", *email]
    return email or [POST]


class NoLongerActive(RuntimeError):
    """Another dispatcher instance took over: this one must not send."""


class NotificationApplication(ServiceApplication):
    name = "Notification"
    service_name = "notification"

    def stored(self, aggregate_ids: Sequence[UUID]) -> list[UUID]:
        """Those of `aggregate_ids` this store holds events of (one query each)."""
        return [a for a in aggregate_ids if self.recorder.select_events(a, limit=1)]

    def step_notices_of(self, petition_id: UUID, step_event_ids: Sequence[str]) -> list[UUID]:
        """The notices of a petition's steps this store holds, and their deliveries: the notices looked up first
        (one query per step event and kind), then the deliveries of those found only."""
        notices = self.stored([notice_id(petition_id, kind.value, step) for step in step_event_ids
                               for kind in STEP_NOTICE_KINDS])
        return [*notices, *self.stored([Delivery.create_id(n, channel) for n in notices for channel in CHANNELS])]

    def __init__(self, settings: NotificationSettings, env: dict[str, str] | None = None) -> None:
        super().__init__(settings, env)
        self.notice_settings = settings

    def request_registration_receipt(self, event: IntegrationEvent, petition: RegisteredPetition) -> str:
        """The registration receipt (登记回执) with the query code: to the inbox, and by e-mail if one was given; for a
        petitioner reached only by a landline, by e-mail or else left for the post (`channels_for`). The query
        code, title and recipient come from intake's private RPC (translate.RegisteredPetition): the published
        event carries no personal data. An anonymous report has no recipient: its receipt waits in the inbox
        (查询码)."""
        petition_id = petition.petition_id
        notice_id = Notice.create_id(petition_id, REGISTRATION_RECEIPT)

        attempts = 0

        def decide() -> list[Notice]:
            nonlocal attempts
            attempts += 1
            # Optimistic first: on a retry (the store refused the save), the notice may exist already.
            if attempts > 1 and self._exists(notice_id):
                return []
            petitioner = petition.recipient or ANONYMOUS_RECIPIENT
            rendered = render(
                REGISTRATION_RECEIPT,
                name=petitioner.name,
                registered_date=petition.petitioned_on,
                channel_label=CHANNEL_LABELS[PetitionChannel(petition.channel)],
                title=petition.title,
                query_code=petition.query_code,
                issuer_name=self.notice_settings.bureau_name,
                issued_on=chinese_date(datetime.now(UTC)),
            )
            channels = channels_for(petition.recipient)
            if channels == [POST] and attempts == 1:
                AWAITING_POST.labels(REGISTRATION_RECEIPT).inc()
            return [Notice(
                petition_id=petition_id, kind=REGISTRATION_RECEIPT, query_code=petition.query_code,
                recipient={"name": petitioner.name, "email": petitioner.email, "phone": petitioner.phone},
                title=rendered.title, body=rendered.body, channels=channels,
                correlation_id=event.correlation_id, causation_id=event.id, template=str(rendered.template),
                step=None,
            )]

        return self.process(event.tracking, decide, key=event.subject)

    def request_step_notices(self, event: IntegrationEvent, step: CaseStep) -> str:
        """The notices a lifecycle step sends the petitioner (its declaration: compose.notice_kinds), each exactly
        once: a notice's id derives from the petition, its kind and the case.<step> event's id, so a redelivered
        event, or one processed again, requests nothing new (the tracking record, and the ids, refuse it); a step
        declared silent requests nothing. The values the exchange does not carry (what the step recorded in full,
        the petitioner's words and contact) come from supervision's and intake's private RPCs (translate.CaseStep).
        Each notice records the template it came from."""
        kinds = notice_kinds(step.action, step.details)
        attempts = 0

        def decide() -> list[Notice]:
            nonlocal attempts
            attempts += 1
            petitioner = step.recipient or ANONYMOUS_RECIPIENT
            channels = channels_for(step.recipient)
            issued_on = chinese_date(datetime.now(UTC))
            notices = []
            for kind in kinds:
                # Optimistic first: on a retry (the store refused the save), the notice may exist already.
                if attempts > 1 and self._exists(notice_id(step.petition_id, kind.value, step.event_id)):
                    continue
                rendered = render(kind.value, **notice_values(
                    kind, step, bureau_name=self.notice_settings.bureau_name, issued_on=issued_on,
                    status_url=self.notice_settings.status_url))
                if channels == [POST] and attempts == 1:
                    AWAITING_POST.labels(kind.value).inc()
                notices.append(Notice(  # its id: notice_id(petition, kind, the step event's id = its causation)
                    petition_id=step.petition_id, kind=kind.value, query_code=step.query_code,
                    recipient={"name": petitioner.name, "email": petitioner.email, "phone": petitioner.phone},
                    title=rendered.title, body=rendered.body, channels=channels,
                    correlation_id=event.correlation_id, causation_id=event.id, template=str(rendered.template),
                    step=step.action,
                ))
            return notices

        return self.process(event.tracking, decide, key=event.subject)

    def deliver(self, requested: Sequence[Any], channel: Channel, *, may_repeat: bool,
                still_active: Callable[[], bool] | None = None) -> int:
        """Deliver requested notices (their Requested events, in order) on `channel`; returns how many went out.

        Each outcome is a Delivery. `may_repeat` says the batch may include notices handled before (the first
        batch after a restart or a failure): only then is each checked first. On a channel where a second delivery
        is not harmless (e-mail), each outcome is saved the moment it is known and, before each send,
        `still_active()` confirms this dispatcher is still the active one: a crash re-sends at most one e-mail,
        and a standby that took over never sends alongside it. Idempotent channels (the inbox) deliver and save per
        batch.
        """
        concluded: list[Delivery] = []
        delivered = 0
        # A channel that takes a batch in one request (an idempotent one: the inbox) gets the whole batch at once.
        batched = channel.idempotent and isinstance(channel, BatchChannel)
        together: list[OutgoingNotice] | None = [] if batched else None
        try:
            for event in requested:
                notice = OutgoingNotice.from_requested(event)
                if channel.name not in notice.channels:
                    continue
                if may_repeat and self._exists(Delivery.create_id(notice.id, channel.name)):
                    continue
                if together is not None:
                    together.append(notice)
                    continue
                if not channel.idempotent and still_active is not None and not still_active():
                    raise NoLongerActive(f"{channel.name} dispatcher lost its lock; standing down")
                delivery = self._attempt(notice, channel)
                delivered += delivery.outcome == DELIVERED
                if channel.idempotent:
                    concluded.append(delivery)
                else:
                    self._save_deliveries([delivery])
            if together:
                try:
                    details = channel.deliver_all(together)
                except Exception:
                    DELIVERY_FAILURES.labels(channel.name, "transient").inc()
                    raise
                for notice, detail in zip(together, details, strict=True):
                    DELIVERED_TOTAL.labels(notice.kind, channel.name).inc()
                    concluded.append(self._delivery(notice, channel, DELIVERED, detail))
                delivered += len(together)
        finally:
            self._save_deliveries(concluded)
        return delivered

    def _attempt(self, notice: OutgoingNotice, channel: Channel) -> Delivery:
        try:
            outcome, detail = DELIVERED, channel.deliver(notice)
            DELIVERED_TOTAL.labels(notice.kind, channel.name).inc()
        except PermanentDeliveryFailure as failure:
            # The notice id only: the failure's text is for the delivery record, never the log (docs/operations.md).
            log.warning("notice %s: %s delivery refused for good", notice.id, channel.name)
            DELIVERY_FAILURES.labels(channel.name, "permanent").inc()
            outcome, detail = REFUSED, str(failure)
        except Exception:
            DELIVERY_FAILURES.labels(channel.name, "transient").inc()
            raise
        return self._delivery(notice, channel, outcome, detail)

    @staticmethod
    def _delivery(notice: OutgoingNotice, channel: Channel, outcome: str, detail: str) -> Delivery:
        return Delivery(notice_id=notice.id, channel=channel.name, outcome=outcome,
                        at=datetime.now(UTC).isoformat(), detail=detail, petition_id=str(notice.petition_id),
                        kind=notice.kind, title=notice.title, correlation_id=notice.correlation_id)

    def _save_deliveries(self, deliveries: list[Delivery]) -> None:
        if not deliveries:
            return
        events = [e for delivery in deliveries for e in delivery.collect_events()]
        try:
            self.save(*events)
        except IntegrityError:
            for each in events:  # some were recorded before (a repeated batch): keep the rest
                with contextlib.suppress(IntegrityError):
                    self.save(each)

    def _exists(self, aggregate_id: UUID) -> bool:
        try:
            self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return False
        return True
