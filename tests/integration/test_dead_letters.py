"""Dead letters on a real broker, with the real services: a message a consumer refuses lands on its dead-letter queue
with the reason in a header; the operators' CLI (deploy/rabbitmq/deadletters.py) lists it and shows it without its
body, and republishes it after a fix, processed once; one petition's dead letters go back in their order.

Two consumers: intake's inbound queue for the provinces (`<ns>.intake.handle_matter_sent`: a matter against its
schema, and one from a province not in PROVINCE_SOURCES, sent by the test province's own broker user), and routing's
(`<ns>.routing.handle_petition_registered`, whose publisher is intake).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from kombu import Connection, Producer

from deploy.rabbitmq import deadletters
from shared.language.integration.catalog import PROVINCE_MATTER_SENT
from shared.language.integration.envelope import IntegrationEvent
from shared.runtime.messaging import deadletter, topology
from tests.support import samples
from tests.support.platform import ROOT, TestPlatform, province_uri, queue_depth, stored_events
from tests.support.waiting import wait_for

CLOUDEVENTS = "application/cloudevents+json"
QUEUE = "routing.handle_petition_registered"
INBOUND = "intake.handle_matter_sent"
PROVINCE = "urn:xinfang:province:330000"  # the default allowed source of county 330106 (PROVINCE_SOURCES)
OTHER_PROVINCE = "urn:xinfang:province:320000"


@pytest.fixture
def routing(platform: TestPlatform) -> TestPlatform:
    platform.start("routing")
    platform.wait_ready()
    return platform


def publish(platform: TestPlatform, body: bytes, routing_key: str, content_type: str = CLOUDEVENTS, *,
            exchange: str = "events", uri: str | None = None) -> None:
    with Connection(uri or platform.env["AMQP_URI"]) as connection:
        Producer(connection.default_channel).publish(
            body, exchange=topology.exchange_named(platform.namespace, exchange), routing_key=routing_key,
            content_type=content_type, content_encoding="utf-8", delivery_mode=2, retry=False)


def dead_letters(platform: TestPlatform, queue: str = QUEUE) -> int:
    return queue_depth(platform.namespace, f"{platform.namespace}.{queue}.dead-letter", platform.env["AMQP_URI"])


def cli(platform: TestPlatform, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = deadletters.main(["--amqp-uri", platform.env["AMQP_URI"], "--namespace", platform.namespace, *args],
                            out=out)
    return code, out.getvalue()


def routed(platform: TestPlatform, petition_id: str) -> int:
    return stored_events(platform.namespace, "routing", "Assignment.Routed", petition_id)


def matter(source: str = PROVINCE, **changes: Any) -> IntegrationEvent:
    """A province's matter_sent (a transfer) for county 330106."""
    petition = {k: v for k, v in samples.petition().items() if k not in ("channel", "attachments")}
    data = {"reference": f"浙信转〔2026〕{uuid.uuid4().int % 10**6}号", "mode": "transfer", "county": "330106",
            "sent_on": date.today().isoformat(), "report_by": None, "petition": petition, **changes}
    return IntegrationEvent(id=str(uuid.uuid4()), source=source, event_type=PROVINCE_MATTER_SENT,
                            subject=data["reference"], time=datetime.now(UTC), data=data,
                            correlation_id=str(uuid.uuid4()))


def registered(platform: TestPlatform) -> int:
    return stored_events(platform.namespace, "intake", "Petition.Registered")


