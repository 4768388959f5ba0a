"""The gateway's edge, in-process, with real read models and no intake behind it: rate limits, size limits,
sign-in failures, and odd input that must never produce a 500."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from services.gateway.security import Role
from services.gateway.service import create_app
from services.gateway.settings import GatewaySettings
from services.gateway.users import add_user
from tests.support import samples
from tests.support.servers import free_port

SECRET = "x" * 40


@pytest.fixture
def gateway(tmp_path, read_models, monkeypatch):
    def build(**overrides) -> TestClient:
        users = tmp_path / "users.json"
        if not users.exists():
            add_user(users, "clerk", Role.CLERK, "330106-XFJ", "登记员", "a long enough password")
        settings = GatewaySettings(
            XINFANG_ENV="test", GATEWAY_JWT_SECRET=SECRET, MONGODB_URI=read_models, GATEWAY_USERS_FILE=str(users),
            INTAKE_URLS=f"http://127.0.0.1:{free_port()}",  # nothing listens there
            AMQP_URI="amqp://guest:guest@127.0.0.1:5672/", **overrides)
        return TestClient(create_app(settings), raise_server_exceptions=False)

    return build


def test_public_endpoints_are_rate_limited_per_client_with_a_chinese_message(gateway):
    client = gateway(GATEWAY_PUBLIC_RATE_LIMIT="3/minute")
    codes = [client.get("/api/v1/status/ZZZZ-ZZZZ-ZZZZ-ZZZZ").status_code for _ in range(3)]
    limited = client.get("/api/v1/status/ZZZZ-ZZZZ-ZZZZ-ZZZZ")

    assert 429 not in codes
    assert limited.status_code == 429
    assert limited.json() == {"error": "rate_limited", "message": "请求过于频繁，请稍后再试"}
    assert int(limited.headers["Retry-After"]) >= 1


def test_sign_in_failures_are_401_and_brute_force_is_limited(gateway):
    client = gateway(GATEWAY_LOGIN_RATE_LIMIT="2/minute")
    wrong = client.post("/api/v1/auth/token", data={"username": "clerk", "password": "wrong"})
    unknown = client.post("/api/v1/auth/token", data={"username": "nobody", "password": "wrong"})
    third = client.post("/api/v1/auth/token", data={"username": "clerk", "password": "a long enough password"})

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["message"] == "用户名或密码错误"
    assert third.status_code == 429


def test_a_signed_in_clerk_gets_a_token_that_the_officer_endpoints_accept(gateway):
    client = gateway()
    token = client.post("/api/v1/auth/token", data={"username": "clerk", "password": "a long enough password"})
    assert token.status_code == 200
    assert token.json()["role"] == "clerk"
    # The record lives in intake, which is down here: the officer gets 503, not a 500 or a 401.
    response = client.get("/api/v1/petitions/00000000-0000-0000-0000-000000000001",
                          headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert response.status_code == 503
    assert response.json()["message"] == "服务暂时无法访问，请稍后重试"


def test_an_oversized_body_is_refused_before_it_is_read(gateway):
    client = gateway(GATEWAY_MAX_BODY_BYTES=2048)
    response = client.post("/api/v1/petitions", content=json.dumps(samples.petition(facts_and_reasons="事" * 5000)),
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


ODD_BODIES = [
    b"", b"null", b"[]", b"[1,2,3]", b'"text"', b"123", b"{}", b'{"petitioner": null}',
    b'{"petitioner": []}', b'{"people_count": 1e309}', b'{"attachments": {"a": 1}}', b"\xff\xfe\x00",
    json.dumps({**samples.petition(), "people_count": 10**30}).encode(),
    json.dumps({**samples.petition(), "title": None}).encode(),
    json.dumps({**samples.petition(), "petitioner": {**samples.petition()["petitioner"], "email": 5}}).encode(),
]


@pytest.mark.parametrize("body", ODD_BODIES)
def test_odd_input_gets_a_422_in_chinese_never_a_500(gateway, body):
    response = gateway().post("/api/v1/petitions", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["errors"]
    assert all(e["message"] for e in response.json()["errors"])


def test_a_valid_petition_with_intake_down_is_a_503_not_a_500(gateway):
    response = gateway().post("/api/v1/petitions", json=samples.petition())
    assert response.status_code == 503
    assert response.json()["error"] == "service_unavailable"


def test_health_reports_what_is_down(gateway):
    response = gateway().get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"read_models": "ok", "intake": "unavailable"}


def test_integrators_can_fetch_every_published_schema(gateway):
    client = gateway()
    listing = client.get("/api/v1/schemas").json()["event_types"]
    assert {t["type"] for t in listing} >= {"cn.xinfang.petition.registered.v1", "cn.xinfang.petition.routed.v1"}
    for entry in listing:
        schema = client.get(entry["schema"])
        assert schema.status_code == 200
        assert schema.json()["$id"] == entry["schema_id"]
        assert entry["dataschema"].endswith(entry["schema"])  # the URL integrators fetch it at
    assert client.get("/api/v1/schemas/nope.json").status_code == 404
    assert client.get("/docs").status_code == 200


def test_a_chunked_body_over_the_limit_is_refused_too(gateway):
    client = gateway(GATEWAY_MAX_BODY_BYTES=2048)
    body = json.dumps(samples.petition(facts_and_reasons="事" * 5000)).encode()

    def chunks():
        for start in range(0, len(body), 1000):
            yield body[start:start + 1000]

    response = client.post("/api/v1/petitions", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    small = json.dumps({"channel": "fax"}).encode()
    assert client.post("/api/v1/petitions", content=iter([small]),
                       headers={"Content-Type": "application/json"}).status_code == 422


def test_a_correlation_id_that_could_not_travel_is_refused(gateway):
    response = gateway().post("/api/v1/petitions", json=samples.petition(), headers={"X-Correlation-ID": "x" * 300})
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_correlation_id"


def test_a_token_stops_working_when_the_account_changes(gateway, tmp_path):
    client = gateway()
    token = client.post("/api/v1/auth/token", data={"username": "clerk", "password": "a long enough password"})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert client.get("/api/v1/petitions/00000000-0000-0000-0000-000000000001", headers=headers).status_code == 503
    # The clerk is moved to another organ; the gateway restarts with the new accounts file.
    add_user(tmp_path / "users.json", "clerk", Role.CLERK, "330106-RSJ", "登记员", "a long enough password")
    moved = gateway()
    response = moved.get("/api/v1/petitions/00000000-0000-0000-0000-000000000001", headers=headers)
    assert response.status_code == 401
    assert response.json()["message"] == "账号信息已变更，请重新登录"
