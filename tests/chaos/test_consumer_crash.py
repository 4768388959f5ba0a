"""A consumer that dies after its effect but before its ack gets the message again and changes nothing."""

from __future__ import annotations

import pytest

from shared.runtime.messaging import topology
from tests.support import samples
from tests.support.platform import metric_value, queue_depth, stored_events
from tests.support.waiting import wait_for

pytestmark = pytest.mark.chaos

CRASHING_ROUTING = "METRICS_PORT=0 nameko run --config deploy/nameko.yml tests.support.crashing_routing"


def test_a_redelivery_after_a_crash_between_effect_and_ack_changes_nothing(make_platform):
    platform = make_platform()
    platform.start("intake", "intake-relay", "routing-relay", "gateway")
    platform.start_as("crashing-routing", CRASHING_ROUTING)
    ns = platform.namespace
    with platform.http() as gateway:
        wait_for(lambda: gateway.get("/healthz").status_code == 200, what="the gateway")
        receipt = gateway.post("/api/v1/petitions", json=samples.petition()).json()

    wait_for(lambda: platform.exited("crashing-routing"), timeout=60, what="routing to crash after its effect")
    assert stored_events(ns, "routing", "Assignment.Routed", receipt["id"]) == 1  # the effect was committed
    routing_queue = topology.queue_name(ns, "routing", "handle_petition_registered")
    wait_for(lambda: queue_depth(ns, routing_queue, platform.env['AMQP_URI']) == 1, what="the unacked message to return to its queue")

    platform.start("routing")
    # (The queue's depth counts ready messages only; the handler's own count says when it was handled.)
    wait_for(lambda: metric_value(platform.metrics("routing"), "xinfang_events_handled_total",
                                  handler="handle_petition_registered", outcome="duplicate") == 1,
             timeout=60, what="the redelivered message to be recognised as a duplicate")
    assert queue_depth(ns, routing_queue, platform.env["AMQP_URI"]) == 0
    assert stored_events(ns, "routing", "Assignment.Routed", receipt["id"]) == 1
    # Downstream sees the routing once: the relay publishes stored events, and there is one.
    routed_queue = topology.queue_name(ns, "supervision", "handle_petition_routed")
    wait_for(lambda: queue_depth(ns, routed_queue, platform.env['AMQP_URI']) == 1, what="the routed event to be published")
    assert queue_depth(ns, routed_queue, platform.env['AMQP_URI']) == 1
