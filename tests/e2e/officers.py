"""Officers and petitioners acting over HTTP, for the end-to-end tests."""

from __future__ import annotations

import weakref

import httpx

from tests.e2e.conftest import token_for
from tests.support import samples
from tests.support.waiting import wait_for

TOKENS: weakref.WeakKeyDictionary[httpx.Client, dict[str, dict[str, str]]] = weakref.WeakKeyDictionary()
# The petitioner's second factor (the ID number's last six characters) by query code, for `by_code`.
TAILS: dict[str, str] = {}


def signed_in(gateway: httpx.Client, user: str) -> dict[str, str]:
    """One sign-in per officer and platform (sign-ins are rate-limited per address)."""
    tokens = TOKENS.setdefault(gateway, {})
    if user not in tokens:
        tokens[user] = token_for(gateway, user)
    return tokens[user]


def remember_petitioner(receipt: dict, petition: dict) -> dict:
    """Note the submitted petitioner's ID-number tail for `by_code` to send with this receipt's query code."""
    if petition.get("petitioner"):
        TAILS[receipt["query_code"]] = petition["petitioner"]["id_number"][-6:]
    return receipt


def submit_routed(gateway: httpx.Client) -> dict:
    petition = samples.petition(place_code="330106001", topic="urban_management")
    response = gateway.post("/api/v1/petitions", json=petition)
    assert response.status_code == 201, response.text
    receipt = remember_petitioner(response.json(), petition)
    wait_for(lambda: gateway.get(f"/api/v1/status/{receipt['query_code']}").json()["organ"], what="routing")
    return receipt


def act(gateway: httpx.Client, user: str, petition_id: str, path: str, body: dict | None = None,
        expect: int = 200) -> dict:
    response = gateway.post(f"/api/v1/petitions/{petition_id}/{path}", json=body or {},
                            headers=signed_in(gateway, user))
    assert response.status_code == expect, response.text
    return response.json()


def by_code(gateway: httpx.Client, query_code: str, path: str, body: dict, expect: int = 200) -> dict:
    """The petitioner acting with the query code and, unless the body says otherwise, the ID-number tail of the
    petition submitted with it (`remember_petitioner`)."""
    if "id_number_tail" not in body and query_code in TAILS:
        body = {**body, "id_number_tail": TAILS[query_code]}
    response = gateway.post(f"/api/v1/status/{query_code}/{path}", json=body)
    assert response.status_code == expect, response.text
    return response.json()
