"""Composing what people see from the read models (and intake, until supervision's view has caught up)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.gateway.clients import IntakeHttp, RpcPool
from services.gateway.errors import ApiError
from services.gateway.schemas import (
    DeadlinePublic,
    NoticePublic,
    OfficerPetitionView,
    OrganPublic,
    StatusView,
    TimelineStep,
)
from services.gateway.security import Principal, Role
from shared.readmodels import CaseView, InboxMessage, case_view_by_query_code

JUST_REGISTERED = "已登记，正在分流"


def _notices(query_code: str) -> list[NoticePublic]:
    messages = InboxMessage.objects(query_code=query_code).order_by("delivered_at")
    return [NoticePublic(kind=m.kind, title=m.title, body=m.body, delivered_at=m.delivered_at) for m in messages]


def _deadline(d: Any) -> DeadlinePublic:
    return DeadlinePublic(kind=d.kind, label=d.label, due=d.due, basis=d.basis, provisional=d.provisional,
                          status=d.status or "open")


def _case_fields(case: CaseView) -> dict[str, Any]:
    return {
        "query_code": case.query_code,
        "status": case.status,
        "status_text": case.status_text,
        "title": case.title,
        "registered_at": case.registered_at,
        "organ": OrganPublic(code=case.organ.code, name=case.organ.name) if case.organ else None,
        "next_deadline": _deadline(case.next_deadline) if case.next_deadline else None,
        "deadlines": [_deadline(d) for d in case.deadlines],
        "timeline": [TimelineStep(at=t.at, step=t.step, text=t.text) for t in case.timeline],
        "notices": _notices(case.query_code),
    }


def status_by_query_code(code: str, intake: IntakeHttp) -> StatusView | None:
    case = case_view_by_query_code(code)
    if case is not None:
        return StatusView(**_case_fields(case))
    # Registered moments ago: supervision has not opened the case yet, but intake has the petition.
    found = intake.find_by_query_code(code)
    if found is None:
        return None
    registered_at = datetime.fromisoformat(found["registered_at"])
    return StatusView(
        query_code=found["query_code"], status="registered", status_text=JUST_REGISTERED, title=found["title"],
        registered_at=registered_at,
        timeline=[TimelineStep(at=registered_at, step="registered", text="信访事项已登记")],
        notices=_notices(code),
    )


def officer_view(petition_id: str, principal: Principal, rpc: RpcPool) -> OfficerPetitionView | None:
    case = CaseView.objects(petition_id=petition_id).first()
    if principal.role is Role.ORGAN_OFFICER and (case is None or principal.organ_code not in case.involved_organs):
        raise ApiError(403, "not_your_organ", "该信访事项未转送至您所在的机关，无权查看")
    record = rpc.call("intake", "get_petition", petition_id)
    if record is None:
        return None
    if case is not None:
        shown = _case_fields(case)
        routing = {"routing_basis": case.routing_basis, "rules_version": case.rules_version}
    else:
        registered_at = datetime.fromisoformat(record["registered_at"])
        shown = {"query_code": record["query_code"], "status": "registered", "status_text": JUST_REGISTERED,
                 "title": record["title"], "registered_at": registered_at,
                 "timeline": [TimelineStep(at=registered_at, step="registered", text="信访事项已登记")]}
        routing = {}
    if principal.role is Role.ORGAN_OFFICER and not (case and case.organ and case.organ.code == principal.organ_code):
        # Who is reported (检举控告) is for the bureau and the organ handling it, not every organ that saw the
        # case (an objecting, joining or reviewing organ; 2022 Regulations Art. 30, xinfang-domain.md §9).
        record = {**record, "accused": None}
    detail = {k: record[k] for k in ("channel", "category", "topic", "request", "facts_and_reasons", "place_code",
                                     "people_count", "anonymous", "petitioner", "accused", "representatives",
                                     "joint_signers", "flags", "repeat_of", "similar_petitions", "attachments",
                                     "registered_by")}
    return OfficerPetitionView(id=record["id"], **shown, **routing, **detail)
