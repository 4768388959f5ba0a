"""`make run`'s runner on a fresh data folder: it starts a private RabbitMQ node when no broker is reachable,
brings every process up on the embedded default (SQLite stores, SecantusDB), prints where everything is, stops on
Ctrl-C, and a second run resumes with the same data."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from deploy.local.rabbitmq import reachable
from tests.support import samples
from tests.support.platform import ROOT, metrics_prefix, procfile_commands
from tests.support.servers import free_port
from tests.support.waiting import wait_for


def start_runner(data_dir: Path, env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "deploy.local.run"], cwd=ROOT, env=env,
                            stdout=open(log, "ab"), stderr=subprocess.STDOUT,  # noqa: SIM115
                            start_new_session=True)


def stop_runner(runner: subprocess.Popen) -> int:
    os.killpg(runner.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole process group
    try:
        return runner.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(runner.pid, signal.SIGKILL)
        raise


def come_up(gateway: str, log: Path, what: str) -> None:
    """Wait for the gateway's health; when it never answers, fail with the end of the runner's log (which process
    stopped, and why)."""
    try:
        wait_for(lambda: httpx.get(f"{gateway}/healthz", timeout=2).status_code == 200, timeout=120, what=what)
    except AssertionError as error:
        raise AssertionError(f"{error}\n--- the end of {log.name} ---\n{log.read_text(errors='replace')[-6000:]}") from None


def still_listening(env: dict[str, str]) -> list[int]:
    """The ports of `make run`'s processes that something still listens on: none once it has returned, or a second
    run cannot start (honcho must wait for each process itself, not for the shell that started it)."""
    ports = [int(env[name]) for name in ("GATEWAY_PORT", "READMODELS_PORT", "SMTP_PORT", "SMS_PORT")]
    ports.append(int(env["INTAKE_HTTP_ADDRESS"].rpartition(":")[2]))
    ports += [int(env["METRICS_PORT_PREFIX"] + suffix) for command in procfile_commands().values()
              for suffix in re.findall(r"METRICS_PORT=\$\{METRICS_PORT_PREFIX\}(\d\d)", command)]
    return [port for port in ports if reachable("127.0.0.1", port)]


@pytest.fixture
def runner_env(tmp_path) -> dict[str, str]:
    env = {**os.environ, "DATA_DIR": str(tmp_path / "var"), "AMQP_URI": f"amqp://guest:guest@127.0.0.1:{free_port()}/",
           "GATEWAY_PORT": str(free_port()), "READMODELS_PORT": str(free_port()), "SMTP_PORT": str(free_port()),
           "SMS_PORT": str(free_port()), "INTAKE_HTTP_ADDRESS": f"127.0.0.1:{free_port()}",
           "METRICS_PORT_PREFIX": metrics_prefix(), "XINFANG_NAMESPACE": "makerun", "PYTHONWARNINGS": "ignore"}
    for inherited in ("EVENT_STORE", "MONGODB_URI", "POSTGRES_SCHEMA_PREFIX"):
        env.pop(inherited, None)
    return env


def test_make_run_brings_the_platform_up_and_a_second_run_resumes_with_the_same_data(tmp_path, runner_env):
    log = tmp_path / "make-run.log"
    gateway = f"http://127.0.0.1:{runner_env['GATEWAY_PORT']}"
    runner = start_runner(tmp_path, runner_env, log)
    try:
        come_up(gateway, log, "the embedded platform to come up")
        output = log.read_text()
        assert "is not reachable; starting a private RabbitMQ node" in output
        for shown in ("/docs", "/api/v1/status/<查询码>", "/metrics", "demo accounts", "SMS sink"):
            assert shown in output
        petition = samples.petition()
        receipt = httpx.post(f"{gateway}/api/v1/petitions", json=petition, timeout=30).json()
        routed = wait_for(lambda: (s := httpx.get(f"{gateway}/api/v1/status/{receipt['query_code']}").json())["organ"]
                          and any(n["kind"] == "registration_receipt" for n in s["notices"]) and s,
                          timeout=60, what="the routed organ and the receipt in the status view")
        assert "acceptance" in [d["kind"] for d in routed["deadlines"]]
        mail = Path(runner_env["DATA_DIR"]) / "mail" / "new"  # the dispatcher sends after the notice is listed
        wait_for(lambda: mail.exists() and list(mail.iterdir()), timeout=60, what="the receipt e-mail in the sink")
        sms = Path(runner_env["DATA_DIR"]) / "sms" / "messages.jsonl"  # the SMS sink (deploy/local/smssink.py)
        wait_for(lambda: sms.exists() and petition["petitioner"]["phone"] in sms.read_text(encoding="utf-8"),
                 timeout=60, what="the receipt SMS in the SMS sink")
    finally:
        assert stop_runner(runner) == 0 or "stopping the private RabbitMQ node" in log.read_text()
    assert still_listening(runner_env) == []

    second = start_runner(tmp_path, runner_env, log)
    try:
        come_up(gateway, log, "the platform to come up again")
        again = httpx.get(f"{gateway}/api/v1/status/{receipt['query_code']}").json()
        assert again["organ"] == routed["organ"]
        # Nothing seen before is lost; the e-mail's delivery may have been recorded after the first look.
        assert again["timeline"][:len(routed["timeline"])] == routed["timeline"]
    finally:
        stop_runner(second)
    assert still_listening(runner_env) == []
    assert "stopping the private RabbitMQ node" in log.read_text()
