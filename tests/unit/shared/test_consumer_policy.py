"""The consumer's retry policy: how long it waits before trying again, and which errors pass by themselves
(retried in-process, the message kept unacknowledged) rather than count against the message."""

from __future__ import annotations

import eventsourcing.persistence
import psycopg
import pymongo.errors
import pytest

from shared.runtime.eventstore import ConcurrencyConflict, NotYet
from shared.runtime.messaging.consumer import PASSING, RETRY_BACKOFF_MAX_SECONDS, retry_delay


def test_the_first_retry_waits_the_first_delay() -> None:
    assert retry_delay(0) == 0.25
    assert retry_delay(0, first=0.05) == 0.05


def test_the_delay_doubles_with_each_attempt() -> None:
    delays = [retry_delay(attempt) for attempt in range(6)]

    assert delays == [0.25, 0.5, 1.0, 2.0, 4.0, 8.0]


def test_the_delay_never_shrinks_as_attempts_grow() -> None:
    for first in (0.05, 0.25):
        delays = [retry_delay(attempt, first=first) for attempt in range(200)]

        assert delays == sorted(delays)


@pytest.mark.parametrize(
    ("first", "first_capped_attempt"),
    [
        pytest.param(0.25, 7, id="0.25 s doubled 7 times is 32 s"),
        pytest.param(0.05, 10, id="0.05 s doubled 10 times is 51.2 s"),
    ],
)
def test_the_delay_is_capped_at_the_back_off_maximum(first: float, first_capped_attempt: int) -> None:
    delays = [retry_delay(attempt, first=first) for attempt in range(200)]

    assert retry_delay(first_capped_attempt - 1, first=first) < RETRY_BACKOFF_MAX_SECONDS
    assert set(delays[first_capped_attempt:]) == {RETRY_BACKOFF_MAX_SECONDS}
    assert max(delays) == RETRY_BACKOFF_MAX_SECONDS


def test_the_cap_is_half_a_minute() -> None:
    assert RETRY_BACKOFF_MAX_SECONDS == 30.0


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(NotYet("the case is not opened yet"), id="NotYet"),
        pytest.param(ConcurrencyConflict("other writers moved on"), id="ConcurrencyConflict"),
        pytest.param(eventsourcing.persistence.OperationalError("the store is down"),
                     id="eventsourcing OperationalError"),
        pytest.param(psycopg.OperationalError("connection refused"), id="psycopg OperationalError"),
        pytest.param(pymongo.errors.AutoReconnect("primary stepped down"), id="pymongo AutoReconnect"),
    ],
)
def test_conditions_that_pass_by_themselves_are_classified_as_passing(error: Exception) -> None:
    assert isinstance(error, PASSING)


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(KeyError("organ"), id="KeyError"),
        pytest.param(ValueError("not a petition"), id="ValueError"),
    ],
)
def test_errors_in_the_handler_or_the_message_are_not_passing(error: Exception) -> None:
    assert not isinstance(error, PASSING)


@pytest.mark.parametrize("attempt", [1023, 1024, 10**6])
def test_an_outage_of_any_length_keeps_the_delay_at_the_cap_without_overflowing(attempt: int) -> None:
    assert retry_delay(attempt) == RETRY_BACKOFF_MAX_SECONDS
