"""The work-list projection: supervision's store → `case_rows`, one small row per case that the officers' lists
(GET /api/v1/cases) page through (docs/architecture.md §"Work lists").

A row is a pure function of its case's history: the case view's fold (`projections.apply`) plus what a list needs
and the view does not keep — the topic, the organs joining the lead organ now, the organ reviewing it now.
The projection runs as a worker of its own beside the case views' (the supervision projector process), with its
own position and single-active lock, so the petitioner's status view never waits for a work list.

For each batch it takes the state of each case it tracked lately (memory), or folds the batch itself for a case the
batch opens, or else folds the case's history from the store; a row is written only when it changed (a notice
delivered changes the timeline, not the row), guarded by its version: `{_id, version < v}` with an upsert, so a
replayed or older row never overwrites a newer one (the duplicate key an upsert then meets is a replay, and
ignored). Dropped and rebuilt with the case views (`python -m services.supervision.projector --rebuild`).

Beside the rows it keeps the open cases' counters (`case_counts`, shared/language/contracts/worklists.py
count_keys): for each row it did write, one off the keys of the row it replaced and one on the new row's. A row
write and its counters are two requests, so a worker recounts every counter from the rows before the first rows it
writes and after any batch that failed between them; in between they are exact.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pymongo import ReplaceOne, UpdateOne
from pymongo.errors import BulkWriteError

from services.supervision.domainmodel import Case
from services.supervision.projections import PROJECTION_FAILURES, apply, followed
from shared.language.contracts.lifecycle import TRIAGE, Status
from shared.language.contracts.worklists import (
    BACKLOG_LANE,
    COUNTY,
    GROUP_OF,
    NO_DEADLINE,
    OPEN,
    OPTION_WINDOWS,
    SUPERVISION_LANE,
    StatusGroup,
    count_keys,
    lane,
    lanes,
)
from shared.language.readmodels import DUPLICATE_KEY, CaseCount, CaseRow, CaseView
from shared.runtime.recentaggregates import RecentItems

log = logging.getLogger(__name__)
TOWN_DIGITS = 9


@dataclass
class Tracked:
    """A case as the work-list projection follows it: its view and what the view does not keep."""

    view: CaseView
    topic: str | None = None
    joining: list[str] = field(default_factory=list)  # the organs joining the lead organ (配合机关) now
    review_organ: str | None = None
    re_review_organ: str | None = None
    supervised: str | None = None  # the organ an open supervision order is addressed to: the case is in its list
    order: dict[str, Any] | None = None  # the latest supervision order (RowOrder)
    ownership: dict[str, Any] | None = None  # leader ownership, or its proposal (RowOwnership)
    written: dict[str, Any] | None = None  # the row as last written, without its version


def advance(tracked: Tracked | None, event: Any) -> Tracked:
    """The state after one more event of the case (`tracked` is None before Case.Opened)."""
    view = apply(tracked.view if tracked else None, event)
    if tracked is None:
        tracked = Tracked(view=view, topic=getattr(event, "topic", None))
    tracked.view = view
    if isinstance(event, Case.Transitioned):
        details = event.details
        if details.get("organ"):  # routed (again) or received directly: its joining organs with it
            tracked.joining = [organ["code"] for organ in details.get("joining_organs", [])]
        if details.get("review_organ"):
            tracked.review_organ = details["review_organ"]["code"]
        if details.get("re_review_organ"):
            tracked.re_review_organ = details["re_review_organ"]["code"]
        follow_supervision(tracked, event)
    elif isinstance(event, Case.OrganAssigned):  # histories recorded before the lifecycle
        tracked.joining = []
    return tracked


def follow_supervision(tracked: Tracked, event: Any) -> None:
    """The supervision a case is under (orders, leader ownership), from its supervision steps."""
    details, action = event.details, event.action
    if action == "supervise":
        tracked.supervised = details["holder"]["code"]
        tracked.order = {"order_level": details["order_level"], "trigger": details["trigger"],
                         "holder": details["holder"], "issued_on": details["on"], "due": details["due"],
                         "state": "open", "answered_on": None}
    elif action == "answer_order" and tracked.order:
        tracked.order = {**tracked.order, "state": "answered", "answered_on": details["on"]}
    elif action == "review_order_answer" and tracked.order:
        accepted = bool(details.get("accepted"))
        tracked.order = {**tracked.order, "state": "closed" if accepted else "open",
                         "due": None if accepted else details.get("due")}
        tracked.supervised = None if accepted else tracked.supervised
    elif action == "assign_leader":
        tracked.ownership = {**(tracked.ownership or {"proposed": []}), "leader": details["leader"],
                             "leader_title": details["leader_title"], "since": details["on"],
                             "due": event.opened[0]["due"] if event.opened else None, "resolved_on": None}
    elif action == "record_ownership_progress" and details.get("resolved") and tracked.ownership:
        tracked.ownership = {**tracked.ownership, "resolved_on": details["on"]}
    elif action == "propose_leader_ownership":
        known = (tracked.ownership or {}).get("proposed", [])
        tracked.ownership = {**(tracked.ownership or {}), "proposed": [*known, *details["triggers"]]}


def supervision_lanes(tracked: Tracked, group: StatusGroup) -> list[str]:
    """The supervisors' lanes a case is filed under: an order open or answered; leader ownership (owned, resolved)
    or, for an open case, its proposal."""
    filed = []
    if tracked.order and tracked.order["state"] != "closed":
        filed.append(f"{SUPERVISION_LANE}|{tracked.order['state']}")
    ownership = tracked.ownership or {}
    if ownership.get("leader"):
        filed += [f"{BACKLOG_LANE}|owned", *([f"{BACKLOG_LANE}|resolved"] if ownership.get("resolved_on") else [])]
    elif ownership.get("proposed") and group is not StatusGroup.CONCLUDED:
        filed.append(f"{BACKLOG_LANE}|proposed")
    return filed


def track(events: Iterable[Any]) -> Tracked:
    tracked: Tracked | None = None
    for event in events:
        tracked = advance(tracked, event)
    if tracked is None:
        raise ValueError("no events")
    return tracked


def _sortable(moment: datetime) -> str:
    """An instant as a fixed-width UTC string: ordered as text as it is in time."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def row_of(tracked: Tracked) -> dict[str, Any]:
    """The `case_rows` document of a case (without `updated_at`)."""
    view = tracked.view
    status = Status(view.status)
    group = GROUP_OF[status]
    # While the bureau triages it (again) no organ holds it, whatever organ the view still names.
    lead = view.organ.code if view.organ and status not in TRIAGE else None
    reviewer = (tracked.review_organ if status is Status.UNDER_REVIEW
                else tracked.re_review_organ if status is Status.UNDER_RE_REVIEW else None)
    organs = list(dict.fromkeys(o for o in (lead, *(tracked.joining if lead else []), reviewer, tracked.supervised)
                                if o))
    duties = [d for d in view.deadlines if d.status == "open" and d.kind not in OPTION_WINDOWS]
    deadline = min(duties, key=lambda d: d.due) if duties and group is not StatusGroup.CONCLUDED else None
    petition_id = view.petition_id
    place = view.place_code or ""
    return {
        "_id": petition_id, "version": view.version, "query_code": view.query_code, "title": view.title,
        "category": view.category, "channel": view.channel, "topic": tracked.topic, "place_code": view.place_code,
        "town": place[:TOWN_DIGITS] if len(place) >= TOWN_DIGITS else None, "registered_at": view.registered_at,
        "status": status.value, "status_text": view.status_text, "group": group.value,
        "organ": {"code": view.organ.code, "name": view.organ.name} if view.organ else None,
        "organs": organs, "reviewer": reviewer,
        "deadline": None if deadline is None else {"kind": deadline.kind, "label": deadline.label,
                                                   "due": deadline.due, "provisional": bool(deadline.provisional)},
        "flags": [*view.flags, *(["repeat"] if view.repeat_of else [])],
        "lanes": [*lanes(organs, group), *supervision_lanes(tracked, group)],
        "by_due": f"{deadline.due if deadline else NO_DEADLINE}|{petition_id}",
        "by_registered": f"{_sortable(view.registered_at)}|{petition_id}",
        "order": tracked.order, "ownership": tracked.ownership,
    }


