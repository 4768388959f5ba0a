"""Issue 14 §5: security headers on every response, no `server: uvicorn`, and request heads over the limits
answered in the platform's JSON form. Checked on the real process (the Procfile's command), since the server
header, the head limit and its answer belong to uvicorn, not to the app."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.conftest import reserve_namespace
from tests.support import samples
from tests.support.gateway_process import GatewayProcess
from tests.support.platform import ROOT, procfile_commands

DEPLOY = ROOT / "deploy"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, secantus) -> Iterator[GatewayProcess]:
    process = GatewayProcess(tmp_path_factory.mktemp("headers"), secantus.uri(reserve_namespace()),
                             GATEWAY_MAX_HEADER_BYTES="8192", GATEWAY_MAX_HEADER_COUNT="40")
    yield process
    process.stop()


def answers(gateway: GatewayProcess) -> dict[str, httpx.Response]:
    with httpx.Client(base_url=gateway.url, timeout=10) as client:
        return {
            "health": client.get("/healthz"),
            "status": client.get("/api/v1/status/ZZZZ-ZZZZ-ZZZZ-ZZZZ"),
            "invalid petition": client.post("/api/v1/petitions", json={"channel": "fax"}),
            "petition, intake down": client.post("/api/v1/petitions", json=samples.petition()),
            "officer record, no token": client.get("/api/v1/petitions/00000000-0000-0000-0000-000000000001"),
            "sign-in refused": client.post("/api/v1/auth/token", data={"username": "x", "password": "y"}),
            "unknown path": client.get("/nothing-here"),
            "schemas": client.get("/api/v1/schemas"),
            "docs": client.get("/docs"),
            "openapi": client.get("/openapi.json"),
        }


def test_every_response_carries_the_security_headers_and_no_server_header(gateway):
    for name, response in answers(gateway).items():
        headers = response.headers
        assert "server" not in headers, f"{name}: server header {headers.get('server')!r}"
        assert headers["x-content-type-options"] == "nosniff", name
        assert headers["referrer-policy"] == "no-referrer", name
        policy = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy, name
        assert "default-src 'none'" in policy or "default-src 'self'" in policy, name
        assert "unsafe-eval" not in policy and "*" not in policy, name


def test_personal_data_is_never_cached_and_public_schemas_may_be(gateway):
    got = answers(gateway)
    for name in ("status", "invalid petition", "petition, intake down", "officer record, no token",
                 "sign-in refused"):
        assert got[name].headers["cache-control"] == "no-store", name
    assert "no-store" not in got["schemas"].headers.get("cache-control", "")


def test_a_head_over_the_byte_limit_gets_the_json_431_not_an_english_400_or_a_reset(gateway):
    # Over GATEWAY_MAX_HEADER_BYTES: uvicorn's parser refuses it before the app runs.
    with httpx.Client(base_url=gateway.url, timeout=10) as client:
        response = client.get("/api/v1/status/ZZZZ-ZZZZ-ZZZZ-ZZZZ", headers={"X-Filler": "a" * 20_000})
    assert response.status_code == 431
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": "request_header_too_large", "message": "请求头过大或字段过多，请精简后重试"}
    assert "server" not in response.headers


def test_a_head_far_over_the_limit_is_answered_before_the_socket_closes(gateway):
    # 200 KB of headers: the server stops parsing long before the client stops sending; it must still answer.
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-F%d: %s\r\n" % (i, b"a" * 1000)
                                                               for i in range(200)) + b"\r\n"
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        sock.sendall(head)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    status_line, _, rest = received.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 431")
    assert json.loads(rest.partition(b"\r\n\r\n")[2])["error"] == "request_header_too_large"


def test_too_many_header_fields_get_the_json_431(gateway):
    with httpx.Client(base_url=gateway.url, timeout=10) as client:
        response = client.get("/healthz", headers={f"X-Field-{n}": "1" for n in range(60)})
    assert response.status_code == 431
    assert response.json()["message"] == "请求头过大或字段过多，请精简后重试"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_malformed_request_gets_the_json_400(gateway):
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n")
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert received.startswith(b"HTTP/1.1 400")
    assert json.loads(received.partition(b"\r\n\r\n")[2]) == {"error": "bad_request", "message": "请求格式不正确"}


def _gateway_commands() -> dict[str, list[str] | str]:
    compose = yaml.safe_load((DEPLOY / "compose.yml").read_text(encoding="utf-8"))
    k8s = next(d for d in yaml.safe_load_all((DEPLOY / "k8s" / "gateway.yaml").read_text(encoding="utf-8"))
               if d and d.get("kind") == "Deployment")
    dockerfile = Path(DEPLOY / "docker" / "Dockerfile").read_text(encoding="utf-8")
    cmd = next(line for line in dockerfile.splitlines() if line.startswith("CMD "))
    return {"Procfile": procfile_commands()["gateway"], "compose": compose["services"]["gateway"]["command"],
            "k8s": k8s["spec"]["template"]["spec"]["containers"][0]["command"], "Dockerfile": json.loads(cmd[4:])}


def test_every_deployment_serves_the_gateway_through_its_launcher():
    # `python -m services.gateway` is what turns off uvicorn's server header and forwarded-address trust;
    # a bare `uvicorn ...` command line would bring both back.
    for where, command in _gateway_commands().items():
        text = command if isinstance(command, str) else " ".join(command)
        assert "python -m services.gateway " in text + " ", f"{where}: {text}"
        assert "uvicorn" not in text, f"{where}: {text}"
    compose = (DEPLOY / "compose.yml").read_text(encoding="utf-8")
    assert "FORWARDED_ALLOW_IPS" not in compose and "GATEWAY_TRUSTED_PROXIES" in compose
    assert "GATEWAY_TRUSTED_PROXIES" in (DEPLOY / "k8s" / "gateway.yaml").read_text(encoding="utf-8")
