"""The petitioner's pages (no account): `/` with the two ways in, `/petition/new` (the online form), `/status`
(lookup by query code) and the status page with the rating and the review request once they are open.

Each page is the JSON API's answer (console/api.py): POST /api/v1/attachments and /api/v1/petitions (console/
submission.py), GET /api/v1/status/{code}, POST /api/v1/status/{code}/evaluation and /review-request, and the
petitioner's attachments GET /api/v1/status/{code}/attachments[/{sha256}] (each with the second factor,
docs/security.md), their validation, rate limits and refusals included.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.gateway.console import api, petitionform, submission
from services.gateway.console.sessions import CODE_COOKIE
from services.gateway.console.web import ConsoleRoute, console_of, gateway_of, read_form, see_other
from shared.language.contracts import querycode
from shared.language.contracts.lifecycle import STEPS

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)

# The steps whose opinion a rating or a review request answers, as the timeline names them.
OPINIONS = ("reply", "decide_review", "decide_re_review")
RATABLE = STEPS["evaluate"].allowed_from
REVIEWABLE = STEPS["request_review"].allowed_from | STEPS["request_re_review"].allowed_from
DONE = {"evaluation": "您的评价已提交，感谢您的反馈。", "review": "您的请求已提交，信访部门将依法处理。"}


async def _form(request: Request) -> Any:
    form = await read_form(request)
    console_of(request).sessions.check(request, form, None)
    return form


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    return console_of(request).render(request, gateway_of(request), "index.html")


# --- the online petition ------------------------------------------------------------------------------------------
def _layout(request: Request) -> petitionform.PetitionForm:
    return petitionform.petition_form(console_of(request).reference, online=True)


def _petition_page(request: Request, outcome: submission.Outcome) -> HTMLResponse:
    response = console_of(request).render(request, gateway_of(request), "petition_form.html", status=outcome.status,
                                          **submission.context(request, _layout(request), outcome))
    response.headers.update(outcome.headers)
    return response


@router.get("/petition/new", response_class=HTMLResponse)
async def petition_form(request: Request) -> HTMLResponse:
    return _petition_page(request, submission.blank())


@router.post("/petition/new", response_class=HTMLResponse)
async def submit(request: Request) -> Response:
    form = await _form(request)
    outcome = await submission.submit(request, form, _layout(request), "online", token=None)
    if outcome.receipt is None:
        return _petition_page(request, outcome)
    gw = gateway_of(request)
    anonymous = petitionform.checked(form.get(petitionform.ANONYMOUS))
    response = console_of(request).render(
        request, gw, "petition_done.html", receipt=outcome.receipt, anonymous=anonymous,
        emailed=not anonymous and bool(str(form.get("petitioner.email", "")).strip()))
    console_of(request).sessions.remember_code(response, request, gw, outcome.receipt["query_code"])
    return response


# --- following a petition -----------------------------------------------------------------------------------------
def _lookup_page(request: Request, error: str = "", status: int = 200, typed: str = "") -> HTMLResponse:
    """The lookup; after a refusal, with the code as it was typed, to correct rather than type again."""
    return console_of(request).render(request, gateway_of(request), "status_lookup.html", error=error, status=status,
                                      typed=typed)


@router.get("/status", response_class=HTMLResponse)
async def lookup_form(request: Request) -> HTMLResponse:
    return _lookup_page(request)


@router.post("/status", response_class=HTMLResponse)
async def lookup(request: Request) -> Response:
    form = await _form(request)
    typed = str(form.get("query_code", ""))
    code = querycode.normalize(typed)
    if code is None:
        return _lookup_page(request, "查询码格式不正确，请核对后重新输入（16位字母和数字，例如 ABCD-EFGH-JKMN-PQRS）", 422,
                            typed)
    answer = await api.call(request, "GET", f"/api/v1/status/{code}")
    if answer.status == 404:
        return _lookup_page(request, answer.problem().message, 404, typed)
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


async def _status_page(request: Request, *, message: str = "", error: str = "", status: int = 200,
                       headers: dict[str, str] | None = None, **attachments: Any) -> Response:
    """The status page for the query code this browser looked up (to the lookup without one), with a message, or
    a refusal (`error`, the API's status and headers such as Retry-After); `attachments`: the attachments
    section's list (`files`, `tail`) or refusal (`files_error`)."""
    code = request.cookies.get(CODE_COOKIE)
    if not code:
        return see_other("/status")
    answer = await api.current(request, f"/api/v1/status/{code}", api.version_asked(request))
    if answer.status == 404:
        return _lookup_page(request, answer.problem().message, 404)
    view = answer.result()
    response = console_of(request).render(request, gateway_of(request), "status.html", status=status, view=view,
                                          opened=opened(view), documents=documents(view), message=message,
                                          error=error, **{"files": None, "files_error": "", **attachments})
    response.headers.update(headers or {})
    return response


async def _refused(request: Request, answer: api.Answer, *, about_files: bool = False) -> Response:
    """The status page again with the API's refusal, its status and headers: in the attachments section when it
    was about them, at the top otherwise."""
    where = {"files_error" if about_files else "error": answer.words()}
    return await _status_page(request, status=answer.status, headers=answer.problem().headers, **where)


@router.get("/status/view", response_class=HTMLResponse)
async def status_page(request: Request) -> Response:
    return await _status_page(request, message=DONE.get(request.query_params.get("done", ""), ""))


def _typed(form: Any, fields: tuple[str, ...]) -> dict[str, str]:
    return {name: str(form.get(name, "")).strip() for name in fields if str(form.get(name, "")).strip()}


async def _posted_with_code(request: Request) -> tuple[Any, str | None]:
    """A post from the status page: the form (its token checked) and the query code this browser looked up."""
    return await _form(request), request.cookies.get(CODE_COOKIE)


async def _petitioner_step(request: Request, path: str, fields: tuple[str, ...], done: str) -> Response:
    form, code = await _posted_with_code(request)
    if not code:
        return see_other("/status")
    answer = await api.call(request, "POST", f"/api/v1/status/{code}/{path}", json_body=_typed(form, fields))
    if not answer.ok:
        return await _refused(request, answer)
    return see_other(f"/status/view?done={done}&v={int(answer.body.get('version') or 0)}")


@router.post("/status/evaluation", response_class=HTMLResponse)
async def evaluate(request: Request) -> Response:
    return await _petitioner_step(request, "evaluation", ("rating", "comment", "id_number_tail"), "evaluation")


@router.post("/status/review-request", response_class=HTMLResponse)
async def review_request(request: Request) -> Response:
    return await _petitioner_step(request, "review-request", ("reasons", "id_number_tail"), "review")


@router.get("/status/notices/{notice_id}/pdf")
async def notice_pdf(request: Request, notice_id: str) -> Response:
    """A notice addressed to the petitioner, as a PDF to print: the API's, for the query code this browser looked
    up (kept in its cookie, never in an address)."""
    code = request.cookies.get(CODE_COOKIE)
    if not code:
        return see_other("/status")
    found = await api.send(request, "GET", f"/api/v1/status/{code}/notices/{quote(notice_id, safe='')}/pdf")
    if found.status_code != 200:
        raise api.Answer.of(found).problem()
    return api.file_response(found)


# --- the petitioner's attachments: listed and downloaded with the second factor -----------------------------------
# Each is the API's own petitioner endpoint with the ID number's last six characters (X-Id-Number-Tail), so every
# listing and every download is checked, counted and locked out there as a rating is (docs/security.md). The tail
# typed to list the files is carried only in that page's download form (the page is not stored: no-store), never
# in a cookie or an address.
TAIL = "id_number_tail"
TAIL_HEADER = "X-Id-Number-Tail"


@router.post("/status/attachments", response_class=HTMLResponse)
async def attachments(request: Request) -> Response:
    form, code = await _posted_with_code(request)
    if not code:
        return see_other("/status")
    tail = str(form.get(TAIL, "")).strip()
    answer = await api.call(request, "GET", f"/api/v1/status/{code}/attachments", headers={TAIL_HEADER: tail})
    if not answer.ok:
        return await _refused(request, answer, about_files=True)
    return await _status_page(request, files=answer.body.get("attachments", []), tail=tail)


@router.post("/status/attachments/download", response_class=HTMLResponse)
async def download(request: Request) -> Response:
    """The file as the API serves it to the petitioner (api.file_response)."""
    form, code = await _posted_with_code(request)
    if not code:
        return see_other("/status")
    sha256 = str(form.get("sha256", "")).strip().lower()
    if not api.SHA256.fullmatch(sha256):
        return await _status_page(request, status=404, files_error="该信访事项没有此附件")
    found = await api.send(request, "GET", f"/api/v1/status/{code}/attachments/{sha256}",
                           headers={TAIL_HEADER: str(form.get(TAIL, "")).strip()})
    if found.status_code != 200:
        return await _refused(request, api.Answer.of(found), about_files=True)
    return api.file_response(found)


@router.post("/status/leave", response_class=HTMLResponse)
async def leave(request: Request) -> Response:
    await _form(request)
    response = see_other("/")
    console_of(request).sessions.forget_code(response, request, gateway_of(request))
    return response
