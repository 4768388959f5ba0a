"""Issue 14 §5: `POST /api/v1/petitions` with an `Idempotency-Key`: a retry after a 503 returns the first receipt
and registers nothing twice.

The 503 is reproduced as it happens: intake registers the petition, but its answer never reaches the gateway
(a relay between them swallows it), so the gateway's call to intake times out. intake and the gateway are the
real processes from the Procfile; registrations are counted by intake's own metric."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import reserve_namespace
from tests.support import samples
from tests.support.platform import TestPlatform, metric_value, platform_env
from tests.support.servers import free_port
from tests.support.waiting import wait_for


class AnswerSwallowingRelay:
    """A TCP relay to intake that passes requests on, and passes answers back only while `answering` is set."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.answering = threading.Event()
        self.answering.set()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            except OSError:  # intake not listening yet: refuse this one and keep accepting (a dead accept
                client.close()  # loop left the gateway waiting on a backlog no one read, and never healthy)
                continue
            threading.Thread(target=self._pipe, args=(client, upstream, None), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, self.answering), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket, gate: threading.Event | None) -> None:
        try:
            while data := source.recv(65536):
                if gate is None or gate.is_set():
                    target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.close()
                except OSError:
                    pass

    def close(self) -> None:
        self.listener.close()


@pytest.fixture(scope="module")
def edge(tmp_path_factory, secantus) -> Iterator[tuple[TestPlatform, AnswerSwallowingRelay]]:
    namespace = reserve_namespace()
    folder = tmp_path_factory.mktemp("idempotency")
    intake_port = free_port()
    env = platform_env(namespace=namespace, mongodb_uri=secantus.uri(namespace), smtp_port=free_port(),
                       data_dir=folder / "data", INTAKE_HTTP_ADDRESS=f"127.0.0.1:{intake_port}",
                       GATEWAY_INTAKE_TIMEOUT="2")
    relay = AnswerSwallowingRelay(intake_port)
    env["INTAKE_URLS"] = f"http://127.0.0.1:{relay.port}"
    running = TestPlatform(env, folder / "logs")
    try:
        running.start("intake", "gateway")
        running.wait_ready()
        yield running, relay
    finally:
        relay.close()
        running.close()
        print(running.dump_logs())


def registered(platform: TestPlatform) -> float:
    return metric_value(platform.metrics("intake"), "xinfang_petitions_registered_total")


def test_a_retry_after_a_503_returns_the_first_receipt_and_registers_nothing_twice(edge):
    platform, relay = edge
    petition = samples.petition(title="重试不应重复登记")
    headers = {"Idempotency-Key": "3f0c5e2a-8d1b-4c7e-9a55-1f2e3d4c5b6a"}
    before = registered(platform)
    with platform.http() as gateway:
        relay.answering.clear()
        try:
            first = gateway.post("/api/v1/petitions", json=petition, headers=headers)
            assert first.status_code == 503
            wait_for(lambda: registered(platform) == before + 1, what="intake to have registered the first attempt")
        finally:
            relay.answering.set()
        retry = gateway.post("/api/v1/petitions", json=petition, headers=headers)
        again = gateway.post("/api/v1/petitions", json=petition, headers=headers)
        assert retry.status_code == again.status_code == 201, retry.text
        assert retry.json() == again.json()
        assert registered(platform) == before + 1, "the retries registered the petition again"
        status = gateway.get(f"/api/v1/status/{retry.json()['query_code']}")
        assert status.status_code == 200 and status.json()["title"] == "重试不应重复登记"


def test_the_same_key_at_the_same_moment_registers_once(edge):
    platform, _relay = edge
    petition = samples.petition()
    before = registered(platform)
    with platform.http() as gateway, ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: gateway.post("/api/v1/petitions", json=petition,
                                                       headers={"Idempotency-Key": "same-moment"}), range(4)))
    assert {a.status_code for a in answers} == {201}
    assert len({(a.json()["id"], a.json()["query_code"]) for a in answers}) == 1
    assert registered(platform) == before + 1


def test_a_different_petition_under_a_used_key_is_refused_in_chinese(edge):
    platform, _relay = edge
    petition = samples.petition()
    changed = {**petition, "title": "另一件事"}
    with platform.http() as gateway:
        first = gateway.post("/api/v1/petitions", json=petition, headers={"Idempotency-Key": "k-409"})
        other = gateway.post("/api/v1/petitions", json=changed, headers={"Idempotency-Key": "k-409"})
        fresh = gateway.post("/api/v1/petitions", json=changed, headers={"Idempotency-Key": "k-410"})
        # Another petitioner's keys are their own: the same key neither collides nor tells them it was used.
        someone_else = gateway.post("/api/v1/petitions", json=samples.petition(), headers={"Idempotency-Key": "k-409"})
    assert first.status_code == 201 and fresh.status_code == 201 and someone_else.status_code == 201
    assert other.status_code == 409
    assert other.json()["error"] == "idempotency_key_reused"
    assert "Idempotency-Key" in other.json()["message"] and "不同" in other.json()["message"]
    assert fresh.json()["id"] != first.json()["id"] != someone_else.json()["id"]


@pytest.mark.parametrize("key", ["", "x" * 65, "a%E9", "a b", "a/b"])
def test_a_malformed_key_is_refused_in_chinese(edge, key):
    platform, _relay = edge
    with platform.http() as gateway:
        response = gateway.post("/api/v1/petitions", json=samples.petition(), headers={"Idempotency-Key": key})
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_idempotency_key"
    assert "Idempotency-Key" in response.json()["message"]
