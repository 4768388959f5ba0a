"""The officers' work lists and the bureau's search, composed from supervision's `case_rows` (a projection) and the
petitioners' names, which intake alone keeps and gives for one page at a time (docs/architecture.md §"Work lists").

A list is one lane of `case_rows` (shared/language/contracts/worklists.py: the county's or an organ's, for a status
group) and a range of one sort key (`by_due`: next deadline then id, `by_registered`: registration time then id),
so a page is a walk of an index and the next page starts after the last key shown: rows written meanwhile never
shift a page (keyset paging). The cursor that carries the key is opaque and signed, and bound to the query it was
issued for. A row whose sort key changes between two pages (its deadline moved) may be met again, or not at all,
on a later page: it is listed where it now stands.

Who sees what follows docs/security.md ("What each role sees"): the query code for clerks and admin only; the
petitioner's full name for the bureau and for the organ responsible for the case now, a masked one ("张**") for
everyone else, "匿名" for an anonymous report; every row that shows a query code or a full name is recorded as a
view of personal data before the page is answered.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from services.gateway import views
from services.gateway.clients import RpcPool, ServiceUnavailable
from services.gateway.errors import ApiError
from services.gateway.security import Principal, Role
from shared.language.chinatime import CHINA, local_date
from shared.language.contracts.lifecycle import STATUS_TEXT, Status
from shared.language.contracts.reference import CATEGORY_LABELS, TOPIC_LABELS
from shared.language.contracts.registration import CHANNEL_LABELS, Category, Channel, Topic
from shared.language.contracts.worklists import (
    ALL,
    COUNTY,
    DUE_COUNT,
    FLAG_TEXT,
    GROUP_OF,
    GROUP_TEXT,
    HOLDER_DUE_COUNT,
    NO_DEADLINE,
    NO_HOLDER,
    OPEN,
    STATUS_COUNT,
    ListGroup,
    StatusGroup,
    lane,
)
from shared.language.organs import OrganDirectory
from shared.language.places import PlaceDirectory
from shared.language.readmodels import CaseCount, CaseRow

MAX_WITHIN_DAYS = 90


class SortOrder(StrEnum):
    NEXT_DEADLINE = "next_deadline"  # the earliest next deadline first; cases without one last
    REGISTERED = "registered_at"  # the earliest registered first
    REGISTERED_DESC = "-registered_at"  # the latest registered first


SORT_KEYS = {SortOrder.NEXT_DEADLINE: ("by_due", 1), SortOrder.REGISTERED: ("by_registered", 1),
             SortOrder.REGISTERED_DESC: ("by_registered", -1)}
LOWEST, HIGHEST = "", "~"  # below and above every sort key (they begin with a digit)


@cache
def organs(path: Path | None) -> OrganDirectory:
    return OrganDirectory.load(path)


@cache
def places() -> PlaceDirectory:
    return PlaceDirectory.load()


@dataclass(frozen=True)
class ListQuery:
    """The filters and order of one list (everything but the page's cursor and size)."""

    group: ListGroup | None = None
    status: Status | None = None
    within_days: int = 7
    organ: str | None = None
    topic: Topic | None = None
    town: str | None = None
    channel: Channel | None = None
    category: Category | None = None
    registered_from: date | None = None
    registered_to: date | None = None
    deadline_before: date | None = None
    sort: SortOrder | None = None  # None: by next deadline; a concluded list (no deadlines) the latest first

    @property
    def order(self) -> SortOrder:
        if self.sort is not None:
            return self.sort
        concluded = self.group is ListGroup.CONCLUDED or (self.status is not None and
                                                          GROUP_OF[self.status] is StatusGroup.CONCLUDED)
        return SortOrder.REGISTERED_DESC if concluded else SortOrder.NEXT_DEADLINE

    def digest(self) -> str:
        """What the query is, for binding a cursor to it."""
        shown = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(self).items()}
        return hashlib.sha256(json.dumps(shown, sort_keys=True).encode()).hexdigest()[:32]


