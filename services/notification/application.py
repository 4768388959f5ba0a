"""notification's use cases: request a notice exactly once, and deliver it once per channel."""

from __future__ import annotations

import contextlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from functools import cache
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from prometheus_client import Counter

from services.notification.channels import (
    BatchChannel,
    Channel,
    DeliveryDeferred,
    PermanentDeliveryFailure,
    TransientDeliveryFailure,
)
from services.notification.compose import notice_kinds, notice_values, organ_notice_values, organs_told
from services.notification.domainmodel import (
    DELIVERED,
    FAILED,
    REFUSED,
    Delivery,
    Notice,
    OutgoingNotice,
    PostalDelivery,
    calendar_day,
    circular_notice_id,
    mail_number,
    notice_id,
    organ_notice_id,
)
from services.notification.errors import NoticeError, UnknownNotice
from services.notification.settings import NotificationSettings
from services.notification.templates import render
from services.notification.translate import CaseStep, IssuedCircular, RaisedWarning, Recipient, RegisteredPetition
from shared.language.chinatime import CHINA, chinese_date, chinese_day, local_date
from shared.language.contracts.identity import mobile_or_none
from shared.language.contracts.notices import NoticeKind
from shared.language.contracts.reference import TOPIC_LABELS
from shared.language.contracts.registration import CHANNEL_LABELS
from shared.language.contracts.registration import Channel as PetitionChannel
from shared.language.integration.envelope import IntegrationEvent
from shared.language.organs import OrganDirectory
from shared.language.places import PlaceDirectory
from shared.runtime.eventstore import IntegrityError, ServiceApplication

log = logging.getLogger(__name__)

REGISTRATION_RECEIPT = NoticeKind.REGISTRATION_RECEIPT.value
# The notices whose ids derive from the petition alone (one per petition): the registration receipt. A step's
# notices derive theirs from the step's event too (compose.py, request_step_notices).
NOTICE_KINDS = (REGISTRATION_RECEIPT,)
STEP_NOTICE_KINDS = tuple(kind for kind in NoticeKind
                          if kind not in (NoticeKind.REGISTRATION_RECEIPT, NoticeKind.ORGAN_CASE_NOTICE,
                                          NoticeKind.WARNING_NOTICE, NoticeKind.CIRCULAR_NOTICE))
# The steps' notices to organs: one per organ and step (domainmodel.organ_notice_id), by e-mail to its mailbox.
ORGAN_CHANNELS = ["email"]
# Every channel a notice may go on (services/notification/channels.py). `post` has no dispatcher: a clerk prints the
# notice, sends it by registered mail and records its posting and receipt (record_posting, record_postal_receipt:
# a PostalDelivery, whose id is the post channel's Delivery id, so the audit finds it among the notice's deliveries).
POST = "post"  # domainmodel.POST
SMS = "sms"
CHANNELS = ("inbox", "email", SMS, POST)
RESENDABLE = ("email", SMS)  # the channels whose delivery may fail through its retries, and be sent again by hand
# How the receipt of an anonymous report addresses its unnamed writer (no contact: the inbox only).
ANONYMOUS_RECIPIENT = Recipient(name="匿名信访人", email=None, phone="")
DELIVERED_TOTAL = Counter("xinfang_notices_delivered_total", "Notices delivered", ["kind", "channel"])
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
    """Where a notice to `recipient` goes. Every notice is published on the status page (`inbox`, read with the
    query code; not a receipt: no clock counts from it), and reaches the petitioner by e-mail if they gave one and
    by SMS if their phone is a mainland mobile. A petitioner with neither (a letter or a visit with a landline
    only) gets it by post. An anonymous report has no recipient: the status page only."""
    if recipient is None:
        return ["inbox"]
    reached = ["email"] if recipient.email else []
    if recipient.phone and mobile_or_none(recipient.phone):
        reached.append(SMS)
    return ["inbox", *(reached or [POST])]


def backoff_delay(attempt: int, base: float, cap: float, draw: Callable[[], float] = random.random) -> float:
    """How long to wait after failed attempt number `attempt` (1, 2, ...): exponential back-off with full jitter,
    a random time between 0 and min(cap, base·2^(attempt−1)), so that many notices failing at once (a provider
    outage) do not all come back at the same moment."""
    return draw() * min(cap, base * 2 ** (attempt - 1))


