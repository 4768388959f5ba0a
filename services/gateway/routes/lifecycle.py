"""The case lifecycle over HTTP (docs/domain.md §"Lifecycle"): an endpoint per officer action, and the
petitioner's evaluation and review request by query code plus the last six characters of the ID number (the second
factor: docs/security.md). A rating the bureau takes on a return visit (回访) is an officer action, recorded as such.
Supervision's Case decides; a refused step comes back as 409 (not allowed in this state, or a statutory window
passed), 403 (not this officer's case) or 422 (bad input), each with a Chinese message naming the current state
and what is allowed.

No `from __future__ import annotations` here: the endpoints are made in a loop, and FastAPI must see each one's
body model as an object, not as a name to look up.
"""

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from services.gateway.deps import CorrelationIdDep, GatewayDep, client_address, public_rate_limit, require_roles
from services.gateway.errors import ApiError
from services.gateway.metrics import SECOND_FACTOR_CHECKS
from services.gateway.schemas import Problem
from services.gateway.security import Principal, Role
from services.gateway.signin import Lockout
from shared.language.contracts import lifecycle as commands
from shared.language.contracts import querycode
from shared.language.contracts.actor import OFFICER_ROLES, PETITIONER
from shared.language.contracts.lifecycle import ACTING_ROLES as STEP_ROLES
from shared.language.contracts.lifecycle import STEPS

router = APIRouter(prefix="/api/v1", tags=["lifecycle"])

ACTING_ROLES = tuple(role for role in OFFICER_ROLES if role in STEP_ROLES)  # derived from the steps' parties
RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem} for code in (401, 403, 404, 409, 422, 503)}
PETITIONER_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem} for code in (403, 404, 409, 422, 429, 503)}


class CaseState(BaseModel):
    """The case after the step: status, organ, open deadlines and the actions open to the caller now."""

    id: str
    version: int
    status: str
    status_text: str
    organ: dict[str, str] | None = None
    joining_organs: list[dict[str, str]] = []
    review_organ: dict[str, str] | None = None  # 复查机关
    re_review_organ: dict[str, str] | None = None  # 复核机关
    disposition: str | None = None
    procedure: str | None = None
    deadlines: list[dict[str, Any]] = []
    allowed_actions: list[str] = []


# (path under /petitions/{id}/, action, request body, summary): each step declares its officer's endpoint.
OFFICER_ACTIONS: list[tuple[str, str, type[BaseModel], str]] = [
    (step.endpoint.path, step.name, step.endpoint.body or step.command, step.endpoint.summary)
    for step in STEPS.values() if step.endpoint is not None and step.command is not None
]


