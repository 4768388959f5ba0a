"""The notice records: notification's store → `notice_records` (shared/language/readmodels.py NoticeRecord), one
document per notice and how it went on each of its channels, for the bureau's console: the case page's notices
(print, record posting and receipt), the failed deliveries to re-send, the letters still to post.

A record is a pure function of its notice's events in store order (`fold`): the notice requested (each channel
`pending`; `awaiting_post` if it goes by post), each channel's delivery concluded (delivered, refused, failed), a
re-send asked for and its outcome, the letter posted and its receipt recorded. Its `version` is the store position
(notification id) of the last event it shows, so a replayed event is recognised and left out.

The projection runs in the dispatcher process (services/notification/dispatcher.py) as a worker with its own
position (in MongoDB, dropped with the records) and single-active lock. For each batch it takes the records the
batch touches — from memory those it wrote lately, none for a notice the batch requests, the others with one query
— folds the batch's newer events onto them and writes them back in one bulk request, each guarded by the version it
was based on (an insert for a new record): a replay, or a record another writer moved on, is left alone, and the
batch is then folded again onto the records as stored. Rebuilt from the store with
`python -m services.notification.records --rebuild` (stop the dispatcher first).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from prometheus_client import Counter
from pymongo import InsertOne, ReplaceOne
from pymongo.errors import BulkWriteError

from services.notification import domainmodel
from services.notification.domainmodel import FAILED, POST, POSTED, RECEIVED, REFUSED
from shared.language.readmodels import DUPLICATE_KEY, NoticeRecord
from shared.runtime.recentaggregates import RecentItems

log = logging.getLogger(__name__)

PENDING = "pending"
REQUESTED = "Notice.Requested"
CONCLUDED = "Delivery.Concluded"
RESEND_REQUESTED = "Delivery.ResendRequested"
ATTEMPTED = "Delivery.Attempted"
POSTED_EVENT = "PostalDelivery.Posted"
RECEIPT_RECORDED = "PostalDelivery.ReceiptRecorded"
FOLDED = (REQUESTED, CONCLUDED, RESEND_REQUESTED, ATTEMPTED, POSTED_EVENT, RECEIPT_RECORDED)
# The topics the projection reads (the follower skips every other event undecoded), named rather than taken from
# the classes: a name no stored event has costs nothing.
TOPICS = tuple(f"{domainmodel.__name__}:{name}" for name in FOLDED)
RECORD_FAILURES = Counter("xinfang_notice_record_failures_total",
                          "Notice events the notice records could not show (the record is left as it was)")


class MissingRecord(LookupError):
    """A delivery event of a notice whose record is not there (its request was never projected)."""


def event_name(event: Any) -> str:
    """e.g. `Delivery.Concluded`: the event's class within its aggregate."""
    return type(event).__qualname__


def fold(record: dict[str, Any] | None, position: int, event: Any, channel: str | None = None) -> dict[str, Any]:
    """The record after one more event of its notice, at store position `position`. `channel`: the delivery's
    channel for a delivery event that does not carry it (a re-send's request). Changes `record` in place."""
    name = event_name(event)
    if name == REQUESTED:
        channels = list(event.channels)
        return {"_id": str(event.originator_id), "petition_id": str(event.petition_id), "kind": event.kind,
                "title": event.title, "step": event.step, "requested_at": event.timestamp, "channels": channels,
                "deliveries": {c: {"outcome": PENDING} for c in channels}, "failed": [],
                "awaiting_post": POST in channels, "version": position}
    if record is None:
        raise MissingRecord(name)
    delivery = record["deliveries"].setdefault(channel or getattr(event, "channel", POST), {})
    if name == CONCLUDED:
        delivery.update(outcome=event.outcome, at=event.at, detail=event.detail,
                        attempts=getattr(event, "attempts", None) or 1)
    elif name == RESEND_REQUESTED:  # sent again: pending until the attempt's outcome
        delivery.update(outcome=PENDING, at=event.at)
    elif name == ATTEMPTED:
        delivery.update(outcome=event.outcome, at=event.at, detail=event.detail,
                        attempts=delivery.get("attempts", 1) + 1)
    elif name == POSTED_EVENT:
        delivery.update(outcome=POSTED, at=event.at, posted_on=event.posted_on,
                        registered_mail_number=event.registered_mail_number,
                        recorded_by=(event.by or {}).get("user"))
        record["awaiting_post"] = False
    elif name == RECEIPT_RECORDED:
        delivery.update(outcome=RECEIVED, at=event.at, received_on=event.received_on)
    # Listed for the bureau: what did not reach the petitioner — failed through its retries (re-send it) or refused
    # for good (the address or number: print and post it instead).
    record["failed"] = [c for c, d in record["deliveries"].items() if d.get("outcome") in (FAILED, REFUSED)]
    record["version"] = position
    return record


