"""The platform signs its audit logs on its own (the Procfile's checkpointer process), so a bundle taken from a
running platform verifies offline; a bundle that would prove nothing is refused, with a clear message and a
non-zero exit (before, `cli bundle` wrote one and exited 0, and the verifier then failed)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.audit.ledger import origin
from tests.e2e.conftest import write_users
from tests.e2e.officers import act, submit_routed
from tests.support.platform import PLATFORM_PROCESSES, ROOT, TestPlatform, running_platform
from tests.support.waiting import wait_for

SERVICES = ("intake", "routing", "supervision", "notification")


@pytest.fixture(scope="module")
def platform(tmp_path_factory, secantus, smtp_sink) -> Iterator[TestPlatform]:
    """The whole platform, its checkpointer signing every 2 seconds, but held back until a test starts it."""
    folder = tmp_path_factory.mktemp("checkpointed")
    processes = [name for name in PLATFORM_PROCESSES if name != "checkpointer"]
    with running_platform(folder, secantus, smtp_sink.port, *processes, AUDIT_CHECKPOINT_INTERVAL="2",
                          GATEWAY_USERS_FILE=str(write_users(folder / "users.json"))) as running:
        yield running


@pytest.fixture(scope="module")
def gateway(platform):
    with platform.http() as client:
        yield client


def cli(platform: TestPlatform, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=platform.env, capture_output=True,
                          text=True, timeout=120)


def bundle(platform: TestPlatform, petition_id: str, out: Path) -> subprocess.CompletedProcess[str]:
    keys = Path(platform.env["DATA_DIR"]) / "audit-keys"
    return cli(platform, "services.audit.cli", "bundle", petition_id, "--out", str(out),
               *(f"--key={service}={keys / f'{service}.key'}" for service in SERVICES))


def test_a_bundle_is_refused_until_the_platform_has_checkpointed_and_then_verifies_offline(platform, gateway,
                                                                                          tmp_path):
    receipt = submit_routed(gateway)
    act(gateway, "chengguan", receipt["id"], "acceptance", {"procedure": "ordinary"})
    out = tmp_path / "case.json"

    early = bundle(platform, receipt["id"], out)
    assert early.returncode != 0 and not out.exists()
    assert "no bundle written" in early.stderr and "checkpoint" in early.stderr

    platform.start("checkpointer")  # as make run starts it: keys made on first start, then every 2 seconds
    keys = Path(platform.env["DATA_DIR"]) / "audit-keys"
    wait_for(lambda: all((keys / f"{service}.pub").exists() for service in SERVICES), what="the logs' keys")
    written = wait_for(lambda: (done := bundle(platform, receipt["id"], out)).returncode == 0 and done,
                       timeout=60, interval=1, what="a bundle covered by the checkpointer's signatures")
    assert "case bundle written" in written.stdout

    public = {origin(platform.env.get("XINFANG_COUNTY_CODE", "330106"), service):
              (keys / f"{service}.pub").read_text().strip() for service in SERVICES}
    verified = cli(platform, "shared.audit.verifier", str(out), "--bundle",
                   *(f"--key={log}={key}" for log, key in public.items()))
    assert verified.returncode == 0, verified.stdout + verified.stderr
