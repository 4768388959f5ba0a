"""A service's call to another over RPC never holds a worker for ever (shared/runtime/nameko_support.py,
BoundedRpcProxy): a reply that does not come within PLATFORM_RPC_TIMEOUT gives the event back to the consumer's
retry, and the event is handled once the peer answers."""

from __future__ import annotations

import os
import signal

from tests.support import samples
from tests.support.platform import metric_value, stored_events
from tests.support.waiting import wait_for


def test_a_reply_that_does_not_come_gives_the_event_back_to_its_retry(platform):
    platform.env["PLATFORM_RPC_TIMEOUT"] = "2"
    platform.start("intake", "supervision")  # supervision asks intake for a new case's query code and title
    platform.wait_ready()
    [petition_id] = platform.register_over_rpc(samples.petition())
    intake = platform.processes["intake"].pid
    os.killpg(intake, signal.SIGSTOP)  # takes the request, never answers (a hung peer)
    try:
        event = samples.registered_event(1, petition_id=petition_id)
        platform.publish(event.to_json(), event.type)
        wait_for(lambda: metric_value(platform.metrics("supervision"), "xinfang_events_failed_total",
                                      handler="handle_petition_registered", disposition="retried") >= 1,
                 timeout=30, what="the unanswered call to give up and the event to be tried again")
    finally:
        os.killpg(intake, signal.SIGCONT)

    wait_for(lambda: stored_events(platform.namespace, "supervision", "Case.Opened", petition_id) == 1, timeout=30,
             what="the case opened once intake answers")
    assert "RpcReplyTimeout" in platform.log("supervision")
    assert metric_value(platform.metrics("supervision"), "xinfang_events_failed_total",
                        disposition="requeued") == 0
