"""The officers' work lists (GET /api/v1/cases), the bureau's search for a petitioner's petitions (POST
/api/v1/cases/search) and, for auditors, the record of those searches (docs/api.md §"Work lists and search")."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from services.gateway import access_records, worklists
from services.gateway.deps import OFFICER_ROLES, CorrelationIdDep, GatewayDep, client_address, require_roles
from services.gateway.errors import ApiError
from services.gateway.schemas import OrganPublic, Problem
from services.gateway.security import Principal, Role
from services.gateway.worklists import ListQuery, SortOrder
from shared.language.contracts.lifecycle import Status
from shared.language.contracts.registration import Category, Channel, Topic
from shared.language.contracts.search import SearchPetitions
from shared.language.contracts.worklists import ListGroup

router = APIRouter(prefix="/api/v1", tags=["work lists"])
SEARCHING = (Role.CLERK, Role.SUPERVISOR, Role.ADMIN)
RESPONSES: dict[int | str, dict[str, Any]] = {401: {"model": Problem}, 403: {"model": Problem},
                                              422: {"model": Problem}, 503: {"model": Problem}}


class RowPetitioner(BaseModel):
    name: str  # the full name, or masked ("张**"), or "匿名" for an anonymous report
    identified: bool  # the full name is shown
    anonymous: bool


class RowDeadline(BaseModel):
    kind: str
    label: str
    due: str  # YYYY-MM-DD (China)
    provisional: bool = False
    days_left: int  # from today in China; negative once passed
    overdue: bool


class CaseRowView(BaseModel):
    """One case as a work list shows it to this officer."""

    id: str
    query_code: str | None = None  # clerks and admin only
    title: str | None = None
    petitioner: RowPetitioner | None = None  # None only when intake did not answer (`names_unavailable`)
    organ: OrganPublic | None = None
    status: str
    status_text: str
    status_group: str
    status_group_text: str
    category: str | None = None
    category_text: str | None = None
    channel: str | None = None
    channel_text: str | None = None
    topic: str | None = None
    topic_text: str | None = None
    place_code: str | None = None
    place_name: str | None = None
    registered_at: datetime | None = None
    next_deadline: RowDeadline | None = None  # the earliest open deadline someone must meet
    flags: list[str] = []  # group | joint_signature | major_urgent | anonymous | repeat
    flag_texts: list[str] = []


class CaseList(BaseModel):
    cases: list[CaseRowView]
    next_cursor: str | None = None  # the `cursor` of the next page; None: this is the last one
    today: date  # the date in China that `days_left`, "due soon" and "overdue" count from
    names_unavailable: bool = False  # intake did not answer: the rows are shown without their petitioners


class SearchAnswer(BaseModel):
    cases: list[CaseRowView]  # the most recent first
    truncated: bool  # more petitions matched than are shown (50): search by something more specific
    search_id: str  # the record of this search (GET /api/v1/audit/personal-data-searches)


class PersonalDataSearchEntry(BaseModel):
    id: str
    at: datetime
    username: str
    role: str
    organ: str | None = None
    searched_by: str  # query_code | name | phone | id_number
    value_hash: str  # a keyed hash of the value searched (never the value)
    petition_ids: list[str]  # the petitions shown
    client: str
    correlation_id: str


class PersonalDataSearches(BaseModel):
    searches: list[PersonalDataSearchEntry]  # newest first
    next_offset: int | None = None


@router.get("/cases", response_model=CaseList, responses=RESPONSES)
def list_cases(
    request: Request,
    gw: GatewayDep,
    correlation: CorrelationIdDep,
    principal: Annotated[Principal, Depends(require_roles(*OFFICER_ROLES))],
    group: Annotated[ListGroup | None, Query(description="状态分组: new 待分流, awaiting_acceptance 待受理, in_handling "
                                                        "办理中, replied 已出具意见, in_review 复查复核中, concluded 已办结, "
                                                        "open 未办结, due_soon 即将到期, overdue 已超期")] = None,
    status: Annotated[Status | None, Query(description="one status (GET /api/v1/reference/statuses)")] = None,
    within_days: Annotated[int, Query(ge=0, le=worklists.MAX_WITHIN_DAYS,
                                      description="with group=due_soon: due today or within this many days")] = 7,
    organ: Annotated[str | None, Query(min_length=1, max_length=64, description="an organ's cases: routed to it, "
                                                                                "joining, or reviewing now")] = None,
    topic: Annotated[Topic | None, Query()] = None,
    town: Annotated[str | None, Query(pattern=r"^[0-9]{9}$", description="a town's 9-digit code")] = None,
    channel: Annotated[Channel | None, Query()] = None,
    category: Annotated[Category | None, Query()] = None,
    registered_from: Annotated[date | None, Query(description="registered on or after this day (China)")] = None,
    registered_to: Annotated[date | None, Query(description="registered on or before this day (China)")] = None,
    deadline_before: Annotated[date | None, Query(description="next deadline before this day")] = None,
    sort: Annotated[SortOrder | None, Query(description="next_deadline (the default), registered_at, "
                                                        "-registered_at (the default of a concluded list)")] = None,
    cursor: Annotated[str | None, Query(min_length=1, max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> CaseList:
    """A work list: the county's cases for the bureau (clerk, supervisor, admin) and auditors, an organ officer's
    organ's (routed to it, joining, or under its review now). Filters combine; pages follow with `cursor` =
    `next_cursor`. Query codes are shown to clerks and admin, full names to whoever may see the petitioner (the
    others read "张**"); each row that shows either is recorded as a view of personal data first."""
    query = ListQuery(group=group, status=status, within_days=within_days, organ=organ, topic=topic, town=town,
                      channel=channel, category=category, registered_from=registered_from,
                      registered_to=registered_to, deadline_before=deadline_before, sort=sort)
    worklists.check(query, principal, gw.settings.routing_rules_file)
    cursors = worklists.Cursors(gw.settings.jwt_secret)
    after = cursors.read(cursor, query) if cursor is not None else None
    today = worklists.today_in_china()
    rows, next_key = worklists.page(query, principal, after, limit, today)
    names = worklists.petitioner_names(gw.rpc, principal, rows)
    shown, personal = [], {}
    for row in rows:
        entry, fields = worklists.present(row, principal, (names or {}).get(row["_id"]), today, "list")
        shown.append(entry)
        personal[row["_id"]] = fields
    access_records.record_rows(principal, personal, client_address(request), correlation)
    return CaseList(cases=[CaseRowView(**entry) for entry in shown],
                    next_cursor=cursors.issue(query, next_key) if next_key else None, today=today,
                    names_unavailable=names is None)


class CountedOrgan(BaseModel):
    code: str | None = None  # None: no organ holds them yet (the bureau triages them)
    name: str
    count: int
    overdue: int = 0  # of which past their next duty deadline
    due_soon: int = 0  # of which due within `within_days`


class CountedStatus(BaseModel):
    status: str
    status_text: str
    status_group: str
    status_group_text: str
    count: int


class CaseCounts(BaseModel):
    """The county's open (not concluded) cases, counted."""

    today: date  # the date in China that overdue and due soon count from
    open: int
    overdue: int  # an open case whose next duty deadline has passed
    due_soon: int  # due today or within `within_days` days
    within_days: int
    by_organ: list[CountedOrgan]  # by the organ whose work each is now (the reviewing organ, else the lead); most first
    by_status: list[CountedStatus]  # in the lifecycle's order


