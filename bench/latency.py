"""(b) End-to-end latency: from POST /api/v1/petitions to the routed organ showing in the petitioner's status
view, at a fixed offered rate (open loop: requests leave on schedule whether or not earlier ones finished).

The status view is the `case_views` document the gateway reads; the benchmark watches that collection directly
(every 10 ms, only documents changed since its last look) so that watching does not load the gateway it measures,
and spot-checks the HTTP view at the end. A petition counts as seen when the watcher first finds its organ.
The baseline, in the same run, is the same path unloaded: one petition at a time, two per second.
"""

from __future__ import annotations

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
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
        # Only views changed since the last look (indexed on updated_at), so watching adds little load.
        since = datetime.now(timezone.utc) - timedelta(seconds=1)
        while not self._stop.is_set():
            found = list(self._views.find({"updated_at": {"$gte": since}, "organ": {"$ne": None}},
                                          {"query_code": 1, "updated_at": 1}))
            now = time.perf_counter()
            with self._lock:
                for document in found:
                    if document["query_code"] in self.sent:
                        self.seen.setdefault(document["query_code"], now)
            if found:
                since = max(d["updated_at"] for d in found).replace(tzinfo=timezone.utc)
            self._stop.wait(0.01)

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
    client = httpx.Client(base_url=gateway, timeout=30, limits=httpx.Limits(max_connections=workers))
    failures = 0

    def one() -> None:
        nonlocal failures
        started = time.perf_counter()
        response = client.post("/api/v1/petitions", json=samples.petition())
        if response.status_code == 201:
            watcher.expect(response.json()["query_code"], started)
        else:
            failures += 1

    with ThreadPoolExecutor(workers) as pool:
        total = int(rate * seconds)
        start = time.perf_counter()
        for i in range(total):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one)
    client.close()
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
