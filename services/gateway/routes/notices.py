"""Notices for the bureau (docs/api.md §"Notices"): a case's notices and how each went on each channel, the PDF
of any notice to print and post, the clerk's record of posting and of the date of receipt, and the deliveries
that failed after their retries, to re-send by hand. The petitioner prints theirs from the status page.

The records are notification's (the NoticeRecord read model it keeps; the text is the status page's copy);
notification decides every write (RPC) and refuses what the rules refuse, in Chinese.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from services.gateway import access_records
from services.gateway.deps import CorrelationIdDep, GatewayDep, client_address, public_rate_limit, require_roles
from services.gateway.errors import ApiError
from services.gateway.notice_pdf import render_notice_pdf
from services.gateway.schemas import Problem
from services.gateway.security import Principal, Role
from services.gateway.views import SEES_QUERY_CODE
from shared.language.contracts import querycode
from shared.language.contracts.notices import NOTICE_CHANNELS, NOTICES, NoticeKind
from shared.language.readmodels import InboxMessage, NoticeRecord

router = APIRouter(prefix="/api/v1", tags=["notices"])

RESPONSES: dict[int | str, dict[str, Any]] = {code: {"model": Problem} for code in (401, 403, 404, 409, 422, 503)}
READING = (Role.CLERK, Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN)
# A notice names the petitioner and holds the query code: printed by those who may see the query code (the counter,
# which posts it), never by supervisors or auditors (docs/security.md §"What each role sees").
PRINTING = tuple(SEES_QUERY_CODE)
POSTING = (Role.CLERK, Role.ADMIN)  # the counter posts letters and records their receipt
RESENDING = (Role.CLERK, Role.SUPERVISOR, Role.ADMIN)

OUTCOME_LABELS = {"pending": "待发送", "delivered": "已送达", "refused": "无法送达", "failed": "发送失败",
                  "posted": "已邮寄", "received": "已签收"}
PDF_FIELDS = ["notices.body", "query_code", "petitioner.name"]  # what a printed notice shows of the petitioner


class ChannelDelivery(BaseModel):
    channel: str
    channel_label: str
    outcome: str  # pending | delivered | refused | failed | posted | received
    outcome_label: str
    at: datetime | None = None
    detail: str = ""  # masked: never a full address or number
    attempts: int = 0
    posted_on: date | None = None
    registered_mail_number: str | None = None
    received_on: date | None = None
    recorded_by: str | None = None


class NoticeEntry(BaseModel):
    notice_id: str
    petition_id: str
    kind: str
    kind_label: str
    title: str
    step: str | None = None
    requested_at: datetime
    deliveries: list[ChannelDelivery]
    pdf: str | None = None  # where to download it (a notice to the petitioner; one to an organ is its e-mail)


class CaseNotices(BaseModel):
    notices: list[NoticeEntry]


class DeliveryList(BaseModel):
    notices: list[NoticeEntry]  # oldest first: the longest waiting
    next_offset: int | None = None


class Posting(BaseModel):
    """邮寄登记: the day the letter was posted and its registered-mail number (挂号信号码)."""

    posted_on: date = Field(title="邮寄日期")
    registered_mail_number: str = Field(min_length=1, max_length=40, title="挂号信号码")


class PostalReceipt(BaseModel):
    """签收登记: the day the petitioner received the letter (from the return receipt, 回执)."""

    received_on: date = Field(title="签收日期")


def _kind_label(kind: str) -> str:
    try:
        return NOTICES[NoticeKind(kind)].title
    except (ValueError, KeyError):
        return kind


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


def _entry(record: NoticeRecord, principal: Principal) -> NoticeEntry:
    deliveries = []
    for channel in record.channels:
        d = record.deliveries.get(channel) or {"outcome": "pending"}
        outcome = d.get("outcome", "pending")
        deliveries.append(ChannelDelivery(
            channel=channel, channel_label=NOTICE_CHANNELS.get(channel, channel), outcome=outcome,
            outcome_label=OUTCOME_LABELS.get(outcome, outcome), at=d.get("at"), detail=d.get("detail") or "",
            attempts=d.get("attempts") or 0, posted_on=_day(d.get("posted_on")),
            registered_mail_number=d.get("registered_mail_number"), received_on=_day(d.get("received_on")),
            recorded_by=d.get("recorded_by")))
    return NoticeEntry(notice_id=record.notice_id, petition_id=record.petition_id, kind=record.kind,
                       kind_label=_kind_label(record.kind), title=record.title, step=record.step,
                       requested_at=record.requested_at, deliveries=deliveries,
                       pdf=f"/api/v1/notices/{record.notice_id}/pdf" if "inbox" in record.channels
                       and principal.role in SEES_QUERY_CODE else None)


def _uuid(text: str, what: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise ApiError(404, "not_found", f"未找到该{what}") from None


def _record(notice_id: str) -> NoticeRecord:
    record = NoticeRecord.objects(notice_id=_uuid(notice_id, "告知")).first()
    if record is None:
        raise ApiError(404, "not_found", "未找到该告知")
    return record


@router.get("/petitions/{petition_id}/notices", response_model=CaseNotices, responses=RESPONSES)
def case_notices(petition_id: str,
                 principal: Annotated[Principal, Depends(require_roles(*READING))]) -> CaseNotices:
    """Every notice of a petition, oldest first, with how it went on each channel (no address, no text): the
    bureau and auditors."""
    records = NoticeRecord.objects(petition_id=_uuid(petition_id, "信访事项")).order_by("requested_at")
    return CaseNotices(notices=[_entry(r, principal) for r in records])


@router.get("/notices", response_model=DeliveryList, responses=RESPONSES)
def notices_needing_work(
    principal: Annotated[Principal, Depends(require_roles(*READING))],
    state: Annotated[str, Query(pattern="^(failed|awaiting_post)$",
                                description="failed: a delivery that did not reach the petitioner — failed "
                                            "after its retries (to re-send) or refused (to post instead); "
                                            "awaiting_post: a notice to post that is not recorded as posted")],
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> DeliveryList:
    """The county's notices that need someone: failed deliveries (supervisors see them; clerks re-send them) and
    letters not yet posted. Oldest first: the longest-waiting come first."""
    query = NoticeRecord.objects(failed__exists=True, failed__ne=[]) if state == "failed" else \
        NoticeRecord.objects(awaiting_post=True)
    found = list(query.order_by("requested_at").skip(offset).limit(limit + 1))
    return DeliveryList(notices=[_entry(r, principal) for r in found[:limit]],
                        next_offset=offset + limit if len(found) > limit else None)


# WeasyPrint blocks in C (so never on the event loop) and renders one notice at a time (services/gateway/
# notice_pdf.py). Its own thread, with its own limit: prints waiting for it wait on the event loop, not in the
# thread pool every other request needs (a burst of petitioners' prints must not stall registrations).
PRINTER = anyio.CapacityLimiter(1)


async def _rendering(answer: Callable[[], Response]) -> Response:
    return await anyio.to_thread.run_sync(answer, limiter=PRINTER)


def _pdf(message: InboxMessage) -> Response:
    pdf = render_notice_pdf(title=message.title, body=message.body, query_code=message.query_code)
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f"inline; filename=notice-{message.notice_id}.pdf",
        "Cache-Control": "no-store"})  # it names the petitioner


def _text(record: NoticeRecord) -> InboxMessage:
    if "inbox" not in record.channels:  # to an organ: its e-mail is the notice, nothing to print
        raise ApiError(404, "not_found", "该告知不提供打印")
    message = InboxMessage.objects(notice_id=record.notice_id).first()
    if message is None:  # not on the status page yet: the inbox dispatcher publishes it within a second
        raise ApiError(409, "notice_not_ready", "告知正在生成，请稍后再试")
    return message


@router.get("/notices/{notice_id}/pdf", responses={**RESPONSES, 200: {"content": {"application/pdf": {}}}})
async def notice_pdf(notice_id: str, request: Request, correlation: CorrelationIdDep,
                     principal: Annotated[Principal, Depends(require_roles(*PRINTING))]) -> Response:
    """The notice as an A4 PDF to print and post (Chinese fonts embedded): the counter (clerk, admin). It names the
    petitioner and holds the query code: recorded as a view of personal data before it is answered."""

    def answer() -> Response:
        record = _record(notice_id)
        message = _text(record)
        access_records.record(principal, record.petition_id, PDF_FIELDS, client_address(request), correlation)
        return _pdf(message)

    return await _rendering(answer)


@router.get("/status/{query_code}/notices/{notice_id}/pdf", dependencies=[Depends(public_rate_limit)],
            responses={**RESPONSES, 200: {"content": {"application/pdf": {}}}}, tags=["petitioner"])
async def own_notice_pdf(query_code: str, notice_id: str) -> Response:
    """The petitioner prints a notice addressed to them from the status page (the query code is their
    credential, as for the status page itself)."""

    def answer() -> Response:
        code = querycode.normalize(query_code)
        message = InboxMessage.objects(notice_id=_uuid(notice_id, "告知")).first() if code else None
        if message is None or message.query_code != code:
            raise ApiError(404, "not_found", "未找到该告知")
        return _pdf(message)

    return await _rendering(answer)


# notification's projection follows its store within moments: the answer waits that long for the record to show
# the write (seconds between reads), else answers the record as it is.
FOLLOW_WAITS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.8)


def _write(gw: Any, method: str, principal: Principal, record: NoticeRecord, *args: Any) -> NoticeEntry:
    answer = gw.rpc.call("notification", method, record.notice_id, *args, actor=principal.actor())
    if not answer.get("ok", True):
        problem = answer["problem"]
        raise ApiError(answer["http_status"], problem["error"], problem["message"])
    for wait in FOLLOW_WAITS:
        time.sleep(wait)
        current = _record(record.notice_id)
        if current.version != record.version:
            return _entry(current, principal)
    return _entry(_record(record.notice_id), principal)


@router.post("/notices/{notice_id}/posting", response_model=NoticeEntry, responses=RESPONSES)
def record_posting(notice_id: str, posting: Posting, gw: GatewayDep,
                   principal: Annotated[Principal, Depends(require_roles(*POSTING))]) -> NoticeEntry:
    """邮寄登记: the clerk records that a notice was posted, and its registered-mail number."""
    return _write(gw, "record_posting", principal, _record(notice_id), posting.posted_on.isoformat(),
                  posting.registered_mail_number)


@router.post("/notices/{notice_id}/receipt", response_model=NoticeEntry, responses=RESPONSES)
def record_receipt(notice_id: str, receipt: PostalReceipt, gw: GatewayDep,
                   principal: Annotated[Principal, Depends(require_roles(*POSTING))]) -> NoticeEntry:
    """签收登记: the clerk records the day the petitioner received a posted notice (the review window of an
    opinion runs from it)."""
    return _write(gw, "record_postal_receipt", principal, _record(notice_id), receipt.received_on.isoformat())


@router.post("/notices/{notice_id}/deliveries/{channel}/resend", response_model=NoticeEntry, responses=RESPONSES)
def resend(notice_id: str, channel: str, gw: GatewayDep,
           principal: Annotated[Principal, Depends(require_roles(*RESENDING))]) -> NoticeEntry:
    """重新发送: a delivery that failed after its retries is tried again (the same message: the provider and the
    mail systems recognise a repeat)."""
    if channel not in ("email", "sms"):
        raise ApiError(404, "not_found", "该告知没有这种发送方式")
    return _write(gw, "resend", principal, _record(notice_id), channel)
