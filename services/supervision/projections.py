"""The CaseView projection: supervision's store → `case_views` documents.

A view is a pure function of its case's event history (`render` folds `apply` over it). For each batch the
projector takes the current views of the cases the batch touched — from memory the ones it wrote recently, none
for a case the batch opens, the others with one query — applies the batch's newer events, and writes them all
back in one bulk request; a view that is missing or behind is rendered from the store instead. Each write is
guarded by the version it was based on (an insert where there was no view), so a replayed batch — after a crash,
or during a rebuild — changes nothing, and the read model can be dropped and rebuilt at any time. Memory is only
a shortcut: if a write based on a remembered or an assumed-absent view finds its guard broken (a replay, another
writer, a dropped collection), the batch is projected again from the views as stored.
Timeline texts are for the petitioner; each step declares its own (shared/language/contracts/lifecycle.py).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from prometheus_client import Counter
from pymongo import InsertOne, ReplaceOne
from pymongo.errors import BulkWriteError, OperationFailure

from services.supervision.casefile import file_step, registered_text
from services.supervision.domainmodel import Case
from shared.language.contracts.lifecycle import STATUS_TEXT, STEPS, Status, StepFacts
from shared.language.contracts.notices import NOTICE_CHANNELS
from shared.language.readmodels import DUPLICATE_KEY, CaseCode, CaseView, Deadline, Organ, TimelineEntry, insert_new
from shared.runtime.recentaggregates import RecentItems

# The status page's listing of a notice is publication, not delivery: nobody is said to have received it there.
PUBLISHED_ON_STATUS_PAGE = "inbox"
LEGACY_CODE_INDEX = "query_code_1"  # the unique index on case_views.query_code, before case_codes
PARALLEL_WRITERS = 3  # connections a large batch of view writes is spread over
SPLIT_FROM = 12  # writes per connection before a batch is split
log = logging.getLogger(__name__)
PROJECTION_FAILURES = Counter("xinfang_projection_failures_total", "Cases a projection could not update", ["projection"])


State = TypeVar("State")


def followed(recent: RecentItems[str, State], case_id: UUID, events: list[Any], *, version: Callable[[State], int],
             advance: Callable[[State, Any], State], fold: Callable[[Iterable[Any]], State],
             history: Callable[[UUID, int], Iterable[Any]]) -> State | None:
    """A case's projected state after a batch's `events` (the case's, in order): advanced from the state this
    process remembers when the batch follows on from it, folded from the batch when it opens the case, else from the
    store's `history` up to the batch's last event; None when the remembered state shows them already (a replay).
    What the projections of supervision's work lists and assessment facts share."""
    state = recent.take(str(case_id))
    last = events[-1].originator_version
    if state is not None:
        newer = [e for e in events if e.originator_version > version(state)]
        if not newer:
            recent.put(str(case_id), state)
            return None
        if newer[0].originator_version == version(state) + 1:
            for event in newer:
                state = advance(state, event)
            return state
    elif events[0].originator_version == 1:  # the batch opens the case: it holds the whole history
        return fold(events)
    # Not followed here (a restart, or forgotten) or an event missing in between: from the store.
    return fold(history(case_id, last))


def _deadline(d: dict[str, Any]) -> Deadline:
    return Deadline(kind=d["kind"], label=d["label"], due=d["due"], basis=d["basis"],
                    provisional=d.get("provisional", False), status=d.get("status", "open"), start=d.get("start"))


def _set_deadlines(view: CaseView, opened: list[dict[str, Any]], closed: dict[str, str],
                   details: dict[str, Any] | None = None) -> None:
    """The view's deadlines after a step: closed (met, late with by how many days, stopped), opened, and — for the
    deadline watch's breach (`details` of record_breach) — marked overdue."""
    details = details or {}
    by_kind = {d.kind: d for d in view.deadlines}
    late = details.get("late_days") or {}
    for kind, outcome in closed.items():
        if kind in by_kind:
            by_kind[kind].status = outcome
            if kind in late:
                by_kind[kind].late_days = late[kind]
    breached = by_kind.get(details.get("kind", "")) if details.get("on") and details.get("due") else None
    if breached is not None and breached.due == details["due"]:
        breached.breached_on = details["on"]
    for d in opened:
        by_kind[d["kind"]] = _deadline({**d, "status": "open"})
    view.deadlines = list(by_kind.values())
    upcoming = sorted((d for d in view.deadlines if d.status == "open"), key=lambda d: d.due)
    view.next_deadline = upcoming[0] if upcoming else None


def _organ_name(view: CaseView) -> str:
    return view.organ.name if view.organ else "有权处理机关"


def step_text(view: CaseView, e: Any) -> str | None:
    """What the petitioner reads in the timeline for one lifecycle step, as the step declares it (None: nothing
    public to say, or a step no longer declared)."""
    step = STEPS.get(e.action)
    if step is None:
        return None
    return step.timeline(StepFacts(details=e.details, basis=e.basis, due=e.opened[0]["due"] if e.opened else None,
                                   organ_name=_organ_name(view)))


def apply(view: CaseView | None, event: Any) -> CaseView:
    """The view after one more event of its case (a pure transition; `view` is None before Case.Opened)."""
    if isinstance(event, Case.Opened):
        registered_at = datetime.fromisoformat(event.at)
        view = CaseView(
            petition_id=str(event.originator_id), query_code=event.query_code, status=Status.REGISTERED.value,
            status_text=STATUS_TEXT[Status.REGISTERED], title=event.title, category=event.category,
            channel=event.channel, place_code=event.place_code, registered_at=registered_at,
            flags=list(event.flags), repeat_of=event.repeat_of, received_at=event.received_at,
            timeline=[TimelineEntry(at=registered_at, step="registered",
                                    text=registered_text(event.channel, event.received_at))],
        )
        _set_deadlines(view, event.deadlines, {})
    elif view is None:
        raise ValueError(f"case {event.originator_id} history does not start with Case.Opened")
    elif isinstance(event, Case.Transitioned):
        status = Status(event.status)
        view.status, view.status_text = status.value, STATUS_TEXT[status]
        d = event.details
        if "organ" in d:
            view.organ = Organ(code=d["organ"]["code"], name=d["organ"]["name"])
            view.disposition = d.get("disposition")
            view.routing_basis = event.basis
            view.rules_version = d.get("rules_version")
        if event.action in ("report_up", "redirect", "route") and "disposition" in d:
            view.disposition = d["disposition"]
        if event.action == "accept":
            view.procedure = d["procedure"]
        elif event.action == "convert_to_ordinary" or (event.action == "decide_review" and d["outcome"] == "rehandle"):
            view.procedure = "ordinary"
        # Every organ that handled, reviewed, was supervised or is to act on a recommendation may open the case.
        holder = d.get("holder") if event.action in ("supervise", "recommend_accountability") else None
        for organ in (d.get("organ"), d.get("review_organ"), d.get("re_review_organ"), *d.get("joining_organs", []),
                      holder):
            if organ and organ["code"] not in view.involved_organs:
                view.involved_organs.append(organ["code"])
        _set_deadlines(view, event.opened, event.closed,
                       event.details if event.action == "record_breach" else {"late_days": event.details.get("late_days")})
        text = step_text(view, event)
        if text:
            view.timeline.append(TimelineEntry(at=datetime.fromisoformat(event.at), step=event.action, text=text))
        file_step(view, event)  # the case file: what the step said (services/supervision/casefile.py)
    elif isinstance(event, Case.OrganAssigned):  # histories recorded before the lifecycle
        view.status, view.status_text = Status.AWAITING_ACCEPTANCE.value, STATUS_TEXT[Status.AWAITING_ACCEPTANCE]
        view.organ = Organ(code=event.organ["code"], name=event.organ["name"])
        view.routing_basis, view.rules_version = event.basis, event.rules_version
        view.involved_organs = [event.organ["code"]]
        view.timeline.append(TimelineEntry(
            at=datetime.fromisoformat(event.at), step="transferred",
            text=f"已转送{event.organ['name']}办理，该机关将在规定期限内告知是否受理"))
    elif isinstance(event, Case.NoticeDelivered):
        said = "已在查询页面公布" if event.channel == PUBLISHED_ON_STATUS_PAGE else \
            f"已送达（{NOTICE_CHANNELS.get(event.channel, event.channel)}）"
        view.timeline.append(TimelineEntry(at=datetime.fromisoformat(event.at), step="notice_delivered",
                                           text=f"《{event.title}》{said}"))
    view.version = event.originator_version
    return view


def render(events: Iterable[Any]) -> CaseView:
    """The view of a case from its whole history, in order."""
    view: CaseView | None = None
    for event in events:
        view = apply(view, event)
    if view is None:
        raise ValueError("no events")
    return view


class CaseViewProjection:
    name = "case_views"

    def __init__(self, application: Any, recent_views: int = 5_000) -> None:
        self._application = application  # supervision's: the projection reads case histories from its store
        self._writers = ThreadPoolExecutor(PARALLEL_WRITERS, thread_name_prefix="case-views-writer")
        # The views this projector wrote last, as written: a case's next events (its routing, its receipt's
        # delivery) follow within milliseconds, and reading the view back costs the read-model server a query
        # and this process the decoding of a document.
        self._recent: RecentItems[str, CaseView] = RecentItems(recent_views)

    def _advance(self, view: CaseView | None, case_id: UUID, newer: list[Any]) -> CaseView:
        if (view.version + 1 if view else 1) == newer[0].originator_version:
            for event in newer:
                view = apply(view, event)
            return view
        # The view is missing or behind this batch (e.g. dropped, or an earlier event failed): from the store.
        return render(self._application.events.get(case_id, lte=newer[-1].originator_version))

    def drop(self) -> None:
        self._recent.clear()
        CaseView.drop_collection()
        CaseCode.drop_collection()
        CaseView.ensure_indexes()

    def prepare(self) -> None:
        """Bring a read model an earlier version wrote up to date: its views carried a unique index on the query
        code, which `case_codes` replaces. Fill that in from the views, then drop the index."""
        views = CaseView._get_collection()
        if LEGACY_CODE_INDEX in views.index_information():
            codes = [{"_id": v["query_code"], "petition_id": v["_id"]} for v in views.find({}, {"query_code": 1})]
            insert_new(CaseCode._get_collection(), codes)
            with contextlib.suppress(OperationFailure):  # a second projector starting beside this one did it
                views.drop_index(LEGACY_CODE_INDEX)
            log.info("case_views: query codes moved to case_codes; the index on case_views.query_code is dropped")

    @staticmethod
    def _write(document: dict[str, Any], read_version: int | None) -> InsertOne | ReplaceOne:
        """The write of one view, guarded by the version it was based on: a view that moved on meanwhile (only
        possible if a second projector ran despite the single-active lock) is left alone, and is rendered afresh
        with its case's next event. An equality guard, not `version < new`: SecantusDB answers a range filter
        next to `_id` at half the speed (measured: ~1.4-2.4 against ~0.8-1.0 ms per write)."""
        if read_version is None:
            return InsertOne(document)  # a duplicate key means another write got there first: a replay
        return ReplaceOne({"_id": document["_id"], "version": read_version}, document)

    def apply_batch(self, items: Sequence[tuple[int, Any]]) -> None:
        batch: dict[UUID, list[Any]] = {}
        for _sequence, event in items:
            if isinstance(event, Case.Event):
                batch.setdefault(event.originator_id, []).append(event)
        if not batch:
            return
        ids = [str(i) for i in batch]
        # Remembered views are taken out while they are used: one a failed write left half-changed is not reused.
        current = {i: view for i in ids if (view := self._recent.take(i)) is not None}
        remembered = bool(current)
        # A case whose batch begins with its opening has no view yet, unless this is a replay.
        assumed = [i for i, events in zip(ids, batch.values(), strict=True) if i not in current and
                   events[0].originator_version == 1]
        if missing := [i for i in ids if i not in current and i not in assumed]:
            current.update(self._stored(missing))
        written, broken = self._project(batch, current)
        if broken and (remembered or assumed):
            # A view taken from memory was stale, or one assumed absent was there: again from the stored views.
            written, broken = self._project(batch, self._stored(ids))
        if not broken:  # which write found its guard broken is not known: then none is remembered
            for view in written:
                self._recent.put(view.petition_id, view)

    @staticmethod
    def _stored(ids: list[str]) -> dict[str, CaseView]:
        """The views as stored now (one query)."""
        return {view.petition_id: view for view in CaseView.objects(petition_id__in=ids)}

    def _project(self, batch: dict[UUID, list[Any]], current: dict[str, CaseView]) -> tuple[list[CaseView], int]:
        """Write the batch's newer events onto `current`; returns the views written and how many writes found
        their guard broken."""
        now = datetime.now(UTC)
        writes, written, codes = [], [], []
        for case_id, events in batch.items():
            view = current.get(str(case_id))
            newer = [e for e in events if view is None or e.originator_version > view.version]
            if not newer:
                continue  # a replay: the view already shows these events
            read_version = view.version if view else None  # before `apply` changes the view in place
            try:
                view = self._advance(view, case_id, newer)
            except Exception:
                # One case that cannot be shown must not hold back every other case: it stays as it was (and is
                # rendered afresh from the store with its next event), and the failure is counted and logged.
                PROJECTION_FAILURES.labels(self.name).inc()
                log.exception("case %s: cannot project events %s", case_id,
                              [e.originator_version for e in newer])
                continue
            view.updated_at = now
            writes.append(self._write(view.to_mongo().to_dict(), read_version))
            written.append(view)
            if read_version is None:
                codes.append({"_id": view.query_code, "petition_id": view.petition_id})
        if not writes:
            return written, 0
        # The read-model server serves each connection on a thread of its own: a large batch is written over
        # several, which finishes sooner when the machine is busy (SecantusDB, 120 writes beside six busy
        # processes: 439 ms on one connection, 300 on two, 268 on four) but later when it is idle (85 vs 114 ms),
        # so only a large batch is split. Each case has one write per batch, so the parts are independent.
        parts = min(PARALLEL_WRITERS, len(writes) // SPLIT_FROM) or 1
        # The collection is first opened (and its indexes created) here, never by two writers at once: SecantusDB
        # can stall a createIndexes beside a bulk write on the same new collection.
        CaseView._get_collection()
        insert_new(CaseCode._get_collection(), codes)  # before the views: a view that shows can be found by its code
        if parts == 1:
            return written, self._bulk_write(writes)
        return written, sum(self._writers.map(self._bulk_write, [writes[i::parts] for i in range(parts)]))

    @staticmethod
    def _bulk_write(writes: list[InsertOne | ReplaceOne]) -> int:
        """Write; returns how many writes found their guard broken (a replace that matched no view, an insert of
        a view that is there already: a replay, or another writer)."""
        replaces = sum(isinstance(write, ReplaceOne) for write in writes)
        try:
            return replaces - CaseView._get_collection().bulk_write(writes, ordered=False).matched_count
        except BulkWriteError as error:
            errors = error.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise
            return replaces - error.details.get("nMatched", 0) + len(errors)
