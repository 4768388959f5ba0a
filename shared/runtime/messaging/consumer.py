"""A nameko entrypoint that consumes integration events from the service's quorum queue.

    class RoutingService:
        @integration_event_handler
        def handle_petition_registered(self, event: IntegrationEvent) -> str: ...

The queue, its binding and the one publisher whose events it accepts come from
`shared.runtime.messaging.topology.SUBSCRIPTIONS` (service name + method name). Delivery is at least once, so handlers
must be idempotent: they return `PROCESSED` or `DUPLICATE`.

- Success: the message is acked after the handler returns (after its effect is committed).
- A message that is not a valid event of our published language, or comes from another publisher: rejected at
  once to its dead-letter queue, with the reason in a header (shared/runtime/messaging/deadletter.py; the operators'
  CLI: deploy/rabbitmq/deadletters.py). Nothing about such a message may stop the consumer.
- A passing condition (the database is down, an event arrived before what it builds on, a concurrent writer):
  the handler is run again in-process with a growing back-off, the message unacknowledged meanwhile, so the
  broker's delivery count does not grow and an outage of any length is ridden out. The back-off holds no worker:
  the events a waiting one builds on (from another queue) must still find one.
- Any other error: the message is requeued after a back-off growing with its delivery count; past the queue's
  delivery limit the broker dead-letters it.

Expected conditions (the passing ones, a message its handler refuses) are declared to nameko as expected, and the
consumer's own log says what became of each (DEBUG for an event that came early, WARNING for an outage or a parked
message); nameko's own record of them is dropped (shared/runtime/nameko_support.py). Only an unexpected error is
logged at ERROR.

Stopping (SIGTERM: `nameko run` stops the container): the queues' consumers are cancelled at once; what is being
handled finishes and is acked (the connection stays open until then), a message waiting in the in-process retry is
returned to its queue at once, and a message delivered but not yet started is returned unhandled. Nothing is lost
(an unacked message goes back to its queue), and nothing is applied twice (tracking; a redelivery is a duplicate).
"""

from __future__ import annotations

import logging
import threading
import time
from functools import partial
from typing import Any

import psycopg
import psycopg_pool
from eventsourcing import persistence
from nameko.constants import AMQP_SSL_CONFIG_KEY, LOGIN_METHOD_CONFIG_KEY
from nameko.exceptions import ContainerBeingKilled
from nameko.messaging import Consumer, QueueConsumer
from prometheus_client import Counter, Histogram
from pymongo.errors import ConnectionFailure

from shared.language.integration import upcasting
from shared.language.integration.envelope import IntegrationEvent, InvalidIntegrationEvent
from shared.runtime.eventstore import DUPLICATE, PROCESSED, ConcurrencyConflict, NotYet
from shared.runtime.messaging import codec as _codec  # registers the CloudEvents serializer
from shared.runtime.messaging import deadletter, topology
from shared.runtime.nameko_support import quiet_expected_errors
from shared.runtime.observability import describe_error
from shared.runtime.settings import county_code_from_environment, province_sources_from_environment

log = logging.getLogger(__name__)

RETRY_BACKOFF_MAX_SECONDS = 30.0
PASSING = (
    NotYet, ConcurrencyConflict,
    persistence.OperationalError, persistence.InterfaceError, psycopg.OperationalError, psycopg.InterfaceError,
    psycopg_pool.PoolTimeout, ConnectionFailure, ConnectionError, TimeoutError,
)

