"""Issue 19, "Catching up": an integrator offline while 1,000 petitions are registered catches up by itself, from the
integration feed (GET /api/v1/integration/feed) and from a replay to its own queue (POST .../feed/republish), and
reads exactly those events, in order, with no gap and no duplicate after de-duplication by id.

The whole platform runs as real processes; the integrator signs in with its gateway account and reads its queue
with its own broker user (kombu, as any AMQP client would), bound to `<ns>.replay` with its queue's name as key."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from kombu import Connection, Exchange, Queue

from deploy.rabbitmq import users as broker_users
from services.gateway.security import Role
from services.gateway.users import add_user
from shared.runtime.messaging import permissions
from tests.e2e.conftest import write_users
from tests.support import samples
from tests.support.platform import BROKER_PASSWORD, TestPlatform, create_broker_users, rabbitmqctl, running_platform
from tests.support.sms_provider import ACCOUNT as SMS_ACCOUNT
from tests.support.sms_provider import SECRET as SMS_SECRET

INTEGRATOR = "zj-province"
PASSWORD = "the province's long password"
PETITIONS = 1000
REGISTERED = "cn.xinfang.petition.registered.v2"


@pytest.fixture(scope="module")
def platform(tmp_path_factory, secantus, smtp_sink, sms_provider) -> Iterator[TestPlatform]:
    folder = tmp_path_factory.mktemp("platform")
    users = write_users(folder / "users.json")
    add_user(users, INTEGRATOR, Role.INTEGRATOR, None, "省信访信息系统", PASSWORD,
             sources=["urn:xinfang:province:330000"])
    with running_platform(folder, secantus, smtp_sink.port, GATEWAY_USERS_FILE=str(users),
                          SMS_URL=sms_provider.url, SMS_ACCOUNT=SMS_ACCOUNT, SMS_SECRET=SMS_SECRET) as running:
        yield running


@pytest.fixture(scope="module")
def integrator_broker_uri(platform) -> Iterator[str]:
    """The integrator's own broker user (deploy/rabbitmq/users.py `--integrator`)."""
    namespace, admin = platform.env["XINFANG_NAMESPACE"], platform.env["AMQP_URI"]
    create_broker_users(namespace, admin, integrators=[INTEGRATOR])
    name = permissions.user_name(namespace, f"integrator-{INTEGRATOR}")
    yield broker_users.user_uri(admin, name, BROKER_PASSWORD)
    rabbitmqctl("delete_user", name)


def sign_in(gateway: httpx.Client) -> dict[str, str]:
    answer = gateway.post("/api/v1/auth/token", data={"username": INTEGRATOR, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def read_feed(gateway: httpx.Client, auth: dict[str, str], after: int, **params: object) -> list[tuple[int, dict]]:
    """Every event after `after`, page by page, as an integrator reads it."""
    events = []
    while True:
        answer = gateway.get("/api/v1/integration/feed", params={"after": after, "limit": 500, **params},
                             headers=auth)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        events.extend((e["position"], e["event"]) for e in page["events"])
        if not page["events"]:
            return events
        assert page["next"] > after
        after = page["next"]


def register(gateway: httpx.Client, count: int) -> list[str]:
    def one(_n: int) -> str:
        answer = gateway.post("/api/v1/petitions", json=samples.petition(attachments=[]))
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]

    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(one, range(count)))


def test_an_integrator_offline_during_1000_petitions_catches_up(platform, integrator_broker_uri) -> None:
    namespace = platform.env["XINFANG_NAMESPACE"]
    with platform.http() as gateway:
        auth = sign_in(gateway)
        # Where the integrator stopped reading before its outage.
        stopped_at = gateway.get("/api/v1/integration/feed", params={"after": 0, "limit": 1},
                                 headers=auth).json()["head"]
        started = time.monotonic()
        petitions = register(gateway, PETITIONS)
        registered_in = time.monotonic() - started

        # Back online: it waits only for the relays to have published what was registered meanwhile.
        deadline = time.monotonic() + 120
        while len(read_feed(gateway, auth, stopped_at, type=REGISTERED)) < PETITIONS:
            assert time.monotonic() < deadline, "the relays did not publish the registrations in time"
            time.sleep(1)

        events = read_feed(gateway, auth, stopped_at)
        positions = [position for position, _event in events]
        assert positions == sorted(set(positions)), "positions must strictly increase"
        unique = {(e["source"], e["id"]): (p, e) for p, e in events}
        assert len(unique) == len(events), "the feed never holds an event twice"
        registered = [e for _p, e in events if e["type"] == REGISTERED]
        assert sorted(e["subject"] for e in registered) == sorted(petitions)  # exactly those, none missing
        # In order: what a petition caused comes after its registration (e.g. routing, the case opened).
        registered_at = {e["subject"]: p for p, e in events if e["type"] == REGISTERED}
        for position, event in events:
            if event["type"] != REGISTERED and event.get("subject") in registered_at:
                assert position > registered_at[event["subject"]], event["type"]

        # The same again, as a replay to its own queue, bound to <ns>.replay with the queue's name as key.
        queue_name = f"{namespace}.integrator.{INTEGRATOR}.catch-up"
        replay = Exchange(f"{namespace}.replay", type="topic", durable=True, passive=True)
        queue = Queue(queue_name, exchange=replay, routing_key=queue_name, durable=True,
                      queue_arguments={"x-queue-type": "quorum"})
        with Connection(integrator_broker_uri, connect_timeout=5) as connection:
            queue(connection.default_channel).declare()
            replayed_from = time.monotonic()
            answer = gateway.post("/api/v1/integration/feed/republish", headers=auth, timeout=120,
                                  json={"after": stopped_at, "queue": queue_name, "limit": 10_000,
                                        "types": [REGISTERED]})
            replayed_in = time.monotonic() - replayed_from
            assert answer.status_code == 200, answer.text
            assert answer.json()["published"] == PETITIONS
            received = []
            def take(message) -> None:  # the raw message: the integrator parses the CloudEvent itself
                received.append(message)
                message.ack()

            with connection.Consumer(queue, on_message=take, prefetch_count=500):
                deadline = time.monotonic() + 60
                while len(received) < PETITIONS and time.monotonic() < deadline:
                    connection.drain_events(timeout=5)
            queue(connection.default_channel).delete()
        ids = [json.loads(message.body)["id"] for message in received]
        assert ids == [e["id"] for e in registered]  # the feed's order, each once
        assert all(m.properties["message_id"] == i for m, i in zip(received, ids, strict=True))
        print(f"registered {PETITIONS} petitions in {registered_in:.1f}s; replayed them in {replayed_in:.1f}s")
