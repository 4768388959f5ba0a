"""The platform's Grafana dashboard, kept as code: `python -m deploy.grafana.dashboard` writes
deploy/grafana/dashboards/xinfang.json, which Grafana loads at start (deploy/grafana/provisioning/, deploy/compose.yml's
`observability` profile); `--check` only says whether the committed file is up to date (tests/unit/deploy/).

Plain JSON from a few helpers rather than a dashboard library: the model Grafana reads is stable and small, and a
generator of our own has no dependency to keep pinned. Every query reads metrics the platform exports
(tests/e2e/test_dashboard_metrics.py checks them against a running platform); a panel's layout is computed, two
panels a row under each section's header.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).resolve().parent / "dashboards" / "xinfang.json"
UID = "xinfang-platform"
DATASOURCE = {"type": "prometheus", "uid": "prometheus"}  # provisioning/datasources/prometheus.yml
# Probes and scrapes are not user traffic (as in deploy/prometheus/alerts.yml).
API = 'route!~"/healthz|/metrics"'
# The deadline watch's counts, read from its active instance: a standby keeps the counts it last had.
ACTIVE_WATCH = "and on (instance) (xinfang_deadline_watch_active == 1)"


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""


@dataclass(frozen=True)
class Panel:
    title: str
    queries: tuple[Query, ...]
    description: str = ""
    unit: str = "short"
    kind: str = "timeseries"  # or "stat": one number, the latest
    width: int = 12
    stacked: bool = False


@dataclass(frozen=True)
class Section:
    title: str
    panels: tuple[Panel, ...] = field(default_factory=tuple)


def q(expr: str, legend: str = "") -> Query:
    return Query(" ".join(expr.split()), legend)  # one line: how Grafana shows it in the query editor


SECTIONS = (
    Section("Flow: registered → routed → case opened → notice delivered", (
        Panel("Petitions per minute at each stage", (
            q("sum(rate(xinfang_petitions_registered_total[5m])) * 60", "registered (intake)"),
            q("sum(rate(xinfang_routing_decisions_total[5m])) * 60", "routed (routing)"),
            q('sum(rate(xinfang_events_handled_total{service="supervision", handler="handle_petition_registered",'
              ' outcome="processed"}[5m])) * 60', "case opened (supervision)"),
            q('sum(rate(xinfang_notices_delivered_total{kind="registration_receipt", channel="inbox"}[5m])) * 60',
              "receipt delivered (notification)"),
        ), "Each petition passes every stage once: lines that part for longer than a few minutes mean a stage is "
           "behind (see the followers and the failures below).", unit="short", width=16),
        Panel("Petitions registered today", (
            q("sum(increase(xinfang_petitions_registered_total[1d]))", "registered"),
        ), "In the last 24 hours, every channel.", kind="stat", width=8),
        Panel("Notices delivered per minute, by kind and channel", (
            q("sum by (kind, channel) (rate(xinfang_notices_delivered_total[5m])) * 60", "{{kind}} ({{channel}})"),
        ), stacked=True),
        Panel("Integration events handled per second, by service and handler", (
            q('sum by (service, handler) (rate(xinfang_events_handled_total{outcome="processed"}[5m]))',
              "{{service}}.{{handler}}"),
        ), unit="ops"),
    )),
    Section("Followers: lag and last progress", (
        Panel("Lag per follower (events)", (
            q("max by (follower) (xinfang_follower_lag_events)", "{{follower}}"),
        ), "Stored events after the follower's recorded position, measured outside its batch loop: it grows while "
           "a follower is wedged."),
        Panel("Since last progress per follower", (
            q("time() - max by (follower) (xinfang_follower_last_progress_timestamp_seconds)", "{{follower}}"),
        ), "Time since the follower's position last advanced or was found at the store's head: a line that keeps "
           "rising while the lag is above 0 is a stalled follower (alert XinfangFollowerNoProgress).", unit="s"),
        Panel("Outbox backlog per store (events not yet published)", (
            q('max by (store) (xinfang_outbox_lag_events and on (instance) '
              '(xinfang_follower_active{follower=~".+\\\\.outbox"} == 1))', "{{store}}"),
        )),
        Panel("Active instances per follower", (
            q("sum by (follower) (xinfang_follower_active)", "{{follower}}"),
        ), "Exactly 1 each: 0 means nobody holds the follower's lock (alert XinfangNoActiveFollower)."),
        Panel("LISTEN reconnects per follower", (
            q("sum by (follower) (increase(xinfang_follower_listen_reconnects_total[5m]))", "{{follower}}"),
        ), "Lost LISTEN connections (the follower polls once a second until it listens again); each is logged at "
           "WARNING with its reason."),
        Panel("Audit: since the last signed checkpoint, per log", (
            q("time() - max by (log) (xinfang_audit_checkpoint_timestamp_seconds)", "{{log}}"),
        ), "The checkpointer signs each log every AUDIT_CHECKPOINT_INTERVAL (alert XinfangAuditCheckpointStale).",
              unit="s"),
    )),
    Section("Failures and dead letters", (
        Panel("Failed event deliveries, by disposition", (
            q("sum by (service, handler, disposition) (increase(xinfang_events_failed_total[5m]))",
              "{{service}}.{{handler}} {{disposition}}"),
        ), "retried: an expected condition, retried in-process; requeued: failed and returned to the queue; "
           "dead_lettered: invalid, sent to the handler's dead-letter queue.", stacked=True),
        Panel("Messages in dead-letter queues", (
            q('sum by (queue) (rabbitmq_detailed_queue_messages{queue=~".+\\\\.dead-letter"})', "{{queue}}"),
        ), "From RabbitMQ's per-queue metrics (rabbitmq_prometheus, /metrics/detailed). Inspect and move them back "
           "with the dead-letter CLI (docs/operations.md)."),
        Panel("Notice delivery failures, by channel", (
            q("sum by (channel, permanence) (increase(xinfang_notice_delivery_failures_total[5m]))",
              "{{channel}} {{permanence}}"),
        ), "transient: retried; permanent and exhausted: the notice failed for good.", stacked=True),
        Panel("Follower, projection and outbox failures", (
            q("sum by (follower) (increase(xinfang_follower_failures_total[5m]))", "follower {{follower}}"),
            q("sum by (projection) (increase(xinfang_projection_failures_total[5m]))", "projection {{projection}}"),
            q("sum by (store) (increase(xinfang_outbox_publish_failures_total[5m]))", "publish {{store}}"),
            q("sum by (store) (increase(xinfang_outbox_parked_total[5m]))", "parked {{store}}"),
            q("sum(increase(xinfang_notice_record_failures_total[5m]))", "notice records"),
        )),
        Panel("Audit checkpoints refused", (
            q("sum by (witness, status) (increase(xinfang_audit_witness_refusals_total[1h]))", "{{witness}} {{status}}"),
        ), "Any refusal may mean a rewritten log: a security incident (docs/audit.md)."),
    )),
    Section("Gateway", (
        Panel("Requests per second, by status class", (
            q(f"sum by (status_class) (rate(xinfang_http_requests_total{{{API}}}[5m]))", "{{status_class}}"),
        ), unit="reqps", stacked=True),
        Panel("Latency", (
            q(f"histogram_quantile(0.5, sum by (le) (rate(xinfang_http_request_duration_seconds_bucket{{{API}}}[5m])))",
              "p50"),
            q(f"histogram_quantile(0.95, sum by (le) (rate(xinfang_http_request_duration_seconds_bucket{{{API}}}[5m])))",
              "p95"),
            q(f"histogram_quantile(0.99, sum by (le) (rate(xinfang_http_request_duration_seconds_bucket{{{API}}}[5m])))",
              "p99"),
        ), unit="s"),
        Panel("Busiest routes (requests per second)", (
            q(f"topk(10, sum by (method, route) (rate(xinfang_http_requests_total{{{API}}}[5m])))",
              "{{method}} {{route}}"),
        ), unit="reqps"),
        Panel("Server errors by route", (
            q(f'sum by (method, route) (rate(xinfang_http_requests_total{{status_class="5xx", {API}}}[5m]))',
              "{{method}} {{route}}"),
        ), unit="reqps"),
    )),
    Section("Deadlines", (
        Panel("Overdue cases", (
            q(f"max(xinfang_cases_overdue {ACTIVE_WATCH})", "overdue"),
        ), "Open cases whose duty deadline has passed (alert XinfangOverdueCasesRising).", kind="stat", width=6),
        Panel("Due within 7 days", (
            q(f"max(xinfang_cases_due_soon {ACTIVE_WATCH})", "due soon"),
        ), "Open cases whose duty deadline is today or within 7 days.", kind="stat", width=6),
        Panel("Overdue and due soon over time", (
            q(f"max(xinfang_cases_overdue {ACTIVE_WATCH})", "overdue"),
            q(f"max(xinfang_cases_due_soon {ACTIVE_WATCH})", "due within 7 days"),
        )),
        Panel("Reminders and breaches recorded, warnings raised (per hour)", (
            q("sum(increase(xinfang_deadline_watch_total[1h]))", "reminders and breaches"),
            q("sum by (kind) (increase(xinfang_warnings_raised_total[1h]))", "warning {{kind}}"),
        )),
    )),
)


def panel_json(panel: Panel, panel_id: int, x: int, y: int, height: int) -> dict[str, Any]:
    targets = [{"refId": chr(ord("A") + n), "datasource": DATASOURCE, "expr": query.expr,
                "legendFormat": query.legend or "__auto", "range": True}
               for n, query in enumerate(panel.queries)]
    defaults: dict[str, Any] = {"unit": panel.unit}
    if panel.kind == "stat":
        options: dict[str, Any] = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                                   "colorMode": "value", "graphMode": "area", "textMode": "value"}
        defaults["thresholds"] = {"mode": "absolute", "steps": [{"color": "green", "value": None}]}
    else:
        options = {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                   "tooltip": {"mode": "multi", "sort": "desc"}}
        defaults["custom"] = {"drawStyle": "line", "fillOpacity": 10 if panel.stacked else 0, "lineWidth": 1,
                              "stacking": {"mode": "normal" if panel.stacked else "none", "group": "A"}}
    return {"id": panel_id, "type": panel.kind, "title": panel.title, "description": panel.description,
            "datasource": DATASOURCE, "gridPos": {"h": height, "w": panel.width, "x": x, "y": y},
            "targets": targets, "fieldConfig": {"defaults": defaults, "overrides": []}, "options": options}


def dashboard(sections: tuple[Section, ...] = SECTIONS) -> dict[str, Any]:
    """The dashboard model: a row header per section, its panels left to right, wrapping at Grafana's 24 columns."""
    panels: list[dict[str, Any]] = []
    y = 0
    for section in sections:
        panels.append({"id": len(panels) + 1, "type": "row", "title": section.title, "collapsed": False,
                       "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []})
        y += 1
        x = 0
        for panel in section.panels:
            height = 4 if panel.kind == "stat" else 8
            if x + panel.width > 24:
                x, y = 0, y + 8
            panels.append(panel_json(panel, len(panels) + 1, x, y, height))
            x += panel.width
        y += 8
    return {
        "uid": UID, "title": "信访平台 Xinfang platform", "description": "Flow, followers, failures, gateway, deadlines "
        "(generated by deploy/grafana/dashboard.py: edit that, not this file)",
        "tags": ["xinfang"], "timezone": "browser", "editable": False, "graphTooltip": 1, "schemaVersion": 39,
        "version": 1, "refresh": "30s", "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": []}, "annotations": {"list": []}, "links": [], "panels": panels,
    }


def expressions(model: dict[str, Any] | None = None) -> list[str]:
    """Every PromQL expression the dashboard queries."""
    model = model or dashboard()
    return [target["expr"] for panel in model["panels"] for target in panel.get("targets", [])]


def render() -> str:
    return json.dumps(dashboard(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed JSON is not up to date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not OUTPUT.exists() or OUTPUT.read_text(encoding="utf-8") != text:
            print(f"{OUTPUT} is out of date: run python -m deploy.grafana.dashboard", file=sys.stderr)
            return 1
        return 0
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