def test_a_provinces_refused_matters_are_parked_with_the_reason_and_registered_once_after_a_fix(platform, tmp_path):
    platform.start("intake")
    platform.wait_ready()
    invalid = matter(county=None)  # against the schema: the county is a six-digit code
    foreign = matter(source=OTHER_PROVINCE)  # valid, from a province this county does not take matters from
    elsewhere = matter(county="330102")  # valid, but another county's: intake's handler refuses it
    for parked, event in enumerate((invalid, foreign, elsewhere), start=1):
        publish(platform, event.to_json(), event.type, exchange="province.inbound", uri=province_uri(platform))
        wait_for(lambda n=parked: dead_letters(platform, INBOUND) == n, what="each matter parked in turn")

    code, listed = cli(platform, "list", "--queue", INBOUND)
    assert code == 0
    assert f"#1  id {invalid.id}" in listed and "province.matter_sent.v1 data invalid at county" in listed
    assert f"#2  id {foreign.id}" in listed and f"source {OTHER_PROVINCE}" in listed
    assert f"accepted from {PROVINCE} only, not from '{OTHER_PROVINCE}'" in listed
    assert f"#3  id {elsewhere.id}" in listed and "reason: the matter is for county 330102, this is 330106" in listed
    assert "王秀兰" not in listed and invalid.data["petition"]["petitioner"]["id_number"] not in listed
    code, shown = cli(platform, "show", INBOUND, "--id", foreign.id)
    assert code == 0 and "王秀兰" not in shown and "it may hold personal data" in shown
    assert registered(platform) == 0

    # The fixes: the sender's corrected message for the first; the second province allowed, and intake restarted.
    fixed = tmp_path / "fixed.json"
    fixed.write_bytes(replace(invalid, data={**invalid.data, "county": "330106"}).to_json())
    code, _ = cli(platform, "republish", INBOUND, "--id", invalid.id, "--body-file", str(fixed))
    assert code == 0
    wait_for(lambda: registered(platform) == 1, what="the fixed matter to be registered")
    platform.stop("intake")
    platform.env["PROVINCE_SOURCES"] = f"{PROVINCE},{OTHER_PROVINCE}"
    platform.start("intake")
    platform.wait_ready()
    code, moved = cli(platform, "republish", INBOUND, "--id", foreign.id)
    assert code == 0 and f"republished #1 id {foreign.id}" in moved and "1 left" in moved
    wait_for(lambda: registered(platform) == 2, what="the other province's matter to be registered")

    publish(platform, foreign.to_json(), foreign.type, exchange="province.inbound", uri=province_uri(platform))
    time.sleep(2)  # the same matter sent again: registered once all the same
    assert registered(platform) == 2 and dead_letters(platform, INBOUND) == 1  # the other county's, still


def test_refused_messages_are_parked_with_their_reason_and_republished_after_a_fix(routing, tmp_path, capsys):
    platform = routing
    invalid = samples.registered_event(1, people_count="many")  # against the schema
    foreign = samples.registered_event(2, source="urn:xinfang:330106:someone-else")  # not intake
    publish(platform, invalid.to_json(), invalid.type)
    publish(platform, foreign.to_json(), foreign.type)
    publish(platform, b"\x00\x01binary", invalid.type, "application/octet-stream")  # a content type not taken
    wait_for(lambda: dead_letters(platform) == 3, what="the three refused messages on the dead-letter queue")

    code, listed = cli(platform, "list")
    assert code == 0
    assert f"{platform.namespace}.{QUEUE}.dead-letter" in listed and "3 dead letter(s) in all" in listed

    code, listed = cli(platform, "list", "--queue", QUEUE)
    assert code == 0
    assert f"#1  id {invalid.id}" in listed and f"#2  id {foreign.id}" in listed
    assert "data invalid at people_count" in listed
    assert f"accepted from urn:xinfang:330106:intake only, not from {foreign.source!r}" in listed
    assert "reason: undecodable" in listed
    assert "place_code" not in listed  # no body

    code, shown = cli(platform, "show", QUEUE, "--id", foreign.id)
    assert code == 0
    assert f"{deadletter.QUEUE_HEADER}: {platform.namespace}.{QUEUE}" in shown
    assert deadletter.REASON_HEADER in shown and deadletter.AT_HEADER in shown
    assert "not shown: it may hold personal data" in shown and "place_code" not in shown
    code, shown = cli(platform, "show", QUEUE, "2", "--body")
    assert code == 0 and "may hold personal data" in shown and '"place_code": "330106001"' in shown
    assert cli(platform, "show", QUEUE, "4")[0] == 1
    assert "no dead letter at position 4" in capsys.readouterr().err
    assert dead_letters(platform) == 3  # looking takes nothing away

    fixed_invalid, fixed_foreign = tmp_path / "invalid.json", tmp_path / "foreign.json"
    fixed_invalid.write_bytes(replace(invalid, data={**invalid.data, "people_count": 1}).to_json())
    fixed_foreign.write_bytes(replace(foreign, source="urn:xinfang:330106:intake").to_json())
    code, moved = cli(platform, "republish", QUEUE, "--id", invalid.id, "--body-file", str(fixed_invalid))
    assert code == 0 and f"republished #1 id {invalid.id}" in moved
    code, moved = cli(platform, "republish", QUEUE, "--id", foreign.id, "--body-file", str(fixed_foreign))
    assert code == 0 and "1 message(s) republished" in moved and "1 left" in moved

    wait_for(lambda: routed(platform, invalid.subject) == 1, what="the fixed invalid event to be routed")
    wait_for(lambda: routed(platform, foreign.subject) == 1, what="the fixed foreign event to be routed")
    assert dead_letters(platform) == 1
    code, listed = cli(platform, "list", "--queue", QUEUE)
    assert "#1  id (none)" in listed and "reason: undecodable" in listed
    assert routed(platform, invalid.subject) == routed(platform, foreign.subject) == 1  # once each


