"""The officers' pages under /console/, after signing in at /console/login.

- the clerk: the registration form for letters, visits and calls, and the triage list;
- the organ officer: the inbox (overdue and due soon first) and the case page, where each action open now is a
  form derived from the steps' declaration (console/forms.py), with the statute's hint;
- the supervisor: the overview (counts by organ and status, due soon, overdue);
- the auditor: a case's timeline, its state as of a chosen moment and the verification result.

Every page is the JSON API's answer for the signed-in officer (console/api.py, with the session's bearer token):
the API decides what the officer sees and may do; the role only chooses which pages the menu offers.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.gateway.console import api, forms, labels, petitionform, submission, verification, worklists
from services.gateway.console.sessions import SESSION_COOKIE
from services.gateway.console.web import ConsoleRoute, SignInNeeded, console_of, gateway_of, read_form, see_other
from services.gateway.errors import ApiError
from services.gateway.security import Principal, Role
from shared.language.chinatime import CHINA
from shared.language.contracts.lifecycle import PARTY_ROLES, STEPS
from shared.language.contracts.registration import COUNTER_ROLES, Channel

router = APIRouter(prefix="/console", include_in_schema=False, route_class=ConsoleRoute)

HOME = {Role.CLERK: "/console/triage", Role.ORGAN_OFFICER: "/console/inbox", Role.SUPERVISOR: "/console/overview",
        Role.AUDITOR: "/console/audit", Role.ADMIN: "/console/overview"}
REGISTERING = (Role.CLERK, Role.ADMIN, Role.ORGAN_OFFICER)  # an organ registers what it received itself (S2')
AUDITING = (Role.AUDITOR, Role.SUPERVISOR, Role.ADMIN)
SOON_DAYS = 5  # "due soon": within this many days
DONE = {step.name: f"已{step.text}" for step in STEPS.values()}
NOTICE_READERS = (Role.CLERK, Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN)  # GET /api/v1/petitions/{id}/notices
NOTICE_DONE = {"posting": "已登记邮寄", "receipt": "已登记签收", "resend": "已要求重新发送"}


async def officer(request: Request, *roles: Role) -> tuple[Principal, str]:
    """The signed-in officer and the session's token; to the sign-in page without one."""
    principal = await console_of(request).sessions.officer(request, gateway_of(request))
    if principal is None:
        raise SignInNeeded
    request.state.officer = principal
    if roles and principal.role not in roles:
        raise ApiError(403, "forbidden", "您的角色无权使用此页面")
    return principal, request.cookies[SESSION_COOKIE]


async def posted(request: Request, principal: Principal) -> Any:
    form = await read_form(request)
    console_of(request).sessions.check(request, form, principal)
    return form


def page(request: Request, template: str, principal: Principal, status: int = 200, **context: Any) -> HTMLResponse:
    return console_of(request).render(request, gateway_of(request), template, officer=principal, status=status,
                                      **context)


# --- signing in and out -------------------------------------------------------------------------------------------
def console_page(target: str | None) -> str:
    """`target` if it is a page of the console itself, else the console's home (no open redirect)."""
    target = target or ""
    return target if target.startswith("/console/") and not target.startswith("//") and "\\" not in target \
        else "/console/"


def _login_page(request: Request, error: str = "", status: int = 200, username: str = "") -> HTMLResponse:
    return console_of(request).render(request, gateway_of(request), "login.html", status=status, error=error,
                                      username=username, next=console_page(request.query_params.get("next")))


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request) -> HTMLResponse:
    return _login_page(request)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    """POST /api/v1/auth/token, the API's sign-in: the same accounts, lock-outs and per-address limit."""
    form = await request.form()
    console_of(request).sessions.check(request, form, None)
    username = str(form.get("username", ""))
    answer = await api.call(request, "POST", "/api/v1/auth/token",
                            form={"username": username, "password": str(form.get("password", ""))})
    if not answer.ok:
        problem = answer.problem()
        message = "请填写用户名和密码" if answer.status == 422 else problem.message
        response = _login_page(request, message, answer.status, username)
        response.headers.update(problem.headers or {})
        return response
    if answer.body.get("role") == Role.INTEGRATOR:  # a system's account opens the integration feed alone
        await api.call(request, "POST", "/api/v1/auth/sign-out", token=answer.body["access_token"])
        return _login_page(request, "系统对接账号只能用于集成接口（事件补取），不能登录工作台", 403, username)
    response = see_other(console_page(str(form.get("next", ""))))
    console_of(request).sessions.open(response, request, gateway_of(request), answer.body["access_token"])
    return response


