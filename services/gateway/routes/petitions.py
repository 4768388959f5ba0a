"""Petitions: submit (public), follow by query code (public), read in full (officers)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse, Response

from services.gateway import access_records, attachments, views
from services.gateway.deps import (
    OFFICER_ROLES,
    CorrelationIdDep,
    GatewayDep,
    client_address,
    optional_principal,
    public_rate_limit,
    require_roles,
)
from services.gateway.errors import ApiError
from services.gateway.schemas import OfficerPetitionView, PetitionReceipt, Problem, StatusView
from services.gateway.security import Principal, Role
from shared.language.contracts import querycode
from shared.language.contracts.actor import PETITIONER, PLAIN_TOKEN
from shared.language.contracts.errors import FIELD_LABELS
from shared.language.contracts.registration import COUNTER_ROLES, Channel, RegisterPetition

router = APIRouter(prefix="/api/v1", tags=["petitions"])

# An organ officer registers what the organ received directly (S2'): the organ itself decides on acceptance.
REGISTERING_ROLES = (Role.CLERK, Role.ADMIN, Role.ORGAN_OFFICER)


def _counter_only(fields: list[str]) -> ApiError:
    named = "、".join(FIELD_LABELS[f] for f in fields)
    return ApiError(403, "counter_fields_clerk_only",
                    f"{named}只能由信访部门登记人员在登记来信、来访、来电时填写（网上信访以提交时间为收到时间）",
                    extra={"fields": fields})


async def idempotency_key(
    key: Annotated[str | None, Header(alias="Idempotency-Key",
                                      description="A value of the caller's choosing (a random UUID is best) that "
                                                  "makes a retry of this submission safe: the same key returns the "
                                                  "first receipt and registers nothing twice.")] = None,
) -> str | None:
    if key is not None and not PLAIN_TOKEN.fullmatch(key):
        raise ApiError(422, "invalid_idempotency_key", "Idempotency-Key 只能包含1至64个英文字母、数字及 . _ : - 字符")
    return key


@router.post("/petitions", status_code=201, response_model=PetitionReceipt,
             dependencies=[Depends(public_rate_limit)],
             responses={422: {"model": Problem}, 403: {"model": Problem}, 409: {"model": Problem},
                        429: {"model": Problem}, 503: {"model": Problem}})
def submit_petition(
    command: RegisterPetition,
    gw: GatewayDep,
    principal: Annotated[Principal | None, Depends(optional_principal)],
    correlation: CorrelationIdDep,
    key: Annotated[str | None, Depends(idempotency_key)],
) -> Any:
    """Submit a petition. Online petitions are public; letters, visits, calls and transfers are registered by a
    signed-in clerk. Returns the petition id and its query code (查询码) once the petition is stored. Only a clerk
    (or admin) gives `received_at` (when a letter arrived or a visit or call took place: the triage clock runs from
    it), `window` and `note`; anyone else is refused (403 `counter_fields_clerk_only`).

    After a 503 (or no answer at all) send the same request again with the same `Idempotency-Key`: if the first
    attempt was registered, its receipt comes back (201) and nothing is registered twice."""
    if command.channel is not Channel.ONLINE and (principal is None or principal.role not in REGISTERING_ROLES):
        raise ApiError(403, "clerk_required", "来信、来访、来电和上级转送的信访事项须由登记人员或者收到该事项的机关工作人员登录后登记")
    # When it was received, at which window, the clerk's note: the counter's alone (the clock runs from receipt).
    if (counter := command.counter_fields()) and (principal is None or principal.role not in COUNTER_ROLES):
        raise _counter_only(counter)
    # Uploaded files: each as uploaded (its upload token) and still in the store (services/gateway/attachments.py).
    attachments.check_references(command, gw.upload_tokens, gw.attachments)
    actor = principal.actor() if principal else PETITIONER.model_dump()
    response = gw.intake.register(command.model_dump(mode="json"), actor, correlation, key)
    if response.status_code == 201:
        # A Response of its own: FastAPI would otherwise validate the returned value against the response model
        # on a second trip through its thread pool (a sync endpoint's), which cost more than the check itself.
        receipt = PetitionReceipt.model_validate_json(response.body)
        return Response(receipt.model_dump_json(), status_code=201, media_type="application/json")
    if response.status_code == 422:
        return JSONResponse(response.json(), status_code=422)
    if response.status_code == 403:  # intake's own check of the counter's fields (this gateway checked first)
        raise _counter_only(response.json().get("fields") or list(command.counter_fields()))
    if response.status_code == 409:
        raise ApiError(409, "idempotency_key_reused",
                       "该 Idempotency-Key 已用于提交内容不同的另一件信访事项；新的提交请使用新的 Idempotency-Key")
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
            responses={401: {"model": Problem}, 403: {"model": Problem}, 404: {"model": Problem},
                       503: {"model": Problem}})
def get_petition(
    petition_id: str,
    request: Request,
    gw: GatewayDep,
    principal: Annotated[Principal, Depends(require_roles(*OFFICER_ROLES))],
    correlation: CorrelationIdDep,
) -> OfficerPetitionView:
    """A petition's record as this officer may see it. An organ officer sees only petitions routed to their organ,
    and the petitioner's identity only while the organ is responsible for the case; the query code is shown to
    clerks and admin only (`withheld` names what was left out). Every view that shows personal data is recorded
    for auditors first: if it cannot be recorded, the answer is 503 and nothing is shown."""
    try:
        petition_id = str(uuid.UUID(petition_id))
    except ValueError:
        raise ApiError(404, "not_found", "未找到该信访事项") from None
    view = views.officer_view(petition_id, principal, gw.rpc)
    if view is None:
        raise ApiError(404, "not_found", "未找到该信访事项")
    shown = access_records.personal_fields(view)
    if shown:
        access_records.record(principal, petition_id, shown, client_address(request), correlation)
    return view
