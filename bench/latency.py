"""(b) End-to-end latency: from POST /api/v1/petitions to the routed organ showing in the petitioner's status
view, at a fixed offered rate (open loop: requests leave on schedule whether or not earlier ones finished).

The status view is the `case_views` document the gateway reads; the benchmark follows that collection's change
stream, so that watching does not load the gateway it measures. A petition counts as shown when the first version
of its view with an organ is written: the change's `wallTime`, the server's clock at the write (both clocks are
this machine's). So the watcher need not wake for every change: it lets them gather between reads, which keeps
its own load on the read-model server small. Each petition's receipt is timed too (its `delivered_at` in the
inbox), and the CPU measured includes the receipts' work, which runs behind the path to the organ under load.
The baseline, in the same run, is the same path unloaded: one petition at a time, two per second.
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from pymongo import MongoClient

from bench import cpu
from tests.support import samples
from tests.support.platform import TestPlatform, metric_value, platform_env
from tests.support.sms_provider import ACCOUNT as SMS_ACCOUNT
from tests.support.sms_provider import SECRET as SMS_SECRET
from tests.support.sms_provider import SmsProvider

# Between reads of the change stream. The shown time is the server's write time, so this delays only the reading:
# reading every 0.05 s cost the read-model server ~1.2 ms of CPU per watched write at 30 writes/s, every 0.25 s
# ~0.15-0.5 ms (measured alone: 1.93 ms per insert without a watcher).
GATHER_SECONDS = 0.25


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


class Watcher:
    """Records when each petition's view first shows an organ, from a change stream on the view collection:
    exact times, and no polling load on the server being measured."""

    def __init__(self, mongodb_uri: str) -> None:
        self._views = MongoClient(mongodb_uri).get_default_database()["case_views"]
        self._sent: dict[str, float] = {}
        self._shown: dict[str, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def expect(self, query_code: str, sent_at: float) -> None:
        with self._lock:
            self._sent[query_code] = sent_at

    def _run(self) -> None:
        routed = [{"$match": {"operationType": {"$in": ["insert", "replace"]},
                              "fullDocument.organ": {"$ne": None}}}]
        with self._views.watch(routed, max_await_time_ms=100) as stream:
            self._ready.set()
            while not self._stop.is_set():
                change = stream.try_next()
                if change is not None:
                    written = change["wallTime"].replace(tzinfo=UTC).timestamp()
                    with self._lock:
                        self._shown.setdefault(change["fullDocument"]["query_code"], written)
                if not getattr(getattr(stream, "_cursor", None), "_data", True):
                    time.sleep(GATHER_SECONDS)  # the batch is drained: let the next changes gather

    @property
    def seen(self) -> set[str]:
        with self._lock:
            return {code for code in self._sent if code in self._shown}

    @property
    def sent(self) -> dict[str, float]:
        with self._lock:
            return dict(self._sent)

    def latencies(self) -> list[float]:
        with self._lock:
            return [self._shown[c] - self._sent[c] for c in self._sent if c in self._shown]

    def unseen_states(self) -> dict[str, int]:
        """For petitions whose routed view never came through the change stream: what their view shows now (an
        organ: the stream missed or delayed it; no organ or no view: the platform has not routed it)."""
        with self._lock:
            unseen = [code for code in self._sent if code not in self._shown]
        states: dict[str, int] = {}
        for code in unseen:
            view = self._views.find_one({"query_code": code}, {"organ": 1})
            state = "no view" if view is None else "organ shown" if view.get("organ") else "no organ yet"
            states[state] = states.get(state, 0) + 1
        return states

    def receipt_latencies(self, delivered: Callable[[], float], before: float, timeout: float) -> list[float]:
        """POST -> the registration receipt in the petitioner's inbox (its `delivered_at`), for every petition
        seen routed: waits until each has one, so the CPU measured includes the notices' work even where they ran
        behind the path to the organ (PROCESS_NICENESS). `delivered()` is the dispatcher's count of inbox
        deliveries, `before` that count when the measure began: the read-model server is queried only once it
        says every receipt may be there."""
        inbox = self._views.database["inbox_messages"]
        with self._lock:
            sent = {code: self._sent[code] for code in self._sent if code in self._shown}
        receipts = {"query_code": {"$in": list(sent)}, "kind": "registration_receipt"}
        deadline = time.monotonic() + timeout
        found: dict[str, Any] = {}
        while time.monotonic() < deadline:
            if delivered() >= before + len(sent):
                found = {m["query_code"]: m["delivered_at"]
                         for m in inbox.find(receipts, {"query_code": 1, "delivered_at": 1})}
                if len(found) >= len(sent):
                    break
            time.sleep(0.5)
        return [found[c].replace(tzinfo=UTC).timestamp() - sent[c] for c in sent if c in found]

    def wait_all(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.seen) < len(self.sent):
            time.sleep(0.05)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def offer(gateway: str, watcher: Watcher, rate: float, seconds: float, workers: int = 48) -> int:
    """Open-loop load: petition i leaves at start + i/rate. A plain keep-alive connection per worker thread, so the
    load generator itself takes little of the machine it shares with the platform."""
    host, port = gateway.removeprefix("http://").split(":")
    local = threading.local()
    failures = 0

    def one(body: bytes) -> None:
        nonlocal failures
        connection = getattr(local, "connection", None) or http.client.HTTPConnection(host, int(port), timeout=30)
        local.connection = connection
        started = time.time()  # wall clock, as the view's write time is
        try:
            connection.request("POST", "/api/v1/petitions", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            answer = response.read()
        except (OSError, http.client.HTTPException):
            local.connection = None
            failures += 1
            return
        if response.status == 201:
            watcher.expect(json.loads(answer)["query_code"], started)
        else:
            failures += 1

    # Distinct petitioners, as in life (one person's petitions are checked against each other: the repeat check).
    bodies = [json.dumps(samples.petition()).encode() for _ in range(int(rate * seconds) + 1)]
    with ThreadPoolExecutor(workers) as pool:
        total = int(rate * seconds)
        start = time.perf_counter()
        for i in range(total):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, bodies[i % len(bodies)])
    return failures


def summary(latencies: list[float]) -> dict[str, float]:
    if not latencies:
        return {"count": 0, "p50_ms": float("inf"), "p99_ms": float("inf"), "max_ms": float("inf"), "mean_ms": 0.0}
    return {"count": len(latencies), "p50_ms": percentile(latencies, 0.5) * 1000,
            "p99_ms": percentile(latencies, 0.99) * 1000, "max_ms": max(latencies) * 1000,
            "mean_ms": statistics.mean(latencies) * 1000}


def inbox_deliveries(platform: TestPlatform) -> float:
    return metric_value(platform.metrics("notification-dispatcher"), "xinfang_notices_delivered_total", channel="inbox")


def measure(platform: TestPlatform, mongodb_uri: str, rate: float, seconds: float) -> dict[str, object]:
    watcher = Watcher(mongodb_uri)
    delivered = partial(inbox_deliveries, platform)
    delivered_before = delivered()
    before = cpu.snapshot()
    failures = offer(platform.gateway_url, watcher, rate=rate, seconds=seconds)
    watcher.wait_all(120)
    receipts = summary(watcher.receipt_latencies(delivered, delivered_before, 180))
    time.sleep(3)  # the projections of the receipts' deliveries
    after = cpu.snapshot()
    watcher.close()
    offered = int(rate * seconds)
    return {"rate_per_s": rate, "offered": offered, "failed": failures,
            "unrouted": offered - failures - len(watcher.seen), "unseen": watcher.unseen_states(),
            **summary(watcher.latencies()), "receipts": receipts,
            "cpu_ms_per_petition": cpu.per_item(before, after, len(watcher.seen))}


def run(namespace: str, mongodb_uri: str, smtp_port: int, folder: Path, rate: float = 50.0,
        seconds: float = 20.0, fallback_rates: tuple[float, ...] = (40, 30, 20, 10)) -> dict[str, object]:
    """The target rate, then lower rates until p99 is under a second: the rate this machine sustains."""
    # Every notice on: the status page, e-mail (the SMTP sink) and SMS (a stand-in provider, as in the tests);
    # BENCH_NO_SMS=1 leaves SMS out, to see what it costs.
    sms = SmsProvider()
    sms_settings = {} if os.environ.get("BENCH_NO_SMS") else {
        "SMS_URL": sms.url, "SMS_ACCOUNT": SMS_ACCOUNT, "SMS_SECRET": SMS_SECRET}
    env = platform_env(namespace=namespace, mongodb_uri=mongodb_uri, smtp_port=smtp_port, data_dir=folder / "data",
                       LOG_LEVEL="WARNING", **sms_settings)
    # The followers measure their lag as deployed, at the setting's default (the tests' platform does it ten times as
    # often, to see stalls within a test's patience: ~17 followers each reading the store's head and their position).
    env.pop("FOLLOWER_WATCH_INTERVAL")
    platform = TestPlatform(env, folder / "logs")
    try:
        platform.start()
        platform.wait_ready()
        warm = Watcher(mongodb_uri)
        offer(platform.gateway_url, warm, rate=10, seconds=2)
        warm.wait_all(30)
        warm.close()
        unloaded = measure(platform, mongodb_uri, rate=2, seconds=10)
        loaded = [measure(platform, mongodb_uri, rate=rate, seconds=seconds)]
        for lower in fallback_rates:
            if loaded[-1]["p99_ms"] < 1000:
                break
            loaded.append(measure(platform, mongodb_uri, rate=lower, seconds=seconds))
        sample = httpx.get(f"{platform.gateway_url}/api/v1/status/ZZZZ-ZZZZ-ZZZZ-ZZZZ", timeout=10)
        assert sample.status_code == 404, "the status view answers"
        return {"unloaded": unloaded, "loaded": loaded, "sms_sent": len(sms.received())}
    finally:
        platform.close()
        sms.stop()
