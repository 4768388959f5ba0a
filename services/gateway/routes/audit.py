"""Auditors: a petition's history and its state at any moment, replayed from the event stores of all four
services — never from the read models (shared/audit/replay.py)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from services.gateway.deps import GatewayDep, require_roles
from services.gateway.errors import ApiError
from services.gateway.schemas import Problem
from services.gateway.security import Principal, Role

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
AUDITING = (Role.AUDITOR, Role.SUPERVISOR, Role.ADMIN)
RESPONSES: dict[int | str, dict[str, Any]] = {401: {"model": Problem}, 403: {"model": Problem},
                                              404: {"model": Problem}, 422: {"model": Problem}}


def _petition_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise ApiError(404, "not_found", "未找到该信访事项") from None


@router.get("/petitions/{petition_id}/history", responses=RESPONSES)
def case_history(petition_id: str, gw: GatewayDep,
                 _principal: Annotated[Principal, Depends(require_roles(*AUDITING))]) -> dict[str, Any]:
    """Every event of the petition from every service's store, in recorded order: who, when, the legal basis,
    and the event that caused each one (`caused_by` is another event's `event_id`)."""
    steps = gw.store_reader().history(_petition_id(petition_id))
    if not steps:
        raise ApiError(404, "not_found", "未找到该信访事项")
    return {"petition_id": petition_id, "events": [step.as_dict() for step in steps]}


@router.get("/petitions/{petition_id}/state", responses=RESPONSES)
def case_state_as_of(petition_id: str, gw: GatewayDep,
                     _principal: Annotated[Principal, Depends(require_roles(*AUDITING))],
                     as_of: Annotated[datetime, Query(description="ISO 8601 with a time zone, e.g. "
                                                                  "2026-10-01T12:00:00+08:00")]) -> dict[str, Any]:
    """The case as it stood at `as_of`, rebuilt from its events up to then."""
    if as_of.tzinfo is None:
        raise ApiError(422, "timezone_required", "请在时间中注明时区，例如 2026-10-01T12:00:00+08:00")
    state = gw.store_reader().state_as_of(_petition_id(petition_id), as_of)
    if state is None:
        raise ApiError(404, "not_opened_yet", "该时刻该信访事项尚未立案（或不存在）")
    return state
