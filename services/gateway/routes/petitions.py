"""Petitions: submit (public), follow by query code (public), read in full (officers)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response

from services.gateway import views
from services.gateway.deps import (
    OFFICER_ROLES,
    CorrelationIdDep,
    GatewayDep,
    optional_principal,
    public_rate_limit,
    require_roles,
)
from services.gateway.errors import ApiError
from services.gateway.schemas import OfficerPetitionView, PetitionReceipt, Problem, StatusView
from services.gateway.security import Principal, Role
from shared.contracts import querycode
from shared.contracts.actor import PETITIONER
from shared.contracts.registration import Channel, RegisterPetition

router = APIRouter(prefix="/api/v1", tags=["petitions"])

# An organ officer registers what the organ received directly (S2'): the organ itself decides on acceptance.
REGISTERING_ROLES = (Role.CLERK, Role.ADMIN, Role.ORGAN_OFFICER)


@router.post("/petitions", status_code=201, response_model=PetitionReceipt,
             dependencies=[Depends(public_rate_limit)],
             responses={422: {"model": Problem}, 403: {"model": Problem}, 429: {"model": Problem},
                        503: {"model": Problem}})
def submit_petition(
    command: RegisterPetition,
    gw: GatewayDep,
    principal: Annotated[Principal | None, Depends(optional_principal)],
    correlation: CorrelationIdDep,
) -> Any:
    """Submit a petition. Online petitions are public; letters, visits, calls and transfers are registered by a
    signed-in clerk. Returns the petition id and its query code (查询码) once the petition is stored."""
    if command.channel is not Channel.ONLINE and (principal is None or principal.role not in REGISTERING_ROLES):
        raise ApiError(403, "clerk_required", "来信、来访、来电和上级转送的信访事项须由登记人员或者收到该事项的机关工作人员登录后登记")
    actor = principal.actor() if principal else PETITIONER.model_dump()
    response = gw.intake.register(command.model_dump(mode="json"), actor, correlation)
    if response.status_code == 201:
        # A Response of its own: FastAPI would otherwise validate the returned value against the response model
        # on a second trip through its thread pool (a sync endpoint's), which cost more than the check itself.
        receipt = PetitionReceipt.model_validate_json(response.body)
        return Response(receipt.model_dump_json(), status_code=201, media_type="application/json")
    if response.status_code == 422:
        return JSONResponse(response.json(), status_code=422)
    raise ApiError(503, "service_unavailable", "信访事项登记服务暂时无法使用，请稍后重试")


@router.get("/status/{query_code}", response_model=StatusView, dependencies=[Depends(public_rate_limit)],
            responses={404: {"model": Problem}, 429: {"model": Problem}})
def petition_status(query_code: str, gw: GatewayDep) -> StatusView:
    """Follow a petition with its query code: status, responsible organ, deadlines, timeline and notices."""
    code = querycode.normalize(query_code)
    view = views.status_by_query_code(code, gw.intake) if code else None
    if view is None:
        raise ApiError(404, "not_found", "未找到该查询码对应的信访事项，请核对查询码后重试")
    return view


@router.get("/petitions/{petition_id}", response_model=OfficerPetitionView,
            responses={401: {"model": Problem}, 403: {"model": Problem}, 404: {"model": Problem}})
def get_petition(
    petition_id: str,
    gw: GatewayDep,
    principal: Annotated[Principal, Depends(require_roles(*OFFICER_ROLES))],
) -> OfficerPetitionView:
    """The full record of a petition (officers). An organ officer sees only petitions routed to their organ."""
    try:
        petition_id = str(uuid.UUID(petition_id))
    except ValueError:
        raise ApiError(404, "not_found", "未找到该信访事项") from None
    view = views.officer_view(petition_id, principal, gw.rpc)
    if view is None:
        raise ApiError(404, "not_found", "未找到该信访事项")
    return view
