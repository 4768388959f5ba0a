"""A consumer on a real broker takes an event in either mode of the CloudEvents RabbitMQ binding (issue 19): structured,
as the platform publishes it, or binary (the attributes in `ce-` headers, the data alone in an `application/json`
body), as a province's system may send it with the official SDK. A binary message that is not a valid event is
dead-lettered at once, like any other, and the consumer keeps consuming."""

from __future__ import annotations

from cloudevents.core.bindings import rabbitmq
from cloudevents.core.formats.json import JSONFormat
from kombu import Connection, Producer

from shared.runtime.messaging import topology
from tests.support import samples
from tests.support.platform import TestPlatform, queue_depth, stored_events
from tests.support.waiting import wait_for

FORMAT = JSONFormat()


def send(platform: TestPlatform, message: rabbitmq.RabbitMQMessage, routing_key: str) -> None:
    """As a client other than ours would: the SDK's message, its headers, content type and body as they are."""
    with Connection(platform.env["AMQP_URI"]) as connection:
        Producer(connection.default_channel).publish(
            message.body, exchange=topology.events_exchange(platform.namespace), routing_key=routing_key,
            headers=message.headers, content_type=message.content_type, content_encoding="utf-8", delivery_mode=2,
            retry=False)


def dead_letters(platform: TestPlatform) -> int:
    name = topology.queue_name(platform.namespace, "routing", "handle_petition_registered") + ".dead-letter"
    return queue_depth(platform.namespace, name, platform.env["AMQP_URI"])


def test_binary_and_structured_messages_are_both_taken_and_bad_binary_ones_parked(platform):
    platform.start("routing")
    platform.wait_ready()
    in_binary, in_structured = samples.registered_event(1), samples.registered_event(2)
    binary = rabbitmq.to_binary(in_binary.to_cloudevent(), FORMAT)
    assert binary.content_type == "application/json" and binary.headers["ce-id"] == in_binary.id
    published = rabbitmq.RabbitMQMessage(in_structured.amqp_headers(), "application/cloudevents+json",
                                         in_structured.to_json())  # as our publisher sends it, ce- headers and all
    kind = in_binary.type

    send(platform, rabbitmq.RabbitMQMessage(binary.headers, "application/json", b"{not json"), kind)  # kombu: undecodable
    send(platform, rabbitmq.RabbitMQMessage({k: v for k, v in binary.headers.items() if k != "ce-id"},
                                            "application/json", binary.body), kind)  # no id
    send(platform, binary, kind)
    send(platform, published, kind)

    for event in (in_binary, in_structured):
        wait_for(lambda event=event: stored_events(platform.namespace, "routing", "Assignment.Routed",
                                                   event.subject) == 1, what="both modes' events routed")
    wait_for(lambda: dead_letters(platform) == 2, what="the two bad binary messages on the dead-letter queue")
    assert not platform.exited("routing")
