"""Running the platform's processes in tests, exactly as `make run` does (the same Procfile commands).

Each `TestPlatform` gets its own broker namespace, PostgreSQL schemas (or SQLite folder), read-model database and
ports, so tests never see each other's messages or data.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
from kombu import Connection, Producer, Queue
from nameko.standalone.rpc import ClusterRpcProxy

from deploy.rabbitmq import users as broker_users
from deploy.rabbitmq.users import Rabbitmqctl
from shared.runtime.callers import GATEWAY, CallerAssertions
from shared.runtime.messaging import permissions, topology
from tests.support.servers import free_port
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
PROCFILE = ROOT / "deploy" / "local" / "Procfile"
SERVICES = ("intake", "routing", "supervision", "notification")
# Everything but the read-model server and mail sink, which the tests run themselves.
PLATFORM_PROCESSES = (
    "intake", "intake-relay", "routing", "routing-relay", "supervision", "supervision-relay",
    "supervision-projector", "notification", "notification-relay", "notification-dispatcher", "audit", "gateway",
    "checkpointer",
)
SYSTEM_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"
PG_CONNINFO = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def procfile_commands() -> dict[str, str]:
    commands = {}
    for line in PROCFILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            commands[name.strip()] = command.strip()
    return commands


def metrics_prefix() -> str:
    """A two-digit prefix whose ports <prefix>01..<prefix>23 are free (Procfile's METRICS_PORT_PREFIX)."""
    import random
    import socket

    for _ in range(100):
        prefix = str(random.randint(20, 59))
        ports = [int(f"{prefix}{n:02d}") for n in (1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 21, 22, 23)]
        try:
            for port in ports:
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
            return prefix
        except OSError:
            continue
    raise RuntimeError("no free metrics port range")


def unique_name(prefix: str = "t") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


# One password per test session for every broker user the session makes (users are per namespace: <ns>-intake ...).
BROKER_PASSWORD = secrets.token_urlsafe(24)
# Every test platform has a province's broker user, `<ns>-integrator-province` (tests/e2e/test_province.py).
TEST_PROVINCE = "province"


def province_uri(platform: TestPlatform) -> str:
    """The AMQP URI of the test platform's province: its own broker user, as the bureau would give it."""
    name = permissions.integrator_user(platform.env["XINFANG_NAMESPACE"], TEST_PROVINCE, province=True).name
    return broker_users.user_uri(platform.env["AMQP_URI"], name, BROKER_PASSWORD)


def create_broker_users(namespace: str, admin_uri: str, ctl: Rabbitmqctl = broker_users.system_rabbitmqctl,
                        integrators: Iterable[str] = (), provinces: Iterable[str] = ()) -> dict[str, str]:
    """The platform's broker users on `admin_uri`'s vhost, as `make run` makes them, and its topology declared by
    the administrator (so no relay waits for a consumer to create a queue): AMQP_URI_<SERVICE> for each service."""
    users = broker_users.platform_users(namespace, list(integrators), list(provinces))
    broker_users.apply(users, {u.name: BROKER_PASSWORD for u in users}, broker_users.vhost_of(admin_uri), ctl)
    with Connection(admin_uri, connect_timeout=5) as connection:
        topology.declare(connection, namespace)
    return broker_users.service_uris(admin_uri, namespace, {u.name: BROKER_PASSWORD for u in users})


def delete_broker_users(namespace: str, integrators: Iterable[str] = (), provinces: Iterable[str] = ()) -> None:
    users = broker_users.platform_users(namespace, list(integrators), list(provinces))
    running = [subprocess.Popen(["rabbitmqctl", "-q", "delete_user", u.name], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL) for u in users]
    for process in running:
        process.wait(timeout=60)


def create_vhost(name: str) -> str:
    """A vhost of its own on the shared broker: nameko's RPC exchange and `rpc-<service>` queues are not
    namespaced, so two platforms on one vhost would answer each other's RPC calls."""
    rabbitmqctl("add_vhost", name)
    rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
    return f"amqp://guest:guest@127.0.0.1:5672/{name}"


def delete_vhost(name: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], capture_output=True, timeout=60, check=False)