def _problem(field: str, label: str, code: str, message: str) -> ApiError:
    return ApiError(422, "validation_failed", "提交的信息有误，请按提示修改后重新提交。",
                    extra={"errors": [{"field": field, "label": label, "code": code, "message": message}]})


def check(query: ListQuery, principal: Principal, organ_file: Path | None) -> None:
    """Refuse filters that cannot mean anything (422 naming the field) or that reach beyond the officer (403)."""
    if query.organ is not None:
        if query.organ not in organs(organ_file):
            raise _problem("query.organ", "机关代码", "unknown_organ",
                           f"机关代码“{query.organ}”不在本县机关名录中，可选值见 /api/v1/reference/organs")
        if principal.role is Role.ORGAN_OFFICER and query.organ != principal.organ_code:
            raise ApiError(403, "not_your_organ", "您只能查看本机关的信访事项")
    if query.town is not None and not places().is_town(query.town):
        raise _problem("query.town", "乡镇（街道）代码", "unknown_town",
                       f"乡镇（街道）代码“{query.town}”不是本县的乡镇，可选值见 /api/v1/reference/places")
    if query.status is not None and query.group is not None:
        group = GROUP_OF[query.status]
        fits = (query.group.value == group.value if query.group.value in {g.value for g in StatusGroup}
                else group is not StatusGroup.CONCLUDED)
        if not fits:
            raise _problem("query.status", "办理状态", "status_not_in_group",
                           f"办理状态“{query.status.value}”不属于所选的状态分组“{query.group.value}”")
    if query.registered_from and query.registered_to and query.registered_from > query.registered_to:
        raise _problem("query.registered_to", "登记日期止", "invalid_range", "登记日期止不能早于登记日期起")


# --- the cursor ----------------------------------------------------------------------------------------------------------
class Cursors:
    """Opaque page cursors: the sort key of the last row shown, bound to the query and signed (a client can neither
    forge a position nor carry one over to another query)."""

    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode(), b"work-list cursors", hashlib.sha256).digest()

    def _mac(self, body: bytes) -> str:
        return base64.urlsafe_b64encode(hmac.new(self._key, body, hashlib.sha256).digest()[:16]).decode().rstrip("=")

    def issue(self, query: ListQuery, key: str) -> str:
        body = json.dumps({"q": query.digest(), "k": key}, separators=(",", ":")).encode()
        return f"{base64.urlsafe_b64encode(body).decode().rstrip('=')}.{self._mac(body)}"

    def read(self, token: str, query: ListQuery) -> str:
        """The key a page starts after; a 422 for a cursor that is not one of ours or not of this query."""
        try:
            encoded, mac = token.split(".", 1)
            body = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
            if not hmac.compare_digest(mac, self._mac(body)):
                raise ValueError("forged")
            found = json.loads(body)
            if found["q"] != query.digest():
                raise ValueError("another query")
            return str(found["k"])
        except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
            raise _problem("query.cursor", "翻页游标", "invalid_cursor",
                           "翻页游标无效或者不属于本次查询（查询条件已改变），请从第一页重新查询") from None


# --- the query -----------------------------------------------------------------------------------------------------------
def today_in_china() -> date:
    return local_date(datetime.now(UTC))


