"""The log followers' wake-up on a real PostgreSQL: the services' recorder names the topics each insert recorded
in its NOTIFY, and a follower of some topics sleeps on through a notification that names none of them."""

from __future__ import annotations

import threading
import uuid

import psycopg
import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresDatastore
from prometheus_client import REGISTRY

from shared.runtime.eventstore import postgres_conninfo
from shared.runtime.follower import PostgresNotifications
from shared.runtime.recorders import PostgresRecorderWithTrackings
from shared.runtime.settings import PlatformSettings
from tests.support.waiting import wait_for

PATIENCE = 30.0  # seconds; an upper bound, never expected to be reached
WANTED, OTHER = "tests:Wanted", "tests:Other"


@pytest.fixture
def recorder(namespace):
    settings = PlatformSettings(XINFANG_ENV="test")
    schema = f"{namespace}_wakeup_{uuid.uuid4().hex[:6]}"
    datastore = PostgresDatastore(dbname=settings.postgres_dbname, host=settings.postgres_host,
                                  port=str(settings.postgres_port), user=settings.postgres_user,
                                  password=settings.postgres_password, schema=schema, single_row_tracking=False)
    with datastore.transaction(commit=True) as cursor:
        cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    recorder = PostgresRecorderWithTrackings(datastore, events_table_name="events", tracking_table_name="tracking")
    recorder.create_table()
    yield recorder
    datastore.close()


class Waiter:
    """One `wait` of a follower's wake-up on a thread of its own, listening before it is started."""

    def __init__(self, recorder: PostgresRecorderWithTrackings, topics: tuple[str, ...]) -> None:
        self.name = f"test.{uuid.uuid4().hex[:8]}"
        self.wakeup = PostgresNotifications(postgres_conninfo(PlatformSettings(XINFANG_ENV="test")),
                                            recorder.channel_name, self.name)
        self.wakeup.wait(0.001)  # connects and LISTENs
        self.thread = threading.Thread(target=self.wakeup.wait, args=(PATIENCE, topics), daemon=True)
        self.thread.start()

    @property
    def passed(self) -> float:
        return REGISTRY.get_sample_value("xinfang_follower_notifications_passed_total", {"follower": self.name}) or 0

    def woken(self) -> bool:
        self.thread.join(PATIENCE)
        return not self.thread.is_alive()

    def close(self) -> None:
        self.wakeup.close()


def record(recorder: PostgresRecorderWithTrackings, *topics: str) -> None:
    originator = uuid.uuid4()
    recorder.insert_events([StoredEvent(originator, version, topic, b"{}")
                            for version, topic in enumerate(topics, start=1)])


def test_a_follower_sleeps_through_other_topics_and_wakes_for_its_own(recorder):
    waiter = Waiter(recorder, (WANTED,))
    try:
        record(recorder, OTHER, OTHER)
        wait_for(lambda: waiter.passed == 1, timeout=PATIENCE, what="the other topic's notification passed over")
        assert waiter.thread.is_alive()

        record(recorder, OTHER, WANTED)

        assert waiter.woken()
        assert waiter.passed == 1
    finally:
        waiter.close()


def test_a_notification_that_names_no_topic_wakes_every_follower(recorder):
    waiter = Waiter(recorder, (WANTED,))
    try:
        with psycopg.connect(postgres_conninfo(PlatformSettings(XINFANG_ENV="test")), autocommit=True) as other:
            other.execute(f'NOTIFY "{recorder.channel_name}"')  # a writer that does not say what it recorded

        assert waiter.woken()
        assert waiter.passed == 0
    finally:
        waiter.close()


def test_a_follower_of_every_topic_wakes_for_any(recorder):
    waiter = Waiter(recorder, ())
    try:
        record(recorder, OTHER)

        assert waiter.woken()
    finally:
        waiter.close()


def test_a_gathering_sleep_reads_and_drops_what_is_notified_meanwhile(recorder):
    """A gathering follower under steady load sleeps instead of waiting (shared.runtime.follower.Gathering); it must
    still read its notifications, or the server's notification queue could not move past them."""
    name = f"test.{uuid.uuid4().hex[:8]}"
    wakeup = PostgresNotifications(postgres_conninfo(PlatformSettings(XINFANG_ENV="test")), recorder.channel_name, name)
    try:
        wakeup.wait(0.001)  # connects and LISTENs
        sleeping = threading.Thread(target=wakeup.sleep, args=(1.0,), daemon=True)
        sleeping.start()
        record(recorder, WANTED)
        record(recorder, WANTED)
        sleeping.join(PATIENCE)
        assert not sleeping.is_alive()
        assert REGISTRY.get_sample_value("xinfang_follower_notifications_passed_total", {"follower": name}) == 2

        # Nothing is left to read: the next wait runs its time out instead of returning at once for old news.
        started = threading.Event()
        waiting = threading.Thread(target=lambda: (started.set(), wakeup.wait(0.3, (WANTED,))), daemon=True)
        waiting.start()
        assert started.wait(PATIENCE)
        waiting.join(0.15)
        assert waiting.is_alive()
        waiting.join(PATIENCE)
    finally:
        wakeup.close()
