"""notification's aggregates: a notice to a petitioner, and its delivery on each channel."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.notification.errors import NoticeError

NOTICE_NAMESPACE = uuid5(NAMESPACE_URL, "urn:xinfang:notice")
DELIVERY_NAMESPACE = uuid5(NAMESPACE_URL, "urn:xinfang:notice-delivery")
DELIVERED = "delivered"
REFUSED = "refused"  # a permanent failure, e.g. the mail server refused the address; transient ones are retried
# Transient failures through the retry limit (the provider never answered, or kept answering 5xx): re-sendable by
# hand (NotificationApplication.request_resend).
FAILED = "failed"


def notice_id(petition_id: UUID, kind: str, step_event_id: str | None = None) -> UUID:
    """A notice's id. The registration receipt (one per petition): from the petition and the kind, as ever since
    the first release. A step's notice: from the petition, the kind and the id of the case.<step> event that asked
    for it (a step may be taken more than once, e.g. a transfer after an upheld objection, and each sends its own)."""
    if step_event_id is None:
        return uuid5(NOTICE_NAMESPACE, f"{petition_id}/{kind}")
    return uuid5(NOTICE_NAMESPACE, f"{petition_id}/{kind}/{step_event_id}")


ORGAN_CASE_NOTICE = "organ_case_notice"  # shared/language/contracts/notices.py NoticeKind.ORGAN_CASE_NOTICE


def organ_notice_id(petition_id: UUID, organ_code: str, step_event_id: str) -> UUID:
    """The id of the notice telling organ `organ_code` of the case a step put before it: a step may tell several
    organs (the lead and the joining ones), each once."""
    return uuid5(NOTICE_NAMESPACE, f"{petition_id}/{ORGAN_CASE_NOTICE}/{organ_code}/{step_event_id}")


CIRCULAR_NOTICE = "circular_notice"  # shared/language/contracts/notices.py NoticeKind.CIRCULAR_NOTICE


def circular_notice_id(circular_id: UUID, organ_code: str) -> UUID:
    """The id of the notice telling organ `organ_code` of circular `circular_id`: one per organ and circular (the
    notice keeps the circular's id where a petition's notice keeps the petition's)."""
    return notice_id(circular_id, CIRCULAR_NOTICE, organ_code)


class Notice(Aggregate):
    """A notice (回执/告知书), composed once. Its id is derived from the petition, the kind of notice and, for a
    lifecycle step's notice, the id of the step's integration event, so the same notice can be requested only once
    however often the event asking for it is delivered (or processed)."""

    @staticmethod
    def create_id(petition_id: UUID, kind: str, step: str | None = None,  # type: ignore[override]
                  causation_id: str | None = None, recipient: dict[str, Any] | None = None) -> UUID:
        """From the Requested event's own values: a step's notice is caused by the step's event (`causation_id`);
        a notice to an organ is also the organ's (`recipient["organ"]`)."""
        if kind == ORGAN_CASE_NOTICE and recipient is not None and causation_id is not None:
            return organ_notice_id(petition_id, str(recipient["organ"]), causation_id)
        if kind == CIRCULAR_NOTICE and recipient is not None:  # one circular tells several organs, each once
            return circular_notice_id(petition_id, str(recipient["organ"]))
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
    once; the channels never contend for the same record. The id is also the SMS provider's idempotency key.
    A delivery that FAILED through its retries may be re-sent by hand: ResendRequested, answered by Attempted
    (its outcome becomes the delivery's)."""

    @staticmethod
    def create_id(notice_id: UUID, channel: str) -> UUID:  # type: ignore[override]
        return uuid5(DELIVERY_NAMESPACE, f"{notice_id}/{channel}")

    @event("Concluded")
    def __init__(
        self,
        *,
        notice_id: UUID,
        channel: str,
        outcome: str,  # DELIVERED, REFUSED or FAILED
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
        self.petition_id = petition_id
        self.kind = kind
        self.title = title
        self.correlation_id = correlation_id
        self.resend_pending = False  # a ResendRequested not yet answered by an Attempted

    class ResendRequested(Aggregate.Event):
        """An officer asked to send a failed delivery again (NotificationApplication.request_resend)."""

        by: dict[str, Any]  # the actor (shared/language/contracts/actor.py)
        at: str

    def request_resend(self, *, by: dict[str, Any], at: str) -> None:
        self._resend_requested(by=by, at=at)

    @event(ResendRequested)
    def _resend_requested(self, *, by: dict[str, Any], at: str) -> None:
        self.resend_pending = True

    class Attempted(Aggregate.Event):
        """The outcome of a re-send. It carries the notice's values as Concluded does, so that the relay publishes a
        successful one as `notice.delivered` from the event alone (translate.py)."""

        outcome: str  # DELIVERED, REFUSED or FAILED
        at: str
        detail: str
        notice_id: UUID
        channel: str
        petition_id: str
        kind: str
        title: str
        correlation_id: str

    def record_attempt(self, *, outcome: str, at: str, detail: str) -> None:
        self._attempted(outcome=outcome, at=at, detail=detail, notice_id=self.notice_id, channel=self.channel,
                        petition_id=self.petition_id, kind=self.kind, title=self.title,
                        correlation_id=self.correlation_id)

    @event(Attempted)
    def _attempted(self, *, outcome: str, at: str, detail: str, notice_id: UUID, channel: str, petition_id: str,
                   kind: str, title: str, correlation_id: str) -> None:
        self.outcome = outcome
        self.resend_pending = False


# --- Post (挂号信): the clerk records the posting and, later, the date of receipt --------------------------------
POST = "post"
POSTED = "posted"
RECEIVED = "received"
# A registered-mail number (挂号信号码) as China Post prints it, spaces aside: letters and digits (domestic numbers are
# 13 digits, international ones two letters, nine digits and "CN"); 8-20 characters allow for other carriers' forms.
MAIL_NUMBER = re.compile(r"[A-Z0-9]{8,20}")


def mail_number(text: Any) -> str:
    """A registered-mail number as recorded: without spaces, letters in capitals; refuses anything else."""
    number = "".join(str(text or "").split()).upper()
    if not MAIL_NUMBER.fullmatch(number):
        raise NoticeError("invalid_mail_number", "挂号信号码格式不正确（应为8至20位字母或数字）", 422)
    return number


def calendar_day(value: Any, what: str) -> date:
    """An ISO calendar day (2026-12-05) as the clerk gives it; refuses anything else (a time, another format)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        if not isinstance(value, str) or len(value) != 10:  # noqa: PLR2004 - YYYY-MM-DD
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise NoticeError("invalid_date", f"{what}格式不正确，应为年-月-日（如2026-12-05）", 422) from None


class PostalDelivery(Aggregate):
    """A notice sent on paper by registered mail, as the clerk records it: posted (on which day, under which
    registered-mail number), then received (on which day: what the petitioner's clocks count from, Art. 35-36 of
    the 信访工作条例). Its id is the post channel's Delivery id, so the audit finds it with the notice's other
    deliveries. The events carry the notice's values, so the relay publishes them from the events alone."""

    @staticmethod
    def create_id(notice_id: UUID) -> UUID:  # type: ignore[override]
        return Delivery.create_id(notice_id, POST)

    @event("Posted")
    def __init__(
        self,
        *,
        notice_id: UUID,
        posted_on: str,  # ISO date, in China
        registered_mail_number: str,  # as mail_number() normalised it
        by: dict[str, Any],  # the clerk (shared/language/contracts/actor.py)
        at: str,  # when it was recorded (ISO time)
        petition_id: str,
        kind: str,
        title: str,
        correlation_id: str,
    ) -> None:
        self.notice_id = notice_id
        self.posted_on = posted_on
        self.registered_mail_number = registered_mail_number
        self.petition_id = petition_id
        self.kind = kind
        self.title = title
        self.correlation_id = correlation_id
        self.received_on: str | None = None

    class ReceiptRecorded(Aggregate.Event):
        received_on: str  # ISO date, in China
        by: dict[str, Any]
        at: str
        # the notice's values, as Posted carries them (the relay publishes notice.delivered from this event alone)
        notice_id: UUID
        petition_id: str
        kind: str
        title: str
        correlation_id: str

    def record_receipt(self, *, received_on: str, by: dict[str, Any], at: str) -> None:
        self._receipt_recorded(received_on=received_on, by=by, at=at, notice_id=self.notice_id,
                               petition_id=self.petition_id, kind=self.kind, title=self.title,
                               correlation_id=self.correlation_id)

    @event(ReceiptRecorded)
    def _receipt_recorded(self, *, received_on: str, by: dict[str, Any], at: str, notice_id: UUID,
                          petition_id: str, kind: str, title: str, correlation_id: str) -> None:
        self.received_on = received_on


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
