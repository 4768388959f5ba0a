"""Parking a message on its dead-letter queue with the reason it was refused.

A quorum queue dead-letters a rejected message by itself (`x-death` says when and from which queue, not why). A
consumer that refuses a message (not a valid event of our published language, a source it may not believe, a
content type it cannot decode) publishes instead a copy of it, with the reason in headers, to `<ns>.dead-letter`
with the queue's name as routing key (so it lands on `<queue>.dead-letter`, as a rejected one would), waits for the
broker's confirm, and only then acks the original. If the copy cannot be published, the consumer rejects the
original as before: nothing is lost, only the reason.

Headers of the copy (besides the original's own, body and properties unchanged):
- `x-xinfang-dead-letter-reason`: why, one line of at most `REASON_MAX_CHARS` characters (resident ID numbers,
  mobile numbers, e-mail addresses and query codes redacted; it may still quote a value of the message);
- `x-xinfang-dead-lettered-at`: when (ISO 8601, UTC);
- `x-xinfang-dead-letter-queue`: the queue the message was refused on.

deploy/rabbitmq/deadletters.py (the operators' CLI) reads them back, with RabbitMQ's `x-death` for a message the
broker dead-lettered itself (past the delivery limit).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import amqp
from kombu import Connection

from shared.language.integration.envelope import InvalidIntegrationEvent
from shared.runtime.observability import redact

log = logging.getLogger(__name__)

REASON_HEADER = "x-xinfang-dead-letter-reason"
AT_HEADER = "x-xinfang-dead-lettered-at"
QUEUE_HEADER = "x-xinfang-dead-letter-queue"
# The broker-validated user that published the original (its `user_id` property, which a copy published by another
# user may not carry: RabbitMQ refuses a user_id that is not the publisher's own).
PUBLISHED_BY_HEADER = "x-xinfang-published-by"
OUR_HEADERS = (REASON_HEADER, AT_HEADER, QUEUE_HEADER, PUBLISHED_BY_HEADER)
REASON_MAX_CHARS = 500
CONFIRM_TIMEOUT_SECONDS = 10
# Set by the broker on a redelivery; meaningless on a copy (and the dead-letter queue counts its own).
_BROKER_HEADERS = ("x-delivery-count",)
# `user_id`: see PUBLISHED_BY_HEADER; `expiration`: a parked message must not expire (the broker's own
# dead-lettering drops it too).
_DROPPED_PROPERTIES = ("user_id", "expiration")


def reason_of(error: BaseException | str) -> str:
    """The reason header's text: an InvalidIntegrationEvent's message, anything else prefixed by its class."""
    if isinstance(error, str):
        text = error
    elif isinstance(error, InvalidIntegrationEvent):
        text = str(error)
    else:
        text = f"{type(error).__name__}: {error}"
    text = redact(" ".join(text.split()))
    return text if len(text) <= REASON_MAX_CHARS else text[:REASON_MAX_CHARS - 1] + "…"


def copy_properties(properties: dict[str, Any], queue: str, reason: str, now: datetime | None = None) -> dict[str, Any]:
    """The original's AMQP properties (py-amqp's names, headers as `application_headers`) for its dead-letter copy."""
    copied = {k: v for k, v in properties.items() if k not in _DROPPED_PROPERTIES and v is not None}
    headers = {k: v for k, v in (properties.get("application_headers") or {}).items() if k not in _BROKER_HEADERS}
    headers[REASON_HEADER] = reason_of(reason)
    headers[AT_HEADER] = (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="milliseconds")
    headers[QUEUE_HEADER] = queue
    if properties.get("user_id"):
        headers[PUBLISHED_BY_HEADER] = str(properties["user_id"])
    copied["application_headers"] = headers
    return copied


class DeadLetterPublisher:
    """Publishes dead-letter copies with publisher confirms on a connection of its own (the consumer's connection
    belongs to nameko's consume loop). One per process; safe to call from several (green) threads."""

    def __init__(self, connect: Callable[[], Connection]) -> None:
        """`connect`: a new, unconnected kombu Connection with the service's own broker user (which may write on
        `<ns>.dead-letter`: shared/runtime/messaging/permissions.py)."""
        self._connect = connect
        self._connection: Connection | None = None
        self._channel: Any = None
        self._lock = threading.Lock()

    def park(self, body: bytes | str, properties: dict[str, Any], *, exchange: str, queue: str,
             reason: str) -> bool:
        """Publish the copy; True once the broker has confirmed it (then, and only then, ack the original)."""
        message = amqp.Message(body, **copy_properties(properties, queue, reason))
        with self._lock:
            for attempt in (1, 2):  # a cached connection may have died since the last dead letter: one fresh try
                try:
                    channel = self._ensure_channel()
                    # mandatory: an unroutable copy (no dead-letter queue) is returned, which fails the publish.
                    channel.basic_publish(message, exchange=exchange, routing_key=queue, mandatory=True,
                                          timeout=CONFIRM_TIMEOUT_SECONDS)
                    return True
                except Exception as error:  # noqa: BLE001 - the caller falls back to a plain reject
                    self._close()  # a failed or unanswered confirm leaves the channel's state unknown
                    log.warning("dead-letter copy to %s not confirmed (attempt %d): %r", queue, attempt, error)
        return False

    def _ensure_channel(self) -> Any:
        if self._channel is None:
            connection = self._connect()
            try:
                connection.connect()
                self._channel = connection.channel()
            except Exception:
                self._connection = connection
                self._close()
                raise
            self._connection = connection
        return self._channel

    def _close(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None:
            try:
                connection.release()
            except Exception:  # noqa: BLE001 - a broken connection may fail to close; it is dropped either way
                log.debug("ignoring error while closing the dead-letter connection", exc_info=True)

    def close(self) -> None:
        with self._lock:
            self._close()


def confirming_connection(amqp_uri: str, **options: Any) -> Connection:
    """A kombu Connection whose channels wait for the broker's confirm of every publish."""
    return Connection(amqp_uri, heartbeat=0, connect_timeout=5,
                      transport_options={"confirm_publish": True}, **options)
