"""Issue 14 §6: no query code, name, ID number, phone, e-mail or free text in any log line, at the level production
logs at.

The whole platform runs as real processes (deploy/local/Procfile) with its logs captured one file per process.
Markers go into every personal and free-text field of an appeal and of a report; the petitions are registered,
routed, looked up by query code (and a wrong one), their e-mail receipts refused for good (550) and deferred once
(450, then accepted), and the appeal goes through a few officers' steps. Then every line of every process's log
is searched for each marker, query code, phone, ID number and e-mail address. Before the fix intake's access
log held the query codes and the dispatcher's warnings the e-mail addresses."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from aiosmtpd.controller import Controller

from shared.language.contracts import querycode
from tests.e2e.conftest import write_users
from tests.e2e.officers import act, signed_in
from tests.support import samples
from tests.support.platform import ROOT, TestPlatform, metric_value, running_platform
from tests.support.servers import free_port
from tests.support.waiting import wait_for

RUN = uuid.uuid4().hex[:8]
REFUSED_EMAIL = f"marker-xyz-{RUN}@example.cn"  # the mail server refuses it for good (550)
DEFERRED_EMAIL = f"marker-later-{RUN}@example.cn"  # greylisted once (450), then accepted


def marker(field: str) -> str:
    """Chinese text with an ASCII tag: the tag survives a log that escapes non-ASCII (repr, JSON)."""
    return f"标记{field}QX{field}{RUN}"


def production_log_level() -> str:
    """The level the production deployment runs at (Kubernetes' config map; compose defaults to the same)."""
    configmap = yaml.safe_load((ROOT / "deploy" / "k8s" / "configmap.yaml").read_text(encoding="utf-8"))
    level = configmap["data"]["LOG_LEVEL"]
    compose = (ROOT / "deploy" / "compose.yml").read_text(encoding="utf-8")
    assert f"LOG_LEVEL: ${{LOG_LEVEL:-{level}}}" in compose
    return level


class PickyMailServer:
    """A real SMTP server that refuses one address for good and greylists another once, quoting the address in
    its answer as Postfix does."""

    def __init__(self) -> None:
        self.port = free_port()
        self.delivered: list[str] = []
        self._greylisted: set[str] = set()
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, enable_SMTPUTF8=True)
        self._controller.start()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, ANN201, N802
        if address == REFUSED_EMAIL:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        with self._lock:
            if address == DEFERRED_EMAIL and address not in self._greylisted:
                self._greylisted.add(address)
                return f"450 4.2.0 <{address}>: Recipient address rejected: Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
        with self._lock:
            self.delivered.extend(envelope.rcpt_tos)
        return "250 OK"

    def stop(self) -> None:
        self._controller.stop()


@pytest.fixture(scope="module")
def mail_server() -> Iterator[PickyMailServer]:
    server = PickyMailServer()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def platform(tmp_path_factory, secantus, mail_server) -> Iterator[TestPlatform]:
    folder = tmp_path_factory.mktemp("platform")
    with running_platform(folder, secantus, mail_server.port, LOG_LEVEL=production_log_level(),
                          GATEWAY_USERS_FILE=str(write_users(folder / "users.json"))) as running:
        yield running


def appeal() -> dict:
    body = samples.petition(place_code="330106001", topic="urban_management", title=marker("标题"),
                            request=marker("请求"), facts_and_reasons=marker("事实理由"), email=REFUSED_EMAIL)
    body["petitioner"].update(name=marker("姓名"), address=marker("住址"))
    body["petitioner"]["agent"] = {"name": marker("代理人"), "id_number": samples.id_number(),
                                   "phone": samples.mobile(), "relation": marker("关系")}
    body["attachments"][0]["file_name"] = marker("附件") + ".jpg"
    return body


def report() -> dict:
    body = samples.petition(category="report", place_code="330106001", topic="urban_management",
                            title=marker("举报标题"), request=marker("举报请求"),
                            facts_and_reasons=marker("举报事实"), email=DEFERRED_EMAIL)
    body["petitioner"].update(name=marker("举报人"), address=marker("举报人住址"))
    body["accused"] = {"name": marker("被举报人"), "organisation": marker("被举报单位"), "position": marker("职务")}
    return body


