"""supervision's nameko service: `nameko run --config deploy/nameko.yml services.supervision.service`."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from nameko.rpc import rpc
from nameko.timer import timer

from services.supervision.application import SupervisionApplication
from services.supervision.bootstrap import build_application
from services.supervision.circulars import issue_circular, particulars
from services.supervision.history import case_as_of, step_particulars
from services.supervision.lifecycle import CaseError
from services.supervision.sweep import DEFAULT_INTERVAL, run_sweep
from services.supervision.warnings import DEFAULT_INTERVAL as WARNING_INTERVAL
from services.supervision.warnings import WarningRules, WarningWatch
from services.supervision.watch import DEFAULT_INTERVAL as WATCH_INTERVAL
from services.supervision.watch import DeadlineWatch, due_counts
from shared.language.integration.envelope import IntegrationEvent
from shared.language.readmodels import connect_read_models
from shared.runtime.callers import AUDIT, GATEWAY, NOTIFICATION, CallerRefused
from shared.runtime.messaging.consumer import PASSING, integration_event_handler
from shared.runtime.nameko_support import (
    ApplicationProvider,
    BoundedRpcProxy,
    CallerCheck,
    MetricsEndpoint,
    ServiceCallers,
    petition_particulars,
)


class SupervisionService:
    name = "supervision"

    supervision: SupervisionApplication = ApplicationProvider(build_application)
    metrics = MetricsEndpoint()
    callers: ServiceCallers = CallerCheck()
    intake = BoundedRpcProxy("intake")  # the private path to a petition's query code and title (not on the exchange)

    # --- RPC: lifecycle commands (the gateway's officer and petitioner actions) ---------------------------------
    @rpc(expected_exceptions=CallerRefused)  # a refused caller is the caller's fault, logged as a warning
    def perform(self, petition_id: str, action: str, payload: dict[str, Any], caller: str | None,
                correlation_id: str | None = None) -> dict[str, Any]:
        """{"ok": true, "case": ...} or {"ok": false, "http_status": 4xx, "problem": {...}}: a refused command is
        an answer, not a remote error, so the gateway can show its Chinese message. `caller` is the gateway's
        signed assertion of the officer or petitioner acting (shared/runtime/callers.py): an actor is never taken on
        trust from the broker."""
        actor = self.callers.require(caller, {GATEWAY}, "perform").actor
        try:
            case = self.supervision.perform(petition_id, action, payload, actor, correlation_id)
        except CaseError as refused:
            return {"ok": False, "http_status": refused.http_status, "problem": refused.as_problem()}
        return {"ok": True, "case": case}

    # --- RPC: circulars (services/supervision/circulars.py): issued by a supervisor, read by notification --------
    @rpc(expected_exceptions=CallerRefused)
    def issue_circular(self, payload: dict[str, Any], caller: str | None, correlation_id: str | None = None,
                       idempotency_key: str | None = None) -> dict[str, Any]:
        """{"ok": true, "circular": ..., "created": bool} (False: this Idempotency-Key issued it before) or {"ok":
        false, "http_status": 4xx, "problem": {...}}, as `perform` answers; the issuer is the gateway's signed
        assertion of the supervisor (or admin)."""
        actor = self.callers.require(caller, {GATEWAY}, "issue_circular").actor
        try:
            circular, created = issue_circular(self.supervision, payload, actor, correlation_id=correlation_id,
                                               idempotency_key=idempotency_key)
        except CaseError as refused:
            return {"ok": False, "http_status": refused.http_status, "problem": refused.as_problem()}
        return {"ok": True, "circular": circular, "created": created}

    @rpc(expected_exceptions=CallerRefused)
    def circular_particulars(self, circular_id: str, caller: str | None = None) -> dict[str, Any] | None:
        """A circular's title, problems and demands (the bureau's own text) with its codes: for notification only, to
        compose each organ's notice of it. The exchange never carries the text."""
        self.callers.require(caller, {NOTIFICATION}, "circular_particulars")
        return particulars(self.supervision, circular_id)

    @rpc(expected_exceptions=CallerRefused)
    def get_case(self, petition_id: str, caller: str | None = None) -> dict[str, Any] | None:
        actor = self.callers.require(caller, {GATEWAY}, "get_case").actor
        try:
            return self.supervision.get_case(petition_id, actor)
        except CaseError:
            return None

    @rpc(expected_exceptions=CallerRefused)
    def case_as_of(self, petition_id: str, as_of: str, caller: str | None = None) -> dict[str, Any] | None:
        """The case as it stood at `as_of` (ISO 8601 with a time zone), for the audit service only
        (services/supervision/history.py)."""
        self.callers.require(caller, {AUDIT}, "case_as_of")
        return case_as_of(self.supervision, petition_id, datetime.fromisoformat(as_of))

    @rpc(expected_exceptions=CallerRefused)
    def step_particulars(self, petition_id: str, event_id: str, caller: str | None = None) -> dict[str, Any] | None:
        """What the step published as `event_id` recorded, free text included, and the case just after it: for
        notification only, to compose the step's notice (services/supervision/history.py). The exchange never
        carries it."""
        self.callers.require(caller, {NOTIFICATION}, "step_particulars")
        return step_particulars(self.supervision, petition_id, event_id)

    # --- the deadline sweep (services/supervision/sweep.py) -----------------------------------------------------
    # A timer's tick that meets a passing condition (the store or the read models down) is tried again at the next
    # tick: expected, one warning line each (shared/runtime/nameko_support.py), not an error with a traceback.
    @timer(interval=float(os.environ.get("SUPERVISION_SWEEP_INTERVAL", DEFAULT_INTERVAL)), expected_exceptions=PASSING)
    def sweep_deadlines(self) -> None:
        connect_read_models(self.supervision.settings.mongodb_uri)
        run_sweep(self.supervision)

    # --- the deadline watch (services/supervision/watch.py): one instance acts, the others stand by ------------
    @timer(interval=float(os.environ.get("DEADLINE_WATCH_INTERVAL", WATCH_INTERVAL)), expected_exceptions=PASSING)
    def watch_deadlines(self) -> None:
        connect_read_models(self.supervision.settings.mongodb_uri)
        if SupervisionService.deadline_watch is None:
            settings = self.supervision.settings
            SupervisionService.deadline_watch = DeadlineWatch(
                self.supervision, settings.deadline_reminders,
                ownership_after_days=settings.leader_ownership_after_days, counts=due_counts)
        SupervisionService.deadline_watch.tick()

    deadline_watch: DeadlineWatch | None = None  # the process's one watch, holding its lock across ticks

    # --- early warning (services/supervision/warnings.py): one instance detects, the others stand by ------------
    @timer(interval=float(os.environ.get("WARNING_WATCH_INTERVAL", WARNING_INTERVAL)), expected_exceptions=PASSING)
    def watch_warnings(self) -> None:
        connect_read_models(self.supervision.settings.mongodb_uri)
        if SupervisionService.warning_watch is None:
            SupervisionService.warning_watch = WarningWatch(self.supervision,
                                                            WarningRules.of(self.supervision.settings))
        SupervisionService.warning_watch.tick()

    warning_watch: WarningWatch | None = None  # the process's one detector, holding its lock across ticks

    # --- integration events ------------------------------------------------------------------------------------
    @integration_event_handler
    def handle_petition_registered(self, event: IntegrationEvent) -> str:
        return self.supervision.open_case(event, petition_particulars(self.intake, self.callers, event.subject, "case"))

    @integration_event_handler
    def handle_petition_routed(self, event: IntegrationEvent) -> str:
        return self.supervision.record_routing(event)

    @integration_event_handler
    def handle_notice_delivered(self, event: IntegrationEvent) -> str:
        return self.supervision.record_notice(event)

    @integration_event_handler
    def handle_notice_posted(self, event: IntegrationEvent) -> str:
        return self.supervision.record_posting(event)