class CaseRowProjection:
    name = "case_rows"
    gather_seconds = 0.5  # an officer's list trails a step by half a second at most, under load only

    def __init__(self, application: Any, recent_cases: int = 5_000) -> None:
        self._application = application  # supervision's: histories are read from its store
        self._recent: RecentItems[str, Tracked] = RecentItems(recent_cases)
        self._counts_exact = False  # recount before the next batch (a start, or a batch failed half-way)

    def drop(self) -> None:
        self._recent.clear()
        CaseRow.drop_collection()
        CaseRow.ensure_indexes()
        CaseCount.drop_collection()

    def prepare(self) -> None:
        """Nothing to bring up to date: a new deployment's position starts at zero, so the rows are filled in from
        the whole store as the projector catches up."""

    def _tracked(self, case_id: UUID, events: list[Any]) -> Tracked | None:
        """The case after the batch's `events`; None when the rows already show them (a replay)."""
        return followed(self._recent, case_id, events, version=lambda tracked: tracked.view.version, advance=advance,
                        fold=track, history=lambda case, last: self._application.events.get(case, lte=last))

    def apply_batch(self, items: Sequence[tuple[int, Any]]) -> None:
        batch: dict[UUID, list[Any]] = {}
        for _sequence, event in items:
            if isinstance(event, Case.Event):
                batch.setdefault(event.originator_id, []).append(event)
        now = datetime.now(UTC)
        changed: list[tuple[Tracked, dict[str, Any]]] = []
        written = []
        for case_id, events in batch.items():
            try:
                tracked = self._tracked(case_id, events)
                if tracked is None:
                    continue
                row = row_of(tracked)
            except Exception:
                # One case that cannot be listed must not hold back the others: its row stays as it was, and is
                # made afresh from the store with its next event.
                PROJECTION_FAILURES.labels(self.name).inc()
                log.exception("case %s: cannot list events %s", case_id, [e.originator_version for e in events])
                continue
            if {k: v for k, v in row.items() if k != "version"} != tracked.written:
                changed.append((tracked, row))
            written.append(tracked)
        if changed:
            self._write(changed, now)
        for tracked in written:  # only once written: a failed batch is folded again from the store
            self._recent.put(tracked.view.petition_id, tracked)

    def _write(self, changed: list[tuple[Tracked, dict[str, Any]]], now: datetime) -> None:
        """Write the changed rows, then move the counters of the rows written from their old keys to the new."""
        try:
            if not self._counts_exact:
                recount()
                self._counts_exact = True
            before = self._counted_before([tracked for tracked, _ in changed])
            refused = self._bulk_write([ReplaceOne({"_id": row["_id"], "version": {"$lt": row["version"]}},
                                                   {**row, "updated_at": now}, upsert=True) for _, row in changed])
            moves: Counter[str] = Counter()
            for index, (tracked, row) in enumerate(changed):
                content = {k: v for k, v in row.items() if k != "version"}
                if index not in refused:  # a refused row was there at this version or a later one: counted
                    moves.subtract(before.get(row["_id"], []))
                    moves.update(count_keys(row))
                tracked.written = content
            move_counts(moves)
        except BaseException:
            self._counts_exact = False
            raise

    @staticmethod
    def _counted_before(tracked: list[Tracked]) -> dict[str, list[str]]:
        """The keys each case is counted under now: from the row this worker last wrote, else as stored."""
        keys = {t.view.petition_id: count_keys(t.written) for t in tracked if t.written is not None}
        unknown = [t.view.petition_id for t in tracked if t.written is None]
        if unknown:
            for row in CaseRow._get_collection().find({"_id": {"$in": unknown}}, COUNTED_FIELDS):
                keys[row["_id"]] = count_keys(row)
        return keys

    @staticmethod
    def _bulk_write(writes: list[ReplaceOne]) -> set[int]:
        """The indexes of the writes refused as replays."""
        try:
            CaseRow._get_collection().bulk_write(writes, ordered=False)
        except BulkWriteError as error:
            # A duplicate key: the row is there at this version or a later one (a replay) and is left alone.
            errors = error.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise
            return {e["index"] for e in errors}
        return set()


