"""Hot spots and the monthly report (docs/api.md §"Early warning and hot spots"): GET /api/v1/hotspots counts the
registrations per month by town, village or topic with their trend; GET /api/v1/reports/monthly is the month's
report for the county's leadership (services/gateway/hotspots.py).

The bureau's analysis of the whole county (分析研判信访形势): clerks, supervisors and admin; not organ officers (each
sees its own cases in its work list), nor auditors. Counts and codes only: no case's personal data is read or shown,
so nothing is recorded as a view of personal data."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from services.gateway import hotspots, worklists
from services.gateway.deps import GatewayDep, require_roles
from services.gateway.queryparams import QueryChecks
from services.gateway.schemas import Problem
from services.gateway.security import Principal, Role

router = APIRouter(prefix="/api/v1", tags=["hotspots"])
READING = (Role.CLERK, Role.SUPERVISOR, Role.ADMIN)
RESPONSES: dict[int | str, dict[str, Any]] = {401: {"model": Problem}, 403: {"model": Problem},
                                              422: {"model": Problem}, 503: {"model": Problem}}
MAX_MONTHS = 24
LABELS = {"from": "统计起始月份", "to": "统计截止月份", "by": "统计维度", "month": "报告月份"}


@router.get("/hotspots", responses=RESPONSES)
def hotspot_counts(
    gw: GatewayDep,
    principal: Annotated[Principal, Depends(require_roles(*READING))],
    first: Annotated[str | None, Query(alias="from", max_length=16, description="the first month, YYYY-MM")] = None,
    last: Annotated[str | None, Query(alias="to", max_length=16, description="the last month, YYYY-MM, included")] = None,
    by: Annotated[str, Query(max_length=16, description="town | village | topic")] = "town",
) -> dict[str, Any]:
    """Registrations per month (China time) of the months `from`..`to` (at most 24), by town, village or topic,
    the busiest first; each month with the month before (环比: `previous_month`, `change`, `change_rate`) and the
    same month a year before (同比: `same_month_last_year`, `year_change`, `year_change_rate`); a rate is null when
    the earlier count is 0. `total` is the county's. Counts only."""
    checks = QueryChecks(LABELS)
    first_month, last_month = checks.month("from", first), checks.month("to", last)
    if by not in hotspots.BY:
        checks.error("by", "invalid_choice", "统计维度只能是 town（乡镇）、village（村、社区）或 topic（事项类别）")
    if first_month and last_month and first_month > last_month:
        checks.error("to", "invalid_range", "统计截止月份不能早于统计起始月份")
    elif first_month and last_month and len(hotspots.months(first_month, last_month)) > MAX_MONTHS:
        checks.error("to", "period_too_long", f"统计期间不能超过{MAX_MONTHS}个月，请分段统计")
    checks.refuse()
    assert first_month is not None and last_month is not None  # noqa: S101 - checked above
    return hotspots.hotspots(first_month, last_month, by)


@router.get("/reports/monthly", responses=RESPONSES)
def monthly_report(
    gw: GatewayDep,
    principal: Annotated[Principal, Depends(require_roles(*READING))],
    month: Annotated[str | None, Query(max_length=16, description="the month, YYYY-MM")] = None,
) -> dict[str, Any]:
    """The month's report for the county's leadership: the registrations and their trend, the topics and towns
    that rose most from the month before, the warnings raised in the month, and the organs holding the most
    overdue cases (as of today: an open case whose next duty deadline has passed)."""
    checks = QueryChecks(LABELS)
    today = worklists.today_in_china()
    chosen = checks.month("month", month, latest=f"{today.year:04d}-{today.month:02d}")
    checks.refuse()
    assert chosen is not None  # noqa: S101 - checked above
    return hotspots.monthly_report(chosen, today, gw.settings.routing_rules_file)