class NoticeRecordProjection:
    name = "notice_records"
    # Under load, events gather between batches (shared.runtime.follower.Gathering): a notice's request and its
    # deliveries then come in one batch, one write of its record instead of one per event, and the read-model
    # server — which the petitioners' path shares — takes a few large requests instead of many small ones. The
    # clerks' records trail by half a second at most, and only under load (routes/notices.py waits for them).
    gather_seconds = 0.5

    def __init__(self, application: Any, recent_records: int = 5_000) -> None:
        self._application = application  # notification's: a re-send's delivery is looked up in its store
        # The records this projection wrote last, as written: a notice's deliveries follow its request closely.
        self._recent: RecentItems[str, dict[str, Any]] = RecentItems(recent_records)
        # delivery id -> (notice id, channel), for the events of a Delivery that do not say which notice it is.
        self._deliveries: RecentItems[UUID, tuple[str, str]] = RecentItems(recent_records)

    def drop(self) -> None:
        self._recent.clear()
        NoticeRecord.drop_collection()
        NoticeRecord.ensure_indexes()

    def prepare(self) -> None:
        NoticeRecord.ensure_indexes()

    def apply_batch(self, items: Sequence[tuple[int, Any]]) -> None:
        batch: dict[str, list[tuple[int, Any, str | None]]] = {}
        for position, event in items:
            found = self._notice_of(event)
            if found is not None:
                batch.setdefault(found[0], []).append((position, event, found[1]))
        if not batch:
            return
        # Remembered records are taken out while they are used: one a failed write left half-changed is not reused.
        current = {i: record for i in batch if (record := self._recent.take(i)) is not None}
        remembered = bool(current)
        # A notice whose batch begins with its request has no record yet, unless this is a replay.
        assumed = [i for i, events in batch.items() if i not in current and event_name(events[0][1]) == REQUESTED]
        if missing := [i for i in batch if i not in current and i not in assumed]:
            current.update(self._stored(missing))
        written, broken = self._project(batch, current)
        if broken and (remembered or assumed):
            # A record taken from memory was stale, or one assumed absent was there: again from the stored ones.
            written, broken = self._project(batch, self._stored(list(batch)))
        if not broken:  # which write found its guard broken is not known: then none is remembered
            for record in written:
                self._recent.put(record["_id"], record)

    def _notice_of(self, event: Any) -> tuple[str, str | None] | None:
        """(notice id, channel) of an event the records show; None for any other."""
        name = event_name(event)
        if name == REQUESTED:
            return str(event.originator_id), None
        if name in (POSTED_EVENT, RECEIPT_RECORDED):
            return str(event.notice_id), POST
        if name not in FOLDED:
            return None
        if getattr(event, "notice_id", None) is not None and getattr(event, "channel", None):
            found = (str(event.notice_id), str(event.channel))
            self._deliveries.put(event.originator_id, found)
            return found
        found = self._deliveries.take(event.originator_id) or self._delivery_in_store(event.originator_id)
        self._deliveries.put(event.originator_id, found)
        return found

    def _delivery_in_store(self, delivery_id: UUID) -> tuple[str, str]:
        """A delivery's notice and channel, from its first event (Concluded), which says both."""
        [stored] = self._application.recorder.select_events(delivery_id, limit=1)
        concluded = self._application.mapper.to_domain_event(stored)
        return str(concluded.notice_id), str(concluded.channel)

    @staticmethod
    def _stored(ids: list[str]) -> dict[str, dict[str, Any]]:
        """The records as stored now (one query)."""
        return {record["_id"]: record for record in NoticeRecord._get_collection().find({"_id": {"$in": ids}})}

    def _project(self, batch: dict[str, list[tuple[int, Any, str | None]]],
                 current: dict[str, dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
        """Fold the batch's newer events onto `current` and write the records that changed; returns them and how
        many writes found their guard broken."""
        writes: list[InsertOne | ReplaceOne] = []
        written = []
        for notice, events in batch.items():
            record = current.get(notice)
            read_version = record["version"] if record else None
            newer = [e for e in events if read_version is None or e[0] > read_version]
            if not newer:
                continue  # a replay: the record shows these events already
            try:
                for position, event, channel in newer:
                    record = fold(record, position, event, channel)
            except Exception:
                # One notice that cannot be shown must not hold back the others: it stays as it was.
                RECORD_FAILURES.inc()
                log.exception("notice %s: cannot show events at %s", notice, [e[0] for e in newer])
                continue
            assert record is not None  # noqa: S101 - fold returns a record or raises
            writes.append(InsertOne(record) if read_version is None else
                          ReplaceOne({"_id": notice, "version": read_version}, record))
            written.append(record)
        return written, self._bulk_write(writes) if writes else 0

    @staticmethod
    def _bulk_write(writes: list[InsertOne | ReplaceOne]) -> int:
        """Write; returns how many writes found their guard broken (a replace that matched no record, an insert
        of a record that is there already: a replay, or another writer)."""
        replaces = sum(isinstance(write, ReplaceOne) for write in writes)
        try:
            return replaces - NoticeRecord._get_collection().bulk_write(writes, ordered=False).matched_count
        except BulkWriteError as error:
            errors = error.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise
            return replaces - error.details.get("nMatched", 0) + len(errors)


def main(argv: list[str] | None = None) -> None:
    """`python -m services.notification.records --rebuild`: drop the notice records and replay the whole store
    (the live projection runs in the dispatcher process: stop it first)."""
    from services.notification.bootstrap import build_application  # noqa: PLC0415
    from services.notification.settings import NotificationSettings  # noqa: PLC0415
    from shared.language.readmodels import connect_read_models  # noqa: PLC0415
    from shared.runtime.projector import rebuild  # noqa: PLC0415

    parser = argparse.ArgumentParser(prog="python -m services.notification.records")
    parser.add_argument("--rebuild", action="store_true", required=True,
                        help="drop the notice records and replay the whole store")
    parser.parse_args(argv)
    settings = NotificationSettings().for_follower()
    connect_read_models(settings.mongodb_uri)
    application = build_application(settings)
    try:
        count = rebuild(settings, "notification", application, NoticeRecordProjection(application))
        print(f"rebuilt notice_records from {count} stored events")
    finally:
        application.close()


if __name__ == "__main__":
    main()