def platform_env(*, namespace: str, mongodb_uri: str, smtp_port: int, store: str = "postgres",
                 data_dir: Path, amqp_uri: str | None = None, broker_ctl: Rabbitmqctl | None = None,
                 **extra: str) -> dict[str, str]:
    """The environment of one isolated platform; without `amqp_uri`, a vhost named after `namespace`. Each process
    connects as its service's broker user (AMQP_URI_<SERVICE>); AMQP_URI stays the administrator's, for the
    harness alone. With `amqp_uri`, `broker_ctl` runs rabbitmqctl on that broker (e.g. a PrivateNode's)."""
    if amqp_uri is None:
        amqp_uri, broker_ctl = create_vhost(namespace), broker_users.system_rabbitmqctl
    service_uris = create_broker_users(namespace, amqp_uri, broker_ctl, provinces=[TEST_PROVINCE]) \
        if broker_ctl else {}
    gateway_port = free_port()
    intake_port = free_port()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(ROOT),
        "PYTHONWARNINGS": "ignore::DeprecationWarning",
        "XINFANG_ENV": "test",
        "XINFANG_NAMESPACE": namespace,
        "EVENT_STORE": store,
        "DATA_DIR": str(data_dir),
        "POSTGRES_SCHEMA_PREFIX": f"{namespace}_",
        "POSTGRES_HOST": "127.0.0.1",
        "POSTGRES_USER": "postgres",
        "POSTGRES_DBNAME": "postgres",
        "AMQP_URI": amqp_uri,
        **service_uris,
        "MONGODB_URI": mongodb_uri,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SMTP_TIMEOUT": "3",
        "GATEWAY_HOST": "127.0.0.1",
        "GATEWAY_PORT": str(gateway_port),
        "XINFANG_SCHEMA_BASE_URL": f"http://127.0.0.1:{gateway_port}/api/v1/schemas",
        "GATEWAY_JWT_SECRET": "test-secret-" + uuid.uuid4().hex * 2,
        "INTAKE_INTERNAL_TOKEN": "test-token-" + uuid.uuid4().hex * 2,
        "PLATFORM_RPC_SECRET": "test-rpc-" + uuid.uuid4().hex * 2,
        "GATEWAY_PUBLIC_RATE_LIMIT": "100000/minute",
        "INTAKE_HTTP_ADDRESS": f"127.0.0.1:{intake_port}",
        "INTAKE_URLS": f"http://127.0.0.1:{intake_port}",
        "METRICS_PORT_PREFIX": metrics_prefix(),
        "PSYCOPG_WAIT_FUNC": "wait_select",
        "FOLLOWER_POLL_INTERVAL": "0.05",
        "FOLLOWER_WATCH_INTERVAL": "0.5",  # the lag gauges, measured outside the batch loop (shared/runtime/follower.py)
        "LOG_LEVEL": "INFO",
    }
    env.update(extra)
    return env


