"""The outbox relay: the event store *is* the outbox.

The relay follows its service's notification log, translates each domain event that belongs to the published
language into an integration event, publishes it with publisher confirms and only then records its position.
Nothing is published from a request handler, so a broker outage delays events and loses none. A crash between
the confirm and the position write re-publishes that batch, which is harmless: consumers dedupe on the event's
(source, sequence), which identifies it exactly as its id does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.utils import get_topic
from prometheus_client import Counter, Gauge

from shared.language.integration.envelope import IntegrationEvent
from shared.runtime.feed import IntegrationFeed
from shared.runtime.follower import LogFollower, StorePosition, single_active_lock
from shared.runtime.messaging.publisher import ConfirmingPublisher, PublishFailed
from shared.runtime.observability import describe_error
from shared.runtime.settings import PlatformSettings
from shared.runtime.workers import run_workers

log = logging.getLogger(__name__)

# A stored event's integration events: none, one, or several (a province's matter: the county's event and the
# answer to the province).
Translate = Callable[[Any, int, str], IntegrationEvent | Sequence[IntegrationEvent] | None]

OUTBOX_LAG = Gauge("xinfang_outbox_lag_events", "Stored events not yet published to the broker", ["store"])
PUBLISHED = Counter("xinfang_outbox_published_total", "Integration events published and confirmed", ["store", "type"])
PUBLISH_FAILURES = Counter("xinfang_outbox_publish_failures_total", "Publish attempts that failed", ["store"])
PARKED = Counter("xinfang_outbox_parked_total", "Stored events that could not be published and were skipped",
                 ["store"])
AMQP_SHORTSTR = 255  # bytes: the limit of an AMQP 0-9-1 property such as correlation_id


def check_publishable(event: IntegrationEvent) -> None:
    """What the published language and AMQP require; raises if this event could never be published."""
    event.validate()
    for name, value in event.amqp_properties().items():
        if isinstance(value, str) and len(value.encode()) > AMQP_SHORTSTR:
            raise ValueError(f"AMQP property {name} is longer than {AMQP_SHORTSTR} bytes")


class OutboxRelay:
    def __init__(
        self,
        settings: PlatformSettings,
        service: str,
        application: Any,
        translate: Translate,
        publisher: ConfirmingPublisher | None = None,
        translated: Sequence[type] = (),
    ) -> None:
        """`translated`: the domain event classes `translate` publishes; other events are skipped undecoded."""
        self.service = service
        self._translate = translate
        self._source = settings.event_source(service)
        self._publisher = publisher or ConfirmingPublisher(settings.amqp_uri, settings.namespace, service)
        self.position = StorePosition(settings, service, "outbox")
        self.feed = IntegrationFeed(settings)  # what integrators catch up from (shared/runtime/feed.py)
        self.follower = LogFollower(
            f"{service}.outbox",
            application,
            self.publish_batch,
            self.position,
            single_active_lock(settings, service, "outbox"),
            poll_interval=settings.follower_poll_interval,
            on_lag=OUTBOX_LAG.labels(service).set,
            settings=settings,
            topics=[get_topic(cls) for cls in translated],
            save_position_every=0.5,  # a re-published event is deduplicated by its consumers
        )

    def publish_batch(self, items: Sequence[tuple[int, Any]]) -> None:
        events = []
        for sequence, domain_event in items:
            try:
                translated = self._translate(domain_event, sequence, self._source)
                translated = [translated] if isinstance(translated, IntegrationEvent) else list(translated or ())
                for event in translated:
                    check_publishable(event)
                events.extend(translated)
            except Exception as error:  # noqa: BLE001
                # An event that can never be published must not stop the ones after it. It stays in the store
                # (the truth); ops see the count and the log line, fix the cause and re-publish it by hand. The
                # error's class only: a schema violation's message quotes the offending value.
                PARKED.labels(self.service).inc()
                log.error("%s: parking stored event %d (%s): it cannot be published: %s", self.service, sequence,
                          type(domain_event).__qualname__, describe_error(error))
        if not events:
            return
        # Into the integration feed first (a failure raises: the batch is tried again and the feed skips what it
        # holds), so that whatever a consumer does on receiving an event, and publishes in turn, comes after it there.
        self.feed.append(events)
        try:
            self._publisher.publish(events)
        except PublishFailed:
            PUBLISH_FAILURES.labels(self.service).inc()
            raise
        for event in events:
            PUBLISHED.labels(self.service, event.type).inc()

    def run(self) -> None:
        self.follower.run()

    def stop(self) -> None:
        self.follower.stop()

    def close(self) -> None:
        self._publisher.close()
        self.position.close()
        self.feed.close()


def run_relay(service: str, settings: PlatformSettings, build_application: Callable[[Any], Any],
              translation: Any) -> None:
    """The composition root of a relay process: `translation` is the service's translate module
    (`to_integration_event` and `TRANSLATED`)."""
    settings = settings.for_follower()
    application = build_application(settings)
    try:
        run_workers(f"{service}-relay", settings, lambda: [OutboxRelay(
            settings, service, application, translation.to_integration_event, translated=translation.TRANSLATED)])
    finally:
        application.close()
