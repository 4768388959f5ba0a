"""The PostgreSQL recorder's insert path (shared/runtime/recorders.py) against the library's own, on a real PostgreSQL.

Ours writes a batch (tracking records and events) with one call of a database function, instead of the library's
`insert_events` (eventsourcing is pinned). These tests fail if what ours stores differs by one byte from what the
library's recorder stores and reads back, if the notification ids it returns are not the stored ones in order, if
the wake-up the log followers listen for is not sent, or if a refused batch leaves anything behind.
"""

from __future__ import annotations

import uuid

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresProcessRecorder

from shared.runtime.eventstore import postgres_conninfo
from shared.runtime.recorders import PostgresRecorderWithTrackings
from shared.runtime.settings import PlatformSettings

# Bytes that text-format escaping must get right: quotes, backslashes, braces, commas, NUL, non-ASCII.
AWKWARD_STATE = b'{"a": "\\"quoted\\" \\\\ {x,y} (1,2)"}\x00\xff\xe4\xbf\xa1'


def events(*pairs: tuple[uuid.UUID, int]) -> list[StoredEvent]:
    return [StoredEvent(originator_id=originator, originator_version=version, topic=f"tests:Topic{version}",
                        state=AWKWARD_STATE + str(version).encode()) for originator, version in pairs]


@pytest.fixture
def recorders(namespace):
    settings = PlatformSettings(XINFANG_ENV="test")
    made = []

    def build(kind: type[PostgresProcessRecorder], name: str) -> PostgresProcessRecorder:
        schema = f"{namespace}_{name}"
        datastore = PostgresDatastore(dbname=settings.postgres_dbname, host=settings.postgres_host,
                                      port=str(settings.postgres_port), user=settings.postgres_user,
                                      password=settings.postgres_password, schema=schema,
                                      single_row_tracking=False)  # as the services run it
        with datastore.transaction(commit=True) as cursor:
            cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        recorder = kind(datastore, events_table_name="events", tracking_table_name="tracking")
        recorder.create_table()
        made.append(datastore)
        return recorder

    yield build  # the schemas go with the test session's namespace
    for datastore in made:
        datastore.close()


def stored_rows(recorder: PostgresProcessRecorder) -> list[tuple]:
    return [(n.id, n.originator_id, n.originator_version, n.topic, bytes(n.state))
            for n in recorder.select_notifications(start=None, limit=100)]


def test_ours_stores_what_the_librarys_stores_byte_for_byte(recorders):
    ours = recorders(PostgresRecorderWithTrackings, "ours")
    library = recorders(PostgresProcessRecorder, "library")
    a, b = uuid.uuid4(), uuid.uuid4()
    batches = [events((a, 1), (b, 1), (a, 2)), events((b, 2)), events((a, 3), (a, 4), (b, 3))]

    returned = [ours.insert_events(batch) for batch in batches]
    for batch in batches:
        library.insert_events(batch)

    assert stored_rows(ours) == stored_rows(library)
    assert [n for ids in returned for n in ids] == [row[0] for row in stored_rows(ours)]
    assert [e.originator_version for e in ours.select_events(a)] == [1, 2, 3, 4]


def test_an_insert_wakes_the_log_followers(recorders):
    ours = recorders(PostgresRecorderWithTrackings, "ours")
    settings = PlatformSettings(XINFANG_ENV="test")
    with psycopg.connect(postgres_conninfo(settings), autocommit=True) as listener:
        listener.execute(f'LISTEN "{ours.channel_name}"')
        ours.insert_events(events((uuid.uuid4(), 1)))
        ours.insert_events([], trackings=[Tracking(application_name="upstream", notification_id=1)])

        woken = list(listener.notifies(timeout=2))

    assert [n.channel for n in woken] == [ours.channel_name]  # events wake them; a tracking record alone does not


def test_the_wake_up_names_each_recorded_topic_once_and_says_nothing_when_they_would_not_fit(recorders):
    ours = recorders(PostgresRecorderWithTrackings, "ours")
    settings = PlatformSettings(XINFANG_ENV="test")
    a = uuid.uuid4()
    crowded = [StoredEvent(originator_id=a, originator_version=v, topic=f"tests:{'T' * 100}{v}", state=b"{}")
               for v in range(3, 103)]  # 100 distinct topics of 107 characters: over PostgreSQL's 8000 bytes
    with psycopg.connect(postgres_conninfo(settings), autocommit=True) as listener:
        listener.execute(f'LISTEN "{ours.channel_name}"')
        ours.insert_events(events((a, 1))[:1] + [StoredEvent(a, 2, "tests:Topic1", b"{}")])
        ours.insert_events(crowded)

        woken = list(listener.notifies(timeout=2, stop_after=2))

    assert [n.payload for n in woken] == ["tests:Topic1", ""]
    assert len(ours.select_notifications(start=None, limit=200)) == 102  # the crowded batch was stored all the same


def test_a_batchs_trackings_are_recorded_with_its_events(recorders):
    ours = recorders(PostgresRecorderWithTrackings, "ours")
    trackings = [Tracking(application_name="upstream", notification_id=n) for n in (3, 1, 2)]

    ours.insert_events(events((uuid.uuid4(), 1)), trackings=trackings)

    assert all(ours.has_tracking_id("upstream", n) for n in (1, 2, 3))
    assert not ours.has_tracking_id("upstream", 4)


@pytest.mark.parametrize("conflict", ["tracking", "version"])
def test_a_refused_batch_stores_nothing(recorders, conflict):
    ours = recorders(PostgresRecorderWithTrackings, "ours")
    a = uuid.uuid4()
    ours.insert_events(events((a, 1)), trackings=[Tracking(application_name="upstream", notification_id=1)])
    # A redelivered tracking record, or an aggregate that moved on meanwhile, refuses the whole batch.
    again = Tracking(application_name="upstream", notification_id=1 if conflict == "tracking" else 2)
    refused = events((uuid.uuid4(), 1), (a, 1 if conflict == "version" else 2))

    with pytest.raises(IntegrityError):
        ours.insert_events(refused, trackings=[again])

    assert len(stored_rows(ours)) == 1
    assert not ours.has_tracking_id("upstream", 2)
