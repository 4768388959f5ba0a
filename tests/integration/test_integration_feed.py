"""The integration feed (shared/runtime/feed.py) on PostgreSQL and SQLite: every published event once, by position,
in the order appended; filtered by type; paged like an event store's $all read; safe with concurrent relays."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime

import pytest

from shared.language.integration.catalog import PETITION_REGISTERED, PETITION_ROUTED, PROVINCE_MATTER_RECEIVED
from shared.language.integration.envelope import IntegrationEvent
from shared.runtime.feed import IntegrationFeed
from tests.support.samples import registered_event, routed_event

PROVINCE = "urn:xinfang:province:330000"


def received_event(sequence: int, recipient: str = PROVINCE) -> IntegrationEvent:
    petition_id = str(uuid.uuid4())
    return IntegrationEvent(
        id=str(uuid.uuid4()), source="urn:xinfang:330106:intake", event_type=PROVINCE_MATTER_RECEIVED,
        subject=petition_id, time=datetime.now(UTC), correlation_id=str(uuid.uuid4()), sequence=sequence,
        data={"reference": "浙信转〔2026〕1号", "petition_id": petition_id, "mode": "transfer",
              "received_at": datetime.now(UTC).isoformat(), "report_by": None},
        extra={"recipient": recipient})


@pytest.fixture
def feed(store, settings_for, closing):
    return closing(IntegrationFeed(settings_for(store=store)))


def test_an_empty_feed_reads_as_empty(feed: IntegrationFeed) -> None:
    page = feed.read(0, 10)
    assert (page.events, page.next, page.head) == ([], 0, 0)


def test_each_event_is_recorded_once_in_the_order_appended(feed: IntegrationFeed) -> None:
    first = [registered_event(n) for n in range(1, 4)]
    second = [registered_event(n) for n in range(4, 6)]
    positions = feed.append(first)
    assert len(positions) == 3 and positions == sorted(positions)
    # A relay's batch published again (a crash before its position was saved), with new events after it.
    again = feed.append([*first, *second, second[0]])
    assert len(again) == 2 and min(again) > max(positions)
    page = feed.read(0, 100)
    assert [e["id"] for _p, e in page.events] == [e.id for e in [*first, *second]]
    assert [p for p, _e in page.events] == sorted({p for p, _e in page.events})
    assert page.head == page.events[-1][0] == page.next
    assert feed.append(first) == []


def test_a_stored_event_is_the_structured_cloudevent_as_published(feed: IntegrationFeed) -> None:
    event = received_event(7)
    feed.append([event])
    [(_position, stored)] = feed.read(0, 10).events
    assert stored == json.loads(event.to_json())
    assert stored["recipient"] == PROVINCE and stored["data"]["mode"] == "transfer"


def test_pages_follow_one_another_without_gap_or_overlap(feed: IntegrationFeed) -> None:
    events = [registered_event(n) for n in range(1, 26)]
    for start in range(0, 25, 7):  # several relay batches
        feed.append(events[start:start + 7])
    seen, after = [], 0
    while True:
        page = feed.read(after, 4)
        seen.extend(e["id"] for _p, e in page.events)
        if not page.events:
            assert page.next == page.head == after
            break
        after = page.next
    assert seen == [e.id for e in events]


def test_a_type_filter_reads_only_those_types_and_skips_to_the_head(feed: IntegrationFeed) -> None:
    registered = [registered_event(n) for n in range(1, 6)]
    routed = [routed_event(n, e.subject) for n, e in enumerate(registered, start=10)]
    feed.append([x for pair in zip(registered, routed, strict=True) for x in pair])
    page = feed.read(0, 3, {PETITION_ROUTED.type})
    assert [e["id"] for _p, e in page.events] == [e.id for e in routed[:3]]
    assert page.next == page.events[-1][0]  # a full page: read on from its last event
    rest = feed.read(page.next, 3, {PETITION_ROUTED.type})
    assert [e["id"] for _p, e in rest.events] == [e.id for e in routed[3:]]
    assert rest.next == rest.head  # fewer than asked: nothing of these types up to the head
    assert feed.read(0, 10, set()).events == []
    assert len(feed.read(0, 100, {PETITION_REGISTERED.type, PETITION_ROUTED.type}).events) == 10


def test_concurrent_relays_record_every_event_once(feed: IntegrationFeed) -> None:
    """Relays of different services append at once, and a re-published batch meets its first publication."""
    batches = [[registered_event(n) for n in range(b * 20, b * 20 + 20)] for b in range(6)]
    errors: list[BaseException] = []

    def relay(batch: list[IntegrationEvent]) -> None:
        try:
            for start in range(0, 20, 5):
                feed.append(batch[start:start + 5])
            feed.append(batch)  # published again
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=relay, args=(b,)) for b in batches for _twice in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    page = feed.read(0, 1000)
    ids = [e["id"] for _p, e in page.events]
    assert sorted(ids) == sorted(e.id for b in batches for e in b)
    positions = [p for p, _e in page.events]
    assert positions == sorted(set(positions))
    for batch in batches:  # each relay's events in its own order
        assert [i for i in ids if i in {e.id for e in batch}] == [e.id for e in batch]
