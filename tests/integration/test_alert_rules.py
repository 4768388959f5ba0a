"""The alert rules (deploy/prometheus/alerts.yml) checked and unit-tested by promtool, Prometheus's own tool, against
deploy/prometheus/alerts.test.yml: for every rule, series that make it fire and series that must not.

promtool is a process of its own (Debian's `prometheus` package, installed by deploy/local/ensure-services.sh,
which `make test` runs): a missing promtool fails these tests, it never skips them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from deploy.grafana import dashboard

PROMETHEUS = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
RULES = PROMETHEUS / "alerts.yml"
RULE_TESTS = PROMETHEUS / "alerts.test.yml"


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    assert found, "promtool is missing: run deploy/local/ensure-services.sh (it installs Debian's prometheus package)"
    return found


def run(promtool: str, *args: str) -> None:
    done = subprocess.run([promtool, *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"promtool {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"


def test_the_rules_are_valid(promtool):
    run(promtool, "check", "rules", RULES.name)


def test_every_rule_behaves_as_its_tests_say(promtool):
    run(promtool, "test", "rules", RULE_TESTS.name)


def test_every_dashboard_query_is_valid_promql(promtool, tmp_path):
    """promtool parses the Grafana dashboard's queries too, each as a recording rule (deploy/grafana/dashboard.py)."""
    queries = [{"record": f"dashboard:query:{n}", "expr": expr} for n, expr in enumerate(dashboard.expressions())]
    (tmp_path / "dashboard.yml").write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": queries}]}))
    done = subprocess.run([promtool, "check", "rules", str(tmp_path / "dashboard.yml")], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"


def rules() -> list[dict]:
    return [rule for group in yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"] for rule in group["rules"]]


def test_every_rule_has_a_case_that_fires_and_one_that_does_not():
    """A rule with no test is a rule nobody has seen fire. "Does not fire" is either a test that expects no alert or,
    for a rule that keeps a label, a firing test with more input series than alerts expected (the others must not)."""
    tests = yaml.safe_load(RULE_TESTS.read_text(encoding="utf-8"))["tests"]
    fires: set[str] = set()
    quiet: set[str] = set()
    recorded: set[str] = set()
    for test in tests:
        for case in test.get("alert_rule_test", []):
            expected = case.get("exp_alerts") or []
            if expected:
                fires.add(case["alertname"])
            if not expected or len(test["input_series"]) > len(expected):
                quiet.add(case["alertname"])
        recorded |= {case["expr"] for case in test.get("promql_expr_test", [])}
    alerts = [rule["alert"] for rule in rules() if "alert" in rule]
    assert [name for name in alerts if name not in fires] == []
    assert [name for name in alerts if name not in quiet] == []
    assert [rule["record"] for rule in rules() if "record" in rule and rule["record"] not in recorded] == []


def test_every_alert_says_how_bad_it_is_and_what_it_means():
    for rule in rules():
        if "alert" in rule:
            assert rule["labels"]["severity"] in ("critical", "warning"), rule["alert"]
            assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]
