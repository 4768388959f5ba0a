"""The petitioner's pages (no account): `/` with the two ways in, `/petition/new` (the online form), `/status`
(lookup by query code) and the status page with the rating and the review request once they are open.

Each page is the JSON API's answer (console/api.py): POST /api/v1/petitions, GET /api/v1/status/{code},
POST /api/v1/status/{code}/evaluation and /review-request (with the second factor, docs/security.md), their
validation, rate limits and refusals included.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.gateway.console import api, petitionform
from services.gateway.console.sessions import CODE_COOKIE
from services.gateway.console.web import ConsoleRoute, console_of, gateway_of, see_other
from shared.language.contracts import querycode
from shared.language.contracts.lifecycle import STEPS

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)

# The steps whose opinion a rating or a review request answers, as the timeline names them.
OPINIONS = ("reply", "decide_review", "decide_re_review")
RATABLE = STEPS["evaluate"].allowed_from
REVIEWABLE = STEPS["request_review"].allowed_from | STEPS["request_re_review"].allowed_from
DONE = {"evaluation": "您的评价已提交，感谢您的反馈。", "review": "您的请求已提交，信访部门将依法处理。"}


async def _form(request: Request) -> Any:
    form = await request.form()
    console_of(request).sessions.check(request, form, None)
    return form


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    return console_of(request).render(request, gateway_of(request), "index.html")


# --- the online petition ------------------------------------------------------------------------------------------
def _petition_page(request: Request, values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                   key: str | None = None, status: int = 200) -> HTMLResponse:
    console = console_of(request)
    return console.render(
        request, gateway_of(request), "petition_form.html", status=status,
        petitioner=petitionform.petitioner_fields(), matter=petitionform.matter_fields(console.reference),
        values=values or {}, errors=errors or {}, idempotency_key=key or str(uuid.uuid4()))


@router.get("/petition/new", response_class=HTMLResponse)
async def petition_form(request: Request) -> HTMLResponse:
    return _petition_page(request)


@router.post("/petition/new", response_class=HTMLResponse)
async def submit(request: Request) -> Response:
    form = await _form(request)
    fields = petitionform.petitioner_fields() + petitionform.matter_fields(console_of(request).reference)
    values = {f.name: str(form.get(f.name, "")) for f in fields}
    # A new key per form shown: submitting twice (a double click, a reload) registers the petition once.
    key = str(form.get("idempotency_key", "")) or str(uuid.uuid4())
    answer = await api.call(request, "POST", "/api/v1/petitions", json_body=petitionform.petition_body(
        form, fields, "online"), headers={"Idempotency-Key": key})
    if answer.status == 422:
        return _petition_page(request, values, petitionform.field_errors(answer.body), key, status=422)
    receipt = answer.result()
    gw = gateway_of(request)
    response = console_of(request).render(request, gw, "petition_done.html", receipt=receipt,
                                          emailed=bool(str(form.get("petitioner.email", "")).strip()))
    console_of(request).sessions.remember_code(response, request, gw, receipt["query_code"])
    return response


# --- following a petition -----------------------------------------------------------------------------------------
def _lookup_page(request: Request, error: str = "", status: int = 200) -> HTMLResponse:
    return console_of(request).render(request, gateway_of(request), "status_lookup.html", error=error, status=status)


@router.get("/status", response_class=HTMLResponse)
async def lookup_form(request: Request) -> HTMLResponse:
    return _lookup_page(request)


@router.post("/status", response_class=HTMLResponse)
async def lookup(request: Request) -> Response:
    form = await _form(request)
    code = querycode.normalize(str(form.get("query_code", "")))
    if code is None:
        return _lookup_page(request, "查询码格式不正确，请核对后重新输入（16位字母和数字，例如 ABCD-EFGH-JKMN-PQRS）", 422)
    answer = await api.call(request, "GET", f"/api/v1/status/{code}")
    if answer.status == 404:
        return _lookup_page(request, answer.problem().message, 404)
    view = answer.result()
    response = see_other("/status/view")
    console_of(request).sessions.remember_code(response, request, gateway_of(request), view["query_code"])
    return response


def opened(view: dict[str, Any]) -> dict[str, bool]:
    """Which of the petitioner's own steps are open now, by the steps' declaration and the timeline: a rating once
    per opinion, a review (re-review) request while the opinion (review opinion) stands."""
    steps = [t["step"] for t in view.get("timeline", [])]
    last_opinion = max((i for i, s in enumerate(steps) if s in OPINIONS), default=None)
    rated = last_opinion is not None and "evaluate" in steps[last_opinion:]
    return {"rating": view["status"] in RATABLE and last_opinion is not None and not rated,
            "review": view["status"] in REVIEWABLE,
            "re_review": view["status"] in STEPS["request_re_review"].allowed_from}


def documents(view: dict[str, Any]) -> list[dict[str, Any]]:
    """The opinions (处理意见, 复查意见, 复核意见) addressed to the petitioner, as the status view carries them
    (`opinions`: label, organ, outcome_text, opinion, on); `documents`, should the view add other papers."""
    return [item for name in ("opinions", "documents") for item in (view.get(name) or []) if isinstance(item, dict)]


async def _status_page(request: Request, message: str = "", error: str = "", status: int = 200) -> Response:
    code = request.cookies.get(CODE_COOKIE)
    if not code:
        return see_other("/status")
    answer = await api.call(request, "GET", f"/api/v1/status/{code}")
    if answer.status == 404:
        return _lookup_page(request, answer.problem().message, 404)
    view = answer.result()
    return console_of(request).render(request, gateway_of(request), "status.html", status=status, view=view,
                                      opened=opened(view), documents=documents(view), message=message, error=error)


@router.get("/status/view", response_class=HTMLResponse)
async def status_page(request: Request) -> Response:
    return await _status_page(request, DONE.get(request.query_params.get("done", ""), ""))


async def _petitioner_step(request: Request, path: str, fields: tuple[str, ...], done: str) -> Response:
    form = await _form(request)
    code = request.cookies.get(CODE_COOKIE)
    if not code:
        return see_other("/status")
    body = {name: str(form.get(name, "")).strip() for name in fields if str(form.get(name, "")).strip()}
    answer = await api.call(request, "POST", f"/api/v1/status/{code}/{path}", json_body=body)
    if not answer.ok:
        problem = answer.problem()
        words = "；".join(e.get("message", "") for e in problem.extra.get("errors") or []) or problem.message
        response = await _status_page(request, error=words, status=answer.status)
        response.headers.update(problem.headers or {})
        return response
    return see_other(f"/status/view?done={done}")


@router.post("/status/evaluation", response_class=HTMLResponse)
async def evaluate(request: Request) -> Response:
    return await _petitioner_step(request, "evaluation", ("rating", "comment", "id_number_tail"), "evaluation")


@router.post("/status/review-request", response_class=HTMLResponse)
async def review_request(request: Request) -> Response:
    return await _petitioner_step(request, "review-request", ("reasons", "id_number_tail"), "review")


@router.post("/status/leave", response_class=HTMLResponse)
async def leave(request: Request) -> Response:
    await _form(request)
    response = see_other("/")
    console_of(request).sessions.forget_code(response, request, gateway_of(request))
    return response
