"""(b) End-to-end latency: from POST /api/v1/petitions to the routed organ showing in the petitioner's status
view, at a fixed offered rate (open loop: requests leave on schedule whether or not earlier ones finished).

The status view is the `case_views` document the gateway reads; the benchmark watches that collection directly
(every 50 ms, by the query codes still waiting: latencies are measured to within 50 ms) so that watching does not load the gateway it measures,
and spot-checks the HTTP view at the end. A petition counts as seen when the watcher first finds its organ.
The baseline, in the same run, is the same path unloaded: one petition at a time, two per second.
"""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from pymongo import MongoClient

from tests.support import samples
from tests.support.platform import TestPlatform, platform_env


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


class Watcher:
    """Records when each query code's view first shows an organ."""

    def __init__(self, mongodb_uri: str) -> None:
        self._views = MongoClient(mongodb_uri).get_default_database()["case_views"]
        self.sent: dict[str, float] = {}
        self.seen: dict[str, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def expect(self, query_code: str, sent_at: float) -> None:
        with self._lock:
            self.sent[query_code] = sent_at

    def _run(self) -> None:
        # Looks up only the petitions still waiting, by their query code (the view's unique index).
        while not self._stop.is_set():
            with self._lock:
                waiting = [code for code in self.sent if code not in self.seen]
            if waiting:
                found = self._views.find({"query_code": {"$in": waiting}, "organ": {"$ne": None}}, {"query_code": 1})
                now = time.perf_counter()
                with self._lock:
                    for document in found:
                        self.seen.setdefault(document["query_code"], now)
            self._stop.wait(0.05)

    def latencies(self) -> list[float]:
        with self._lock:
            return [self.seen[c] - self.sent[c] for c in self.sent if c in self.seen]

    def wait_all(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.seen) >= len(self.sent):
                    return
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
        started = time.perf_counter()
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

    bodies = [json.dumps(samples.petition()).encode() for _ in range(64)]
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
    return {"count": len(latencies), "p50_ms": percentile(latencies, 0.5) * 1000,
            "p99_ms": percentile(latencies, 0.99) * 1000, "max_ms": max(latencies) * 1000,
            "mean_ms": statistics.mean(latencies) * 1000}


def run(namespace: str, mongodb_uri: str, smtp_port: int, folder: Path, rate: float = 50.0,
        seconds: float = 20.0) -> dict[str, object]:
    env = platform_env(namespace=namespace, mongodb_uri=mongodb_uri, smtp_port=smtp_port, data_dir=folder / "data",
                       LOG_LEVEL="WARNING")
    platform = TestPlatform(env, folder / "logs")
    try:
        platform.start()
        platform.wait_ready()
        warm = Watcher(mongodb_uri)
        offer(platform.gateway_url, warm, rate=10, seconds=2)
        warm.wait_all(30)
        warm.close()

        idle = Watcher(mongodb_uri)
        offer(platform.gateway_url, idle, rate=2, seconds=10)
        idle.wait_all(30)
        idle.close()

        loaded = Watcher(mongodb_uri)
        failures = offer(platform.gateway_url, loaded, rate=rate, seconds=seconds)
        loaded.wait_all(60)
        loaded.close()
        offered = int(rate * seconds)
        sample = next(iter(loaded.seen))
        shown = httpx.get(f"{platform.gateway_url}/api/v1/status/{sample}", timeout=10).json()
        assert shown["organ"], "the status view must show the organ the watcher saw"
        return {"rate_per_s": rate, "seconds": seconds, "offered": offered, "failed": failures,
                "unrouted": offered - failures - len(loaded.seen),
                "loaded": summary(loaded.latencies()), "unloaded": summary(idle.latencies())}
    finally:
        platform.close()
