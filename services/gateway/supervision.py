"""The supervisors' lists (docs/api.md §"Supervision lists"): supervision orders not yet closed, the backlog ledger
(积案台账: cases a leader owns or was proposed to own, with the leader-ownership resolution rate) and the leaders'
performance archive (实绩档案), read from
the work lists' `case_rows` by their supervision lanes (shared/language/contracts/worklists.py). Titles are the
petitioner's words and shown to officers as the work lists show them; no petitioner's name or query code."""

from __future__ import annotations

from datetime import date
from typing import Any

from shared.language.contracts.lifecycle import OWNERSHIP_TRIGGERS, SUPERVISION_LEVELS, SUPERVISION_TRIGGERS
from shared.language.contracts.worklists import BACKLOG_LANE, SUPERVISION_LANE
from shared.language.readmodels import CaseRow

ORDER_STATES = {"open": "待答复", "answered": "已答复，待审核"}
LIMIT = 1_000  # rows per list: the county's open orders and backlog are dozens to hundreds


def _organ(organ: Any) -> dict[str, str] | None:
    return {"code": organ.code, "name": organ.name} if organ else None


def orders(states: list[str], organ: str | None, today: date) -> dict[str, Any]:
    """The supervision orders in `states` (open, answered), answered ones first, then the earliest due; one organ's
    when named; `truncated` when there were more than LIMIT."""
    found = CaseRow.objects(lanes__in=[f"{SUPERVISION_LANE}|{state}" for state in states])
    if organ:
        found = found.filter(order__holder__code=organ)
    listed = []
    # The earliest day to answer by first, so that a county past LIMIT open orders drops the latest, never the most
    # urgent (`truncated` says so).
    for row in found.only("petition_id", "title", "status_text", "order").order_by("order.due").limit(LIMIT + 1):
        order = row.order
        left = (date.fromisoformat(order.due) - today).days if order.due else None
        listed.append({
            "petition_id": row.petition_id, "title": row.title, "status_text": row.status_text,
            "organ": _organ(order.holder), "order_level": order.order_level,
            "order_level_text": SUPERVISION_LEVELS.get(order.order_level, order.order_level),
            "trigger": order.trigger, "trigger_text": SUPERVISION_TRIGGERS.get(order.trigger, order.trigger),
            "issued_on": order.issued_on, "due": order.due, "days_left": left,
            "overdue": order.state == "open" and left is not None and left < 0,
            "state": order.state, "state_text": ORDER_STATES.get(order.state, order.state),
            "answered_on": order.answered_on})
    shown = sorted(listed[:LIMIT], key=lambda o: (o["state"] != "answered", o["due"] or "9999-12-31", o["petition_id"]))
    return {"orders": shown, "truncated": len(listed) > LIMIT}


def backlog(resolved: bool | None) -> dict[str, Any]:
    """The backlog ledger: owned cases (resolved or not, as asked) and, unless only resolved ones are asked for, the
    open cases proposed for ownership; with the counts of the leader-ownership resolution rate (化解率)."""
    wanted = {True: ["resolved"], False: ["owned", "proposed"], None: ["owned", "proposed"]}[resolved]
    found = CaseRow.objects(lanes__in=[f"{BACKLOG_LANE}|{lane}" for lane in wanted])
    rows = []
    picked = found.only("petition_id", "title", "status_text", "organ", "registered_at", "ownership")
    for row in picked.order_by("ownership.due").limit(LIMIT + 1):
        owned = row.ownership
        if resolved is False and owned.resolved_on:
            continue
        rows.append({
            "petition_id": row.petition_id, "title": row.title, "organ": _organ(row.organ),
            "status_text": row.status_text,
            "registered_on": row.registered_at.date().isoformat() if row.registered_at else None,
            "leader": owned.leader, "leader_title": owned.leader_title, "since": owned.since, "due": owned.due,
            "resolved_on": owned.resolved_on,
            "proposed": [{"trigger": t, "text": OWNERSHIP_TRIGGERS.get(t, t)} for t in owned.proposed]})
    owned_count = CaseRow.objects(lanes=f"{BACKLOG_LANE}|owned").count()
    resolved_count = CaseRow.objects(lanes=f"{BACKLOG_LANE}|resolved").count()
    truncated, rows = len(rows) > LIMIT, rows[:LIMIT]
    rows.sort(key=lambda r: (r["leader"] is None, r["resolved_on"] is not None, r["due"] or "", r["petition_id"]))
    return {"rows": rows, "truncated": truncated, "owned": owned_count, "resolved": resolved_count,
            "resolution_rate": round(resolved_count / owned_count, 4) if owned_count else None}


def leaders() -> list[dict[str, Any]]:
    """The leaders' performance archive (实绩档案): per leader, the cases they own or owned, how many are resolved
    and how many were resolved by the day set (from the backlog ledger's rows)."""
    archive: dict[str, dict[str, Any]] = {}
    found = CaseRow.objects(lanes=f"{BACKLOG_LANE}|owned").only("petition_id", "title", "status_text", "ownership")
    for row in found.limit(LIMIT):
        owned = row.ownership
        entry = archive.setdefault(owned.leader, {"leader": owned.leader, "leader_title": owned.leader_title,
                                                  "owned": 0, "resolved": 0, "resolved_in_time": 0, "cases": []})
        entry["owned"] += 1
        entry["resolved"] += bool(owned.resolved_on)
        entry["resolved_in_time"] += bool(owned.resolved_on and owned.due and owned.resolved_on <= owned.due)
        entry["cases"].append({"petition_id": row.petition_id, "title": row.title, "status_text": row.status_text,
                               "since": owned.since, "due": owned.due, "resolved_on": owned.resolved_on})
    for entry in archive.values():
        entry["resolution_rate"] = round(entry["resolved"] / entry["owned"], 4)
        entry["cases"].sort(key=lambda c: (c["since"] or "", c["petition_id"]))
    return sorted(archive.values(), key=lambda e: (-e["owned"], e["leader"]))
