"""The supervisors' lists (docs/api.md §"Supervision lists"): the supervision orders not yet closed, and the backlog
ledger (积案台账) with the leader-ownership resolution rate. The steps themselves (issue an order, answer it, review
the answer, assign a leader) are lifecycle steps: POST /api/v1/petitions/{id}/supervision-orders and the others
(routes/lifecycle.py)."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel

from services.gateway import exports, supervision, worklists
from services.gateway.deps import CorrelationIdDep, GatewayDep, require_roles
from services.gateway.errors import ApiError
from services.gateway.queryparams import QueryChecks
from services.gateway.routes.petitions import idempotency_key
from services.gateway.schemas import OrganPublic, Problem
from services.gateway.security import Principal, Role
from shared.language.contracts.circulars import CIRCULAR_KINDS, IssueCircular
from shared.language.readmodels import CircularRecord

router = APIRouter(prefix="/api/v1/supervision", tags=["supervision"])
RESPONSES: dict[int | str, dict[str, Any]] = {401: {"model": Problem}, 403: {"model": Problem},
                                              422: {"model": Problem}}
# The bureau's supervisors (and admin, clerks, auditors reading); an organ officer sees the orders addressed to
# their own organ only, and not the backlog ledger.
ORDER_READERS = (Role.SUPERVISOR, Role.ADMIN, Role.CLERK, Role.AUDITOR, Role.ORGAN_OFFICER)
BACKLOG_READERS = (Role.SUPERVISOR, Role.ADMIN, Role.CLERK, Role.AUDITOR)


class OrderRow(BaseModel):
    petition_id: str
    title: str | None = None
    status_text: str
    organ: OrganPublic | None = None  # the organ the order is addressed to
    order_level: str
    order_level_text: str
    trigger: str
    trigger_text: str
    issued_on: str
    due: str | None = None  # the day to answer by
    days_left: int | None = None
    overdue: bool
    state: str  # open | answered
    state_text: str
    answered_on: str | None = None


class Orders(BaseModel):
    orders: list[OrderRow]
    truncated: bool = False  # more than the list shows (1,000): the latest days to answer by are left out


class Proposed(BaseModel):
    trigger: str
    text: str


class BacklogRow(BaseModel):
    petition_id: str
    title: str | None = None
    organ: OrganPublic | None = None
    status_text: str
    registered_on: str | None = None
    leader: str | None = None  # None: proposed for ownership, not yet assigned
    leader_title: str | None = None
    since: str | None = None
    due: str | None = None
    resolved_on: str | None = None
    proposed: list[Proposed] = []


class Backlog(BaseModel):
    rows: list[BacklogRow]
    truncated: bool = False  # more than the list shows (1,000): the latest days are left out
    owned: int  # cases a leader owns or owned
    resolved: int  # of which resolved (化解)
    resolution_rate: float | None  # 领导包案化解率: resolved ÷ owned; None when none is owned


@router.get("/orders", response_model=Orders, responses=RESPONSES)
def supervision_orders(
        gw: GatewayDep, principal: Annotated[Principal, Depends(require_roles(*ORDER_READERS))],
        state: Annotated[Literal["open", "answered", "all"], Query(description="open: awaiting the organ's answer; "
                                                                  "answered: awaiting review; all: both")] = "all",
        organ: Annotated[str | None, Query(min_length=1, max_length=64)] = None) -> dict[str, Any]:
    """The supervision orders not yet closed, answered ones (awaiting the supervisor's review) first, then by the
    day to answer by."""
    if principal.role is Role.ORGAN_OFFICER:
        if organ is not None and organ != principal.organ_code:
            raise ApiError(403, "not_your_organ", "您只能查看对本机关的督办")
        organ = principal.organ_code
    else:
        checks = QueryChecks({"organ": "机关代码"})
        checks.organ(organ, worklists.organs(gw.settings.routing_rules_file))
        checks.refuse()
    states = ["open", "answered"] if state == "all" else [state]
    return supervision.orders(states, organ, worklists.today_in_china())


@router.get("/backlog", response_model=Backlog, responses=RESPONSES)
def backlog_ledger(
        principal: Annotated[Principal, Depends(require_roles(*BACKLOG_READERS))],
        resolved: Annotated[bool | None, Query(description="true: resolved ones only; false: not yet resolved "
                                                           "(and the proposals)")] = None) -> dict[str, Any]:
    """The backlog ledger (积案台账): the cases a leader owns (with the plan's day and whether resolved) and the open
    cases proposed for leader ownership, with the leader-ownership resolution rate (领导包案化解率)."""
    return supervision.backlog(resolved)


class LeaderCase(BaseModel):
    petition_id: str
    title: str | None = None
    status_text: str
    since: str | None = None
    due: str | None = None
    resolved_on: str | None = None


class LeaderRecord(BaseModel):
    leader: str
    leader_title: str | None = None
    owned: int
    resolved: int
    resolved_in_time: int  # resolved by the day set when the case was assigned
    resolution_rate: float
    cases: list[LeaderCase]


class Leaders(BaseModel):
    leaders: list[LeaderRecord]


@router.get("/backlog.csv", response_class=Response, responses=RESPONSES)
def backlog_csv(principal: Annotated[Principal, Depends(require_roles(*BACKLOG_READERS))],
                resolved: Annotated[bool | None, Query()] = None) -> Response:
    """The backlog ledger as CSV (UTF-8 with a BOM), with the resolution rate, the time generated and no
    petitioner's name or query code."""
    return exports.download(exports.ledger_table(supervision.backlog(resolved), worklists.today_in_china(), resolved), "csv")


@router.get("/backlog.xlsx", response_class=Response, responses=RESPONSES)
def backlog_xlsx(principal: Annotated[Principal, Depends(require_roles(*BACKLOG_READERS))],
                 resolved: Annotated[bool | None, Query()] = None) -> Response:
    """The backlog ledger as an Excel workbook: the same table as the CSV."""
    return exports.download(exports.ledger_table(supervision.backlog(resolved), worklists.today_in_china(), resolved), "xlsx")


@router.get("/leaders", response_model=Leaders, responses=RESPONSES)
def leaders_archive(principal: Annotated[Principal, Depends(require_roles(*BACKLOG_READERS))]) -> dict[str, Any]:
    """The leaders' performance archive (实绩档案): each leader's owned cases and their outcomes."""
    return {"leaders": supervision.leaders()}


# --- circulars (通报; services/supervision/circulars.py; docs/api.md §"Supervision lists") ----------------------------
# The bureau reads them all; an organ officer those addressed to their organ. Supervisors (and admin) issue them.
CIRCULAR_READERS = (Role.SUPERVISOR, Role.ADMIN, Role.CLERK, Role.AUDITOR, Role.ORGAN_OFFICER)
CIRCULAR_ISSUERS = (Role.SUPERVISOR, Role.ADMIN)
CIRCULAR_LIMIT = 500  # the most circulars one answer lists (the newest); `truncated` says when there were more
CIRCULAR_RESPONSES: dict[int | str, dict[str, Any]] = {
    **RESPONSES, 404: {"model": Problem}, 409: {"model": Problem}, 503: {"model": Problem}}


class CircularRow(BaseModel):
    id: str
    number: str  # 督通〔YYYY〕xxxxxx号
    kind: str  # typical_problem | criticism
    kind_text: str
    title: str
    report_due: str | None = None  # the day to report the rectification by
    organs: list[OrganPublic]
    cases: int  # how many cases it cites
    issued_on: str
    issued_at: str


class Circulars(BaseModel):
    circulars: list[CircularRow]
    count: int
    truncated: bool


class CircularDocument(BaseModel):
    id: str
    number: str
    kind: str
    kind_text: str
    title: str
    problems: str  # 存在的问题 (the bureau's own text)
    demands: str  # 整改要求
    report_due: str | None = None
    organs: list[OrganPublic]
    petitions: list[str]  # the cases it cites, by id
    issued_by: dict[str, Any]  # the supervisor's (or admin's) role, user name and organ
    issued_on: str
    issued_at: str


def _circular(record: dict[str, Any]) -> dict[str, Any]:
    """A `circulars` document as the API shows it."""
    issued_at = record["issued_at"]
    return {"id": record["_id"], "number": record["number"], "kind": record["kind"],
            "kind_text": CIRCULAR_KINDS.get(record["kind"], record["kind"]), "title": record["title"],
            "problems": record["problems"], "demands": record["demands"], "report_due": record.get("report_due"),
            "organs": record.get("organs", []), "petitions": record.get("petitions", []),
            "issued_by": record.get("issued_by") or {}, "issued_on": record["issued_on"],
            "issued_at": issued_at.astimezone(UTC).isoformat(timespec="milliseconds")}  # as supervision answers


@router.get("/circulars", response_model=Circulars, responses=CIRCULAR_RESPONSES)
def list_circulars(principal: Annotated[Principal, Depends(require_roles(*CIRCULAR_READERS))]) -> dict[str, Any]:
    """The circulars (通报) issued, newest first: to an organ officer, those addressed to their organ only."""
    query = {"organ_codes": principal.organ_code} if principal.role is Role.ORGAN_OFFICER else {}
    found = list(CircularRecord._get_collection().find(query, {"problems": 0, "demands": 0})
                 .sort([("issued_at", -1), ("_id", 1)]).limit(CIRCULAR_LIMIT + 1))
    rows = [{**_circular({**r, "problems": "", "demands": ""}), "cases": len(r.get("petitions", []))}
            for r in found[:CIRCULAR_LIMIT]]
    return {"circulars": rows, "count": len(rows), "truncated": len(found) > CIRCULAR_LIMIT}


@router.get("/circulars/{circular_id}", response_model=CircularDocument, responses=CIRCULAR_RESPONSES)
def get_circular(circular_id: str,
                 principal: Annotated[Principal, Depends(require_roles(*CIRCULAR_READERS))]) -> dict[str, Any]:
    """The circular itself: its number, kind, title, the problems and demands, the day to report by, the organs it
    is addressed to and the cases it cites. An organ officer reads only those addressed to their organ (403)."""
    record = CircularRecord._get_collection().find_one({"_id": circular_id.strip().lower()})
    if record is None:
        raise ApiError(404, "not_found", "未找到该通报")
    if principal.role is Role.ORGAN_OFFICER and principal.organ_code not in record.get("organ_codes", []):
        raise ApiError(403, "not_your_organ", "该通报未印发您所在的机关，无权查看")
    return _circular(record)


@router.post("/circulars", status_code=201, response_model=CircularDocument, responses=CIRCULAR_RESPONSES)
def issue_circular(command: IssueCircular, gw: GatewayDep,
                   principal: Annotated[Principal, Depends(require_roles(*CIRCULAR_ISSUERS))],
                   correlation: CorrelationIdDep,
                   key: Annotated[str | None, Depends(idempotency_key)]) -> dict[str, Any]:
    """Issue a circular (印发通报) to one or more organs: each is told by an official notice (信访工作通报, by e-mail to
    its mailbox). 201 with the circular. With an `Idempotency-Key`, the same request sent again (after a 503, or no
    answer) answers with the circular it issued and issues nothing twice; the same key with a different circular is
    409 `idempotency_key_reused`. 422 names each bad field in Chinese: an organ not in the county's directory, a case
    not on the platform, a day to report by that is not after today."""
    answer = gw.rpc.call("supervision", "issue_circular", command.model_dump(mode="json"), correlation_id=correlation,
                         idempotency_key=key, actor=principal.actor())
    if not answer["ok"]:
        problem = answer["problem"]
        extra = {k: v for k, v in problem.items() if k not in ("error", "message")}
        raise ApiError(answer["http_status"], problem["error"], problem["message"], extra=extra)
    return answer["circular"]
