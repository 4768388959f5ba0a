"""Seeing a stalled log follower, on a real PostgreSQL (and SQLite): a relay wedged in a batch shows its lag
growing and its last progress frozen, so the stall alert's condition becomes true, and both clear once it moves on;
a LISTEN connection terminated under a follower is logged at WARNING with its reason, counted, and reopened while
the follower keeps following."""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
import pytest
from prometheus_client import REGISTRY, generate_latest

from services.intake.application import IntakeApplication
from services.intake.settings import IntakeSettings
from services.intake.translate import to_integration_event
from shared.language.contracts.registration import RegisterPetition
from shared.runtime.eventstore import postgres_conninfo
from shared.runtime.follower import LogFollower, StorePosition, single_active_lock
from shared.runtime.outbox import OutboxRelay
from tests.support import samples
from tests.support.platform import metric_value
from tests.support.waiting import wait_for

PATIENCE = 30.0  # seconds; an upper bound for waits, never expected to be reached
WATCH_INTERVAL = "0.1"  # FOLLOWER_WATCH_INTERVAL, seconds: short, so that the test does not wait for the default
# The alert's "no progress for" (30 seconds in deploy/prometheus/alerts.yml), scaled down like the watch interval.
STALL_AFTER = 1.0
RELAY = "intake.outbox"


def scrape() -> str:
    """What /metrics serves: this process's registry in the exposition format."""
    return generate_latest(REGISTRY).decode()


def stall_alert(text: str, follower: str, now: float, after: float) -> bool:
    """The stall alert's expression (docs/operations.md) over one scrape of one instance:
        max by (follower) (xinfang_follower_lag_events) > 0
        and on (follower)
        time() - max by (follower) (xinfang_follower_last_progress_timestamp_seconds) > after"""
    lag = metric_value(text, "xinfang_follower_lag_events", follower=follower)
    progress = metric_value(text, "xinfang_follower_last_progress_timestamp_seconds", follower=follower)
    return lag > 0 and now - progress > after


def checked(text: str, follower: str) -> float:
    return metric_value(text, "xinfang_follower_lag_checked_timestamp_seconds", follower=follower)


def progress(text: str, follower: str) -> float:
    return metric_value(text, "xinfang_follower_last_progress_timestamp_seconds", follower=follower)


def relay_lags(text: str) -> tuple[float, float]:
    """The relay's lag, as the follower's gauge and as the relay's own (xinfang_outbox_lag_events) have it."""
    return (metric_value(text, "xinfang_follower_lag_events", follower=RELAY),
            metric_value(text, "xinfang_outbox_lag_events", store="intake"))


def register(app: IntakeApplication, count: int) -> None:
    for _ in range(count):
        app.register_petition(RegisterPetition.model_validate(samples.petition()))


@pytest.fixture
def settings(settings_for, request) -> IntakeSettings:
    store = getattr(request, "param", "postgres")
    return settings_for(IntakeSettings, store=store, FOLLOWER_WATCH_INTERVAL=WATCH_INTERVAL)


@pytest.fixture
def intake(settings, closing) -> IntakeApplication:
    return closing(IntakeApplication(settings))


@pytest.fixture
def following() -> Iterator[Any]:
    """Run a follower (anything with run() and stop()) on a thread; stopped and joined after the test."""
    started: list[tuple[Any, threading.Thread]] = []

    def start(follower: Any) -> None:
        thread = threading.Thread(target=follower.run, daemon=True)
        thread.start()
        started.append((follower, thread))

    yield start
    for follower, thread in started:
        follower.stop()
        thread.join(PATIENCE)
        assert not thread.is_alive()


