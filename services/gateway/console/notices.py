"""The bureau's notices in the console: print a notice (PDF), record that a letter was posted and when it was
received, re-send a delivery that failed, and the county's lists of failed deliveries and letters to post.

Each page is the API's answer for the signed-in officer (GET/POST /api/v1/notices..., console/api.py): who may see
and do what, and every refusal in Chinese, are the API's."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.gateway.console import api
from services.gateway.console.officers import NOTICE_DONE, NOTICE_READERS, console_page, officer, page, posted
from services.gateway.console.web import ConsoleRoute, see_other
from services.gateway.errors import ApiError

router = APIRouter(prefix="/console", include_in_schema=False, route_class=ConsoleRoute)

STATES = {"failed": "未能送达的告知", "awaiting_post": "待邮寄的告知"}


def _uuid(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise ApiError(404, "not_found", "未找到该告知") from None


@router.get("/notices", response_class=HTMLResponse)
async def notice_list(request: Request) -> HTMLResponse:
    principal, token = await officer(request, *NOTICE_READERS)
    state = request.query_params.get("state", "failed")
    if state not in STATES:
        state = "failed"
    answer = (await api.call(request, "GET", "/api/v1/notices", token=token, params={"state": state})).result()
    return page(request, "notices.html", principal, state=state, states=STATES, notices=answer["notices"],
                message=NOTICE_DONE.get(request.query_params.get("notice_done", ""), ""))


@router.get("/notices/{notice_id}/pdf")
async def notice_pdf(request: Request, notice_id: str) -> Response:
    _principal, token = await officer(request, *NOTICE_READERS)
    found = await api.send(request, "GET", f"/api/v1/notices/{_uuid(notice_id)}/pdf", token=token)
    if found.status_code != 200:
        raise api.Answer.of(found).problem()
    return api.file_response(found)


async def _write(request: Request, notice_id: str, path: str, action: str, fields: tuple[str, ...]) -> Response:
    principal, token = await officer(request)
    form = await posted(request, principal)
    notice_id = _uuid(notice_id)
    back = console_page(str(form.get("back") or "/console/notices"))  # where the form was: a case page or a list
    body = {name: str(form.get(name, "")).strip() or None for name in fields}
    answer = await api.call(request, "POST", f"/api/v1/notices/{notice_id}/{path}", token=token, json_body=body)
    if not answer.ok:  # the API's refusal, in Chinese, with the way back to the page the form was on
        return page(request, "error.html", principal, status=answer.status, message=answer.words(), home=back,
                    home_label="返回上一页重新填写")
    joiner = "&" if "?" in back else "?"
    return see_other(f"{back}{joiner}notice_done={action}#notice-{notice_id}")


@router.post("/notices/{notice_id}/posting", response_class=HTMLResponse)
async def record_posting(request: Request, notice_id: str) -> Response:
    return await _write(request, notice_id, "posting", "posting", ("posted_on", "registered_mail_number"))


@router.post("/notices/{notice_id}/receipt", response_class=HTMLResponse)
async def record_receipt(request: Request, notice_id: str) -> Response:
    return await _write(request, notice_id, "receipt", "receipt", ("received_on",))


@router.post("/notices/{notice_id}/deliveries/{channel}/resend", response_class=HTMLResponse)
async def resend(request: Request, notice_id: str, channel: str) -> Response:
    if channel not in ("email", "sms"):
        raise ApiError(404, "not_found", "该告知没有这种发送方式")
    return await _write(request, notice_id, f"deliveries/{channel}/resend", "resend", ())
