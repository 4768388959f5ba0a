"""The assessment rates (GET /api/v1/assessment/rates; docs/api.md §"Assessment rates", docs/assessment.md): the
bureau's and each organ's 及时受理率, 按期答复率, 参评率 and 满意率 over a period of registration days; and their
exports with the overdue list's (docs/api.md §"Exports": CSV and Excel, services/gateway/exports.py).

Counts only: no case is named and no personal data is shown, so nothing is recorded as a view of personal data
(unlike the work lists). The overdue list's export names cases, by number and title only: no petitioner's name and
no query code, so nothing there is recorded either."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from services.gateway import assessment, exports, worklists
from services.gateway.deps import OFFICER_ROLES, GatewayDep, require_roles
from services.gateway.errors import ApiError
from services.gateway.queryparams import QueryChecks
from services.gateway.schemas import Problem
from services.gateway.security import Principal, Role
from shared.language.contracts.worklists import ListGroup

router = APIRouter(prefix="/api/v1", tags=["assessment"])
# The bureau sees any organ's rates and the county's, and so do auditors (they check the figures against the record);
# an organ officer its own organ's only; petitioners never.
READING = (Role.CLERK, Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR, Role.ORGAN_OFFICER)
RESPONSES: dict[int | str, dict[str, Any]] = {401: {"model": Problem}, 403: {"model": Problem},
                                              422: {"model": Problem}, 503: {"model": Problem}}
LABELS = {"from": "统计期间起", "to": "统计期间止", "organ": "机关代码", "town": "乡镇（街道）代码"}


def check(principal: Principal, first_day: str | None, last_day: str | None, organ: str | None, town: str | None,
          gw: Any) -> tuple[date, date, str | None]:
    """The period and the organ the report is for; 422 naming each bad parameter, 403 for another organ's."""
    checks = QueryChecks(LABELS)
    first, last = checks.day("from", first_day, required=True), checks.day("to", last_day, required=True)
    longest = gw.settings.assessment_max_period_days
    if first and last and first > last:
        checks.error("to", "invalid_range", "统计期间止不能早于统计期间起")
    elif first and last and (last - first).days + 1 > longest:
        checks.error("to", "period_too_long", f"统计期间不能超过{longest}日，请分段统计")
    checks.organ(organ, worklists.organs(gw.settings.routing_rules_file))
    if town is not None and not worklists.places().is_town(town):
        checks.error("town", "unknown_town", f"乡镇（街道）代码“{town}”不是本县的乡镇，可选值见 /api/v1/reference/places")
    checks.refuse()
    if principal.role is Role.ORGAN_OFFICER:
        if principal.organ_code is None or (organ is not None and organ != principal.organ_code):
            raise ApiError(403, "not_your_organ", "您只能查看本机关的考核指标")
        organ = principal.organ_code
    assert first is not None and last is not None  # noqa: S101 - checked above
    return first, last, organ


class Rate(BaseModel):
    """numerator ÷ denominator; the further keys say what they are made of."""

    model_config = ConfigDict(extra="allow")

    numerator: int
    denominator: int
    rate: float | None  # rounded to 4 decimals; None when the denominator is 0


class Rates(BaseModel):
    timely_acceptance: Rate  # 及时受理率
    on_time_reply: Rate  # 按期答复率
    participation: Rate  # 参评率
    satisfaction: Rate  # 满意率


