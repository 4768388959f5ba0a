"""The broker topology, declared in one place.

- `<ns>.events`: a durable topic exchange; the routing key is the CloudEvents type, so a provincial system binds
  e.g. `cn.xinfang.petition.#` to its own queue.
- One quorum queue per (service, handler): competing consumers across a service's instances; a message
  redelivered more than `DELIVERY_LIMIT` times is dead-lettered instead of looping.
- `<ns>.dead-letter`: a direct exchange routing each dead message to `<queue>.dead-letter` for inspection.
- `<ns>.province.inbound`: a topic exchange a province's system publishes its matters on (上级转送 / 交办), read by
  intake alone; `<ns>.province.outbound`: the county's answers to the province, which only provinces' users may
  bind. Each event type names its exchange (shared/language/integration/catalog.py `EventType.exchange`).
- `<ns>.replay`: a topic exchange the gateway re-publishes integration-feed events to, for one integrator's queue at
  a time: the routing key is that queue's name, which the integrator binds to it (services/gateway/routes/feed.py).

Every subscription of the platform is listed here, and an outbox relay declares those its events feed before it
publishes: an event is never unroutable just because its consumer service has not started yet.
"""

from __future__ import annotations

from dataclasses import dataclass

from kombu import Connection, Exchange, Queue, binding

from shared.language.contracts.lifecycle import STEPS
from shared.language.contracts.notices import TELLS_ORGANS
from shared.language.integration.catalog import (
    CASE_OBJECTION_UPHELD,
    CASE_STEP_TYPES,
    CIRCULAR_ISSUED,
    EVENT_TYPES,
    NOTICE_DELIVERED,
    NOTICE_POSTED,
    PETITION_REGISTERED,
    PETITION_ROUTED,
    PROVINCE_MATTER_SENT,
    WARNING_RAISED,
    EventType,
)

DELIVERY_LIMIT = 20
PROVINCE = "province"  # a subscription's publisher that is not a service: the allowed provinces (PROVINCE_SOURCES)


@dataclass(frozen=True)
class Subscription:
    service: str
    handler: str
    event_type: EventType
    publisher: str  # the only service (of this county) whose events of this type are accepted, or PROVINCE
    also: tuple[EventType, ...] = ()  # more types on the same queue (one handler for several steps)

    @property
    def event_types(self) -> tuple[EventType, ...]:
        return (self.event_type, *self.also)


# The case.<step> types of every step that may send the petitioner a notice (its declaration names one: Step.notice)
# or tell organs of a case put before them (TELLS_ORGANS), in the order the steps are declared: notification's
# handle_case_step consumes them all from one queue.
NOTICE_STEP_TYPES: tuple[EventType, ...] = tuple(
    CASE_STEP_TYPES[name] for name in dict.fromkeys(
        published for step in STEPS.values() if step.notice.named() or step.name in TELLS_ORGANS
        for published in step.publishes))

SUBSCRIPTIONS: tuple[Subscription, ...] = (
    Subscription("routing", "handle_petition_registered", PETITION_REGISTERED, "intake"),
    Subscription("routing", "handle_case_objection_upheld", CASE_OBJECTION_UPHELD, "supervision"),
    Subscription("supervision", "handle_petition_registered", PETITION_REGISTERED, "intake"),
    Subscription("supervision", "handle_petition_routed", PETITION_ROUTED, "routing"),
    Subscription("supervision", "handle_notice_delivered", NOTICE_DELIVERED, "notification"),
    Subscription("supervision", "handle_notice_posted", NOTICE_POSTED, "notification"),
    Subscription("notification", "handle_petition_registered", PETITION_REGISTERED, "intake"),
    Subscription("notification", "handle_case_step", NOTICE_STEP_TYPES[0], "supervision", NOTICE_STEP_TYPES[1:]),
    # An early warning: the supervisors' notice of it (shared/language/contracts/notices.py WARNING_NOTICE).
    Subscription("notification", "handle_warning_raised", WARNING_RAISED, "supervision"),
    # A circular to organs: each organ's notice of it (shared/language/contracts/notices.py CIRCULAR_NOTICE).
    Subscription("notification", "handle_circular_issued", CIRCULAR_ISSUED, "supervision"),
    # A matter a province transfers or assigns to the county (services/intake/provincial.py).
    Subscription("intake", "handle_matter_sent", PROVINCE_MATTER_SENT, PROVINCE),
)
EXCHANGES = tuple(dict.fromkeys(t.exchange for t in EVENT_TYPES.values()))  # events, province.inbound, ...outbound