def test_one_subject_goes_back_in_its_order(routing, capsys):
    platform = routing
    petition, other = samples.registered_event(1).subject, samples.registered_event(2).subject
    first = samples.registered_event(1, petition_id=petition, source="urn:xinfang:330106:someone-else")
    between = samples.registered_event(2, petition_id=other, source="urn:xinfang:330106:someone-else")
    second = samples.registered_event(3, petition_id=petition, source="urn:xinfang:330106:someone-else")
    for parked, event in enumerate((first, between, second), start=1):
        publish(platform, event.to_json(), event.type)
        wait_for(lambda n=parked: dead_letters(platform) == n, what="each to be parked in turn")

    code, _ = cli(platform, "republish", QUEUE, "--id", second.id)
    assert code == 1
    refusal = capsys.readouterr().err
    assert "#1" in refusal and f"--subject {petition}" in refusal
    code, listed = cli(platform, "list", "--queue", QUEUE)  # nothing moved, nothing reordered
    assert [f"id {e.id}" in listed for e in (first, between, second)] == [True] * 3
    assert listed.index(first.id) < listed.index(between.id) < listed.index(second.id)

    platform.stop("routing")  # so the republished messages wait in routing's queue, where their order shows
    code, moved = cli(platform, "republish", QUEUE, "--subject", petition)
    assert code == 0 and "2 message(s) republished" in moved
    with Connection(platform.env["AMQP_URI"]) as connection:
        channel = connection.channel()
        queued = [channel.basic_get(f"{platform.namespace}.{QUEUE}", no_ack=True) for _ in range(3)]
    assert [json.loads(m.body)["id"] for m in queued if m is not None] == [first.id, second.id]
    assert all(deadletter.REASON_HEADER not in m.properties["application_headers"] for m in queued if m)
    code, listed = cli(platform, "list", "--queue", QUEUE)
    assert "1 dead letter(s)" in listed and f"#1  id {between.id}" in listed


def test_the_cli_runs_as_a_module_and_says_what_went_wrong(routing):
    platform = routing
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "deploy.rabbitmq.deadletters", *args], cwd=ROOT, text=True,
                              capture_output=True, timeout=60, env={
                                  **platform.env, "AMQP_ADMIN_URI": platform.env["AMQP_URI"]})

    listed = run("list")
    assert listed.returncode == 0 and f"{platform.namespace}.{QUEUE}.dead-letter" in listed.stdout
    unknown = run("list", "--queue", "nothing.here")
    assert unknown.returncode == 1 and "is not a dead-letter queue" in unknown.stderr
    unreachable = run("--amqp-uri", "amqp://guest:guest@127.0.0.1:1//", "list")
    assert unreachable.returncode == 1 and "cannot reach the broker" in unreachable.stderr
