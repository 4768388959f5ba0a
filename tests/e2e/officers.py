"""Officers and petitioners acting over HTTP, for the end-to-end tests."""

from __future__ import annotations

import weakref

import httpx

from tests.e2e.conftest import token_for
from tests.support import samples
from tests.support.waiting import wait_for

TOKENS: weakref.WeakKeyDictionary[httpx.Client, dict[str, dict[str, str]]] = weakref.WeakKeyDictionary()


def signed_in(gateway: httpx.Client, user: str) -> dict[str, str]:
    """One sign-in per officer and platform (sign-ins are rate-limited per address)."""
    tokens = TOKENS.setdefault(gateway, {})
    if user not in tokens:
        tokens[user] = token_for(gateway, user)
    return tokens[user]


def submit_routed(gateway: httpx.Client) -> dict:
    response = gateway.post("/api/v1/petitions", json=samples.petition(place_code="330106001",
                                                                      topic="urban_management"))
    assert response.status_code == 201, response.text
    receipt = response.json()
    wait_for(lambda: gateway.get(f"/api/v1/status/{receipt['query_code']}").json()["organ"], what="routing")
    return receipt


def act(gateway: httpx.Client, user: str, petition_id: str, path: str, body: dict | None = None,
        expect: int = 200) -> dict:
    response = gateway.post(f"/api/v1/petitions/{petition_id}/{path}", json=body or {},
                            headers=signed_in(gateway, user))
    assert response.status_code == expect, response.text
    return response.json()


def by_code(gateway: httpx.Client, query_code: str, path: str, body: dict, expect: int = 200) -> dict:
    response = gateway.post(f"/api/v1/status/{query_code}/{path}", json=body)
    assert response.status_code == expect, response.text
    return response.json()
