"""The runtime the services run on: the pinned nameko/eventlet pair, and psycopg's C build under eventlet.

psycopg's C wait function blocks the whole eventlet process for the length of each query; shared/ selects
`wait_select` under eventlet so that concurrent queries in one service overlap. The control run shows the test
would catch a regression (e.g. an upgrade, or psycopg imported before shared/).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from tests.support.platform import ROOT, create_vhost, delete_vhost, unique_name
from tests.support.waiting import wait_for


@pytest.fixture
def vhost(namespace) -> Iterator[str]:
    """A vhost of its own: nameko's RPC queues are durable and not namespaced."""
    uri = create_vhost(namespace)
    yield uri
    delete_vhost(namespace)


def pinned(package: str) -> str:
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        name, _, pin = line.partition("==")
        if name.lower() == package.lower():
            return pin
    raise AssertionError(f"{package} is not pinned in requirements.lock")


@pytest.mark.parametrize("package", ["nameko", "eventlet", "kombu", "eventsourcing", "psycopg", "psycopg-binary"])
def test_the_installed_runtime_is_the_pinned_one(package):
    assert version(package) == pinned(package)


def run_sleepy_service(tmp_path: Path, namespace: str, amqp: dict[str, str],
                       wait_function: str | None) -> tuple[subprocess.Popen, str]:
    name = unique_name("sleepy_")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SLEEPY_SERVICE_NAME": name, "EVENT_STORE": "postgres",
           "AMQP_URI": amqp["AMQP_URI"],
           "POSTGRES_SCHEMA_PREFIX": f"{namespace}_", "POSTGRES_POOL_SIZE": "10", "XINFANG_ENV": "test"}
    env.pop("PSYCOPG_WAIT_FUNC", None)
    if wait_function:
        env["PSYCOPG_WAIT_FUNC"] = wait_function
    log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "nameko"), "run", "--config", str(ROOT / "deploy/nameko.yml"),
         "tests.support.sleepy_service"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    # Ready means answering RPC: nameko logs "starting services" before its consumers are bound.
    def answers() -> bool:
        with ClusterRpcProxy(amqp, timeout=5) as rpc:
            return bool(getattr(rpc, name).wait_function())

    try:
        wait_for(answers, timeout=60, interval=0.3, what="the sleepy service to answer RPC")
    except AssertionError:
        process.kill()
        raise
    return process, name


def ten_concurrent_queries(service: str, amqp: dict[str, str]) -> list[tuple[float, float]]:
    with ClusterRpcProxy(amqp, timeout=60) as rpc:
        calls = [getattr(rpc, service).sleep_in_postgres.call_async(0.3) for _ in range(10)]
        return [call.result() for call in calls]


@pytest.mark.parametrize(
    ("wait_function", "overlap"),
    [(None, True), ("wait_c", False)],
    ids=["default: shared/ selects wait_select", "control: psycopg's C wait blocks the process"],
)
def test_concurrent_queries_in_one_service_overlap(tmp_path, namespace, vhost, wait_function, overlap):
    amqp = {"AMQP_URI": vhost}
    process, service = run_sleepy_service(tmp_path, namespace, amqp, wait_function)
    try:
        with ClusterRpcProxy(amqp, timeout=30) as rpc:
            chosen = getattr(rpc, service).wait_function()
        intervals = ten_concurrent_queries(service, amqp)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    assert chosen.endswith("wait_select" if overlap else "wait_c")
    latest_start = max(start for start, _ in intervals)
    earliest_end = min(end for _, end in intervals)
    # Overlapping: every query had started before the first one finished. Serialised: they could not have.
    assert (latest_start < earliest_end) is overlap