COUNTED_FIELDS = {"status": 1, "group": 1, "organs": 1, "reviewer": 1, "deadline": 1}


def move_counts(moves: Counter[str]) -> None:
    """Add each key's move to its counter; a counter that falls to zero is removed (a passed day's, an organ's)."""
    moves = Counter({key: n for key, n in moves.items() if n})
    if not moves:
        return
    counts = CaseCount._get_collection()
    counts.bulk_write([UpdateOne({"_id": key}, {"$inc": {"count": n}}, upsert=True) for key, n in moves.items()],
                      ordered=False)
    emptied = [key for key, n in moves.items() if n < 0]
    if emptied:
        counts.delete_many({"_id": {"$in": emptied}, "count": {"$lte": 0}})


def recount() -> None:
    """Every counter from the open rows (the county's open lane); the counters of keys no row has are removed."""
    found: Counter[str] = Counter()
    for row in CaseRow._get_collection().find({"lanes": lane(COUNTY, OPEN)}, COUNTED_FIELDS):
        found.update(count_keys(row))
    counts = CaseCount._get_collection()
    if found:
        counts.bulk_write([ReplaceOne({"_id": key}, {"count": n}, upsert=True) for key, n in found.items()],
                          ordered=False)
    counts.delete_many({"_id": {"$nin": list(found)}})
