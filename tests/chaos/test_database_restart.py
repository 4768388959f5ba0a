"""PostgreSQL restarted under load (a cluster of the test's own, stopped with `pg_ctl stop -m fast`, down for a
few seconds, started again): every petition the gateway accepted (201) is routed, its case opened and its
registration receipt requested and e-mailed exactly once; while the stores are down the gateway answers 503 with a
Chinese message, never 500, and never leaves a request unanswered — the integration feed, whose store the gateway
reads itself, too."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest

from services.gateway.security import Role
from services.gateway.users import add_user
from tests.support import samples
from tests.support.postgres_cluster import PrivateCluster, private_cluster
from tests.support.waiting import wait_for

pytestmark = pytest.mark.chaos

SUBMITTERS = 4  # threads posting petitions, each RATE a second: ~10 petitions/s in all
RATE = 2.5
BEFORE, DOWN, AFTER = 6.0, 8.0, 10.0  # seconds of load before the stop, while down, after the start
INTEGRATOR, PASSWORD = "province-system", "the province's long password"


@pytest.fixture
def cluster(tmp_path) -> Iterator[PrivateCluster]:
    with private_cluster(tmp_path / "postgres") as running:
        yield running


class Load:
    """Petitions posted at a steady rate through the gateway, each answer kept with when it came."""

    def __init__(self, gateway_url: str) -> None:
        self.gateway_url = gateway_url
        self.answers: list[tuple[float, int | str, Any]] = []  # (when answered, status or transport error, body)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._submit, daemon=True) for _ in range(SUBMITTERS)]

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def _submit(self) -> None:
        with httpx.Client(base_url=self.gateway_url, timeout=30) as client:
            due = time.monotonic()
            while not self.stopping.is_set():
                try:
                    response = client.post("/api/v1/petitions", json=samples.petition(title="重启期间提交"))
                    answer: tuple[float, int | str, Any] = (time.monotonic(), response.status_code, response.json())
                except (httpx.TransportError, ValueError) as error:
                    answer = (time.monotonic(), type(error).__name__, None)
                with self.lock:
                    self.answers.append(answer)
                due += 1 / RATE
                time.sleep(max(0.0, due - time.monotonic()))


def counts(cluster: PrivateCluster, query: str) -> Counter[str]:
    with psycopg.connect(cluster.conninfo, autocommit=True) as connection:
        return Counter({key: count for key, count in connection.execute(query).fetchall()})


def by_petition(cluster: PrivateCluster, schema: str, table: str, topic: str, key: str = "originator_id::text",
                where: str = "true") -> Counter[str]:
    """Stored events of `topic` per petition (`key`, SQL over the row and its JSON state `doc`)."""
    return counts(cluster, f"SELECT {key}, count(*) FROM (SELECT originator_id, topic, "
                           f"convert_from(state, 'UTF8')::jsonb AS doc FROM \"{schema}\".\"{table}\") e "
                           f"WHERE topic LIKE '%{topic}' AND {where} GROUP BY 1")


def petition_hex(doc_field: str) -> str:
    # UUIDs in stored events are hex (the library's UUIDAsHex); the receipt's id is the dashed form.
    return f"(doc->'{doc_field}'->>'_data_')"


def test_a_database_restart_under_load_loses_and_duplicates_nothing_and_the_gateway_answers_503(
    cluster, make_platform, smtp, tmp_path
):
    users = tmp_path / "users.json"
    add_user(users, INTEGRATOR, Role.INTEGRATOR, None, "省信访信息系统", PASSWORD)
    # The gateway gives up on intake after 3 s (GATEWAY_INTAKE_TIMEOUT): intake's store waits for the database.
    platform = make_platform(**cluster.settings(), GATEWAY_INTAKE_TIMEOUT="3", GATEWAY_USERS_FILE=str(users))
    platform.start()
    platform.wait_ready()
    prefix = platform.env["POSTGRES_SCHEMA_PREFIX"]
    with platform.http() as gateway:
        token = gateway.post("/api/v1/auth/token", data={"username": INTEGRATOR, "password": PASSWORD})
        integrator = {"Authorization": f"Bearer {token.json()['access_token']}"}

        with Load(platform.gateway_url) as load:
            time.sleep(BEFORE)
            stopped_at = time.monotonic()
            cluster.stop("fast")
            # The integrator's first read opens the feed's store: refused by the stopped server at once.
            feed_down = gateway.get("/api/v1/integration/feed", headers=integrator)
            time.sleep(DOWN)
            cluster.start()
            started_at = time.monotonic()
            time.sleep(AFTER)
        feed_up = gateway.get("/api/v1/integration/feed", headers=integrator)

    assert feed_down.status_code == 503, feed_down.text
    assert feed_down.json()["message"] == "服务暂时无法访问，请稍后重试"
    assert feed_up.status_code == 200 and feed_up.json()["events"], feed_up.text

    statuses = Counter(status for _, status, _ in load.answers)
    print(f"answers across a stop of {DOWN} s: {dict(statuses)}")
    assert 500 not in statuses, statuses
    assert set(statuses) <= {201, 503}, statuses  # every request answered: no transport error, no other status
    refused = [(at, body) for at, status, body in load.answers if status == 503]
    assert refused, "no request met the outage"
    assert all(stopped_at <= at <= started_at + 30 for at, _ in refused), "503 outside the outage"
    assert {body["error"] for _, body in refused} == {"service_unavailable"}
    assert all("请稍后重试" in body["message"] for _, body in refused)
    accepted = {body["id"]: body for _, status, body in load.answers if status == 201}
    assert any(at > started_at for at, status, _ in load.answers if status == 201), "none accepted after the start"

    # Every accepted petition flows through (a 503'd one may have been stored too, once the database was back:
    # the gateway stopped waiting, intake did not; it flows through like the others, once).
    intake, routing = f"{prefix}intake", f"{prefix}routing"
    supervision, notification = f"{prefix}supervision", f"{prefix}notification"
    receipt_kind = "doc->>'kind' = 'registration_receipt'"

    def receipts_sent() -> bool:
        requested = by_petition(cluster, notification, "notification_events", "Notice.Requested",
                                key="originator_id::text", where=receipt_kind)
        sent = {m["Message-ID"].split(".")[0].strip("<") for m in smtp.received()}
        registered = by_petition(cluster, intake, "intake_events", "Petition.Registered")
        return len(requested) == len(registered) and set(requested) <= sent

    wait_for(receipts_sent, timeout=90, interval=1, what="every stored petition's receipt to be e-mailed")
    registered = by_petition(cluster, intake, "intake_events", "Petition.Registered")
    routed = by_petition(cluster, routing, "routing_events", "Assignment.Routed")
    opened = by_petition(cluster, supervision, "supervision_events", "Case.Opened")
    receipts = by_petition(cluster, notification, "notification_events", "Notice.Requested",
                           key=petition_hex("petition_id"), where=receipt_kind)
    receipt_ids = by_petition(cluster, notification, "notification_events", "Notice.Requested",
                              key=f"{petition_hex('petition_id')} || ' ' || originator_id::text", where=receipt_kind)
    for pid in accepted:
        assert registered[pid] == 1, pid
        assert routed[pid] == 1, pid
        assert opened[pid] == 1, pid
        assert receipts[pid.replace("-", "")] == 1, pid
    # Nothing twice, for the petitions the gateway gave up on too.
    assert set(registered.values()) == set(routed.values()) == set(opened.values()) == {1}
    assert set(routed) == set(opened) == set(registered)
    assert set(receipts.values()) == {1} and len(receipts) == len(registered)
    # One e-mail per receipt notice (its stable Message-ID names the notice).
    mailed = Counter(m["Message-ID"].split(".")[0].strip("<") for m in smtp.received())
    for key in receipt_ids:
        notice_id = key.split(" ")[1]
        assert mailed[notice_id] == 1, notice_id
    # The platform is still whole: no process died with the database.
    assert not [name for name in platform.processes if platform.exited(name)]
