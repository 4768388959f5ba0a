"""A nameko entrypoint that consumes integration events from the service's quorum queue.

    class RoutingService:
        @integration_event_handler
        def handle_petition_registered(self, event: IntegrationEvent) -> str: ...

The queue and its binding come from `shared.messaging.topology.SUBSCRIPTIONS` (service name + method name).
Delivery is at least once, so handlers must be idempotent: they return `PROCESSED` or `DUPLICATE`.
- Success: the message is acked after the handler returns (after its effect is committed).
- A message that is not a valid event of our published language: rejected at once to its dead-letter queue.
- Any other error: the message is requeued after a back-off that grows with its delivery count, so a database
  outage is ridden out instead of spinning; past the queue's delivery limit the broker dead-letters it.
"""

from __future__ import annotations

import logging
import time
from functools import partial

from kombu import Consumer as KombuConsumer
from nameko.exceptions import ContainerBeingKilled
from nameko.messaging import Consumer, QueueConsumer
from prometheus_client import Counter, Histogram

from shared.eventstore import DUPLICATE, PROCESSED
from shared.integration.envelope import CONTENT_TYPE, IntegrationEvent, InvalidIntegrationEvent
from shared.messaging import codec, topology

log = logging.getLogger(__name__)

RETRY_BACKOFF_MAX_SECONDS = 30.0

EVENTS_HANDLED = Counter(
    "xinfang_events_handled_total",
    "Integration events handled successfully, by outcome (processed, or duplicate: already processed before)",
    ["service", "handler", "outcome"],
)
EVENTS_FAILED = Counter(
    "xinfang_events_failed_total",
    "Integration event deliveries that failed, by what happened to the message (requeued or dead_lettered)",
    ["service", "handler", "disposition"],
)
HANDLER_SECONDS = Histogram(
    "xinfang_event_handler_duration_seconds",
    "Time spent in an integration event handler",
    ["service", "handler"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def retry_delay(delivery_count: int) -> float:
    return min(0.25 * (2 ** delivery_count), RETRY_BACKOFF_MAX_SECONDS)


class EventQueueConsumer(QueueConsumer):
    """nameko's queue consumer, but a message kombu cannot decode is dead-lettered, not fatal."""

    def get_consumers(self, consumer_cls, channel):  # noqa: ANN001, ANN201 - nameko's signature
        # Called after every (re)connection: make sure what we consume from exists, even if no relay ran yet.
        for provider in self._providers:
            topology.declare_on(channel, provider.namespace, (provider.subscription,))
        for provider in self._providers:
            consumer = consumer_cls(
                queues=[provider.queue],
                callbacks=[partial(self.handle_message, provider)],
                accept=[CONTENT_TYPE],
                on_decode_error=self._on_decode_error,
            )
            consumer.qos(prefetch_count=self.prefetch_count)
            self._consumers[provider] = consumer
        return self._consumers.values()

    @staticmethod
    def _on_decode_error(message, error) -> None:  # noqa: ANN001
        log.error("dead-lettering undecodable message %s: %s", message.delivery_info.get("routing_key"), error)
        message.reject(requeue=False)


class IntegrationEventConsumer(Consumer):
    queue_consumer = EventQueueConsumer()

    def __init__(self, **kwargs) -> None:  # noqa: ANN003
        super().__init__(queue=None, requeue_on_error=True, **kwargs)

    def setup(self) -> None:
        codec.register_codec()
        self.namespace = self.container.config.get("XINFANG_NAMESPACE", "xinfang")
        self.subscription = topology.subscription_for(self.container.service_name, self.method_name)
        self.queue = topology.consumer_queue(self.namespace, self.subscription)
        super().setup()

    def handle_message(self, body, message) -> None:  # noqa: ANN001
        service, handler = self.container.service_name, self.method_name
        try:
            event = IntegrationEvent.from_json(body)
        except InvalidIntegrationEvent as error:
            log.error("%s.%s: dead-lettering invalid event: %s", service, handler, error)
            EVENTS_FAILED.labels(service, handler, "dead_lettered").inc()
            message.reject(requeue=False)
            return
        started = time.monotonic()
        try:
            self.container.spawn_worker(
                self, (event,), {}, context_data={"correlation_id": event.correlation_id},
                handle_result=partial(self.handle_result, message, started),
            )
        except ContainerBeingKilled:
            self.queue_consumer.requeue_message(message)

    def handle_result(self, message, started, worker_ctx, result=None, exc_info=None):  # noqa: ANN001, ANN201
        service, handler = self.container.service_name, self.method_name
        HANDLER_SECONDS.labels(service, handler).observe(time.monotonic() - started)
        if exc_info is None:
            EVENTS_HANDLED.labels(service, handler, result if result in (PROCESSED, DUPLICATE) else PROCESSED).inc()
            self.queue_consumer.ack_message(message)
            return result, exc_info
        delivery_count = int((message.headers or {}).get("x-delivery-count") or 0)
        delay = retry_delay(delivery_count)
        log.warning("%s.%s failed (delivery %d), requeue in %.1fs: %r",
                    service, handler, delivery_count + 1, delay, exc_info[1])
        EVENTS_FAILED.labels(service, handler, "requeued").inc()
        time.sleep(delay)  # green under nameko: only this worker waits
        self.queue_consumer.requeue_message(message)
        return result, exc_info


integration_event_handler = IntegrationEventConsumer.decorator
