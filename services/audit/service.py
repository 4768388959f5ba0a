"""audit's nameko service: `nameko run --config deploy/nameko.yml services.audit.service`.

The gateway's auditors' endpoints call it (services/gateway/routes/audit.py); it answers from the services' event
stores and ledgers (read-only, generically: services/audit/stores.py) and asks the services for their own part of
a case (services/audit/peers.py). Every answer is data — {"ok": true, ...} or {"ok": false, "http_status": 4xx,
"problem": {...}} with a Chinese message — so the gateway can show a refusal as it is, as with supervision's
`perform`. Only the gateway is served, for the officer its signed assertion names (shared/runtime/callers.py), and
only the roles that audit (checked again here: the gateway is not the only line).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import eventlet
from nameko.rpc import RpcProxy, rpc

from services.audit.application import AuditApplication, CaseUnknown
from services.audit.bootstrap import build_application
from services.audit.bundle import BundleProvesNothing, personal_fields
from services.audit.peers import Peers, PeerUnavailable
from shared.audit.checkpoint import CheckpointError
from shared.language.contracts.actor import Role
from shared.runtime.callers import GATEWAY, CallerRefused
from shared.runtime.nameko_support import ApplicationProvider, CallerCheck, MetricsEndpoint, ServiceCallers

AUDITING = (Role.AUDITOR, Role.SUPERVISOR, Role.ADMIN)  # the history and the case as of a moment
BUNDLING = (Role.AUDITOR,)  # a bundle holds the case's stored events whole, personal data included


def refusal(status: int, error: str, message: str) -> dict[str, Any]:
    return {"ok": False, "http_status": status, "problem": {"error": error, "message": message}}


NOT_FOUND = refusal(404, "not_found", "未找到该信访事项")
PEER_UNAVAILABLE = refusal(503, "service_unavailable", "相关服务暂时无法应答，请稍后再试")


class AuditService:
    name = "audit"

    audit: AuditApplication = ApplicationProvider(build_application)
    metrics = MetricsEndpoint()
    callers: ServiceCallers = CallerCheck()
    notification = RpcProxy("notification")  # which notices and deliveries are a petition's
    supervision = RpcProxy("supervision")  # the case as it stood at a moment

    @rpc(expected_exceptions=CallerRefused)
    def history(self, petition_id: str, caller: str | None = None) -> dict[str, Any]:
        """{"ok": true, "events": [...]}: every event of the petition from every service's store, in recorded
        order, with who, when, the legal basis, what each step said and what caused it."""
        if refused := self._refused(caller, "history", AUDITING):
            return refused
        pid = _uuid(petition_id)
        try:
            events = self.audit.history(pid, self._notices(pid)) if pid else []
        except PeerUnavailable:
            return PEER_UNAVAILABLE
        return {"ok": True, "events": events} if events else NOT_FOUND

    @rpc(expected_exceptions=CallerRefused)
    def state_as_of(self, petition_id: str, as_of: str, caller: str | None = None) -> dict[str, Any]:
        """{"ok": true, "case": {...}}: the case as it stood at `as_of` (ISO 8601 with a time zone), as supervision
        rebuilds it from its events up to then."""
        if refused := self._refused(caller, "state_as_of", AUDITING):
            return refused
        try:
            moment = datetime.fromisoformat(as_of)
        except (TypeError, ValueError):
            moment = None
        if moment is None or moment.tzinfo is None:
            return refusal(422, "timezone_required", "请在时间中注明时区，例如 2026-10-01T12:00:00+08:00")
        pid = _uuid(petition_id)
        try:
            case = self._peers().case_as_of(pid, moment) if pid else None
        except PeerUnavailable:
            return PEER_UNAVAILABLE
        if case is None:
            return refusal(404, "not_opened_yet", "该时刻该信访事项尚未立案（或不存在）")
        return {"ok": True, "case": case}

    @rpc(expected_exceptions=CallerRefused)
    def case_bundle(self, petition_id: str, caller: str | None = None) -> dict[str, Any]:
        """{"ok": true, "bundle": {...}, "personal_fields": [...]}: the case bundle `python -m shared.audit.verifier
        FILE --bundle` checks offline, its case heads signed with the platform's log keys; and the personal fields
        its stored events carry ("intake.petitioner", ...), which the gateway records as a view."""
        if refused := self._refused(caller, "case_bundle", BUNDLING):
            return refused
        pid = _uuid(petition_id)
        if pid is None:
            return NOT_FOUND
        try:
            bundle = self.audit.bundle(pid, self._notices(pid))
        except CaseUnknown:
            return NOT_FOUND
        except PeerUnavailable:
            return PEER_UNAVAILABLE
        except BundleProvesNothing:
            every = round(self.audit.settings.checkpoint_interval)
            return refusal(409, "not_yet_checkpointed",
                           "该信访事项的记录尚未被已签名的审计检查点覆盖，证明材料暂无法出具（出具了也无法验证）；"
                           f"平台每{every}秒签署一次检查点，请稍后再试")
        except CheckpointError:  # a log's signing key is not where AUDIT_KEYS_DIR says: the operator's to fix
            return refusal(503, "audit_key_unavailable", "审计日志签名密钥暂不可用，无法出具证明材料，请联系系统运维人员")
        return {"ok": True, "bundle": bundle, "personal_fields": personal_fields(bundle)}

    def _notices(self, petition_id: UUID) -> list[UUID]:
        """The petition's notices and deliveries, the steps' included, as notification names them."""
        return self._peers().notification_aggregates(petition_id, self.audit.step_event_ids(petition_id))

    def _refused(self, caller: str | None, method: str, roles: tuple[Role, ...]) -> dict[str, Any] | None:
        actor = self.callers.require(caller, {GATEWAY}, method).actor or {}
        if actor.get("role") not in roles:
            return refusal(403, "forbidden", "您的角色无权执行此操作")
        return None

    def _peers(self) -> Peers:
        limit = self.audit.settings.peer_timeout
        return Peers(self.notification, self.supervision, self.callers.assertion,
                     within=lambda: eventlet.Timeout(limit, TimeoutError(f"no answer in {limit} s")))


def _uuid(text: str) -> UUID | None:
    try:
        return UUID(str(text))
    except ValueError:
        return None