def failure_reason(error: BaseException) -> str:
    """Why a transient failure happened, in Chinese, for the record (never the error's text: it may quote an
    address or a number)."""
    if isinstance(error, TransientDeliveryFailure):
        return error.reason
    if isinstance(error, DeliveryDeferred):
        return "邮件服务器暂不接收"
    return "服务器无应答"


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
        # To organs: one query per step and organ with a mailbox (the county's few dozen organs).
        notices += self.stored([organ_notice_id(petition_id, code, step) for step in step_event_ids
                                for code in self.organs.codes if self.organs.get(code).email])
        return [*notices, *self.stored([Delivery.create_id(n, channel) for n in notices for channel in CHANNELS])]

    def __init__(self, settings: NotificationSettings, env: dict[str, str] | None = None) -> None:
        super().__init__(settings, env)
        self.notice_settings = settings
        self.organs = OrganDirectory.load(settings.routing_rules_file)  # the organs' mailboxes and parents

    def request_registration_receipt(self, event: IntegrationEvent, petition: RegisteredPetition) -> str:
        """The registration receipt (登记回执) with the query code: on the status page, and by e-mail, SMS or post as
        the petitioner's contact details allow (`channels_for`). The query code, title and recipient come from
        intake's private RPC (translate.RegisteredPetition): the published event carries no personal data. An
        anonymous report has no recipient: its receipt is on the status page only (查询码)."""
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
                    status_url=self.notice_settings.status_url, superior=self._superior(step)))
                notices.append(Notice(  # its id: notice_id(petition, kind, the step event's id = its causation)
                    petition_id=step.petition_id, kind=kind.value, query_code=step.query_code,
                    recipient={"name": petitioner.name, "email": petitioner.email, "phone": petitioner.phone},
                    title=rendered.title, body=rendered.body, channels=channels,
                    correlation_id=event.correlation_id, causation_id=event.id, template=str(rendered.template),
                    step=step.action,
                ))
            return notices + self._organ_notices(event, step, issued_on, retried=attempts > 1)

        return self.process(event.tracking, decide, key=event.subject)

    def _superior(self, step: CaseStep) -> str:
        """The name of the deciding organ's parent (上一级机关) in the organ table, or empty."""
        code = (step.decider or {}).get("code")
        parent = self.organs.parent_of(code) if code else None
        return parent.name if parent else ""

    def _organ_notices(self, event: IntegrationEvent, step: CaseStep, issued_on: str, *,
                       retried: bool) -> list[Notice]:
        """The notices telling each organ the step put the case before (compose.organs_told), by e-mail to its
        mailbox; an organ without one has its work list only. No query code, title or personal data: the case by
        its number and a link to its page in the console."""
        notices = []
        for organ, duty in organs_told(step):
            listed = self.organs.get(organ["code"])
            if listed is None or not listed.email:
                continue
            if retried and self._exists(organ_notice_id(step.petition_id, listed.code, step.event_id)):
                continue
            kind = NoticeKind.ORGAN_CASE_NOTICE
            rendered = render(kind.value, **organ_notice_values(
                step, {"code": listed.code, "name": listed.name}, duty, bureau_name=self.notice_settings.bureau_name,
                issued_on=issued_on, console_url=self.notice_settings.console_url))
            notices.append(Notice(  # its id: organ_notice_id(petition, organ, the step event's id)
                petition_id=step.petition_id, kind=kind.value, query_code="",
                recipient={"name": listed.name, "email": listed.email, "phone": None, "organ": listed.code},
                title=rendered.title, body=rendered.body, channels=list(ORGAN_CHANNELS),
                correlation_id=event.correlation_id, causation_id=event.id, template=str(rendered.template),
                step=step.action,
            ))
        return notices

    def deliver(self, requested: Sequence[Any], channel: Channel, *, may_repeat: bool,
                still_active: Callable[[], bool] | None = None, pause: Callable[[float], object] = time.sleep) -> int:
        """Deliver requested notices (their Requested events, in order) on `channel`; returns how many went out.

        Each outcome is a Delivery. `may_repeat` says the batch may include notices handled before (the first
        batch after a restart or a failure): only then is each checked first. On a channel where a second delivery
        is not harmless (e-mail), each outcome is saved the moment it is known and, before each send,
        `still_active()` confirms this dispatcher is still the active one: a crash re-sends at most one e-mail,
        and a standby that took over never sends alongside it. Idempotent channels (the inbox) deliver and save per
        batch. A transient failure on a non-idempotent channel is retried (`_try`), waiting with `pause`.
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
                delivery = self._attempt(notice, channel, still_active, pause)
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

    def _attempt(self, notice: OutgoingNotice, channel: Channel, still_active: Callable[[], bool] | None = None,
                 pause: Callable[[float], object] = time.sleep) -> Delivery:
        return self._delivery(notice, channel, *self._try(notice, channel, still_active, pause))

    def _try(self, notice: OutgoingNotice, channel: Channel, still_active: Callable[[], bool] | None,
             pause: Callable[[float], object]) -> tuple[str, str]:
        """(outcome, detail) of delivering `notice` on `channel`. On a non-idempotent channel (e-mail, SMS) a
        transient failure is tried again up to DELIVERY_ATTEMPTS times in all, after exponential back-off with full
        jitter, confirming before each try that this dispatcher is still the active one; through the limit, the
        delivery FAILED (re-sendable by hand), and the next notice goes on: an outage never holds back the case.
        SMS is sent with the same idempotency key each time, so a provider that took a request whose answer was
        lost sends it once. An idempotent channel's failure raises (the dispatcher retries its batch)."""
        settings = self.notice_settings
        limit = 1 if channel.idempotent else settings.delivery_attempts
        for attempt in range(1, limit + 1):
            try:
                detail = channel.deliver(notice)
            except PermanentDeliveryFailure as failure:
                # The notice id only: the failure's text is for the delivery record, never the log
                # (docs/operations.md).
                log.warning("notice %s: %s delivery refused for good", notice.id, channel.name)
                DELIVERY_FAILURES.labels(channel.name, "permanent").inc()
                return REFUSED, str(failure)
            except Exception as error:
                DELIVERY_FAILURES.labels(channel.name, "transient").inc()
                if channel.idempotent:
                    raise
                if attempt == limit:
                    log.warning("notice %s: %s delivery failed %d times (%s); recorded as failed", notice.id,
                                channel.name, limit, type(error).__name__)
                    DELIVERY_FAILURES.labels(channel.name, "exhausted").inc()
                    return FAILED, f"尝试发送{limit}次仍未送达（{failure_reason(error)}）"
                delay = backoff_delay(attempt, settings.delivery_backoff_seconds,
                                      settings.delivery_backoff_cap_seconds)
                log.info("notice %s: %s attempt %d failed (%s); trying again in %.1fs", notice.id, channel.name,
                         attempt, type(error).__name__, delay)
                pause(delay)
                if still_active is not None and not still_active():
                    raise NoLongerActive(f"{channel.name} dispatcher lost its lock; standing down") from None
            else:
                DELIVERED_TOTAL.labels(notice.kind, channel.name).inc()
                return DELIVERED, detail
        raise AssertionError("unreachable: the last attempt returns")  # pragma: no cover

    def request_resend(self, notice_id: UUID, channel: str, actor: dict[str, Any]) -> Delivery:
        """An officer asks to send a failed delivery again: recorded as the Delivery's ResendRequested, which the
        channel's dispatcher follows (`resend`). Refused (NoticeError) unless the delivery exists and failed, and
        while a re-send asked before is not yet answered."""
        if channel not in CHANNELS:
            raise UnknownNotice()
        if channel not in RESENDABLE:
            raise NoticeError("not_failed", "只有发送失败的告知才能重新发送")
        try:
            delivery: Delivery = self.repository.get(Delivery.create_id(notice_id, channel))
        except AggregateNotFoundError:
            if self._exists(notice_id):
                raise NoticeError("not_failed", "只有发送失败的告知才能重新发送") from None
            raise UnknownNotice() from None
        if delivery.outcome != FAILED:
            raise NoticeError("not_failed", "只有发送失败的告知才能重新发送")
        if delivery.resend_pending:
            raise NoticeError("resend_pending", "这份告知已在重新发送，请稍后查看结果")
        delivery.request_resend(by=actor, at=datetime.now(UTC).isoformat())
        try:
            self.save(delivery)
        except IntegrityError:  # another officer's request was recorded first
            raise NoticeError("resend_pending", "这份告知已在重新发送，请稍后查看结果") from None
        return delivery

    def resend(self, requests: Sequence[Any], channel: Channel, *, still_active: Callable[[], bool] | None = None,
               pause: Callable[[float], object] = time.sleep) -> int:
        """Answer the re-sends asked on `channel` (their Delivery.ResendRequested events, in order) with an
        Attempted each, saved the moment it is known; returns how many went out. Each delivery is read as it
        stands: a request already answered (a batch read again after a restart) is not attempted again. The
        notice is sent as the first time, with the same retries and (SMS) the same idempotency key."""
        delivered = 0
        for event in requests:
            delivery: Delivery = self.repository.get(event.originator_id)
            if delivery.channel != channel.name or not delivery.resend_pending:
                continue
            [requested] = self.events.get(delivery.notice_id, lte=1)
            notice = OutgoingNotice.from_requested(requested)
            if still_active is not None and not still_active():
                raise NoLongerActive(f"{channel.name} dispatcher lost its lock; standing down")
            outcome, detail = self._try(notice, channel, still_active, pause)
            delivery.record_attempt(outcome=outcome, at=datetime.now(UTC).isoformat(), detail=detail)
            with contextlib.suppress(IntegrityError):  # answered meanwhile by another instance (it lost its lock)
                self.save(delivery)
            delivered += outcome == DELIVERED
        return delivered

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

    # --- post (挂号信): what the clerk records -------------------------------------------------------------------
    def record_posting(self, notice_id: UUID | str, posted_on: Any, registered_mail_number: Any,
                       actor: dict[str, Any], *, now: datetime | None = None) -> PostalDelivery:
        """Record that a notice for the post went by registered mail on `posted_on` (an ISO day, in China) under
        `registered_mail_number`. Once: the same record sent again changes nothing, a different one is refused
        (NoticeError), as are an unknown notice, one not for the post, a malformed day or number, and a day after
        today or before the notice was issued."""
        notice = self._postal_notice(notice_id)
        day = calendar_day(posted_on, "邮寄日期")
        number = mail_number(registered_mail_number)
        today = local_date(now or datetime.now(UTC))
        issued = local_date(notice.created_on)
        for attempt in (1, 2):
            posted = self._postal(notice.id)
            if posted is not None:
                if (posted.posted_on, posted.registered_mail_number) == (day.isoformat(), number):
                    return posted  # sent again (a double click, a retried request): already so
                raise NoticeError("already_posted", f"已登记邮寄：{chinese_day(posted.posted_on)}寄出，"
                                                      f"挂号信号码{posted.registered_mail_number}")
            if day > today:
                raise NoticeError("posted_in_future", "邮寄日期不能晚于今天", 422)
            if day < issued:
                raise NoticeError("posted_before_issued", f"邮寄日期不能早于告知书出具之日（{chinese_day(issued)}）",
                                    422)
            posted = PostalDelivery(
                notice_id=notice.id, posted_on=day.isoformat(), registered_mail_number=number, by=actor,
                at=datetime.now(UTC).isoformat(), petition_id=str(notice.petition_id), kind=notice.kind,
                title=notice.title, correlation_id=notice.correlation_id)
            try:
                self.save(posted)
            except IntegrityError:  # another clerk recorded it meanwhile: answered from the record, as above
                if attempt == 2:  # noqa: PLR2004
                    raise
                continue
            return posted
        raise AssertionError("unreachable")

    def record_postal_receipt(self, notice_id: UUID | str, received_on: Any, actor: dict[str, Any], *,
                              now: datetime | None = None) -> PostalDelivery:
        """Record the day a posted notice reached the petitioner (the receipt slip's date, in China): the day the
        clocks that run from receipt count from. Once: the same day again changes nothing, another one is refused,
        as are a notice not posted yet and a day before its posting or after today."""
        notice = self._postal_notice(notice_id)
        day = calendar_day(received_on, "签收日期")
        today = local_date(now or datetime.now(UTC))
        for attempt in (1, 2):
            posted = self._postal(notice.id)
            if posted is None:
                raise NoticeError("not_posted", "这份告知尚未登记邮寄，请先登记邮寄日期和挂号信号码")
            if posted.received_on is not None:
                if posted.received_on == day.isoformat():
                    return posted
                raise NoticeError("already_received", f"已登记签收：{chinese_day(posted.received_on)}签收")
            if day < date.fromisoformat(posted.posted_on):
                raise NoticeError("received_before_posted",
                                    f"签收日期不能早于邮寄日期（{chinese_day(posted.posted_on)}）", 422)
            if day > today:
                raise NoticeError("received_in_future", "签收日期不能晚于今天", 422)
            posted.record_receipt(received_on=day.isoformat(), by=actor, at=datetime.now(UTC).isoformat())
            try:
                self.save(posted)
            except IntegrityError:  # recorded meanwhile by another clerk: answered from the record, as above
                if attempt == 2:  # noqa: PLR2004
                    raise
                continue
            return posted
        raise AssertionError("unreachable")

    def _postal_notice(self, notice_id: UUID | str) -> Notice:
        """The notice for the post that the clerk names; refuses an unknown one and one that goes otherwise."""
        try:
            notice = self.repository.get(notice_id if isinstance(notice_id, UUID) else UUID(str(notice_id)))
        except (AggregateNotFoundError, ValueError):
            notice = None
        if not isinstance(notice, Notice):
            raise UnknownNotice()
        if POST not in notice.channels:
            raise NoticeError("not_by_post", "这份告知不经邮寄送达")
        return notice

    def _postal(self, notice_id: UUID) -> PostalDelivery | None:
        try:
            return self.repository.get(PostalDelivery.create_id(notice_id))
        except AggregateNotFoundError:
            return None

    # --- early warnings (supervision's case.warning_raised): the supervisors' notice -------------------------------
    def request_warning_notice(self, event: IntegrationEvent, warning: RaisedWarning) -> str:
        """The notice telling the bureau's supervisors (督查督办) of an early warning, exactly once: its id derives from
        the warning's (`notice_id(warning, kind)`; the notice keeps the warning's id where a petition's would be), so
        a redelivered event, or the same warning published again, requests nothing new. By e-mail to
        NOTICE_SUPERVISORS_EMAIL; none set: the notice is recorded on no channel (listed, not sent). Codes, counts,
        dates and case numbers only: no query code, no title, no personal data."""
        kind = NoticeKind.WARNING_NOTICE
        requested = notice_id(warning.warning_id, kind.value)
        settings = self.notice_settings
        attempts = 0

        def decide() -> list[Notice]:
            nonlocal attempts
            attempts += 1
            if attempts > 1 and self._exists(requested):
                return []
            rendered = render(kind.value, **warning_notice_values(
                warning, addressee=settings.supervisors_name, bureau_name=settings.bureau_name,
                issued_on=chinese_date(datetime.now(UTC)), console_url=settings.console_url))
            email = settings.supervisors_email.strip() or None
            return [Notice(  # its id: notice_id(the warning's id, kind)
                petition_id=warning.warning_id, kind=kind.value, query_code="",
                recipient={"name": settings.supervisors_name, "email": email, "phone": None},
                title=rendered.title, body=rendered.body, channels=list(ORGAN_CHANNELS) if email else [],
                correlation_id=event.correlation_id, causation_id=event.id, template=str(rendered.template),
                step=None,
            )]

        return self.process(event.tracking, decide, key=event.subject)


    # --- circulars (supervision's case.circular_issued): each organ's notice -----------------------------------------
    def request_circular_notices(self, event: IntegrationEvent, circular: IssuedCircular) -> str:
        """The notice telling each organ a circular names of it (信访工作通报), each exactly once: its id derives from
        the circular's and the organ's (`circular_notice_id`; the notice keeps the circular's id where a petition's
        would be), so a redelivered event, or one processed again, requests nothing new. By e-mail to the organ's
        mailbox (the organ table's `email`); an organ without one has its notice recorded on no channel (listed, not
        sent: it reads the circular in the console). Its title, number, kind, the problems and demands (the bureau's
        own text, from supervision's private RPC), the day to report by and a link to the console: no query code,
        no petitioner's words or data."""
        kind = NoticeKind.CIRCULAR_NOTICE
        settings = self.notice_settings
        attempts = 0

        def decide() -> list[Notice]:
            nonlocal attempts
            attempts += 1
            issued_on = chinese_date(datetime.now(UTC))
            notices = []
            for code in circular.organs:
                listed = self.organs.get(code)
                if listed is None:  # checked by supervision against the same table: a table changed since
                    log.warning("circular %s: organ %s is not in the organ table; not told", circular.circular_id,
                                code)
                    continue
                requested = circular_notice_id(circular.circular_id, listed.code)
                if attempts > 1 and self._exists(requested):
                    continue
                rendered = render(kind.value, **circular_notice_values(
                    circular, organ_name=listed.name, bureau_name=settings.bureau_name, issued_on=issued_on,
                    console_url=settings.console_url))
                notices.append(Notice(  # its id: circular_notice_id(circular, organ), as `requested`
                    petition_id=circular.circular_id, kind=kind.value,
                    query_code="", recipient={"name": listed.name, "email": listed.email, "phone": None,
                                              "organ": listed.code},
                    title=rendered.title, body=rendered.body, channels=list(ORGAN_CHANNELS) if listed.email else [],
                    correlation_id=event.correlation_id, causation_id=event.id, template=str(rendered.template),
                    step=None))
            return notices

        return self.process(event.tracking, decide, key=event.subject)

