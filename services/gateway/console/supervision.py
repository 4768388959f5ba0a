"""The supervisor's pages (督查督办, issue 18) under /console/supervision/: the supervision orders awaiting an answer
or a review (督办事项), the backlog ledger (积案台账), the early warnings (预警信息), the hot spots (热点分析: by town as a
chart, a table and a map-like grid, and by topic) and the assessment rates with their trend (考核指标).

Each page is the JSON API's answer for the signed-in officer (console/api.py, in-process with the session's token):
GET /api/v1/supervision/orders and /backlog, /api/v1/warnings, /api/v1/hotspots, /api/v1/reports/monthly and
/api/v1/assessment/rates. The pages are the supervisors' and admin's; the API decides the rest. Every chart is an SVG
drawn here (console/charts.py) with a table of the same figures beside it.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.gateway.console import api, charts, petitionform
from services.gateway.console.officers import officer, page
from services.gateway.console.web import ConsoleRoute, console_of, see_other, today
from services.gateway.hotspots import shift
from services.gateway.security import Role
from shared.language.readmodels import WARNING_KINDS

router = APIRouter(prefix="/console/supervision", include_in_schema=False, route_class=ConsoleRoute)

SUPERVISING = (Role.SUPERVISOR, Role.ADMIN)
PAGES = {"orders": "督办事项", "backlog": "积案台账", "warnings": "预警信息", "hotspots": "热点分析",
         "assessment": "考核指标"}
MONTHS_OFFERED = 24  # the months the hot spots' lists offer (the API takes at most 24 in one range)
HOTSPOT_MONTHS = 6  # the range shown first: this month and the five before
TREND_MONTHS = 12  # the rates' trend: the month of `to` and the eleven before
HEAT_LEVELS = 4  # the grid's shades above none
RATES = {"timely_acceptance": "及时受理率", "on_time_reply": "按期答复率", "participation": "参评率",
         "satisfaction": "满意率"}
# What a rate's numerator and denominator are made of (docs/api.md §"Assessment rates"), in words.
RATE_PARTS = {"on_time": "按期", "late": "逾期", "overdue_undecided": "超期未决定", "overdue_unanswered": "超期未答复",
              "not_yet_due": "未到期", "satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"}


def _params(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v not in (None, "")}


def _query(request: Request, name: str, longest: int = 64) -> str:
    return request.query_params.get(name, "").strip()[:longest]


def _errors(answer: api.Answer) -> dict[str, str]:
    """The API's 422 as {parameter: Chinese message} (`query.from` -> `from`)."""
    return {k.removeprefix("query."): v for k, v in petitionform.field_errors(answer.body or {}).items()}


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    await officer(request, *SUPERVISING)
    return see_other("/console/supervision/orders")


# --- 督办事项 ---------------------------------------------------------------------------------------------------
@router.get("/orders", response_class=HTMLResponse)
async def orders(request: Request) -> HTMLResponse:
    """The orders awaiting the organ's answer and those answered, awaiting review (GET /api/v1/supervision/orders),
    optionally one organ's; and the organs holding overdue cases now (the monthly report's overdue_by_organ)."""
    principal, token = await officer(request, *SUPERVISING)
    organ = _query(request, "organ")
    answer = await api.call(request, "GET", "/api/v1/supervision/orders", token=token,
                            params=_params(state="all", organ=organ))
    errors = _errors(answer) if answer.status == 422 else {}
    rows = [] if errors else answer.result()["orders"]
    now = today()
    report = (await api.call(request, "GET", "/api/v1/reports/monthly", token=token,
                             params={"month": f"{now.year:04d}-{now.month:02d}"})).result()
    overdue = report.get("overdue_by_organ") or []
    return page(request, "supervision_orders.html", principal, pages=PAGES, current="orders", organ=organ,
                errors=errors, answered=[r for r in rows if r.get("state") == "answered"],
                open_rows=[r for r in rows if r.get("state") != "answered"],
                organs=console_of(request).reference.organ_options(), overdue_by_organ=overdue,
                overdue_chart=charts.bars([(o["name"], o["overdue"]) for o in overdue],
                                          title="各办理机关已超期的信访事项件数"), as_of=report.get("as_of"))


# --- 积案台账 ---------------------------------------------------------------------------------------------------
BACKLOG_FILTERS = {"": "全部（未化解和已化解）", "false": "未化解（含拟包案）", "true": "已化解"}


