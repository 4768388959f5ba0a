"""`make run`: the whole platform on this machine, on the embedded default (SQLite stores, SecantusDB read models).

    python -m deploy.local.run            # Ctrl-C stops everything; running it again resumes with the same data

Set-up it does on the way: finds a broker (AMQP_URI if reachable, else the local default, else a private
RabbitMQ node under the data folder), gives each service its own broker user there (passwords kept under the data
folder), seeds demo accounts once, starts the read models' server, then every process with honcho (the Procfile).
"""

from __future__ import annotations

import mailbox
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

from kombu import Connection

from deploy.local import rabbitmq
from deploy.local.devsecrets import development_secret

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"


def _amqp_reachable(uri: str) -> bool:
    parsed = urlparse(uri)
    return rabbitmq.reachable(parsed.hostname or "127.0.0.1", parsed.port or 5672)


LOCAL_VHOST = "xinfang-local"


def own_vhost(amqp_uri: str) -> str:
    """The local default broker, on a vhost of the platform's own when rabbitmqctl may make it: nameko's RPC exchange
    and `rpc-<service>` queues are not namespaced, so a test run on the same broker's `/` would otherwise reach
    this platform's services (and they its). As it was when the vhost cannot be made."""
    from deploy.rabbitmq.users import system_rabbitmqctl  # noqa: PLC0415 - imports the platform's code

    if not shutil.which("rabbitmqctl"):
        return amqp_uri
    try:
        system_rabbitmqctl(["add_vhost", LOCAL_VHOST])  # already there: refused, harmlessly
        granted = system_rabbitmqctl(["set_permissions", "-p", LOCAL_VHOST, "guest", ".*", ".*", ".*"])
    except (OSError, subprocess.SubprocessError):
        return amqp_uri
    return f"{amqp_uri.rstrip('/')}/{LOCAL_VHOST}" if granted.returncode == 0 else amqp_uri


def find_broker(data_dir: Path) -> tuple[str, rabbitmq.PrivateNode | None]:
    """AMQP_URI when reachable, or the local default (on its own vhost); otherwise a private node under the data
    folder."""
    amqp_uri = os.environ.get("AMQP_URI") or DEFAULT_AMQP_URI
    if _amqp_reachable(amqp_uri):
        return (own_vhost(amqp_uri) if amqp_uri == DEFAULT_AMQP_URI else amqp_uri), None
    if not rabbitmq.installed():
        sys.exit("RabbitMQ is needed: set AMQP_URI to a reachable broker, or install rabbitmq-server "
                 "(e.g. `apt-get install rabbitmq-server`).")
    node = rabbitmq.PrivateNode(data_dir / "rabbitmq")
    print(f"{amqp_uri} is not reachable; starting a private RabbitMQ node on port {node.port} ...", flush=True)
    node.start()
    return node.amqp_uri, node


