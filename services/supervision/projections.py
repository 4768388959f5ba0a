"""The CaseView projection: supervision's store → `case_views` documents.

A view is a pure function of its case's event history (`render` folds `apply` over it). For each batch the
projector reads the current views of the cases the batch touched (one query), applies the batch's newer events,
and writes them all back in one bulk request; a view that is missing or behind is rendered from the store
instead. Each write replaces the document only if it reflects an older version, so a replayed batch — after a
crash, or during a rebuild — changes nothing, and the read model can be dropped and rebuilt at any time.
Timeline texts are for the petitioner.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any
from uuid import UUID

from prometheus_client import Counter
from pymongo import ReplaceOne
from pymongo.errors import BulkWriteError

from services.supervision.domainmodel import STATUS_TEXT, Case
from shared.contracts.registration import CHANNEL_LABELS, Channel
from shared.readmodels import CaseView, Deadline, Organ, TimelineEntry

CHANNEL_TEXT = {"inbox": "站内信", "email": "电子邮件", "sms": "短信"}
DUPLICATE_KEY = 11000
log = logging.getLogger(__name__)
PROJECTION_FAILURES = Counter("xinfang_projection_failures_total", "Cases a projection could not update", ["projection"])


def apply(view: CaseView | None, event: Any) -> CaseView:
    """The view after one more event of its case (a pure transition; `view` is None before Case.Opened)."""
    if isinstance(event, Case.Opened):
        registered_at = datetime.fromisoformat(event.at)
        view = CaseView(
            petition_id=str(event.originator_id), query_code=event.query_code, status="registered",
            status_text=STATUS_TEXT["registered"], title=event.title, category=event.category,
            channel=event.channel, place_code=event.place_code, registered_at=registered_at,
            deadlines=[Deadline(**d) for d in event.deadlines],
            timeline=[TimelineEntry(at=registered_at, step="registered",
                                    text=f"信访事项已登记（{CHANNEL_LABELS[Channel(event.channel)]}）")],
        )
    elif view is None:
        raise ValueError(f"case {event.originator_id} history does not start with Case.Opened")
    elif isinstance(event, Case.OrganAssigned):
        view.status, view.status_text = "transferred", STATUS_TEXT["transferred"]
        view.organ = Organ(code=event.organ["code"], name=event.organ["name"])
        view.routing_basis, view.rules_version = event.basis, event.rules_version
        view.timeline.append(TimelineEntry(
            at=datetime.fromisoformat(event.at), step="transferred",
            text=f"已转送{event.organ['name']}办理，该机关将在规定期限内告知是否受理"))
    elif isinstance(event, Case.NoticeDelivered):
        view.timeline.append(TimelineEntry(
            at=datetime.fromisoformat(event.at), step="notice_delivered",
            text=f"《{event.title}》已送达（{CHANNEL_TEXT.get(event.channel, event.channel)}）"))
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

    def __init__(self, application: Any) -> None:
        self._application = application  # supervision's: the projection reads case histories from its store

    def _advance(self, view: CaseView | None, case_id: UUID, newer: list[Any]) -> CaseView:
        if (view.version + 1 if view else 1) == newer[0].originator_version:
            for event in newer:
                view = apply(view, event)
            return view
        # The view is missing or behind this batch (e.g. dropped, or an earlier event failed): from the store.
        return render(self._application.events.get(case_id, lte=newer[-1].originator_version))

    def drop(self) -> None:
        CaseView.drop_collection()
        CaseView.ensure_indexes()

    def apply_batch(self, items: Sequence[tuple[int, Any]]) -> None:
        batch: dict[UUID, list[Any]] = {}
        for _sequence, event in items:
            if isinstance(event, Case.Event):
                batch.setdefault(event.originator_id, []).append(event)
        if not batch:
            return
        # One read for the whole batch: the views as they are now.
        current = {view.petition_id: view for view in CaseView.objects(petition_id__in=[str(i) for i in batch])}
        now = datetime.now(timezone.utc)
        writes = []
        for case_id, events in batch.items():
            view = current.get(str(case_id))
            newer = [e for e in events if view is None or e.originator_version > view.version]
            if not newer:
                continue  # a replay: the view already shows these events
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
            document = view.to_mongo().to_dict()
            writes.append(ReplaceOne({"_id": document["_id"], "version": {"$lt": view.version}}, document,
                                     upsert=True))
        if not writes:
            return
        try:
            CaseView._get_collection().bulk_write(writes, ordered=False)
        except BulkWriteError as error:
            # A duplicate key means the document already reflects this version or a newer one: a replay.
            others = [e for e in error.details.get("writeErrors", []) if e.get("code") != DUPLICATE_KEY]
            if others:
                raise
