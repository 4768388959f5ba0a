"""Work lists for the console's triage list, inbox, case lists and overview: the API's `GET /api/v1/cases` and
`GET /api/v1/cases/counts` (routes/cases.py; docs/api.md §"Work lists and search"), for the signed-in officer. The
API decides which cases the officer may list, whose query code and name a row shows (and records the views); the
pages only choose the filters and the order.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from services.gateway.console import api

OVERVIEW_ROWS = 20  # the overdue and the due soon the overview lists; the rest on the case list


def row(row: dict[str, Any]) -> dict[str, Any]:
    """A row with the names the templates read (`petition_id`, `organ_name`, `due`)."""
    deadline = row.get("next_deadline") or {}
    organ = row.get("organ") or {}
    return {**row, "petition_id": row.get("id") or row.get("petition_id"), "organ_name": organ.get("name", ""),
            "due": deadline.get("due")}


async def page(request: Request, token: str, **filters: Any) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the officer's list and the next page's cursor."""
    body = (await api.call(request, "GET", "/api/v1/cases", token=token,
                           params={k: v for k, v in filters.items() if v not in (None, "")})).result()
    return [row(r) for r in body.get("cases", [])], body.get("next_cursor")


async def overview(request: Request, token: str, soon_days: int) -> dict[str, Any]:
    """The county's open cases counted by organ and by status, and the first of the overdue and the due soon."""
    counts = (await api.call(request, "GET", "/api/v1/cases/counts", token=token,
                             params={"within_days": soon_days})).result()
    overdue, _ = await page(request, token, group="overdue", limit=OVERVIEW_ROWS)
    due_soon, _ = await page(request, token, group="due_soon", within_days=soon_days, limit=OVERVIEW_ROWS)
    return {**counts, "overdue_rows": overdue, "due_soon_rows": due_soon}
