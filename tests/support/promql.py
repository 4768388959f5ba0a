"""Which metrics the alert rules and the dashboard query, and which a process exports: for the checks that no rule
or panel reads a metric that does not exist (tests/unit/deploy/, tests/e2e/test_dashboard_metrics.py)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families

from deploy.grafana import dashboard

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
SCRAPES = ROOT / "deploy" / "prometheus" / "prometheus.yml"

# A metric name in PromQL: ours (xinfang_...) and RabbitMQ's (rabbitmq_...). Recorded series (xinfang:...) are made
# by the rules themselves, label names never start so, and a string such as "xinfang\\..+" has no underscore there.
NAME = re.compile(r"\b((?:xinfang|rabbitmq)_[a-z0-9_]*[a-z0-9])\b")
# RabbitMQ's own (the rabbitmq_prometheus plugin), by the /metrics/detailed family that has them, as the plugin
# documents them (rabbitmq-server, deps/rabbitmq_prometheus/metrics-detailed.md): deploy/prometheus/prometheus.yml
# must ask for these families. The platform's tests run a broker without the plugin, so they are not scraped.
RABBITMQ = {
    "rabbitmq_detailed_queue_messages": "queue_coarse_metrics",
    "rabbitmq_detailed_queue_consumers": "queue_consumer_count",
}


def names_in(expr: str) -> set[str]:
    return set(NAME.findall(expr))


def rule_expressions() -> list[str]:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    return [rule["expr"] for group in groups for rule in group["rules"]]


def queried() -> set[str]:
    """Every metric name the alert rules and the dashboard read."""
    return {name for expr in [*rule_expressions(), *dashboard.expressions()] for name in names_in(expr)}


def exported(exposition: str) -> set[str]:
    """The names a /metrics page offers to queries: each sample's, and each declared family's series names even
    before it has a sample (a labelled counter nobody has incremented yet still exists)."""
    names: set[str] = set()
    for family in text_string_to_metric_families(exposition):
        names |= {sample.name for sample in family.samples}
        if family.type == "counter":
            names.add(f"{family.name}_total")
        elif family.type in ("histogram", "summary"):
            names |= {f"{family.name}{suffix}" for suffix in ("_bucket", "_count", "_sum") if
                      suffix != "_bucket" or family.type == "histogram"}
        else:
            names.add(family.name)
    return names


def scraped_rabbitmq_families() -> set[str]:
    """The /metrics/detailed families deploy/prometheus/prometheus.yml asks RabbitMQ for."""
    jobs = yaml.safe_load(SCRAPES.read_text(encoding="utf-8"))["scrape_configs"]
    return {family for job in jobs if job.get("metrics_path") == "/metrics/detailed"
            for family in job.get("params", {}).get("family", [])}