@cache
def _places() -> PlaceDirectory:
    return PlaceDirectory.load()


def _window_text(start: datetime, end: datetime) -> str:
    """e.g. 2026年11月2日0时至2026年11月3日0时 (China time)."""
    start, end = start.astimezone(CHINA), end.astimezone(CHINA)
    return f"{chinese_date(start)}{start.hour}时至{chinese_date(end)}{end.hour}时"


def warning_notice_values(warning: RaisedWarning, *, addressee: str, bureau_name: str, issued_on: str,
                          console_url: str) -> dict[str, str]:
    """The values of the supervisors' notice of `warning` (NoticeKind.WARNING_NOTICE): the topic's Chinese label and
    the town's name from the reference data, the window and the day in Chinese, the petitions by their ids."""
    window = _window_text(warning.window_start, warning.window_end) if warning.window_start and warning.window_end \
        else ""
    return {"organ_name": addressee, "issuer_name": bureau_name, "issued_on": issued_on,
            "warning_kind": warning.kind,
            "topic_label": TOPIC_LABELS.get(warning.topic, warning.topic) if warning.topic else "",  # type: ignore[call-overload]
            "place_name": (_places().name_of(warning.town) or warning.town) if warning.town else "",
            "window": window, "count": str(warning.count),
            "threshold": str(warning.threshold) if warning.threshold else "",
            "petition_refs": "\n".join(warning.petitions), "warning_ref": str(warning.warning_id),
            "raised_on": chinese_date(warning.raised_at), "console_url": console_url}


def circular_notice_values(circular: IssuedCircular, *, organ_name: str, bureau_name: str, issued_on: str,
                           console_url: str) -> dict[str, str]:
    """The values of an organ's notice of `circular` (NoticeKind.CIRCULAR_NOTICE): the day to report by in Chinese,
    the cases by their count (the organ reads their numbers in the console)."""
    return {"organ_name": organ_name, "issuer_name": bureau_name, "issued_on": issued_on,
            "circular_kind": circular.kind, "circular_title": circular.title, "circular_number": circular.number,
            "problems": circular.problems, "demands": circular.demands,
            "report_due": chinese_day(circular.report_due.isoformat()) if circular.report_due else "",
            "case_count": str(len(circular.petitions)) if circular.petitions else "", "console_url": console_url}
