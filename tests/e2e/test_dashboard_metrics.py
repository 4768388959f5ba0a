"""No alert rule and no dashboard panel reads a metric the platform does not export: every xinfang_ name the rules
(deploy/prometheus/alerts.yml) and the Grafana dashboard (deploy/grafana/dashboard.py) query is on the /metrics
page of some process of a running platform, after one petition went through it. RabbitMQ's own metrics are checked
against the plugin's documented names instead (tests/unit/deploy/test_observability_files.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pymongo import MongoClient

from tests.e2e.conftest import write_users
from tests.support import promql, samples
from tests.support.platform import PLATFORM_PROCESSES, TestPlatform, metric_value, running_platform
from tests.support.sms_provider import ACCOUNT as SMS_ACCOUNT
from tests.support.sms_provider import SECRET as SMS_SECRET
from tests.support.waiting import wait_for

INTAKE_LOG = "xinfang.330106/intake/audit/v1"  # the checkpointer's label for intake's audit log (services/audit/ledger.py)


@pytest.fixture(scope="module")
def platform(tmp_path_factory, secantus, smtp_sink, sms_provider) -> Iterator[TestPlatform]:
    """tests/e2e/conftest.py's platform, with the deadline watch and the checkpointer ticking every second (60 s by
    default) so that their gauges have values within the test."""
    folder = tmp_path_factory.mktemp("platform")
    with running_platform(folder, secantus, smtp_sink.port,
                          GATEWAY_USERS_FILE=str(write_users(folder / "users.json")),
                          SMS_URL=sms_provider.url, SMS_ACCOUNT=SMS_ACCOUNT, SMS_SECRET=SMS_SECRET,
                          DEADLINE_WATCH_INTERVAL="1", AUDIT_CHECKPOINT_INTERVAL="1") as running:
        yield running


def test_every_metric_the_rules_and_the_dashboard_query_is_exported(platform, gateway):
    response = gateway.post("/api/v1/petitions", json=samples.petition(title="仪表盘指标", topic="transport"))
    assert response.status_code == 201, response.text

    # Through every stage the flow panel shows: registered, routed, case opened, receipt delivered.
    wait_for(lambda: metric_value(platform.metrics("supervision"), "xinfang_events_handled_total",
                                  handler="handle_petition_routed", outcome="processed") >= 1, what="the case routed")
    wait_for(lambda: metric_value(platform.metrics("notification-dispatcher"), "xinfang_notices_delivered_total",
                                  kind="registration_receipt", channel="inbox") >= 1, what="the receipt delivered")
    assert metric_value(platform.metrics("intake"), "xinfang_petitions_registered_total") >= 1
    assert metric_value(platform.metrics("routing"), "xinfang_routing_decisions_total") >= 1
    assert metric_value(platform.metrics("supervision"), "xinfang_events_handled_total", service="supervision",
                        handler="handle_petition_registered", outcome="processed") >= 1

    pages = {process: platform.metrics(process) for process in PLATFORM_PROCESSES}
    exported = {process: promql.exported(page) for process, page in pages.items()}
    everywhere = set().union(*exported.values())
    ours = {name for name in promql.queried() if name.startswith("xinfang_")}
    assert len(ours) > 20  # the extraction found the queries at all
    missing = sorted(ours - everywhere)
    assert missing == [], f"queried but exported by no process: {missing}"

    # The follower panels have a value for every follower (each process measures its own).
    followers = [line for page in pages.values() for line in page.splitlines()
                 if line.startswith("xinfang_follower_last_progress_timestamp_seconds{")]
    assert len(followers) >= 6, followers


def test_the_deadline_and_checkpoint_gauges_have_the_platform_s_values(platform, gateway):
    """The counts come from the work-list projection's per-day counters, as the active watch reads them; the
    checkpointer's gauges follow what it signs."""
    response = gateway.post("/api/v1/petitions", json=samples.petition(title="检查点指标"))
    assert response.status_code == 201, response.text
    wait_for(lambda: metric_value(platform.metrics("supervision"), "xinfang_deadline_watch_active") == 1,
             what="the deadline watch to be active")
    with MongoClient(platform.env["MONGODB_URI"]) as client:  # three open duties long past their day
        client.get_default_database()["case_counts"].insert_one({"_id": "due|2000-01-03", "count": 3})
    wait_for(lambda: metric_value(platform.metrics("supervision"), "xinfang_cases_overdue") == 3,
             what="the overdue count")

    def signed() -> bool:
        page = platform.metrics("checkpointer")
        return (metric_value(page, "xinfang_audit_checkpoint_size", log=INTAKE_LOG) >= 1
                and metric_value(page, "xinfang_audit_checkpoint_size", log=INTAKE_LOG)
                == metric_value(page, "xinfang_audit_log_leaves", log=INTAKE_LOG))

    wait_for(signed, what="a checkpoint of intake's log covering all of it")
    assert metric_value(platform.metrics("checkpointer"), "xinfang_audit_checkpoint_timestamp_seconds",
                        log=INTAKE_LOG) > 1.7e9