@router.get("/backlog", response_class=HTMLResponse)
async def backlog(request: Request) -> HTMLResponse:
    """The backlog ledger with the leader-ownership resolution rate (GET /api/v1/supervision/backlog)."""
    principal, token = await officer(request, *SUPERVISING)
    resolved = _query(request, "resolved")
    resolved = resolved if resolved in BACKLOG_FILTERS else ""
    ledger = (await api.call(request, "GET", "/api/v1/supervision/backlog", token=token,
                             params=_params(resolved=resolved))).result()
    return page(request, "supervision_backlog.html", principal, pages=PAGES, current="backlog", ledger=ledger,
                resolved=resolved, filters=BACKLOG_FILTERS, percent=charts.percent)


# --- 预警信息 ---------------------------------------------------------------------------------------------------
@router.get("/warnings", response_class=HTMLResponse)
async def warnings(request: Request) -> HTMLResponse:
    """The early warnings of a period (by default the last 30 days), optionally of one kind, the newest first
    (GET /api/v1/warnings)."""
    principal, token = await officer(request, *SUPERVISING)
    chosen = {"from": _query(request, "from", 32), "to": _query(request, "to", 32), "kind": _query(request, "kind", 32)}
    answer = await api.call(request, "GET", "/api/v1/warnings", token=token, params=_params(**chosen))
    status, errors, found = 200, {}, None
    if answer.status == 422:
        status, errors = 422, _errors(answer)
    else:
        found = answer.result()
        chosen = {"from": found["from"], "to": found["to"], "kind": found.get("kind") or ""}
    return page(request, "supervision_warnings.html", principal, status=status, pages=PAGES, current="warnings",
                chosen=chosen, errors=errors, found=found, kinds=WARNING_KINDS)


# --- 热点分析 ---------------------------------------------------------------------------------------------------
def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_words(month: str) -> str:
    """2026-07 -> 2026年7月."""
    return f"{int(month[:4])}年{int(month[5:7])}月" if len(month) == 7 else month


def change_words(change: int | None) -> str:
    if change is None:
        return "—"
    return f"增加{change}件" if change > 0 else f"减少{-change}件" if change < 0 else "持平"


def rate_words(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:+.1f}%"


