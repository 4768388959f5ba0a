"""SIGTERM to a service under load: what it is handling finishes and is acked, what it has not started goes back to
its queue; after a restart every petition's case is opened once and every notice sent once, and no event is handled
twice (no redelivery of a message whose effect was committed). How long each stop took, and how many messages went
back, is printed (docs/operations.md, graceful shutdown)."""

from __future__ import annotations

import re
import threading
import time

import psycopg
import pytest

from tests.support import samples
from tests.support.platform import PG_CONNINFO, TestPlatform, metric_value
from tests.support.waiting import wait_for

pytestmark = pytest.mark.chaos

PETITIONS = 200
RATE = 25  # petitions a second, through the gateway


def counts_by_petition(namespace: str, service: str, topic_suffix: str) -> dict[str, int]:
    """How many events of a kind each petition has in a service's store (a notice's by the petition it is about)."""
    schema, table = f"{namespace}_{service}", f"{service}_events"
    petition = "originator_id::text" if service == "supervision" else \
        "(convert_from(state, 'UTF8')::json->'petition_id'->>'_data_')::uuid::text"
    with psycopg.connect(PG_CONNINFO, autocommit=True) as connection:
        rows = connection.execute(f'SELECT {petition}, count(*) FROM "{schema}"."{table}" WHERE topic LIKE %s '
                                  "GROUP BY 1", (f"%{topic_suffix}",)).fetchall()
    return dict(rows)


def total(namespace: str, service: str, topic_suffix: str) -> int:
    return sum(counts_by_petition(namespace, service, topic_suffix).values())


def register_steadily(platform: TestPlatform, receipts: list[dict], failures: list[str]) -> None:
    with platform.http() as gateway:
        started = time.monotonic()
        for index in range(PETITIONS):
            time.sleep(max(0.0, started + index / RATE - time.monotonic()))
            response = gateway.post("/api/v1/petitions", json=samples.petition(title=f"停机测试{index}"))
            if response.status_code == 201:
                receipts.append(response.json())
            else:
                failures.append(f"{response.status_code}: {response.text[:200]}")


def terminate_and_restart(platform: TestPlatform, name: str) -> float:
    """SIGTERM `name` (TestPlatform.stop: its process group, SIGKILL only after 60 s), start it again; how long it
    took to stop."""
    began = time.monotonic()
    platform.stop(name, timeout=60)
    took = time.monotonic() - began
    platform.start(name)
    return took


def graceful_stops(log: str) -> list[int]:
    """How many messages each graceful stop in `log` returned to their queues (a SIGKILL leaves no line)."""
    return [int(n) for n in re.findall(r"stopped consuming; (\d+) messages returned to their queues", log)]


def test_sigterm_under_load_loses_nothing_and_handles_nothing_twice(make_platform, smtp):
    # No early warnings: 200 petitions of one place are a spike, whose notices would mix with the petitions'.
    platform = make_platform(WARNING_WATCH_INTERVAL="3600")
    platform.start()
    platform.wait_ready()
    began = time.monotonic()
    ns = platform.namespace
    receipts: list[dict] = []
    failures: list[str] = []
    load = threading.Thread(target=register_steadily, args=(platform, receipts, failures), daemon=True)
    load.start()

    stops = {}
    for name, after in (("supervision", PETITIONS // 4), ("notification", 3 * PETITIONS // 4)):
        wait_for(lambda a=after: len(receipts) >= a, timeout=60, what=f"{after} petitions registered")
        stops[name] = terminate_and_restart(platform, name)
    load.join(timeout=120)
    platform.wait_ready()
    print(f"load done {time.monotonic() - began:.1f} s")

    assert not failures and len(receipts) == PETITIONS
    ids = {receipt["id"] for receipt in receipts}
    for service, topic, per_petition in (("supervision", "Case.Opened", 1), ("supervision", "Case.Transferred", 1),
                                         ("notification", "Notice.Requested", 3)):
        wait_for(lambda s=service, t=topic, p=per_petition: total(ns, s, t) >= p * PETITIONS, timeout=120,
                 interval=0.5, what=f"every petition's {topic}")
    wait_for(lambda: len(smtp.received()) >= 3 * PETITIONS, timeout=120, interval=0.5, what="every e-mail")
    print(f"all handled {time.monotonic() - began:.1f} s")
    time.sleep(2)  # anything handled twice would show now

    assert counts_by_petition(ns, "supervision", "Case.Opened") == dict.fromkeys(ids, 1)
    assert counts_by_petition(ns, "supervision", "Case.Transferred") == dict.fromkeys(ids, 1)
    assert counts_by_petition(ns, "notification", "Notice.Requested") == dict.fromkeys(ids, 3)
    # Once each at the mail server: the receipt, the transfer notice and the organ's e-mail.
    message_ids = [message["Message-ID"] for message in smtp.received()]
    assert len(message_ids) == 3 * PETITIONS and len(set(message_ids)) == len(message_ids)
    for name, took in stops.items():
        log = platform.log(name)
        returned = graceful_stops(log)
        print(f"{name}: stopped {took:.2f} s after SIGTERM, {sum(returned)} messages returned to their queues")
        assert len(returned) == 1, f"{name} did not stop by itself"
        # The restarted instance saw no redelivery of a message its predecessor had already applied.
        assert metric_value(platform.metrics(name), "xinfang_events_handled_total", outcome="duplicate") == 0
        assert not [line for line in log.splitlines() if " ERROR " in line], f"{name} logged errors"