EVENTS_HANDLED = Counter(
    "xinfang_events_handled_total",
    "Integration events handled successfully, by outcome (processed, or duplicate: already processed before)",
    ["service", "handler", "outcome"],
)
EVENTS_FAILED = Counter(
    "xinfang_events_failed_total",
    "Integration event deliveries that failed, by what happened next (retried in-process, requeued, dead_lettered)",
    ["service", "handler", "disposition"],
)
HANDLER_SECONDS = Histogram(
    "xinfang_event_handler_duration_seconds",
    "Time spent in an integration event handler",
    ["service", "handler"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def retry_delay(attempt: int, first: float = 0.25) -> float:
    # The exponent is bounded first: an outage of any length (thousands of attempts) must not overflow.
    return min(first * (2 ** min(attempt, 32)), RETRY_BACKOFF_MAX_SECONDS)


class EventQueueConsumer(QueueConsumer):
    """nameko's queue consumer, but it declares what it consumes from, and a message kombu cannot decode is
    dead-lettered, not fatal; what it dead-letters carries the reason (shared/runtime/messaging/deadletter.py)."""

    _dead_letters: deadletter.DeadLetterPublisher | None = None  # made on the first dead letter
    in_flight = 0  # messages handed to a handler and not yet acked, requeued or parked
    returned = 0  # messages given back to their queues because the consumer was stopping

    def on_iteration(self) -> None:
        # nameko stops consuming (and closes the connection) once no consumer is left, while its workers may still
        # be running: their acks would be lost and their messages redelivered. Stay connected until they settle.
        self._cancel_consumers_if_requested()
        if not self._consumers and not self.in_flight:
            self.should_stop = True

    def start(self) -> None:
        # A handler may call another service over RPC as soon as its first message arrives, and after a restart a
        # backlog arrives at once. The RPC reply queue is declared by another queue consumer when it connects (they
        # start side by side): a reply published before then goes to no queue and is lost. So the others start
        # first; a queue consumer's start is idempotent and returns once its consumers are ready.
        for extension in self.container.subextensions:
            if isinstance(extension, QueueConsumer) and not isinstance(extension, EventQueueConsumer):
                extension.start()
        super().start()

    def get_consumers(self, consumer_cls, channel):  # noqa: ANN001, ANN201 - nameko's signature
        # Called after every (re)connection: make sure what we consume from exists, even if no relay ran yet.
        for provider in self._providers:
            topology.declare_on(channel, provider.namespace, (provider.subscription,))
        for provider in self._providers:
            consumer = consumer_cls(
                queues=[provider.queue],
                callbacks=[partial(self.handle_message, provider)],
                accept=list(_codec.ACCEPTED_CONTENT_TYPES),  # CloudEvents in structured or binary mode
                on_decode_error=partial(self._on_decode_error, provider),
            )
            consumer.qos(prefetch_count=self.prefetch_count)
            self._consumers[provider] = consumer
        return self._consumers.values()

    def _on_decode_error(self, provider, message, error) -> None:  # noqa: ANN001
        log.error("dead-lettering undecodable message %s: %s", message.delivery_info.get("routing_key"),
                  describe_error(error))
        # Off the consume loop (kombu calls this from it): the copy waits for the broker's confirm.
        self.container.spawn_managed_thread(
            partial(self.dead_letter, provider, message, f"undecodable: {error}"), identifier="dead_letter")

    def dead_letter(self, provider, message, reason: str) -> None:  # noqa: ANN001
        """Park `message` on its dead-letter queue with `reason` in a header (shared/runtime/messaging/deadletter.py):
        a confirmed copy, then the original acked; if the copy fails, the original rejected (to the same queue,
        without the reason)."""
        if self._dead_letters is None:
            config = self.container.config
            self._dead_letters = deadletter.DeadLetterPublisher(partial(
                deadletter.confirming_connection, self.amqp_uri, ssl=config.get(AMQP_SSL_CONFIG_KEY),
                login_method=config.get(LOGIN_METHOD_CONFIG_KEY)))
        if self._dead_letters.park(message.body, message.properties, reason=reason, queue=provider.queue.name,
                                   exchange=topology.dead_letter_exchange(provider.namespace).name):
            self.ack_message(message)
        else:
            message.reject(requeue=False)

    def stop(self) -> None:
        super().stop()
        if self._dead_letters is not None:
            self._dead_letters.close()
        # Said at INFO even when nothing went back: the line shows a stop was graceful (a SIGKILL leaves none).
        log.info("stopped consuming; %d messages returned to their queues unhandled or mid-retry", self.returned)

    def kill(self) -> None:
        super().kill()
        if self._dead_letters is not None:
            self._dead_letters.close()


class IntegrationEventConsumer(Consumer):
    queue_consumer = EventQueueConsumer()
    # What the consumer deals with itself, and logs itself (shared/runtime/nameko_support.py: QuietExpectedErrors).
    EXPECTED = (*PASSING, InvalidIntegrationEvent)
    reports_expected_exceptions = True

    def __init__(self, expected_exceptions: type[Exception] | tuple[type[Exception], ...] = (),
                 **kwargs: Any) -> None:
        declared = expected_exceptions if isinstance(expected_exceptions, tuple) else (expected_exceptions,)
        super().__init__(queue=None, expected_exceptions=(*self.EXPECTED, *declared), **kwargs)
        self.stopping = False
        self._stopping = threading.Event()  # wakes a worker waiting to retry (green under nameko)

    def setup(self) -> None:
        self.namespace = self.container.config.get("XINFANG_NAMESPACE", "xinfang")
        self.subscription = topology.subscription_for(self.container.service_name, self.method_name)
        self.expected_sources = province_sources_from_environment() \
            if self.subscription.publisher == topology.PROVINCE else \
            frozenset({f"urn:xinfang:{county_code_from_environment()}:{self.subscription.publisher}"})
        self.queue = topology.consumer_queue(self.namespace, self.subscription)
        quiet_expected_errors()
        super().setup()

    def stop(self) -> None:
        self.stopping = True
        self._stopping.set()
        super().stop()

    def _return(self, message: Any, why: str) -> None:
        log.debug("%s.%s: stopping; message returned to its queue (%s)", self.container.service_name,
                 self.method_name, why)
        self.queue_consumer.returned += 1
        self.queue_consumer.requeue_message(message)

    def handle_message(self, body: Any, message: Any) -> None:
        service, handler = self.container.service_name, self.method_name
        if self.stopping:  # delivered before the consumer was cancelled: the next consumer will handle it
            self._return(message, "not started")
            return
        try:
            # The raw body, in either mode of the CloudEvents binding (kombu has JSON-decoded a binary one's).
            received = IntegrationEvent.from_amqp(message.body, message.headers, message.content_type)
            event = upcasting.current(received)  # a withdrawn v1 still queued: as v2
            if event.event_type not in self.subscription.event_types:
                raise InvalidIntegrationEvent(f"a {event.type} does not belong on this queue")
            if event.source not in self.expected_sources:
                allowed = ", ".join(sorted(self.expected_sources))
                raise InvalidIntegrationEvent(f"events of this type are accepted from {allowed} only,"
                                              f" not from {event.source!r}")
        except Exception as error:  # noqa: BLE001 - nothing in a message may stop the consumer
            # The class only: a validation message quotes the value (the dead-letter queue keeps the message).
            log.error("%s.%s: dead-lettering invalid message %s: %s", service, handler,
                      message.delivery_info.get("routing_key"), describe_error(error))
            EVENTS_FAILED.labels(service, handler, "dead_lettered").inc()
            self.queue_consumer.in_flight += 1  # until its copy is confirmed and it is acked
            try:
                self.queue_consumer.dead_letter(self, message, deadletter.reason_of(error))
            finally:
                self.queue_consumer.in_flight -= 1
            return
        self.queue_consumer.in_flight += 1
        self._spawn(message, (event,), {"correlation_id": event.correlation_id}, time.monotonic(), attempt=0)

    def _spawn(self, message: Any, args: tuple[Any, ...], context_data: dict[str, Any], started: float,
               attempt: int) -> None:
        try:
            self.container.spawn_worker(self, args, {}, context_data=context_data,
                                        handle_result=partial(self.handle_result, message, started, attempt))
        except ContainerBeingKilled:
            self.queue_consumer.in_flight -= 1
            self.queue_consumer.requeue_message(message)

    def handle_result(self, message: Any, started: float, attempt: int, worker_ctx: Any, result: Any = None,
                      exc_info: Any = None) -> tuple[Any, Any]:
        if exc_info is not None and isinstance(exc_info[1], PASSING) and not self.stopping:
            self._retry_later(message, started, attempt, worker_ctx, exc_info[1])
            return result, exc_info  # still in flight: settled by a later attempt
        try:
            return self._settle(message, started, worker_ctx, result, exc_info)
        finally:
            self.queue_consumer.in_flight -= 1

    def _retry_later(self, message: Any, started: float, attempt: int, worker_ctx: Any, error: BaseException) -> None:
        """A passing condition: the handler runs again after a back-off, the message unacknowledged meanwhile. The
        wait holds no worker: a handler waiting for what another queue's event builds (a routing before its case is
        opened) would otherwise hold every worker after a restart onto a backlog, and the event it waits for would
        never get one."""
        service, handler = self.container.service_name, self.method_name
        delay = retry_delay(attempt, first=0.05 if isinstance(error, NotYet) else 0.25)
        (log.debug if isinstance(error, NotYet) else log.warning)(
            "%s.%s: %s; trying again in %.2fs", service, handler, describe_error(error), delay)
        EVENTS_FAILED.labels(service, handler, "retried").inc()

        def again() -> None:
            if self._stopping.wait(delay) or self.stopping:  # green under nameko; a stop cuts it short
                self._return(message, f"mid-retry: {describe_error(error)}")
                self.queue_consumer.in_flight -= 1
                return
            self._spawn(message, worker_ctx.args, worker_ctx.data, started, attempt + 1)

        self.container.spawn_managed_thread(again, identifier=f"{service}.{handler}.retry")

    def _settle(self, message, started, worker_ctx, result, exc_info):  # noqa: ANN001, ANN202
        service, handler = self.container.service_name, self.method_name
        HANDLER_SECONDS.labels(service, handler).observe(time.monotonic() - started)
        if exc_info is not None and isinstance(exc_info[1], InvalidIntegrationEvent):
            # The handler found the event unusable (a province's matter the registration rules refuse): parked at
            # once, never retried. The class only in the log: the message may quote personal data.
            log.warning("%s.%s: dead-lettering a message its handler refused: %s", service, handler,
                        describe_error(exc_info[1]))
            EVENTS_FAILED.labels(service, handler, "dead_lettered").inc()
            self.queue_consumer.dead_letter(self, message, deadletter.reason_of(exc_info[1]))
            return result, None
        if exc_info is None:
            EVENTS_HANDLED.labels(service, handler, result if result in (PROCESSED, DUPLICATE) else PROCESSED).inc()
            self.queue_consumer.ack_message(message)
            return result, exc_info
        if self.stopping and isinstance(exc_info[1], PASSING):  # not the message's fault: no failure counted
            self._return(message, f"mid-retry: {describe_error(exc_info[1])}")
            return result, exc_info
        delivery_count = int((message.headers or {}).get("x-delivery-count") or 0)
        delay = 0.0 if self.stopping else retry_delay(delivery_count)
        log.error("%s.%s failed (delivery %d), requeue in %.1fs: %s",
                  service, handler, delivery_count + 1, delay, describe_error(exc_info[1]))
        EVENTS_FAILED.labels(service, handler, "requeued").inc()
        self._stopping.wait(delay)  # a stop returns it at once
        self.queue_consumer.requeue_message(message)
        return result, exc_info


integration_event_handler = IntegrationEventConsumer.decorator
