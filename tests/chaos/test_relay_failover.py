"""One outbox relay per store is active; a second instance waits, and takes over when the active one is killed."""

from __future__ import annotations

import httpx
import pytest
from kombu import Connection

from shared.language.integration.envelope import IntegrationEvent
from shared.runtime.messaging import topology
from tests.support import samples
from tests.support.platform import metric_value
from tests.support.servers import free_port
from tests.support.waiting import wait_for

pytestmark = pytest.mark.chaos


def active(port: int) -> float:
    # The relay's own follower (the process also keeps intake's search index, with a follower of its own).
    return metric_value(httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text, "xinfang_follower_active",
                        follower="intake.outbox")


def published_subjects(platform) -> list[str]:
    name = topology.queue_name(platform.namespace, "routing", "handle_petition_registered")
    subjects = []
    with Connection(platform.env["AMQP_URI"]) as connection:
        channel = connection.default_channel
        while (message := channel.basic_get(queue=name, no_ack=False)) is not None:
            subjects.append(IntegrationEvent.from_json(message.body).subject)
            channel.basic_ack(message.delivery_tag)
    return subjects


def test_the_standby_relay_takes_over_when_the_active_one_is_killed(make_platform):
    platform = make_platform()
    first_port, second_port = free_port(), free_port()
    platform.start("intake", "gateway")
    platform.start_as("relay-a", f"METRICS_PORT={first_port} python -m services.intake.relay")
    wait_for(lambda: active(first_port) == 1, what="the first relay to become active")
    platform.start_as("relay-b", f"METRICS_PORT={second_port} python -m services.intake.relay")
    wait_for(lambda: active(second_port) == 0, what="the second relay to report itself as standby")

    with platform.http() as gateway:
        wait_for(lambda: gateway.get("/healthz").status_code == 200, what="the gateway")
        first = gateway.post("/api/v1/petitions", json=samples.petition()).json()
        wait_for(lambda: (s := published_subjects(platform)) and s, what="the active relay to publish")
        wait_for(lambda: metric_value(httpx.get(f"http://127.0.0.1:{first_port}/metrics").text,
                                      "xinfang_outbox_lag_events") == 0, what="the first relay to record its position")
        assert active(second_port) == 0

        platform.kill("relay-a")  # SIGKILL: no clean shutdown, PostgreSQL drops its lock with its connection
        second = gateway.post("/api/v1/petitions", json=samples.petition()).json()
        wait_for(lambda: active(second_port) == 1, timeout=30, what="the standby to take over")
        subjects = wait_for(lambda: published_subjects(platform), timeout=30, what="the standby to publish")

    assert second["id"] in subjects
    assert first["id"] not in subjects  # already published and recorded by the first relay: not again
