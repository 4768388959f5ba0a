"""The platform signs its audit logs on its own (the Procfile's checkpointer process), so a bundle taken from a
running platform verifies offline — written by the operator's `cli bundle`, or downloaded by an auditor over HTTP
from the audit service (GET /api/v1/audit/petitions/{id}/bundle), signed with the platform's keys; a bundle that
would prove nothing is refused, with a clear message and a non-zero exit (before, `cli bundle` wrote one and
exited 0, and the verifier then failed), or over HTTP a 409 in Chinese."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.audit.ledger import origin
from tests.e2e.conftest import write_users
from tests.e2e.officers import act, signed_in, submit_routed
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
    over_http = gateway.get(f"/api/v1/audit/petitions/{receipt['id']}/bundle",
                            headers=signed_in(gateway, "auditor"))
    assert over_http.status_code == 409, over_http.text
    assert over_http.json()["error"] == "not_yet_checkpointed" and "检查点" in over_http.json()["message"]

    platform.start("checkpointer")  # as make run starts it: keys made on first start, then every 2 seconds
    keys = Path(platform.env["DATA_DIR"]) / "audit-keys"
    wait_for(lambda: all((keys / f"{service}.pub").exists() for service in SERVICES), what="the logs' keys")
    written = wait_for(lambda: (done := bundle(platform, receipt["id"], out)).returncode == 0 and done,
                       timeout=60, interval=1, what="a bundle covered by the checkpointer's signatures")
    assert "case bundle written" in written.stdout
    # A process of the platform: its witness refusals are scraped (deploy/prometheus/alerts.yml alerts on them).
    assert "xinfang_audit_witness_refusals_total" in platform.metrics("checkpointer")

    public = {origin(platform.env.get("XINFANG_COUNTY_CODE", "330106"), service):
              (keys / f"{service}.pub").read_text().strip() for service in SERVICES}
    verified = cli(platform, "shared.audit.verifier", str(out), "--bundle",
                   *(f"--key={log}={key}" for log, key in public.items()))
    assert verified.returncode == 0, verified.stdout + verified.stderr


def public_keys(platform: TestPlatform) -> dict[str, str]:
    """The logs' public keys as the platform publishes them (<service>.pub beside the checkpointer's keys)."""
    keys = Path(platform.env["DATA_DIR"]) / "audit-keys"
    return {origin(platform.env.get("XINFANG_COUNTY_CODE", "330106"), service):
            (keys / f"{service}.pub").read_text().strip() for service in SERVICES}


def offline_verifier(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The standalone verifier with nothing of the platform: no settings, no database, no broker."""
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "shared.audit.verifier", *args], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=120)


def test_an_auditor_downloads_a_case_bundle_over_http_and_verifies_it_offline(platform, gateway, tmp_path):
    receipt = submit_routed(gateway)
    pid = receipt["id"]
    act(gateway, "chengguan", pid, "acceptance", {"procedure": "ordinary"})
    act(gateway, "chengguan", pid, "reply", {"outcome": "explain", "opinion": "已向信访人解释说明相关政策"})
    keys = Path(platform.env["DATA_DIR"]) / "audit-keys"
    platform.start("checkpointer")  # already running when the test above ran first
    wait_for(lambda: all((keys / f"{service}.pub").exists() for service in SERVICES), what="the logs' keys")
    auditor = signed_in(gateway, "auditor")
    url = f"/api/v1/audit/petitions/{pid}/bundle"

    def covered() -> dict | None:  # every event of the case, up to the reply, under a signed checkpoint
        response = gateway.get(url, headers=auditor)
        if response.status_code != 200:
            return None
        document = response.json()
        supervision = next(log for log in document["logs"] if log["service"] == "supervision")
        return document if len(supervision["entries"]) >= 4 and supervision["not_yet_covered"] == 0 else None

    document = wait_for(covered, timeout=60, interval=1, what="a bundle covering the reply")
    assert document["format"] == "petition-audit/case-bundle/v2" and document["petition_id"] == pid
    folder = tmp_path / "auditor"  # what the auditor holds: the bundle and the published public keys
    folder.mkdir()
    (folder / "case.json").write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    for log_origin, key in public_keys(platform).items():
        (folder / f"{log_origin.split('/')[1]}.pub").write_text(key + "\n")
    published = {log_origin: (folder / f"{log_origin.split('/')[1]}.pub").read_text().strip()
                 for log_origin in public_keys(platform)}

    verified = offline_verifier(folder, "case.json", "--bundle", *(f"--key={o}={k}" for o, k in published.items()))

    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "VERIFIED" in verified.stdout
    # A changed opinion in the downloaded bundle is caught offline.
    changed = json.loads((folder / "case.json").read_text(encoding="utf-8"))
    supervision = next(log for log in changed["logs"] if log["service"] == "supervision")
    supervision["entries"][-1]["state"] = supervision["entries"][-2]["state"]
    (folder / "changed.json").write_text(json.dumps(changed), encoding="utf-8")
    refuted = offline_verifier(folder, "changed.json", "--bundle", *(f"--key={o}={k}" for o, k in published.items()))
    assert refuted.returncode != 0 and "supervision" in refuted.stdout + refuted.stderr

    # The download showed personal data (the stored events whole): recorded before it was answered.
    views = gateway.get("/api/v1/audit/personal-data-views", params={"petition_id": pid}, headers=auditor).json()
    downloads = [v for v in views["views"] if any(f.startswith("bundle.") for f in v["fields"])]
    assert downloads and all(v["username"] == "auditor" and "bundle.intake.petitioner" in v["fields"]
                             for v in downloads)


def test_only_auditors_get_a_case_bundle(platform, gateway):
    receipt = submit_routed(gateway)
    url = f"/api/v1/audit/petitions/{receipt['id']}/bundle"

    for user in ("supervisor", "clerk", "chengguan"):
        refused = gateway.get(url, headers=signed_in(gateway, user))
        assert refused.status_code == 403 and refused.json()["message"] == "您的角色无权执行此操作", user
    assert gateway.get(url).status_code == 401
    unknown = gateway.get("/api/v1/audit/petitions/00000000-0000-4000-8000-000000000000/bundle",
                          headers=signed_in(gateway, "auditor"))
    assert unknown.status_code == 404 and unknown.json()["message"] == "未找到该信访事项"