def _petition_id(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise ApiError(404, "not_found", "未找到该信访事项") from None


def perform(gw: Any, petition_id: str, action: str, command: BaseModel, actor: dict[str, Any],
            correlation_id: str) -> dict[str, Any]:
    answer = gw.rpc.call("supervision", "perform", petition_id, action, command.model_dump(mode="json"),
                         correlation_id=correlation_id, actor=actor)
    if answer["ok"]:
        return answer["case"]
    problem = answer["problem"]
    extra = {k: v for k, v in problem.items() if k not in ("error", "message")}
    raise ApiError(answer["http_status"], problem["error"], problem["message"], extra=extra)


def _officer_endpoint(action: str, model: type[BaseModel]) -> Callable[..., dict[str, Any]]:
    def endpoint(
        petition_id: str,
        command: model,  # type: ignore[valid-type]
        gw: GatewayDep,
        principal: Annotated[Principal, Depends(require_roles(*ACTING_ROLES))],
        correlation: CorrelationIdDep,
    ) -> dict[str, Any]:
        return perform(gw, _petition_id(petition_id), action, command, principal.actor(), correlation)

    endpoint.__name__ = f"petition_{action}"
    return endpoint


for _path, _action, _model, _summary in OFFICER_ACTIONS:
    router.add_api_route(f"/petitions/{{petition_id}}/{_path}", _officer_endpoint(_action, _model),
                         methods=["POST"], response_model=CaseState, summary=_summary, responses=RESPONSES)


@router.get("/petitions/{petition_id}/case", response_model=CaseState, responses=RESPONSES)
def case_state(
    petition_id: str,
    gw: GatewayDep,
    principal: Annotated[Principal, Depends(require_roles(*ACTING_ROLES, Role.SUPERVISOR, Role.AUDITOR))],
) -> dict[str, Any]:
    """The case as supervision holds it now (not the read model): status, deadlines, and what you may do next."""
    found = gw.rpc.call("supervision", "get_case", _petition_id(petition_id), actor=principal.actor())
    if found is None:
        raise ApiError(404, "not_found", "未找到该信访事项")
    if principal.role is Role.ORGAN_OFFICER and not _involves(found, principal.organ_code):
        raise ApiError(403, "not_your_organ", "该信访事项未转送至您所在的机关，无权查看")
    return found


def _involves(case: dict[str, Any], organ_code: str | None) -> bool:
    organs = [case.get("organ"), *case.get("joining_organs", []), case.get("review_organ"), case.get("re_review_organ")]
    return any(o and o.get("code") == organ_code for o in organs)


NOT_FOUND = "未找到该查询码对应的信访事项，请核对查询码后重试"


def _verified_petitioner(gw: Any, request: Request, query_code: str, id_number_tail: str) -> str:
    """The petition of `query_code` if `id_number_tail` is its petitioner's (the second factor, checked by intake,
    docs/security.md). Wrong tails are counted per query code in the shared database: after
    GATEWAY_SECOND_FACTOR_MAX_FAILURES the code is locked (429 with the time to wait), the right tail included.
    The 403 does not say which part was wrong; an unknown code is a 404, as the status endpoint already says
    (guessing codes, 80 bits, is left to the per-address limit: counting them per code would stop nothing)."""
    code = querycode.normalize(query_code)
    if code is None:
        raise ApiError(404, "not_found", NOT_FOUND)
    attempt = gw.query_codes.begin(gw.query_codes.key(code))
    if isinstance(attempt, Lockout):  # intake is not asked at all while locked
        SECOND_FACTOR_CHECKS.labels("locked").inc()
        raise _locked(attempt)
    found = gw.intake.verify_petitioner(code, id_number_tail)
    if found is None:  # as the status endpoint says of an unknown code
        SECOND_FACTOR_CHECKS.labels("unknown_code").inc()
        raise ApiError(404, "not_found", NOT_FOUND)
    if found["anonymous"]:
        SECOND_FACTOR_CHECKS.labels("anonymous").inc()
        raise ApiError(409, "anonymous_report",
                       "匿名检举控告未留身份证号码，无法在线评价或者请求复查、复核，请与信访部门联系，由信访部门回访记录")
    if not found["verified"]:
        SECOND_FACTOR_CHECKS.labels("wrong_tail").inc()
        lockout = gw.query_codes.failed(attempt, found["petition_id"], client_address(request))
        if lockout is not None:
            raise _locked(lockout)
        raise ApiError(403, "second_factor_mismatch", "查询码或身份证号码后六位不正确")
    SECOND_FACTOR_CHECKS.labels("verified").inc()
    gw.query_codes.succeeded(attempt.key)
    return str(found["petition_id"])


def _locked(lockout: Lockout) -> ApiError:
    return lockout.refusal("query_code_locked", "身份证号码后六位错误次数过多，该查询码已暂时锁定")


@router.post("/status/{query_code}/evaluation", response_model=CaseState, responses=PETITIONER_RESPONSES,
             dependencies=[Depends(public_rate_limit)])
def evaluate(query_code: str, command: commands.PetitionerEvaluation, gw: GatewayDep, request: Request,
             correlation: CorrelationIdDep) -> dict[str, Any]:
    """满意度评价 of the latest opinion (reply, review or re-review), once per opinion, with the query code and
    `id_number_tail`, the last six characters of the petitioner's ID number (an agent gives the petitioner's).
    403 `second_factor_mismatch` when they do not match; 429 `query_code_locked` after repeated mismatches; 409
    `anonymous_report` for an anonymous report (the bureau takes its rating on a return visit)."""
    petition_id = _verified_petitioner(gw, request, query_code, command.id_number_tail)
    rating = commands.Evaluation(rating=command.rating, comment=command.comment)
    return perform(gw, petition_id, "evaluate", rating, PETITIONER.model_dump(), correlation)


@router.post("/status/{query_code}/review-request", response_model=CaseState, responses=PETITIONER_RESPONSES,
             dependencies=[Depends(public_rate_limit)])
def request_review(query_code: str, command: commands.PetitionerReviewRequest, gw: GatewayDep, request: Request,
                   correlation: CorrelationIdDep) -> dict[str, Any]:
    """请求复查 (after the opinion) or 请求复核 (after the review opinion), within 30 days, with the query code and
    `id_number_tail` (as for the evaluation; the same refusals)."""
    petition_id = _verified_petitioner(gw, request, query_code, command.id_number_tail)
    review = commands.ReviewRequest(reasons=command.reasons)
    return perform(gw, petition_id, "request_review", review, PETITIONER.model_dump(), correlation)
