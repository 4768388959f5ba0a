"""Issue 14 §2: a client that rotates X-Forwarded-For must not step around the per-address rate limits.

The gateway is the real process started from the Procfile: uvicorn's default (trust X-Forwarded-For from
127.0.0.1) is what let a loopback client choose its own address, so only the real server shows it."""

from __future__ import annotations

import itertools

import httpx
import pytest

from tests.support.gateway_process import PASSWORD, GatewayProcess

ROTATING = (f"203.0.113.{n}" for n in itertools.count(1))


@pytest.fixture
def start_gateway(tmp_path, mongodb_uri):
    started: list[GatewayProcess] = []

    def start(**settings: str) -> GatewayProcess:
        started.append(GatewayProcess(tmp_path / f"gw{len(started)}", mongodb_uri, **settings))
        return started[-1]

    yield start
    for process in started:
        process.stop()


def test_rotating_x_forwarded_for_still_meets_the_public_limit(start_gateway):
    gateway = start_gateway(GATEWAY_PUBLIC_RATE_LIMIT="5/minute")
    with httpx.Client(base_url=gateway.url, timeout=10) as client:
        codes = [client.get("/api/v1/status/ZZZZ-ZZZZ-ZZZZ-ZZZZ", headers={"X-Forwarded-For": next(ROTATING)})
                 .status_code for _ in range(8)]
    assert codes[:5].count(429) == 0
    assert codes[5:] == [429, 429, 429]


def test_rotating_x_forwarded_for_still_meets_the_sign_in_limit(start_gateway):
    gateway = start_gateway(GATEWAY_LOGIN_RATE_LIMIT="5/minute")
    with httpx.Client(base_url=gateway.url, timeout=10) as client:
        # Password spraying: one guess per account name, so no account's own lock-out is reached; only the
        # per-address limit stands in the way.
        answers = [client.post("/api/v1/auth/token", data={"username": f"officer{n}", "password": "guess"},
                               headers={"X-Forwarded-For": next(ROTATING)}) for n in range(7)]
        right = client.post("/api/v1/auth/token", data={"username": "clerk", "password": PASSWORD},
                            headers={"X-Forwarded-For": next(ROTATING)})
    codes = [a.status_code for a in answers]
    assert 429 not in codes[:5]
    assert codes[5:] == [429, 429]
    assert answers[-1].json()["error"] == "rate_limited"
    assert right.status_code == 429, "the right password after the guesses must not get in from the same address"


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(start_gateway):
    # The test client plays the ingress (127.0.0.1), named in GATEWAY_TRUSTED_PROXIES.
    gateway = start_gateway(GATEWAY_PUBLIC_RATE_LIMIT="3/minute", GATEWAY_TRUSTED_PROXIES="127.0.0.1/32, ::1")
    with httpx.Client(base_url=gateway.url, timeout=10) as client:
        def status_as(client_address: str) -> int:
            return client.get("/api/v1/status/ZZZZ-ZZZZ-ZZZZ-ZZZZ",
                              headers={"X-Forwarded-For": client_address}).status_code

        first = [status_as("198.51.100.7") for _ in range(4)]
        second = [status_as("198.51.100.8") for _ in range(3)]
        # A client that prepends an address of its own choosing is still counted by what the proxy appended.
        spoofed = status_as("10.9.9.9, 198.51.100.7")
    assert 429 not in first[:3] and first[3] == 429
    assert 429 not in second
    assert spoofed == 429


def test_a_mistyped_trusted_proxy_stops_the_gateway_at_start():
    from services.gateway.settings import GatewaySettings  # noqa: PLC0415

    with pytest.raises(ValueError, match="GATEWAY_TRUSTED_PROXIES"):
        GatewaySettings(XINFANG_ENV="test", GATEWAY_TRUSTED_PROXIES="ingress.example")
