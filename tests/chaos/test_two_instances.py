"""Two instances of every service on the same queues, under a steady load: each petition is routed once, each
notice sent once per channel, and each case's events applied in the order the domain needs (docs/operations.md,
"Running more instances of one service").

Every service and follower of the Procfile runs twice (the gateway and the checkpointer once), started as an
operator would (the same command, its metrics on a port of its own; intake's second HTTP address listed in the
gateway's INTAKE_URLS). The nameko services compete for
their queues' messages; the followers (relays, projector, dispatcher) hold one advisory lock per store, so one of
each pair works and the other stands by.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from email.header import decode_header, make_header
from typing import Any
from uuid import UUID

import httpx
import psycopg
import pytest
from pymongo import MongoClient

from shared.language.contracts.notices import NoticeKind
from shared.runtime.messaging import topology
from tests.support import samples
from tests.support.platform import PG_CONNINFO, consumers, metric_value, queue_depth
from tests.support.servers import free_port
from tests.support.waiting import wait_for

pytestmark = pytest.mark.chaos

PETITIONS = 240
RATE = 12.0  # petitions a second: ~20 s of steady load
NAMEKO_SERVICES = ("intake", "routing", "supervision", "notification", "audit")
RPC_SERVICES = ("intake", "supervision", "notification", "audit")  # routing serves no RPC
FOLLOWERS = ("intake-relay", "routing-relay", "supervision-relay", "supervision-projector", "notification-relay",
             "notification-dispatcher")
SECOND = "-2"  # the second instance of `x` runs as `x-2`
# Per petition (no SMS provider configured here: those deliveries wait, recorded nowhere): the receipt and the
# transfer notice to the petitioner, each on the status page and by e-mail, and the organ's notice by e-mail.
NOTICES, DELIVERIES, EMAILS = 3, 5, 3
PETITIONER_NOTICES = {"信访事项登记回执", "信访事项转送告知书"}


def stored(namespace: str, service: str) -> dict[str, list[tuple[int, str, dict[str, Any]]]]:
    """Each aggregate's stored events in a service's store, in version order: (version, topic's class, state)."""
    events: dict[str, list[tuple[int, str, dict[str, Any]]]] = defaultdict(list)
    query = (f'SELECT originator_id, originator_version, topic, state FROM "{namespace}_{service}".'
             f'"{service}_events" ORDER BY originator_id, originator_version')
    with psycopg.connect(PG_CONNINFO, autocommit=True) as connection:
        for originator, version, topic, state in connection.execute(query):
            events[str(originator)].append((version, topic.rpartition(":")[2], json.loads(bytes(state), object_hook=plain)))
    return events


def plain(value: dict[str, Any]) -> Any:
    """A stored event's state as plain JSON: the library's transcoder writes a UUID as {"_type_": "uuid_hex"}."""
    if value.get("_type_") == "uuid_hex":
        return str(UUID(value["_data_"]))
    return value


def count(events: dict[str, list[tuple[int, str, dict[str, Any]]]], topic: str) -> int:
    return sum(1 for history in events.values() for _, t, _ in history if t == topic)


def followers_active(metrics: str) -> dict[str, float]:
    """xinfang_follower_active by follower, as one process exports it."""
    found = re.findall(r'^xinfang_follower_active\{follower="([^"]+)"\} (\S+)$', metrics, re.MULTILINE)
    return {follower: float(value) for follower, value in found}


def one_works(platform, process: str) -> bool:
    """Each follower of `process` is active in one instance and standing by in the other (both say so: a gauge
    merely missing would read as 0). Usually the first instance works, having started first."""
    first, second = (followers_active(platform.metrics(p)) for p in (process, process + SECOND))
    return bool(first) and first.keys() == second.keys() \
        and all({first[f], second[f]} == {0, 1} for f in first)


def register_at_a_steady_rate(gateway_url: str) -> list[dict[str, Any]]:
    """POST PETITIONS petitions at RATE a second (open loop: a slow answer does not hold the next one back)."""
    local = threading.local()

    def post(index: int) -> dict[str, Any]:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=gateway_url, timeout=30)
        response = local.client.post("/api/v1/petitions", json=samples.petition(title=f"两个实例{index}"))
        assert response.status_code == 201, response.text
        return response.json()

    start = time.monotonic()
    with ThreadPoolExecutor(16) as pool:
        futures = []
        for index in range(PETITIONS):
            time.sleep(max(0.0, start + index / RATE - time.monotonic()))
            futures.append(pool.submit(post, index))
        return [f.result() for f in futures]