def register(gateway: httpx.Client, body: dict) -> dict:
    response = gateway.post("/api/v1/petitions", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def secrets_of(body: dict) -> set[str]:
    """Every value of the petition a log must not hold: markers, phones, ID numbers, e-mail addresses."""
    found: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str) and ("QX" in value or "@" in value or re.fullmatch(r"[0-9X]{11,18}", value)):
            found.add(value)

    walk(body)
    return found


def leaks(logs: dict[str, str], secret: str) -> list[str]:
    """The log lines holding `secret`, whole or (for markers) by its ASCII tag, in any case."""
    needles = {secret.lower()}
    if "QX" in secret:
        needles.add(secret[secret.index("QX"):].lower())
    if "@" in secret:
        needles.add(secret.split("@")[0].lower())
    return [f"{name}: {line}" for name, text in logs.items() for line in text.splitlines()
            if any(needle in line.lower() for needle in needles)]


def test_a_full_flow_leaves_no_personal_data_no_free_text_and_no_query_code_in_any_log(platform, mail_server):
    appeal_body, report_body = appeal(), report()
    with platform.http() as gateway:
        first = register(gateway, appeal_body)
        second = register(gateway, report_body)
        codes = [first["query_code"], second["query_code"]]

        # Looked up at once (intake answers: supervision has not opened the case yet), as typed, and wrongly.
        for code in codes:
            assert gateway.get(f"/api/v1/status/{code}").status_code == 200
            assert gateway.get(f"/api/v1/status/{code.lower()}").status_code == 200
        wrong = querycode.issue()
        assert gateway.get(f"/api/v1/status/{wrong}").status_code == 404
        for code in codes:
            wait_for(lambda c=code: gateway.get(f"/api/v1/status/{c}").json()["organ"], timeout=60,
                     what="routing")

        # A few of the appeal's steps, with free text in each.
        pid = first["id"]
        assert act(gateway, "chengguan", pid, "acceptance", {"procedure": "ordinary"})["status"] == "handling"
        act(gateway, "chengguan", pid, "extension", {"days": 20, "reasons": marker("延期理由"),
                                                       "approved_by": marker("批准人")})
        assert act(gateway, "chengguan", pid, "reply", {"outcome": "explain", "opinion": marker("答复意见")}
                   )["status"] == "replied"
        assert gateway.get(f"/api/v1/petitions/{pid}", headers=signed_in(gateway, "chengguan")).status_code == 200
        wait_for(lambda: gateway.get(f"/api/v1/status/{codes[0]}").json()["status"] == "replied", timeout=60,
                 what="the reply in the status view")

    # The receipts: one refused for good, one deferred and then sent.
    def failures(permanence: str) -> float:
        return metric_value(platform.metrics("notification-dispatcher"), "xinfang_notice_delivery_failures_total",
                            channel="email", permanence=permanence)

    wait_for(lambda: failures("permanent") >= 1, timeout=60, what="the refused e-mail receipt")
    wait_for(lambda: DEFERRED_EMAIL in mail_server.delivered, timeout=60, what="the deferred receipt, sent later")
    assert failures("transient") >= 1

    platform.stop()  # everything each process writes on the way out is in its log too
    logs = {path.name: path.read_text(encoding="utf-8", errors="replace")
            for path in sorted(Path(platform.log_dir).glob("*.log"))}
    assert {"intake.log", "notification-dispatcher.log", "gateway.log"} <= set(logs)

    secrets = secrets_of(appeal_body) | secrets_of(report_body) | {*codes, wrong} | {
        marker(field) for field in ("延期理由", "批准人", "答复意见")}
    assert {REFUSED_EMAIL, DEFERRED_EMAIL, appeal_body["petitioner"]["id_number"],
            appeal_body["petitioner"]["phone"], marker("被举报人")} <= secrets
    leaked = {secret: lines[:3] for secret in sorted(secrets) if (lines := leaks(logs, secret))}
    assert not leaked, leaked
