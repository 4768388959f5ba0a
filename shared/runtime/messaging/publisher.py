"""Publishing integration events with publisher confirms.

`publish()` returns only once the broker has confirmed every message of the batch (each is then on disk in every
queue it was routed to); any failure raises `PublishFailed`, and the caller keeps its position and tries again
later (a re-published event is deduplicated by its consumers).

A batch is sent, then its confirms are awaited together: one round trip per batch instead of one per message,
which is what the library's `confirm_publish` option does. The broker may confirm in any order and several at a
time (`multiple`), so the publisher counts delivery tags itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from amqp.exceptions import AccessRefused
from kombu import Connection, Producer

from shared.language.integration.envelope import IntegrationEvent
from shared.runtime.messaging import topology

log = logging.getLogger(__name__)


CONFIRM_TIMEOUT_SECONDS = 10


class PublishFailed(RuntimeError):
    pass


class Confirms:
    """Delivery tags published on a confirm-mode channel and not yet acknowledged by the broker."""

    def __init__(self) -> None:
        self.last_tag = 0  # tags count from 1 on a channel once it is in confirm mode
        self.outstanding: set[int] = set()
        self.nacked: list[int] = []

    def sent(self) -> None:
        self.last_tag += 1
        self.outstanding.add(self.last_tag)

    def _settle(self, tag: int, multiple: bool) -> list[int]:
        settled = [t for t in self.outstanding if t <= tag] if multiple else [tag]
        self.outstanding.difference_update(settled)
        return settled

    def on_ack(self, tag: int, multiple: bool) -> None:
        self._settle(tag, multiple)

    def on_nack(self, tag: int, multiple: bool) -> None:
        self.nacked.extend(self._settle(tag, multiple))

    def listen(self, channel: object) -> None:
        """Count the broker's answers on `channel` and put it in confirm mode."""
        channel.events["basic_ack"].add(self.on_ack)  # type: ignore[attr-defined]
        channel.events["basic_nack"].add(self.on_nack)  # type: ignore[attr-defined]
        channel.confirm_select()  # type: ignore[attr-defined]

    def wait(self, connection: Connection, what: str = "messages") -> None:
        """Until the broker answered every publish; TimeoutError after CONFIRM_TIMEOUT_SECONDS, RuntimeError if it
        refused any (basic.nack)."""
        deadline = time.monotonic() + CONFIRM_TIMEOUT_SECONDS
        while self.outstanding and not self.nacked:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{len(self.outstanding)} {what} not confirmed in {CONFIRM_TIMEOUT_SECONDS}s")
            try:
                connection.drain_events(timeout=remaining)
            except TimeoutError:
                continue  # the deadline decides
        if self.nacked:
            raise RuntimeError(f"the broker refused {len(self.nacked)} {what} (basic.nack)")


class ConfirmingPublisher:
    def __init__(self, amqp_uri: str, namespace: str, service: str | None = None) -> None:
        """`service`: the publishing service, whose broker user may declare only the queues its events feed
        (shared/runtime/messaging/permissions.py); without it, every subscription's queue is declared."""
        self._amqp_uri = amqp_uri
        self._namespace = namespace
        self._subscriptions = tuple(s for s in topology.SUBSCRIPTIONS if service is None or s.publisher == service)
        self._connection: Connection | None = None
        self._producer: Producer | None = None
        self._confirms = Confirms()
        self._declared: set[str] = set()  # the exchanges declared on this connection

    def publish(self, events: Iterable[IntegrationEvent]) -> int:
        producer = self._ensure_producer()
        confirms = self._confirms
        count = 0
        try:
            for event in events:
                if event.event_type.exchange not in self._declared:  # e.g. province.outbound: no queue of ours
                    topology.exchange_for(self._namespace, event.event_type)(producer.channel).declare()
                    self._declared.add(event.event_type.exchange)
                producer.publish(
                    event.to_json(),
                    exchange=f"{self._namespace}.{event.event_type.exchange}",  # topology.exchange_for's name
                    routing_key=event.type,
                    headers=event.amqp_headers(),
                    retry=False,
                    timeout=CONFIRM_TIMEOUT_SECONDS,  # a half-open connection must not hang the relay
                    **event.amqp_properties(),
                )
                confirms.sent()
                count += 1
            self._await_confirms()
        except Exception as error:  # any broker or socket error: the connection is not trusted again
            self.close()
            if isinstance(error, AccessRefused):  # never in a correct deployment: say so, and keep the events
                raise PublishFailed(f"the broker refused this process's user ({error!r}): its permissions "
                                    "(shared/runtime/messaging/permissions.py) do not cover this event type; nothing is "
                                    "published until they do") from error
            raise PublishFailed(f"publish of {count} events not confirmed: {error!r}") from error
        return count

    def _await_confirms(self) -> None:
        if self._connection is None:
            raise PublishFailed("no connection to await confirms on")
        self._confirms.wait(self._connection)

    def _ensure_producer(self) -> Producer:
        if self._producer is None:
            try:
                connection = Connection(self._amqp_uri, connect_timeout=5, heartbeat=0)
                connection.connect()
                topology.declare_on(connection.default_channel, self._namespace, self._subscriptions)
                self._declared = {"events", *(t.exchange for s in self._subscriptions for t in s.event_types)}
                channel = connection.default_channel
                self._confirms = Confirms()
                self._confirms.listen(channel)
                self._connection = connection
                self._producer = Producer(channel)
            except Exception as error:
                self.close()
                raise PublishFailed(f"cannot reach or use the broker: {error!r}") from error
        return self._producer

    def close(self) -> None:
        connection, self._connection, self._producer = self._connection, None, None
        if connection is not None:
            try:
                connection.release()
            except Exception:  # noqa: BLE001 - a broken connection may fail to close; it is dropped either way
                log.debug("ignoring error while closing a broken broker connection", exc_info=True)