@router.post("/logout", response_class=HTMLResponse)
async def logout(request: Request) -> Response:
    principal, token = await officer(request)
    await posted(request, principal)
    await api.call(request, "POST", "/api/v1/auth/sign-out", token=token)  # the token is refused from now on
    response = see_other("/console/login")
    console_of(request).sessions.close(response, request, gateway_of(request))
    return response


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    principal, _ = await officer(request)
    return see_other(HOME[principal.role])


# --- registration at the counter (and an organ's direct receipt) ------------------------------------------------------
def _registration_form(request: Request, principal: Principal) -> petitionform.PetitionForm:
    counter = petitionform.counter_fields() if principal.role in COUNTER_ROLES else []
    return petitionform.petition_form(console_of(request).reference, online=False, counter=counter)


def _registration_page(request: Request, principal: Principal, outcome: submission.Outcome,
                       channel: str = Channel.LETTER.value) -> HTMLResponse:
    response = page(request, "register.html", principal, status=outcome.status, channels=petitionform.COUNTER_CHANNELS,
                    channel=channel, **submission.context(request, _registration_form(request, principal), outcome))
    response.headers.update(outcome.headers)
    return response


@router.get("/register", response_class=HTMLResponse)
async def registration_form(request: Request) -> HTMLResponse:
    principal, _ = await officer(request, *REGISTERING)
    return _registration_page(request, principal, submission.blank())


@router.post("/register", response_class=HTMLResponse)
async def register(request: Request) -> Response:
    principal, token = await officer(request, *REGISTERING)
    form = await posted(request, principal)
    channel = str(form.get("channel", ""))
    outcome = await submission.submit(request, form, _registration_form(request, principal), channel, token)
    if outcome.receipt is None:
        return _registration_page(request, principal, outcome, channel)
    return page(request, "registered.html", principal, receipt=outcome.receipt, channel=channel,
                anonymous=petitionform.checked(form.get(petitionform.ANONYMOUS)))


# --- work lists -------------------------------------------------------------------------------------------------
async def _list_page(request: Request, template: str, roles: tuple[Role, ...], **filters: Any) -> HTMLResponse:
    principal, token = await officer(request, *roles)
    cursor = request.query_params.get("cursor") or None
    rows, next_cursor = await worklists.page(request, token, limit=50, cursor=cursor, **filters)
    return page(request, template, principal, rows=rows, next_cursor=next_cursor, filters=filters)


@router.get("/triage", response_class=HTMLResponse)
async def triage(request: Request) -> HTMLResponse:
    """The bureau's triage list: registered cases awaiting transfer or assignment, the nearest deadline first."""
    return await _list_page(request, "triage.html", (Role.CLERK, Role.ADMIN), group="new", sort="next_deadline")


@router.get("/inbox", response_class=HTMLResponse)
async def inbox(request: Request) -> HTMLResponse:
    """The organ's open cases (routed to it, joining, reviewing now): overdue and due soon first."""
    return await _list_page(request, "inbox.html", (Role.ORGAN_OFFICER, Role.ADMIN), group="open",
                            sort="next_deadline")


COUNTY_LISTS = (Role.CLERK, Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN)
LIST_FILTERS = ("group", "status", "organ", "within_days")  # what the overview's links choose; the API checks each