def test_two_instances_of_every_service_route_and_notify_each_petition_once(make_platform, smtp):
    second_intake = free_port()
    platform = make_platform(NOTICE_NICENESS="0")  # the notice processes as equals: the test waits for them
    # The gateway spreads registrations over both intakes (round robin); set before it starts.
    platform.env["INTAKE_URLS"] += f",http://127.0.0.1:{second_intake}"
    platform.start()
    platform.wait_ready()
    for process in (*NAMEKO_SERVICES, *FOLLOWERS):
        extra = {"INTAKE_HTTP_ADDRESS": f"127.0.0.1:{second_intake}"} if process == "intake" else None
        platform.start_instance(process, process + SECOND, extra)
    ns, admin = platform.namespace, platform.env["AMQP_URI"]

    # Both instances on each queue before any load: every subscription and every RPC queue has two consumers.
    for subscription in topology.SUBSCRIPTIONS:
        queue = topology.queue_name(ns, subscription.service, subscription.handler)
        wait_for(lambda q=queue: consumers(q, admin) == 2, timeout=60, interval=0.3, what=f"two consumers on {queue}")
    for service in RPC_SERVICES:
        wait_for(lambda s=service: consumers(f"rpc-{s}", admin) == 2, timeout=60, interval=0.3,
                 what=f"two instances of {service} taking RPC calls")
    # One follower of each pair works, the other stands by (each reports itself).
    for process in FOLLOWERS:
        wait_for(lambda p=process: one_works(platform, p), timeout=60, interval=0.3,
                 what=f"one {process} to work and the other to stand by")

    receipts = register_at_a_steady_rate(platform.gateway_url)
    ids = {r["id"] for r in receipts}
    assert len(ids) == PETITIONS

    # --- every petition routed once --------------------------------------------------------------------------
    wait_for(lambda: count(stored(ns, "routing"), "Assignment.Routed") >= PETITIONS, timeout=90, interval=1,
             what="every petition to be routed")
    routing = stored(ns, "routing")
    routed = Counter(pid for pid, history in routing.items() for _, topic, _ in history if topic == "Assignment.Routed")
    assert set(routed) == ids and set(routed.values()) == {1}

    # --- every notice sent once per channel --------------------------------------------------------------------
    wait_for(lambda: count(stored(ns, "notification"), "Delivery.Concluded") >= DELIVERIES * PETITIONS
             and len(smtp.received()) >= EMAILS * PETITIONS, timeout=90, interval=1,
             what="every delivery to be recorded and every e-mail to arrive")
    notification = stored(ns, "notification")
    requested = Counter((state["petition_id"], state["kind"]) for history in notification.values()
                        for _, topic, state in history if topic == "Notice.Requested")
    assert {pid for pid, _ in requested} == ids
    assert set(requested.values()) == {1}, [k for k, n in requested.items() if n > 1]
    assert len(requested) == NOTICES * PETITIONS
    assert count(notification, "Delivery.Concluded") == DELIVERIES * PETITIONS
    assert all(sum(1 for _, t, _ in history if t == "Delivery.Concluded") <= 1 for history in notification.values())
    mails = smtp.received()
    assert len(mails) == EMAILS * PETITIONS
    assert len({m["Message-ID"] for m in mails}) == len(mails)  # one e-mail per notice: none sent twice
    by_code: dict[str, list[str]] = defaultdict(list)
    for mail in mails:
        body = mail.get_payload(decode=True).decode()
        for receipt in receipts:
            if receipt["query_code"] in body:
                by_code[receipt["query_code"]].append(str(make_header(decode_header(mail["Subject"]))))
    assert {code: sorted(subjects) for code, subjects in by_code.items()} == {
        r["query_code"]: sorted(PETITIONER_NOTICES) for r in receipts}

    # --- each case's events in the order the domain needs ------------------------------------------------------
    def settled() -> dict[str, list[tuple[int, str, dict[str, Any]]]] | None:
        cases = stored(ns, "supervision")
        # Both petitioner notices' first deliveries recorded on every case (the organ's is not the petitioner's).
        done = all(sum(1 for _, t, _ in cases.get(pid, []) if t == "Case.NoticeDelivered") == 2 for pid in ids)
        return cases if done else None

    cases = wait_for(settled, timeout=60, interval=1, what="every case to record its two notices' deliveries")
    assert set(cases) >= ids
    for pid in ids:
        history = cases[pid]
        topics = [topic for _, topic, _ in history]
        assert [v for v, _, _ in history] == list(range(1, len(history) + 1)), (pid, topics)
        assert topics[0] == "Case.Opened", (pid, topics)  # opened before anything else was applied
        assert topics.count("Case.Opened") == 1 and topics.count("Case.Transferred") == 1, (pid, topics)
        notices = [(index, state) for index, (_, topic, state) in enumerate(history) if topic == "Case.NoticeDelivered"]
        assert len({n["notice_id"] for _, n in notices}) == len(notices), (pid, topics)  # none recorded twice
        # The transfer notice is written from the transfer step: its delivery is applied after the transfer.
        transfer_notices = [index for index, n in notices if n["kind"] == NoticeKind.TRANSFER_NOTICE]
        assert len(transfer_notices) == 1 and transfer_notices[0] > topics.index("Case.Transferred"), (pid, topics)

    # The projector's read model shows each case at its stored version and status.
    final = {pid: ([s["status"] for _, _, s in cases[pid] if "status" in s] or [None])[-1] for pid in ids}
    heads = {pid: len(cases[pid]) for pid in ids}
    with MongoClient(platform.env["MONGODB_URI"], serverSelectionTimeoutMS=5000) as client:
        views_collection = client.get_default_database()["case_views"]

        def views() -> dict[str, dict[str, Any]] | None:
            found = {v["_id"]: v for v in views_collection.find({}, {"version": 1, "status": 1})}
            return found if all(found.get(pid, {}).get("version") == heads[pid] for pid in ids) else None

        shown = wait_for(views, timeout=60, interval=1, what="every case view at its case's stored version")
    assert {pid: shown[pid]["status"] for pid in ids} == final
    assert set(final.values()) == {"awaiting_acceptance"}

    # --- both instances of each service did the work ---------------------------------------------------------
    for service in ("routing", "supervision", "notification"):
        for instance in (service, service + SECOND):
            text = platform.metrics(instance)
            assert metric_value(text, "xinfang_events_handled_total", outcome="processed") > 0, instance
            assert metric_value(text, "xinfang_events_failed_total", disposition="dead_lettered") == 0, instance
            assert metric_value(text, "xinfang_events_failed_total", disposition="requeued") == 0, instance
            print(instance, "processed", metric_value(text, "xinfang_events_handled_total", outcome="processed"),
                  "duplicate", metric_value(text, "xinfang_events_handled_total", outcome="duplicate"),
                  "retried", metric_value(text, "xinfang_events_failed_total", disposition="retried"))
    for instance in ("intake", "intake" + SECOND):
        assert metric_value(platform.metrics(instance), "xinfang_petitions_registered_total") > 0, instance
    for subscription in topology.SUBSCRIPTIONS:  # nothing left over, nothing dead-lettered
        queue = topology.queue_name(ns, subscription.service, subscription.handler)
        assert queue_depth(ns, queue, admin) == 0, queue
        assert queue_depth(ns, topology.dead_letter_queue(ns, subscription).name, admin) == 0, queue
    for process in FOLLOWERS:  # still one worker per follower: the standby never took over
        assert one_works(platform, process), process
    # Conflicts between the instances and events ahead of their case are expected, and handled: never an error.
    assert [name for name in platform.processes if " ERROR " in platform.log(name)] == []
