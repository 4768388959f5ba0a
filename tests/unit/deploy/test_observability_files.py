"""The observability files in deploy/ agree with each other: the committed Grafana dashboard is what its generator
makes, the provisioning points Grafana at that dashboard and that data source, the compose service mounts them, and
the RabbitMQ metrics the rules and panels read are among the families Prometheus asks the broker for. (That every
xinfang_ metric they read is exported is checked against a running platform: tests/e2e/test_dashboard_metrics.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from deploy.grafana import dashboard
from tests.support import promql

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
GRAFANA = DEPLOY / "grafana"


def test_the_committed_dashboard_is_what_the_generator_makes():
    committed = dashboard.OUTPUT.read_text(encoding="utf-8")
    assert committed == dashboard.render(), "regenerate it: python -m deploy.grafana.dashboard"
    assert dashboard.main(["--check"]) == 0


def test_panels_fit_the_grid_without_overlapping_and_have_unique_ids():
    panels = json.loads(dashboard.render())["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    taken: set[tuple[int, int]] = set()
    for panel in panels:
        box = panel["gridPos"]
        assert box["x"] >= 0 and box["x"] + box["w"] <= 24, panel["title"]
        cells = {(x, y) for x in range(box["x"], box["x"] + box["w"]) for y in range(box["y"], box["y"] + box["h"])}
        assert not cells & taken, f"{panel['title']} overlaps another panel"
        taken |= cells
    assert all(p["targets"] for p in panels if p["type"] != "row")


def test_the_dashboard_shows_each_thing_the_operators_watch():
    queried = {name for expr in dashboard.expressions() for name in promql.names_in(expr)}
    for metric in ("xinfang_petitions_registered_total", "xinfang_routing_decisions_total",
                   "xinfang_events_handled_total", "xinfang_notices_delivered_total",  # the flow
                   "xinfang_follower_lag_events", "xinfang_follower_last_progress_timestamp_seconds",
                   "xinfang_events_failed_total", "rabbitmq_detailed_queue_messages",  # failures, dead letters
                   "xinfang_http_requests_total", "xinfang_http_request_duration_seconds_bucket",
                   "xinfang_cases_overdue", "xinfang_cases_due_soon"):
        assert metric in queried, metric
    assert all(promql.names_in(expr) for expr in dashboard.expressions())


def test_grafana_is_provisioned_with_the_dashboard_and_its_data_source():
    source = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text(encoding="utf-8"))
    assert [s["uid"] for s in source["datasources"]] == [dashboard.DATASOURCE["uid"]]
    assert source["datasources"][0]["url"] == "http://prometheus:9090"  # the compose service
    provider = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "xinfang.yml").read_text(encoding="utf-8"))
    folder = provider["providers"][0]["options"]["path"]

    grafana = yaml.safe_load((DEPLOY / "compose.yml").read_text(encoding="utf-8"))["services"]["grafana"]
    assert grafana["profiles"] == ["observability"]
    assert ":" in grafana["image"] and not grafana["image"].endswith(":latest")  # a pinned tag
    mounts = dict(volume.split(":")[:2] for volume in grafana["volumes"])
    assert mounts["./grafana/provisioning"] == "/etc/grafana/provisioning"
    assert mounts["./grafana/dashboards"] == folder
    assert (DEPLOY / "grafana" / "dashboards" / dashboard.OUTPUT.name).exists()
    assert grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"] == f"{folder}/{dashboard.OUTPUT.name}"


def test_the_rabbitmq_metrics_read_are_documented_by_the_plugin_and_scraped():
    read = {name for name in promql.queried() if name.startswith("rabbitmq_")}
    assert read <= set(promql.RABBITMQ), f"not among the plugin's documented names: {read - set(promql.RABBITMQ)}"
    assert {promql.RABBITMQ[name] for name in read} <= promql.scraped_rabbitmq_families()


def test_metric_names_are_found_in_promql():
    assert promql.names_in('sum by (q) (rabbitmq_detailed_queue_messages{queue=~".+\\\\.dead-letter"})') == {
        "rabbitmq_detailed_queue_messages"}
    assert promql.names_in("xinfang:cases_overdue:active > xinfang_cases_overdue offset 1d") == {
        "xinfang_cases_overdue"}
    assert promql.names_in('rate(xinfang_http_requests_total{route!~"/healthz"}[5m])') == {
        "xinfang_http_requests_total"}


def test_the_exported_names_include_families_without_samples_yet():
    page = ("# HELP xinfang_a_total a\n# TYPE xinfang_a_total counter\n"
            "# HELP xinfang_h_seconds h\n# TYPE xinfang_h_seconds histogram\n"
            "# HELP xinfang_g g\n# TYPE xinfang_g gauge\nxinfang_g 1.0\n")
    assert promql.exported(page) == {"xinfang_a_total", "xinfang_h_seconds_bucket", "xinfang_h_seconds_count",
                                     "xinfang_h_seconds_sum", "xinfang_g"}
