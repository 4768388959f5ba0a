"""Issue 14 §5: a body over the limit gives every client the Chinese 413, Python's urllib posting 6 MB included
(it got a connection reset every time: the gateway answered and closed while the client was still sending).
Against the real process, as started by the Procfile."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import reserve_namespace
from tests.support.gateway_process import GatewayProcess

SIX_MB = json.dumps({"title": "附件", "facts_and_reasons": "事" * (2 * 1024 * 1024)}).encode()  # 3 bytes a 事


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, secantus) -> Iterator[GatewayProcess]:
    process = GatewayProcess(tmp_path_factory.mktemp("body"), secantus.uri(reserve_namespace()))
    yield process
    process.stop()


def post_with_urllib(url: str, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_urllib_posting_6_mb_reads_the_chinese_413(gateway):
    assert len(SIX_MB) > 6_000_000
    for _ in range(3):  # every time, not by luck of timing
        status, body = post_with_urllib(f"{gateway.url}/api/v1/petitions", SIX_MB)
        assert status == 413
        assert body["error"] == "payload_too_large"
        assert body["message"].startswith("提交的内容过大")


def test_a_chunked_6_mb_body_reads_the_413_and_the_connection_stays_usable(gateway):
    def chunks() -> Iterator[bytes]:
        for start in range(0, len(SIX_MB), 65536):
            yield SIX_MB[start:start + 65536]

    with httpx.Client(base_url=gateway.url, timeout=30) as client:
        refused = client.post("/api/v1/petitions", content=chunks(), headers={"Content-Type": "application/json"})
        assert refused.status_code == 413
        assert refused.json()["error"] == "payload_too_large"
        assert client.get("/api/v1/status/ZZZZ-ZZZZ-ZZZZ-ZZZZ").status_code in (404, 503)


def test_an_expect_100_continue_client_is_refused_without_sending_the_body(gateway):
    import socket

    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        sock.sendall(b"POST /api/v1/petitions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 6000000\r\nExpect: 100-continue\r\n\r\n")
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413")