class TestPlatform:
    __test__ = False  # not a test class

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.commands = procfile_commands()
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.metrics_ports: dict[str, int] = {}  # further instances' own ports (start_instance)
        self.gateway_url = f"http://127.0.0.1:{env['GATEWAY_PORT']}"
        self.intake_url = env["INTAKE_URLS"]

    # --- processes -----------------------------------------------------------------------------------------
    def start(self, *names: str) -> None:
        for name in names or PLATFORM_PROCESSES:
            self.start_as(name, self.commands[name])

    def start_as(self, name: str, command: str, env: dict[str, str] | None = None) -> None:
        """Start `command` under `name` (e.g. a second instance of a process, or a test variant of a service),
        with `env` over the platform's environment."""
        if name in self.processes and self.processes[name].poll() is None:
            return
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child
        self.processes[name] = subprocess.Popen(
            command, shell=True, cwd=ROOT, env={**self.env, **(env or {})}, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_instance(self, process: str, name: str, env: dict[str, str] | None = None) -> int:
        """Start one more instance of the Procfile's `process` under `name`, as an operator would run it twice:
        the same command, its metrics on a port of its own (two instances cannot share METRICS_PORT). Returns
        that port (`metrics(name)` reads it)."""
        port = free_port()
        command, replaced = re.subn(r"METRICS_PORT=\$\{METRICS_PORT_PREFIX\}\d\d", f"METRICS_PORT={port}",
                                    self.commands[process])
        if replaced != 1:
            raise ValueError(f"the Procfile's {process} does not set METRICS_PORT from METRICS_PORT_PREFIX")
        self.metrics_ports[name] = port
        self.start_as(name, command, env)
        return port

    def exited(self, name: str) -> bool:
        return self.processes[name].poll() is not None

    def stop(self, *names: str, timeout: float = 20) -> None:
        """SIGTERM each process group, wait until every process in it is gone, SIGKILL what is left."""
        stopping = [self.processes.pop(n) for n in (names or list(self.processes)) if n in self.processes]
        for process in stopping:
            _signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in stopping:
            while _group_alive(process.pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            _signal_group(process.pid, signal.SIGKILL)
            process.wait()

    def kill(self, name: str) -> None:
        process = self.processes.pop(name)
        _signal_group(process.pid, signal.SIGKILL)
        process.wait()

    def log(self, name: str) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def wait_ready(self, timeout: float = 60) -> None:
        """Ready means observable facts, not log lines: the gateway is healthy, intake answers RPC, and every
        subscription of the running services has a consumer on its queue."""

        def ready() -> bool:
            return httpx.get(f"{self.gateway_url}/healthz", timeout=2).status_code == 200

        if "gateway" in self.processes:
            wait_for(ready, timeout=timeout, what="the gateway to report healthy")
        if "intake" in self.processes:
            def answers() -> bool:
                with ClusterRpcProxy({"AMQP_URI": self.env["AMQP_URI"]}, timeout=5) as rpc:
                    caller = self.gateway_assertion("intake", "find_by_query_code")
                    return rpc.intake.find_by_query_code("0000-0000-0000-0000", caller=caller) is None

            wait_for(answers, timeout=timeout, interval=0.3, what="intake to answer RPC")
        for service in ("supervision", "notification", "audit"):  # the RPC the auditors' endpoints go through
            if service in self.processes:
                wait_for(lambda s=service: consumers(f"rpc-{s}", self.env["AMQP_URI"]) > 0, timeout=timeout,
                         interval=0.3, what=f"{service} to take RPC calls")
        for subscription in topology.SUBSCRIPTIONS:
            if subscription.service in self.processes:
                name = topology.queue_name(self.env["XINFANG_NAMESPACE"], subscription.service, subscription.handler)
                wait_for(lambda n=name: consumers(n, self.env["AMQP_URI"]) > 0, timeout=timeout, interval=0.3,
                         what=f"a consumer on {name}")

    def dump_logs(self, tail: int = 60) -> str:
        parts = []
        for path in sorted(self.log_dir.glob("*.log")):
            lines = path.read_text(errors="replace").splitlines()
            interesting = [line for line in lines if not re.search(r"[Ee]ventlet|framework|migration", line)]
            parts.append(f"----- {path.name} (last {tail} lines) -----\n" + "\n".join(interesting[-tail:]))
        return "\n".join(parts)

    def close(self) -> None:
        self.stop()
        if self.env["AMQP_URI"].endswith("/" + self.env["XINFANG_NAMESPACE"]):
            delete_vhost(self.env["XINFANG_NAMESPACE"])
            delete_broker_users(self.env["XINFANG_NAMESPACE"], provinces=[TEST_PROVINCE])

    # --- reaching it ---------------------------------------------------------------------------------------
    def gateway_assertion(self, service: str, method: str, actor: dict[str, Any] | None = None) -> str:
        """What the gateway sends a service to prove the call is its own (shared/runtime/callers.py), for a test that
        calls a service's RPC directly, as the gateway would."""
        assertions = CallerAssertions(self.env["PLATFORM_RPC_SECRET"], GATEWAY)
        return assertions.assertion(service, method,
                                    actor or {"role": "clerk", "user": "test", "organ": "330106-XFJ"})

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.gateway_url, timeout=30)

    def register_over_rpc(self, *petitions: dict[str, Any]) -> list[str]:
        """Register `petitions` through intake's RPC, as the gateway would (no relay need run): their ids."""
        with ClusterRpcProxy({"AMQP_URI": self.env["AMQP_URI"]}, timeout=10) as rpc:
            return [rpc.intake.register_petition(petition, caller=self.gateway_assertion("intake", "register_petition"))
                    ["id"] for petition in petitions]

    def publish(self, body: bytes, routing_key: str, content_type: str = "application/cloudevents+json") -> None:
        """Publish `body` on the events exchange as it stands (as the harness's administrator), persistent."""
        with Connection(self.env["AMQP_URI"]) as connection:
            Producer(connection.default_channel).publish(
                body, exchange=topology.events_exchange(self.env["XINFANG_NAMESPACE"]), routing_key=routing_key,
                content_type=content_type, content_encoding="utf-8", delivery_mode=2, retry=False)

    def metrics(self, process: str) -> str:
        ports = {"intake": "01", "routing": "02", "supervision": "03", "notification": "04", "gateway": "05",
                 "audit": "06",
                 "intake-relay": "11", "routing-relay": "12", "supervision-relay": "13", "notification-relay": "14",
                 "supervision-projector": "21", "notification-dispatcher": "22", "checkpointer": "23"}
        port = self.metrics_ports.get(process) or int(f"{self.env['METRICS_PORT_PREFIX']}{ports[process]}")
        return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    # The shell that led the group may be a zombie until reaped: only other members count.
    members = subprocess.run(["pgrep", "-g", str(pgid)], capture_output=True, text=True).stdout.split()
    return any(int(pid) != pgid or _running(pgid) for pid in members)


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def metric_value(text: str, name: str, **labels: str) -> float:
    """Sum of a metric's samples whose labels include `labels` (0 when absent)."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        sample, _, value = line.rpartition(" ")
        if all(f'{k}="{v}"' in sample for k, v in labels.items()):
            total += float(value)
    return total


# --- inspecting stores (as an auditor would: straight from the event tables) ------------------------------
def stored_events(namespace: str, service: str, topic_suffix: str, originator_id: str | None = None) -> int:
    """How many events whose topic ends with `topic_suffix` a service's PostgreSQL store holds."""
    schema = f"{namespace}_{service}"
    table = f"{service}_events"
    query = f'SELECT count(*) FROM "{schema}"."{table}" WHERE topic LIKE %s'
    params: list[object] = [f"%{topic_suffix}"]
    if originator_id:
        query += " AND originator_id = %s"
        params.append(originator_id)
    with psycopg.connect(PG_CONNINFO, autocommit=True) as connection:
        return connection.execute(query, params).fetchone()[0]


def drop_schemas(prefix: str) -> None:
    with psycopg.connect(PG_CONNINFO, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (prefix.replace("_", r"\_") + "%",)
        ).fetchall()
        for (schema,) in rows:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def delete_topology(namespaces: Iterable[str], amqp_uri: str = SYSTEM_AMQP_URI) -> None:
    with Connection(amqp_uri, connect_timeout=5) as connection:
        channel = connection.default_channel
        for namespace in namespaces:
            for queue in topology.all_queues(namespace):
                try:
                    queue(channel).delete()
                except Exception:  # noqa: BLE001 - already gone
                    channel = connection.channel()
            for exchange in (*(topology.exchange_named(namespace, name) for name in topology.EXCHANGES),
                             topology.replay_exchange(namespace), topology.dead_letter_exchange(namespace)):
                try:
                    exchange(channel).delete()
                except Exception:  # noqa: BLE001
                    channel = connection.channel()


def consumers(queue_name: str, amqp_uri: str) -> int:
    with Connection(amqp_uri, connect_timeout=5) as connection:
        _, _, count = connection.default_channel.queue_declare(queue=queue_name, passive=True)
        return count


def queue_depth(namespace: str, queue_name: str, amqp_uri: str) -> int:
    with Connection(amqp_uri, connect_timeout=5) as connection:
        _, count, _ = connection.default_channel.queue_declare(queue=queue_name, passive=True)
        return count


def tap_queue(platform: TestPlatform, name: str) -> Queue:
    """A queue of the test's own on the platform's events exchange, bound to every routing key, as an integrator
    would bind one (declared with the harness's administrator user)."""
    queue = Queue(f"{platform.env['XINFANG_NAMESPACE']}.test.{name}",
                  exchange=topology.events_exchange(platform.env["XINFANG_NAMESPACE"]), routing_key="#",
                  durable=False, auto_delete=False)
    with Connection(platform.env["AMQP_URI"]) as connection:
        topology.declare(connection, platform.env["XINFANG_NAMESPACE"])
        queue(connection.default_channel).declare()
    return queue


@contextlib.contextmanager
def running_platform(folder: Path, mongodb: Any, smtp_port: int, *processes: str,
                     **settings: str) -> Iterator[TestPlatform]:
    """A platform of its own (namespace, schemas, read-model database, ports) under `folder`, with `processes`
    started (every process of the Procfile when none is named) and ready; its logs are printed when it stops."""
    from tests.conftest import reserve_namespace  # noqa: PLC0415 - the session's namespaces, removed at its end

    namespace = reserve_namespace()
    env = platform_env(namespace=namespace, mongodb_uri=mongodb.uri(namespace), smtp_port=smtp_port,
                       data_dir=folder / "data", **settings)
    running = TestPlatform(env, folder / "logs")
    running.namespace = namespace
    try:
        running.start(*processes)
        running.wait_ready()
        yield running
    finally:
        running.close()
        print(running.dump_logs())