def events_exchange(namespace: str) -> Exchange:
    return exchange_named(namespace, "events")


def exchange_named(namespace: str, exchange: str) -> Exchange:
    """`exchange` as an EventType names it (`events`, `province.inbound`, `province.outbound`)."""
    return Exchange(f"{namespace}.{exchange}", type="topic", durable=True)


def exchange_for(namespace: str, event_type: EventType) -> Exchange:
    return exchange_named(namespace, event_type.exchange)


def replay_exchange(namespace: str) -> Exchange:
    return Exchange(f"{namespace}.replay", type="topic", durable=True)


def dead_letter_exchange(namespace: str) -> Exchange:
    return Exchange(f"{namespace}.dead-letter", type="direct", durable=True)


def queue_name(namespace: str, service: str, handler: str) -> str:
    return f"{namespace}.{service}.{handler}"


def subscription_for(service: str, handler: str) -> Subscription:
    for subscription in SUBSCRIPTIONS:
        if subscription.service == service and subscription.handler == handler:
            return subscription
    raise LookupError(f"{service}.{handler} is not in shared.runtime.messaging.topology.SUBSCRIPTIONS")


def consumer_queue(namespace: str, subscription: Subscription) -> Queue:
    name = queue_name(namespace, subscription.service, subscription.handler)
    return Queue(
        name,
        bindings=[binding(exchange_for(namespace, t), routing_key=t.type) for t in subscription.event_types],
        durable=True,
        queue_arguments={
            "x-queue-type": "quorum",
            "x-delivery-limit": DELIVERY_LIMIT,
            "x-dead-letter-exchange": dead_letter_exchange(namespace).name,
            "x-dead-letter-routing-key": name,
            # A parked message must not be dropped on the way (the quorum default is at most once).
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        },
    )


def dead_letter_queue(namespace: str, subscription: Subscription) -> Queue:
    name = queue_name(namespace, subscription.service, subscription.handler)
    return Queue(
        f"{name}.dead-letter",
        exchange=dead_letter_exchange(namespace),
        routing_key=name,
        durable=True,
        queue_arguments={"x-queue-type": "quorum"},
    )


def all_queues(namespace: str) -> list[Queue]:
    queues: list[Queue] = []
    for subscription in SUBSCRIPTIONS:
        queues.append(consumer_queue(namespace, subscription))
        queues.append(dead_letter_queue(namespace, subscription))
    return queues


def declare(connection: Connection, namespace: str) -> None:
    """Declare every exchange, every consumer queue and its dead-letter queue (idempotent): the broker's set-up."""
    for exchange in EXCHANGES:
        exchange_named(namespace, exchange)(connection.default_channel).declare()
    replay_exchange(namespace)(connection.default_channel).declare()  # so integrators may bind before a first replay
    declare_on(connection.default_channel, namespace, SUBSCRIPTIONS)


def declare_on(channel: object, namespace: str, subscriptions: tuple[Subscription, ...]) -> None:
    """Declare the exchanges and the given subscriptions' queues on an open channel (idempotent). Publishers and
    consumers both do it, so whichever starts first, nothing is unroutable and no binding misses its exchange."""
    # The events exchange and those the subscriptions bind from: a user needs configure on each exchange it declares.
    for exchange in dict.fromkeys(["events", *(t.exchange for s in subscriptions for t in s.event_types)]):
        exchange_named(namespace, exchange)(channel).declare()
    dead_letter_exchange(namespace)(channel).declare()
    for subscription in subscriptions:
        dead_letter_queue(namespace, subscription)(channel).declare()
        consumer_queue(namespace, subscription)(channel).declare()