@router.get("/cases", response_class=HTMLResponse)
async def case_list(request: Request) -> HTMLResponse:
    """The county's cases of one group (overdue, due soon, open ...) or one organ's: where the overview's counts
    lead."""
    filters = {name: request.query_params.get(name) or None for name in LIST_FILTERS}
    return await _list_page(request, "cases.html", COUNTY_LISTS, **{"group": "open", **{
        k: v for k, v in filters.items() if v}})


@router.get("/overview", response_class=HTMLResponse)
async def overview(request: Request) -> HTMLResponse:
    principal, token = await officer(request, Role.SUPERVISOR, Role.ADMIN)
    summary = await worklists.overview(request, token, SOON_DAYS)
    return page(request, "overview.html", principal, summary=summary, soon_days=SOON_DAYS)


SEARCHING = (Role.CLERK, Role.SUPERVISOR, Role.ADMIN)  # the bureau (POST /api/v1/cases/search)


@router.get("/search", response_class=HTMLResponse)
async def search_form(request: Request) -> HTMLResponse:
    principal, _ = await officer(request, *SEARCHING)
    return page(request, "search.html", principal, rows=None, by="name", value="")


@router.post("/search", response_class=HTMLResponse)
async def search(request: Request) -> HTMLResponse:
    """A petitioner's petitions by query code, name, phone or ID number: the value goes in the body of the API's
    search, which records every search (never in a URL)."""
    principal, token = await officer(request, *SEARCHING)
    form = await posted(request, principal)
    by, value = str(form.get("by", "")), str(form.get("value", ""))
    answer = await api.call(request, "POST", "/api/v1/cases/search", token=token, json_body={"by": by, "value": value})
    if answer.status == 422:
        errors = petitionform.field_errors(answer.body)
        return page(request, "search.html", principal, status=422, rows=None, by=by, value=value,
                    error="；".join(errors.values()))
    body = answer.result()
    return page(request, "search.html", principal, rows=[worklists.row(r) for r in body.get("cases", [])], by=by,
                value=value, truncated=body.get("truncated", False))


@router.get("/find", response_class=HTMLResponse)
async def find(request: Request) -> Response:
    """By petition id (信访事项编号), from any list or receipt; the bureau finds a petitioner's petitions by query
    code, name, phone or ID number with `/console/search`."""
    principal, _ = await officer(request)
    wanted = request.query_params.get("petition_id", "").strip()
    try:
        petition_id = str(uuid.UUID(wanted))
    except ValueError:
        return page(request, "error.html", principal, status=404,
                    message="请输入正确的信访事项编号（如 1c637d78-3d97-5488-91e5-aabe96b0557f）")
    audit = principal.role is Role.AUDITOR or request.query_params.get("audit") == "1"
    return see_other(f"/console/audit/{petition_id}" if audit
                     else f"/console/cases/{petition_id}")


# --- the case page ------------------------------------------------------------------------------------------------
def _takes(principal: Principal, action: str) -> bool:
    """Whether the officer's role may be one of the step's parties (the Case checks the organ and the rest)."""
    step = STEPS.get(action)
    return bool(step and step.endpoint and any(principal.role in PARTY_ROLES[p] for p in step.parties))


async def _case_page(request: Request, principal: Principal, token: str, petition_id: str, *, message: str = "",
                     error: str = "", failed: str = "", errors: dict[str, str] | None = None,
                     values: dict[str, Any] | None = None, status: int = 200,
                     version: int | None = None) -> HTMLResponse:
    record = (await api.current(request, f"/api/v1/petitions/{petition_id}", version, token=token)).result()
    state = await api.call(request, "GET", f"/api/v1/petitions/{petition_id}/case", token=token)
    case = state.body if state.ok else None
    reference = console_of(request).reference
    actions = [forms.step_form(STEPS[a], reference) for a in (case or {}).get("allowed_actions", [])
               if _takes(principal, a)]
    # Each step's record in words as the auditor's history has them: by its action, organs and places by name.
    case_file = [{**step, "words": said(step.get("said") or {}, context=labels.Recorded(
        {"action": step.get("step")}, reference))} for step in record.get("case_file") or []]
    # The bureau's record of every notice and each channel's delivery: to print, post, record receipt, re-send.
    notices = None
    if principal.role in NOTICE_READERS:
        notices = (await api.call(request, "GET", f"/api/v1/petitions/{petition_id}/notices", token=token)).result()
    return page(request, "case.html", principal, status=status, record=record, case=case, actions=actions,
                case_file=case_file, notice_records=notices["notices"] if notices else None,
                notice_done=NOTICE_DONE.get(request.query_params.get("notice_done", ""), ""),
                message=message, error=error, failed=failed, errors=errors or {}, values=values or {},
                petition_id=petition_id)


