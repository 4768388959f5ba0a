"""A consumer restarted under a backlog logs no error: the events that arrive before what they build on (a routing
before its case is open) are an expected condition, retried in-process and logged at DEBUG, not an ERROR with a
traceback (nameko's record of an expected exception is dropped: shared/runtime/nameko_support.py)."""

from __future__ import annotations

import re

from shared.runtime.messaging import topology
from tests.support import samples
from tests.support.platform import TestPlatform, metric_value, queue_depth, stored_events
from tests.support.waiting import wait_for

PETITIONS = 30


def backlog(platform: TestPlatform, handler: str) -> int:
    name = topology.queue_name(platform.namespace, "supervision", handler)
    return queue_depth(platform.namespace, name, platform.env["AMQP_URI"])


def error_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if re.search(r"\bERROR\b|Traceback", line)]


def test_supervision_restarted_under_a_backlog_opens_every_case_and_logs_no_error(platform):
    platform.start("intake", "intake-relay", "routing", "routing-relay", "supervision")
    platform.wait_ready()
    platform.stop("supervision")
    ids = platform.register_over_rpc(*(samples.petition() for _ in range(PETITIONS)))
    # Both of supervision's queues hold every petition: each routing competes with the opening of its case.
    wait_for(lambda: backlog(platform, "handle_petition_registered") == PETITIONS, what="the registrations to queue")
    wait_for(lambda: backlog(platform, "handle_petition_routed") == PETITIONS, what="the routings to queue")

    platform.start("supervision")
    ns = platform.namespace
    wait_for(lambda: stored_events(ns, "supervision", "Case.Transferred") == PETITIONS, timeout=90,
             what="every routing to be applied to its case")

    assert all(stored_events(ns, "supervision", "Case.Opened", pid) == 1 for pid in ids)
    metrics = platform.metrics("supervision")
    # The condition did occur (routings came before their cases), and was ridden out in-process.
    assert metric_value(metrics, "xinfang_events_failed_total", handler="handle_petition_routed",
                        disposition="retried") >= 1
    assert metric_value(metrics, "xinfang_events_failed_total", disposition="requeued") == 0
    assert error_lines(platform.log("supervision")) == []
    assert "CaseNotOpenedYet" not in platform.log("supervision")  # its retries are logged at DEBUG only