def heat(count: int, most: int) -> int:
    """A cell's shade: 0 for none, else 1..HEAT_LEVELS by its share of the busiest town's count."""
    if count <= 0 or most <= 0:
        return 0
    return max(1, min(HEAT_LEVELS, -(-count * HEAT_LEVELS // most)))


def town_grid(items: list[dict[str, Any]], towns: list[tuple[str, str]], month: str) -> list[dict[str, Any]]:
    """Every town of the county (those with no registration too, in the reference order), then what counted under
    no town: the month's count, its change from the month before and its shade."""
    by_code = {item["code"]: item for item in items}
    cells = []
    for code, name in [*towns, *[(item["code"], item["name"]) for item in items if item["code"] not in dict(towns)]]:
        shown = next((m for m in (by_code.get(code) or {}).get("months", []) if m["month"] == month), None)
        counted = shown["count"] if shown else 0
        previous = shown["previous_month"] if shown else 0
        cells.append({"code": code, "name": name, "count": counted, "previous": previous,
                      "change": counted - previous, "change_text": change_words(counted - previous)})
    most = max([c["count"] for c in cells] or [0])
    return [{**c, "heat": heat(c["count"], most)} for c in cells]


@router.get("/hotspots", response_class=HTMLResponse)
async def hotspots(request: Request) -> HTMLResponse:
    """Registrations of a range of months by town (a bar chart, its table, a grid of the towns for the range's last
    month) and by topic, and the county's total by month (GET /api/v1/hotspots)."""
    principal, token = await officer(request, *SUPERVISING)
    this_month = month_of(today())
    offered = [shift(this_month, -i) for i in range(MONTHS_OFFERED)]
    first = _query(request, "from", 16) or shift(this_month, -(HOTSPOT_MONTHS - 1))
    last = _query(request, "to", 16) or this_month
    by_town = await api.call(request, "GET", "/api/v1/hotspots", token=token, params={"from": first, "to": last,
                                                                                      "by": "town"})
    context: dict[str, Any] = {"first": first, "last": last, "months_offered": [(m, month_words(m)) for m in offered],
                               "month_words": month_words, "change_words": change_words, "rate_words": rate_words}
    if by_town.status == 422:
        return page(request, "supervision_hotspots.html", principal, status=422, pages=PAGES, current="hotspots",
                    errors=_errors(by_town), towns=None, **context)
    towns = by_town.result()
    topics = (await api.call(request, "GET", "/api/v1/hotspots", token=token,
                             params={"from": first, "to": last, "by": "topic"})).result()
    reference = console_of(request).reference
    county_towns = [(t.code, t.name) for t in reference.place_directory.towns]
    period = f"{month_words(first)}至{month_words(last)}" if first != last else month_words(first)
    return page(request, "supervision_hotspots.html", principal, pages=PAGES, current="hotspots", errors={},
                towns=towns, topics=topics, period=period, grid=town_grid(towns["items"], county_towns, last),
                town_chart=charts.bars([(i["name"], i["total"]) for i in towns["items"]],
                                       title=f"{period}各乡镇（街道）信访件数"),
                topic_chart=charts.bars([(i["name"], i["total"]) for i in topics["items"]],
                                        title=f"{period}各类别信访件数"),
                total_chart=charts.bars([(month_words(m["month"]), m["count"]) for m in towns["total"]],
                                        title=f"{period}全县每月信访件数"),
                **context)


# --- 考核指标 ---------------------------------------------------------------------------------------------------
def month_bounds(month: str) -> tuple[date, date]:
    first = date(int(month[:4]), int(month[5:7]), 1)
    return first, date.fromisoformat(f"{shift(month, 1)}-01") - timedelta(days=1)


def rate_text(rate: dict[str, Any] | None) -> str:
    if not rate or rate.get("rate") is None:
        return "—（无可统计事项）"
    return f"{charts.percent(rate['rate'])}（{rate['numerator']}/{rate['denominator']}）"


def rate_parts(rate: dict[str, Any]) -> str:
    return "，".join(f"{words}{rate[key]}件" for key, words in RATE_PARTS.items() if isinstance(rate.get(key), int))


@router.get("/assessment", response_class=HTMLResponse)
async def assessment(request: Request) -> HTMLResponse:
    """The four rates of a period of registration days for the county or one organ (and town), and their trend:
    the same rates month by month over the twelve months to the period's end (GET /api/v1/assessment/rates, one
    call a month)."""
    principal, token = await officer(request, *SUPERVISING)
    now = today()
    chosen = {"from": _query(request, "from", 32) or now.replace(day=1).isoformat(),
              "to": _query(request, "to", 32) or now.isoformat(),
              "organ": _query(request, "organ"), "town": _query(request, "town", 32)}
    reference = console_of(request).reference
    context: dict[str, Any] = {"pages": PAGES, "current": "assessment", "chosen": chosen, "rates_named": RATES,
                               "organs": reference.organ_options(),
                               "towns": [(t.code, t.name) for t in reference.place_directory.towns]}
    answer = await api.call(request, "GET", "/api/v1/assessment/rates", token=token, params=_params(**chosen))
    if answer.status == 422:
        return page(request, "supervision_assessment.html", principal, status=422, errors=_errors(answer),
                    report=None, **context)
    report = answer.result()
    last_month = chosen["to"][:7]
    months = [m for m in (shift(last_month, -i) for i in reversed(range(TREND_MONTHS))) if month_bounds(m)[0] <= now]
    answers = await asyncio.gather(*(api.call(request, "GET", "/api/v1/assessment/rates", token=token, params=_params(
        **{"from": month_bounds(m)[0].isoformat(), "to": month_bounds(m)[1].isoformat(), "organ": chosen["organ"],
           "town": chosen["town"]})) for m in months))
    trend = []
    for month, monthly_answer in zip(months, answers, strict=True):
        monthly = monthly_answer.result()
        trend.append({"month": month, "words": month_words(month), "cases": monthly.get("cases", 0),
                      "rates": monthly["rates"]})
    series = {name: [(m["words"], (m["rates"].get(key) or {}).get("rate")) for m in trend]
              for key, name in RATES.items()}
    scope = report.get("scope") or {}
    named = "".join(part["name"] for part in (scope.get("organ"), scope.get("town")) if part) or "全县"
    return page(request, "supervision_assessment.html", principal, errors={}, report=report, trend=trend,
                scope_words=named, rate_text=rate_text, rate_parts=rate_parts, percent=charts.percent,
                trend_chart=charts.lines(series, title=f"{named}考核指标近{len(trend)}个月趋势", fmt=charts.percent,
                                         tick_fmt=charts.whole_percent, maximum=1,
                                         tick_label=lambda words: words[words.index("年") + 1:]
                                         if "年" in words else words),
                **context)
