"""GET /api/v1/integration/feed and POST /api/v1/integration/feed/republish (services/gateway/routes/feed.py), on the
real gateway application in-process, a real store and the real broker: integrators only; each sees what it may."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from kombu import Connection, Exchange, Queue

from services.gateway.console.sessions import SESSION_COOKIE
from services.gateway.security import Role
from services.gateway.users import add_user, remove_user
from shared.runtime.feed import IntegrationFeed
from shared.runtime.messaging import topology
from tests.integration.test_integration_feed import PROVINCE, received_event
from tests.support.gateway_app import RecordedServices, headers
from tests.support.samples import registered_event, routed_event

AMQP = "amqp://guest:guest@127.0.0.1:5672/"
PASSWORD = "an integrator's long password"
OTHER_PROVINCE = "urn:xinfang:province:320000"


@pytest.fixture
def setting(namespace, data_dir, store):
    return {"XINFANG_NAMESPACE": namespace, "EVENT_STORE": store, "DATA_DIR": str(data_dir),
            "POSTGRES_SCHEMA_PREFIX": f"{namespace}_", "GATEWAY_USERS_RELOAD_SECONDS": "0"}


@pytest.fixture
def client(gateway_for, setting, tmp_path):
    client = gateway_for(RecordedServices(), **setting)
    users = tmp_path / "users.json"
    add_user(users, "city-data", Role.INTEGRATOR, None, "市数据平台", PASSWORD)
    add_user(users, "zj-province", Role.INTEGRATOR, None, "省信访信息系统", PASSWORD, sources=[PROVINCE])
    yield client
    client.close()


@pytest.fixture
def feed(settings_for, store, closing):
    return closing(IntegrationFeed(settings_for(store=store)))


def sign_in(client, username: str) -> dict[str, str]:
    answer = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    assert answer.json()["role"] == "integrator"
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def read_all(client, auth, **params) -> list[tuple[int, dict]]:
    seen, after = [], 0
    while True:
        answer = client.get("/api/v1/integration/feed", params={"after": after, "limit": 3, **params}, headers=auth)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        seen.extend((e["position"], e["event"]) for e in body["events"])
        if not body["events"]:
            assert body["next"] == body["head"]
            return seen
        after = body["next"]


def test_only_integrators_read_the_feed(client) -> None:
    answer = client.get("/api/v1/integration/feed")
    assert answer.status_code == 401 and answer.json()["error"] == "unauthorized"
    answer = client.get("/api/v1/integration/feed", headers=headers(client, "clerk"))
    assert answer.status_code == 403 and answer.json()["error"] == "forbidden"
    assert answer.json()["message"]  # for people, in Chinese
    integrator = sign_in(client, "city-data")
    assert client.get("/api/v1/integration/feed", headers=integrator).status_code == 200
    # An integrator's token is good for the feed alone: never an officer's or a petitioner's.
    answer = client.get("/api/v1/warnings", headers=integrator)
    assert answer.status_code == 403 and answer.json()["error"] == "integrator_account"
    answer = client.post("/api/v1/petitions", json={}, headers=integrator)
    assert answer.status_code in (403, 422)
    assert client.post("/api/v1/auth/sign-out", headers=integrator).status_code == 204
    assert client.get("/api/v1/integration/feed", headers=integrator).status_code == 401


def test_an_integrator_account_does_not_open_the_console(client) -> None:
    login = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
    answer = client.post("/console/login", data={"username": "city-data", "password": PASSWORD, "csrf_token": token},
                         follow_redirects=False)
    assert answer.status_code == 403 and "系统对接账号" in answer.text  # said in Chinese, on the sign-in page
    assert not any(c.startswith(SESSION_COOKIE) for c in answer.headers.get_list("set-cookie"))  # no session opened


def test_each_integrator_sees_what_it_may(client, feed, tmp_path) -> None:
    registered = registered_event(1)
    mine, theirs = received_event(2), received_event(3, OTHER_PROVINCE)
    routed = routed_event(4, registered.subject)
    feed.append([registered, mine, theirs, routed])
    city = [e["id"] for _p, e in read_all(client, sign_in(client, "city-data"))]
    assert city == [registered.id, routed.id]
    province = sign_in(client, "zj-province")
    assert [e["id"] for _p, e in read_all(client, province)] == [registered.id, mine.id, routed.id]
    answer = client.get("/api/v1/integration/feed", params={"type": "cn.xinfang.province."}, headers=province)
    assert [e["event"]["id"] for e in answer.json()["events"]] == [mine.id]
    assert answer.json()["next"] == answer.json()["head"]
    answer = client.get("/api/v1/integration/feed", headers=province,
                        params=[("type", routed.type), ("type", registered.type)])
    assert [e["event"]["id"] for e in answer.json()["events"]] == [registered.id, routed.id]
    answer = client.get("/api/v1/integration/feed", params={"type": "cn.example.unknown.v1"}, headers=province)
    assert answer.status_code == 422 and answer.json()["error"] == "unknown_event_type"
    assert client.get("/api/v1/integration/feed", params={"limit": 1001}, headers=province).status_code == 422
    assert client.get("/api/v1/integration/feed", params={"after": 2**63}, headers=province).status_code == 422
    # The account loses its province: the token issued before stops working.
    remove_user(tmp_path / "users.json", "zj-province")
    add_user(tmp_path / "users.json", "zj-province", Role.INTEGRATOR, None, "省", PASSWORD)
    assert client.get("/api/v1/integration/feed", headers=province).status_code == 401


@pytest.fixture
def replay_queue(namespace):
    """The integrator's own queue, bound to the replay exchange with its own name as key (as the docs say)."""
    name = f"{namespace}.integrator.zj-province.catch-up"
    with Connection(AMQP) as connection:
        channel = connection.default_channel
        topology.replay_exchange(namespace)(channel).declare()
        queue = Queue(name, exchange=Exchange(f"{namespace}.replay", type="topic"), routing_key=name, durable=True)
        queue(channel).declare()
        yield queue
        connection.default_channel.queue_delete(name)
        connection.default_channel.exchange_delete(f"{namespace}.replay")