@pytest.mark.parametrize("settings", ["postgres", "sqlite"], indirect=True)
def test_a_wedged_relay_shows_its_lag_and_no_progress_until_it_moves_on(settings, intake, closing, following):
    entered, release = threading.Event(), threading.Event()

    def wedged_translate(event: Any, sequence: int, source: str) -> Any:
        entered.set()  # the relay is in its batch, and stays there until the test releases it
        release.wait(PATIENCE)
        return to_integration_event(event, sequence, source)

    relay = closing(OutboxRelay(settings, "intake", intake, wedged_translate))
    since = time.time()  # gauges of earlier tests in this process may still hold their values
    try:
        following(relay)
        wait_for(lambda: checked(scrape(), RELAY) > since, timeout=PATIENCE, what="the lag's first measurement")
        register(intake, 1)
        assert entered.wait(PATIENCE)
        register(intake, 2)  # the head moves on; the wedged relay's position does not

        # (a) the lag, as the follower's gauge and the relay's own have it, is the whole store (nothing recorded)
        head = intake.recorder.max_notification_id()
        wait_for(lambda: relay_lags(scrape()) == (head, head), timeout=PATIENCE, what="the wedged relay's lag")
        frozen = progress(scrape(), RELAY)

        # (b) its last progress stops: the watcher measures again and again, and finds none
        wait_for(lambda: checked(scrape(), RELAY) > frozen + 5 * float(WATCH_INTERVAL), timeout=PATIENCE,
                 what="more measurements of the wedged relay")
        assert progress(scrape(), RELAY) == frozen

        # (c) the alert's condition becomes true
        wait_for(lambda: stall_alert(scrape(), RELAY, time.time(), STALL_AFTER), timeout=PATIENCE,
                 what="the stall alert's condition")
        assert progress(scrape(), RELAY) == frozen
    finally:
        release.set()

    # Unwedged: the relay publishes the backlog, its lag returns to 0 and the alert's condition clears.
    wait_for(lambda: relay_lags(scrape()) == (0, 0) and checked(scrape(), RELAY) > frozen, timeout=PATIENCE,
             what="the relay to catch up")
    text = scrape()
    assert progress(text, RELAY) > frozen
    assert not stall_alert(text, RELAY, time.time(), STALL_AFTER)
    assert relay.position.get() == intake.recorder.max_notification_id()


def listen_backends(settings: IntakeSettings, application_name: str) -> list[int]:
    """The backends of a follower's LISTEN connection, as an operator finds them."""
    with psycopg.connect(postgres_conninfo(settings), autocommit=True) as connection:
        rows = connection.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s"
                                  " AND query LIKE 'LISTEN%%'", (application_name,)).fetchall()
    return [pid for (pid,) in rows]


def reconnects(follower: str) -> float:
    return REGISTRY.get_sample_value("xinfang_follower_listen_reconnects_total", {"follower": follower}) or 0


def test_a_terminated_listen_connection_is_logged_counted_and_reopened(settings, intake, closing, following, caplog):
    caplog.set_level(logging.INFO, logger="shared.runtime.follower")
    name = f"test.listen-{uuid.uuid4().hex[:8]}"  # its own name: no other process's follower is touched
    position = closing(StorePosition(settings, "intake", "listen-test"))
    handled: list[int] = []

    def handle(items: Sequence[tuple[int, Any]]) -> None:
        handled.extend(sequence for sequence, _event in items)

    follower = LogFollower(name, intake, handle, position, single_active_lock(settings, "intake", "listen-test"),
                           settings=settings)
    following(follower)
    application_name = f"xinfang-listen {name}"
    [listening] = wait_for(lambda: listen_backends(settings, application_name), timeout=PATIENCE, what="the LISTEN connection")
    register(intake, 1)
    wait_for(lambda: handled, timeout=PATIENCE, what="the follower to follow")
    before = reconnects(name)

    with psycopg.connect(postgres_conninfo(settings), autocommit=True) as connection:
        assert connection.execute("SELECT pg_terminate_backend(%s)", (listening,)).fetchone()[0]

    warning = wait_for(lambda: [r for r in caplog.records if r.levelno == logging.WARNING and name in r.getMessage()],
                       timeout=PATIENCE, what="the WARNING about the lost LISTEN connection")[0].getMessage()
    # With its reason: the connection's error (libpq's "server closed the connection unexpectedly", or the
    # server's own AdminShutdown when it is read first).
    assert re.search(r"LISTEN connection lost \((OperationalError|AdminShutdown 57P01): \w", warning), warning
    assert reconnects(name) == before + 1

    # Listening again on a new connection, and still following.
    [again] = wait_for(lambda: listen_backends(settings, application_name), timeout=PATIENCE, what="a new LISTEN connection")
    assert again != listening
    register(intake, 2)
    head = intake.recorder.max_notification_id()
    wait_for(lambda: handled and handled[-1] == head, timeout=PATIENCE, what="the follower to handle the new events")
    wait_for(lambda: position.get() == head, timeout=PATIENCE, what="the follower to record its position")
    assert any("listening for store notifications again" in r.getMessage() for r in caplog.records
               if name in r.getMessage())
    assert reconnects(name) == before + 1
