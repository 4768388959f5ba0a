"""The outbox relay against real PostgreSQL and RabbitMQ: confirmed publishing in store order, a durable
position, no gap and no loss across restarts and broker failures, and one active relay per store."""

from __future__ import annotations

import pytest
from kombu import Connection, Queue

from services.intake.application import IntakeApplication
from services.intake.settings import IntakeSettings
from services.intake.translate import to_integration_event
from shared.language.contracts.registration import RegisterPetition
from shared.language.integration.catalog import PETITION_REGISTERED
from shared.language.integration.envelope import IntegrationEvent
from shared.runtime.follower import single_active_lock
from shared.runtime.messaging import topology
from shared.runtime.messaging.publisher import ConfirmingPublisher, PublishFailed
from shared.runtime.outbox import OutboxRelay
from tests.support import samples

AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"


def drain(namespace: str, service: str = "routing", handler: str = "handle_petition_registered") -> list[IntegrationEvent]:
    """Everything waiting in one subscriber's queue, acked, as parsed events."""
    name = topology.queue_name(namespace, service, handler)
    events = []
    with Connection(AMQP_URI) as connection:
        channel = connection.default_channel
        while (message := channel.basic_get(queue=name, no_ack=False)) is not None:
            events.append(IntegrationEvent.from_json(message.body))
            channel.basic_ack(message.delivery_tag)
    return events


def register(app: IntakeApplication, count: int) -> list[dict]:
    return [app.register_petition(RegisterPetition.model_validate(samples.petition())) for _ in range(count)]


@pytest.fixture
def intake(settings_for, closing) -> IntakeApplication:
    return closing(IntakeApplication(settings_for(IntakeSettings)))


def relay_for(settings_for, intake, closing, publisher=None) -> OutboxRelay:
    settings = settings_for(IntakeSettings)
    return closing(OutboxRelay(settings, "intake", intake, to_integration_event, publisher=publisher))


def test_publishes_confirmed_events_in_store_order_and_remembers_its_position(settings_for, intake, closing,
                                                                              namespace):
    receipts = register(intake, 3)
    relay = relay_for(settings_for, intake, closing)

    assert relay.follower.run_once() > 0
    events = drain(namespace)

    assert [e.subject for e in events] == [r["id"] for r in receipts]
    assert [e.sequence for e in events] == sorted(e.sequence for e in events)
    assert [e.data["petition_id"] for e in events] == [r["id"] for r in receipts]
    assert relay.position.get() == intake.recorder.max_notification_id()

    # Every subscriber has its own copy (the topology was declared before publishing).
    assert len(drain(namespace, "supervision", "handle_petition_registered")) == 3
    assert len(drain(namespace, "notification", "handle_petition_registered")) == 3

    # A restarted relay (new objects, same store) resumes after its position: nothing is published twice.
    restarted = relay_for(settings_for, intake, closing)
    restarted.follower.run_once()
    assert drain(namespace) == []
    more = register(intake, 2)
    restarted.follower.run_once()
    assert [e.subject for e in drain(namespace)] == [r["id"] for r in more]


def test_a_crash_after_the_confirm_republishes_the_same_events_with_the_same_ids(settings_for, intake, closing,
                                                                                namespace):
    register(intake, 2)
    relay = relay_for(settings_for, intake, closing)

    def crash(_position: int) -> None:
        raise RuntimeError("process died before writing its position")

    relay.position.set = crash  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        relay.follower.run_once()
    first = drain(namespace)

    relay_for(settings_for, intake, closing).follower.run_once()
    again = drain(namespace)

    assert [e.id for e in again] == [e.id for e in first]
    assert [e.tracking for e in again] == [e.tracking for e in first]  # what consumers dedupe on


def test_a_batch_the_broker_refuses_in_part_is_not_confirmed_and_its_position_stays(settings_for, intake, closing,
                                                                                  namespace):
    # A queue that takes one message and refuses the rest: the broker nacks them (x-overflow: reject-publish).
    small = Queue(f"{namespace}.test.small", exchange=topology.events_exchange(namespace),
                  routing_key=PETITION_REGISTERED.type,
                  queue_arguments={"x-max-length": 1, "x-overflow": "reject-publish"})
    with Connection(AMQP_URI) as connection:
        topology.declare(connection, namespace)
        small(connection.default_channel).declare()
    register(intake, 3)
    relay = relay_for(settings_for, intake, closing)

    try:
        with pytest.raises(PublishFailed, match="refused"):
            relay.follower.run_once()
        assert relay.position.get() == 0
    finally:
        with Connection(AMQP_URI) as connection:
            small(connection.default_channel).delete()


def test_with_the_broker_unreachable_nothing_is_lost(settings_for, intake, closing, namespace):
    receipts = register(intake, 2)
    unreachable = ConfirmingPublisher("amqp://guest:guest@127.0.0.1:1/", namespace)
    broken = relay_for(settings_for, intake, closing, publisher=unreachable)

    with pytest.raises(PublishFailed):
        broken.follower.run_once()
    assert broken.position.get() == 0

    relay_for(settings_for, intake, closing).follower.run_once()
    assert [e.subject for e in drain(namespace)] == [r["id"] for r in receipts]


@pytest.mark.parametrize("store", ["postgres", "sqlite"])
def test_only_one_relay_per_store_is_active_and_a_standby_takes_over(settings_for, store):
    settings = settings_for(store=store)
    active, standby = single_active_lock(settings, "intake", "outbox"), single_active_lock(settings, "intake", "outbox")
    try:
        assert active.try_acquire()
        assert active.still_held()
        assert not standby.try_acquire()
        active.release()
        assert standby.try_acquire()
        assert not active.try_acquire()
    finally:
        active.release()
        standby.release()


def test_an_event_that_can_never_be_published_is_parked_and_the_rest_flow(settings_for, intake, closing, namespace):
    # A correlation id longer than an AMQP property allows, e.g. from a caller that bypassed the API's checks.
    command = RegisterPetition.model_validate(samples.petition())
    unpublishable = intake.register_petition(command, correlation_id="x" * 300)
    fine = register(intake, 1)[0]
    relay = relay_for(settings_for, intake, closing)

    relay.follower.run_once()

    assert [e.subject for e in drain(namespace)] == [fine["id"]]
    assert relay.position.get() == intake.recorder.max_notification_id()  # not stuck on the parked event
    from prometheus_client import REGISTRY
    assert REGISTRY.get_sample_value("xinfang_outbox_parked_total", {"store": "intake"}) >= 1
    assert unpublishable["id"] != fine["id"]