class Period(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    first: str = Field(alias="from")  # YYYY-MM-DD (China)
    last: str = Field(alias="to")
    time_zone: str
    counted_as_of: datetime  # the end of `to` in China: nothing later is counted
    closed: bool  # the period is over: its figures will not change


class Settings(BaseModel):
    not_yet_due_in_denominator: bool
    basically_satisfied_counts_as_satisfied: bool
    return_visit_ratings_count: bool
    counted_as_of: datetime
    overdue_if_due_before: str  # an open item due before this day (China) is overdue


class Named(BaseModel):
    code: str
    name: str | None = None


class Scope(BaseModel):
    organ: Named | None = None  # None: the county (the bureau's figures)
    town: Named | None = None


class AssessmentReport(BaseModel):
    period: Period
    settings: Settings
    cases: int  # registered in the period (and held by the organ at the cut-off)
    rates: Rates
    scope: Scope


FirstDay = Annotated[str | None, Query(alias="from", max_length=32,
                                       description="the first registration day, YYYY-MM-DD (China)")]
LastDay = Annotated[str | None, Query(alias="to", max_length=32,
                                      description="the last registration day, YYYY-MM-DD (China), included")]
OrganCode = Annotated[str | None, Query(min_length=1, max_length=64, description="an organ's code: its rates")]
TownCode = Annotated[str | None, Query(min_length=1, max_length=32,
                                       description="a town's 9-digit code: matters that arose in it")]
Reader = Annotated[Principal, Depends(require_roles(*READING))]


@router.get("/assessment/rates", response_model=AssessmentReport, response_model_by_alias=True, responses=RESPONSES)
def assessment_rates(gw: GatewayDep, principal: Reader, first_day: FirstDay = None, last_day: LastDay = None,
                     organ: OrganCode = None, town: TownCode = None) -> dict[str, Any]:
    """及时受理率, 按期答复率, 参评率 and 满意率 of the cases registered in the period, for the county (信访部门) or
    one organ (the organ that held each case at the cut-off), optionally one town: each a numerator, a denominator
    and their rate (null when the denominator is 0), counted as of the end of the period's last day in China, so a
    closed period's figures never change. The bureau (clerk, supervisor, admin) sees any organ's; an organ officer
    only their own organ's (given or not). Counts only: nothing is recorded as a view of personal data."""
    return rates(gw, principal, first_day, last_day, organ, town)


def rates(gw: Any, principal: Principal, first_day: str | None, last_day: str | None, organ: str | None,
          town: str | None) -> dict[str, Any]:
    """The report the JSON and the exports show."""
    first, last, organ = check(principal, first_day, last_day, organ, town, gw)
    # Counts only: no case is named and no personal data is read or shown, so no access record is written.
    answer = assessment.report(first, last, worklists.today_in_china(), assessment.Choices.of(gw.settings),
                               organ=organ, town=town)
    found = worklists.organs(gw.settings.routing_rules_file).get(organ) if organ else None
    answer["scope"] = {"organ": {"code": organ, "name": found.name if found else organ} if organ else None,
                       "town": {"code": town, "name": worklists.places().name_of(town)} if town else None}
    return answer


# --- exports (docs/api.md §"Exports") ------------------------------------------------------------------------------
DOWNLOADS: dict[int | str, dict[str, Any]] = {
    **RESPONSES, 200: {"content": {exports.CSV_TYPE: {}, exports.XLSX_TYPE: {}}, "description": "the file"}}


@router.get("/assessment/rates.csv", response_class=Response, responses=DOWNLOADS)
def assessment_rates_csv(gw: GatewayDep, principal: Reader, first_day: FirstDay = None, last_day: LastDay = None,
                         organ: OrganCode = None, town: TownCode = None) -> Response:
    """The rates of GET /api/v1/assessment/rates (same parameters, same roles) as CSV (UTF-8 with a BOM): the
    title, the scope, the period, the settings used and the time generated (China), then each rate."""
    return exports.download(exports.rates_table(rates(gw, principal, first_day, last_day, organ, town)), "csv")


@router.get("/assessment/rates.xlsx", response_class=Response, responses=DOWNLOADS)
def assessment_rates_xlsx(gw: GatewayDep, principal: Reader, first_day: FirstDay = None, last_day: LastDay = None,
                          organ: OrganCode = None, town: TownCode = None) -> Response:
    """The rates as an Excel workbook: the same table as the CSV."""
    return exports.download(exports.rates_table(rates(gw, principal, first_day, last_day, organ, town)), "xlsx")


Officer = Annotated[Principal, Depends(require_roles(*OFFICER_ROLES))]
ListOrgan = Annotated[str | None, Query(min_length=1, max_length=64,
                                        description="an organ's code: its overdue cases (an organ officer: their own)")]


def overdue(gw: Any, principal: Principal, organ: str | None) -> exports.Table:
    """The overdue work list (the group `overdue` of GET /api/v1/cases: open cases whose next duty deadline has
    passed), whole, the most overdue first: the county's for the bureau and auditors, an organ's with `organ`; an
    organ officer's organ's only (another organ is 403, as in the work lists)."""
    query = worklists.ListQuery(group=ListGroup.OVERDUE, organ=organ)
    worklists.check(query, principal, gw.settings.routing_rules_file)
    today = worklists.today_in_china()
    rows: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        page, after = worklists.page(query, principal, after, 500, today)
        rows += page
        if after is None or len(rows) >= exports.MAX_OVERDUE_ROWS:
            break
    code = principal.organ_code if principal.role is Role.ORGAN_OFFICER else organ
    found = worklists.organs(gw.settings.routing_rules_file).get(code) if code else None
    scope = {"code": code, "name": found.name if found else code} if code else None
    # No petitioner's name and no query code is read or written: nothing to record as a view of personal data.
    return exports.overdue_table(rows[:exports.MAX_OVERDUE_ROWS], today, scope,
                                 truncated=after is not None or len(rows) > exports.MAX_OVERDUE_ROWS)


@router.get("/assessment/overdue.csv", response_class=Response, responses=DOWNLOADS)
def overdue_csv(gw: GatewayDep, principal: Officer, organ: ListOrgan = None) -> Response:
    """The overdue list as CSV (UTF-8 with a BOM): case number, title, organ, deadline, due day, days overdue and
    status of each open case past its next duty deadline; no petitioner's name, no query code."""
    return exports.download(overdue(gw, principal, organ), "csv")


@router.get("/assessment/overdue.xlsx", response_class=Response, responses=DOWNLOADS)
def overdue_xlsx(gw: GatewayDep, principal: Officer, organ: ListOrgan = None) -> Response:
    """The overdue list as an Excel workbook: the same table as the CSV."""
    return exports.download(overdue(gw, principal, organ), "xlsx")