def _uuid(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise ApiError(404, "not_found", "未找到该信访事项") from None


@router.get("/cases/{petition_id}", response_class=HTMLResponse)
async def case_page(request: Request, petition_id: str) -> HTMLResponse:
    principal, token = await officer(request)
    done = request.query_params.get("done", "")
    return await _case_page(request, principal, token, _uuid(petition_id), message=DONE.get(done, ""),
                            version=api.version_asked(request))


@router.post("/cases/{petition_id}/actions/{action}", response_class=HTMLResponse)
async def act(request: Request, petition_id: str, action: str) -> Response:
    principal, token = await officer(request)
    form = await posted(request, principal)
    petition_id = _uuid(petition_id)
    step = STEPS.get(action)
    if step is None or step.endpoint is None or step.command is None:
        raise ApiError(404, "not_found", "没有这项操作")
    fields = forms.step_form(step, console_of(request).reference).fields
    answer = await api.call(request, "POST", f"/api/v1/petitions/{petition_id}/{step.endpoint.path}", token=token,
                            json_body=forms.form_values(form, fields))
    if answer.ok:  # the page after it shows the case as the step left it (api.current)
        return see_other(f"/console/cases/{petition_id}?done={action}&v={int(answer.body.get('version') or 0)}")
    problem = answer.problem()
    values = {f.name: (form.getlist(f.name) if f.widget == "multiselect" else str(form.get(f.name, "")))
              for f in fields}
    errors = petitionform.field_errors(answer.body) if answer.status == 422 else {}
    return await _case_page(request, principal, token, petition_id, error=problem.message, failed=action,
                            errors=errors, values=values, status=answer.status)


@router.get("/cases/{petition_id}/attachments/{sha256}")
async def case_attachment(request: Request, petition_id: str, sha256: str) -> Response:
    """A file of the case, as the API serves it to this officer: who may download it, and the record of each
    download as a view of personal data, are the API's (GET /api/v1/petitions/{id}/attachments/{sha256})."""
    _principal, token = await officer(request)
    sha256 = sha256.lower()
    if not api.SHA256.fullmatch(sha256):
        raise ApiError(404, "attachment_not_found", "该信访事项没有此附件")
    found = await api.send(request, "GET", f"/api/v1/petitions/{_uuid(petition_id)}/attachments/{sha256}",
                           token=token)
    if found.status_code != 200:
        raise api.Answer.of(found).problem()
    return api.file_response(found)


# --- auditors -----------------------------------------------------------------------------------------------------
@router.get("/audit", response_class=HTMLResponse)
async def audit_home(request: Request) -> HTMLResponse:
    principal, _ = await officer(request, *AUDITING)
    return page(request, "audit_find.html", principal)


# What the timeline shows in its own columns; the rest of an event is what the step said.
EVENT_COLUMNS = frozenset({"recorded_at", "service", "aggregate", "aggregate_id", "version", "event", "event_id",
                           "caused_by", "correlation_id", "action", "status", "actor", "at"})


def said(record: dict[str, Any], skip: set[str] | frozenset[str] = frozenset(),
         context: labels.Recorded | None = None) -> list[tuple[str, str]]:
    """What a step said, in words (labels.recorded_fields), without the columns shown beside it and what is empty."""
    return labels.recorded_fields(record, skip, context)


def history_rows(events: list[dict[str, Any]], reference: Any) -> list[dict[str, Any]]:
    """The history as the page shows it: each event with its name and its service in Chinese (its machine name,
    which the offline verifier prints, stays beside them) and what it said in words, by the event it was recorded
    in, the reference data and the deadlines' labels the case's steps recorded."""
    deadlines = labels.opened_labels(events)
    return [{"event": event, "name": labels.event_name(event), "service": labels.service_name(event.get("service")),
             "said": said(event, EVENT_COLUMNS, labels.Recorded(event, reference, deadlines))} for event in events]


def _as_of(text: str) -> datetime | None:
    """A moment as read on a clock in China (the page's datetime-local input), with its offset."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)


async def _audit_page(request: Request, petition_id: str, as_of_text: str = "", *,
                      verified: verification.Result | None = None, verify_error: str = "",
                      status: int = 200) -> HTMLResponse:
    """The history, the state as of `as_of_text` (the moment the page was showing: kept when the auditor verifies
    or downloads) and the verification's result or refusal."""
    principal, token = await officer(request, *AUDITING)
    petition_id = _uuid(petition_id)
    history = (await api.call(request, "GET", f"/api/v1/audit/petitions/{petition_id}/history",
                              token=token)).result()
    state, state_error = None, ""
    if as_of_text:
        moment = _as_of(as_of_text)
        if moment is None:
            state_error = "时间格式不正确"
        else:
            answer = await api.call(request, "GET", f"/api/v1/audit/petitions/{petition_id}/state", token=token,
                                    params={"as_of": moment.isoformat()})
            state, state_error = (answer.body, "") if answer.ok else (None, answer.problem().message)
    events = history_rows(history.get("events", []), console_of(request).reference)
    return page(request, "audit_case.html", principal, status=status, petition_id=petition_id, events=events,
                state=state, state_error=state_error, as_of=as_of_text, verified=verified, verify_error=verify_error,
                may_verify=principal.role is Role.AUDITOR)


@router.get("/audit/{petition_id}", response_class=HTMLResponse)
async def audit_case(request: Request, petition_id: str) -> HTMLResponse:
    return await _audit_page(request, petition_id, request.query_params.get("as_of", ""))


@router.post("/audit/{petition_id}/verification", response_class=HTMLResponse)
async def audit_verification(request: Request, petition_id: str) -> HTMLResponse:
    principal, token = await officer(request, Role.AUDITOR)
    form = await posted(request, principal)
    as_of_text = str(form.get("as_of", ""))  # the moment the page was showing, carried by the form
    answer = await api.call(request, "GET", f"/api/v1/audit/petitions/{_uuid(petition_id)}/bundle", token=token)
    if not answer.ok:
        return await _audit_page(request, petition_id, as_of_text, verify_error=answer.problem().message)
    result = verification.verify(answer.body, gateway_of(request).settings.audit_public_keys_path)
    return await _audit_page(request, petition_id, as_of_text, verified=result)


@router.get("/audit/{petition_id}/bundle")
async def audit_bundle(request: Request, petition_id: str) -> Response:
    """The case bundle to verify offline (`python -m shared.audit.verifier case-<id>.json --bundle --key …`), as
    the API serves it to this officer (GET /api/v1/audit/petitions/{id}/bundle): an attachment named
    case-<id>.json. Who may download it (auditors) and the record of each download as a view of personal data are
    the API's. While no signed checkpoint covers the case (409 not_yet_checkpointed) the auditor's page says so in
    the API's words."""
    _principal, token = await officer(request)
    petition_id = _uuid(petition_id)
    found = await api.send(request, "GET", f"/api/v1/audit/petitions/{petition_id}/bundle", token=token)
    if found.status_code == 200:
        response = api.file_response(found)
        response.headers.setdefault("content-disposition", f'attachment; filename="case-{petition_id}.json"')
        return response
    problem = api.Answer.of(found).problem()
    if found.status_code == 409:
        return await _audit_page(request, petition_id, request.query_params.get("as_of", ""),
                                 verify_error=problem.message, status=409)
    raise problem
