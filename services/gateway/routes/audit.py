"""Auditors: a petition's history and its state at any moment, replayed from the event stores of all four
services — never from the read models — and its case bundle, which an auditor verifies offline. The audit service
answers them over RPC (services/audit/service.py): the gateway opens no service's store."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from services.gateway import access_records, views
from services.gateway.deps import CorrelationIdDep, GatewayDep, client_address, require_roles
from services.gateway.errors import ApiError
from services.gateway.schemas import PersonalDataView, PersonalDataViews, Problem, SignInLockout, SignInLockouts
from services.gateway.security import Principal, Role

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
AUDITING = (Role.AUDITOR, Role.SUPERVISOR, Role.ADMIN)
RESPONSES: dict[int | str, dict[str, Any]] = {401: {"model": Problem}, 403: {"model": Problem},
                                              404: {"model": Problem}, 422: {"model": Problem}}
BUNDLE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **RESPONSES, 409: {"model": Problem, "description": "no signed checkpoint covers the case's events yet"},
    503: {"model": Problem}}


def _petition_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise ApiError(404, "not_found", "未找到该信访事项") from None


def _answered(answer: dict[str, Any]) -> dict[str, Any]:
    """The audit service's answer; its refusals (a Chinese problem) as the same HTTP error."""
    if answer["ok"]:
        return answer
    problem = answer["problem"]
    extra = {k: v for k, v in problem.items() if k not in ("error", "message")}
    raise ApiError(answer["http_status"], problem["error"], problem["message"], extra=extra)


@router.get("/petitions/{petition_id}/history", responses=RESPONSES)
def case_history(petition_id: str, gw: GatewayDep, request: Request, correlation: CorrelationIdDep,
                 principal: Annotated[Principal, Depends(require_roles(*AUDITING))]) -> dict[str, Any]:
    """Every event of the petition from every service's store, in recorded order: who, when, the legal basis,
    what each step said (the opinion, reasons, explanation, who approved an extension, the outcome, ...), and the
    event that caused each one (`caused_by` is another event's `event_id`). The query code (the petitioner's
    credential) is shown to admin only; a history that shows personal data is recorded (personal-data-views)
    before it is answered."""
    pid = str(_petition_id(petition_id))
    events = _answered(gw.rpc.call("audit", "history", pid, actor=principal.actor()))["events"]
    if principal.role not in views.SEES_QUERY_CODE:  # the petitioner's credential, as in the officer view
        events = [{**event, "query_code": None} if event.get("query_code") else event for event in events]
    if shown := access_records.history_fields(events):
        access_records.record(principal, pid, shown, client_address(request), correlation)
    return {"petition_id": petition_id, "events": events}


@router.get("/petitions/{petition_id}/state", responses=RESPONSES)
def case_state_as_of(petition_id: str, gw: GatewayDep,
                     principal: Annotated[Principal, Depends(require_roles(*AUDITING))],
                     as_of: Annotated[datetime, Query(description="ISO 8601 with a time zone, e.g. "
                                                                  "2026-10-01T12:00:00+08:00")]) -> dict[str, Any]:
    """The case as it stood at `as_of`, rebuilt from its events up to then."""
    if as_of.tzinfo is None:
        raise ApiError(422, "timezone_required", "请在时间中注明时区，例如 2026-10-01T12:00:00+08:00")
    pid = str(_petition_id(petition_id))
    return _answered(gw.rpc.call("audit", "state_as_of", pid, as_of.isoformat(), actor=principal.actor()))["case"]


@router.get("/petitions/{petition_id}/bundle", responses=BUNDLE_RESPONSES)
def case_bundle(petition_id: str, gw: GatewayDep, request: Request, correlation: CorrelationIdDep,
                principal: Annotated[Principal, Depends(require_roles(Role.AUDITOR))]) -> JSONResponse:
    """The case bundle (petition-audit/case-bundle/v2, docs/audit.md): for every service's log its latest
    signed checkpoint with the witnesses' cosignatures, each event of the case that checkpoint covers with its
    ledger entry and inclusion proof, and the case heads signed with the log's key. Save it and verify it offline
    with the published keys: `python -m shared.audit.verifier case.json --bundle --key <origin>=<hex> …`.
    The stored events are in it whole (the verifier hashes them), personal data included: the download is
    recorded as a view of personal data before it is answered. 409 `not_yet_checkpointed` while no signed
    checkpoint covers any event of the case (the platform signs one every AUDIT_CHECKPOINT_INTERVAL seconds)."""
    pid = str(_petition_id(petition_id))
    answer = _answered(gw.rpc.call("audit", "case_bundle", pid, actor=principal.actor()))
    if shown := [f"bundle.{field}" for field in answer["personal_fields"]]:
        access_records.record(principal, pid, shown, client_address(request), correlation)
    return JSONResponse(answer["bundle"],
                        headers={"Content-Disposition": f'attachment; filename="case-{pid}.json"'})


@router.get("/sign-in-lockouts", response_model=SignInLockouts, responses=RESPONSES)
def sign_in_lockouts(gw: GatewayDep, _principal: Annotated[Principal, Depends(require_roles(Role.AUDITOR, Role.ADMIN))],
                     since: Annotated[datetime | None, Query(description="ISO 8601 with a time zone")] = None,
                     limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> SignInLockouts:
    """User names locked after repeated wrong passwords, newest first: when, which account (none when the name
    tried is not an account), from which client address, and until when (docs/security.md)."""
    if since is not None and since.tzinfo is None:
        raise ApiError(422, "timezone_required", "请在时间中注明时区，例如 2026-10-01T12:00:00+08:00")
    return SignInLockouts(lockouts=[SignInLockout(**entry) for entry in gw.sign_in.lockouts(since, limit)])


@router.get("/personal-data-views", response_model=PersonalDataViews, responses=RESPONSES)
def personal_data_views(
    _principal: Annotated[Principal, Depends(require_roles(Role.AUDITOR))],
    petition_id: Annotated[uuid.UUID | None, Query(description="only views of this petition")] = None,
    user: Annotated[str | None, Query(min_length=1, max_length=64, description="only this officer's views")] = None,
    since: Annotated[datetime | None, Query(description="ISO 8601 with a time zone; from this moment on")] = None,
    until: Annotated[datetime | None, Query(description="ISO 8601 with a time zone; before this moment")] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> PersonalDataViews:
    """Every officer view of a petition that showed personal data, newest first: who (user name, role, organ),
    when, which petition, which personal fields, from which client address, under which correlation id. Page on
    with `offset` = the answer's `next_offset`, keeping `until` fixed so that new views do not shift the pages."""
    for moment in (since, until):
        if moment is not None and moment.tzinfo is None:
            raise ApiError(422, "timezone_required", "请在时间中注明时区，例如 2026-10-01T12:00:00+08:00")
    entries, next_offset = access_records.listing(
        petition_id=str(petition_id) if petition_id else None, username=user, since=since, until=until,
        offset=offset, limit=limit)
    return PersonalDataViews(views=[PersonalDataView(**entry) for entry in entries], next_offset=next_offset)