def environment(data_dir: Path, amqp_uri: str) -> dict[str, str]:
    gateway_dir = data_dir / "gateway"
    gateway_dir.mkdir(parents=True, exist_ok=True)
    readmodels_port = os.environ.get("READMODELS_PORT", "27027")
    sms_port = os.environ.get("SMS_PORT", "8026")
    env = {
        "XINFANG_ENV": "development",
        "EVENT_STORE": "sqlite",
        "DATA_DIR": str(data_dir),
        "AMQP_URI": amqp_uri,
        "READMODELS_PORT": readmodels_port,
        "MONGODB_URI": f"mongodb://127.0.0.1:{readmodels_port}/xinfang",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": os.environ.get("SMTP_PORT", "8025"),
        # The SMS sink (deploy/local/smssink.py) stands in for the provider; it checks signatures with the same secret.
        "SMS_PORT": sms_port,
        "SMS_URL": f"http://127.0.0.1:{sms_port}/send",
        "SMS_ACCOUNT": "xinfang-local",
        "SMS_SECRET": development_secret(data_dir / "sms-secret"),
        "GATEWAY_HOST": os.environ.get("GATEWAY_HOST", "127.0.0.1"),
        "GATEWAY_PORT": os.environ.get("GATEWAY_PORT", "8000"),
        # Where integrators fetch the event schemas (each event's `dataschema`): this gateway's own route.
        "XINFANG_SCHEMA_BASE_URL": os.environ.get("XINFANG_SCHEMA_BASE_URL") or
        f"http://{os.environ.get('GATEWAY_HOST', '127.0.0.1')}:{os.environ.get('GATEWAY_PORT', '8000')}/api/v1/schemas",
        "GATEWAY_JWT_SECRET": development_secret(gateway_dir / "jwt-secret"),
        "INTAKE_INTERNAL_TOKEN": development_secret(gateway_dir / "intake-token"),
        # Kept with the data: a new key would start every petitioner file afresh (services/intake/repeats.py).
        "INTAKE_PERSON_KEY_SECRET": development_secret(data_dir / "intake-person-key"),
        "PLATFORM_RPC_SECRET": development_secret(data_dir / "rpc-secret"),  # who calls a service (shared/runtime/callers.py)
        "GATEWAY_USERS_FILE": str(gateway_dir / "users.json"),
        "INTAKE_HTTP_ADDRESS": os.environ.get("INTAKE_HTTP_ADDRESS", "127.0.0.1:8101"),
        "METRICS_PORT_PREFIX": os.environ.get("METRICS_PORT_PREFIX", "91"),
        "PSYCOPG_WAIT_FUNC": "wait_select",
        "PYTHONWARNINGS": "ignore::DeprecationWarning",
    }
    env["INTAKE_URLS"] = f"http://{env['INTAKE_HTTP_ADDRESS']}"
    mailbox.Maildir(data_dir / "mail", create=True)  # the mail sink stores into a Maildir (cur/new/tmp)
    (data_dir / "sms").mkdir(exist_ok=True)  # the SMS sink appends to messages.jsonl there
    return env


def broker_users(data_dir: Path, amqp_uri: str, node: rabbitmq.PrivateNode | None) -> dict[str, str]:
    """AMQP_URI_<SERVICE>: each service connects as its own broker user (shared/runtime/messaging/permissions.py), made
    with rabbitmqctl on the private node, or on a broker on this machine when rabbitmqctl may manage it. Otherwise
    {}: every process connects as AMQP_URI, and what to run instead is printed."""
    from deploy.rabbitmq import users as setup  # noqa: PLC0415 - imports the platform's code
    from shared.runtime.messaging import permissions, topology  # noqa: PLC0415

    namespace = os.environ.get("XINFANG_NAMESPACE", "xinfang")
    users = permissions.service_users(namespace)
    folder = data_dir / "broker-users"
    passwords = setup.generated_passwords(folder, users)
    vhost = setup.vhost_of(amqp_uri)
    local = urlparse(amqp_uri).hostname in ("127.0.0.1", "localhost", "::1")
    try:
        if node is None and not (local and shutil.which("rabbitmqctl")):
            raise setup.BrokerSetupFailed("rabbitmqctl cannot manage this broker from here")
        setup.apply(users, passwords, vhost, node.rabbitmqctl if node else setup.system_rabbitmqctl)
    except setup.BrokerSetupFailed as error:
        print(f"NOTE: every process connects as the user of AMQP_URI: {error}.\n  For one broker user per service, "
              f"run as the broker's administrator, then `make run` again:\n    python -m deploy.rabbitmq.users apply"
              f" --namespace {namespace} --vhost {vhost} --passwords-from {folder}", flush=True)
        return {}
    try:  # as the administrator, so no relay waits for a consumer to create its queue
        with Connection(amqp_uri, connect_timeout=5) as connection:
            topology.declare(connection, namespace)
    except Exception as error:  # noqa: BLE001 - the consumers declare their queues anyway
        print(f"NOTE: could not declare the broker topology as {urlparse(amqp_uri).username}: {error!r}", flush=True)
    return setup.service_uris(amqp_uri, namespace, passwords)


def seed_accounts(env: dict[str, str]) -> list[dict[str, str]]:
    from services.gateway.users import seed_demo  # noqa: PLC0415 - after the environment is decided

    gateway_dir = Path(env["DATA_DIR"]) / "gateway"
    return seed_demo(Path(env["GATEWAY_USERS_FILE"]), gateway_dir / "demo-accounts.json")