COUNTING = (Role.CLERK, Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN)


@router.get("/cases/counts", response_model=CaseCounts, responses=RESPONSES)
def count_cases(
    gw: GatewayDep,
    _principal: Annotated[Principal, Depends(require_roles(*COUNTING))],
    within_days: Annotated[int, Query(ge=0, le=worklists.MAX_WITHIN_DAYS,
                                      description="due soon: due today or within this many days")] = 7,
) -> CaseCounts:
    """The supervisors' overview: the county's open cases by organ and by status, and how many are overdue or due
    soon (the bureau and auditors; counts only, no case is named). Kept with the work lists, so as current as they
    are; the cases themselves are listed by GET /api/v1/cases (group=overdue, group=due_soon)."""
    return CaseCounts(**worklists.counts(worklists.today_in_china(), within_days, gw.settings.routing_rules_file))


@router.post("/cases/search", response_model=SearchAnswer, responses=RESPONSES)
def search_cases(
    command: SearchPetitions,
    request: Request,
    gw: GatewayDep,
    correlation: CorrelationIdDep,
    principal: Annotated[Principal, Depends(require_roles(*SEARCHING))],
) -> SearchAnswer:
    """Find a petitioner's petitions by query code, name, phone (mobile or fixed line) or ID number: the bureau only
    (clerk, supervisor, admin). The value goes in the body, never the address (which proxies log). Every search is
    recorded — who, which kind of key, a keyed hash of the value, which petitions were shown — before it is
    answered, and each petition shown is recorded as a view of personal data."""
    found = gw.rpc.call("intake", "search_petitions", command.by.value, command.value, actor=principal.actor())
    if not found.get("ok"):
        if found.get("error") == "forbidden":
            raise ApiError(403, "forbidden", "您的角色无权执行此操作")
        raise ApiError(422, "validation_failed", "提交的信息有误，请按提示修改后重新提交。",
                       extra={"errors": [{"field": "value", "label": "查找内容", "code": "invalid_value",
                                          "message": "查找内容格式不正确"}]})
    matches = found["found"]
    rows = worklists.rows_by_id([m["petition_id"] for m in matches])
    today = worklists.today_in_china()
    shown, personal = [], {}
    for match in matches:
        row = rows.get(match["petition_id"]) or worklists.just_registered(match)
        petitioner = {"name": match["name"], "identified": not match["anonymous"], "anonymous": match["anonymous"]}
        entry, fields = worklists.present(row, principal, petitioner, today, "search")
        shown.append(entry)
        personal[match["petition_id"]] = [f"search.{command.by.value}", *fields]
    search_id = access_records.record_search(
        principal, command.by.value, worklists.value_hash(gw.settings.jwt_secret, command.by.value, command.value),
        [m["petition_id"] for m in matches], client_address(request), correlation)
    access_records.record_rows(principal, personal, client_address(request), correlation)
    return SearchAnswer(cases=[CaseRowView(**entry) for entry in shown], truncated=found.get("truncated", False),
                        search_id=search_id)


@router.get("/audit/personal-data-searches", response_model=PersonalDataSearches, responses=RESPONSES,
            tags=["audit"])
def personal_data_searches(
    _principal: Annotated[Principal, Depends(require_roles(Role.AUDITOR))],
    user: Annotated[str | None, Query(min_length=1, max_length=64, description="only this officer's searches")] = None,
    since: Annotated[datetime | None, Query(description="ISO 8601 with a time zone; from this moment on")] = None,
    until: Annotated[datetime | None, Query(description="ISO 8601 with a time zone; before this moment")] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> PersonalDataSearches:
    """Every search for a person's petitions, newest first (auditors only): who, when, by which kind of key, a keyed
    hash of the value (the same value searched twice shows the same hash), which petitions were shown."""
    for moment in (since, until):
        if moment is not None and moment.tzinfo is None:
            raise ApiError(422, "timezone_required", "请在时间中注明时区，例如 2026-10-01T12:00:00+08:00")
    entries, next_offset = access_records.search_listing(username=user, since=since, until=until, offset=offset,
                                                         limit=limit)
    return PersonalDataSearches(searches=[PersonalDataSearchEntry(**e) for e in entries], next_offset=next_offset)
