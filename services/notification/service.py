"""notification's nameko service: `nameko run --config deploy/nameko.yml services.notification.service`.

It only *requests* notices (exactly once per triggering event); the dispatcher process delivers them.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from nameko.rpc import rpc

from services.notification.application import NotificationApplication, case_aggregates
from services.notification.bootstrap import build_application
from services.notification.compose import notice_kinds
from services.notification.domainmodel import PostalDelivery
from services.notification.errors import NoticeError, UnknownNotice
from services.notification.translate import CaseStep, IssuedCircular, RaisedWarning, RegisteredPetition
from shared.language.contracts.actor import Role
from shared.language.contracts.notices import TELLS_ORGANS
from shared.language.integration.envelope import IntegrationEvent
from shared.runtime.callers import AUDIT, GATEWAY, CallerRefused
from shared.runtime.eventstore import PROCESSED
from shared.runtime.messaging.consumer import integration_event_handler
from shared.runtime.nameko_support import (
    ApplicationProvider,
    BoundedRpcProxy,
    CallerCheck,
    MetricsEndpoint,
    ServiceCallers,
    petition_particulars,
)


class NotificationService:
    name = "notification"

    notification: NotificationApplication = ApplicationProvider(build_application)
    metrics = MetricsEndpoint()
    callers: ServiceCallers = CallerCheck()
    intake = BoundedRpcProxy("intake")  # the private path to the recipient's contact details (not on the exchange)
    supervision = BoundedRpcProxy("supervision")  # the private path to what a step recorded (its free text)

    @integration_event_handler
    def handle_petition_registered(self, event: IntegrationEvent) -> str:
        particulars = petition_particulars(self.intake, self.callers, event.subject, "notice")
        return self.notification.request_registration_receipt(event, RegisteredPetition.of(event, particulars))

    @integration_event_handler
    def handle_case_step(self, event: IntegrationEvent) -> str:
        """A case.<step> of a step that may send a notice (shared/runtime/messaging/topology.py NOTICE_STEP_TYPES):
        the notices its declaration sends for what it decided, and those telling the organs it put the case before
        (TELLS_ORGANS), each exactly once. A step that sends none here (a rejected objection, a report up) asks
        nothing of anyone."""
        action = event.data["action"]
        if not notice_kinds(action, event.data["details"]) and action not in TELLS_ORGANS:
            return PROCESSED
        step = self.supervision.step_particulars(event.subject, event.id,
                                                 self.callers.assertion("supervision", "step_particulars"))
        if step is None:  # published only once stored: supervision must know it
            raise LookupError(f"supervision does not know step event {event.id} of petition {event.subject}")
        particulars = petition_particulars(self.intake, self.callers, event.subject, "notice")
        return self.notification.request_step_notices(event, CaseStep.of(event, step, particulars))

    @integration_event_handler
    def handle_warning_raised(self, event: IntegrationEvent) -> str:
        """A `case.warning_raised` (supervision's early warning): the notice telling the bureau's supervisors of it,
        exactly once (its id derives from the warning's). The event carries all it says: no RPC, no personal data."""
        return self.notification.request_warning_notice(event, RaisedWarning.of(event))

    @integration_event_handler
    def handle_circular_issued(self, event: IntegrationEvent) -> str:
        """A `case.circular_issued` (supervision's circular to organs): the notice telling each organ it names, each
        exactly once. The circular's text (title, problems, demands) comes from supervision's private RPC: the
        exchange does not carry it."""
        found = self.supervision.circular_particulars(event.subject,
                                                      self.callers.assertion("supervision", "circular_particulars"))
        if found is None:  # published only once stored: supervision must know it
            raise LookupError(f"supervision does not know circular {event.subject}")
        return self.notification.request_circular_notices(event, IssuedCircular.of(event, found))

    @rpc(expected_exceptions=CallerRefused)
    def case_aggregates(self, petition_id: str, caller: str | None = None,
                        step_event_ids: list[str] | None = None) -> list[str]:
        """The ids of the notices and deliveries of a petition, for the audit service only: the receipt's (which may
        not be written yet) and, of the notices of its steps (`step_event_ids`: the ids of the case's published
        step events), those this store holds."""
        self.callers.require(caller, {AUDIT}, "case_aggregates")
        steps = self.notification.step_notices_of(UUID(petition_id), step_event_ids or [])
        return [str(aggregate_id) for aggregate_id in (*case_aggregates(UUID(petition_id)), *steps)]

    # --- RPC: the clerk's records of the post (the gateway's case page) -----------------------------------------
    @rpc(expected_exceptions=CallerRefused)
    def record_posting(self, notice_id: str, posted_on: str, registered_mail_number: str,
                       caller: str | None = None) -> dict[str, Any]:
        """Record that a notice for the post was sent by registered mail: {"ok": true, ...the postal record} or
        {"ok": false, "http_status": 4xx, "problem": {"error", "message": 中文}} (a refusal is an answer, as
        supervision's `perform` gives it). A clerk or an admin, as the gateway asserts them."""
        actor = self.callers.require(caller, {GATEWAY}, "record_posting").actor
        try:
            _may_record_post(actor)
            posted = self.notification.record_posting(notice_id, posted_on, registered_mail_number, actor)
        except NoticeError as refused:
            return refused.as_refusal()
        return postal_record(posted)

    @rpc(expected_exceptions=CallerRefused)
    def record_postal_receipt(self, notice_id: str, received_on: str, caller: str | None = None) -> dict[str, Any]:
        """Record the day a posted notice was received (from the receipt slip), as `record_posting` answers."""
        actor = self.callers.require(caller, {GATEWAY}, "record_postal_receipt").actor
        try:
            _may_record_post(actor)
            posted = self.notification.record_postal_receipt(notice_id, received_on, actor)
        except NoticeError as refused:
            return refused.as_refusal()
        return postal_record(posted)

    # --- RPC: a failed delivery sent again by hand (the console's failed deliveries) ---------------------------
    @rpc(expected_exceptions=CallerRefused)
    def resend(self, notice_id: str, channel: str, caller: str | None = None) -> dict[str, Any]:
        """Ask that a delivery that failed through its retries (e-mail, SMS) be sent again: {"ok": true,
        "notice_id", "channel", "outcome": "resend_requested"} (the channel's dispatcher sends it, with the same
        idempotency key), or a refusal as `record_posting` gives one: 404 unknown_notice, 409 not_failed or
        resend_pending, 403 not_permitted. A clerk, a supervisor or an admin, as the gateway asserts them."""
        actor = self.callers.require(caller, {GATEWAY}, "resend").actor
        try:
            if actor is None or actor.get("role") not in RESENDERS:
                raise NoticeError("not_permitted", "只有登记员、督查督办人员或者管理员可以重新发送告知", 403)
            try:
                notice = UUID(notice_id)
            except (TypeError, ValueError):
                raise UnknownNotice() from None
            self.notification.request_resend(notice, channel, actor)
        except NoticeError as refused:
            return refused.as_refusal()
        return {"ok": True, "notice_id": str(notice), "channel": channel, "outcome": "resend_requested"}


RESENDERS = (Role.CLERK, Role.SUPERVISOR, Role.ADMIN)  # those who see failed deliveries in the console
POSTAL_RECORDERS = (Role.CLERK, Role.ADMIN)  # the counter's clerks post the bureau's letters and file the slips


def _may_record_post(actor: dict[str, Any] | None) -> None:
    if actor is None or actor.get("role") not in POSTAL_RECORDERS:
        raise NoticeError("not_permitted", "只有登记员或者管理员可以登记邮寄和签收", 403)


def postal_record(posted: PostalDelivery) -> dict[str, Any]:
    """What the RPCs answer of a postal delivery (the registered-mail number is the bureau's own record)."""
    return {"ok": True, "notice_id": str(posted.notice_id), "channel": "post",
            "outcome": "received" if posted.received_on else "posted", "posted_on": posted.posted_on,
            "registered_mail_number": posted.registered_mail_number, "received_on": posted.received_on}