def banner(env: dict[str, str], accounts: list[dict[str, str]]) -> str:
    base = f"http://{env['GATEWAY_HOST']}:{env['GATEWAY_PORT']}"
    prefix = env["METRICS_PORT_PREFIX"]
    lines = [
        "",
        "信访事项处理平台 — embedded default",
        f"  web console     {base}/  (petitioners: 我要信访, 查询办理进度; officers sign in at {base}/console/login)",
        f"  API docs        {base}/docs",
        f"  submit          POST {base}/api/v1/petitions",
        f"  status lookup   {base}/api/v1/status/<查询码>",
        f"  health          {base}/healthz",
        f"  metrics         http://127.0.0.1:{prefix}05/metrics  (the gateway; services: :{prefix}01-{prefix}04, audit :{prefix}06,"
        f" relays: :{prefix}11-{prefix}14, projector :{prefix}21, dispatcher :{prefix}22, checkpointer :{prefix}23)",
        f"  e-mail sink     {env['DATA_DIR']}/mail (maildir, SMTP on 127.0.0.1:{env['SMTP_PORT']})",
        f"  SMS sink        {env['DATA_DIR']}/sms/messages.jsonl (one JSON line a message, HTTP on {env['SMS_URL']})",
        f"  broker          {env['AMQP_URI']}",
        f"  data            {env['DATA_DIR']}",
        f"  audit keys      {env['DATA_DIR']}/audit-keys (the logs' public keys, for auditors: *.pub; a checkpoint "
        f"every {os.environ.get('AUDIT_CHECKPOINT_INTERVAL', '60')} s)",
        "  demo accounts (development only; sign in at /console/login or POST /api/v1/auth/token):",
        *(f"    {a['username']:<18} {a['password']:<14} {a['role']:<14} {a['organ']}" for a in accounts),
        "",
        "Ctrl-C stops everything; `make run` again resumes with the same data.",
        "",
    ]
    return "\n".join(lines)


def start_read_models(env: dict[str, str], bin_dir: Path) -> subprocess.Popen[bytes]:
    """The read models' server (SecantusDB), started before the platform's processes and stopped after them, in a
    session of its own (Ctrl-C does not reach it): a projector writes its position on the way out, and with the
    server gone it would wait for it (pymongo's server selection) until honcho killed it. Its cache holds
    READMODELS_CACHE_SIZE of the read models (docs/operations.md: raise it past about 80,000 cases)."""
    port = int(env["READMODELS_PORT"])
    if rabbitmq.reachable("127.0.0.1", port):
        sys.exit(f"READMODELS_PORT {port} is taken (is `make run` already running?): stop that, or set another.")
    server = subprocess.Popen(
        [str(bin_dir / "secantusd-py"), "--host", "127.0.0.1", "--port", str(port), "--storage-path",
         env["DATA_DIR"] + "/readmodels", "--cache-size", os.environ.get("READMODELS_CACHE_SIZE", "1G"),
         "--log-level", "WARNING"], start_new_session=True)
    deadline = time.monotonic() + 60
    while not rabbitmq.reachable("127.0.0.1", port):
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            sys.exit(f"the read models' server did not start on port {port}")
        time.sleep(0.2)
    return server


def stop_read_models(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def main() -> None:
    data_dir = Path(os.environ.get("DATA_DIR", ROOT / "var")).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    amqp_uri, private_node = find_broker(data_dir)
    env = environment(data_dir, amqp_uri)
    env.update(broker_users(data_dir, amqp_uri, private_node))
    accounts = seed_accounts(env)
    bin_dir = Path(sys.executable).parent
    process_env = {**os.environ, **env, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
                   "PYTHONPATH": str(ROOT)}
    read_models = None
    try:
        read_models = start_read_models(env, bin_dir)
        print(banner(env, accounts), flush=True)
        honcho = subprocess.Popen([str(bin_dir / "honcho"), "start", "-f", str(ROOT / "deploy/local/Procfile"),
                                   "-d", str(ROOT)], env=process_env)
        # Ctrl-C in a terminal reaches honcho directly too; forwarding covers a signal sent to this process alone.
        # honcho stops every process once, however many signals it gets.
        signal.signal(signal.SIGINT, lambda *_: honcho.terminate())
        signal.signal(signal.SIGTERM, lambda *_: honcho.terminate())
        code = honcho.wait()
    finally:  # also when the read models' server could not start (sys.exit): the private node is stopped
        if read_models is not None:
            stop_read_models(read_models)
        if private_node is not None:
            print("stopping the private RabbitMQ node ...", flush=True)
            private_node.stop()
    sys.exit(code)


if __name__ == "__main__":
    main()
