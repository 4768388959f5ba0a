"""Work lists for the console's triage list, inbox and overview: the API's `GET /api/v1/cases` (routes/cases.py;
docs/api.md §"Work lists and search"), for the signed-in officer. The API decides which cases the officer may list,
whose query code and name a row shows (and records the views); the pages only choose the filters and the order.

The overview counts the county's open cases by organ and by status from the list itself, page by page (at most
MAX_ROWS): HOOK(issue 16, the supervisor's overview) — a counting endpoint, when the API has one, replaces
`overview`'s paging.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from fastapi import Request

from services.gateway.console import api

NOT_SERVED = (404, 405)
PAGE = 100  # the API's largest page
MAX_ROWS = 5_000


def row(row: dict[str, Any]) -> dict[str, Any]:
    """A row with the names the templates read (`petition_id`, `organ_name`, `due`)."""
    deadline = row.get("next_deadline") or {}
    organ = row.get("organ") or {}
    return {**row, "petition_id": row.get("id") or row.get("petition_id"), "organ_name": organ.get("name", ""),
            "due": deadline.get("due")}


async def page(request: Request, token: str, **filters: Any) -> tuple[list[dict[str, Any]], str | None] | None:
    """One page of the officer's list and the next page's cursor; None while the API serves no work lists."""
    answer = await api.call(request, "GET", "/api/v1/cases", token=token,
                            params={k: v for k, v in filters.items() if v not in (None, "")})
    if answer.status in NOT_SERVED:
        return None
    body = answer.result()
    return [row(r) for r in body.get("cases", [])], body.get("next_cursor")


async def overview(request: Request, token: str, soon_days: int) -> dict[str, Any] | None:
    """The county's open cases counted by organ and by status; the overdue and the due soon listed."""
    rows: list[dict[str, Any]] = []
    cursor = None
    while len(rows) < MAX_ROWS:
        found = await page(request, token, group="open", limit=PAGE, cursor=cursor)
        if found is None:
            return None
        batch, cursor = found
        rows += batch
        if not cursor:
            break
    overdue = await page(request, token, group="overdue", limit=PAGE)
    due_soon = await page(request, token, group="due_soon", within_days=soon_days, limit=PAGE)
    by_organ: Counter[str] = Counter(r["organ_name"] or "信访部门（分流中）" for r in rows)
    by_status: Counter[str] = Counter(r.get("status_text") or r.get("status", "") for r in rows)
    return {"total": len(rows), "complete": cursor is None, "by_organ": by_organ.most_common(),
            "by_status": by_status.most_common(), "overdue": overdue[0] if overdue else [],
            "overdue_more": bool(overdue and overdue[1]), "due_soon": due_soon[0] if due_soon else [],
            "due_soon_more": bool(due_soon and due_soon[1])}
