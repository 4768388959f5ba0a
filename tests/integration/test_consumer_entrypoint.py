"""The integration-event entrypoint in real nameko services on a real broker: nothing in a message can stop a
consumer (it is parked on the dead-letter queue at once), only the subscription's own publisher is believed,
and an event that arrives before what it builds on is retried in-process, not requeued."""

from __future__ import annotations

import json
import time

from shared.runtime.messaging import topology
from tests.support import samples
from tests.support.platform import TestPlatform, metric_value, queue_depth, stored_events
from tests.support.waiting import wait_for


def dead_letters(platform: TestPlatform, service: str, handler: str) -> int:
    name = topology.queue_name(platform.namespace, service, handler) + ".dead-letter"
    return queue_depth(platform.namespace, name, platform.env["AMQP_URI"])


def test_poison_is_parked_at_once_and_the_consumer_keeps_consuming(platform):
    platform.start("routing")
    platform.wait_ready()
    registered = samples.registered_event(1).type
    cloudevents = "application/cloudevents+json"
    forged = samples.registered_event(2, source="urn:xinfang:330106:someone-else")

    platform.publish(b"[" * 200_000, registered, cloudevents)  # nested past Python's recursion limit
    platform.publish(b'{"specversion": "1.0"}', registered, cloudevents)  # no id, no source
    platform.publish(forged.to_json(), registered, cloudevents)  # not from intake
    platform.publish(b"\x00\x01binary", registered, "application/octet-stream")  # not a content type we accept
    genuine = samples.registered_event(3)
    platform.publish(genuine.to_json(), registered, cloudevents)

    wait_for(lambda: stored_events(platform.namespace, "routing", "Assignment.Routed", genuine.subject) == 1,
             what="the genuine event to be routed after the poison")
    wait_for(lambda: dead_letters(platform, "routing", "handle_petition_registered") == 4,
             what="the four bad messages on the dead-letter queue")
    assert stored_events(platform.namespace, "routing", "Assignment.Routed", forged.subject) == 0
    assert "starting services" in platform.log("routing") and not platform.exited("routing")


def test_an_event_that_arrives_before_its_case_is_retried_in_process_not_requeued(platform):
    platform.start("intake", "supervision")  # supervision asks intake for the case's query code and title
    platform.wait_ready()
    [petition_id] = platform.register_over_rpc(samples.petition())
    registered = samples.registered_event(1, petition_id=petition_id)  # published here, no relay running
    routed = samples.routed_event(1, registered.subject)

    platform.publish(routed.to_json(), routed.type)
    time.sleep(1.0)  # supervision has the routing, and no case to apply it to
    platform.publish(registered.to_json(), registered.type)

    wait_for(lambda: stored_events(platform.namespace, "supervision", "Case.Transferred", registered.subject) == 1,
             what="the early routing to be applied once the case is open")
    metrics = platform.metrics("supervision")
    assert metric_value(metrics, "xinfang_events_failed_total", handler="handle_petition_routed",
                        disposition="retried") >= 1
    assert metric_value(metrics, "xinfang_events_failed_total", disposition="requeued") == 0
    assert json.loads(routed.to_json())["id"] == routed.id


def test_events_waiting_for_their_case_hold_no_worker_the_opening_events_need(platform):
    """Both of supervision's workers get a routing whose case is not open yet: while they wait to try again, the
    registrations that open those cases (another queue) must still get a worker, or nothing ever moves."""
    platform.env["SUPERVISION_MAX_WORKERS"] = "2"
    platform.start("intake", "supervision")
    platform.wait_ready()
    ids = platform.register_over_rpc(samples.petition(), samples.petition())
    registered = [samples.registered_event(10 + n, petition_id=pid) for n, pid in enumerate(ids)]
    for n, event in enumerate(registered):
        routed = samples.routed_event(20 + n, event.subject)
        platform.publish(routed.to_json(), routed.type)
    wait_for(lambda: metric_value(platform.metrics("supervision"), "xinfang_events_failed_total",
                                  handler="handle_petition_routed", disposition="retried") >= 4,
             what="both routings retried, each more than once")

    for event in registered:
        platform.publish(event.to_json(), event.type)

    wait_for(lambda: all(stored_events(platform.namespace, "supervision", "Case.Transferred", pid) == 1
                         for pid in ids), timeout=30, what="both routings applied once their cases opened")