def _sortable(moment: datetime) -> str:
    """An instant as `by_registered` spells it (services/supervision/worklists.py: fixed-width UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def mongo_query(query: ListQuery, principal: Principal, after: str | None, today: date) -> tuple[dict[str, Any], str, int]:
    """(filter, sort field, direction) of one page: a lane and a range of the sort key, the other filters beside."""
    scope = principal.organ_code if principal.role is Role.ORGAN_OFFICER else (query.organ or COUNTY)
    if query.status is not None:
        group = GROUP_OF[query.status].value
    elif query.group is None:
        group = ALL
    elif query.group in (ListGroup.OPEN, ListGroup.DUE_SOON, ListGroup.OVERDUE):
        group = OPEN
    else:
        group = query.group.value
    found: dict[str, Any] = {"lanes": lane(scope or "-", group)}
    for name in ("status", "topic", "channel", "category", "town"):
        if (value := getattr(query, name)) is not None:
            found[name] = value.value if isinstance(value, StrEnum) else value
    field, direction = SORT_KEYS[query.order]
    lower, upper = LOWEST, HIGHEST  # bounds of the sort key, both exclusive
    # Deadlines: a due date D bounds `by_due` ("D|id") as "D"; outside a deadline order, `deadline.due` beside.
    due_lower, due_upper = None, None  # inclusive, exclusive
    if query.group is ListGroup.OVERDUE:
        due_upper = today.isoformat()
    elif query.group is ListGroup.DUE_SOON:
        due_lower, due_upper = today.isoformat(), (today + timedelta(days=query.within_days + 1)).isoformat()
    if query.deadline_before is not None:
        due_upper = min(filter(None, (due_upper, query.deadline_before.isoformat())))
    registered_from = datetime.combine(query.registered_from, time(), tzinfo=CHINA) if query.registered_from else None
    registered_until = (datetime.combine(query.registered_to + timedelta(days=1), time(), tzinfo=CHINA)
                        if query.registered_to else None)  # exclusive: the day after, in China
    if field == "by_due":
        lower, upper = max(lower, due_lower or LOWEST), min(upper, due_upper or HIGHEST)
        if registered_from or registered_until:
            found["registered_at"] = {**({"$gte": registered_from} if registered_from else {}),
                                      **({"$lt": registered_until} if registered_until else {})}
    else:
        lower = max(lower, _sortable(registered_from) if registered_from else LOWEST)
        upper = min(upper, _sortable(registered_until) if registered_until else HIGHEST)
        if due_lower or due_upper:
            found["deadline.due"] = {**({"$gte": due_lower} if due_lower else {}),
                                     **({"$lt": due_upper} if due_upper else {})}
    if after is not None:
        lower, upper = (max(lower, after), upper) if direction == 1 else (lower, min(upper, after))
    found[field] = {"$gt": lower, "$lt": upper}
    return found, field, direction


# How far each successive window of the sort key reaches from where the page starts (days; then the rest).
WINDOW_DAYS = (7, 31, 366)
_INSTANT = "%Y-%m-%dT%H:%M:%S.%fZ"


def _edges(field: str, direction: int, start: str, today: date) -> list[str]:
    """Keys at WINDOW_DAYS from `start` (a sort key or bound), in the order of the walk; none when there is no
    anchor to count from (an ascending registration order from the very first case)."""
    if field == "by_due":
        if not start:  # from the oldest deadline: the long overdue first, then the weeks around today
            return [(today + timedelta(days=days)).isoformat() for days in (*(-d for d in WINDOW_DAYS[::-1]), 0,
                                                                           *WINDOW_DAYS)]
        if start[:10] >= NO_DEADLINE:  # among the rows without a deadline: the rest in one window
            return []
        anchor = date.fromisoformat(start[:10])
        return [(anchor + timedelta(days=days)).isoformat() for days in WINDOW_DAYS]
    if direction == -1:
        moment = datetime.now(UTC) if start == HIGHEST else datetime.strptime(start[:27], _INSTANT).replace(tzinfo=UTC)
        return [_sortable(moment - timedelta(days=days)) for days in WINDOW_DAYS]
    if not start:
        return []
    moment = datetime.strptime(start[:27], _INSTANT).replace(tzinfo=UTC)
    return [_sortable(moment + timedelta(days=days)) for days in WINDOW_DAYS]


def page(query: ListQuery, principal: Principal, after: str | None, limit: int,
         today: date) -> tuple[list[dict[str, Any]], str | None]:
    """The rows of one page and the sort key to start the next one after (None on the last page).

    The range is read in windows (a week of the sort key from where the page starts, then a month, a year, the
    rest), each asked for what the page still lacks, until the page is full: the same rows as one query, but a
    read-model server that fetches every candidate of a range before it sorts and limits (SecantusDB's) then
    fetches about a week's rows, not the whole lane's. MongoDB walks the index and stops at the limit either way."""
    found, field, direction = mongo_query(query, principal, after, today)
    lower, upper = found[field]["$gt"], found[field]["$lt"]
    collection = CaseRow._get_collection()
    rows: list[dict[str, Any]] = []
    # Windows help only where the lane and the range are all the server looks up: with other filters beside them
    # SecantusDB looks up the lane alone, each window again (MongoDB filters as it walks either way).
    beside = set(found) - {"lanes", field}
    edges = [] if beside else [e for e in _edges(field, direction, lower if direction == 1 else upper, today)
                               if lower < e < upper]
    for edge in [*edges, None]:
        window = {"$gt": lower, "$lt": edge or upper} if direction == 1 else {"$gt": edge or lower, "$lt": upper}
        rows += collection.find({**found, field: window}, {"lanes": 0, "updated_at": 0}).sort(
            field, direction).limit(limit + 1 - len(rows))
        if len(rows) > limit:
            break
        if edge is not None:  # the next window begins where this one ended
            lower, upper = (edge, upper) if direction == 1 else (lower, edge)
    if len(rows) > limit:
        return rows[:limit], rows[limit - 1][field]
    return rows, None


def counts(today: date, within_days: int, organ_file: Path | None) -> dict[str, Any]:
    """The county's open cases counted by the organ whose work each is and by status, and how many are overdue or
    due within `within_days` days: read from the work-list projection's counters (a few hundred documents however
    many cases there are; shared/language/contracts/worklists.py count_keys)."""
    by_holder: Counter[str] = Counter()
    by_status: Counter[str] = Counter()
    holder_overdue: Counter[str] = Counter()
    holder_soon: Counter[str] = Counter()
    overdue = due_soon = 0
    last_soon = (today + timedelta(days=within_days)).isoformat()
    for counter in CaseCount._get_collection().find({"count": {"$gt": 0}}):
        kind, _, key = counter["_id"].partition("|")
        if kind == STATUS_COUNT:
            organ, _, status = key.partition("|")
            by_holder[organ] += counter["count"]
            by_status[status] += counter["count"]
        elif kind == DUE_COUNT:
            overdue += counter["count"] if key < today.isoformat() else 0
            due_soon += counter["count"] if today.isoformat() <= key <= last_soon else 0
        elif kind == HOLDER_DUE_COUNT:
            organ, _, day = key.partition("|")
            holder_overdue[organ] += counter["count"] if day < today.isoformat() else 0
            holder_soon[organ] += counter["count"] if today.isoformat() <= day <= last_soon else 0
    directory = organs(organ_file)
    counted = [status for status in Status if by_status[status.value]]  # in the lifecycle's order
    return {
        "today": today, "within_days": within_days, "open": sum(by_holder.values()), "overdue": overdue,
        "due_soon": due_soon,
        "by_organ": [{"code": None if code == NO_HOLDER else code,
                      "name": BUREAU_TRIAGE if code == NO_HOLDER else (o.name if (o := directory.get(code)) else code),
                      "count": n, "overdue": holder_overdue[code], "due_soon": holder_soon[code]}
                     for code, n in by_holder.most_common()],
        "by_status": [{"status": s.value, "status_text": STATUS_TEXT[s], "status_group": GROUP_OF[s].value,
                       "status_group_text": GROUP_TEXT[GROUP_OF[s]], "count": by_status[s.value]}
                      for s in counted],
    }


BUREAU_TRIAGE = "信访部门（待转送、交办）"


def rows_by_id(petition_ids: list[str]) -> dict[str, dict[str, Any]]:
    return {row["_id"]: row for row in CaseRow._get_collection().find({"_id": {"$in": petition_ids}},
                                                                      {"lanes": 0, "updated_at": 0})}


# --- what each officer sees of a row --------------------------------------------------------------------------------
def sees_identity(principal: Principal, row: dict[str, Any]) -> bool:
    """Whether the officer may see who petitioned (docs/security.md, "What each role sees"), from the row alone: the
    bureau always; an organ officer while the case is routed to their organ (outside triage) or, except for a
    report (Art. 30), while their organ reviews it; an auditor never."""
    if principal.role in views.BUREAU:
        return True
    if principal.role is not Role.ORGAN_OFFICER:
        return False
    organ = (row.get("organ") or {}).get("code")
    if organ == principal.organ_code and row["status"] not in views.TRIAGE:
        return True
    return row.get("reviewer") == principal.organ_code and row.get("category") != views.REPORT


def petitioner_names(rpc: RpcPool, principal: Principal, rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """intake's names for the page's rows (one call), or None when intake does not answer: the page is shown
    without them rather than not at all."""
    if not rows:
        return {}
    identified = [row["_id"] for row in rows if sees_identity(principal, row)]
    try:
        return rpc.call("intake", "petitioner_names", [row["_id"] for row in rows], identified,
                        actor=principal.actor())
    except ServiceUnavailable:
        return None


def _label(labels: dict[Any, str], code: str | None) -> str | None:
    return None if code is None else labels.get(code)


def present(row: dict[str, Any], principal: Principal, petitioner: dict[str, Any] | None, today: date,
            prefix: str) -> tuple[dict[str, Any], list[str]]:
    """The row as this officer sees it, and the personal fields it shows (`<prefix>.query_code`, ...)."""
    shown: list[str] = []
    query_code = row.get("query_code") if principal.role in views.SEES_QUERY_CODE else None
    if query_code:
        shown.append(f"{prefix}.query_code")
    if petitioner and petitioner.get("identified"):
        shown.append(f"{prefix}.petitioner.name")
    deadline = row.get("deadline")
    if deadline:
        days_left = (date.fromisoformat(deadline["due"]) - today).days
        deadline = {**deadline, "days_left": days_left, "overdue": days_left < 0}
    group = StatusGroup(row["group"])
    flags = list(row.get("flags") or [])
    return {
        "id": row["_id"], "query_code": query_code, "title": row.get("title"),
        "petitioner": ({k: petitioner[k] for k in ("name", "identified", "anonymous")} if petitioner else None),
        "organ": row.get("organ"), "status": row["status"], "status_text": row["status_text"],
        "status_group": group.value, "status_group_text": GROUP_TEXT[group],
        "category": row.get("category"), "category_text": _label(CATEGORY_LABELS, row.get("category")),
        "channel": row.get("channel"), "channel_text": _label(CHANNEL_LABELS, row.get("channel")),
        "topic": row.get("topic"), "topic_text": _label(TOPIC_LABELS, row.get("topic")),
        "place_code": row.get("place_code"), "place_name": places().name_of(row.get("place_code")),
        "registered_at": row.get("registered_at"), "next_deadline": deadline,
        "flags": flags, "flag_texts": [FLAG_TEXT.get(f, f) for f in flags],
    }, shown


def just_registered(found: dict[str, Any]) -> dict[str, Any]:
    """A row for a petition intake found whose case supervision has not opened (or listed) yet."""
    flags = [*found.get("flags", []), *(["repeat"] if found.get("repeat_of") else [])]
    return {"_id": found["petition_id"], "query_code": found.get("query_code"), "title": found.get("title"),
            "status": Status.REGISTERED.value, "status_text": views.JUST_REGISTERED, "group": StatusGroup.NEW.value,
            "category": found.get("category"), "channel": found.get("channel"), "topic": found.get("topic"),
            "place_code": found.get("place_code"), "organ": None, "reviewer": None, "deadline": None,
            "registered_at": datetime.fromisoformat(found["registered_at"]), "flags": flags}


def value_hash(secret: str, searched_by: str, value: str) -> str:
    """What the record of a search keeps of the value searched: a keyed hash (the gateway's key), never the value."""
    key = hmac.new(secret.encode(), b"personal-data-searches", hashlib.sha256).digest()
    return hmac.new(key, f"{searched_by}\n{value}".encode(), hashlib.sha256).hexdigest()
