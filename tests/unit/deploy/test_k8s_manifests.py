"""The Kubernetes manifests in deploy/k8s are valid against the Kubernetes API's schemas, offline: the schemas come
with the pinned kubernetes-validate package (requirements.lock), in strict mode so that a misspelt or unknown field
fails. And the kustomization applies every manifest, every Deployment's pods are let out by a network policy of
their own (behind a default deny), the gateway's Ingress terminates TLS, and the audit checkpointer runs.

Nothing here talks to a cluster: docs/deployment.md, "What was validated", says what was never run on one."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

K8S = Path(__file__).resolve().parents[3] / "deploy" / "k8s"
KUBERNETES_VERSION = "1.30"  # the schemas validated against (docs/deployment.md says the same)
NAME = "app.kubernetes.io/name"


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]


MANIFEST_FILES = sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
DOCUMENTS = [(path.name, doc) for path in MANIFEST_FILES for doc in _documents(path)]
KUSTOMIZATION = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
APPLIED = [(name, doc) for name, doc in DOCUMENTS if name in KUSTOMIZATION["resources"]]


def _of_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for _, doc in APPLIED if doc["kind"] == kind]


def _validate(doc: dict[str, Any]) -> str:
    return kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Whether a label selector (matchLabels + matchExpressions) selects a pod with these labels."""
    if any(labels.get(key) != value for key, value in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        present, value, values = key in labels, labels.get(key), expression.get("values", [])
        matched = {
            "In": present and value in values,
            "NotIn": not present or value not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }[operator]
        if not matched:
            return False
    return True


def test_the_pinned_package_bundles_the_schemas_of_the_chosen_version():
    # The schemas are files inside the package: nothing is downloaded, so this runs without a network.
    schemas = (
        Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema" / f"v{KUBERNETES_VERSION}.0-local-strict"
    )
    assert (schemas / "_definitions.json").is_file()
    assert (schemas / "networkpolicy-networking-v1.json").is_file()


@pytest.mark.parametrize(
    ("name", "doc"), DOCUMENTS, ids=[f"{n}:{d['kind']}/{d['metadata']['name']}" for n, d in DOCUMENTS]
)
def test_every_manifest_is_valid_against_the_kubernetes_schemas(name, doc):
    try:
        version = _validate(doc)
    except kubernetes_validate.ValidationError as error:
        pytest.fail(f"{name}: {doc['kind']}/{doc['metadata']['name']}: {error}")
    assert version == KUBERNETES_VERSION  # not silently an older version's schemas


@pytest.mark.parametrize(
    "break_it",
    [
        pytest.param(lambda d: d["spec"]["template"]["spec"].update(hostNetwrok=True), id="unknown field (strict)"),
        pytest.param(lambda d: d["spec"].update(replicas="two"), id="wrong type"),
        pytest.param(lambda d: d["spec"]["template"]["spec"]["containers"][0].pop("name"), id="missing required"),
    ],
)
def test_a_broken_manifest_fails_validation(break_it):
    deployment = copy.deepcopy(_of_kind("Deployment")[0])
    _validate(deployment)
    break_it(deployment)
    with pytest.raises(kubernetes_validate.ValidationError):
        _validate(deployment)


def test_the_kustomization_applies_every_manifest_but_the_secrets_template():
    resources = KUSTOMIZATION["resources"]
    assert len(resources) == len(set(resources))
    assert set(resources) == {p.name for p in MANIFEST_FILES} - {"secrets.template.yaml"}
    assert all((K8S / resource).is_file() for resource in resources)


def test_every_deployment_is_let_out_only_by_network_policies_that_name_it():
    policies = _of_kind("NetworkPolicy")
    deny = [p for p in policies if p["metadata"]["name"] == "default-deny"]
    assert deny and deny[0]["spec"]["podSelector"] == {}
    assert set(deny[0]["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny[0]["spec"] and "egress" not in deny[0]["spec"]
    naming = [p for p in policies if p["spec"]["podSelector"]]  # not the namespace-wide ones (deny, DNS, metrics)
    deployments = _of_kind("Deployment")
    assert {d["metadata"]["name"] for d in deployments} == {
        "gateway",
        "intake",
        "intake-relay",
        "routing",
        "routing-relay",
        "supervision",
        "supervision-relay",
        "supervision-projector",
        "notification",
        "notification-relay",
        "notification-dispatcher",
        "audit",
        "audit-checkpointer",
    }
    for deployment in deployments:
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        mine = [p for p in naming if _selects(p["spec"]["podSelector"], labels)]
        assert any("Egress" in p["spec"]["policyTypes"] for p in mine), deployment["metadata"]["name"]
    for policy in naming:  # no policy selects pods that no Deployment makes (a misspelt name)
        assert any(
            _selects(policy["spec"]["podSelector"], d["spec"]["template"]["metadata"]["labels"]) for d in deployments
        ), policy["metadata"]["name"]


def test_only_the_gateway_and_intake_accept_connections_other_than_metrics_scrapes():
    accepting = {}
    for policy in _of_kind("NetworkPolicy"):
        for rule in policy["spec"].get("ingress", []):
            ports = {p["port"] for p in rule.get("ports", [])}
            if ports != {9100}:
                accepting[policy["spec"]["podSelector"]["matchLabels"][NAME]] = ports
    assert accepting == {"gateway": {8000}, "intake": {8101}}


def test_the_gateway_ingress_terminates_tls_for_its_host_and_routes_to_the_gateway_service():
    (ingress,) = _of_kind("Ingress")
    tls_hosts = {host for entry in ingress["spec"]["tls"] for host in entry["hosts"]}
    assert all(entry.get("secretName") for entry in ingress["spec"]["tls"])
    rules = ingress["spec"]["rules"]
    assert {rule["host"] for rule in rules} <= tls_hosts
    backends = {path["backend"]["service"]["name"] for rule in rules for path in rule["http"]["paths"]}
    assert backends == {"gateway"}
    services = {s["metadata"]["name"] for s in _of_kind("Service")}
    assert "gateway" in services


def test_the_audit_checkpointer_runs_once_with_its_keys():
    (checkpointer,) = [d for d in _of_kind("Deployment") if d["metadata"]["name"] == "audit-checkpointer"]
    assert checkpointer["spec"]["replicas"] == 1
    (container,) = checkpointer["spec"]["template"]["spec"]["containers"]
    assert container["command"][:4] == ["python", "-m", "services.audit.cli", "checkpoint-all"]
    volumes = {v["name"]: v for v in checkpointer["spec"]["template"]["spec"]["volumes"]}
    assert volumes["audit-keys"]["secret"]["secretName"] == "xinfang-audit-keys"
