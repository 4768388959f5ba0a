"""The early warnings (GET /api/v1/warnings; docs/api.md §"Early warning and hot spots"): what supervision's
detector raised (services/supervision/warnings.py), from the read model `warnings`.

For the bureau (clerks, supervisors, admin): organ officers are refused (403), as are auditors and petitioners. Each
warning names cases by their ids only, with codes, counts and dates: no personal data is read or shown, so nothing
is recorded as a view of personal data."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from services.gateway import hotspots, worklists
from services.gateway.deps import GatewayDep, require_roles
from services.gateway.queryparams import QueryChecks
from services.gateway.schemas import Problem
from services.gateway.security import Principal, Role
from shared.language.readmodels import WARNING_KINDS

router = APIRouter(prefix="/api/v1", tags=["warnings"])
READING = (Role.CLERK, Role.SUPERVISOR, Role.ADMIN)
RESPONSES: dict[int | str, dict[str, Any]] = {401: {"model": Problem}, 403: {"model": Problem},
                                              422: {"model": Problem}, 503: {"model": Problem}}
LABELS = {"from": "预警日期起", "to": "预警日期止", "kind": "预警类型"}
DEFAULT_DAYS = 30  # without `from`: the last 30 days to `to`
MAX_DAYS = 366
LIMIT = 1000  # the most warnings one answer lists (the latest); `truncated` says when there were more


@router.get("/warnings", responses=RESPONSES)
def list_warnings(
    gw: GatewayDep,
    principal: Annotated[Principal, Depends(require_roles(*READING))],
    first_day: Annotated[str | None, Query(alias="from", max_length=32,
                                           description="the first day raised, YYYY-MM-DD (China)")] = None,
    last_day: Annotated[str | None, Query(alias="to", max_length=32,
                                          description="the last day raised, YYYY-MM-DD (China), included")] = None,
    kind: Annotated[str | None, Query(max_length=32, description="topic_spike | place_spike | group | sensitive | "
                                                                "repeat")] = None,
) -> dict[str, Any]:
    """The warnings raised from `from` to `to` (days in China, both included; by default the 30 days to today),
    optionally of one kind, the latest first: each with its kind, what it is about (topic, town), its window (a
    spike's), the count and the threshold it reached, and the ids of the petitions counted."""
    checks = QueryChecks(LABELS)
    last, first = checks.day("to", last_day), checks.day("from", first_day)
    if kind is not None and kind not in WARNING_KINDS:
        checks.error("kind", "invalid_choice",
                     f"预警类型只能是{'、'.join(f'{code}（{text}）' for code, text in WARNING_KINDS.items())}之一")
    if not checks.errors:
        last = last or worklists.today_in_china()
        first = first or last - timedelta(days=DEFAULT_DAYS - 1)
        if first > last:
            checks.error("to", "invalid_range", "预警日期止不能早于预警日期起")
        elif (last - first).days + 1 > MAX_DAYS:
            checks.error("to", "period_too_long", f"查询期间不能超过{MAX_DAYS}日，请分段查询")
    checks.refuse()
    assert first is not None and last is not None  # noqa: S101 - checked above
    found = [w for w in hotspots.warnings_in(first, last) if kind is None or w["kind"] == kind]
    return {"from": first.isoformat(), "to": last.isoformat(), "kind": kind, "count": len(found),
            "truncated": len(found) > LIMIT, "warnings": [hotspots.present_warning(w) for w in found[:LIMIT]]}
