"""Publishing integration events with publisher confirms.

`publish()` returns only once the broker has confirmed the message (it is then on disk in every queue it was
routed to); any failure raises `PublishFailed`, and the caller keeps its position and tries again later.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from kombu import Connection, Producer

from shared.integration.envelope import IntegrationEvent
from shared.messaging import topology

log = logging.getLogger(__name__)


CONFIRM_TIMEOUT_SECONDS = 10


class PublishFailed(RuntimeError):
    pass


class ConfirmingPublisher:
    def __init__(self, amqp_uri: str, namespace: str) -> None:
        self._amqp_uri = amqp_uri
        self._namespace = namespace
        self._exchange = topology.events_exchange(namespace)
        self._connection: Connection | None = None
        self._producer: Producer | None = None

    def publish(self, events: Iterable[IntegrationEvent]) -> int:
        producer = self._ensure_producer()
        count = 0
        try:
            for event in events:
                producer.publish(
                    event.to_json(),
                    exchange=self._exchange,
                    routing_key=event.type,
                    headers=event.amqp_headers(),
                    retry=False,
                    timeout=CONFIRM_TIMEOUT_SECONDS,  # a half-open connection must not hang the relay
                    **event.amqp_properties(),
                )
                count += 1
        except Exception as error:  # any broker or socket error: the connection is not trusted again
            self.close()
            raise PublishFailed(f"publish failed after {count} confirmed: {error!r}") from error
        return count

    def _ensure_producer(self) -> Producer:
        if self._producer is None:
            try:
                connection = Connection(
                    self._amqp_uri, transport_options={"confirm_publish": True}, connect_timeout=5, heartbeat=0
                )
                connection.connect()
                topology.declare(connection, self._namespace)
                self._connection = connection
                self._producer = Producer(connection.default_channel)
            except Exception as error:
                self.close()
                raise PublishFailed(f"cannot reach the broker: {error!r}") from error
        return self._producer

    def close(self) -> None:
        connection, self._connection, self._producer = self._connection, None, None
        if connection is not None:
            try:
                connection.release()
            except Exception:  # noqa: BLE001 - a broken connection may fail to close; it is dropped either way
                log.debug("ignoring error while closing a broken broker connection", exc_info=True)
