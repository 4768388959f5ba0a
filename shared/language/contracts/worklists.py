"""Work lists in the platform's language: status groups, the flags a row shows, which deadlines are someone's duty,
and the lanes a case row is filed under (docs/api.md §"Work lists", docs/architecture.md §"Work lists").

supervision's work-list projection (services/supervision/worklists.py) files each case under its lanes; the gateway
(services/gateway/routes/cases.py) asks for one lane and a range of the sort key. Both read this module, so a group
or a lane is declared once.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from shared.language.contracts.lifecycle import TERMINAL, TRIAGE, UNDER_HANDLING, Status


class StatusGroup(StrEnum):
    """Where a case stands, as a work list groups it. Every status is in exactly one group."""

    NEW = "new"  # 待分流: the bureau triages it (again)
    AWAITING_ACCEPTANCE = "awaiting_acceptance"  # 待受理: at the receiving organ, an objection pending included
    IN_HANDLING = "in_handling"  # 办理中
    REPLIED = "replied"  # 已出具意见: the opinion (or review opinion) is out, the review window runs
    IN_REVIEW = "in_review"  # 复查复核中
    CONCLUDED = "concluded"  # 已办结: a terminal status


GROUPS: dict[StatusGroup, frozenset[Status]] = {
    StatusGroup.NEW: frozenset(TRIAGE),
    StatusGroup.AWAITING_ACCEPTANCE: frozenset({Status.AWAITING_ACCEPTANCE, Status.OBJECTION_RAISED}),
    StatusGroup.IN_HANDLING: frozenset(UNDER_HANDLING),
    StatusGroup.REPLIED: frozenset({Status.REPLIED, Status.REVIEWED}),
    StatusGroup.IN_REVIEW: frozenset({Status.REVIEW_REQUESTED, Status.UNDER_REVIEW, Status.RE_REVIEW_REQUESTED,
                                      Status.UNDER_RE_REVIEW}),
    StatusGroup.CONCLUDED: frozenset(TERMINAL),
}
GROUP_OF: dict[Status, StatusGroup] = {status: group for group, statuses in GROUPS.items() for status in statuses}
if set(GROUP_OF) != set(Status) or sum(map(len, GROUPS.values())) != len(Status):
    raise ImportError("work lists: every status must be in exactly one group")

GROUP_TEXT = {
    StatusGroup.NEW: "待分流", StatusGroup.AWAITING_ACCEPTANCE: "待受理", StatusGroup.IN_HANDLING: "办理中",
    StatusGroup.REPLIED: "已出具意见", StatusGroup.IN_REVIEW: "复查复核中", StatusGroup.CONCLUDED: "已办结",
}


class ListGroup(StrEnum):
    """What the `group` filter of GET /api/v1/cases takes: a status group, or one of these."""

    NEW = "new"
    AWAITING_ACCEPTANCE = "awaiting_acceptance"
    IN_HANDLING = "in_handling"
    REPLIED = "replied"
    IN_REVIEW = "in_review"
    CONCLUDED = "concluded"
    OPEN = "open"  # 未办结: every group but concluded
    DUE_SOON = "due_soon"  # 即将到期: an open case whose next deadline falls within `within_days` days from today
    OVERDUE = "overdue"  # 已超期: an open case whose next deadline has passed


LIST_GROUP_TEXT = {**{ListGroup(g.value): text for g, text in GROUP_TEXT.items()},
                   ListGroup.OPEN: "未办结", ListGroup.DUE_SOON: "即将到期", ListGroup.OVERDUE: "已超期"}

# Windows in which someone *may* act — an organ object, a petitioner ask for review — not a duty of the platform's
# officers: a work list's next deadline (and so "overdue" and "due soon") is the earliest open deadline of the rest.
OPTION_WINDOWS = frozenset({"objection", "review_request", "re_review_request"})

# The flags a row shows (registration's flags, and the repeat link), with their text.
FLAG_TEXT = {"group": "集体访", "joint_signature": "联名信", "major_urgent": "重大紧急", "anonymous": "匿名检举控告",
             "repeat": "重复信访"}

# A row is filed under lanes "<scope>|<group>": scope `*` (the county: the bureau's lists) or an organ code (the
# organs whose work it is now), group a status group, `open` (not concluded) or `all`.
COUNTY = "*"
ALL = "all"
OPEN = "open"
NO_DEADLINE = "9999-12-31"  # sorts the rows without an open duty deadline last


def lane(scope: str, group: str) -> str:
    return f"{scope}|{group}"


# The supervisors' lanes (services/supervision/worklists.py supervision_lanes): "supervision|open" and
# "supervision|answered" (a supervision order not yet closed), "backlog|owned", "backlog|resolved" (leader ownership,
# 领导包案) and "backlog|proposed" (proposed, not yet assigned) — listed from the same index as the work lists.
SUPERVISION_LANE, BACKLOG_LANE = "supervision", "backlog"


def lanes(organs: list[str], group: StatusGroup) -> list[str]:
    """Every lane a case in `group` is filed under, for the county and for each of `organs`."""
    groups = [ALL, group.value] + ([OPEN] if group is not StatusGroup.CONCLUDED else [])
    return [lane(scope, g) for scope in (COUNTY, *organs) for g in groups]


# The county's open cases are also counted (the supervisors' overview; docs/architecture.md §"Work lists"): the
# work-list projection keeps one counter per key below, so an overview reads a few hundred small documents instead
# of counting the rows. A row counts under "status|<holder>|<status>" (holder: the organ whose work it is now — the
# reviewing organ, else the lead organ — or NO_HOLDER while the bureau triages it) and, while it has an open duty
# deadline, under "due|<YYYY-MM-DD>" (so overdue and due soon are sums over days) and "holder_due|<holder>|<day>"
# (the same, by organ: the supervisors' due soon and overdue by organ).
NO_HOLDER = "-"
STATUS_COUNT, DUE_COUNT, HOLDER_DUE_COUNT = "status", "due", "holder_due"


def holder(row: dict[str, Any]) -> str:
    """The organ whose work a case row is now (its `organs` list the lead first), or NO_HOLDER."""
    return row.get("reviewer") or next(iter(row.get("organs") or ()), NO_HOLDER)


def count_keys(row: dict[str, Any]) -> list[str]:
    """The counters a case row adds one to: none once it is concluded."""
    if row["group"] == StatusGroup.CONCLUDED.value:
        return []
    deadline = row.get("deadline")
    due = [f"{DUE_COUNT}|{deadline['due']}", f"{HOLDER_DUE_COUNT}|{holder(row)}|{deadline['due']}"] if deadline else []
    return [f"{STATUS_COUNT}|{holder(row)}|{row['status']}", *due]