def drain(queue: Queue) -> list:
    messages = []
    with Connection(AMQP) as connection:
        bound = queue(connection.default_channel)
        while (message := bound.get(no_ack=True)) is not None:
            messages.append(message)
    return messages


def test_a_replay_reaches_the_integrators_own_bound_queue_in_order(client, feed, namespace, replay_queue) -> None:
    events = [registered_event(n) for n in range(1, 6)]
    theirs = received_event(6, OTHER_PROVINCE)
    positions = feed.append([*events[:2], theirs, *events[2:]])
    province = sign_in(client, "zj-province")
    answer = client.post("/api/v1/integration/feed/republish", headers=province,
                         json={"after": positions[0], "queue": replay_queue.name, "limit": 3})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"published": 3, "next": positions[4]}
    answer = client.post("/api/v1/integration/feed/republish", headers=province,
                         json={"after": answer.json()["next"], "queue": replay_queue.name})
    assert answer.json() == {"published": 1, "next": positions[-1]}
    messages = drain(replay_queue)
    assert [json.loads(m.body)["id"] for m in messages] == [e.id for e in events[1:]]
    first = messages[0]
    assert first.properties["message_id"] == events[1].id and first.properties["delivery_mode"] == 2
    assert first.headers == events[1].amqp_headers()
    assert json.loads(first.body) == json.loads(events[1].to_json())


def test_a_replay_goes_to_ones_own_bound_queue_only(client, feed, namespace, replay_queue) -> None:
    feed.append([registered_event(1)])
    province = sign_in(client, "zj-province")
    for queue in (f"{namespace}.integrator.city-data.q", f"{namespace}.routing.handle_petition_registered",
                  f"{namespace}.integrator.zj-province."):
        answer = client.post("/api/v1/integration/feed/republish", headers=province, json={"after": 0, "queue": queue})
        assert answer.status_code == 403 and answer.json()["error"] == "queue_not_yours", queue
    unbound = f"{namespace}.integrator.zj-province.{uuid.uuid4().hex[:6]}"
    answer = client.post("/api/v1/integration/feed/republish", headers=province, json={"after": 0, "queue": unbound})
    assert answer.status_code == 409 and answer.json()["error"] == "replay_queue_not_bound"
    answer = client.post("/api/v1/integration/feed/republish", headers=headers(client, "clerk"),
                         json={"after": 0, "queue": replay_queue.name})
    assert answer.status_code == 403
